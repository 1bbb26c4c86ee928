import { type ExpressionBuilder, type Insertable, type SelectQueryBuilder, sql } from 'kysely';
import type { Db, Executor } from '../../platform/db/database.js';
import { ilike } from '../../platform/db/dialect.js';
import { isUuid } from '../../platform/ids.js';
import type { Tables } from '../../platform/db/tables.js';
import type { EstateFilter } from './estate.schema.js';

export interface AreasTable {
  id: string;
  name: string;
  code: string | null;
  kind: string;
  geometry_json: unknown;
  min_lon: number;
  min_lat: number;
  max_lon: number;
  max_lat: number;
  created_at: Date;
  updated_at: Date;
}

export interface SitesTable {
  id: string;
  type: string;
  name: string;
  address: string;
  postcode: string | null;
  uprn: string | null;
  lat: number | null;
  lon: number | null;
  area_id: string | null;
  tags_json: unknown;
  owner_team: string | null;
  is_personal: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface SiteConnectivityTable {
  site_id: string;
  technology: string;
  status: string;
  down_mbps: number | null;
  up_mbps: number | null;
  provider: string | null;
  circuit_ref: string | null;
  planned_at: Date | null;
  ordered_at: Date | null;
  installed_at: Date | null;
  live_at: Date | null;
  updated_at: Date;
}

export interface DeviceProfilesTable {
  id: string;
  key: string;
  name: string;
  description: string;
  metrics_json: unknown;
  report_interval_seconds: number;
  offline_tolerance: number;
  battery_low_percent: number;
  raw_retention_days: number;
  decoder_json: unknown;
  is_built_in: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface DevicesTable {
  id: string;
  profile_id: string;
  site_id: string | null;
  name: string;
  serial: string;
  external_id: string | null;
  lat: number | null;
  lon: number | null;
  area_id: string | null;
  status: string;
  battery_percent: number | null;
  firmware: string | null;
  last_seen_at: Date | null;
  token_hash: string;
  mqtt_password_hash: string;
  credentials_rotated_at: Date;
  created_at: Date;
  updated_at: Date;
  decommissioned_at: Date | null;
}

export interface EstateImportsTable {
  id: string;
  kind: string;
  status: string;
  file_name: string | null;
  csv_text: string | null;
  total_rows: number;
  checked_rows: number;
  written_rows: number;
  errors_json: unknown;
  result_sealed: string | null;
  created_by: string | null;
  created_by_json: unknown;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

export interface PostcodesTable {
  postcode: string;
  lat: number;
  lon: number;
  area_id: string | null;
  updated_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    postcodes: PostcodesTable;
    areas: AreasTable;
    sites: SitesTable;
    site_connectivity: SiteConnectivityTable;
    device_profiles: DeviceProfilesTable;
    devices: DevicesTable;
    estate_imports: EstateImportsTable;
  }
}

/** A site with its connectivity (columns prefixed c_) and its area's name. */
export type SiteRow = SitesTable & {
  area_name: string | null;
  c_technology: string | null;
  c_status: string | null;
  c_down_mbps: number | null;
  c_up_mbps: number | null;
  c_provider: string | null;
  c_circuit_ref: string | null;
  c_planned_at: Date | null;
  c_ordered_at: Date | null;
  c_installed_at: Date | null;
  c_live_at: Date | null;
  c_updated_at: Date | null;
};

/** A device with its profile key, its site's name, position and personal flag. */
export type DeviceRow = DevicesTable & {
  profile_key: string;
  site_name: string | null;
  site_lat: number | null;
  site_lon: number | null;
  site_area_id: string | null;
  is_personal: boolean | null;
};

export interface DeviceTouch {
  id: string;
  at: Date;
  battery: number | null;
  status: string;
}

type Q<O> = SelectQueryBuilder<Tables, any, O>;

const CHUNK_ROWS = 1000;

/** Every SQL statement of the estate module. */
export class EstateRepository {
  constructor(private readonly db: Db) {}

  // ---- areas ----

  listAreas(ex: Executor = this.db.k): Promise<AreasTable[]> {
    return ex.selectFrom('areas').selectAll().orderBy('kind', 'desc').orderBy('name').execute();
  }

