import type { Db, Executor } from '../../platform/db/database.js';
import { inList, toJson } from '../../platform/db/dialect.js';

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
  postcode: string | null;
  latitude: number | null;
  longitude: number | null;
  area_id: string | null;
  created_at: Date;
  updated_at: Date;
  /** when their personal data was erased: the row stays, anonymised */
  erased_at: Date | null;
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
export type HomeRow = Pick<ResidentsTable, 'id' | 'latitude' | 'longitude' | 'area_id'>;

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

  /** The first resident added with this email address or mobile number (stored normalised). */
  findByContact(column: 'email' | 'mobile', normalised: string): Promise<ResidentRow | undefined> {
    return this.db.k.selectFrom('residents').selectAll().where(column, '=', normalised).orderBy('created_at').orderBy('id').limit(1).executeTakeFirst() as Promise<ResidentRow | undefined>;
  }

  /** Residents erased at or after `since`. */
  async erasedSince(since: Date): Promise<string[]> {
    const rows = await this.db.k.selectFrom('residents').select('id').where('erased_at', '>=', since).execute();
    return rows.map((r) => r.id);
  }

  /** The erased among these residents. */
  async erasedAmong(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.db.k
      .selectFrom('residents')
      .select('id')
      .where(inList(this.db.dialect, 'id', ids))
      .where('erased_at', 'is not', null)
      .execute();
    return new Set(rows.map((r) => r.id));
  }

  findMany(ids: string[]): Promise<ResidentRow[]> {
    return this.db.k
      .selectFrom('residents')
      .selectAll()
      .where(inList(this.db.dialect, 'id', ids))
      .execute() as Promise<ResidentRow[]>;
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

  /** Residents' homes in id order, a page at a time (for placing them in areas again). */
  homes(after: string | null, limit: number): Promise<HomeRow[]> {
    let q = this.db.k.selectFrom('residents').select(['id', 'latitude', 'longitude', 'area_id']);
    if (after) q = q.where('id', '>', after);
    return q.orderBy('id').limit(limit).execute();
  }

  async setArea(id: string, areaId: string | null, ex: Executor): Promise<void> {
    await ex.updateTable('residents').set({ area_id: areaId }).where('id', '=', id).execute();
  }

  async preferences(residentId: string): Promise<Record<string, string[]>> {
    const rows = await this.db.k.selectFrom('resident_channel_preferences').selectAll().where('resident_id', '=', residentId).execute();
    return Object.fromEntries(rows.map((r) => [r.topic, r.channels_json as string[]]));
  }

  /** The preferences of many residents, by resident. */
  async preferencesOf(residentIds: string[]): Promise<Map<string, Record<string, string[]>>> {
    const out = new Map<string, Record<string, string[]>>(residentIds.map((id) => [id, {}]));
    const rows = await this.db.k
      .selectFrom('resident_channel_preferences')
      .selectAll()
      .where(inList(this.db.dialect, 'resident_id', residentIds))
      .execute();
    for (const r of rows) (out.get(r.resident_id) as Record<string, string[]>)[r.topic] = r.channels_json as string[];
    return out;
  }

  /** The resident's channel order for one topic, removed; false when they had none. */
  async deletePreference(residentId: string, topic: string, ex: Executor): Promise<boolean> {
    const res = await ex.deleteFrom('resident_channel_preferences').where('resident_id', '=', residentId).where('topic', '=', topic).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async replacePreferences(residentId: string, preferences: Record<string, string[]>, ex: Executor): Promise<void> {
    await ex.deleteFrom('resident_channel_preferences').where('resident_id', '=', residentId).execute();
    const rows = Object.entries(preferences).map(([topic, channels]) => ({ resident_id: residentId, topic, channels_json: toJson(channels) }));
    if (rows.length) await ex.insertInto('resident_channel_preferences').values(rows).execute();
  }

  /**
   * Erasure: the resident's channel orders go and their row keeps only what counts need (its id,
   * language and dates), named 'Erased resident'. Returns how many channel orders went.
   */
  async anonymise(id: string, at: Date, ex: Executor): Promise<number> {
    const res = await ex.deleteFrom('resident_channel_preferences').where('resident_id', '=', id).executeTakeFirst();
    await ex
      .updateTable('residents')
      .set({
        name: ERASED_NAME,
        email: null,
        mobile: null,
        landline: null,
        address_json: null,
        is_large_print: false,
        is_voice_preferred: false,
        quiet_from: null,
        quiet_to: null,
        postcode: null,
        latitude: null,
        longitude: null,
        area_id: null,
        updated_at: at,
        erased_at: at,
      })
      .where('id', '=', id)
      .execute();
    return Number(res.numDeletedRows);
  }
}

/** What an erased resident is called. */
export const ERASED_NAME = 'Erased resident';
