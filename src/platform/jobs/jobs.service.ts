import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CronExpressionParser } from 'cron-parser';
import pino from 'pino';
import type { Db, Executor } from '../db/database.js';
import { newId } from '../ids.js';
import * as repo from './jobs.repository.js';
import type { Claim, JobRow, JobStatus } from './jobs.repository.js';

export type { JobRow, JobStatus } from './jobs.repository.js';

export type JobHandler = (payload: any, job: JobRow) => Promise<void>;

export interface JobOptions {
  /** Attempts before the job goes to the dead letters (default 5). */
  maxAttempts?: number;
  /** The wait before the next attempt, given the attempts made so far; default: the queue's exponential back-off. */
  retryDelayMs?: (attempts: number) => number;
}

export interface EnqueueOptions {
  runAt?: Date;
  /** A second enqueue with the same key returns the first job instead of adding one. */
  idempotencyKey?: string;
  maxAttempts?: number;
  /** a transaction to enqueue in: the job exists only if the rest of it commits */
  executor?: Executor;
}

/** pino's, Fastify's or any logger with these methods; called pino-style as (object, message). */
export interface JobLog {
  info: (...args: any[]) => unknown;
  warn: (...args: any[]) => unknown;
  error: (...args: any[]) => unknown;
}

export interface JobQueueOptions {
  /** Written to jobs.locked_by; must differ between live workers. */
  workerId?: string;
  /** Jobs one queue runs at once. */
  concurrency?: number;
  /** How long a claimed job stays invisible to other workers without a heartbeat. */
  visibilitySeconds?: number;
  pollMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** How often the worker loop enqueues due schedules and recovers jobs whose lock expired (default 1000). */
  scheduleMs?: number;
  log?: JobLog;
}

export const SCHEDULE_TIME_ZONE = 'Europe/London';
const DEFAULT_MAX_ATTEMPTS = 5;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Exponential backoff with "equal jitter": half the delay is fixed so a retry never comes back
 * at once, the other half random so failed jobs from one outage do not all return together.
 */
