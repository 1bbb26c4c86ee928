import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import type { Actor } from '../../platform/auth/actor.js';
import type { Db, Executor } from '../../platform/db/database.js';
import type { EventBus } from '../../platform/events/index.js';
import { newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import { rulesErrors } from './rules.errors.js';
import type { AlarmEventsTable, AlarmSearch, AlarmsTable, RulesRepository } from './rules.repository.js';
import type { AlarmEventView, AlarmQuery, AlarmStatus, AlarmView, RuleView, Severity, SubjectType } from './rules.schema.js';

export const ALARM_CHANGED = 'alarm.changed';
export const ALARM_ACTION_JOB = 'rules.action';

/** What the bus carries for every change of an alarm (the board's live updates, other processes' open keys). */
export interface AlarmChanged {
  id: string;
  kind: string;
  status: AlarmStatus;
  severity: Severity;
  openKey: string | null;
  /** the key the alarm held while open, so listeners can forget it once cleared */
  key: string;
}

export interface Raise {
  rule: RuleView;
  subjectType: SubjectType;
  subjectId: string;
  subjectName: string | null;
  deviceId?: string | null;
  siteId?: string | null;
  areaId?: string | null;
  metric?: string | null;
  value?: number | null;
  readingAt?: Date | null;
  severity?: Severity;
  message: string;
  at: Date;
}

/**
 * Work to do in the transaction that raises an alarm, after it is stored: the escalation module
 * sets the first step's time; nothing here knows about it.
 */
export type RaiseHook = (trx: Executor, alarm: AlarmsTable, rule: RuleView) => Promise<void>;

export const openKeyOf = (ruleId: string, subjectId: string) => `${ruleId}|${subjectId}`;

export function alarmView(r: AlarmsTable): AlarmView {
  return {
    id: r.id,
    ruleId: r.rule_id,
    ruleVersion: r.rule_version,
    ruleName: r.rule_name,
    subjectType: r.subject_type as SubjectType,
    subjectId: r.subject_id,
    subjectName: r.subject_name,
    deviceId: r.device_id,
    siteId: r.site_id,
    areaId: r.area_id,
    metric: r.metric,
    value: r.value,
    readingAt: r.reading_at,
    severity: r.severity as Severity,
    status: r.status as AlarmStatus,
    message: r.message,
    teamId: r.team_id,
    assigneeId: r.assignee_id,
    raisedAt: r.raised_at,
    acknowledgedAt: r.acknowledged_at,
    clearedAt: r.cleared_at,
    escalationStep: r.escalation_step,
    nextEscalationAt: r.next_escalation_at,
  };
}

const eventView = (e: AlarmEventsTable): AlarmEventView => ({ id: e.id, alarmId: e.alarm_id, kind: e.kind, actorType: e.actor_type, actorId: e.actor_id, note: e.note, at: e.created_at });

/**
 * Alarms: raised once per rule and subject while open (the database's unique `open_key` makes
 * that true across processes), acknowledged, assigned, commented on and cleared by people, or
 * cleared by the rule when its condition clears. Every change is a history row; people's are audited.
 */
export class AlarmsService {
  private readonly raiseHooks: RaiseHook[] = [];

  constructor(
    private readonly db: Db,
    private readonly repo: RulesRepository,
    private readonly audit: AuditService,
    private readonly events: EventBus,
    private readonly jobs: JobQueue,
    private readonly now: () => Date = () => new Date(),
  ) {}

  onRaise(hook: RaiseHook): void {
    this.raiseHooks.push(hook);
  }

  /** Raises an alarm; undefined when one is already open for the rule and subject. */
  async raise(input: Raise): Promise<AlarmView | undefined> {
    const { rule } = input;
    const openKey = openKeyOf(rule.id, input.subjectId);
    const row: AlarmsTable = {
      id: newId(input.at.getTime()),
      rule_id: rule.id,
      rule_version: rule.version,
      rule_name: rule.name,
      condition_type: rule.condition.type,
      subject_type: input.subjectType,
      subject_id: input.subjectId,
      subject_name: input.subjectName,
      device_id: input.deviceId ?? null,
      site_id: input.siteId ?? null,
      area_id: input.areaId ?? null,
      metric: input.metric ?? null,
      value: input.value ?? null,
      reading_at: input.readingAt ?? null,
      severity: input.severity ?? rule.severity,
      status: 'active',
      message: input.message,
      team_id: rule.teamId,
      assignee_id: null,
      open_key: openKey,
      escalation_policy_id: rule.escalationPolicyId,
      escalation_step: 0,
      next_escalation_at: null,
      raised_at: this.now(),
      acknowledged_at: null,
      cleared_at: null,
      updated_at: this.now(),
    };
    const raised = await this.db.transaction(async (trx) => {
      if (!(await this.repo.insertAlarm(trx, row))) return false;
      await this.repo.insertEvent(trx, this.event(row.id, 'raised', { type: 'system', id: rule.id }, input.message));
      for (let i = 0; i < rule.actions.length; i++) await this.jobs.enqueue(ALARM_ACTION_JOB, { alarmId: row.id, index: i }, { idempotencyKey: `alarm-action:${row.id}:${i}`, executor: trx });
      for (const hook of this.raiseHooks) await hook(trx, row, rule);
      return true;
    });
    if (!raised) return undefined;
    if (rule.actions.length) this.jobs.wake();
    await this.changed(row, 'raised', openKey);
    return alarmView(row);
  }

  /** The rule's condition has cleared: the open alarm for the subject, if any, is cleared. */
  async clearByRule(ruleId: string, subjectId: string, note: string): Promise<AlarmView | undefined> {
    const open = await this.repo.findOpen(openKeyOf(ruleId, subjectId));
    if (!open) return undefined;
    return this.close(open.id, { type: 'system', id: ruleId }, note);
  }

  async get(id: string): Promise<{ alarm: AlarmView; history: AlarmEventView[] }> {
    const row = await this.repo.findAlarm(id);
    if (!row) throw rulesErrors.ALARM_NOT_FOUND();
    return { alarm: alarmView(row), history: (await this.repo.events(id)).map(eventView) };
  }

  async list(q: AlarmQuery): Promise<AlarmView[]> {
    const statuses = q.status === 'open' ? ['active', 'acknowledged'] : q.status ? [q.status] : undefined;
    const search: AlarmSearch = { statuses, severity: q.severity, teamId: q.team, areaId: q.area, conditionType: q.type, ruleId: q.rule, limit: q.limit ?? 100 };
    return (await this.repo.listAlarms(search)).map(alarmView);
  }

  acknowledge(actor: Actor, id: string, note: string | undefined, origin: Origin = {}): Promise<AlarmView> {
    return this.change(actor, id, 'acknowledged', note, origin, (row) => {
      if (row.status !== 'active') throw rulesErrors.ALARM_STATE_INVALID('Only an active alarm can be acknowledged.');
      return { status: 'acknowledged', acknowledged_at: this.now(), next_escalation_at: null };
    });
  }

  assign(actor: Actor, id: string, assigneeId: string | null, note: string | undefined, origin: Origin = {}): Promise<AlarmView> {
    return this.change(actor, id, 'assigned', note ?? (assigneeId ? `Assigned to ${assigneeId}` : 'Unassigned'), origin, (row) => {
      if (row.status === 'cleared') throw rulesErrors.ALARM_STATE_INVALID('A cleared alarm cannot be assigned.');
      return { assignee_id: assigneeId };
    });
  }

  comment(actor: Actor, id: string, note: string | undefined, origin: Origin = {}): Promise<AlarmView> {
    if (!note?.trim()) throw rulesErrors.ALARM_NOTE_REQUIRED();
    return this.change(actor, id, 'comment', note, origin, () => ({}));
  }

  clear(actor: Actor, id: string, note: string | undefined, origin: Origin = {}): Promise<AlarmView> {
    return this.change(actor, id, 'cleared', note, origin, (row) => {
      if (row.status === 'cleared') throw rulesErrors.ALARM_STATE_INVALID('The alarm is already cleared.');
      return { status: 'cleared', cleared_at: this.now(), open_key: null, next_escalation_at: null };
    });
  }

  /** Records an escalation step taken (by the escalation job), in its transaction. */
  async noteEscalation(trx: Executor, row: AlarmsTable, step: number, next: Date | null, note: string): Promise<void> {
    await this.repo.updateAlarm(trx, row.id, { escalation_step: step, next_escalation_at: next, updated_at: this.now() });
    await this.repo.insertEvent(trx, this.event(row.id, 'escalated', { type: 'system', id: null }, note));
  }

  private async close(id: string, by: { type: string; id: string | null }, note: string): Promise<AlarmView | undefined> {
    const row = await this.db.transaction(async (trx) => {
      const r = await this.repo.lockAlarm(trx, id);
      if (!r || r.status === 'cleared') return undefined;
      const set = { status: 'cleared', cleared_at: this.now(), open_key: null, next_escalation_at: null, updated_at: this.now() };
      await this.repo.updateAlarm(trx, id, set);
      await this.repo.insertEvent(trx, this.event(id, 'cleared', by, note));
      return { ...r, ...set };
    });
    if (!row) return undefined;
    await this.changed(row, 'cleared', openKeyOf(row.rule_id, row.subject_id));
    return alarmView(row);
  }

  private async change(actor: Actor, id: string, kind: string, note: string | undefined, origin: Origin, apply: (row: AlarmsTable) => Partial<AlarmsTable>): Promise<AlarmView> {
    const row = await this.db.transaction(async (trx) => {
      const r = await this.repo.lockAlarm(trx, id);
      if (!r) throw rulesErrors.ALARM_NOT_FOUND();
      const set = { ...apply(r), updated_at: this.now() };
      await this.repo.updateAlarm(trx, id, set);
      await this.repo.insertEvent(trx, this.event(id, kind, { type: actor.type, id: actor.id }, note?.trim() || null));
      await this.audit.record(
        {
          actor,
          action: `alarms.${kind === 'comment' ? 'comment' : kind.replace(/ed$/, '')}`,
          summary: `${r.rule_name} (${r.subject_name ?? r.subject_id}): ${kind}`,
          targetType: 'alarm',
          targetId: id,
          ...origin,
        },
        trx,
      );
      return { ...r, ...set };
    });
    await this.changed(row, kind, openKeyOf(row.rule_id, row.subject_id));
    return alarmView(row);
  }

  private event(alarmId: string, kind: string, by: { type: string; id: string | null }, note: string | null): AlarmEventsTable {
    return { id: newId(), alarm_id: alarmId, kind, actor_type: by.type, actor_id: by.id, note, created_at: this.now() };
  }

  private async changed(row: AlarmsTable, kind: string, key: string): Promise<void> {
    const payload: AlarmChanged = { id: row.id, kind, status: row.status as AlarmStatus, severity: row.severity as Severity, openKey: row.open_key, key };
    await this.events.emit(ALARM_CHANGED, payload);
  }
}
