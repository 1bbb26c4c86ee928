import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import type { Kysely } from 'kysely';
import { openDb } from '../../../src/platform/db/database.js';
import type { Dialect } from '../../../src/platform/db/dialect.js';
import { JobQueue, type JobQueueOptions, backoffMs, nextCronTime } from '../../../src/platform/jobs/index.js';
import { dialects, forEachDialect, freshDatabase, logRecorder as recorder } from '../../helpers.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function queue(db: ConstructorParameters<typeof JobQueue>[0], options: JobQueueOptions = {}) {
  return new JobQueue(db, { log: recorder().log, pollMs: 20, ...options });
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Sleeps until just after the given instant. */
async function until(at: Date): Promise<void> {
  await sleep(Math.max(0, at.getTime() - Date.now() + 15));
}

test('backoff doubles from the base, stays under the cap and keeps at least half the delay', () => {
  assert.equal(
    backoffMs(1, 100, 10_000, () => 0),
    50,
  );
  assert.equal(
    backoffMs(1, 100, 10_000, () => 1),
    100,
  );
  assert.equal(
    backoffMs(4, 100, 10_000, () => 1),
    800,
  );
  assert.equal(
    backoffMs(30, 100, 10_000, () => 1),
    10_000,
  );
  assert.equal(
    backoffMs(30, 100, 10_000, () => 0),
    5_000,
  );
});

test('cron times are worked out in UK time and bad expressions are refused clearly', () => {
  // 09:00 in London is 08:00 UTC in summer time.
  assert.equal(nextCronTime('0 9 * * *', new Date('2026-06-01T10:00:00Z')).toISOString(), '2026-06-02T08:00:00.000Z');
  assert.equal(nextCronTime('0 9 * * *', new Date('2026-01-05T10:00:00Z')).toISOString(), '2026-01-06T09:00:00.000Z');
  assert.throws(() => nextCronTime('a b c d e', new Date()), /cron expression "a b c d e" is not valid/);
  assert.throws(() => nextCronTime('* * * *', new Date()), /must have 5 fields/);
  assert.throws(() => nextCronTime('', new Date()), /must have 5 fields/);
});