  findAreaByCodeOrName(code: string | null, name: string, ex: Executor): Promise<AreasTable | undefined> {
    const q = ex.selectFrom('areas').selectAll();
    return (code ? q.where('code', '=', code) : q.where('code', 'is', null).where('name', '=', name)).executeTakeFirst();
  }

  async insertArea(row: Insertable<AreasTable>, ex: Executor): Promise<void> {
    await ex.insertInto('areas').values(row).execute();
  }

  async updateArea(id: string, row: Partial<AreasTable>, ex: Executor): Promise<void> {
    await ex.updateTable('areas').set(row).where('id', '=', id).execute();
  }

  async deleteArea(id: string, ex: Executor): Promise<void> {
    await ex.deleteFrom('areas').where('id', '=', id).execute();
  }

  /** Positions of every site and device, for re-placing them in areas. */
  async positions(ex: Executor) {
    const sites = await ex.selectFrom('sites').select(['id', 'lat', 'lon', 'area_id']).execute();
    const devices = await ex.selectFrom('devices').select(['id', 'lat', 'lon', 'area_id', 'site_id']).execute();
    return { sites, devices };
  }

  async setAreas(table: 'sites' | 'devices', changes: { id: string; area_id: string | null }[], ex: Executor): Promise<void> {
    for (const c of changes) await ex.updateTable(table).set({ area_id: c.area_id }).where('id', '=', c.id).execute();
  }

  // ---- postcodes ----

  findPostcode(postcode: string, ex: Executor = this.db.k): Promise<PostcodesTable | undefined> {
    return ex.selectFrom('postcodes').selectAll().where('postcode', '=', postcode).executeTakeFirst();
  }

  /** New postcodes added, known ones given their new centre and area: a statement per thousand. */
  async upsertPostcodes(rows: PostcodesTable[], ex: Executor): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK_ROWS)
      await ex
        .insertInto('postcodes')
        .values(rows.slice(i, i + CHUNK_ROWS))
        .onConflict((oc) =>
          oc.column('postcode').doUpdateSet((eb) => ({
            lat: eb.ref('excluded.lat'),
            lon: eb.ref('excluded.lon'),
            area_id: eb.ref('excluded.area_id'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
  }

  /** Every postcode's centre and area, for placing them in areas again. */
  postcodePositions(ex: Executor): Promise<Pick<PostcodesTable, 'postcode' | 'lat' | 'lon' | 'area_id'>[]> {
    return ex.selectFrom('postcodes').select(['postcode', 'lat', 'lon', 'area_id']).execute();
  }

  /** Moves postcodes to their new areas: one statement per area and thousand postcodes (a county has tens of thousands). */
  async setPostcodeAreas(moves: Map<string | null, string[]>, ex: Executor): Promise<void> {
    for (const [areaId, postcodes] of moves)
      for (let i = 0; i < postcodes.length; i += CHUNK_ROWS)
        await ex
          .updateTable('postcodes')
          .set({ area_id: areaId })
          .where('postcode', 'in', postcodes.slice(i, i + CHUNK_ROWS))
          .execute();
  }

  // ---- sites ----

  private siteSelect(ex: Executor) {
    return ex
      .selectFrom('sites')
      .leftJoin('site_connectivity as c', 'c.site_id', 'sites.id')
      .leftJoin('areas', 'areas.id', 'sites.area_id')
      .selectAll('sites')
      .select([
        'areas.name as area_name',
        'c.technology as c_technology',
        'c.status as c_status',
        'c.down_mbps as c_down_mbps',
        'c.up_mbps as c_up_mbps',
        'c.provider as c_provider',
        'c.circuit_ref as c_circuit_ref',
        'c.planned_at as c_planned_at',
        'c.ordered_at as c_ordered_at',
        'c.installed_at as c_installed_at',
        'c.live_at as c_live_at',
        'c.updated_at as c_updated_at',
      ]);
  }

  async findSite(id: string, ex: Executor = this.db.k): Promise<SiteRow | undefined> {
    return (await this.siteSelect(ex).where('sites.id', '=', id).executeTakeFirst()) as SiteRow | undefined;
  }

  async listSites(filter: EstateFilter, ex: Executor = this.db.k): Promise<SiteRow[]> {
    let q = this.filterSites(this.siteSelect(ex), filter).orderBy('sites.id');
    if (filter.after) q = q.where('sites.id', '>', filter.after);
    if (filter.limit) q = q.limit(filter.limit);
    return (await q.execute()) as SiteRow[];
  }

  async countSites(filter: EstateFilter): Promise<number> {
    const q = this.db.k.selectFrom('sites').leftJoin('site_connectivity as c', 'c.site_id', 'sites.id');
    const row = await this.filterSites(
      q.select((eb) => eb.fn.countAll<number>().as('n')),
      filter,
    ).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private filterSites<O>(query: Q<O>, f: EstateFilter): Q<O> {
    // Joined, aliased tables defeat Kysely's column typing here; the names are checked by the tests.
    let q: any = query;
    if (!f.includePersonal) q = q.where('sites.is_personal', '=', false);
    if (f.ids) q = f.ids.length ? q.where('sites.id', 'in', f.ids) : q.where(sql<boolean>`1 = 0`);
    if (f.type) q = q.where('sites.type', '=', f.type);
    if (f.areaId) q = q.where('sites.area_id', '=', f.areaId);
    if (f.technology) q = q.where('c.technology', '=', f.technology);
    if (f.connectivityStatus) q = q.where('c.status', '=', f.connectivityStatus);
    if (f.bbox) q = q.where('sites.lon', '>=', f.bbox[0]).where('sites.lat', '>=', f.bbox[1]).where('sites.lon', '<=', f.bbox[2]).where('sites.lat', '<=', f.bbox[3]);
    if (f.q) {
      const like = `%${escapeLike(f.q)}%`;
      const op = ilike(this.db.dialect);
      q = q.where((eb: ExpressionBuilder<any, any>) => eb.or([eb('sites.name', op, like), eb('sites.address', op, like), eb('sites.postcode', op, like), eb('sites.uprn', '=', f.q)]));
    }
    return q;
  }

  async insertSites(rows: Insertable<SitesTable>[], ex: Executor): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK_ROWS)
      await ex
        .insertInto('sites')
        .values(rows.slice(i, i + CHUNK_ROWS))
        .execute();
  }

  async insertConnectivity(rows: Insertable<SiteConnectivityTable>[], ex: Executor): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK_ROWS)
      await ex
        .insertInto('site_connectivity')
        .values(rows.slice(i, i + CHUNK_ROWS))
        .execute();
  }

  async siteIdsExisting(ids: string[], ex: Executor = this.db.k): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += CHUNK_ROWS) {
      const rows = await ex
        .selectFrom('sites')
        .select('id')
        .where('id', 'in', ids.slice(i, i + CHUNK_ROWS))
        .execute();
      for (const r of rows) out.add(r.id);
    }
    return out;
  }

