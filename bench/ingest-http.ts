/**
 * HTTP batch ingest of readings, against baselines measured in the same run on the same database:
 *
 *   npx tsx bench/ingest-http.ts [--dialect sqlite|postgres] [--readings N] [--devices N] [--concurrency N] [--latest-devices N]
 *
 * ingest        POST /api/v1/telemetry, 10,000 readings a request, each device with its own token, over a
 *               real HTTP server (keep-alive); the client is a separate process so it takes no CPU from the server
 * baseline      the same rows inserted straight into a same-shaped table in the same database: better-sqlite3
 *               prepared inserts in one transaction per 10,000 (SQLite), or unnest inserts through pg (PostgreSQL)
 * latest        TelemetryService.latest for N devices at once (p50/p99 of repeated calls)
 * range         one day of one-minute readings (1,440) of one metric: TelemetryService.range, and the HTTP API
 * memory        peak RSS of this process (server and database driver) while ingesting
 *
 * Prints one JSON object. On PostgreSQL it works in a temporary schema of WEFT_BENCH_PG_URL (default: the
 * test database) and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { runChild } from './lib/child.js';
import { runIfMain } from './lib/cli.js';
import { benchPgUrl, scratchDatabase } from './lib/scratch.js';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { DeviceAuth } from '../src/modules/estate/index.js';
import { systemActor } from '../src/platform/auth/actor.js';
import type { Dialect } from '../src/platform/db/dialect.js';
import { newId } from '../src/platform/ids.js';
import { createServices } from '../src/services.js';

export interface IngestBenchOptions {
  dialect?: Dialect;
  readings?: number;
  devices?: number;
  concurrency?: number;
  latestDevices?: number;
  /** timed repetitions of each query */
  queryRuns?: number;
  pgUrl?: string;
}

interface Rate {
  readings: number;
  ms: number;
  perSecond: number;
}

interface Latency {
  runs: number;
  p50: number;
  p99: number;
  max: number;
}

export interface IngestBenchResult {
  bench: 'ingest-http';
  dialect: Dialect;
  node: string;
  readings: number;
  devices: number;
  batch: number;
  concurrency: number;
  ingest: Rate & { requests: number; accepted: number; duplicates: number; quarantined: number };
  baseline: Rate & { how: string };
  /** ingest readings/s divided by baseline readings/s */
  ratio: number;
  latest: Latency & { devices: number; values: number };
  range: { readings: number; service: Latency; http: Latency };
  memory: { peakRssMB: number; startRssMB: number };
  targets: { ingestPerSecond: number; ratio: number; latestP99Ms: number; rangeP99Ms: number; peakRssMB: number };
}

const BATCH = 10_000;
const METRICS = ['no2', 'pm2_5', 'pm10', 'o3', 'humidity'];
const MB = 1024 * 1024;

/** The rows of one batch: device k's batch b, five metrics at each time. The client builds the same rows. */
function batchRows(start: number, stepMs: number, b: number) {
  const metrics: string[] = [];
  const ats: number[] = [];
  const values: number[] = [];
  const times = BATCH / METRICS.length;
  for (let i = 0; i < times; i++) {
    const tick = b * times + i;
    const at = start + tick * stepMs;
    for (let m = 0; m < METRICS.length; m++) {
      metrics.push(METRICS[m]);
      ats.push(at);
      values.push(((tick * 7919 + m * 104_729) % 1000) / 10);
    }
  }
  return { metrics, ats, values };
}

/** The HTTP client, run as a separate Node process: builds each batch's JSON and posts it, `concurrency` at a time. */
const CLIENT = `
const http = require('node:http');
const cfg = JSON.parse(process.argv[1]);
const METRICS = ${JSON.stringify(METRICS)};
const times = ${BATCH} / METRICS.length;
const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.concurrency });
function body(b) {
  let s = '{"readings":[';
  for (let i = 0; i < times; i++) {
    const tick = b * times + i;
    const at = cfg.start + tick * cfg.stepMs;
    for (let m = 0; m < METRICS.length; m++) {
      if (i || m) s += ',';
      s += '{"metric":"' + METRICS[m] + '","value":' + ((tick * 7919 + m * 104729) % 1000) / 10 + ',"at":' + at + '}';
    }
  }
  return s + ']}';
}
function post(token, text) {
  return new Promise((resolve, reject) => {
    const req = http.request(cfg.url, { method: 'POST', agent, headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(data)) : reject(new Error(res.statusCode + ' ' + data.slice(0, 300)))));
    });
    req.on('error', reject);
    req.end(text);
  });
}
(async () => {
  const jobs = [];
  for (let b = 0; b < cfg.batchesPerDevice; b++) for (let d = 0; d < cfg.tokens.length; d++) jobs.push([d, b]);
  let next = 0, accepted = 0, duplicates = 0, quarantined = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: cfg.concurrency }, async () => {
    while (next < jobs.length) {
      const [d, b] = jobs[next++];
      const r = await post(cfg.tokens[d], body(b));
      accepted += r.accepted; duplicates += r.duplicates; quarantined += r.quarantined.length;
    }
  }));
  const ms = performance.now() - t0;
  agent.destroy();
  process.stdout.write(JSON.stringify({ ms, requests: jobs.length, accepted, duplicates, quarantined }));
})().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
`;

