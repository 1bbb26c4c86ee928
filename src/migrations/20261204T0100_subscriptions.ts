import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/** The topics a council starts with: code, English name, Welsh name. */
const DEFAULT_TOPICS: [code: string, name: string, nameCy: string][] = [
  ['bin-collections', 'Bin collections', 'Casgliadau biniau'],
  ['school-closures', 'School closures', 'Cau ysgolion'],
  ['library-reservations', 'Library reservations', 'Llyfrau a gadwyd yn y llyfrgell'],
  ['air-quality', 'Air quality alerts', 'Rhybuddion ansawdd aer'],
  ['parking', 'Parking', 'Parcio'],
  ['roadworks', 'Roadworks', 'Gwaith ffordd'],
  ['council-news', 'Council news', 'Newyddion y cyngor'],
];

/**
 * Topics residents subscribe to (staff configure them; disabled, never deleted), a resident's home
 * (postcode, point, and the area it lies in), and subscriptions: a topic at home, in a named area,
 * within a radius of home, or at a site. A subscription's `scope` (the area, the site, or '' for
 * home and radius) makes duplicates impossible with a plain unique index on both dialects. A home
 * subscription carries the resident's home area in `area_id`, kept in step by the service, so an
 * area campaign finds home and area subscribers in one index range, in resident order.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('topics')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_cy', 'text')
    .addColumn('description', 'text')
    .addColumn('is_enabled', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  const now = new Date();
  await db
    .insertInto('topics')
    .values(DEFAULT_TOPICS.map(([code, name, nameCy]) => ({ code, name, name_cy: nameCy, description: null, is_enabled: true, created_at: now, updated_at: now })))
    .execute();

  await db.schema.alterTable('residents').addColumn('postcode', 'text').execute();
  await db.schema.alterTable('residents').addColumn('latitude', t.real).execute();
  await db.schema.alterTable('residents').addColumn('longitude', t.real).execute();
  await db.schema.alterTable('residents').addColumn('area_id', t.id).execute();

  await db.schema
    .createTable('resident_subscriptions')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('resident_id', t.id, (c) => c.notNull().references('residents.id').onDelete('cascade'))
    .addColumn('topic', 'text', (c) => c.notNull().references('topics.code'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('home', 'area', 'radius', 'site')`))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('area_id', t.id)
    .addColumn('site_id', t.id)
    .addColumn('radius_m', 'integer')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('resident_subscriptions_scope').on('resident_subscriptions').columns(['resident_id', 'topic', 'kind', 'scope']).unique().execute();
  // The audience's index ranges: by topic and area (home and area subscriptions), by topic and
  // site, and the radius subscriptions of a topic; partial, so each holds only its own kind.
  await db.schema.createIndex('resident_subscriptions_area').on('resident_subscriptions').columns(['topic', 'area_id', 'resident_id']).where('area_id', 'is not', null).execute();
  await db.schema.createIndex('resident_subscriptions_site').on('resident_subscriptions').columns(['topic', 'site_id', 'resident_id']).where('site_id', 'is not', null).execute();
  await db.schema.createIndex('resident_subscriptions_radius').on('resident_subscriptions').columns(['topic', 'id']).where(sql.ref('radius_m'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('resident_subscriptions').execute();
  for (const column of ['area_id', 'longitude', 'latitude', 'postcode']) await db.schema.alterTable('residents').dropColumn(column).execute();
  await db.schema.dropTable('topics').execute();
}
