/**
 * Messaging, against baselines measured in the same run on the same database and machine:
 *
 *   npx tsx bench/messaging.ts [--dialect sqlite|postgres] [--recipients N] [--requests N] [--concurrency N]
 *
 * campaign      a CSV of N recipients (a text message with five placeholders): checked whole, saved as a
 *               draft, started, every row rendered and stored as a notification, and every notification
 *               handed to the development inbox (the local sink) by the delivery loop; the time for all of it
 *               and the peak RSS
 * baseline      the same number of rows, built with no checks or rendering, inserted raw into a copy of the
 *               notifications table (same columns and indexes): better-sqlite3 prepared inserts, or pg
 *               unnest inserts, 5,000 a transaction
 * api           POST /v2/notifications/sms with a live key over HTTP (a new JWT per request, as Notify's
 *               clients sign), from a separate client process, with delivery to the sink running alongside;
 *               requests a second and latency
 * api baseline  the same client against a bare Fastify route that parses the JSON and answers 201: what
 *               this machine's HTTP stack gives without Weft
 *
 * Prints one JSON object. On PostgreSQL it works in a temporary schema of WEFT_BENCH_PG_URL (default: the
 * test database) and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type BetterSqlite3 from 'better-sqlite3';
import Fastify from 'fastify';
import type pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { splitApiKey } from '../src/modules/messaging/notify.auth.js';
import { systemActor } from '../src/platform/auth/actor.js';
import type { Dialect } from '../src/platform/db/dialect.js';
import { newId } from '../src/platform/ids.js';
import { createServices } from '../src/services.js';
import { runChild } from './lib/child.js';
import { runIfMain } from './lib/cli.js';
import { benchPgUrl, scratchDatabase } from './lib/scratch.js';

export interface MessagingBenchOptions {
  dialect?: Dialect;
  recipients?: number;
  requests?: number;
  concurrency?: number;
  pgUrl?: string;
}

const MB = 1024 * 1024;
const BODY = 'Hello ((name)), your parking fine ((ref)) of £((amount)) is due by ((date)). Pay at ((link))';

function csvOf(n: number): string {
  const lines = ['phone number,name,ref,amount,date,link'];
  for (let i = 0; i < n; i++) lines.push(`07700${String(900000 + (i % 100000)).padStart(6, '0')},Resident ${i},PCN${100000 + i},70,1 January,https://pay.example/p/${i}`);
  return lines.join('\n');
}

/** The load client, a separate Node process: signs a JWT per request and posts, `concurrency` at a time. */
const CLIENT = `
const http = require('node:http');
const crypto = require('node:crypto');
const cfg = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.concurrency });
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
function token() {
  if (!cfg.serviceId) return 'none';
  const signed = b64({ typ: 'JWT', alg: 'HS256' }) + '.' + b64({ iss: cfg.serviceId, iat: Math.round(Date.now() / 1000) });
  return signed + '.' + crypto.createHmac('sha256', cfg.secret).update(signed).digest('base64url');
}
function post(i) {
  const text = JSON.stringify({ template_id: cfg.templateId, phone_number: '07700' + String(900000 + (i % 100000)).padStart(6, '0'), personalisation: { name: 'Resident ' + i, ref: 'PCN' + i, amount: '70', date: '1 January', link: 'https://pay.example/p/' + i }, reference: 'bench-' + i });
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(cfg.url, { method: 'POST', agent, headers: { authorization: 'Bearer ' + token(), 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => (res.statusCode === 201 ? resolve(performance.now() - t0) : reject(new Error(res.statusCode + ' ' + data.slice(0, 300)))));
    });
    req.on('error', reject);
    req.end(text);
  });
}
(async () => {
  let next = 0;
  const times = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: cfg.concurrency }, async () => {
    while (next < cfg.requests) times.push(await post(next++));
  }));
  const ms = performance.now() - t0;
  agent.destroy();
  times.sort((a, b) => a - b);
  const at = (q) => Math.round(times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] * 100) / 100;
  process.stdout.write(JSON.stringify({ ms, requests: times.length, p50: at(0.5), p99: at(0.99) }));
})().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
`;

