import type { Db, Executor } from '../../platform/db/database.js';
import { toJson } from '../../platform/db/dialect.js';

export interface CollectionRoundsTable {
  id: string;
  name: string;
  bin: string;
  bin_cy: string | null;
  area_ids_json: string[];
  first_day: string;
  every_weeks: number;
  is_enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface CollectionChangesTable {
  round_id: string;
  usual_day: string;
  moved_to: string;
  reason: string | null;
}

export interface CollectionRemindersTable {
  round_id: string;
  collection_day: string;
  campaign_id: string | null;
  residents: number;
  created_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    collection_rounds: CollectionRoundsTable;
    collection_changes: CollectionChangesTable;
    collection_reminders: CollectionRemindersTable;
  }
}

/** Collection rounds, their moved days and their reminders: the only SQL of the waste module. */
export class WasteRepository {
  constructor(private readonly db: Db) {}

  async insertRound(row: CollectionRoundsTable, ex: Executor): Promise<void> {
    await ex
      .insertInto('collection_rounds')
      .values({ ...row, area_ids_json: toJson(row.area_ids_json) as never })
      .execute();
  }

  async updateRound(id: string, fields: Partial<CollectionRoundsTable>, ex: Executor): Promise<void> {
    const set = { ...fields } as Record<string, unknown>;
    if (fields.area_ids_json) set.area_ids_json = toJson(fields.area_ids_json);
    await ex.updateTable('collection_rounds').set(set).where('id', '=', id).execute();
  }

  findRound(id: string): Promise<CollectionRoundsTable | undefined> {
    return this.db.k.selectFrom('collection_rounds').selectAll().where('id', '=', id).executeTakeFirst();
  }

  rounds(): Promise<CollectionRoundsTable[]> {
    return this.db.k.selectFrom('collection_rounds').selectAll().orderBy('name').execute();
  }

  changes(roundIds?: string[]): Promise<CollectionChangesTable[]> {
    let q = this.db.k.selectFrom('collection_changes').selectAll();
    if (roundIds) q = q.where('round_id', 'in', roundIds.length ? roundIds : ['']);
    return q.orderBy('usual_day').execute();
  }

  async putChange(row: CollectionChangesTable, ex: Executor): Promise<void> {
    await ex
      .insertInto('collection_changes')
      .values(row)
      .onConflict((oc) => oc.columns(['round_id', 'usual_day']).doUpdateSet({ moved_to: row.moved_to, reason: row.reason }))
      .execute();
  }

  async deleteChange(roundId: string, usualDay: string, ex: Executor): Promise<boolean> {
    const res = await ex.deleteFrom('collection_changes').where('round_id', '=', roundId).where('usual_day', '=', usualDay).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }

  findReminder(roundId: string, day: string): Promise<CollectionRemindersTable | undefined> {
    return this.db.k.selectFrom('collection_reminders').selectAll().where('round_id', '=', roundId).where('collection_day', '=', day).executeTakeFirst();
  }

  /** Claims a round's reminder for a day; false when it was claimed before. */
  async claimReminder(row: CollectionRemindersTable): Promise<boolean> {
    const res = await this.db.k
      .insertInto('collection_reminders')
      .values(row)
      .onConflict((oc) => oc.columns(['round_id', 'collection_day']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async setReminder(roundId: string, day: string, fields: Pick<CollectionRemindersTable, 'campaign_id' | 'residents'>): Promise<void> {
    await this.db.k.updateTable('collection_reminders').set(fields).where('round_id', '=', roundId).where('collection_day', '=', day).execute();
  }

  reminders(limit: number): Promise<CollectionRemindersTable[]> {
    return this.db.k.selectFrom('collection_reminders').selectAll().orderBy('collection_day', 'desc').limit(limit).execute();
  }
}