  /** id → whether the site is personal, for the given ids. */
  async sitesPersonal(ids: string[], ex: Executor = this.db.k): Promise<Map<string, { isPersonal: boolean; areaId: string | null; lat: number | null; lon: number | null }>> {
    const out = new Map();
    for (let i = 0; i < ids.length; i += CHUNK_ROWS) {
      const rows = await ex
        .selectFrom('sites')
        .select(['id', 'is_personal', 'area_id', 'lat', 'lon'])
        .where('id', 'in', ids.slice(i, i + CHUNK_ROWS))
        .execute();
      for (const r of rows) out.set(r.id, { isPersonal: !!r.is_personal, areaId: r.area_id, lat: r.lat, lon: r.lon });
    }
    return out;
  }

  async updateSite(id: string, fields: Partial<SitesTable>, ex: Executor): Promise<void> {
    await ex.updateTable('sites').set(fields).where('id', '=', id).execute();
  }

  async saveConnectivity(row: SiteConnectivityTable, ex: Executor): Promise<void> {
    await ex.deleteFrom('site_connectivity').where('site_id', '=', row.site_id).execute();
    await ex.insertInto('site_connectivity').values(row).execute();
  }

  async deleteConnectivity(siteId: string, ex: Executor): Promise<void> {
    await ex.deleteFrom('site_connectivity').where('site_id', '=', siteId).execute();
  }

  async deleteSite(id: string, ex: Executor): Promise<void> {
    await ex.deleteFrom('sites').where('id', '=', id).execute();
  }

