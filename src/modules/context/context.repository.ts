import { sql } from 'kysely';
import type { Db, Executor } from '../../platform/db/database.js';
import { toJson } from '../../platform/db/dialect.js';
import type { Attribute } from './ngsi-format.js';

export interface ContextEntitiesTable {
  /** the entity's URI, as the client gave it */
  id: string;
  type: string;
  /** the attributes, normalised NGSI-LD */
  attrs_json: unknown;
  min_lon: number | null;
  min_lat: number | null;
  max_lon: number | null;
  max_lat: number | null;
  created_at: Date;
  modified_at: Date;
}

export interface ContextDeviceIdsTable {
  entity_id: string;
  device_id: string;
  created_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    context_entities: ContextEntitiesTable;
    context_device_ids: ContextDeviceIdsTable;
  }
}

export type StoredEntityRow = Omit<ContextEntitiesTable, 'attrs_json'> & { attrs_json: Record<string, Attribute> };

export interface StoredFilter {
  types?: string[];
  ids?: string[];
  /** rows whose location box overlaps this one */
  bbox?: [number, number, number, number];
}

const CHUNK = 500;

/** Entities stored by this module, and the NGSI-LD ids given to devices created through it. */
export class ContextRepository {
  constructor(private readonly db: Db) {}

  async list(filter: StoredFilter, ex: Executor = this.db.k): Promise<StoredEntityRow[]> {
    if (filter.ids && filter.ids.length > CHUNK) {
      const out: StoredEntityRow[] = [];
      for (let i = 0; i < filter.ids.length; i += CHUNK) out.push(...(await this.list({ ...filter, ids: filter.ids.slice(i, i + CHUNK) }, ex)));
      return out;
    }
    let q = ex.selectFrom('context_entities').selectAll();
    if (filter.types) q = filter.types.length ? q.where('type', 'in', filter.types) : q.where(sql<boolean>`1 = 0`);
    if (filter.ids) q = filter.ids.length ? q.where('id', 'in', filter.ids) : q.where(sql<boolean>`1 = 0`);
    if (filter.bbox) {
      const [minLon, minLat, maxLon, maxLat] = filter.bbox;
      q = q.where('min_lon', '<=', maxLon).where('max_lon', '>=', minLon).where('min_lat', '<=', maxLat).where('max_lat', '>=', minLat);
    }
    return (await q.orderBy('id').execute()) as StoredEntityRow[];
  }

  async find(id: string, ex: Executor = this.db.k): Promise<StoredEntityRow | undefined> {
    return (await ex.selectFrom('context_entities').selectAll().where('id', '=', id).executeTakeFirst()) as StoredEntityRow | undefined;
  }

  async insert(row: Omit<ContextEntitiesTable, 'attrs_json'> & { attrs_json: Record<string, Attribute> }, ex: Executor): Promise<void> {
    await ex
      .insertInto('context_entities')
      .values({ ...row, attrs_json: toJson(row.attrs_json) })
      .execute();
  }

  async update(id: string, fields: Pick<ContextEntitiesTable, 'min_lon' | 'min_lat' | 'max_lon' | 'max_lat' | 'modified_at'> & { attrs_json: Record<string, Attribute> }, ex: Executor): Promise<void> {
    await ex
      .updateTable('context_entities')
      .set({ ...fields, attrs_json: toJson(fields.attrs_json) })
      .where('id', '=', id)
      .execute();
  }

  async delete(id: string, ex: Executor): Promise<boolean> {
    const r = await ex.deleteFrom('context_entities').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async hasType(type: string): Promise<boolean> {
    return !!(await this.db.k.selectFrom('context_entities').select('id').where('type', '=', type).limit(1).executeTakeFirst());
  }

  async countByType(): Promise<{ type: string; n: number }[]> {
    const rows = await this.db.k
      .selectFrom('context_entities')
      .select(['type', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('type')
      .execute();
    return rows.map((r) => ({ type: r.type, n: Number(r.n) }));
  }

  // ---- NGSI-LD ids of devices ----

  async deviceIdFor(entityId: string, ex: Executor = this.db.k): Promise<string | undefined> {
    return (await ex.selectFrom('context_device_ids').select('device_id').where('entity_id', '=', entityId).executeTakeFirst())?.device_id;
  }

  /** device id → entity id, for the given devices (all when no ids are given). */
  async entityIdsOf(deviceIds?: string[], ex: Executor = this.db.k): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (deviceIds && !deviceIds.length) return out;
    const chunks = deviceIds ? Array.from({ length: Math.ceil(deviceIds.length / CHUNK) }, (_, i) => deviceIds.slice(i * CHUNK, (i + 1) * CHUNK)) : [undefined];
    for (const chunk of chunks) {
      let q = ex.selectFrom('context_device_ids').select(['entity_id', 'device_id']);
      if (chunk) q = q.where('device_id', 'in', chunk);
      for (const r of await q.execute()) out.set(r.device_id, r.entity_id);
    }
    return out;
  }

  async insertDeviceId(entityId: string, deviceId: string, ex: Executor): Promise<void> {
    await ex.insertInto('context_device_ids').values({ entity_id: entityId, device_id: deviceId, created_at: new Date() }).execute();
  }
}