function runClient(cfg: object): Promise<{ ms: number; requests: number; p50: number; p99: number }> {
  return runChild(CLIENT, cfg, 'the load client');
}

const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);

export async function main(options: MessagingBenchOptions = {}) {
  const dialect = options.dialect ?? 'sqlite';
  const recipients = options.recipients ?? 1_000_000;
  const requests = options.requests ?? 30_000;
  const concurrency = options.concurrency ?? 32;
  const { url, dataDir, db, cleanup } = await scratchDatabase(dialect, benchPgUrl(options.pgUrl));
  const config = loadConfig(
    { WEFT_DATABASE_URL: url, WEFT_DATA_DIR: dataDir, WEFT_SECRET: randomBytes(32).toString('hex'), WEFT_LOG_LEVEL: 'silent', WEFT_IMPORT_BODY_LIMIT: String(512 * MB) },
    { file: '/nonexistent' },
  );
  const services = await createServices(config, db, { info() {}, warn() {}, error() {} });
  const app = await buildApp(services, { quiet: true });
  const bare = Fastify();
  bare.post('/v2/notifications/sms', async (request, reply) => reply.status(201).send({ id: newId(), reference: (request.body as { reference?: string }).reference ?? null }));
  try {
    const actor = systemActor('bench');
    const m = services.messaging;
    const service = await m.createService(actor, { name: 'Bench parking', rateLimitPerMinute: 10_000_000, dailyLimit: 100_000_000 });
    const template = await m.createTemplate(actor, service.id, { name: 'Fine reminder', type: 'sms', body: BODY });

    // ---- campaign: check, save, start, render and store every row, hand every notification to the sink
    const csv = csvOf(recipients);
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const t0 = performance.now();
    const draft = await services.campaigns.create(actor, service.id, { templateId: template.id, name: 'Bench campaign', csv });
    const tChecked = performance.now();
    await services.campaigns.start(actor, draft.id);
    await services.campaigns.expand(draft.id);
    const tStored = performance.now();
    while ((await services.delivery.runOnce()) > 0);
    const tSunk = performance.now();
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const progress = (await services.campaigns.get(draft.id)).progress;
    if (progress.delivered !== recipients) throw new Error(`expected ${recipients} delivered, got ${JSON.stringify(progress)}`);

    // ---- baseline: the same number of rows, raw, into a same-shaped copy of the table
    const rows = Array.from({ length: recipients }, (_, i) => [newId(), service.id, template.id, `Hello Resident ${i}, your parking fine PCN${100000 + i} is due.`, i + 1]);
    const tb0 = performance.now();
    if (dialect === 'sqlite') {
      const raw = db.driver.sqlite as BetterSqlite3.Database;
      for (const { sql: text } of raw.prepare("SELECT sql FROM sqlite_master WHERE tbl_name = 'notifications' AND sql IS NOT NULL").all() as { sql: string }[])
        raw.exec(text.replace(/\bnotifications\b/g, 'bench_notifications').replace(/INDEX "?(\w+)"?/, (_, n) => `INDEX "bench_${n}"`));
      const insert = raw.prepare(
        `INSERT INTO bench_notifications (id, service_id, key_type, template_id, template_version, type, recipient, normalised_to, personalisation_json, language, body, billable_units, status, attempts, next_attempt_at, campaign_id, row_number, created_at, updated_at) VALUES (?, ?, 'normal', ?, 1, 'sms', '07700900000', '447700900000', '{}', 'en', ?, 1, 'created', 0, 0, '${draft.id}', ?, 0, 0)`,
      );
      const write = raw.transaction((chunk: unknown[][]) => {
        for (const r of chunk) insert.run(...r);
      });
      for (let i = 0; i < rows.length; i += 5000) write(rows.slice(i, i + 5000));
    } else {
      const pool = db.driver.pool as pg.Pool;
      await pool.query('CREATE TABLE bench_notifications (LIKE notifications INCLUDING ALL)');
      for (let i = 0; i < rows.length; i += 5000) {
        const chunk = rows.slice(i, i + 5000);
        await pool.query(
          `INSERT INTO bench_notifications (id, service_id, key_type, template_id, template_version, type, recipient, normalised_to, personalisation_json, language, body, billable_units, status, attempts, next_attempt_at, campaign_id, row_number, created_at, updated_at)
           SELECT u.id, u.s, 'normal', u.t, 1, 'sms', '07700900000', '447700900000', '{}', 'en', u.b, 1, 'created', 0, now(), '${draft.id}', u.r, now(), now()
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int[]) AS u(id, s, t, b, r)`,
          [0, 1, 2, 3, 4].map((k) => chunk.map((r) => r[k])),
        );
      }
    }
    const baselineMs = performance.now() - tb0;

    // ---- the Notify-compatible API, with delivery to the sink running alongside
    await app.listen({ port: 0, host: '127.0.0.1' });
    await bare.listen({ port: 0, host: '127.0.0.1' });
    const { secret } = splitApiKey((await m.createKey(actor, service.id, { name: 'bench', keyType: 'normal' })).apiKey);
    services.delivery.start();
    const port = (app.server.address() as AddressInfo).port;
    const client = { templateId: template.id, requests, concurrency };
    await runClient({ ...client, url: `http://127.0.0.1:${port}/v2/notifications/sms`, serviceId: service.id, secret, requests: Math.min(2000, requests) });
    const api = await runClient({ ...client, url: `http://127.0.0.1:${port}/v2/notifications/sms`, serviceId: service.id, secret });
    await services.delivery.stop();
    while ((await services.delivery.runOnce()) > 0);
    const bareApi = await runClient({ ...client, url: `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/v2/notifications/sms` });

    const campaignMs = tSunk - t0;
    return {
      bench: 'messaging',
      dialect,
      node: process.version,
      loadAverage: Math.round((await import('node:os')).loadavg()[0] * 100) / 100,
      campaign: {
        recipients,
        ms: Math.round(campaignMs),
        perSecond: perSecond(recipients, campaignMs),
        phases: { checkMs: Math.round(tChecked - t0), renderAndStoreMs: Math.round(tStored - tChecked), handToSinkMs: Math.round(tSunk - tStored) },
        peakRssMB: Math.round(peakRss / MB),
        delivered: progress.delivered,
      },
      baseline: {
        how: `raw inserts of ${recipients} rows into a same-shaped copy of the notifications table, 5,000 a transaction`,
        ms: Math.round(baselineMs),
        perSecond: perSecond(recipients, baselineMs),
      },
      api: { requests: api.requests, concurrency, ms: Math.round(api.ms), perSecond: perSecond(api.requests, api.ms), p50Ms: api.p50, p99Ms: api.p99 },
      apiBaseline: {
        how: 'the same client against a bare Fastify route that parses the JSON and answers 201',
        perSecond: perSecond(bareApi.requests, bareApi.ms),
        p50Ms: bareApi.p50,
        p99Ms: bareApi.p99,
      },
      targets: { campaignMs: 60_000, peakRssMB: 1024, apiPerSecond: 3000 },
    };
  } finally {
    await bare.close();
    await app.close();
    await services.close(0);
    await cleanup();
  }
}

runIfMain(import.meta.url, main, {
  usage: 'bench/messaging.ts [--dialect sqlite|postgres] [--recipients N] [--requests N] [--concurrency N]',
  numbers: { '--recipients': 'recipients', '--requests': 'requests', '--concurrency': 'concurrency' },
});
