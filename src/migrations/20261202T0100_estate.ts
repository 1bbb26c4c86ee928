import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/** The estate: areas, sites and their connectivity, device profiles, devices, CSV imports. */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('areas')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('geometry_json', t.json, (c) => c.notNull())
    .addColumn('min_lon', t.real, (c) => c.notNull())
    .addColumn('min_lat', t.real, (c) => c.notNull())
    .addColumn('max_lon', t.real, (c) => c.notNull())
    .addColumn('max_lat', t.real, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('areas_bbox').on('areas').columns(['min_lon', 'max_lon', 'min_lat', 'max_lat']).execute();

  await db.schema
    .createTable('sites')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('postcode', 'text')
    .addColumn('uprn', 'text')
    .addColumn('lat', t.real)
    .addColumn('lon', t.real)
    .addColumn('area_id', t.id, (c) => c.references('areas.id').onDelete('set null'))
    .addColumn('tags_json', t.json, (c) => c.notNull())
    .addColumn('owner_team', 'text')
    .addColumn('is_personal', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sites_type').on('sites').columns(['type', 'id']).execute();
  await db.schema.createIndex('sites_area').on('sites').column('area_id').execute();
  await db.schema.createIndex('sites_personal').on('sites').columns(['is_personal', 'id']).execute();
  await db.schema.createIndex('sites_uprn').on('sites').column('uprn').execute();
  await db.schema.createIndex('sites_position').on('sites').columns(['lat', 'lon']).execute();

  await db.schema
    .createTable('site_connectivity')
    .addColumn('site_id', t.id, (c) => c.primaryKey().references('sites.id').onDelete('cascade'))
    .addColumn('technology', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('down_mbps', t.real)
    .addColumn('up_mbps', t.real)
    .addColumn('provider', 'text')
    .addColumn('circuit_ref', 'text')
    .addColumn('planned_at', t.time)
    .addColumn('ordered_at', t.time)
    .addColumn('installed_at', t.time)
    .addColumn('live_at', t.time)
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('site_connectivity_tech').on('site_connectivity').columns(['technology', 'status']).execute();

  await db.schema
    .createTable('device_profiles')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('metrics_json', t.json, (c) => c.notNull())
    .addColumn('report_interval_seconds', 'integer', (c) => c.notNull())
    .addColumn('offline_tolerance', t.real, (c) => c.notNull())
    .addColumn('battery_low_percent', 'integer', (c) => c.notNull())
    .addColumn('raw_retention_days', 'integer', (c) => c.notNull())
    .addColumn('decoder_json', t.json, (c) => c.notNull())
    .addColumn('is_built_in', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('devices')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('profile_id', t.id, (c) => c.notNull().references('device_profiles.id'))
    .addColumn('site_id', t.id, (c) => c.references('sites.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('serial', 'text', (c) => c.notNull().unique())
    .addColumn('external_id', 'text', (c) => c.unique())
    .addColumn('lat', t.real)
    .addColumn('lon', t.real)
    .addColumn('area_id', t.id, (c) => c.references('areas.id').onDelete('set null'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('battery_percent', t.real)
    .addColumn('firmware', 'text')
    .addColumn('last_seen_at', t.time)
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('mqtt_password_hash', 'text', (c) => c.notNull())
    .addColumn('credentials_rotated_at', t.time, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addColumn('decommissioned_at', t.time)
    .execute();
  await db.schema.createIndex('devices_site').on('devices').column('site_id').execute();
  await db.schema.createIndex('devices_area').on('devices').column('area_id').execute();
  await db.schema.createIndex('devices_profile').on('devices').column('profile_id').execute();
  await db.schema.createIndex('devices_health').on('devices').columns(['status', 'last_seen_at']).execute();
  await db.schema.createIndex('devices_position').on('devices').columns(['lat', 'lon']).execute();

  await db.schema
    .createTable('estate_imports')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text')
    .addColumn('csv_text', 'text')
    .addColumn('total_rows', 'integer', (c) => c.notNull())
    .addColumn('checked_rows', 'integer', (c) => c.notNull())
    .addColumn('written_rows', 'integer', (c) => c.notNull())
    .addColumn('errors_json', t.json, (c) => c.notNull())
    .addColumn('result_sealed', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_by_json', t.json)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addColumn('finished_at', t.time)
    .execute();
  await db.schema.createIndex('estate_imports_time').on('estate_imports').column('created_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['estate_imports', 'devices', 'device_profiles', 'site_connectivity', 'sites', 'areas']) {
    await db.schema.dropTable(table).execute();
  }
}