function runClient(cfg: object): Promise<{ ms: number; requests: number; accepted: number; duplicates: number; quarantined: number }> {
  return runChild(CLIENT, cfg, 'the ingest client');
}

function rate(readings: number, ms: number): Rate {
  return { readings, ms: Math.round(ms), perSecond: Math.round((readings / ms) * 1000) };
}

async function latency(runs: number, fn: () => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < Math.min(10, runs); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] * 100) / 100;
  return { runs, p50: at(0.5), p99: at(0.99), max: Math.round(times[times.length - 1] * 100) / 100 };
}

export async function main(options: IngestBenchOptions = {}): Promise<IngestBenchResult> {
  const dialect = options.dialect ?? 'sqlite';
  const deviceCount = options.devices ?? 20;
  const batchesPerDevice = Math.max(1, Math.ceil((options.readings ?? 500_000) / BATCH / deviceCount));
  const total = batchesPerDevice * deviceCount * BATCH;
  const concurrency = options.concurrency ?? 2;
  const latestDevices = options.latestDevices ?? 10_000;
  const queryRuns = options.queryRuns ?? 200;
  const pgUrl = benchPgUrl(options.pgUrl);

  const { url, dataDir, db, cleanup } = await scratchDatabase(dialect, pgUrl);
  const config = loadConfig(
    { WEFT_DATABASE_URL: url, WEFT_DATA_DIR: dataDir, WEFT_SECRET: randomBytes(32).toString('hex'), WEFT_LOG_LEVEL: 'silent', WEFT_KEY_RATE_LIMIT: '1000000000' },
    { file: '/nonexistent' },
  );
  const quiet = { info() {}, warn() {}, error() {} };
  const services = await createServices(config, db, quiet);
  const app = await buildApp(services, { quiet: true });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const actor = systemActor('bench');
    const site = await services.estate.createSite(actor, { type: 'street_hub', name: 'Bench hub', address: '1 Bench Street', lat: 51.75, lon: -1.26 });
    const devices = [];
    for (let i = 0; i < deviceCount; i++) {
      devices.push(await services.estate.createDevice(actor, { name: `Bench monitor ${i}`, serial: `BENCH-${i}`, profile: 'air-quality', siteId: site.id }));
    }
    // Every reading in the past: spread over at most the last two days.
    const ticks = batchesPerDevice * (BATCH / METRICS.length);
    const stepMs = Math.max(1, Math.min(1000, Math.floor((2 * 86_400_000 - 3_600_000) / ticks)));
    const start = Date.now() - ticks * stepMs - 60_000;

    // Warm up the server's JIT and the driver with one batch per device at other times, not counted.
    await runClient({
      url: `http://127.0.0.1:${port}/api/v1/telemetry`,
      tokens: devices.map((d) => d.credentials.token),
      batchesPerDevice: 1,
      concurrency,
      start: start - 3 * 86_400_000,
      stepMs: 1000,
    });

    let peakRss = process.memoryUsage().rss;
    const startRss = peakRss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 100);
    const client = await runClient({ url: `http://127.0.0.1:${port}/api/v1/telemetry`, tokens: devices.map((d) => d.credentials.token), batchesPerDevice, concurrency, start, stepMs });
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (client.accepted !== total) throw new Error(`expected ${total} readings accepted, got ${JSON.stringify(client)}`);

    // Baseline: the same rows straight into a same-shaped table of the same database.
    const ids = devices.map((d) => d.device.id);
    let baselineMs = 0;
    let how: string;
    if (dialect === 'sqlite') {
      how = 'better-sqlite3 prepared INSERT … ON CONFLICT DO NOTHING, one transaction per 10,000 rows, same database file';
      const raw = db.driver.sqlite as BetterSqlite3.Database;
      raw.exec(
        'CREATE TABLE bench_readings (device_id text NOT NULL, metric text NOT NULL, measured_at integer NOT NULL, value real NOT NULL, PRIMARY KEY (device_id, metric, measured_at)) WITHOUT ROWID',
      );
      const insert = raw.prepare('INSERT INTO bench_readings (device_id, metric, measured_at, value) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING');
      const write = raw.transaction((id: string, r: ReturnType<typeof batchRows>) => {
        for (let i = 0; i < r.metrics.length; i++) insert.run(id, r.metrics[i], r.ats[i], r.values[i]);
      });
      write(ids[0], batchRows(start - 3 * 86_400_000, 1000, 0));
      raw.exec('DELETE FROM bench_readings');
      for (let b = 0; b < batchesPerDevice; b++)
        for (const id of ids) {
          const rows = batchRows(start, stepMs, b);
          const t0 = performance.now();
          write(id, rows);
          baselineMs += performance.now() - t0;
        }
    } else {
      how = `pg INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING into a plain table of the same columns and key, ${concurrency} at a time`;
      const pool = db.driver.pool as pg.Pool;
      await pool.query(
        'CREATE TABLE bench_readings (device_id uuid NOT NULL, metric text NOT NULL, measured_at timestamptz NOT NULL, value double precision NOT NULL, PRIMARY KEY (device_id, metric, measured_at))',
      );
      const text =
        'INSERT INTO bench_readings (device_id, metric, measured_at, value) SELECT $1::uuid, u.m, to_timestamp(u.t / 1000.0), u.v FROM unnest($2::text[], $3::float8[], $4::float8[]) AS u(m, t, v) ON CONFLICT DO NOTHING';
      const jobs: [string, number][] = [];
      for (let b = 0; b < batchesPerDevice; b++) for (const id of ids) jobs.push([id, b]);
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < jobs.length) {
            const [id, b] = jobs[next++];
            const r = batchRows(start, stepMs, b);
            await pool.query(text, [id, r.metrics, r.ats, r.values]);
          }
        }),
      );
      baselineMs = performance.now() - t0;
    }

    // Latest values for many devices: hand-made device identities (the estate is not what is measured).
    const profile = await services.estate.getProfile('air-quality');
    const manyIds: string[] = [];
    const now = Date.now();
    for (let i = 0; i < latestDevices; i++) {
      const auth: DeviceAuth = { deviceId: newId(), name: `latest ${i}`, profile, siteId: null, areaId: null, isPersonal: false };
      manyIds.push(auth.deviceId);
      await services.telemetry.ingest(
        auth,
        [
          { metric: 'no2', value: i % 100, at: now - 120_000 },
          { metric: 'pm2_5', value: i % 50, at: now - 120_000 },
        ],
        'simulator',
      );
    }
    let latestValues = 0;
    const latest = await latency(queryRuns, async () => {
      latestValues = (await services.telemetry.latest(manyIds)).length;
    });

    // One day of one-minute readings of one metric, on a real device (the HTTP query checks who may see it).
    const dayStart = now - (now % 86_400_000) - 86_400_000;
    const rangeDevice = devices[0].device.id;
    const rangeAuth = await services.estate.deviceAuth(rangeDevice);
    if (!rangeAuth) throw new Error('the bench device cannot send readings');
    await services.telemetry.ingest(
      rangeAuth,
      Array.from({ length: 1440 }, (_, i) => ({ metric: 'so2', value: 40 + (i % 30), at: dayStart + i * 60_000 })),
      'simulator',
    );
    const from = new Date(dayStart);
    const to = new Date(dayStart + 86_400_000);
    const got = (await services.telemetry.range(rangeDevice, 'so2', from, to)).length;
    if (got !== 1440) throw new Error(`expected 1,440 readings in the day, got ${got}`);
    const rangeService = await latency(queryRuns, () => services.telemetry.range(rangeDevice, 'so2', from, to));
    const reader = (await services.staff.createKey({ ...actor, permissions: new Set(['telemetry:read']) }, { name: 'bench reader', type: 'live', scopes: ['telemetry:read'] })).key;
    const rangeUrl = `/api/v1/devices/${rangeDevice}/readings?metric=so2&from=${from.toISOString()}&to=${to.toISOString()}`;
    const rangeHttp = await latency(queryRuns, async () => {
      const res = await fetch(`http://127.0.0.1:${port}${rangeUrl}`, { headers: { authorization: `Bearer ${reader}` } });
      if (res.status !== 200) throw new Error(`range query answered ${res.status}`);
      await res.arrayBuffer();
    });

    const ingest = rate(total, client.ms);
    const baseline = rate(total, baselineMs);
    return {
      bench: 'ingest-http',
      dialect,
      node: process.version,
      readings: total,
      devices: deviceCount,
      batch: BATCH,
      concurrency,
      ingest: { ...ingest, requests: client.requests, accepted: client.accepted, duplicates: client.duplicates, quarantined: client.quarantined },
      baseline: { ...baseline, how },
      ratio: Math.round((ingest.perSecond / baseline.perSecond) * 100) / 100,
      latest: { ...latest, devices: latestDevices, values: latestValues },
      range: { readings: 1440, service: rangeService, http: rangeHttp },
      memory: { peakRssMB: Math.round(peakRss / MB), startRssMB: Math.round(startRss / MB) },
      targets: { ingestPerSecond: 100_000, ratio: 0.5, latestP99Ms: 20, rangeP99Ms: 50, peakRssMB: 500 },
    };
  } finally {
    await app.close();
    await services.close(0);
    await cleanup();
  }
}

runIfMain(import.meta.url, main, {
  usage: 'bench/ingest-http.ts [--dialect sqlite|postgres] [--readings N] [--devices N] [--concurrency N] [--latest-devices N] [--query-runs N]',
  numbers: { '--readings': 'readings', '--devices': 'devices', '--concurrency': 'concurrency', '--latest-devices': 'latestDevices', '--query-runs': 'queryRuns' },
});