export function backoffMs(attempts: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The next time a cron expression fires after `after`, in UK time; throws a plain Error if the expression is bad. */
export function nextCronTime(cron: string, after: Date): Date {
  const fields = cron.trim().split(/\s+/).filter(Boolean);
  // cron-parser fills in missing fields, so "* * * *" would silently mean something else.
  if (fields.length < 5 || fields.length > 6) {
    throw new Error(`The cron expression "${cron}" must have 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first.`);
  }
  try {
    return CronExpressionParser.parse(cron, { currentDate: after, tz: SCHEDULE_TIME_ZONE }).next().toDate();
  } catch (err) {
    throw new Error(`The cron expression "${cron}" is not valid: ${(err as Error).message}`);
  }
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  return text.slice(0, 4000);
}

interface InFlight {
  claim: Claim;
  promise: Promise<void>;
}

interface Registered {
  handler: JobHandler;
  maxAttempts?: number;
  retryDelayMs?: (attempts: number) => number;
}

/**
 * The durable job queue (see README.md). One instance is one worker: it enqueues from anywhere,
 * and runs jobs once start() is called.
 */
export class JobQueue {
  readonly workerId: string;
  private readonly concurrency: number;
  private readonly visibilityMs: number;
  private readonly pollMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly scheduleMs: number;
  private readonly log: JobLog;
  private readonly handlers = new Map<string, Registered>();
  private readonly running = new Map<string, InFlight>();
  private loop?: Promise<void>;
  private stopping = false;
  private woken = false;
  private wakeSleeper?: () => void;
  private heartbeat?: NodeJS.Timeout;
  private lastClaimFull = false;
  private lastScheduleTick = 0;

  constructor(
    private readonly db: Db,
    options: JobQueueOptions = {},
  ) {
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.concurrency = positive('concurrency', options.concurrency ?? 5);
    this.visibilityMs = positive('visibilitySeconds', options.visibilitySeconds ?? 60) * 1000;
    this.pollMs = positive('pollMs', options.pollMs ?? 250);
    this.backoffBaseMs = positive('backoffBaseMs', options.backoffBaseMs ?? 1000);
    this.backoffMaxMs = positive('backoffMaxMs', options.backoffMaxMs ?? 60 * 60 * 1000);
    this.scheduleMs = positive('scheduleMs', options.scheduleMs ?? 1000);
    this.log = options.log ?? pino({ name: 'jobs' });
  }

  register(name: string, handler: JobHandler, options: JobOptions = {}): void {
    if (this.handlers.has(name)) throw new Error(`A handler for job "${name}" is already registered.`);
    if (options.maxAttempts !== undefined) checkAttempts(options.maxAttempts);
    this.handlers.set(name, { handler, maxAttempts: options.maxAttempts, retryDelayMs: options.retryDelayMs });
  }

  async enqueue(name: string, payload: unknown, options: EnqueueOptions = {}): Promise<{ id: string; created: boolean }> {
    if (typeof name !== 'string' || name.trim() === '') throw new Error('A job needs a name.');
    if (options.runAt !== undefined && Number.isNaN(options.runAt.getTime?.())) throw new Error(`runAt for job "${name}" is not a valid date.`);
    const maxAttempts = checkAttempts(options.maxAttempts ?? this.handlers.get(name)?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
    const now = new Date();
    const job = { id: newId(now.getTime()), name, payload, runAt: options.runAt ?? now, maxAttempts, idempotencyKey: options.idempotencyKey, now };
    // Twice, because the job holding the key could be purged between our insert and our look-up.
    for (let i = 0; i < 2; i++) {
      const id = await repo.insertJob(options.executor ?? this.db.k, job);
      if (id) {
        if (job.runAt <= now) this.wake();
        return { id, created: true };
      }
      const existing = await repo.jobIdByKey(options.executor ?? this.db.k, options.idempotencyKey as string);
      if (existing) return { id: existing, created: false };
    }
    throw new Error(`Could not enqueue job "${name}" with idempotency key "${options.idempotencyKey}".`);
  }

  async schedule(name: string, cron: string, jobName: string, payload: unknown = null): Promise<void> {
    if (!name || !jobName) throw new Error('A schedule needs a name and a job name.');
    const nextRunAt = nextCronTime(cron, new Date());
    await repo.upsertSchedule(this.db.k, { name, cron: cron.trim(), jobName, payload, nextRunAt });
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.work();
  }

  /** Stops claiming, waits up to graceMs for running jobs, then hands the rest back to the queue untried. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    this.loop = undefined;
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.running.values()].map((r) => r.promise)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    const left = [...this.running.values()];
    // Forget them first: their handlers may still finish, and the fence makes those late writes no-ops.
    this.running.clear();
    this.stopHeartbeat();
    const now = new Date();
    for (const { claim } of left) {
      try {
        const released = await repo.releaseJob(this.db.k, claim, now);
        this.log.warn({ jobId: claim.id, released }, 'job still running at shutdown; released for another worker');
      } catch (err) {
        this.log.error({ jobId: claim.id, err }, 'could not release job at shutdown; it will run again when its lock expires');
      }
    }
  }

  /** Enqueues due schedules, then claims one batch and runs it to the end. Returns how many jobs ran. */
  async runOnce(): Promise<number> {
    await this.tick();
    const runs = await this.claim(Math.max(1, this.concurrency - this.running.size));
    await Promise.all(runs);
    return runs.length;
  }

  async depth(): Promise<Record<JobStatus, number>> {
    const out: Record<JobStatus, number> = { pending: 0, running: 0, done: 0, dead: 0 };
    for (const { status, n } of await repo.countByStatus(this.db.k)) out[status as JobStatus] = Number(n);
    return out;
  }

  async get(id: string): Promise<JobRow | undefined> {
    // PostgreSQL rejects a malformed uuid with an error; a malformed id is simply not found.
    if (!UUID.test(id)) return undefined;
    return repo.findJob(this.db.k, id);
  }

  /** Retention: deletes finished jobs older than the date. Dead jobs stay until someone looks at them. */
  async purge(olderThan: Date): Promise<number> {
    return repo.deleteDoneBefore(this.db.k, olderThan);
  }

  /**
   * Enqueues every schedule due at `now` and advances it. The idempotency key makes a second
   * process's enqueue of the same due time a no-op; on PostgreSQL SKIP LOCKED also keeps processes
   * off each other's schedules. Returns how many jobs it added.
   */
  async runSchedules(now: Date = new Date()): Promise<number> {
    const added = this.db.dialect === 'postgres' ? await this.db.transaction((trx) => this.enqueueDue(trx, now)) : await this.enqueueDue(this.db.k, now);
    if (added > 0) this.wake();
    return added;
  }

  private async enqueueDue(ex: Executor, now: Date): Promise<number> {
    let added = 0;
    for (const s of await repo.lockDueSchedules(ex, this.db.dialect, now, 100)) {
      try {
        const next = nextCronTime(s.cron, s.next_run_at > now ? s.next_run_at : now);
        const id = await repo.insertJob(ex, {
          id: newId(),
          name: s.job_name,
          payload: s.payload_json,
          runAt: s.next_run_at,
          maxAttempts: this.handlers.get(s.job_name)?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          idempotencyKey: `schedule:${s.name}:${s.next_run_at.toISOString()}`,
          now,
        });
        if (id) added++;
        await repo.advanceSchedule(ex, s.name, s.next_run_at, next, now);
      } catch (err) {
        this.log.error({ schedule: s.name, err }, 'could not run schedule');
      }
    }
    return added;
  }

  /** Housekeeping the worker loop does every scheduleMs: due schedules, and jobs whose worker went away. */
  private async tick(): Promise<void> {
    this.lastScheduleTick = Date.now();
    await this.runSchedules();
    const now = new Date();
    const buried = await repo.buryExpired(this.db.k, now);
    if (buried > 0) this.log.warn({ buried }, 'jobs whose lock expired on their last attempt moved to the dead letters');
    const requeued = await repo.requeueExpired(this.db.k, now);
    if (requeued > 0) this.log.warn({ requeued }, 'jobs whose lock expired were put back in the queue');
  }

  private async work(): Promise<void> {
    while (!this.stopping) {
      this.woken = false;
      // True only when a claim just filled every slot we offered: there is probably more work.
      let more = false;
      try {
        if (Date.now() - this.lastScheduleTick >= this.scheduleMs) await this.tick();
        const capacity = this.concurrency - this.running.size;
        // Claiming in batches once half the slots are free costs one statement per batch, not per job.
        if (!this.stopping && capacity > 0 && (this.running.size === 0 || capacity * 2 >= this.concurrency)) {
          more = (await this.claim(capacity)).length === capacity && this.running.size < this.concurrency;
        }
      } catch (err) {
        this.log.error({ err }, 'job worker could not reach the database; retrying');
        // At most one error line a second while the database is away.
        await this.sleep(Math.max(this.pollMs, 1000));
        continue;
      }
      // Jobs finishing wake the sleep while there is a backlog, so a busy worker does not wait for the poll.
      if (!more) await this.sleep(this.pollMs);
    }
  }

  /** Claims up to `limit` jobs and starts them; the promises settle when each job's outcome is recorded. */
  private async claim(limit: number): Promise<Promise<void>[]> {
    const now = Date.now();
    const jobs = await repo.claimJobs(this.db, this.workerId, limit, new Date(now), new Date(now + this.visibilityMs));
    this.lastClaimFull = jobs.length === limit;
    const runs: Promise<void>[] = [];
    for (const job of jobs) {
      const claim: Claim = { id: job.id, worker: this.workerId, attempts: job.attempts };
      const inFlight: InFlight = { claim, promise: Promise.resolve() };
      this.running.set(job.id, inFlight);
      inFlight.promise = this.execute(job, claim).finally(() => {
        if (this.running.get(job.id) === inFlight) this.running.delete(job.id);
        if (this.running.size === 0) this.stopHeartbeat();
        if (this.lastClaimFull) this.wake();
      });
      runs.push(inFlight.promise);
    }
    if (jobs.length > 0) this.startHeartbeat();
    return runs;
  }

  private async execute(job: JobRow, claim: Claim): Promise<void> {
    const ctx = { jobId: job.id, job: job.name, attempt: job.attempts, maxAttempts: job.max_attempts };
    try {
      const registered = this.handlers.get(job.name);
      if (!registered) {
        const error = `No handler is registered for job "${job.name}"; it was moved to the dead letters without running.`;
        await repo.buryJob(this.db.k, claim, new Date(), error);
        this.log.error(ctx, error);
        return;
      }
      let failure: unknown;
      let failed = false;
      try {
        await registered.handler(job.payload_json, job);
      } catch (err) {
        failed = true;
        failure = err;
      }
      const now = new Date();
      let fenced: boolean;
      if (!failed) {
        fenced = await repo.completeJob(this.db.k, claim, now);
      } else if (job.attempts >= job.max_attempts) {
        fenced = await repo.buryJob(this.db.k, claim, now, errorText(failure));
        this.log.error({ ...ctx, err: failure }, 'job failed on its last attempt; moved to the dead letters');
      } else {
        const runAt = new Date(now.getTime() + (registered.retryDelayMs?.(job.attempts) ?? backoffMs(job.attempts, this.backoffBaseMs, this.backoffMaxMs)));
        fenced = await repo.retryJob(this.db.k, claim, runAt, errorText(failure));
        this.log.warn({ ...ctx, err: failure, retryAt: runAt.toISOString() }, 'job failed; will retry');
      }
      if (!fenced && this.running.get(job.id)?.claim === claim) {
        this.log.warn(ctx, 'job lost its lock before it finished (released, or expired and taken by another worker); result not recorded');
      }
    } catch (err) {
      // The lock will expire and another worker will run the job again.
      this.log.error({ ...ctx, err }, 'could not record the result of a job');
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => void this.beat(), Math.max(50, Math.floor(this.visibilityMs / 3)));
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private async beat(): Promise<void> {
    const ids = [...this.running.keys()];
    if (ids.length === 0) return;
    try {
      const extended = await repo.extendLocks(this.db.k, this.workerId, ids, new Date(Date.now() + this.visibilityMs));
      if (extended < ids.length) this.log.warn({ expected: ids.length, extended }, 'some running jobs could not extend their locks');
    } catch (err) {
      this.log.error({ err }, 'could not extend job locks');
    }
  }

  /** Looks for due jobs now, not at the next poll (after a job was queued in a transaction that has committed). */
  wake(): void {
    this.woken = true;
    this.wakeSleeper?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleeper = done;
    });
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`JobQueue option ${name} must be a positive number, not ${value}.`);
  return value;
}

function checkAttempts(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`maxAttempts must be a whole number of at least 1, not ${n}.`);
  return n;
}
