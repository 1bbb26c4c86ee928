/**
 * The rules engine under load, against baselines measured in the same run on the same database:
 *
 *   npx tsx bench/rules.ts [--dialect sqlite|postgres] [--devices N] [--rules N] [--rate N] [--seconds N] [--probes N] [--readings N]
 *
 * throughput   readings stored through TelemetryService.ingest (batches of 1,000 per device, two at a time; --readings, 500,000 by default),
 *              with the rules running (timed until the engine has checked the last reading too), against
 *              the mean of the same run with no rules running just before and just after it (the baseline).
 *              Target: with rules ≥ 80% of without.
 * latency      while background ingest runs at --rate readings a second, a probe device's reading crosses a
 *              threshold; the time from sending it to the alarm being listed by GET /api/v1/alarms over HTTP
 *              (polled as fast as answers come), then a reading that clears it. Target: p99 < 50 ms.
 *              Baseline: the same probe's ingest call alone (reading stored and acknowledged).
 * rules        --rules rules (default 1,000) across the devices: thresholds, 1-hour rolling means, rates of
 *              change and per-monitor DAQI, none of which the background data crosses.
 *
 * Prints one JSON object. On PostgreSQL it works in a temporary schema of WEFT_BENCH_PG_URL and drops it.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { DeviceAuth } from '../src/modules/estate/index.js';
import type { RuleCreate } from '../src/modules/rules/index.js';
import { systemActor } from '../src/platform/auth/actor.js';
import type { Dialect } from '../src/platform/db/dialect.js';
import { createServices, type Services } from '../src/services.js';
import { runIfMain } from './lib/cli.js';
import { benchPgUrl, scratchDatabase } from './lib/scratch.js';

export interface RulesBenchOptions {
  dialect?: Dialect;
  devices?: number;
  rules?: number;
  /** background readings a second during the latency phase */
  rate?: number;
  seconds?: number;
  probes?: number;
  /** readings in each throughput run */
  readings?: number;
  pgUrl?: string;
}

const METRICS = ['no2', 'pm2_5', 'pm10', 'o3', 'so2'];
const PER_CALL = 1_000;
const actor = systemActor('bench');

const ms = (v: number) => Math.round(v * 100) / 100;
const started = performance.now();
/** Where the run is, on stderr (stdout carries only the JSON). */
const stage = (what: string) => process.stderr.write(`rules bench: ${what} (${Math.round((performance.now() - started) / 1000)} s)\n`);
function percentiles(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => ms(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN);
  return { runs: times.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: ms(sorted[sorted.length - 1] ?? Number.NaN) };
}

/** `count` readings of every metric for one device, `stepMs` apart, ending at `end`; low values no rule crosses. */
function readings(count: number, end: number, stepMs: number, seed: number) {
  const out = [];
  const times = Math.ceil(count / METRICS.length);
  for (let i = 0; i < times; i++) {
    const at = end - (times - i) * stepMs;
    for (let m = 0; m < METRICS.length && out.length < count; m++) out.push({ metric: METRICS[m], value: ((seed * 31 + i * 7 + m * 13) % 40) + 5, at });
  }
  return out;
}

function ruleFor(i: number, deviceId: string): RuleCreate {
  const scope = { deviceIds: [deviceId] };
  const name = `Bench rule ${i}`;
  switch (i % 10) {
    case 7:
      return { name, severity: 'minor', scope, condition: { type: 'rolling_mean', metric: 'pm10', window: '1h', op: '>', value: 900 } };
    case 8:
      return { name, severity: 'minor', scope, condition: { type: 'rate_of_change', metric: 'o3', rise: 900, perMinutes: 10 } };
    case 9:
      return { name, severity: 'major', scope, condition: { type: 'daqi', atLeast: 10, per: 'device' } };
    default:
      return { name, severity: 'major', scope, condition: { type: 'threshold', metric: METRICS[i % 5], op: '>', value: 900, forMinutes: i % 2 ? 10 : 0 } };
  }
}

