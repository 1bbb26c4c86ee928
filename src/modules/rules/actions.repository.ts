import type { Db, Executor } from '../../platform/db/database.js';

export interface AlarmActionsTable {
  alarm_id: string;
  action_index: number;
  type: string;
  rule_id: string;
  area_id: string | null;
  /** sent (done), skipped (nothing to do, or rate limited) or failed (cannot be done as set up) */
  status: string;
  /** what it made: a campaign id, a request reference */
  ref: string | null;
  note: string | null;
  created_at: Date;
}

export interface WebhookSecretsTable {
  name: string;
  secret_sealed: string;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookDeliveriesTable {
  id: string;
  alarm_id: string;
  rule_id: string;
  action_index: number;
  url: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  created_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    alarm_actions: AlarmActionsTable;
    webhook_secrets: WebhookSecretsTable;
    webhook_deliveries: WebhookDeliveriesTable;
  }
}

/** What rules' actions did for each alarm, webhook secrets, and the webhook delivery log. */
export class ActionsRepository {
  constructor(private readonly db: Db) {}

  findAction(alarmId: string, index: number): Promise<AlarmActionsTable | undefined> {
    return this.db.k.selectFrom('alarm_actions').selectAll().where('alarm_id', '=', alarmId).where('action_index', '=', index).executeTakeFirst();
  }

  /** Records what an action did; a second record of the same action keeps the first. */
  async recordAction(row: AlarmActionsTable): Promise<void> {
    await this.db.k
      .insertInto('alarm_actions')
      .values(row)
      .onConflict((oc) => oc.columns(['alarm_id', 'action_index']).doNothing())
      .execute();
  }

  /** The last message of this rule to an area's residents since a time, for another alarm than this one. */
  lastResidentMessage(ruleId: string, areaId: string, since: Date, exceptAlarm: string): Promise<AlarmActionsTable | undefined> {
    return this.db.k
      .selectFrom('alarm_actions')
      .selectAll()
      .where('rule_id', '=', ruleId)
      .where('area_id', '=', areaId)
      .where('type', '=', 'notify_residents')
      .where('status', '=', 'sent')
      .where('created_at', '>=', since)
      .where('alarm_id', '<>', exceptAlarm)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
  }

  listActions(alarmId: string): Promise<AlarmActionsTable[]> {
    return this.db.k.selectFrom('alarm_actions').selectAll().where('alarm_id', '=', alarmId).orderBy('action_index').execute();
  }

  // ---------------------------------------------------------------- webhook secrets

  listSecrets(): Promise<Omit<WebhookSecretsTable, 'secret_sealed'>[]> {
    return this.db.k.selectFrom('webhook_secrets').select(['name', 'created_at', 'updated_at']).orderBy('name').execute();
  }

  findSecret(name: string): Promise<WebhookSecretsTable | undefined> {
    return this.db.k.selectFrom('webhook_secrets').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async putSecret(ex: Executor, row: WebhookSecretsTable): Promise<void> {
    await ex
      .insertInto('webhook_secrets')
      .values(row)
      .onConflict((oc) => oc.column('name').doUpdateSet({ secret_sealed: row.secret_sealed, updated_at: row.updated_at }))
      .execute();
  }

  async deleteSecret(ex: Executor, name: string): Promise<boolean> {
    const res = await ex.deleteFrom('webhook_secrets').where('name', '=', name).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  // ---------------------------------------------------------------- webhook deliveries

  async insertDelivery(row: WebhookDeliveriesTable): Promise<void> {
    await this.db.k.insertInto('webhook_deliveries').values(row).execute();
  }

  listDeliveries(filter: { alarmId?: string; ruleId?: string; limit: number }): Promise<WebhookDeliveriesTable[]> {
    let q = this.db.k.selectFrom('webhook_deliveries').selectAll();
    if (filter.alarmId) q = q.where('alarm_id', '=', filter.alarmId);
    if (filter.ruleId) q = q.where('rule_id', '=', filter.ruleId);
    return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
  }
}
