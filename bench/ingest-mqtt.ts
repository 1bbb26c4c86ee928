/**
 * MQTT ingest throughput through Weft's embedded broker, beside Mosquitto alone,
 * measured in the same run with the same publishers:
 *
 *   npx tsx bench/ingest-mqtt.ts [--dialect sqlite|postgres] [--messages N] [--publishers N] [--qos 0|1|both]
 *
 * weft         mqtt.js publishers (worker threads, one device each, one reading per
 *              message) → embedded broker → decode → micro-batch → telemetry.ingest.
 *              QoS 0: until every reading is committed. QoS 1: until every PUBACK is
 *              back (each is sent after its reading is committed).
 * mosquitto    the same publishers → Mosquitto on 127.0.0.1:1883 (or --mosquitto URL), as
 *              configured there → mosquitto_sub (MQTT 5), counting lines: until the last
 *              message arrives. Messages the broker drops are reported, not waited for.
 * tuned        the same against a private Mosquitto this script starts with the settings
 *              src/platform/mqtt/README.md asks for (skipped without the mosquitto binary).
 * preEncoded   both brokers again with the same messages encoded in advance and written to
 *              plain sockets: what each broker takes when publishing costs nothing (mqtt.js
 *              publishers share the machine's cores with the broker they measure).
 *
 *   [--window N] QoS 1 messages each publisher keeps unacknowledged (default 1000)
 *   [--mosquitto URL] [--no-tuned] [--no-pre-encoded]
 *
 * Prints one JSON object on stdout. On PostgreSQL it works in a temporary schema of
 * WEFT_BENCH_PG_URL (default: the test database) and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import { runIfMain } from './lib/cli.js';

type Dialect = 'sqlite' | 'postgres';

export interface MqttBenchOptions {
  dialect?: Dialect;
  /** messages per publisher */
  messages?: number;
  publishers?: number;
  qos?: (0 | 1)[];
  pgUrl?: string;
  mosquittoUrl?: string;
  /** QoS 1 messages a publisher keeps unacknowledged at once */
  window?: number;
  /** also measure a private Mosquitto started with the recommended settings (default: when the binary exists) */
  tuned?: boolean;
  /** also measure both brokers with pre-encoded messages on plain sockets (default: true) */
  preEncoded?: boolean;
}

interface Rate {
  messages: number;
  ms: number;
  perSecond: number;
}

type Baseline = (Rate & { received: number; dropped: number; publishersMs: number }) | { error: string };

type WeftRate = Rate & { readingsStored: number; batches: number; publishersMs: number };

interface QosResult {
  /** messages/s counted until every reading is committed (QoS 1: every PUBACK, each sent after its commit) */
  weft: WeftRate;
  /** Mosquitto on --mosquitto as it is configured */
  mosquitto: Baseline;
  /** a private Mosquitto with Weft's recommended settings */
  mosquittoTuned?: Baseline;
  /** Weft's figure divided by the best Mosquitto figure that lost nothing: how much of a bare broker's speed ingest keeps */
  ratio: number | null;
  /** the same messages encoded in advance and written to plain sockets: what each broker takes when publishing costs nothing */
  preEncoded?: { weft: WeftRate; mosquitto: Baseline; ratio: number | null };
}

function ratioTo(weft: Rate, baselines: (Baseline | undefined)[]): number | null {
  const measured: (Rate & { dropped: number })[] = [];
  for (const b of baselines) if (b && 'perSecond' in b) measured.push(b);
  const lossless = measured.filter((b) => b.dropped === 0);
  const pool = lossless.length ? lossless : measured;
  if (!pool.length) return null;
  const best = Math.max(...pool.map((b) => b.perSecond));
  return Math.round((weft.perSecond / best) * 100) / 100;
}

export interface MqttBenchResult {
  bench: 'ingest-mqtt';
  dialect: Dialect;
  publishers: number;
  messagesPerPublisher: number;
  payloadBytes: number;
  node: string;
  /** the 1-minute load average before the run: this machine is shared, and figures drop when it is busy */
  loadAverage: number;
  qos0?: QosResult;
  qos1?: QosResult;
}

