import type { Db, Executor } from '../../platform/db/database.js';
import { toJson } from '../../platform/db/dialect.js';

export interface ClosedSchool {
  siteId: string;
  name: string;
  /** the campaign telling its subscribers; null until made, or when no one subscribed */
  campaignId: string | null;
  /** residents subscribed to it when it was announced */
  subscribers: number | null;
}

export interface SchoolClosuresTable {
  id: string;
  closed_on: string;
  reason: string;
  reason_cy: string | null;
  schools_json: ClosedSchool[];
  status: string;
  created_by: string;
  created_at: Date;
  announced_at: Date | null;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    school_closures: SchoolClosuresTable;
  }
}

/** School closures: the only SQL of the schools module. */
export class SchoolsRepository {
  constructor(private readonly db: Db) {}

  async insert(row: SchoolClosuresTable, ex: Executor): Promise<void> {
    await ex
      .insertInto('school_closures')
      .values({ ...row, schools_json: toJson(row.schools_json) as never })
      .execute();
  }

  find(id: string): Promise<SchoolClosuresTable | undefined> {
    return this.db.k.selectFrom('school_closures').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(limit: number): Promise<SchoolClosuresTable[]> {
    return this.db.k.selectFrom('school_closures').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
  }

  /** Closures on or after a day (YYYY-MM-DD), soonest first: what the portal shows as planned closures. */
  from(day: string, limit: number): Promise<SchoolClosuresTable[]> {
    return this.db.k.selectFrom('school_closures').selectAll().where('closed_on', '>=', day).orderBy('closed_on').limit(limit).execute();
  }

  async setSchools(id: string, schools: ClosedSchool[]): Promise<void> {
    await this.db.k
      .updateTable('school_closures')
      .set({ schools_json: toJson(schools) as never })
      .where('id', '=', id)
      .execute();
  }

  async markAnnounced(id: string, at: Date): Promise<void> {
    await this.db.k.updateTable('school_closures').set({ status: 'announced', announced_at: at }).where('id', '=', id).execute();
  }
}
