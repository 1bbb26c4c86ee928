import type { Config } from '../../config.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import type { Logger } from '../../services.js';
import type { EstateService } from '../estate/index.js';
import type { Campaigns, MessagingService, NotifySending } from '../messaging/index.js';
import type { RequestsService } from '../requests/index.js';
import type { StaffService } from '../staff/index.js';
import { AlarmActions, WEBHOOK_ATTEMPTS } from './actions.js';
import { ALARM_ACTION_JOB } from './alarms.service.js';
import { ESCALATE_JOB, ESCALATION_SEND_JOB, EscalationService } from './escalation.service.js';
import { LoneWorkerService, VISIT_DEADLINE_JOB } from './lone-worker.service.js';
import type { RulesService } from './rules.service.js';
import { StaffAlerts } from './staff-alerts.js';

export interface ResponsesDeps {
  db: Db;
  audit: AuditService;
  jobs: JobQueue;
  rules: RulesService;
  estate: EstateService;
  messaging: MessagingService;
  notify: NotifySending;
  campaigns: Campaigns;
  requests: RequestsService;
  staff: StaffService;
  config: Pick<Config, 'secret' | 'publicUrl'>;
  log: Logger;
}

/**
 * What follows an alarm, built and wired once for the composition root: rules' actions (the
 * `rules.action` job), escalation (the raise hook, the every-minute `rules.escalate` job and its
 * send job) and lone-worker visits (the deadline job).
 */
export function alarmResponses(deps: ResponsesDeps) {
  const { db, audit, jobs, rules, staff, log } = deps;
  const teams = () => deps.requests.listTeams();
  const staffAlerts = new StaffAlerts({ db, messaging: deps.messaging, notify: deps.notify, staff, teams, publicUrl: deps.config.publicUrl, log });
  const alarmActions = new AlarmActions({ db, rulesRepo: rules.repo, audit, estate: deps.estate, campaigns: deps.campaigns, requests: deps.requests, staffAlerts, secret: deps.config.secret, log });
  const escalation = new EscalationService({ db, rulesRepo: rules.repo, alarms: rules.alarms, audit, jobs, staffAlerts, staff, teams, log });
  const loneWorker = new LoneWorkerService({ db, rules, rulesRepo: rules.repo, alarms: rules.alarms, audit, jobs, staff, teams, log });

  rules.alarms.onRaise((trx, alarm) => escalation.onRaised(trx, alarm));
  jobs.register(ALARM_ACTION_JOB, (p: { alarmId: string; index: number }, job) => alarmActions.run(p, job.attempts, job.max_attempts), { maxAttempts: WEBHOOK_ATTEMPTS });
  jobs.register(ESCALATE_JOB, async () => {
    await escalation.runDue();
  });
  jobs.register(ESCALATION_SEND_JOB, (p: { alarmId: string; run: number }) => escalation.send(p), { maxAttempts: 5 });
  jobs.register(VISIT_DEADLINE_JOB, (p: { visitId: string }) => loneWorker.checkDeadline(p.visitId), { maxAttempts: 10 });
  return { staffAlerts, alarmActions, escalation, loneWorker };
}
