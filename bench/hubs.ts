/**
 * Hub bookings over HTTP, against a baseline measured in the same run on the same machine:
 *
 *   npx tsx bench/hubs.ts [--dialect sqlite|postgres] [--desks N] [--last N] [--attempts N] [--concurrency N]
 *
 * booking       a hub of N desks (300): every desk but the last 10 booked for one day through
 *               POST /api/v1/hub-bookings with a hub manager's API key (each for a different member of
 *               staff), `concurrency` (8) at a time from a separate client process; p50 and p99 latency
 * race          then `attempts` (200) booking attempts for the last 10 desks, all sent at once by
 *               different people: exactly 10 must succeed, every other one answered 409 HUB_SPACE_TAKEN;
 *               its p50 and p99 (each attempt waits behind the whole burst on two cores)
 * baseline      the same client, the same bodies, at the same concurrencies, against a bare Fastify route
 *               that parses the JSON and answers 201: what this machine's HTTP stack gives without Weft
 *
 * Prints one JSON object. On PostgreSQL it works in a temporary schema of WEFT_BENCH_PG_URL (default: the
 * test database) and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { systemActor } from '../src/platform/auth/actor.js';
import { addDays, londonDay } from '../src/platform/dates.js';
import type { Dialect } from '../src/platform/db/dialect.js';
import { newId } from '../src/platform/ids.js';
import { createServices } from '../src/services.js';
import { runChild } from './lib/child.js';
import { runIfMain } from './lib/cli.js';
import { benchPgUrl, scratchDatabase } from './lib/scratch.js';

export interface HubsBenchOptions {
  dialect?: Dialect;
  desks?: number;
  last?: number;
  attempts?: number;
  concurrency?: number;
  pgUrl?: string;
}

/** The load client, a separate Node process: posts each body, `concurrency` at a time; statuses, codes and latency. */
const CLIENT = `
const http = require('node:http');
const cfg = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.concurrency });
function post(body) {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(cfg.url, { method: 'POST', agent, headers: { authorization: 'Bearer ' + cfg.key, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => {
        let code = null;
        try { code = JSON.parse(data).code ?? null; } catch {}
        resolve({ ms: performance.now() - t0, status: res.statusCode, code });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}
(async () => {
  let next = 0;
  const results = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: cfg.concurrency }, async () => {
    while (next < cfg.bodies.length) results.push(await post(cfg.bodies[next++]));
  }));
  const ms = performance.now() - t0;
  agent.destroy();
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  const at = (q) => Math.round(times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)] * 100) / 100;
  const statuses = {};
  const codes = {};
  for (const r of results) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.code) codes[r.code] = (codes[r.code] ?? 0) + 1;
  }
  process.stdout.write(JSON.stringify({ ms, requests: results.length, p50: at(0.5), p99: at(0.99), statuses, codes }));
})().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
`;

interface ClientResult {
  ms: number;
  requests: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  codes: Record<string, number>;
}

const runClient = (cfg: object) => runChild<ClientResult>(CLIENT, cfg, 'the booking client');

