import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import { type Actor, systemActor } from '../../platform/auth/actor.js';
import type { Db } from '../../platform/db/database.js';
import { isUniqueViolation, toJson } from '../../platform/db/dialect.js';
import type { FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import type { Logger } from '../../services.js';
import type { TeamView } from '../requests/index.js';
import type { StaffService } from '../staff/index.js';
import { type AlarmsService, openKeyOf } from './alarms.service.js';
import { escalationErrors } from './escalation.errors.js';
import { EscalationRepository } from './escalation.repository.js';
import type { PolicyInput } from './escalation.schema.js';
import { policyRow } from './escalation.service.js';
import { LoneWorkerRepository, type LoneWorkerVisitsTable } from './lone-worker.repository.js';
import { VISIT_MINUTES, type VisitStart, type VisitView } from './lone-worker.schema.js';
import type { RulesRepository, RulesTable } from './rules.repository.js';
import type { RuleCreate, RuleView } from './rules.schema.js';
import type { RulesService } from './rules.service.js';

/** A visit's deadline (its end plus the grace): raises the alarm unless the worker has checked out. */
export const VISIT_DEADLINE_JOB = 'rules.visit_deadline';
export const DEFAULT_GRACE_MINUTES = 10;
const SETUP_KEY = 'lone_worker_rule';
const MINUTE = 60_000;

/** The built-in policy for missed check-outs: the team's on-call person at once (a text), then all of the team. */
export const LONE_WORKER_POLICY: PolicyInput = {
  name: 'Lone-worker visits',
  description: 'Made by Weft for missed check-outs: the person on call for the worker’s team at once, then all of the team after 10 minutes; repeated every 5 minutes until someone acknowledges.',
  steps: [
    { afterMinutes: 0, notify: { alarmTeam: 'on_call' }, channel: 'sms' },
    { afterMinutes: 10, notify: { alarmTeam: 'all' }, channel: 'email' },
  ],
  repeatMinutes: 5,
};

export function loneWorkerRule(policyId: string): RuleCreate {
  return {
    name: 'Lone-worker visit not checked out',
    description: 'Made by Weft: raised to the worker’s team when a lone worker misses their check-out. Change its grace, severity or escalation policy like any rule.',
    scope: {},
    condition: { type: 'lone_worker', graceMinutes: DEFAULT_GRACE_MINUTES },
    severity: 'critical',
    actions: [],
    escalationPolicyId: policyId,
  };
}

export interface LoneWorkerDeps {
  db: Db;
  rules: Pick<RulesService, 'get'>;
  rulesRepo: RulesRepository;
  alarms: Pick<AlarmsService, 'raise' | 'clearByRule'>;
  audit: AuditService;
  jobs: JobQueue;
  staff: Pick<StaffService, 'getUser'>;
  teams: () => Promise<TeamView[]>;
  log: Logger;
  now?: () => Date;
}

const CLOCK = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
export const londonClock = (d: Date) => CLOCK.format(d);

/**
 * Lone-worker safety: a care worker starts a visit (where, how long, their team); a durable job
 * waits for its deadline (the expected end plus the rule's grace) and, if they have not checked
 * out, raises an alarm to their team through the built-in "Lone-worker visit not checked out"
 * rule (condition `lone_worker`, made once with its escalation policy), which escalates until
 * someone acknowledges. Checking out afterwards clears the alarm.
 */
export class LoneWorkerService {
  readonly repo: LoneWorkerRepository;
  private readonly setupRepo: EscalationRepository;
  private readonly now: () => Date;

  constructor(private readonly deps: LoneWorkerDeps) {
    this.repo = new LoneWorkerRepository(deps.db);
    this.setupRepo = new EscalationRepository(deps.db);
    this.now = deps.now ?? (() => new Date());
  }

  async start(actor: Actor, input: VisitStart, origin: Origin = {}, now = this.now()): Promise<VisitView> {
    const userId = this.worker(actor);
    await this.check(input);
    const rule = await this.rule();
    const grace = (rule?.condition.type === 'lone_worker' ? rule.condition.graceMinutes : undefined) ?? DEFAULT_GRACE_MINUTES;
    const due = new Date(now.getTime() + input.expectedMinutes * MINUTE);
    const row: LoneWorkerVisitsTable = {
      id: newId(now.getTime()),
      user_id: userId,
      team_id: input.teamId,
      place: input.place.trim(),
      expected_minutes: input.expectedMinutes,
      started_at: now,
      due_at: due,
      deadline_at: new Date(due.getTime() + grace * MINUTE),
      checked_out_at: null,
      alarm_id: null,
    };
    try {
      await this.deps.db.transaction(async (trx) => {
        await this.repo.insert(trx, row);
        await this.deps.jobs.enqueue(VISIT_DEADLINE_JOB, { visitId: row.id }, { runAt: row.deadline_at, idempotencyKey: `visit-deadline:${row.id}`, executor: trx });
        await this.deps.audit.record({ actor, action: 'visits.start', summary: `Visit started: ${row.place}, ${row.expected_minutes} minutes`, targetType: 'visit', targetId: row.id, ...origin }, trx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw escalationErrors.VISIT_IN_PROGRESS();
      throw err;
    }
    return this.view(row, now);
  }

  /** "I'm safe": the visit ends; an alarm raised for it is cleared. */
  async checkOut(actor: Actor, id: string, origin: Origin = {}, now = this.now()): Promise<VisitView> {
    const visit = await this.own(actor, id);
    if (visit.checked_out_at) throw escalationErrors.VISIT_CHECKED_OUT();
    await this.deps.db.transaction(async (trx) => {
      if (!(await this.repo.checkOut(trx, id, now))) throw escalationErrors.VISIT_CHECKED_OUT();
      await this.deps.audit.record({ actor, action: 'visits.check_out', summary: `Checked out: ${visit.place}`, targetType: 'visit', targetId: id, ...origin }, trx);
    });
    const after = (await this.repo.find(id)) as LoneWorkerVisitsTable;
    if (after.alarm_id) await this.clearAlarm(after, `${await this.nameOf(visit.user_id)} checked out at ${londonClock(now)}: safe.`);
    return this.view(after, now);
  }

  async get(actor: Actor, id: string, now = this.now()): Promise<VisitView> {
    return this.view(await this.own(actor, id), now);
  }

  /** The worker's open visit, if any, and their recent ones. */
  async mine(actor: Actor, limit = 10, now = this.now()): Promise<{ open: VisitView | null; recent: VisitView[] }> {
    const userId = this.worker(actor);
    const rows = await this.repo.recentOf(userId, limit);
    const open = await this.repo.openOf(userId);
    const teams = await this.teamNames();
    return { open: open ? this.viewWith(open, teams, now) : null, recent: rows.map((r) => this.viewWith(r, teams, now)) };
  }

  /** The deadline job: raises the alarm for a visit not checked out by its deadline. */
  async checkDeadline(visitId: string, now = this.now()): Promise<void> {
    const visit = await this.repo.find(visitId);
    if (!visit || visit.checked_out_at || visit.alarm_id) return;
    if (visit.deadline_at > now) {
      // Run early (another process's clock): wait for the deadline again.
      await this.deps.jobs.enqueue(VISIT_DEADLINE_JOB, { visitId }, { runAt: visit.deadline_at, idempotencyKey: `visit-deadline:${visitId}:${now.getTime()}` });
      return;
    }
    const rule = await this.rule();
    if (!rule) {
      this.deps.log.warn({ visit: visitId }, 'rules: a lone worker missed their check-out, but the lone-worker rule is disabled: no alarm raised');
      return;
    }
    const name = await this.nameOf(visit.user_id);
    const raised = await this.deps.alarms.raise({
      rule: { ...rule, teamId: visit.team_id },
      subjectType: 'visit',
      subjectId: visit.id,
      subjectName: `${name}: ${visit.place}`,
      readingAt: visit.deadline_at,
      message: `${name} has not checked out of a visit to ${visit.place}. It was due to end at ${londonClock(visit.due_at)}.`,
      at: now,
    });
    const alarmId = raised?.id ?? (await this.deps.rulesRepo.findOpen(openKeyOf(rule.id, visit.id)))?.id;
    if (!alarmId) return;
    // Checked out while the alarm was raised: it is cleared at once.
    if (!(await this.repo.setAlarm(visit.id, alarmId))) await this.clearAlarm({ ...visit, alarm_id: alarmId }, `${name} checked out: safe.`);
  }

  /** The built-in rule, when enabled; made once (with its policy) on first use. */
  async rule(): Promise<RuleView | undefined> {
    const id = (await this.setupRepo.setup(SETUP_KEY)) ?? (await this.makeRule());
    const rule = await this.deps.rules.get(id).catch(() => undefined);
    return rule?.enabled ? rule : undefined;
  }

  private async makeRule(): Promise<string> {
    const actor = systemActor('weft lone-worker visits');
    const now = this.now();
    try {
      await this.deps.db.transaction(async (trx) => {
        let policy = await this.setupRepo.findPolicyByName(LONE_WORKER_POLICY.name, trx);
        if (!policy) {
          policy = policyRow(newId(now.getTime()), LONE_WORKER_POLICY, now, now);
          await this.setupRepo.insertPolicy(trx, policy);
        }
        const input = loneWorkerRule(policy.id);
        const rule = ruleRow(newId(now.getTime()), input, now);
        await this.deps.rulesRepo.insertRule(trx, rule, { rule_id: rule.id, version: 1, body_json: toJson(input), actor_type: actor.type, actor_id: null, created_at: now });
        await this.setupRepo.recordSetup(trx, SETUP_KEY, rule.id, now);
        await this.deps.audit.record({ actor, action: 'rules.create', summary: `Rule created: ${input.name}`, targetType: 'rule', targetId: rule.id }, trx);
      });
    } catch (err) {
      // Another process made it first.
      if (!isUniqueViolation(err)) throw err;
    }
    const id = await this.setupRepo.setup(SETUP_KEY);
    if (!id) throw new Error('rules: the lone-worker rule could not be made');
    return id;
  }

  private async clearAlarm(visit: LoneWorkerVisitsTable, note: string): Promise<void> {
    const alarm = visit.alarm_id ? await this.deps.rulesRepo.findAlarm(visit.alarm_id) : undefined;
    if (alarm && alarm.status !== 'cleared') await this.deps.alarms.clearByRule(alarm.rule_id, visit.id, note);
  }

  private async nameOf(userId: string): Promise<string> {
    return (await this.deps.staff.getUser(userId).catch(() => undefined))?.name ?? 'A lone worker';
  }

  private worker(actor: Actor): string {
    if (actor.type !== 'user' || !actor.id) throw escalationErrors.VISITS_STAFF_ONLY();
    return actor.id;
  }

  private async own(actor: Actor, id: string): Promise<LoneWorkerVisitsTable> {
    const userId = this.worker(actor);
    const visit = await this.repo.find(id);
    if (!visit || visit.user_id !== userId) throw escalationErrors.VISIT_NOT_FOUND();
    return visit;
  }

  private async check(input: VisitStart): Promise<void> {
    const errors: FieldError[] = [];
    const place = input.place.trim();
    if (!place) errors.push({ field: 'place', message: 'Enter where the visit is' });
    else if (place.length > 200) errors.push({ field: 'place', message: 'Enter where the visit is in 200 characters or fewer' });
    if (!Number.isInteger(input.expectedMinutes) || input.expectedMinutes < VISIT_MINUTES.min || input.expectedMinutes > VISIT_MINUTES.max)
      errors.push({ field: 'expectedMinutes', message: `Enter how long the visit should take, from ${VISIT_MINUTES.min} to ${VISIT_MINUTES.max} minutes` });
    if (!(await this.teamNames()).has(input.teamId)) errors.push({ field: 'teamId', message: 'Choose your team' });
    if (errors.length) throw escalationErrors.VISIT_INVALID(undefined, errors);
  }

  private async view(row: LoneWorkerVisitsTable, now: Date): Promise<VisitView> {
    return this.viewWith(row, await this.teamNames(), now);
  }

  private viewWith(r: LoneWorkerVisitsTable, teams: Map<string, string>, now: Date): VisitView {
    const status = r.checked_out_at ? 'checked_out' : r.alarm_id ? 'alarm' : now > r.due_at ? 'overdue' : 'on_visit';
    return {
      id: r.id,
      userId: r.user_id,
      teamId: r.team_id,
      teamName: teams.get(r.team_id) ?? null,
      place: r.place,
      expectedMinutes: r.expected_minutes,
      startedAt: r.started_at,
      dueAt: r.due_at,
      deadlineAt: r.deadline_at,
      checkedOutAt: r.checked_out_at,
      alarmId: r.alarm_id,
      status,
    };
  }

  async teamNames(): Promise<Map<string, string>> {
    return new Map((await this.deps.teams()).map((t) => [t.id, t.name]));
  }
}

function ruleRow(id: string, input: RuleCreate, now: Date): RulesTable {
  return {
    id,
    name: input.name,
    description: input.description ?? '',
    version: 1,
    is_enabled: true,
    condition_type: input.condition.type,
    scope_json: toJson(input.scope),
    condition_json: toJson(input.condition),
    severity: input.severity,
    actions_json: toJson(input.actions ?? []),
    team_id: null,
    escalation_policy_id: input.escalationPolicyId ?? null,
    created_at: now,
    updated_at: now,
    deleted_at: null,
  };
}