async function throughput(services: Services, devices: DeviceAuth[], total: number, end: number): Promise<{ readings: number; ms: number; perSecond: number }> {
  const calls = Math.ceil(total / PER_CALL);
  const stepMs = 200;
  const span = (PER_CALL / METRICS.length) * stepMs;
  const start = end - Math.ceil(calls / devices.length) * span;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    [0, 1].map(async () => {
      while (next < calls) {
        const c = next++;
        // Each device's uploads follow one another in time, 40 seconds of readings each.
        const device = devices[c % devices.length];
        const round = Math.floor(c / devices.length);
        await services.telemetry.ingest(device, readings(PER_CALL, start + (round + 1) * span, stepMs, c), 'http');
      }
    }),
  );
  await services.rules.idle();
  const took = performance.now() - t0;
  return { readings: calls * PER_CALL, ms: Math.round(took), perSecond: Math.round(((calls * PER_CALL) / took) * 1000) };
}

export async function main(options: RulesBenchOptions = {}) {
  const dialect = options.dialect ?? 'sqlite';
  const deviceCount = options.devices ?? 1_000;
  const ruleCount = options.rules ?? 1_000;
  const rate = options.rate ?? 10_000;
  const seconds = options.seconds ?? 20;
  const probes = options.probes ?? 300;
  const total = options.readings ?? 500_000;
  const { url, dataDir, db, cleanup } = await scratchDatabase(dialect, benchPgUrl(options.pgUrl));
  const config = loadConfig(
    { WEFT_DATABASE_URL: url, WEFT_DATA_DIR: dataDir, WEFT_SECRET: randomBytes(32).toString('hex'), WEFT_LOG_LEVEL: 'silent', WEFT_KEY_RATE_LIMIT: '100000000' },
    { file: '/nonexistent' },
  );
  const services = await createServices(config, db, { info() {}, warn() {}, error() {} });
  const app = await buildApp(services, { quiet: true });
  try {
    const t0 = performance.now();
    const devices: DeviceAuth[] = [];
    for (let i = 0; i < deviceCount + 1; i++) {
      const { device } = await services.estate.createDevice(actor, { name: `Monitor ${i}`, serial: `BENCH-${i}`, profile: 'air-quality', lat: 51.5 + i / 10_000, lon: -1.5 });
      devices.push((await services.estate.deviceAuth(device.id)) as DeviceAuth);
    }
    stage(`${deviceCount + 1} devices made`);
    const probe = devices.pop() as DeviceAuth;
    for (let i = 0; i < ruleCount - 1; i++) await services.rules.create(actor, ruleFor(i, devices[i % devices.length].deviceId));
    const probeRule = await services.rules.create(actor, {
      name: 'Probe',
      severity: 'critical',
      scope: { deviceIds: [probe.deviceId] },
      condition: { type: 'threshold', metric: 'no2', op: '>', value: 500 },
    });
    const setupMs = Math.round(performance.now() - t0);
    stage(`${ruleCount} rules made`);

    // ---- throughput: without rules (the baseline), then with them, on fresh timestamps each
    // Each run starts with one call per device (not timed): SQLite's statements and, with rules, the
    // engine's windows (warmed from stored readings, as after a restart) are ready before the clock starts.
    // The baseline runs before and after the run with rules (the engine stopped), and is their mean: the table
    // grows with each run, so neither side is measured alone on a smaller table.
    const now = Date.now();
    await throughput(services, devices, devices.length * PER_CALL, now - 4 * 3_600_000);
    const before = await throughput(services, devices, total, now - 3 * 3_600_000);
    await services.rules.start();
    await throughput(services, devices, devices.length * PER_CALL, now - 3.5 * 3_600_000);
    const withRules = await throughput(services, devices, total, now - 2 * 3_600_000 - 60_000);
    await services.rules.stop();
    const afterRun = await throughput(services, devices, total, now - 3_600_000 - 60_000);
    await services.rules.start();
    stage('throughput measured');
    const without = { readings: before.readings, ms: Math.round((before.ms + afterRun.ms) / 2), perSecond: Math.round((before.perSecond + afterRun.perSecond) / 2), before, after: afterRun };

    // ---- latency under background load
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const key = (await services.staff.createKey({ ...actor, permissions: new Set(['alarms:read']) }, { name: 'bench', type: 'live', scopes: ['alarms:read'] })).key;
    const openCount = async () => {
      const res = await fetch(`${base}/api/v1/alarms?status=open&rule=${probeRule.id}`, { headers: { authorization: `Bearer ${key}` } });
      const body = (await res.json()) as { items: unknown[] };
      return body.items.length;
    };
    let stop = false;
    let background = 0;
    const bgStart = performance.now();
    const perTick = Math.max(PER_CALL / 10, Math.round(rate / 20));
    const loader = (async () => {
      let tick = 0;
      while (!stop) {
        const due = bgStart + tick * 50;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const at = Date.now();
        const device = devices[tick % devices.length];
        await services.telemetry.ingest(device, readings(perTick, at, 10, tick), 'http');
        background += perTick;
        tick++;
      }
    })();
    // Warm up: the first answers compile the route's serialiser and fill the engine's caches.
    // The probe's readings have times that only go forward: two with the same time would be one reading (a duplicate).
    let probeClock = 0;
    const probeAt = () => {
      probeClock = Math.max(probeClock + 1, Date.now());
      return probeClock;
    };
    const waitFor = async (open: boolean, since: number) => {
      while (((await openCount()) === 0) === open) if (performance.now() - since > 10_000) throw new Error(`the probe alarm did not ${open ? 'appear' : 'clear'} within 10 s`);
    };
    for (let w = 0; w < 5; w++) {
      const w0 = performance.now();
      await services.telemetry.ingest(probe, [{ metric: 'no2', value: 600, at: probeAt() }], 'http');
      await waitFor(true, w0);
      await services.telemetry.ingest(probe, [{ metric: 'no2', value: 100, at: probeAt() }], 'http');
      await waitFor(false, w0);
    }
    const raised: number[] = [];
    const ingestOnly: number[] = [];
    const until = performance.now() + seconds * 1000;
    for (let p = 0; p < probes && performance.now() < until; p++) {
      const s0 = performance.now();
      await services.telemetry.ingest(probe, [{ metric: 'no2', value: 600, at: probeAt() }], 'http');
      ingestOnly.push(performance.now() - s0);
      await waitFor(true, s0);
      raised.push(performance.now() - s0);
      await services.telemetry.ingest(probe, [{ metric: 'no2', value: 100, at: probeAt() }], 'http');
      await waitFor(false, s0);
      await new Promise((r) => setTimeout(r, 20));
    }
    stop = true;
    await loader;
    const bgSeconds = (performance.now() - bgStart) / 1000;
    await services.rules.idle();

    return {
      bench: 'rules',
      dialect,
      node: process.version,
      devices: deviceCount,
      rules: ruleCount,
      setupMs,
      throughput: { without, withRules, ratio: Math.round((withRules.perSecond / without.perSecond) * 100) / 100 },
      latency: { ...percentiles(raised), backgroundPerSecond: Math.round(background / bgSeconds), baselineIngestCall: percentiles(ingestOnly) },
      targets: { latencyP99Ms: 50, backgroundPerSecond: rate, throughputRatio: 0.8 },
    };
  } finally {
    await app.close();
    await services.close(0);
    await cleanup();
  }
}

runIfMain(import.meta.url, main, {
  usage: 'npx tsx bench/rules.ts [--dialect sqlite|postgres] [--devices N] [--rules N] [--rate N] [--seconds N] [--probes N] [--readings N]',
  numbers: { '--devices': 'devices', '--rules': 'rules', '--rate': 'rate', '--seconds': 'seconds', '--probes': 'probes', '--readings': 'readings' },
  exitWhenDone: true,
});
