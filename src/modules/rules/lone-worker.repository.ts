import type { Db, Executor } from '../../platform/db/database.js';

export interface LoneWorkerVisitsTable {
  id: string;
  user_id: string;
  team_id: string;
  place: string;
  expected_minutes: number;
  started_at: Date;
  /** when the visit should end */
  due_at: Date;
  /** the end plus the grace: an alarm is raised if the worker has not checked out by then */
  deadline_at: Date;
  checked_out_at: Date | null;
  alarm_id: string | null;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    lone_worker_visits: LoneWorkerVisitsTable;
  }
}

/** Lone-worker visits. */
export class LoneWorkerRepository {
  constructor(private readonly db: Db) {}

  find(id: string): Promise<LoneWorkerVisitsTable | undefined> {
    return this.db.k.selectFrom('lone_worker_visits').selectAll().where('id', '=', id).executeTakeFirst();
  }

  openOf(userId: string): Promise<LoneWorkerVisitsTable | undefined> {
    return this.db.k.selectFrom('lone_worker_visits').selectAll().where('user_id', '=', userId).where('checked_out_at', 'is', null).executeTakeFirst();
  }

  recentOf(userId: string, limit: number): Promise<LoneWorkerVisitsTable[]> {
    return this.db.k.selectFrom('lone_worker_visits').selectAll().where('user_id', '=', userId).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  async insert(ex: Executor, row: LoneWorkerVisitsTable): Promise<void> {
    await ex.insertInto('lone_worker_visits').values(row).execute();
  }

  /** Marks the visit checked out unless it is already; false when it was. */
  async checkOut(ex: Executor, id: string, at: Date): Promise<boolean> {
    const res = await ex.updateTable('lone_worker_visits').set({ checked_out_at: at }).where('id', '=', id).where('checked_out_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Notes the alarm raised for a visit still open; false when the worker checked out meanwhile. */
  async setAlarm(id: string, alarmId: string): Promise<boolean> {
    const res = await this.db.k.updateTable('lone_worker_visits').set({ alarm_id: alarmId }).where('id', '=', id).where('checked_out_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }
}
