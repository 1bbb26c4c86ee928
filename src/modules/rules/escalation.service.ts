import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import type { Actor } from '../../platform/auth/actor.js';
import type { Db, Executor } from '../../platform/db/database.js';
import { isUniqueViolation, toJson } from '../../platform/db/dialect.js';
import type { FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import type { Logger } from '../../services.js';
import type { TeamView } from '../requests/index.js';
import type { StaffService } from '../staff/index.js';
import type { AlarmsService } from './alarms.service.js';
import { escalationErrors } from './escalation.errors.js';
import { type EscalationPoliciesTable, EscalationRepository, type OncallShiftsTable } from './escalation.repository.js';
import type { EscalationStep, PolicyInput, PolicyView, RotaInput, RotaView, ShiftView, StepTarget } from './escalation.schema.js';
import type { AlarmsTable, RulesRepository } from './rules.repository.js';
import type { StaffAlerts, StaffTarget } from './staff-alerts.js';

/** Every minute: alarms whose next escalation step is due. */
export const ESCALATE_JOB = 'rules.escalate';
/** One step's messages, queued in the transaction that records the step. */
export const ESCALATION_SEND_JOB = 'rules.escalation_send';
export const DEFAULT_REPEAT_MINUTES = 5;
const MINUTE = 60_000;
const BATCH = 100;
const MAX_SHIFT_MS = 31 * 24 * 60 * MINUTE;
const UK_MOBILE = /^(?:\+44|0044|0)7\d{9}$/;

export interface EscalationDeps {
  db: Db;
  rulesRepo: RulesRepository;
  alarms: Pick<AlarmsService, 'noteEscalation'>;
  audit: AuditService;
  jobs: JobQueue;
  staffAlerts: StaffAlerts;
  staff: Pick<StaffService, 'getUser'>;
  teams: () => Promise<TeamView[]>;
  log: Logger;
  /** the clock: tests move it */
  now?: () => Date;
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;
const stepsOf = (p: EscalationPoliciesTable) => json<EscalationStep[]>(p.steps_json);
const LONDON_CLOCK = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

function policyView(p: EscalationPoliciesTable): PolicyView {
  return { id: p.id, name: p.name, description: p.description, steps: stepsOf(p), repeatMinutes: p.repeat_minutes, createdAt: p.created_at, updatedAt: p.updated_at };
}

/** The people a step names, for an alarm of a team. */
export function stepTarget(t: StepTarget, alarmTeam: string | null): StaffTarget | undefined {
  if (t.userId) return { kind: 'user', userId: t.userId };
  if (t.teamId) return { kind: 'team', teamId: t.teamId };
  if (t.onCall) return { kind: 'on_call', teamId: t.onCall };
  if (t.alarmTeam && alarmTeam) return { kind: t.alarmTeam === 'all' ? 'team' : 'on_call', teamId: alarmTeam };
  return undefined;
}

/**
 * Escalation: when an alarm with a policy is raised, its first step is recorded in the raising
 * transaction (sent by a durable job) and the next one's time set; a job every minute takes the
 * alarms whose time has come (locked, so two workers never take one step twice) and runs their
 * next step. A critical alarm's last step repeats every `repeatMinutes` until a person
 * acknowledges (acknowledging clears `next_escalation_at`). On-call rotas say who a team's
 * "on call" is at each moment.
 */
export class EscalationService {
  readonly repo: EscalationRepository;
  private readonly now: () => Date;

  constructor(private readonly deps: EscalationDeps) {
    this.repo = new EscalationRepository(deps.db);
    this.now = deps.now ?? (() => new Date());
  }

  // ---------------------------------------------------------------- alarms

  /** AlarmsService's raise hook: runs in the raising transaction, so use only `trx`. */
  async onRaised(trx: Executor, alarm: AlarmsTable): Promise<void> {
    if (!alarm.escalation_policy_id) return;
    const policy = await this.repo.findPolicy(alarm.escalation_policy_id, trx);
    if (!policy) return;
    const first = stepsOf(policy)[0];
    if (first.afterMinutes === 0) return this.take(trx, alarm, policy, alarm.raised_at);
    const due = new Date(alarm.raised_at.getTime() + first.afterMinutes * MINUTE);
    await this.deps.rulesRepo.updateAlarm(trx, alarm.id, { next_escalation_at: due });
    // The raise returns this row: keep it true to what is stored.
    alarm.next_escalation_at = due;
  }

  /** The job's work: the next step of every alarm due by `now`, each taken by one worker only. */
  async runDue(now = this.now()): Promise<number> {
    const seen = new Set<string>();
    for (;;) {
      const { due, fresh } = await this.deps.db.transaction(async (trx) => {
        const rows = await this.deps.rulesRepo.dueEscalations(trx, now, BATCH);
        const todo = rows.filter((a) => !seen.has(a.id));
        for (const alarm of todo) {
          seen.add(alarm.id);
          await this.advance(trx, alarm, now);
        }
        return { due: rows.length, fresh: todo.length };
      });
      if (due < BATCH || fresh === 0) break;
    }
    if (seen.size) this.deps.jobs.wake();
    return seen.size;
  }

  private async advance(trx: Executor, alarm: AlarmsTable, now: Date): Promise<void> {
    const policy = alarm.escalation_policy_id ? await this.repo.findPolicy(alarm.escalation_policy_id, trx) : undefined;
    const over = policy && alarm.escalation_step >= stepsOf(policy).length && alarm.severity !== 'critical';
    if (!policy || over) {
      await this.deps.rulesRepo.updateAlarm(trx, alarm.id, { next_escalation_at: null });
      return;
    }
    await this.take(trx, alarm, policy, now);
  }

  /** Records the alarm's next step and queues its messages, in the caller's transaction. */
  private async take(trx: Executor, alarm: AlarmsTable, policy: EscalationPoliciesTable, now: Date): Promise<void> {
    const steps = stepsOf(policy);
    const run = alarm.escalation_step + 1;
    const next = nextStepAt(policy, alarm, run, now);
    const which = run > steps.length ? `Step ${steps.length} of ${steps.length} again (critical, not acknowledged)` : `Step ${run} of ${steps.length}`;
    const note = `${which}: ${steps[Math.min(run, steps.length) - 1].channel === 'sms' ? 'texts' : 'emails'} sent${next ? `; the next step at ${LONDON_CLOCK.format(next)} unless acknowledged` : '; the last step'}.`;
    await this.deps.alarms.noteEscalation(trx, alarm, run, next, note);
    await this.deps.jobs.enqueue(ESCALATION_SEND_JOB, { alarmId: alarm.id, run }, { idempotencyKey: `alarm-escalation:${alarm.id}:${run}`, executor: trx });
    alarm.escalation_step = run;
    alarm.next_escalation_at = next;
  }

  /** The send job: a step's messages, unless a person acknowledged (or cleared) the alarm meanwhile. */
  async send(payload: { alarmId: string; run: number }): Promise<void> {
    const alarm = await this.deps.rulesRepo.findAlarm(payload.alarmId);
    if (alarm?.status !== 'active' || !alarm.escalation_policy_id) return;
    const policy = await this.repo.findPolicy(alarm.escalation_policy_id);
    if (!policy) return;
    const steps = stepsOf(policy);
    const index = Math.min(payload.run, steps.length) - 1;
    const step = steps[index];
    const target = stepTarget(step.notify, alarm.team_id);
    const now = this.now();
    const found = target ? await this.deps.staffAlerts.resolve(target, now) : { recipients: [], missing: 'the alarm has no team' };
    const why =
      payload.run > steps.length
        ? `Still not acknowledged: escalation step ${steps.length} of ${steps.length} again.`
        : step.afterMinutes === 0
          ? ''
          : `Not acknowledged within ${step.afterMinutes} minutes: escalation step ${index + 1} of ${steps.length}.`;
    const told = await this.deps.staffAlerts.send(alarm, found.recipients, step.channel, why);
    const note = told.length ? `Told ${told.join(', ')}.` : `Told nobody: ${found.missing ?? 'no one could be reached'}.`;
    await this.deps.rulesRepo.insertEvent(this.deps.db.k, { id: newId(), alarm_id: alarm.id, kind: 'notified', actor_type: 'system', actor_id: null, note, created_at: now });
  }

  // ---------------------------------------------------------------- policies

  async listPolicies(): Promise<PolicyView[]> {
    return (await this.repo.listPolicies()).map(policyView);
  }

  async getPolicy(id: string): Promise<PolicyView> {
    const row = await this.repo.findPolicy(id);
    if (!row) throw escalationErrors.ESCALATION_POLICY_NOT_FOUND();
    return policyView(row);
  }

  async createPolicy(actor: Actor, input: PolicyInput, origin: Origin = {}): Promise<PolicyView> {
    await this.checkPolicy(input);
    const now = this.now();
    const row = policyRow(newId(now.getTime()), input, now, now);
    await this.savePolicy(async (trx) => {
      await this.repo.insertPolicy(trx, row);
      await this.deps.audit.record(
        { actor, action: 'rules.escalation_policy_create', summary: `Escalation policy created: ${row.name}`, targetType: 'escalation_policy', targetId: row.id, ...origin },
        trx,
      );
    });
    return policyView(row);
  }

  async updatePolicy(actor: Actor, id: string, input: PolicyInput, origin: Origin = {}): Promise<PolicyView> {
    const before = await this.getPolicy(id);
    await this.checkPolicy(input);
    const row = policyRow(id, input, before.createdAt, this.now());
    await this.savePolicy(async (trx) => {
      await this.repo.updatePolicy(trx, row);
      await this.deps.audit.record(
        { actor, action: 'rules.escalation_policy_update', summary: `Escalation policy changed: ${row.name}`, targetType: 'escalation_policy', targetId: id, ...origin },
        trx,
      );
    });
    return policyView(row);
  }

  /** Refused while rules use it: their alarms would stop escalating without anyone deciding so. */
  async deletePolicy(actor: Actor, id: string, origin: Origin = {}): Promise<void> {
    const policy = await this.getPolicy(id);
    await this.deps.db.transaction(async (trx) => {
      const users = await this.repo.rulesUsing(trx, id);
      if (users.length) throw escalationErrors.ESCALATION_POLICY_IN_USE(`Rules use this escalation policy (${users.slice(0, 5).join(', ')}). Give them another policy (or none) first.`);
      await this.repo.deletePolicy(trx, id);
      await this.deps.audit.record(
        { actor, action: 'rules.escalation_policy_delete', summary: `Escalation policy deleted: ${policy.name}`, targetType: 'escalation_policy', targetId: id, ...origin },
        trx,
      );
    });
  }

  private async savePolicy(write: (trx: Executor) => Promise<void>): Promise<void> {
    try {
      await this.deps.db.transaction(write);
    } catch (err) {
      if (isUniqueViolation(err)) throw escalationErrors.ESCALATION_POLICY_NAME_TAKEN();
      throw err;
    }
  }

  private async checkPolicy(input: PolicyInput): Promise<void> {
    const errors: FieldError[] = [];
    const teams = new Set((await this.deps.teams()).map((t) => t.id));
    if (!input.name.trim()) errors.push({ field: 'name', message: 'Enter a name' });
    for (const [i, step] of input.steps.entries()) {
      const field = `steps.${i}`;
      const named = (['teamId', 'userId', 'onCall', 'alarmTeam'] as const).filter((k) => step.notify[k] !== undefined);
      if (named.length !== 1) errors.push({ field: `${field}.notify`, message: 'Name exactly one of teamId, userId, onCall or alarmTeam' });
      if (i > 0 && step.afterMinutes <= input.steps[i - 1].afterMinutes) errors.push({ field: `${field}.afterMinutes`, message: 'Each step must come later than the one before it' });
      for (const team of [step.notify.teamId, step.notify.onCall]) if (team && !teams.has(team)) errors.push({ field: `${field}.notify`, message: `There is no team ${team}` });
      if (step.notify.userId && !(await this.activeUser(step.notify.userId))) errors.push({ field: `${field}.notify.userId`, message: 'There is no active member of staff with that id' });
    }
    if (errors.length) throw escalationErrors.ESCALATION_POLICY_INVALID(undefined, errors);
  }

  private async activeUser(id: string) {
    const user = await this.deps.staff.getUser(id).catch(() => undefined);
    return user?.is_active ? user : undefined;
  }

  // ---------------------------------------------------------------- on-call rotas

  async listRotas(reveal: boolean): Promise<RotaView[]> {
    const now = this.now();
    const rotas = await this.repo.listRotas();
    const shifts = await this.repo.shiftsEndingAfter(now);
    const names = await this.teamNames();
    const views = await Promise.all(rotas.map((r) => this.rotaView(r.team_id, r.updated_at, shifts, names, reveal, now)));
    return views.sort((a, b) => (a.teamName ?? '').localeCompare(b.teamName ?? ''));
  }

  async getRota(teamId: string, reveal: boolean): Promise<RotaView> {
    const rota = await this.repo.findRota(teamId);
    if (!rota) throw escalationErrors.ONCALL_ROTA_NOT_FOUND();
    const now = this.now();
    return this.rotaView(teamId, rota.updated_at, await this.repo.shiftsEndingAfter(now, [teamId]), await this.teamNames(), reveal, now);
  }

  /** Replaces a team's rota with these shifts (none: an empty rota). Shifts may not overlap. */
  async putRota(actor: Actor, teamId: string, input: RotaInput, origin: Origin = {}): Promise<RotaView> {
    const shifts = await this.checkRota(teamId, input);
    const now = this.now();
    await this.deps.db.transaction(async (trx) => {
      await this.repo.replaceRota(trx, teamId, shifts, now);
      await this.deps.audit.record({ actor, action: 'rules.oncall_update', summary: `On-call rota set: ${shifts.length} shifts`, targetType: 'oncall_rota', targetId: teamId, ...origin }, trx);
    });
    return this.getRota(teamId, true);
  }

  async deleteRota(actor: Actor, teamId: string, origin: Origin = {}): Promise<void> {
    await this.deps.db.transaction(async (trx) => {
      if (!(await this.repo.deleteRota(trx, teamId))) throw escalationErrors.ONCALL_ROTA_NOT_FOUND();
      await this.deps.audit.record({ actor, action: 'rules.oncall_delete', summary: 'On-call rota deleted', targetType: 'oncall_rota', targetId: teamId, ...origin }, trx);
    });
  }

  private async checkRota(teamId: string, input: RotaInput): Promise<OncallShiftsTable[]> {
    const errors: FieldError[] = [];
    if (!(await this.teamNames()).has(teamId)) errors.push({ field: 'teamId', message: `There is no team ${teamId}` });
    const shifts: OncallShiftsTable[] = [];
    for (const [i, s] of input.shifts.entries()) {
      const field = `shifts.${i}`;
      const starts = new Date(s.startsAt);
      const ends = new Date(s.endsAt);
      if (ends <= starts) errors.push({ field: `${field}.endsAt`, message: 'A shift must end after it starts' });
      else if (ends.getTime() - starts.getTime() > MAX_SHIFT_MS) errors.push({ field: `${field}.endsAt`, message: 'A shift can be 31 days long at most' });
      const phone = s.phone?.replace(/[\s()-]/g, '') || null;
      if (phone && !UK_MOBILE.test(phone)) errors.push({ field: `${field}.phone`, message: 'Enter a UK mobile number, like 07700 900123' });
      if (!(await this.activeUser(s.userId))) errors.push({ field: `${field}.userId`, message: 'There is no active member of staff with that id' });
      shifts.push({ id: newId(), team_id: teamId, user_id: s.userId, phone, starts_at: starts, ends_at: ends });
    }
    const sorted = [...shifts.entries()].sort(([, a], [, b]) => a.starts_at.getTime() - b.starts_at.getTime());
    for (let k = 1; k < sorted.length; k++)
      if (sorted[k][1].starts_at < sorted[k - 1][1].ends_at) errors.push({ field: `shifts.${sorted[k][0]}.startsAt`, message: 'Shifts may not overlap: one person is on call at a time' });
    if (errors.length) throw escalationErrors.ONCALL_ROTA_INVALID(undefined, errors);
    return shifts;
  }

  private async rotaView(teamId: string, updatedAt: Date, shifts: OncallShiftsTable[], teams: Map<string, string>, reveal: boolean, now: Date): Promise<RotaView> {
    const mine = await Promise.all(shifts.filter((s) => s.team_id === teamId).map((s) => this.shiftView(s, reveal)));
    const onCallNow = mine.find((s) => s.startsAt <= now && s.endsAt > now) ?? null;
    return { teamId, teamName: teams.get(teamId) ?? null, onCallNow, shifts: mine, updatedAt };
  }

  private async shiftView(s: OncallShiftsTable, reveal: boolean): Promise<ShiftView> {
    const user = await this.deps.staff.getUser(s.user_id).catch(() => undefined);
    return { id: s.id, userId: s.user_id, userName: user?.name ?? null, startsAt: s.starts_at, endsAt: s.ends_at, hasPhone: !!s.phone, ...(reveal ? { phone: s.phone } : {}) };
  }

  private async teamNames(): Promise<Map<string, string>> {
    return new Map((await this.deps.teams()).map((t) => [t.id, t.name]));
  }
}

/** When the step after run number `run` is due: the policy's next step, or for a critical alarm the last one again. */
export function nextStepAt(policy: EscalationPoliciesTable, alarm: Pick<AlarmsTable, 'raised_at' | 'severity'>, run: number, now: Date): Date | null {
  const steps = stepsOf(policy);
  if (run < steps.length) return new Date(alarm.raised_at.getTime() + steps[run].afterMinutes * MINUTE);
  return alarm.severity === 'critical' ? new Date(now.getTime() + policy.repeat_minutes * MINUTE) : null;
}

export function policyRow(id: string, input: PolicyInput, createdAt: Date, now: Date): EscalationPoliciesTable {
  return {
    id,
    name: input.name.trim(),
    description: input.description?.trim() ?? '',
    steps_json: toJson(input.steps),
    repeat_minutes: input.repeatMinutes ?? DEFAULT_REPEAT_MINUTES,
    created_at: createdAt,
    updated_at: now,
  };
}
