import type { Db, Executor } from '../../platform/db/database.js';

export interface EscalationPoliciesTable {
  id: string;
  name: string;
  description: string;
  steps_json: unknown;
  repeat_minutes: number;
  created_at: Date;
  updated_at: Date;
}

export interface OncallRotasTable {
  team_id: string;
  created_at: Date;
  updated_at: Date;
}

export interface OncallShiftsTable {
  id: string;
  team_id: string;
  user_id: string;
  phone: string | null;
  starts_at: Date;
  ends_at: Date;
}

export interface AlarmSetupTable {
  name: string;
  ref: string;
  created_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    escalation_policies: EscalationPoliciesTable;
    oncall_rotas: OncallRotasTable;
    oncall_shifts: OncallShiftsTable;
    alarm_setup: AlarmSetupTable;
  }
}

/** Escalation policies, on-call rotas and their shifts, and what the module made for itself once. */
export class EscalationRepository {
  constructor(private readonly db: Db) {}

  // ---------------------------------------------------------------- policies

  listPolicies(): Promise<EscalationPoliciesTable[]> {
    return this.db.k.selectFrom('escalation_policies').selectAll().orderBy('name').execute();
  }

  findPolicy(id: string, ex: Executor = this.db.k): Promise<EscalationPoliciesTable | undefined> {
    return ex.selectFrom('escalation_policies').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findPolicyByName(name: string, ex: Executor = this.db.k): Promise<EscalationPoliciesTable | undefined> {
    return ex.selectFrom('escalation_policies').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async insertPolicy(ex: Executor, row: EscalationPoliciesTable): Promise<void> {
    await ex.insertInto('escalation_policies').values(row).execute();
  }

  async updatePolicy(ex: Executor, row: EscalationPoliciesTable): Promise<void> {
    const { id, created_at: _, ...rest } = row;
    await ex.updateTable('escalation_policies').set(rest).where('id', '=', id).execute();
  }

  async deletePolicy(ex: Executor, id: string): Promise<void> {
    await ex.deleteFrom('escalation_policies').where('id', '=', id).execute();
  }

  /** Names of the rules (not deleted) that use a policy. */
  async rulesUsing(ex: Executor, policyId: string): Promise<string[]> {
    const rows = await ex.selectFrom('rules').select('name').where('escalation_policy_id', '=', policyId).where('deleted_at', 'is', null).execute();
    return rows.map((r) => r.name);
  }

  // ---------------------------------------------------------------- on-call rotas

  listRotas(): Promise<OncallRotasTable[]> {
    return this.db.k.selectFrom('oncall_rotas').selectAll().orderBy('team_id').execute();
  }

  findRota(teamId: string): Promise<OncallRotasTable | undefined> {
    return this.db.k.selectFrom('oncall_rotas').selectAll().where('team_id', '=', teamId).executeTakeFirst();
  }

  /** Shifts of the given teams (all when none given) that end after `after`, soonest first. */
  shiftsEndingAfter(after: Date, teamIds?: string[]): Promise<OncallShiftsTable[]> {
    let q = this.db.k.selectFrom('oncall_shifts').selectAll().where('ends_at', '>', after);
    if (teamIds) q = q.where('team_id', 'in', teamIds.length ? teamIds : ['']);
    return q.orderBy('starts_at').orderBy('id').execute();
  }

  /** The shift of a team that holds at `at` (the one that started last, should two overlap). */
  shiftAt(teamId: string, at: Date): Promise<OncallShiftsTable | undefined> {
    return this.db.k.selectFrom('oncall_shifts').selectAll().where('team_id', '=', teamId).where('starts_at', '<=', at).where('ends_at', '>', at).orderBy('starts_at', 'desc').executeTakeFirst();
  }

  /** A member of staff's shift holding at `at`, in any team (for their on-call mobile). */
  shiftOfUserAt(userId: string, at: Date): Promise<OncallShiftsTable | undefined> {
    return this.db.k.selectFrom('oncall_shifts').selectAll().where('user_id', '=', userId).where('starts_at', '<=', at).where('ends_at', '>', at).orderBy('starts_at', 'desc').executeTakeFirst();
  }

  /** Replaces a team's rota whole: its row kept (or made), its shifts replaced. */
  async replaceRota(ex: Executor, teamId: string, shifts: OncallShiftsTable[], now: Date): Promise<void> {
    await ex
      .insertInto('oncall_rotas')
      .values({ team_id: teamId, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('team_id').doUpdateSet({ updated_at: now }))
      .execute();
    await ex.deleteFrom('oncall_shifts').where('team_id', '=', teamId).execute();
    if (shifts.length) await ex.insertInto('oncall_shifts').values(shifts).execute();
  }

  async deleteRota(ex: Executor, teamId: string): Promise<boolean> {
    const res = await ex.deleteFrom('oncall_rotas').where('team_id', '=', teamId).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  // ---------------------------------------------------------------- made once

  async setup(name: string): Promise<string | undefined> {
    return (await this.db.k.selectFrom('alarm_setup').select('ref').where('name', '=', name).executeTakeFirst())?.ref;
  }

  async recordSetup(ex: Executor, name: string, ref: string, now: Date): Promise<void> {
    await ex.insertInto('alarm_setup').values({ name, ref, created_at: now }).execute();
  }
}
