import type { Config } from './config.js';
import { AuditService } from './platform/audit/audit.service.js';
import { AuthService } from './platform/auth/auth.service.js';
import type { Db } from './platform/db/database.js';
import { createEventBus, type EventBus } from './platform/events/index.js';
import { JobQueue } from './platform/jobs/index.js';
import { OrganisationService } from './platform/organisation/organisation.service.js';
import { ContextService } from './modules/context/index.js';
import { DevPayService } from './modules/devpay/index.js';
import { EstateService } from './modules/estate/index.js';
import { LorawanService } from './modules/lorawan/index.js';
import {
  Callbacks,
  Campaigns,
  Delivery,
  FALLBACK_JOB,
  InboundCallbacks,
  MessagingService,
  NotifySending,
  PAY_RECONCILE_JOB,
  Payments,
  PrintBatches,
  ReceiptsService,
  ResidentSending,
} from './modules/messaging/index.js';
import { PortalService } from './modules/portal/index.js';
import { PortalResidentData } from './modules/portal/resident-data.js';
import { RequestsService } from './modules/requests/index.js';
import { ResidentsService } from './modules/residents/index.js';
import { type AlarmActions, alarmResponses, ESCALATE_JOB, type EscalationService, type LoneWorkerService, RulesService, SILENCE_JOB } from './modules/rules/index.js';
import { SchoolsService } from './modules/schools/index.js';
import { LibrariesService } from './modules/libraries/index.js';
import { ParkingService } from './modules/parking/index.js';
import { REMINDERS_JOB, WasteService } from './modules/waste/index.js';
import { StaffService } from './modules/staff/index.js';
import { TelemetryService } from './modules/telemetry/index.js';
import { RELEASE_JOB as HUBS_RELEASE_JOB, WorkforceService } from './modules/workforce/index.js';
import { InsightService } from './modules/insight/index.js';

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
  context: ContextService;
  lorawan: LorawanService;
  messaging: MessagingService;
  notify: NotifySending;
  delivery: Delivery;
  receipts: ReceiptsService;
  campaigns: Campaigns;
  residents: ResidentsService;
  rules: RulesService;
  alarmActions: AlarmActions;
  escalation: EscalationService;
  loneWorker: LoneWorkerService;
  schools: SchoolsService;
  libraries: LibrariesService;
  waste: WasteService;
  residentSending: ResidentSending;
  requests: RequestsService;
  portal: PortalService;
  print: PrintBatches;
  payments: Payments;
  parking: ParkingService;
  workforce: WorkforceService;
  insight: InsightService;
  /** the development GOV.UK Pay, only with WEFT_DEV_PAY=true (development and the demo) */
  devPay?: DevPayService;
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
  const estate = new EstateService(db, audit, events, config.secret, { jobs, log });
  const telemetry = new TelemetryService(db, estate, events, log);
  const context = new ContextService(db, audit, estate, telemetry);
  const lorawan = new LorawanService(db, audit, events, estate, telemetry, config.secret);
  const messaging = new MessagingService(db, audit, events, config.secret);
  const notify = new NotifySending(messaging);
  const delivery = new Delivery(messaging, messaging.repo, config.secret, log);
  messaging.onQueued = () => delivery.wake();
  const print = new PrintBatches(messaging, db, audit, jobs, config.dataDir, log);
  messaging.onChanged = () => {
    delivery.reloadProviders();
    print.providersChanged();
  };
  // Registers the delivery-status callback job.
  new Callbacks(messaging, jobs, config.secret, log);
  const residents = new ResidentsService(db, audit, estate);
  // Consent to a topic withdrawn (or erasure): the resident's messages it covered still waiting are cancelled, in the same transaction.
  residents.onConsentEnded((ended, trx) => messaging.residentConsentEnded(ended, trx));
  const residentSending = new ResidentSending(messaging, residents, notify);
  const requests = new RequestsService({ db, audit, events, estate, residents, messaging, residentSending, jobs, log, publicUrl: config.publicUrl });
  // A status change calls for a callback (services that asked) and, for a resident, their next channel:
  // both durable jobs, queued in the transaction that records the status where delivery records it.
  messaging.statusContext = async () => ({ withCallback: await messaging.servicesWithCallback() });
  messaging.statusJobs = (changes, context) => [...Callbacks.jobsFor(changes, context.withCallback), ...ResidentSending.jobsFor(changes)];
  messaging.queueStatusJobs = async (list, executor) => {
    for (const j of list) await jobs.enqueue(j.name, j.payload, { idempotencyKey: j.key, executor });
    if (executor && list.length) setImmediate(() => jobs.wake());
  };
  jobs.register(FALLBACK_JOB, (p: { id: string; serviceId: string }) => residentSending.fallback(p));
  const receipts = new ReceiptsService(messaging, db, audit, config.secret, config.publicUrl, log);
  const inboundCallbacks = new InboundCallbacks(messaging, jobs, config.secret, log);
  receipts.onTextsReceived = (texts) => inboundCallbacks.received(texts);
  const campaigns = new Campaigns(db, audit, messaging, jobs, residents);
  const schools = new SchoolsService(db, audit, jobs, estate, messaging, campaigns);
  const libraries = new LibrariesService(db, audit, residents, messaging, residentSending);
  const waste = new WasteService(db, audit, jobs, estate, messaging, campaigns);
  const portal = new PortalService(db, audit, residents, messaging, config, log);
  jobs.register('portal.purge', async () => {
    await portal.purge();
  });
  const payments = new Payments(db, audit, messaging, notify, config.secret, config.publicUrl, log);
  delivery.trackLinks = (id, html) => payments.trackHtml(id, html);
  const parking = new ParkingService(db, audit, jobs, messaging, payments);
  const insight = new InsightService(estate);
  const workforce = new WorkforceService({ db, audit, jobs, estate, messaging, notify, staff, publicUrl: config.publicUrl, log });
  const devPay = config.devPay ? new DevPayService(db, config.secret, config.publicUrl, log) : undefined;
  // Subject access and erasure reach every module holding residents' data through the residents service.
  const portalData = new PortalResidentData(db);
  residents.registerHolder(
    { name: 'messaging', export: (r) => messaging.exportResident(r), erase: (r) => messaging.forgetResident(r), history: (r, n) => messaging.residentHistory(r, n) },
    { name: 'requests', export: (r) => requests.exportResident(r), erase: (r) => requests.forgetResident(r), history: (r, n) => requests.residentHistory(r, n) },
    { name: 'libraries', export: (r) => libraries.exportResident(r), erase: (r) => libraries.forgetResident(r) },
    { name: 'portal', export: (r) => portalData.exportResident(r), erase: (r) => portalData.forgetResident(r) },
    { name: 'parking', export: (r) => parking.exportResident(r), erase: (r) => parking.forgetResident(r) },
  );
  jobs.register('messaging.poll_receipts', async () => {
    await receipts.pollReceipts();
  });
  jobs.register(PAY_RECONCILE_JOB, async () => {
    await payments.reconcile();
  });

  const rules = new RulesService({ db, audit, events, estate, telemetry, jobs, log });
  jobs.register(SILENCE_JOB, async () => {
    await rules.checkSilence();
  });
  // Alarms' actions, escalation and lone-worker visits: their jobs and the raise hook are wired there.
  const { alarmActions, escalation, loneWorker } = alarmResponses({ db, audit, jobs, rules, estate, messaging, notify, campaigns, requests, staff, config, log });

  jobs.register('auth.purge_sessions', async () => {
    await auth.purgeExpiredSessions();
  });
  jobs.register('telemetry.retention', async () => {
    await telemetry.applyRetention();
  });
  jobs.register('telemetry.partitions', async () => {
    await telemetry.preparePartitions();
  });
  jobs.register('estate.device_health', async () => {
    await estate.checkHealth();
  });
  jobs.register('estate.import', async (payload: { importId: string }, job) => {
    await estate.runImport(payload.importId, { lastAttempt: job.attempts >= job.max_attempts });
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
    context,
    lorawan,
    messaging,
    notify,
    delivery,
    receipts,
    campaigns,
    residents,
    rules,
    alarmActions,
    escalation,
    loneWorker,
    schools,
    libraries,
    waste,
    residentSending,
    requests,
    portal,
    print,
    payments,
    parking,
    workforce,
    insight,
    devPay,
    jobs,
    events,
    async close(graceMs = 0) {
      await delivery.stop();
      await jobs.stop(graceMs);
      messaging.close();
      lorawan.close();
      await rules.stop();
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
  // Residents' expired sessions, and sign-in requests (with the contact points they name) after a day.
  await services.jobs.schedule('portal.purge', '19 * * * *', 'portal.purge', {});
  await services.jobs.schedule('telemetry.retention', '23 3 * * *', 'telemetry.retention', {});
  if (services.db.dialect === 'postgres') await services.jobs.schedule('telemetry.partitions', '7 */6 * * *', 'telemetry.partitions', {});
  await services.jobs.schedule('estate.device_health', '* * * * *', 'estate.device_health', {});
  // Rules' "no data" conditions: devices silent for too long.
  await services.jobs.schedule(SILENCE_JOB, '* * * * *', SILENCE_JOB, {});
  // Alarms' escalation steps that have come due (unacknowledged).
  await services.jobs.schedule(ESCALATE_JOB, '* * * * *', ESCALATE_JOB, {});
  // Pay links: ask GOV.UK Pay about payments in progress whose webhook has not come.
  await services.jobs.schedule(PAY_RECONCILE_JOB, '*/5 * * * *', PAY_RECONCILE_JOB, {});
  // Relayed messages whose receipts never came (Notify sends none for letters): asked about every 10 minutes.
  await services.jobs.schedule('messaging.poll_receipts', '*/10 * * * *', 'messaging.poll_receipts', {});
  // The daily letter print batch: one schedule per print provider, at its cron (15:30 UK time by default).
  await services.print.schedule();
  // Bin collection reminders: at 5pm UK time, to the residents of every round collecting tomorrow.
  await services.jobs.schedule(REMINDERS_JOB, '0 17 * * *', REMINDERS_JOB, null);
  // Hub bookings not checked in within their hub's grace period: released every minute.
  await services.jobs.schedule(HUBS_RELEASE_JOB, '* * * * *', HUBS_RELEASE_JOB, null);
}
