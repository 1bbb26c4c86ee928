import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/** NGSI-LD context: entities clients create that are not Weft devices or sites, and the NGSI-LD ids of devices created through it. */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('context_entities')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('attrs_json', t.json, (c) => c.notNull())
    // The bounding box of the entity's location, for geo-queries; null without one.
    .addColumn('min_lon', t.real)
    .addColumn('min_lat', t.real)
    .addColumn('max_lon', t.real)
    .addColumn('max_lat', t.real)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('modified_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('context_entities_type').on('context_entities').columns(['type', 'id']).execute();
  await db.schema.createIndex('context_entities_bbox').on('context_entities').columns(['min_lon', 'max_lon', 'min_lat', 'max_lat']).execute();

  await db.schema
    .createTable('context_device_ids')
    .addColumn('entity_id', 'text', (c) => c.primaryKey())
    .addColumn('device_id', t.id, (c) => c.notNull().unique().references('devices.id').onDelete('cascade'))
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('context_device_ids').execute();
  await db.schema.dropTable('context_entities').execute();
}
