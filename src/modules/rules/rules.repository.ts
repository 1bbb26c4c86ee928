import type { Db, Executor } from '../../platform/db/database.js';
import { isUniqueViolation } from '../../platform/db/dialect.js';

export interface RulesTable {
  id: string;
  name: string;
  description: string;
  version: number;
  is_enabled: boolean;
  condition_type: string;
  scope_json: unknown;
  condition_json: unknown;
  severity: string;
  actions_json: unknown;
  team_id: string | null;
  escalation_policy_id: string | null;
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
}

export interface RuleVersionsTable {
  rule_id: string;
  version: number;
  body_json: unknown;
  actor_type: string;
  actor_id: string | null;
  created_at: Date;
}

export interface RuleStateTable {
  rule_id: string;
  subject_id: string;
  phase: string;
  since_at: Date;
  updated_at: Date;
}

export interface AlarmsTable {
  id: string;
  rule_id: string;
  rule_version: number;
  rule_name: string;
  condition_type: string;
  subject_type: string;
  subject_id: string;
  subject_name: string | null;
  device_id: string | null;
  site_id: string | null;
  area_id: string | null;
  metric: string | null;
  value: number | null;
  reading_at: Date | null;
  severity: string;
  status: string;
  message: string;
  team_id: string | null;
  assignee_id: string | null;
  open_key: string | null;
  escalation_policy_id: string | null;
  escalation_step: number;
  next_escalation_at: Date | null;
  raised_at: Date;
  acknowledged_at: Date | null;
  cleared_at: Date | null;
  updated_at: Date;
}

export interface AlarmEventsTable {
  id: string;
  alarm_id: string;
  kind: string;
  actor_type: string;
  actor_id: string | null;
  note: string | null;
  created_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    rules: RulesTable;
    rule_versions: RuleVersionsTable;
    rule_state: RuleStateTable;
    alarms: AlarmsTable;
    alarm_events: AlarmEventsTable;
  }
}

export interface AlarmSearch {
  statuses?: string[];
  severity?: string;
  teamId?: string;
  areaId?: string;
  conditionType?: string;
  ruleId?: string;
  limit: number;
}

/** The rules module's SQL: rules and versions, per-subject state, alarms and their history. */
export class RulesRepository {
  constructor(private readonly db: Db) {}

  // ---------------------------------------------------------------- rules

  listRules(options: { includeDisabled?: boolean } = {}): Promise<RulesTable[]> {
    let q = this.db.k.selectFrom('rules').selectAll().where('deleted_at', 'is', null);
    if (!options.includeDisabled) q = q.where('is_enabled', '=', true);
    return q.orderBy('name').orderBy('id').execute();
  }

  findRule(id: string, ex: Executor = this.db.k): Promise<RulesTable | undefined> {
    return ex.selectFrom('rules').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  }

  async insertRule(ex: Executor, row: RulesTable, version: RuleVersionsTable): Promise<void> {
    await ex.insertInto('rules').values(row).execute();
    await ex.insertInto('rule_versions').values(version).execute();
  }

  async updateRule(ex: Executor, row: RulesTable, version: RuleVersionsTable | null): Promise<void> {
    const { id, created_at: _, ...rest } = row;
    await ex.updateTable('rules').set(rest).where('id', '=', id).execute();
    if (version) await ex.insertInto('rule_versions').values(version).execute();
  }

  versions(ruleId: string): Promise<RuleVersionsTable[]> {
    return this.db.k.selectFrom('rule_versions').selectAll().where('rule_id', '=', ruleId).orderBy('version', 'desc').execute();
  }

  // ---------------------------------------------------------------- state

  allState(): Promise<RuleStateTable[]> {
    return this.db.k.selectFrom('rule_state').selectAll().execute();
  }

  async saveState(row: RuleStateTable): Promise<void> {
    await this.db.k
      .insertInto('rule_state')
      .values(row)
      .onConflict((oc) => oc.columns(['rule_id', 'subject_id']).doUpdateSet({ phase: row.phase, since_at: row.since_at, updated_at: row.updated_at }))
      .execute();
  }

  async dropState(ruleId: string, subjectId?: string): Promise<void> {
    let q = this.db.k.deleteFrom('rule_state').where('rule_id', '=', ruleId);
    if (subjectId !== undefined) q = q.where('subject_id', '=', subjectId);
    await q.execute();
  }

  // ---------------------------------------------------------------- alarms

  /** Inserts an alarm unless one is open for its rule and subject; false when one is. */
  async insertAlarm(ex: Executor, row: AlarmsTable): Promise<boolean> {
    const res = await ex
      .insertInto('alarms')
      .values(row)
      .onConflict((oc) => oc.column('open_key').doNothing())
      .executeTakeFirst()
      .catch((err) => {
        if (isUniqueViolation(err)) return { numInsertedOrUpdatedRows: 0n };
        throw err;
      });
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  findAlarm(id: string, ex: Executor = this.db.k): Promise<AlarmsTable | undefined> {
    return ex.selectFrom('alarms').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The alarm, locked for a change (PostgreSQL; SQLite's one writer serialises anyway). */
  lockAlarm(ex: Executor, id: string): Promise<AlarmsTable | undefined> {
    let q = ex.selectFrom('alarms').selectAll().where('id', '=', id);
    if (this.db.dialect === 'postgres') q = q.forUpdate();
    return q.executeTakeFirst();
  }

  findOpen(openKey: string, ex: Executor = this.db.k): Promise<AlarmsTable | undefined> {
    return ex.selectFrom('alarms').selectAll().where('open_key', '=', openKey).executeTakeFirst();
  }

  openKeys(): Promise<{ open_key: string | null }[]> {
    return this.db.k.selectFrom('alarms').select('open_key').where('open_key', 'is not', null).execute();
  }

  async updateAlarm(ex: Executor, id: string, set: Partial<AlarmsTable>): Promise<void> {
    await ex.updateTable('alarms').set(set).where('id', '=', id).execute();
  }

  async insertEvent(ex: Executor, row: AlarmEventsTable): Promise<void> {
    await ex.insertInto('alarm_events').values(row).execute();
  }

  events(alarmId: string): Promise<AlarmEventsTable[]> {
    return this.db.k.selectFrom('alarm_events').selectAll().where('alarm_id', '=', alarmId).orderBy('created_at').orderBy('id').execute();
  }

  listAlarms(s: AlarmSearch): Promise<AlarmsTable[]> {
    let q = this.db.k.selectFrom('alarms').selectAll();
    if (s.statuses?.length) q = q.where('status', 'in', s.statuses);
    if (s.severity) q = q.where('severity', '=', s.severity);
    if (s.teamId) q = q.where('team_id', '=', s.teamId);
    if (s.areaId) q = q.where('area_id', '=', s.areaId);
    if (s.conditionType) q = q.where('condition_type', '=', s.conditionType);
    if (s.ruleId) q = q.where('rule_id', '=', s.ruleId);
    return q.orderBy('raised_at', 'desc').orderBy('id', 'desc').limit(s.limit).execute();
  }

  /** Open alarms whose next escalation step is due, locked so one worker takes each. */
  dueEscalations(ex: Executor, now: Date, limit: number): Promise<AlarmsTable[]> {
    let q = ex.selectFrom('alarms').selectAll().where('next_escalation_at', '<=', now).where('status', '=', 'active').orderBy('next_escalation_at').limit(limit);
    if (this.db.dialect === 'postgres') q = q.forUpdate().skipLocked();
    return q.execute();
  }
}
