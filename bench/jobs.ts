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
import { runIfMain } from './lib/cli.js';
import { benchPgUrl, scratchDatabase } from './lib/scratch.js';
import type { Kysely } from 'kysely';
import type { Dialect } from '../src/platform/db/dialect.js';
import { toJson } from '../src/platform/db/dialect.js';
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

export async function main(options: JobsBenchOptions = {}): Promise<JobsBenchResult> {
  const dialect = options.dialect ?? 'sqlite';
  const n = options.jobs ?? 2000;
  const concurrency = options.concurrency ?? 10;
  const pgUrl = benchPgUrl(options.pgUrl);
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

runIfMain(import.meta.url, main, {
  usage: 'bench/jobs.ts [--dialect sqlite|postgres] [--jobs N] [--concurrency N]',
  numbers: { '--jobs': 'jobs', '--concurrency': 'concurrency' },
});