forEachDialect('jobs', (dialect) => {
  test('an enqueued job runs once with its payload and is marked done', async () => {
    const { db } = await freshDatabase(dialect);
    const q = queue(db);
    const seen: unknown[] = [];
    q.register('echo', async (payload, job) => {
      seen.push(payload);
      assert.equal(job.attempts, 1);
    });
    const { id, created } = await q.enqueue('echo', { to: 'library', n: [1, 2] });
    assert.equal(created, true);
    assert.equal((await q.get(id))?.status, 'pending');
    assert.equal(await q.runOnce(), 1);
    assert.deepEqual(seen, [{ to: 'library', n: [1, 2] }]);
    const job = await q.get(id);
    assert.equal(job?.status, 'done');
    assert.equal(job?.attempts, 1);
    assert.equal(job?.locked_by, null);
    assert.ok(job?.finished_at instanceof Date);
    assert.equal(await q.runOnce(), 0);
    assert.equal(await q.get('not-a-uuid'), undefined);
  });

  test('a job enqueued for later waits for its time', async () => {
    const { db } = await freshDatabase(dialect);
    const q = queue(db);
    let ran = 0;
    q.register('later', async () => void ran++);
    const runAt = new Date(Date.now() + 300);
    await q.enqueue('later', null, { runAt });
    assert.equal(await q.runOnce(), 0);
    await until(runAt);
    assert.equal(await q.runOnce(), 1);
    assert.equal(ran, 1);
  });

  test('an idempotency key returns the first job and adds no second one', async () => {
    const { db } = await freshDatabase(dialect);
    const q = queue(db);
    const first = await q.enqueue('send', { a: 1 }, { idempotencyKey: 'reminder:42' });
    const second = await q.enqueue('send', { a: 2 }, { idempotencyKey: 'reminder:42' });
    assert.deepEqual(second, { id: first.id, created: false });
    assert.equal(first.created, true);
    assert.equal((await q.depth()).pending, 1);
    assert.deepEqual((await q.get(first.id))?.payload_json, { a: 1 });
  });

  test('a failing job is retried with growing backoff, then succeeds', async () => {
    const { db } = await freshDatabase(dialect);
    // Delays long enough that a loaded machine still asks again before the backoff is over.
    const q = queue(db, { backoffBaseMs: 300, backoffMaxMs: 5000 });
    let calls = 0;
    q.register('flaky', async () => {
      calls++;
      if (calls < 3) throw new Error(`gateway timeout ${calls}`);
    });
    const { id } = await q.enqueue('flaky', {});
    const created = (await q.get(id))!.run_at;

    assert.equal(await q.runOnce(), 1);
    const afterFirst = (await q.get(id))!;
    assert.equal(afterFirst.status, 'pending');
    assert.equal(afterFirst.attempts, 1);
    assert.match(afterFirst.last_error ?? '', /gateway timeout 1/);
    assert.ok(afterFirst.run_at.getTime() >= created.getTime() + 150, 'first retry waits at least half the base');
    assert.equal(await q.runOnce(), 0, 'not before its backoff');

    await until(afterFirst.run_at);
    assert.equal(await q.runOnce(), 1);
    const afterSecond = (await q.get(id))!;
    assert.equal(afterSecond.attempts, 2);
    assert.match(afterSecond.last_error ?? '', /gateway timeout 2/);
    assert.ok(afterSecond.run_at.getTime() >= afterFirst.run_at.getTime() + 300, 'second retry waits at least half of twice the base');

    await until(afterSecond.run_at);
    assert.equal(await q.runOnce(), 1);
    const done = (await q.get(id))!;
    assert.equal(done.status, 'done');
    assert.equal(done.attempts, 3);
    assert.equal(calls, 3);
  });

  test('a job that keeps failing goes to the dead letters with its last error', async () => {
    const { db } = await freshDatabase(dialect);
    const { lines, log } = recorder();
    const q = new JobQueue(db, { backoffBaseMs: 1, backoffMaxMs: 1, log });
    q.register(
      'doomed',
      async () => {
        throw new Error('the SMS gateway said 401');
      },
      { maxAttempts: 2 },
    );
    const { id } = await q.enqueue('doomed', {});
    assert.equal((await q.get(id))?.max_attempts, 2);
    assert.equal(await q.runOnce(), 1);
    await sleep(10);
    assert.equal(await q.runOnce(), 1);
    const job = (await q.get(id))!;
    assert.equal(job.status, 'dead');
    assert.equal(job.attempts, 2);
    assert.match(job.last_error ?? '', /the SMS gateway said 401/);
    assert.ok(job.finished_at instanceof Date);
    assert.equal(await q.runOnce(), 0);
    assert.deepEqual(await q.depth(), { pending: 0, running: 0, done: 0, dead: 1 });
    assert.ok(lines.some((l) => l.level === 'error'));
  });

  test('a job with no registered handler goes straight to the dead letters', async () => {
    const { db } = await freshDatabase(dialect);
    const q = queue(db);
    const { id } = await q.enqueue('no.such.job', {});
    assert.equal(await q.runOnce(), 1);
    const job = (await q.get(id))!;
    assert.equal(job.status, 'dead');
    assert.match(job.last_error ?? '', /No handler is registered for job "no\.such\.job"/);
  });

  test('bad options and a second handler for one name are refused', async () => {
    const { db } = await freshDatabase(dialect);
    assert.throws(() => new JobQueue(db, { concurrency: 0 }), /concurrency must be a positive number/);
    const q = queue(db);
    q.register('a', async () => {});
    assert.throws(() => q.register('a', async () => {}), /already registered/);
    await assert.rejects(q.enqueue('', {}), /needs a name/);
    await assert.rejects(q.enqueue('a', {}, { maxAttempts: 0 }), /maxAttempts/);
  });

  test('a crashed worker’s job runs again once its lock expires, not before', async () => {
    const { db, url } = await freshDatabase(dialect);
    const q = queue(db);
    const ran: string[] = [];
    q.register('crash.test', async (_p, job) => void ran.push(job.id));
    const { id } = await q.enqueue('crash.test', { site: 'depot' });

    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/platform/jobs/crash-worker.ts', url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    after(() => void child.kill('SIGKILL'));
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = once(child, 'exit');
    const lines = createInterface({ input: child.stdout! });
    const claimed = await Promise.race([
      (async () => {
        for await (const line of lines) if (line.startsWith('claimed ')) return line.slice('claimed '.length);
        throw new Error(`crash worker ended without claiming: ${stderr}`);
      })(),
      sleep(15_000, undefined, { ref: false }).then(() => {
        throw new Error(`crash worker did not claim in time: ${stderr}`);
      }),
    ]);
    assert.equal(claimed, id);
    child.kill('SIGKILL');
    await exited;

    const held = (await q.get(id))!;
    assert.equal(held.status, 'running');
    assert.match(held.locked_by ?? '', /^crash-worker:/);
    assert.ok(held.lock_expires_at!.getTime() > Date.now() + 200, 'the lock is still live right after the crash');
    assert.equal(await q.runOnce(), 0, 'the job is invisible while the dead worker’s lock lasts');
    assert.deepEqual(ran, []);

    await until(held.lock_expires_at!);
    assert.equal(await q.runOnce(), 1);
    assert.deepEqual(ran, [id]);
    const job = (await q.get(id))!;
    assert.equal(job.status, 'done');
    assert.equal(job.attempts, 2);
  });

  test('a worker whose lock expired cannot overwrite the result of the worker that took over', async () => {
    const { db } = await freshDatabase(dialect);
    const a = queue(db, { workerId: 'a' });
    const b = queue(db, { workerId: 'b' });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    a.register('slow', async () => {
      await gate;
      throw new Error('late failure from a');
    });
    b.register('slow', async () => {});
    const { id } = await a.enqueue('slow', {});
    const aRun = a.runOnce();
    await waitFor('a to claim', async () => (await a.get(id))?.locked_by === 'a');
    // Simulates a's lock running out (a stalled process) without waiting for it.
    await (db.k as Kysely<any>)
      .updateTable('jobs')
      .set({ lock_expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', id)
      .execute();
    assert.equal(await b.runOnce(), 1);
    release();
    assert.equal(await aRun, 1);
    const job = (await a.get(id))!;
    assert.equal(job.status, 'done');
    assert.equal(job.attempts, 2);
    assert.equal(job.last_error, null);
  });

  test('a job whose lock expires on its last attempt goes to the dead letters', async () => {
    const { db } = await freshDatabase(dialect);
    const q = queue(db);
    await q.enqueue('x', {}, { maxAttempts: 1 });
    const { id } = await q.enqueue('x', {}, { maxAttempts: 1 });
    const k = db.k as Kysely<any>;
    await k
      .updateTable('jobs')
      .set({ status: 'running', attempts: 1, locked_by: 'gone', lock_expires_at: new Date(Date.now() - 1) })
      .where('id', '=', id)
      .execute();
    await q.runOnce();
    const job = (await q.get(id))!;
    assert.equal(job.status, 'dead');
    assert.match(job.last_error ?? '', /lock expired on attempt 1 of 1/);
  });

  test('a long job keeps its lock by heartbeat, so another worker does not take it', async () => {
    const { db } = await freshDatabase(dialect);
    // Two seconds' lock, renewed every third of that: a loaded machine may delay a beat, not three.
    const a = queue(db, { visibilitySeconds: 2 });
    const b = queue(db, { visibilitySeconds: 2 });
    let runs = 0;
    const handler = async () => {
      runs++;
      await sleep(4000);
    };
    a.register('long', handler);
    b.register('long', handler);
    const { id } = await a.enqueue('long', {});
    const aRun = a.runOnce();
    // Well past the first lock's expiry: only heartbeats keep b off the job.
    const end = Date.now() + 3500;
    while (Date.now() < end) {
      assert.equal(await b.runOnce(), 0);
      await sleep(50);
    }
    assert.equal(await aRun, 1);
    assert.equal(runs, 1);
    assert.equal((await a.get(id))?.attempts, 1);
  });

  test('the worker loop wakes at once for a job enqueued in the same process', async () => {
    const { db } = await freshDatabase(dialect);
    const q = queue(db, { pollMs: 60_000 });
    let done = false;
    q.register('quick', async () => {
      done = true;
    });
    q.start();
    await sleep(50);
    const t0 = Date.now();
    await q.enqueue('quick', {});
    await waitFor('the job to run', () => done, 2000);
    assert.ok(Date.now() - t0 < 1000);
    await q.stop(100);
  });

  test('stop() waits for running jobs within the grace period', async () => {
    const { db } = await freshDatabase(dialect);
    const q = queue(db);
    q.register('short', async () => void (await sleep(150)));
    const { id } = await q.enqueue('short', {});
    q.start();
    await waitFor('the job to start', async () => (await q.get(id))?.status === 'running');
    await q.stop(5000);
    assert.equal((await q.get(id))?.status, 'done');
  });

  test('stop() releases jobs still running after the grace period, without counting the attempt', async () => {
    const { db } = await freshDatabase(dialect);
    const q = queue(db, { workerId: 'stopping' });
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    q.register('stuck', async () => void (await gate));
    const { id } = await q.enqueue('stuck', {});
    q.start();
    await waitFor('the job to start', async () => (await q.get(id))?.status === 'running');
    const t0 = Date.now();
    await q.stop(100);
    assert.ok(Date.now() - t0 < 2000);
    let job = (await q.get(id))!;
    assert.equal(job.status, 'pending');
    assert.equal(job.attempts, 0);
    assert.equal(job.locked_by, null);
    assert.equal(job.lock_expires_at, null);
    // The abandoned handler finishing later must not mark the released job done.
    finish();
    await sleep(50);
    assert.equal((await q.get(id))?.status, 'pending');

    const next = queue(db);
    next.register('stuck', async () => {});
    assert.equal(await next.runOnce(), 1);
    job = (await q.get(id))!;
    assert.equal(job.status, 'done');
    assert.equal(job.attempts, 1);
  });

  test('a schedule enqueues once per due time, even with two queues ticking', async () => {
    const { db, url } = await freshDatabase(dialect);
    const db2 = openDb({ databaseUrl: url });
    after(() => db2.close());
    const a = queue(db);
    const b = queue(db2);
    await assert.rejects(a.schedule('bad', '75 * * * *', 'x'), /cron expression "75 \* \* \* \*" is not valid/);

    await a.schedule('nightly-report', '0 2 * * *', 'report.build', { kind: 'nightly' });
    await b.schedule('nightly-report', '0 2 * * *', 'report.build', { kind: 'nightly' });
    const k = db.k as Kysely<any>;
    const schedule = async () =>
      (await k.selectFrom('job_schedules').selectAll().where('name', '=', 'nightly-report').executeTakeFirstOrThrow()) as { next_run_at: Date; last_run_at: Date | null; cron: string };
    const first = await schedule();
    assert.ok(first.next_run_at > new Date());
    assert.equal(first.last_run_at, null);

    const due = first.next_run_at;
    const at = new Date(due.getTime() + 1000);
    const counts = await Promise.all([a.runSchedules(at), b.runSchedules(at), a.runSchedules(at), b.runSchedules(at)]);
    assert.equal(
      counts.reduce((x, y) => x + y, 0),
      1,
    );
    const jobs = await k.selectFrom('jobs').selectAll().execute();
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].name, 'report.build');
    assert.equal(jobs[0].idempotency_key, `schedule:nightly-report:${due.toISOString()}`);
    assert.equal((jobs[0].run_at as Date).toISOString(), due.toISOString());
    assert.deepEqual(jobs[0].payload_json, { kind: 'nightly' });

    const second = await schedule();
    assert.equal(second.next_run_at.toISOString(), nextCronTime('0 2 * * *', at).toISOString());
    assert.ok(second.last_run_at instanceof Date);
    assert.equal(await a.runSchedules(at), 0);

    // Declaring the same schedule again (every boot does) keeps its place; a new cron moves it.
    await a.schedule('nightly-report', '0 2 * * *', 'report.build', { kind: 'nightly' });
    assert.equal((await schedule()).next_run_at.toISOString(), second.next_run_at.toISOString());
    await a.schedule('nightly-report', '30 3 * * *', 'report.build', { kind: 'nightly' });
    assert.equal((await schedule()).cron, '30 3 * * *');
    assert.notEqual((await schedule()).next_run_at.toISOString(), second.next_run_at.toISOString());

    const later = new Date((await schedule()).next_run_at.getTime() + 1000);
    const again = await Promise.all([a.runSchedules(later), b.runSchedules(later)]);
    assert.equal(again[0] + again[1], 1);
    assert.equal((await k.selectFrom('jobs').select('id').execute()).length, 2);
  });

  test('purge removes finished jobs older than the date and keeps the rest', async () => {
    const { db } = await freshDatabase(dialect);
    const q = queue(db);
    q.register('ok', async () => {});
    for (let i = 0; i < 3; i++) await q.enqueue('ok', { i });
    await q.enqueue('unknown', {});
    assert.equal(await q.runOnce(), 4);
    await q.enqueue('ok', {}, { runAt: new Date(Date.now() + 60_000) });
    assert.deepEqual(await q.depth(), { pending: 1, running: 0, done: 3, dead: 1 });
    assert.equal(await q.purge(new Date(Date.now() - 60_000)), 0);
    assert.equal(await q.purge(new Date(Date.now() + 1000)), 3);
    assert.deepEqual(await q.depth(), { pending: 1, running: 0, done: 0, dead: 1 });
  });
});