export async function main(options: HubsBenchOptions = {}) {
  const dialect = options.dialect ?? 'sqlite';
  const deskCount = options.desks ?? 300;
  const last = Math.min(options.last ?? 10, deskCount);
  const attempts = options.attempts ?? 200;
  const concurrency = options.concurrency ?? 8;
  const { url, dataDir, db, cleanup } = await scratchDatabase(dialect, benchPgUrl(options.pgUrl));
  const config = loadConfig(
    { WEFT_DATABASE_URL: url, WEFT_DATA_DIR: dataDir, WEFT_SECRET: randomBytes(32).toString('hex'), WEFT_LOG_LEVEL: 'silent', WEFT_KEY_RATE_LIMIT: '1000000' },
    { file: '/nonexistent' },
  );
  const services = await createServices(config, db, { info() {}, warn() {}, error() {} });
  const app = await buildApp(services, { quiet: true });
  const bare = Fastify();
  bare.post('/api/v1/hub-bookings', async (request, reply) => reply.status(201).send({ id: newId(), ...(request.body as object) }));
  try {
    const actor = { ...systemActor('bench'), permissions: new Set(['hubs:manage', 'hubs:book']) };
    const site = await services.estate.createSite(actor, { type: 'library', name: 'Bench Library', address: '1 Bench Street' });
    const hub = await services.workforce.createHub(actor, { siteId: site.id, opens: '08:00', closes: '18:00', openDays: [1, 2, 3, 4, 5, 6, 7] });
    const desks: string[] = [];
    for (let i = 0; i < deskCount; i++) desks.push((await services.workforce.addSpace(actor, hub.id, { name: `Desk ${i + 1}`, kind: 'desk' })).id);
    // Staff to book for: written straight to the table (a password hash each would take minutes and measure nothing).
    const people = deskCount - last + attempts;
    const now = new Date();
    const users = Array.from({ length: people }, (_, i) => ({
      id: newId(),
      email: `person-${i}@bench.example`,
      name: `Person ${i}`,
      password_hash: 'none',
      is_active: true,
      created_at: now,
      updated_at: now,
      password_changed_at: now,
    }));
    for (let i = 0; i < users.length; i += 200)
      await db.k
        .insertInto('users')
        .values(users.slice(i, i + 200))
        .execute();
    const { key } = await services.staff.createKey(
      { ...systemActor('bench'), permissions: new Set(['hubs:manage', 'hubs:book']) },
      { name: 'bench', type: 'live', scopes: ['hubs:manage', 'hubs:book'] },
    );
    const day = addDays(londonDay(now), 1);
    const steady = users.slice(0, deskCount - last).map((u, i) => ({ spaceId: desks[i], day, userId: u.id }));
    const burst = users.slice(deskCount - last).map((u, i) => ({ spaceId: desks[deskCount - last + (i % last)], day, userId: u.id }));

    await app.listen({ port: 0, host: '127.0.0.1' });
    await bare.listen({ port: 0, host: '127.0.0.1' });
    const weft = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1/hub-bookings`;
    const plain = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/api/v1/hub-bookings`;

    const booking = await runClient({ url: weft, key, bodies: steady, concurrency });
    if (booking.statuses['201'] !== steady.length) throw new Error(`expected ${steady.length} bookings, got ${JSON.stringify(booking.statuses)} ${JSON.stringify(booking.codes)}`);
    const race = await runClient({ url: weft, key, bodies: burst, concurrency: burst.length });
    const stored = await db.k
      .selectFrom('hub_bookings')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('day', '=', day)
      .where('status', '=', 'booked')
      .executeTakeFirstOrThrow();
    const bookedLast = await db.k
      .selectFrom('hub_bookings')
      .select('space_id')
      .where('day', '=', day)
      .where('space_id', 'in', desks.slice(deskCount - last))
      .execute();
    const succeeded = race.statuses['201'] ?? 0;
    const exactlyOne = bookedLast.length === last && new Set(bookedLast.map((b) => b.space_id)).size === last;
    if (succeeded !== last || !exactlyOne || Number(stored.n) !== deskCount)
      throw new Error(`double booking or lost booking: ${succeeded} succeeded, ${bookedLast.length} stored for the last desks, ${stored.n} in all`);
    const bareSteady = await runClient({ url: plain, key, bodies: steady, concurrency });
    const bareBurst = await runClient({ url: plain, key, bodies: burst, concurrency: burst.length });

    return {
      bench: 'hubs',
      dialect,
      node: process.version,
      loadAverage: Math.round((await import('node:os')).loadavg()[0] * 100) / 100,
      booking: { requests: booking.requests, concurrency, perSecond: Math.round((booking.requests / booking.ms) * 1000), p50Ms: booking.p50, p99Ms: booking.p99 },
      race: {
        attempts: burst.length,
        freeDesks: last,
        succeeded,
        refused: race.codes.HUB_SPACE_TAKEN ?? 0,
        otherAnswers: Object.fromEntries(Object.entries(race.statuses).filter(([s]) => s !== '201' && s !== '409')),
        allSentAtOnce: true,
        ms: Math.round(race.ms),
        p50Ms: race.p50,
        p99Ms: race.p99,
      },
      baseline: {
        how: 'the same client and bodies against a bare Fastify route that parses the JSON and answers 201',
        booking: { p50Ms: bareSteady.p50, p99Ms: bareSteady.p99, perSecond: Math.round((bareSteady.requests / bareSteady.ms) * 1000) },
        race: { p50Ms: bareBurst.p50, p99Ms: bareBurst.p99, ms: Math.round(bareBurst.ms) },
      },
      targets: { raceSucceeded: last, bookingP99Ms: 50 },
    };
  } finally {
    await bare.close();
    await app.close();
    await services.close(0);
    await cleanup();
  }
}

runIfMain(import.meta.url, main, {
  usage: 'bench/hubs.ts [--dialect sqlite|postgres] [--desks N] [--last N] [--attempts N] [--concurrency N]',
  numbers: { '--desks': 'desks', '--last': 'last', '--attempts': 'attempts', '--concurrency': 'concurrency' },
});
