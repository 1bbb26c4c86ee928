/**
 * A school closure to many subscribed residents: from the officer's "close" to every
 * notification created and queued for delivery (the issue asks ≤10 s for 100,000).
 *
 *   npx tsx bench/school-closure.ts [--dialect sqlite|postgres] [--residents N] [--schools N]
 *
 * closure   SchoolsService.close, then the announce job and each school's campaign run through the
 *           job queue until every subscriber's notification is stored (rendered in their language,
 *           on their channel, urgent).
 * baseline  raw inserts of the same number of rows into a same-shaped copy of the notifications
 *           table, in the same database, 5,000 a transaction.
 * Residents and subscriptions are loaded first with raw inserts (not timed).
 */
import { randomBytes } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type pg from 'pg';
import { loadConfig } from '../src/config.js';
import { systemActor } from '../src/platform/auth/actor.js';
import type { Db } from '../src/platform/db/database.js';
import type { Dialect } from '../src/platform/db/dialect.js';
import { newId } from '../src/platform/ids.js';
import { londonDay } from '../src/platform/dates.js';
import { createServices } from '../src/services.js';
import { runIfMain } from './lib/cli.js';
import { benchPgUrl, scratchDatabase } from './lib/scratch.js';

export interface SchoolClosureBenchOptions {
  dialect?: Dialect;
  residents?: number;
  schools?: number;
  pgUrl?: string;
}

const MB = 1024 * 1024;
const CHUNK = 5000;

/** Rows in chunks through the driver itself: a prepared statement on SQLite, multi-row VALUES on PostgreSQL. */
async function rawInsert(db: Db, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  if (db.dialect === 'sqlite') {
    const raw = db.driver.sqlite as BetterSqlite3.Database;
    const insert = raw.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    const write = raw.transaction((chunk: unknown[][]) => {
      for (const r of chunk) insert.run(...r);
    });
    for (let i = 0; i < rows.length; i += CHUNK) write(rows.slice(i, i + CHUNK));
    return;
  }
  const pool = db.driver.pool as pg.Pool;
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const values = chunk.map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
    await pool.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values}`, chunk.flat());
  }
}

export async function main(options: SchoolClosureBenchOptions = {}) {
  const dialect = options.dialect ?? 'sqlite';
  const residents = options.residents ?? 100_000;
  const schoolCount = options.schools ?? 40;
  const { url, dataDir, db, cleanup } = await scratchDatabase(dialect, benchPgUrl(options.pgUrl));
  const config = loadConfig({ WEFT_DATABASE_URL: url, WEFT_DATA_DIR: dataDir, WEFT_SECRET: randomBytes(32).toString('hex'), WEFT_LOG_LEVEL: 'silent' }, { file: '/nonexistent' });
  const services = await createServices(config, db, { info() {}, warn() {}, error() {} });
  try {
    const actor = systemActor('bench');
    const schools: string[] = [];
    for (let i = 0; i < schoolCount; i++)
      schools.push((await services.estate.createSite(actor, { type: 'school', name: `School ${i + 1}`, address: `${i + 1} School Lane`, lat: 52.3, lon: -2.4 })).id);
    // The residents: a third on each of email, text and both; one in ten Welsh; each subscribed to one school.
    const now = dialect === 'sqlite' ? Date.now() : new Date();
    const bool = (b: boolean) => (dialect === 'sqlite' ? (b ? 1 : 0) : b);
    const people = Array.from({ length: residents }, (_, i) => [
      newId(),
      `Resident ${i}`,
      i % 3 === 1 ? null : `resident${i}@example.com`,
      i % 3 === 0 ? null : `4477009${String(i).padStart(5, '0').slice(-5)}`,
      i % 10 === 0 ? 'cy' : 'en',
      bool(false),
      bool(false),
      now,
      now,
    ]);
    await rawInsert(db, 'residents', ['id', 'name', 'email', 'mobile', 'language', 'is_large_print', 'is_voice_preferred', 'created_at', 'updated_at'], people);
    await rawInsert(
      db,
      'resident_subscriptions',
      ['id', 'resident_id', 'topic', 'kind', 'scope', 'site_id', 'created_at'],
      people.map((p, i) => [newId(), p[0], 'school-closures', 'site', `site:${schools[i % schoolCount]}`, schools[i % schoolCount], now]),
    );

    // ---- the closure: close, then run the job queue until every notification is stored
    const t0 = performance.now();
    const closure = await services.schools.close(actor, { siteIds: schools, closedOn: londonDay(new Date()), reason: 'the boiler has failed' });
    while ((await services.jobs.runOnce()) > 0);
    const ms = performance.now() - t0;
    const done = await services.schools.get(closure.id);
    if (done.progress.made !== residents) throw new Error(`expected ${residents} made, got ${JSON.stringify(done.progress)}`);
    const stored = Number(
      (
        await db.k
          .selectFrom('notifications')
          .select((e) => e.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

    // ---- baseline: the same number of rows, raw, into a same-shaped copy of the table
    if (dialect === 'sqlite') {
      const raw = db.driver.sqlite as BetterSqlite3.Database;
      for (const { sql } of raw.prepare("SELECT sql FROM sqlite_master WHERE tbl_name = 'notifications' AND sql IS NOT NULL").all() as { sql: string }[])
        raw.exec(sql.replace(/\bnotifications\b/g, 'bench_notifications').replace(/INDEX "?(\w+)"?/, (_, n) => `INDEX "bench_${n}"`));
    } else await (db.driver.pool as pg.Pool).query('CREATE TABLE bench_notifications (LIKE notifications INCLUDING ALL)');
    const service = (await services.messaging.listServices()).find((x) => x.name === 'School closures');
    const template = service && (await services.messaging.listTemplates(service.id)).find((x) => x.type === 'sms');
    if (!service || !template) throw new Error('the closure made no messaging service');
    const rows = people.map((p, i) => [
      newId(),
      service.id,
      template.id,
      'normal',
      1,
      'sms',
      String(p[3] ?? ''),
      String(p[3] ?? ''),
      '{}',
      'en',
      `School ${(i % schoolCount) + 1} is closed today.`,
      1,
      'created',
      0,
      now,
      now,
      now,
    ]);
    const tb0 = performance.now();
    await rawInsert(
      db,
      'bench_notifications',
      [
        'id',
        'service_id',
        'template_id',
        'key_type',
        'template_version',
        'type',
        'recipient',
        'normalised_to',
        'personalisation_json',
        'language',
        'body',
        'billable_units',
        'status',
        'attempts',
        'next_attempt_at',
        'created_at',
        'updated_at',
      ],
      rows,
    );
    const baselineMs = performance.now() - tb0;
    return {
      bench: 'school-closure',
      dialect,
      node: process.version,
      loadAverage: Math.round((await import('node:os')).loadavg()[0] * 100) / 100,
      closure: { residents, schools: schoolCount, ms: Math.round(ms), perSecond: Math.round((residents / ms) * 1000), stored, rssMB: Math.round(process.memoryUsage().rss / MB) },
      baseline: { how: `raw inserts of ${residents} rows into a same-shaped copy of the notifications table`, ms: Math.round(baselineMs), perSecond: Math.round((residents / baselineMs) * 1000) },
      targets: { closureMs: 10_000 },
    };
  } finally {
    await services.close(0);
    await cleanup();
  }
}

runIfMain(import.meta.url, main, {
  usage: 'bench/school-closure.ts [--dialect sqlite|postgres] [--residents N] [--schools N]',
  numbers: { '--residents': 'residents', '--schools': 'schools' },
});