interface PublisherJob {
  url: string;
  username?: string;
  password?: string;
  topic: string;
  count: number;
  qos: 0 | 1;
  baseAt: number;
  window: number;
}

/**
 * A publisher thread: publishes `count` one-reading messages as fast as the connection
 * takes them. Plain JavaScript, so the thread needs no TypeScript loader.
 */
const PUBLISHER = `
const { parentPort, workerData } = require('node:worker_threads');
const mqtt = require(workerData.mqttPath);
const job = workerData.job;
function publishAll(client) {
  let sent = 0;
  let done = 0;
  return new Promise((resolve, reject) => {
    // QoS 0: write in runs and let the socket take them; QoS 1: keep a window of unacknowledged messages.
    const limit = job.qos === 1 ? job.window : 500;
    const pump = () => {
      while (sent < job.count && sent - done < limit) {
        const i = sent++;
        client.publish(job.topic, '{"no2":' + (i % 400) / 4 + ',"at":' + (job.baseAt + i) + '}', { qos: job.qos }, (err) => {
          if (err) return reject(err);
          done++;
          if (done === job.count) resolve();
          else if (sent - done <= limit / 2) pump();
        });
      }
    };
    pump();
  });
}
(async () => {
  const client = await mqtt.connectAsync(job.url, { username: job.username, password: job.password, reconnectPeriod: 0, clientId: 'bench-' + Math.random().toString(16).slice(2) });
  client.setMaxListeners(0);
  parentPort.postMessage({ ready: true });
  await new Promise((resolve) => parentPort.once('message', resolve));
  await publishAll(client);
  await client.endAsync();
})().then(() => parentPort.postMessage({ ok: true }), (err) => parentPort.postMessage({ ok: false, error: err.message }));
`;

/**
 * A publisher thread that costs the broker's side nothing extra: the same messages,
 * encoded before the start and written to a plain socket (QoS 1: a window of unacknowledged
 * messages, counting the 4-byte PUBACKs). It measures what the broker can take, apart from
 * what an mqtt.js client can send.
 */