  async countDevicesAt(siteId: string, ex: Executor): Promise<number> {
    const row = await ex
      .selectFrom('devices')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('site_id', '=', siteId)
      .where('status', '!=', 'decommissioned')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Devices at a site follow its area when they have no position of their own. */
  async setAreaOfSiteDevices(siteId: string, areaId: string | null, ex: Executor): Promise<void> {
    await ex.updateTable('devices').set({ area_id: areaId }).where('site_id', '=', siteId).where('lat', 'is', null).execute();
  }

  /** Decommissioned devices keep their history but let go of a site that is being deleted. */
  async releaseDecommissioned(siteId: string, ex: Executor): Promise<void> {
    await ex.updateTable('devices').set({ site_id: null }).where('site_id', '=', siteId).where('status', '=', 'decommissioned').execute();
  }

  // ---- connectivity rollout ----

  async rolloutCounts(includePersonal: boolean) {
    let q = this.db.k
      .selectFrom('sites')
      .leftJoin('site_connectivity as c', 'c.site_id', 'sites.id')
      .select(['sites.type as type', 'c.technology as technology', 'c.status as status', 'sites.area_id as area_id'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .groupBy(['sites.type', 'c.technology', 'c.status', 'sites.area_id']);
    if (!includePersonal) q = q.where('sites.is_personal', '=', false);
    return (await q.execute()).map((r) => ({ ...r, n: Number(r.n) }));
  }

  // ---- profiles ----

  listProfiles(ex: Executor = this.db.k): Promise<DeviceProfilesTable[]> {
    return ex.selectFrom('device_profiles').selectAll().orderBy('name').execute();
  }

  findProfile(idOrKey: string, ex: Executor = this.db.k): Promise<DeviceProfilesTable | undefined> {
    const q = ex.selectFrom('device_profiles').selectAll();
    return (isUuid(idOrKey) ? q.where('id', '=', idOrKey) : q.where('key', '=', idOrKey)).executeTakeFirst();
  }

  async insertProfilesIfMissing(rows: Insertable<DeviceProfilesTable>[], ex: Executor = this.db.k): Promise<void> {
    if (rows.length)
      await ex
        .insertInto('device_profiles')
        .values(rows)
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
  }

  async insertProfile(row: Insertable<DeviceProfilesTable>, ex: Executor): Promise<void> {
    await ex.insertInto('device_profiles').values(row).execute();
  }

  async updateProfile(id: string, fields: Partial<Record<keyof DeviceProfilesTable, unknown>>, ex: Executor): Promise<void> {
    await ex
      .updateTable('device_profiles')
      .set(fields as never)
      .where('id', '=', id)
      .execute();
  }

  async deleteProfile(id: string, ex: Executor): Promise<void> {
    await ex.deleteFrom('device_profiles').where('id', '=', id).execute();
  }

  async countDevicesWithProfile(profileId: string, ex: Executor): Promise<number> {
    const row = await ex
      .selectFrom('devices')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('profile_id', '=', profileId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- devices ----

  private deviceSelect(ex: Executor) {
    return ex
      .selectFrom('devices')
      .innerJoin('device_profiles as p', 'p.id', 'devices.profile_id')
      .leftJoin('sites', 'sites.id', 'devices.site_id')
      .selectAll('devices')
      .select(['p.key as profile_key', 'sites.name as site_name', 'sites.lat as site_lat', 'sites.lon as site_lon', 'sites.area_id as site_area_id', 'sites.is_personal as is_personal']);
  }

  async findDevice(id: string, ex: Executor = this.db.k): Promise<DeviceRow | undefined> {
    return (await this.deviceSelect(ex).where('devices.id', '=', id).executeTakeFirst()) as DeviceRow | undefined;
  }

  async findDeviceBy(column: 'token_hash' | 'external_id' | 'id', value: string): Promise<DeviceRow | undefined> {
    return (await this.deviceSelect(this.db.k).where(`devices.${column}`, '=', value).executeTakeFirst()) as DeviceRow | undefined;
  }

  async listDevices(filter: EstateFilter, ex: Executor = this.db.k): Promise<DeviceRow[]> {
    let q = this.filterDevices(this.deviceSelect(ex), filter).orderBy('devices.id');
    if (filter.after) q = q.where('devices.id', '>', filter.after);
    if (filter.limit) q = q.limit(filter.limit);
    return (await q.execute()) as DeviceRow[];
  }

  async countDevices(filter: EstateFilter): Promise<number> {
    const q = this.db.k
      .selectFrom('devices')
      .innerJoin('device_profiles as p', 'p.id', 'devices.profile_id')
      .leftJoin('sites', 'sites.id', 'devices.site_id')
      .select((eb) => eb.fn.countAll<number>().as('n'));
    const row = await this.filterDevices(q, filter).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private filterDevices<O>(query: Q<O>, f: EstateFilter): Q<O> {
    let q: any = query;
    if (!f.includePersonal) q = q.where((eb: ExpressionBuilder<any, any>) => eb.or([eb('sites.is_personal', 'is', null), eb('sites.is_personal', '=', false)]));
    if (f.ids) q = f.ids.length ? q.where('devices.id', 'in', f.ids) : q.where(sql<boolean>`1 = 0`);
    if (f.siteId) q = q.where('devices.site_id', '=', f.siteId);
    if (f.areaId) q = q.where('devices.area_id', '=', f.areaId);
    if (f.profileKey) q = q.where('p.key', '=', f.profileKey);
    if (f.type) q = q.where('sites.type', '=', f.type);
    if (f.status) q = q.where('devices.status', '=', f.status);
    else if (!f.includeDecommissioned) q = q.where('devices.status', '!=', 'decommissioned');
    if (f.lowBattery) q = q.where((eb: ExpressionBuilder<any, any>) => eb('devices.battery_percent', '<=', eb.ref('p.battery_low_percent')));
    if (f.bbox) {
      const lat = sql`coalesce(devices.lat, sites.lat)`;
      const lon = sql`coalesce(devices.lon, sites.lon)`;
      q = q.where(sql<boolean>`${lon} >= ${f.bbox[0]} and ${lat} >= ${f.bbox[1]} and ${lon} <= ${f.bbox[2]} and ${lat} <= ${f.bbox[3]}`);
    }
    if (f.q) {
      const like = `%${escapeLike(f.q)}%`;
      const op = ilike(this.db.dialect);
      q = q.where((eb: ExpressionBuilder<any, any>) => eb.or([eb('devices.name', op, like), eb('devices.serial', op, like), eb('devices.external_id', '=', f.q!.toLowerCase())]));
    }
    return q;
  }

  async insertDevices(rows: Insertable<DevicesTable>[], ex: Executor): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK_ROWS)
      await ex
        .insertInto('devices')
        .values(rows.slice(i, i + CHUNK_ROWS))
        .execute();
  }

  async updateDevice(id: string, fields: Partial<DevicesTable>, ex: Executor): Promise<void> {
    await ex.updateTable('devices').set(fields).where('id', '=', id).execute();
  }

  /** Which of these serials or DevEUIs are taken already. */
  async takenDeviceKeys(serials: string[], externalIds: string[], ex: Executor = this.db.k): Promise<{ serials: Set<string>; externalIds: Set<string> }> {
    const out = { serials: new Set<string>(), externalIds: new Set<string>() };
    for (let i = 0; i < serials.length; i += CHUNK_ROWS) {
      for (const r of await ex
        .selectFrom('devices')
        .select('serial')
        .where('serial', 'in', serials.slice(i, i + CHUNK_ROWS))
        .execute())
        out.serials.add(r.serial);
    }
    for (let i = 0; i < externalIds.length; i += CHUNK_ROWS) {
      for (const r of await ex
        .selectFrom('devices')
        .select('external_id')
        .where('external_id', 'in', externalIds.slice(i, i + CHUNK_ROWS))
        .execute())
        out.externalIds.add(r.external_id as string);
    }
    return out;
  }

  async deviceIdsExisting(ids: string[], ex: Executor = this.db.k): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += CHUNK_ROWS) {
      for (const r of await ex
        .selectFrom('devices')
        .select('id')
        .where('id', 'in', ids.slice(i, i + CHUNK_ROWS))
        .execute())
        out.add(r.id);
    }
    return out;
  }

  /** Status, battery and threshold of these devices, for noteSeen's flush. */
  async deviceStates(ids: string[]): Promise<{ id: string; status: string; battery_percent: number | null; battery_low_percent: number; last_seen_at: Date | null }[]> {
    const out = [];
    for (let i = 0; i < ids.length; i += CHUNK_ROWS) {
      const rows = await this.db.k
        .selectFrom('devices')
        .innerJoin('device_profiles as p', 'p.id', 'devices.profile_id')
        .select(['devices.id', 'devices.status', 'devices.battery_percent', 'p.battery_low_percent', 'devices.last_seen_at'])
        .where('devices.id', 'in', ids.slice(i, i + CHUNK_ROWS))
        .execute();
      out.push(...rows);
    }
    return out;
  }

  /** Writes last-seen times, batteries and statuses in one statement per chunk (PostgreSQL) or one transaction (SQLite). */
  async touchDevices(touches: DeviceTouch[]): Promise<void> {
    if (!touches.length) return;
    if (this.db.dialect === 'postgres') {
      for (let i = 0; i < touches.length; i += CHUNK_ROWS) {
        const rows = touches.slice(i, i + CHUNK_ROWS).map((t) => sql`(${t.id}::uuid, ${t.at}::timestamptz, ${t.battery}::double precision, ${t.status})`);
        await sql`update devices d set last_seen_at = greatest(d.last_seen_at, v.at), battery_percent = coalesce(v.battery, d.battery_percent),
                  status = case when d.status = 'decommissioned' then d.status else v.status end
                  from (values ${sql.join(rows)}) as v(id, at, battery, status) where d.id = v.id`.execute(this.db.k);
      }
      return;
    }
    await this.db.transaction(async (trx) => {
      for (const t of touches) {
        await trx
          .updateTable('devices')
          .set((eb) => ({
            last_seen_at: sql`max(coalesce(last_seen_at, 0), ${t.at})`,
            battery_percent: t.battery === null ? eb.ref('battery_percent') : t.battery,
            status: sql`case when status = 'decommissioned' then status else ${t.status} end`,
          }))
          .where('id', '=', t.id)
          .execute();
      }
    });
  }

  /** Active devices of a profile silent since before the cutoff become offline; returns their ids. */
  async markOffline(profileId: string, cutoff: Date, now: Date): Promise<string[]> {
    const rows = await this.db.k
      .updateTable('devices')
      .set({ status: 'offline', updated_at: now })
      .where('profile_id', '=', profileId)
      .where('status', '=', 'active')
      .where((eb) => eb.or([eb('last_seen_at', '<', cutoff), eb.and([eb('last_seen_at', 'is', null), eb('created_at', '<', cutoff)])]))
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  /** Device counts by profile, site and status, with how many are low on battery. */
  async healthCounts(includePersonal: boolean) {
    let q = this.db.k
      .selectFrom('devices')
      .innerJoin('device_profiles as p', 'p.id', 'devices.profile_id')
      .leftJoin('sites', 'sites.id', 'devices.site_id')
      .select(['p.key as profile_key', 'devices.site_id as site_id', 'sites.name as site_name', 'devices.status as status'])
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>(eb.case().when('devices.battery_percent', '<=', eb.ref('p.battery_low_percent')).then(1).else(0).end()).as('low')])
      .where('devices.status', '!=', 'decommissioned')
      .groupBy(['p.key', 'devices.site_id', 'sites.name', 'devices.status']);
    if (!includePersonal) q = q.where((eb) => eb.or([eb('sites.is_personal', 'is', null), eb('sites.is_personal', '=', false)]));
    return (await q.execute()).map((r) => ({ ...r, n: Number(r.n), low: Number(r.low ?? 0) }));
  }

  // ---- imports ----

  async insertImport(row: Insertable<EstateImportsTable>, ex: Executor = this.db.k): Promise<void> {
    await ex.insertInto('estate_imports').values(row).execute();
  }

  findImport(id: string, ex: Executor = this.db.k): Promise<EstateImportsTable | undefined> {
    return ex.selectFrom('estate_imports').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async updateImport(id: string, fields: Partial<Record<keyof EstateImportsTable, unknown>>, ex: Executor = this.db.k): Promise<void> {
    await ex
      .updateTable('estate_imports')
      .set(fields as never)
      .where('id', '=', id)
      .execute();
  }

  listImports(limit = 20): Promise<Omit<EstateImportsTable, 'csv_text' | 'result_sealed'>[]> {
    return this.db.k
      .selectFrom('estate_imports')
      .select(['id', 'kind', 'status', 'file_name', 'total_rows', 'checked_rows', 'written_rows', 'errors_json', 'created_by', 'created_by_json', 'created_at', 'updated_at', 'finished_at'])
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }
}

/** LIKE escapes differ between the dialects; search words simply drop the wildcard characters. */
function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, '');
}
