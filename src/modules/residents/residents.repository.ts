import type { Db, Executor } from '../../platform/db/database.js';
import { toJson } from '../../platform/db/dialect.js';

export interface ResidentsTable {
  id: string;
  name: string;
  email: string | null;
  mobile: string | null;
  landline: string | null;
  address_json: string[] | null | string;
  language: string;
  is_large_print: boolean;
  is_voice_preferred: boolean;
  quiet_from: string | null;
  quiet_to: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ResidentChannelPreferencesTable {
  resident_id: string;
  topic: string;
  channels_json: string[] | string;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    residents: ResidentsTable;
    resident_channel_preferences: ResidentChannelPreferencesTable;
  }
}

export type ResidentRow = ResidentsTable & { address_json: string[] | null };

/** Residents and their channel preferences: the only SQL of the residents module. */
export class ResidentsRepository {
  constructor(private readonly db: Db) {}

  async insert(row: ResidentsTable, ex: Executor): Promise<void> {
    await ex
      .insertInto('residents')
      .values({ ...row, address_json: row.address_json === null ? null : toJson(row.address_json) })
      .execute();
  }

  async update(id: string, fields: Partial<ResidentsTable>, ex: Executor): Promise<void> {
    const set = { ...fields };
    if (set.address_json !== undefined && set.address_json !== null) set.address_json = toJson(set.address_json);
    await ex.updateTable('residents').set(set).where('id', '=', id).execute();
  }

  find(id: string): Promise<ResidentRow | undefined> {
    return this.db.k.selectFrom('residents').selectAll().where('id', '=', id).executeTakeFirst() as Promise<ResidentRow | undefined>;
  }

  /** By name, email or mobile (normalised), newest first. */
  search(text: string | undefined, limit: number): Promise<ResidentRow[]> {
    let q = this.db.k.selectFrom('residents').selectAll();
    if (text) {
      const like = `%${text.toLowerCase().replace(/[%_\\]/g, '')}%`;
      q = q.where((e) => e.or([e(e.fn('lower', ['name']), 'like', like), e('email', 'like', like), e('mobile', 'like', like)]));
    }
    return q.orderBy('created_at', 'desc').limit(limit).execute() as Promise<ResidentRow[]>;
  }

  async preferences(residentId: string): Promise<Record<string, string[]>> {
    const rows = await this.db.k.selectFrom('resident_channel_preferences').selectAll().where('resident_id', '=', residentId).execute();
    return Object.fromEntries(rows.map((r) => [r.topic, r.channels_json as string[]]));
  }

  async replacePreferences(residentId: string, preferences: Record<string, string[]>, ex: Executor): Promise<void> {
    await ex.deleteFrom('resident_channel_preferences').where('resident_id', '=', residentId).execute();
    const rows = Object.entries(preferences).map(([topic, channels]) => ({ resident_id: residentId, topic, channels_json: toJson(channels) }));
    if (rows.length) await ex.insertInto('resident_channel_preferences').values(rows).execute();
  }
}