const RAW_PUBLISHER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const job = workerData.job;
const varint = (n) => { const out = []; do { let b = n % 128; n = Math.floor(n / 128); if (n > 0) b |= 128; out.push(b); } while (n > 0); return Buffer.from(out); };
const str = (s) => { const b = Buffer.from(s); const l = Buffer.alloc(2); l.writeUInt16BE(b.length); return Buffer.concat([l, b]); };
function connectPacket() {
  let flags = 0x02;
  const tail = [str('bench-raw-' + Math.random().toString(16).slice(2))];
  if (job.username) { flags |= 0x80; tail.push(str(job.username)); }
  if (job.password) { flags |= 0x40; tail.push(str(job.password)); }
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, flags, 0, 0]), ...tail]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}
const topic = str(job.topic);
function publishPacket(i) {
  const payload = Buffer.from('{"no2":' + (i % 400) / 4 + ',"at":' + (job.baseAt + i) + '}');
  const id = (i % 65535) + 1;
  const head = job.qos === 1 ? Buffer.from([id >> 8, id & 255]) : Buffer.alloc(0);
  return Buffer.concat([Buffer.from([job.qos === 1 ? 0x32 : 0x30]), varint(topic.length + head.length + payload.length), topic, head, payload]);
}
const RUN = 100;
const runs = [];
for (let i = 0; i < job.count; i += RUN) {
  const parts = [];
  for (let j = i; j < Math.min(job.count, i + RUN); j++) parts.push(publishPacket(j));
  runs.push({ n: parts.length, buf: Buffer.concat(parts) });
}
(async () => {
  const socket = net.connect(new URL(job.url).port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  let bytes = 0;
  let onAck = () => {};
  socket.on('data', (b) => { bytes += b.length; onAck(); });
  socket.write(connectPacket());
  await new Promise((resolve) => { onAck = () => { if (bytes >= 4) resolve(); }; });
  bytes -= 4;
  parentPort.postMessage({ ready: true });
  await new Promise((resolve) => parentPort.once('message', resolve));
  let sent = 0;
  let next = 0;
  await new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('the broker closed the connection')));
    const pump = () => {
      while (next < runs.length) {
        if (job.qos === 1 && sent - bytes / 4 + RUN > job.window) return;
        const run = runs[next++];
        sent += run.n;
        if (!socket.write(run.buf)) return socket.once('drain', pump);
      }
      if (job.qos === 0) resolve();
    };
    onAck = () => { if (job.qos === 1 && bytes / 4 >= job.count) resolve(); else pump(); };
    pump();
  });
  socket.removeAllListeners('close');
  socket.end();
})().then(() => parentPort.postMessage({ ok: true }), (err) => parentPort.postMessage({ ok: false, error: err.message }));
`;

/** Starts one publisher thread per job; resolves once all are connected, with a function that sets them off. */
async function startPublishers(jobs: PublisherJob[], raw = false): Promise<() => Promise<void>> {
  const mqttPath = createRequire(import.meta.url).resolve('mqtt');
  const workers = await Promise.all(
    jobs.map(
      (job) =>
        new Promise<{ worker: Worker; finished: Promise<void> }>((ready, fail) => {
          const worker = new Worker(raw ? RAW_PUBLISHER : PUBLISHER, { eval: true, workerData: { job, mqttPath } });
          const finished = new Promise<void>((resolve, reject) => {
            worker.on('message', (m: { ready?: boolean; ok?: boolean; error?: string }) => {
              if (m.ready) ready({ worker, finished });
              else if (m.ok) resolve();
              else reject(new Error(m.error));
            });
            worker.once('error', (err) => {
              fail(err);
              reject(err);
            });
          });
          finished.catch(fail);
        }),
    ),
  );
  return async () => {
    for (const w of workers) w.worker.postMessage('go');
    await Promise.all(workers.map((w) => w.finished));
  };
}

function rate(messages: number, ms: number): Rate {
  return { messages, ms: Math.round(ms * 10) / 10, perSecond: Math.round((messages / ms) * 1000) };
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string, everyMs = 2): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Mosquitto alone: the publishers publish to `prefix/<n>/telemetry`; mosquitto_sub (MQTT 5,
 * so Mosquitto's 20-message in-flight limit for 3.1.1 clients does not apply) prints one line
 * per message. Timed from the start of publishing to the last message; when messages stop
 * coming for 3 seconds after the publishers finish, the rest were dropped by the broker.
 */
async function baseline(url: string, prefix: string, jobs: (url: string, prefix: string) => PublisherJob[], qos: 0 | 1, total: number, raw = false): Promise<Baseline> {
  const u = new URL(url);
  const sub = spawn('mosquitto_sub', ['-h', u.hostname, '-p', u.port || '1883', '-V', 'mqttv5', '-q', String(qos), '-t', `${prefix}/+/telemetry`]);
  let received = 0;
  let lastAt = 0;
  sub.stdout.on('data', (b: Buffer) => {
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) received++;
    lastAt = performance.now();
  });
  const exited = new Promise<void>((resolve) => sub.once('close', () => resolve()));
  try {
    // mosquitto_sub gives no sign that it has subscribed: a probe message tells us.
    const probe = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    await waitUntil(
      () => {
        probe.publish(`${prefix}/probe/telemetry`, 'probe', { qos: 0 });
        return received > 0;
      },
      10_000,
      'mosquitto_sub to subscribe',
      200,
    );
    await probe.endAsync();
    // Let the last probes arrive before counting starts.
    await new Promise((r) => setTimeout(r, 500));
    received = 0;
    const go = await startPublishers(jobs(url, prefix), raw);
    const t0 = performance.now();
    await go();
    const publishersMs = performance.now() - t0;
    let seen = -1;
    await waitUntil(
      () => {
        if (received >= total) return true;
        const idle = performance.now() - lastAt > 3000 && received === seen;
        seen = received;
        return idle;
      },
      300_000,
      'Mosquitto to deliver',
      500,
    );
    const ms = Math.max(lastAt - t0, publishersMs);
    return { ...rate(received, ms), received, dropped: total - received, publishersMs: Math.round(publishersMs) };
  } catch (err) {
    return { error: `Mosquitto at ${url}: ${(err as Error).message}` };
  } finally {
    sub.kill();
    await exited;
  }
}

/** A private Mosquitto with the settings src/platform/mqtt/README.md asks for, on a free port. */
async function startTunedMosquitto(dir: string): Promise<{ url: string; stop: () => void } | undefined> {
  const binary = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((b) => existsSync(b));
  if (!binary) return undefined;
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 0', 'max_inflight_messages 1000', 'set_tcp_nodelay true', 'log_dest none', ''].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: 'ignore' });
  // Never leave it running, however this process ends.
  process.once('exit', () => child.kill());
  const url = `mqtt://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 50; i++) {
      const ok = await mqtt
        .connectAsync(url, { reconnectPeriod: 0, connectTimeout: 500 })
        .then((c) => c.endAsync().then(() => true))
        .catch(() => false);
      if (ok) return { url, stop: () => child.kill() };
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch {
    // fall through
  }
  child.kill();
  return undefined;
}

