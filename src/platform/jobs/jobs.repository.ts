import type { ColumnType, Selectable, UpdateQueryBuilder } from 'kysely';
import { sql } from 'kysely';
import type { Db, Executor } from '../db/database.js';
import { skipLocked, toJson } from '../db/dialect.js';
import type { Tables } from '../db/tables.js';

export type JobStatus = 'pending' | 'running' | 'done' | 'dead';
export const JOB_STATUSES: readonly JobStatus[] = ['pending', 'running', 'done', 'dead'];

export interface JobsTable {
  id: string;
  name: string;
  payload_json: ColumnType<unknown, string, string>;
  status: JobStatus;
  run_at: Date;
  attempts: number;
  max_attempts: number;
  lock_expires_at: Date | null;
  locked_by: string | null;
  idempotency_key: string | null;
  last_error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

export interface JobSchedulesTable {
  name: string;
  cron: string;
  job_name: string;
  payload_json: ColumnType<unknown, string, string>;
  next_run_at: Date;
  last_run_at: Date | null;
  is_enabled: boolean;
}

declare module '../db/tables.js' {
  interface Tables {
    jobs: JobsTable;
    job_schedules: JobSchedulesTable;
  }
}

export type JobRow = Selectable<JobsTable>;
export type ScheduleRow = Selectable<JobSchedulesTable>;

export interface NewJob {
  id: string;
  name: string;
  payload: unknown;
  runAt: Date;
  maxAttempts: number;
  idempotencyKey?: string;
  now: Date;
}

/** Inserts a job; with an idempotency key already taken, inserts nothing and returns undefined. */
export async function insertJob(ex: Executor, job: NewJob): Promise<string | undefined> {
  const values = {
    id: job.id,
    name: job.name,
    payload_json: toJson(job.payload),
    status: 'pending' as const,
    run_at: job.runAt,
    attempts: 0,
    max_attempts: job.maxAttempts,
    idempotency_key: job.idempotencyKey ?? null,
    created_at: job.now,
  };
  // Without a key nothing can conflict, and the plain insert is the cheaper statement.
  if (!job.idempotencyKey) {
    await ex.insertInto('jobs').values(values).execute();
    return job.id;
  }
  const row = await ex
    .insertInto('jobs')
    .values(values)
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

export async function jobIdByKey(ex: Executor, key: string): Promise<string | undefined> {
  const row = await ex.selectFrom('jobs').select('id').where('idempotency_key', '=', key).executeTakeFirst();
  return row?.id;
}

export async function findJob(ex: Executor, id: string): Promise<JobRow | undefined> {
  return ex.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Takes up to `limit` due pending jobs for one worker in a single statement, oldest first, through
 * the (status, run_at) index. The candidates are a materialised CTE so PostgreSQL evaluates the
 * SKIP LOCKED scan exactly once; on SQLite the one statement is atomic because SQLite has one writer.
 */
export async function claimJobs(db: Db, worker: string, limit: number, now: Date, lockUntil: Date): Promise<JobRow[]> {
  return db.k
    .with(
      (cte) => cte('due').materialized(),
      (k) => skipLocked(db.dialect, k.selectFrom('jobs').select('id').where('status', '=', 'pending').where('run_at', '<=', now).orderBy('run_at').limit(limit)),
    )
    .updateTable('jobs')
    .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), locked_by: worker, lock_expires_at: lockUntil }))
    .where('id', 'in', (eb) => eb.selectFrom('due').select('due.id'))
    .returningAll()
    .execute();
}

/**
 * Running jobs whose lock expired (their worker crashed or stalled) go back to pending, keeping
 * their run_at so they are first in line. The lost attempt stays counted, so a job that kills its
 * worker every time still reaches the dead letters. Clearing locked_by fences the old worker out.
 */
