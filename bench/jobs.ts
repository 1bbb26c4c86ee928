/**
 * Job queue throughput against a baseline measured in the same run on the same table:
 *
 *   npx tsx bench/jobs.ts [--dialect sqlite|postgres] [--jobs N] [--concurrency N]
 *
 * enqueue       JobQueue.enqueue, one awaited call after another
 * process       start() to the last job recorded done, no-op handler
 * baseline      raw Kysely: single-row inserts into jobs; a select-one-pending / update-to-done loop
 *
 * Prints one JSON object on stdout. On PostgreSQL it works in a temporary schema of
 * WEFT_BENCH_PG_URL (default: the test database) and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { type Db, openDb } from '../src/platform/db/database.js';
import type { Dialect } from '../src/platform/db/dialect.js';
import { toJson } from '../src/platform/db/dialect.js';
import { migrateUp } from '../src/platform/db/migrator.js';
import { newId } from '../src/platform/ids.js';
import { JobQueue } from '../src/platform/jobs/index.js';

export interface JobsBenchOptions {
  dialect?: Dialect;
  jobs?: number;
  concurrency?: number;
  pgUrl?: string;
}

interface Rate {
  ms: number;
  perSecond: number;
}

export interface JobsBenchResult {
  bench: 'jobs';
  dialect: Dialect;
  jobs: number;
  concurrency: number;
  node: string;
  enqueue: Rate;
  process: Rate;
  baseline: { insert: Rate; selectUpdate: Rate };
  /** Queue figure divided by its baseline: how much of the raw database speed the queue keeps. */
  ratio: { enqueueVsInsert: number; processVsSelectUpdate: number };
}

const quiet = { info() {}, warn() {}, error() {} };

function rate(n: number, ms: number): Rate {
  return { ms: Math.round(ms * 10) / 10, perSecond: Math.round((n / ms) * 1000) };
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function scratchDatabase(dialect: Dialect, pgUrl: string): Promise<{ db: Db; cleanup: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
    const db = openDb({ databaseUrl: `sqlite:${join(dir, 'bench.db')}` });
    await migrateUp(db);
    return {
      db,
      cleanup: async () => {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const admin = async (text: string) => {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE SCHEMA ${schema}`);
  const db = openDb({ databaseUrl: `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}` });
  const cleanup = async () => {
    await db.close();
    await admin(`DROP SCHEMA ${schema} CASCADE`);
  };
  try {
    await migrateUp(db);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { db, cleanup };
}

export async function main(options: JobsBenchOptions = {}): Promise<JobsBenchResult> {
  const dialect = options.dialect ?? 'sqlite';
  const n = options.jobs ?? 2000;
  const concurrency = options.concurrency ?? 10;
  const pgUrl = options.pgUrl ?? process.env.WEFT_BENCH_PG_URL ?? process.env.WEFT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const { db, cleanup } = await scratchDatabase(dialect, pgUrl);
  const k = db.k as Kysely<any>;
  try {
    const insertRaw = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const now = new Date();
        await k
          .insertInto('jobs')
          .values({ id: newId(), name: 'bench.noop', payload_json: toJson({ i }), status: 'pending', run_at: now, attempts: 0, max_attempts: 5, created_at: now })
          .execute();
      }
    };
    const selectUpdateRaw = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const row = await k.selectFrom('jobs').select('id').where('status', '=', 'pending').where('run_at', '<=', new Date()).orderBy('run_at').limit(1).executeTakeFirstOrThrow();
        await k.updateTable('jobs').set({ status: 'done', finished_at: new Date() }).where('id', '=', row.id).execute();
      }
    };
    const runQueue = async (count: number) => {
      const queue = new JobQueue(db, { concurrency, pollMs: 10, log: quiet });
      let handled = 0;
      let allHandled!: () => void;
      const finished = new Promise<void>((resolve) => {
        allHandled = resolve;
      });
      queue.register('bench.noop', async () => {
        if (++handled === count) allHandled();
      });
      const enqueueMs = await timed(async () => {
        for (let i = 0; i < count; i++) await queue.enqueue('bench.noop', { i });
      });
      const processMs = await timed(async () => {
        queue.start();
        await finished;
        // stop() waits for the last results to be written, so this counts them as done.
        await queue.stop(10_000);
      });
      const depth = await queue.depth();
      if (depth.done !== count) throw new Error(`expected ${count} jobs done, found ${JSON.stringify(depth)}`);
      return { enqueueMs, processMs };
    };

    // Warm up the JIT, the driver and the database file for both sides, so neither pays for starting first.
    const warm = Math.min(300, n);
    await runQueue(warm);
    await insertRaw(warm);
    await selectUpdateRaw(warm);
    await k.deleteFrom('jobs').execute();

    const { enqueueMs, processMs } = await runQueue(n);
    await k.deleteFrom('jobs').execute();
    const insertMs = await timed(() => insertRaw(n));
    const selectUpdateMs = await timed(() => selectUpdateRaw(n));

    const enqueue = rate(n, enqueueMs);
    const process_ = rate(n, processMs);
    const insert = rate(n, insertMs);
    const selectUpdate = rate(n, selectUpdateMs);
    return {
      bench: 'jobs',
      dialect,
      jobs: n,
      concurrency,
      node: process.version,
      enqueue,
      process: process_,
      baseline: { insert, selectUpdate },
      ratio: {
        enqueueVsInsert: Math.round((enqueue.perSecond / insert.perSecond) * 100) / 100,
        processVsSelectUpdate: Math.round((process_.perSecond / selectUpdate.perSecond) * 100) / 100,
      },
    };
  } finally {
    await cleanup();
  }
}

function parseArgs(argv: string[]): JobsBenchOptions {
  const out: JobsBenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--dialect':
        if (value !== 'sqlite' && value !== 'postgres') throw new Error('--dialect must be sqlite or postgres');
        out.dialect = value;
        i++;
        break;
      case '--jobs':
      case '--concurrency': {
        const num = Number(value);
        if (!Number.isInteger(num) || num < 1) throw new Error(`${argv[i]} must be a whole number of at least 1`);
        if (argv[i] === '--jobs') out.jobs = num;
        else out.concurrency = num;
        i++;
        break;
      }
      default:
        throw new Error(`unknown argument ${argv[i]}; usage: bench/jobs.ts [--dialect sqlite|postgres] [--jobs N] [--concurrency N]`);
    }
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(parseArgs(process.argv.slice(2)))
    .then((result) => process.stdout.write(`${JSON.stringify(result)}\n`))
    .catch((err) => {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exitCode = 1;
    });
}