export async function main(options: MqttBenchOptions = {}): Promise<MqttBenchResult> {
  const dialect = options.dialect ?? 'sqlite';
  const perPublisher = options.messages ?? 50_000;
  const publishers = options.publishers ?? 2;
  const qosList = options.qos ?? [0, 1];
  const window = options.window ?? 1000;
  const mosquittoUrl = options.mosquittoUrl ?? 'mqtt://127.0.0.1:1883';
  // Weft itself is loaded here only: publisher threads need nothing but mqtt.js.
  const [{ loadConfig }, { createServices }, { systemActor }, { EmbeddedBroker }, { embeddedIngest }, { benchPgUrl, scratchDatabase }] = await Promise.all([
    import('../src/config.js'),
    import('../src/services.js'),
    import('../src/platform/auth/actor.js'),
    import('../src/platform/mqtt/broker.js'),
    import('../src/modules/telemetry/mqtt.js'),
    import('./lib/scratch.js'),
  ]);

  const { url: databaseUrl, dataDir: dir, db, cleanup } = await scratchDatabase(dialect, benchPgUrl(options.pgUrl));
  const quiet = { info() {}, warn() {}, error() {} };
  const config = loadConfig({ WEFT_DATABASE_URL: databaseUrl, WEFT_DATA_DIR: dir, WEFT_SECRET: randomBytes(24).toString('hex'), WEFT_LOG_LEVEL: 'silent' }, { file: '/nonexistent' });
  const broker = new EmbeddedBroker();
  const tuned = options.tuned === false ? undefined : await startTunedMosquitto(dir);
  let services: Awaited<ReturnType<typeof createServices>> | undefined;
  try {
    services = await createServices(config, db, quiet);
    const svc = services;
    const ingest = embeddedIngest({ estate: services.estate, telemetry: services.telemetry, log: quiet, batch: { concurrency: dialect === 'postgres' ? 4 : 1 } });
    broker.setHooks(ingest.hooks);
    await broker.start(0);

    const result: MqttBenchResult = {
      bench: 'ingest-mqtt',
      dialect,
      publishers,
      messagesPerPublisher: perPublisher,
      payloadBytes: Buffer.byteLength(`{"no2":99.75,"at":${Date.now()}}`),
      node: process.version,
      loadAverage: Math.round(loadavg()[0] * 100) / 100,
    };
    const total = perPublisher * publishers;
    const run = randomBytes(4).toString('hex');

    for (const qos of qosList) {
      // ---- Weft: fresh devices for each run, so every reading is new ----
      const weftRun = async (raw: boolean) => {
        const devices: { id: string; password: string }[] = [];
        for (let p = 0; p < publishers; p++) {
          const { device, credentials } = await svc.estate.createDevice(systemActor('bench'), {
            name: `Bench ${qos}-${p}`,
            serial: `BENCH-${run}-${qos}-${p}-${raw ? 'raw' : 'js'}`,
            profile: 'air-quality',
          });
          devices.push({ id: device.id, password: credentials.mqttPassword });
        }
        const before = { accepted: ingest.stats.accepted, duplicates: ingest.stats.duplicates };
        let batches = 0;
        const off = svc.telemetry.onReadings(() => {
          batches++;
        });
        const go = await startPublishers(
          devices.map((d) => ({ url: broker.url, username: d.id, password: d.password, topic: `weft/devices/${d.id}/telemetry`, count: perPublisher, qos, baseAt, window })),
          raw,
        );
        const t0 = performance.now();
        await go();
        const publishersMs = performance.now() - t0;
        await waitUntil(() => ingest.stats.accepted + ingest.stats.duplicates - before.accepted - before.duplicates >= total, 300_000, 'every reading to be committed');
        const ms = performance.now() - t0;
        off();
        return { ...rate(total, ms), readingsStored: ingest.stats.accepted - before.accepted, batches, publishersMs: Math.round(publishersMs) };
      };
      const baseAt = Date.now() - total - 60_000;
      const weft = await weftRun(false);

      // ---- Mosquitto alone: the same publishers, one plain subscriber ----
      const baselineJobs = (url: string, prefix: string) => Array.from({ length: publishers }, (_, p) => ({ url, topic: `${prefix}/${p}/telemetry`, count: perPublisher, qos, baseAt, window }));
      const mosquitto = await baseline(mosquittoUrl, `weft-bench/${run}/q${qos}`, baselineJobs, qos, total);
      const mosquittoTuned = tuned ? await baseline(tuned.url, `weft-bench/${run}/q${qos}t`, baselineJobs, qos, total) : undefined;
      const entry: QosResult = { weft, mosquitto, mosquittoTuned, ratio: ratioTo(weft, [mosquitto, mosquittoTuned]) };

      // ---- The brokers' own capacity: the same messages pre-encoded on plain sockets ----
      if (options.preEncoded !== false) {
        const weftRaw = await weftRun(true);
        const mosquittoRaw = await baseline(tuned?.url ?? mosquittoUrl, `weft-bench/${run}/q${qos}r`, baselineJobs, qos, total, true);
        entry.preEncoded = { weft: weftRaw, mosquitto: mosquittoRaw, ratio: ratioTo(weftRaw, [mosquittoRaw]) };
      }

      if (qos === 0) result.qos0 = entry;
      else result.qos1 = entry;
    }
    return result;
  } finally {
    await broker.stop().catch(() => {});
    tuned?.stop();
    await services?.close(0);
    await cleanup();
  }
}

runIfMain(import.meta.url, main, {
  usage: 'bench/ingest-mqtt.ts [--dialect sqlite|postgres] [--messages N] [--publishers N] [--qos 0|1|both] [--window N] [--mosquitto URL] [--no-tuned] [--no-pre-encoded]',
  numbers: { '--messages': 'messages', '--publishers': 'publishers', '--window': 'window' },
  strings: { '--mosquitto': 'mosquittoUrl' },
  switches: { '--no-tuned': ['tuned', false], '--no-pre-encoded': ['preEncoded', false] },
  custom: {
    '--qos': (value: string, out: Record<string, unknown>) => {
      if (!['0', '1', 'both'].includes(value)) throw new Error('--qos must be 0, 1 or both');
      out.qos = value === 'both' ? [0, 1] : [Number(value)];
    },
  },
  // Brokers and sockets can keep the process alive: exit once the figures are written.
  exitWhenDone: true,
});
