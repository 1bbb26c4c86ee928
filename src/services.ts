import type { Config } from './config.js';
import { AuditService } from './platform/audit/audit.service.js';
import { AuthService } from './platform/auth/auth.service.js';
import type { Db } from './platform/db/database.js';
import { createEventBus, type EventBus } from './platform/events/index.js';
import { JobQueue } from './platform/jobs/index.js';
import { OrganisationService } from './platform/organisation/organisation.service.js';
import { EstateService } from './modules/estate/index.js';
import { StaffService } from './modules/staff/index.js';
import { TelemetryService } from './modules/telemetry/index.js';

export interface Logger {
  info: (...args: any[]) => void;
  warn: (...args: any[]) => void;
  error: (...args: any[]) => void;
}

/**
 * The composition root: every service, built once from the config and the database,
 * and handed to the app, the worker and the tests alike. Modules add themselves here.
 */
export interface Services {
  config: Readonly<Config>;
  db: Db;
  audit: AuditService;
  auth: AuthService;
  organisation: OrganisationService;
  staff: StaffService;
  estate: EstateService;
  telemetry: TelemetryService;
  jobs: JobQueue;
  events: EventBus;
  close(graceMs?: number): Promise<void>;
}

export async function createServices(config: Readonly<Config>, db: Db, log: Logger): Promise<Services> {
  const audit = new AuditService(db);
  const auth = new AuthService(db, config, audit);
  const organisation = new OrganisationService(db);
  await organisation.load();
  const staff = new StaffService(db, audit, config.secret);
  const jobs = new JobQueue(db, { concurrency: config.jobConcurrency, visibilitySeconds: config.jobVisibilitySeconds, log });
  const events = await createEventBus(db, log);
  const estate = new EstateService(db, audit, events, config.secret);
  const telemetry = new TelemetryService(db, estate, events, log);

  jobs.register('auth.purge_sessions', async () => {
    await auth.purgeExpiredSessions();
  });

  return {
    config,
    db,
    audit,
    auth,
    organisation,
    staff,
    estate,
    telemetry,
    jobs,
    events,
    async close(graceMs = 0) {
      await jobs.stop(graceMs);
      await telemetry.close();
      await estate.close();
      await events.close();
      await db.close();
    },
  };
}

/** Recurring platform jobs; idempotent, so every worker may call it at start. */
export async function scheduleRecurringJobs(services: Services): Promise<void> {
  await services.jobs.schedule('auth.purge_sessions', '17 * * * *', 'auth.purge_sessions', {});
}