const pgOnly = { skip: !dialects().includes('postgres' as Dialect) && 'PostgreSQL not in WEFT_TEST_DIALECTS' };

test('[postgres] two workers on two connections run 300 jobs, each exactly once and never at the same time', pgOnly, async () => {
  const { db, url } = await freshDatabase('postgres');
  const db2 = openDb({ databaseUrl: url });
  after(() => db2.close());
  const k = db.k as Kysely<any>;
  await k.schema
    .createTable('job_runs')
    .addColumn('job_id', 'uuid', (c) => c.notNull())
    .addColumn('worker', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz', (c) => c.notNull())
    .execute();

  const active = new Set<string>();
  let overlaps = 0;
  const perWorker: Record<string, number> = { a: 0, b: 0 };
  const make = (worker: 'a' | 'b', wdb: typeof db) => {
    const q = queue(wdb, { workerId: worker, concurrency: 8, pollMs: 10 });
    q.register('count', async (_p, job) => {
      if (active.has(job.id)) overlaps++;
      active.add(job.id);
      const started_at = new Date();
      await sleep(Math.random() * 6);
      await (wdb.k as Kysely<any>).insertInto('job_runs').values({ job_id: job.id, worker, started_at, finished_at: new Date() }).execute();
      active.delete(job.id);
      perWorker[worker]++;
    });
    return q;
  };
  const a = make('a', db);
  const b = make('b', db2);
  for (let i = 0; i < 300; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => a.enqueue('count', { n: i + j })));
  a.start();
  b.start();
  await waitFor('all 300 jobs to finish', async () => (await a.depth()).done === 300, 30_000);
  await Promise.all([a.stop(1000), b.stop(1000)]);

  assert.equal(overlaps, 0);
  const runs = await k.selectFrom('job_runs').select(['job_id']).execute();
  assert.equal(runs.length, 300);
  assert.equal(new Set(runs.map((r) => r.job_id)).size, 300);
  assert.ok(perWorker.a > 0 && perWorker.b > 0, `both workers took jobs: ${JSON.stringify(perWorker)}`);
  const attempts = await k.selectFrom('jobs').select('attempts').where('attempts', '<>', 1).execute();
  assert.equal(attempts.length, 0);
});