export async function requeueExpired(ex: Executor, now: Date): Promise<number> {
  const res = await ex
    .updateTable('jobs')
    .set({ status: 'pending', locked_by: null, lock_expires_at: null, last_error: 'The lock expired before the job finished: the worker crashed or stalled.' })
    .where('status', '=', 'running')
    .where('lock_expires_at', '<=', now)
    .where((eb) => eb('attempts', '<', eb.ref('max_attempts')))
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Jobs whose lock expired on their last attempt: nothing may retry them, so they go to the dead letters. */
export async function buryExpired(ex: Executor, now: Date): Promise<number> {
  const res = await ex
    .updateTable('jobs')
    .set((eb) => ({
      status: 'dead',
      last_error: sql<string>`'The lock expired on attempt ' || ${eb.ref('attempts')} || ' of ' || ${eb.ref('max_attempts')} || ': the worker crashed or stalled.'`,
      finished_at: now,
      locked_by: null,
      lock_expires_at: null,
    }))
    .where('status', '=', 'running')
    .where('lock_expires_at', '<=', now)
    .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** The fence every write about a claimed job goes through: this worker, this attempt, still running. */
export interface Claim {
  id: string;
  worker: string;
  attempts: number;
}

function fenced<O>(qb: UpdateQueryBuilder<Tables, 'jobs', 'jobs', O>, claim: Claim): UpdateQueryBuilder<Tables, 'jobs', 'jobs', O> {
  return qb.where('id', '=', claim.id).where('locked_by', '=', claim.worker).where('attempts', '=', claim.attempts).where('status', '=', 'running');
}

export async function extendLocks(ex: Executor, worker: string, ids: string[], lockUntil: Date): Promise<number> {
  if (ids.length === 0) return 0;
  const res = await ex.updateTable('jobs').set({ lock_expires_at: lockUntil }).where('id', 'in', ids).where('locked_by', '=', worker).where('status', '=', 'running').executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export async function completeJob(ex: Executor, claim: Claim, now: Date): Promise<boolean> {
  const res = await fenced(ex.updateTable('jobs').set({ status: 'done', finished_at: now, locked_by: null, lock_expires_at: null, last_error: null }), claim).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function retryJob(ex: Executor, claim: Claim, runAt: Date, error: string): Promise<boolean> {
  const res = await fenced(ex.updateTable('jobs').set({ status: 'pending', run_at: runAt, locked_by: null, lock_expires_at: null, last_error: error }), claim).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function buryJob(ex: Executor, claim: Claim, now: Date, error: string): Promise<boolean> {
  const res = await fenced(ex.updateTable('jobs').set({ status: 'dead', finished_at: now, locked_by: null, lock_expires_at: null, last_error: error }), claim).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Gives a job back untried (graceful shutdown): the attempt it was claimed with is not counted. */
export async function releaseJob(ex: Executor, claim: Claim, now: Date): Promise<boolean> {
  const res = await fenced(
    ex.updateTable('jobs').set((eb) => ({ status: 'pending', run_at: now, attempts: eb('attempts', '-', 1), locked_by: null, lock_expires_at: null })),
    claim,
  ).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function countByStatus(ex: Executor): Promise<{ status: string; n: number }[]> {
  return ex
    .selectFrom('jobs')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
}

export async function deleteDoneBefore(ex: Executor, olderThan: Date): Promise<number> {
  const res = await ex.deleteFrom('jobs').where('status', '=', 'done').where('finished_at', '<', olderThan).executeTakeFirst();
  return Number(res.numDeletedRows);
}

export interface NewSchedule {
  name: string;
  cron: string;
  jobName: string;
  payload: unknown;
  nextRunAt: Date;
}

/**
 * Every process declares its schedules at start-up, so an unchanged cron keeps its next_run_at:
 * recomputing it on each boot could skip a run that fell due during a restart.
 */
export async function upsertSchedule(ex: Executor, s: NewSchedule): Promise<void> {
  await ex
    .insertInto('job_schedules')
    .values({ name: s.name, cron: s.cron, job_name: s.jobName, payload_json: toJson(s.payload), next_run_at: s.nextRunAt, is_enabled: true })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet((eb) => ({
        next_run_at: sql<Date>`case when job_schedules.cron = excluded.cron then job_schedules.next_run_at else excluded.next_run_at end`,
        cron: eb.ref('excluded.cron'),
        job_name: eb.ref('excluded.job_name'),
        payload_json: eb.ref('excluded.payload_json'),
        is_enabled: eb.ref('excluded.is_enabled'),
      })),
    )
    .execute();
}

export async function findSchedule(ex: Executor, name: string): Promise<ScheduleRow | undefined> {
  return ex.selectFrom('job_schedules').selectAll().where('name', '=', name).executeTakeFirst();
}

/** Due schedules; inside a PostgreSQL transaction they stay locked so no other process takes them. */
export async function lockDueSchedules(ex: Executor, dialect: Db['dialect'], now: Date, limit: number): Promise<ScheduleRow[]> {
  return skipLocked(dialect, ex.selectFrom('job_schedules').selectAll().where('is_enabled', '=', true).where('next_run_at', '<=', now).orderBy('next_run_at').limit(limit)).execute();
}

/** Compare-and-set on next_run_at, so two processes ticking the same schedule advance it once. */
export async function advanceSchedule(ex: Executor, name: string, dueAt: Date, nextRunAt: Date, now: Date): Promise<boolean> {
  const res = await ex.updateTable('job_schedules').set({ next_run_at: nextRunAt, last_run_at: now }).where('name', '=', name).where('next_run_at', '=', dueAt).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
