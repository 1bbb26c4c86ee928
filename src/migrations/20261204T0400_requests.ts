import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Service requests (residents' reports of problems; Open311's "services" are our categories).
 *
 * - `request_teams`: who deals with requests. The estate has only a free-text owner team, so
 *   teams are ours; a category's routing rules name them.
 * - `request_categories`: code (Open311's service_code), names, group, keywords, target hours,
 *   the extra questions (`attributes_json`, Open311's service definition) and a default team.
 * - `request_routes`: per area (an estate area), the team a category's requests go to.
 * - `requests`: one row per report. `reference` is the short public id (Open311's
 *   service_request_id), `token` the Open311 token. The reporter's name, email and phone live
 *   here: this is a personal-data table. `external_id` is FixMyStreet's id for the report.
 * - `request_updates`: public updates and internal notes, each with the status it moved to;
 *   `external_id` is FixMyStreet's update id, unique per request, so a repeated POST adds nothing.
 * - `request_setup`: the messaging service and templates reporters are told through, made on first use.
 *
 * Open311 GET requests filters by service code and requested date, newest first, 1,000 at most:
 * `(category_code, created_at)` and `(created_at)` make that an index range on both dialects.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('request_teams')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('request_categories')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_cy', 'text')
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('keywords', 'text', (c) => c.notNull())
    .addColumn('target_hours', 'integer', (c) => c.notNull())
    .addColumn('service_notice', 'text')
    .addColumn('attributes_json', t.json, (c) => c.notNull())
    .addColumn('default_team_id', t.id, (c) => c.references('request_teams.id'))
    .addColumn('is_enabled', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('request_routes')
    .addColumn('category_code', 'text', (c) => c.notNull().references('request_categories.code').onDelete('cascade'))
    .addColumn('area_id', t.id, (c) => c.notNull())
    .addColumn('team_id', t.id, (c) => c.notNull().references('request_teams.id'))
    .addPrimaryKeyConstraint('request_routes_pk', ['category_code', 'area_id'])
    .execute();

  await db.schema
    .createTable('requests')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('token', 'text', (c) => c.notNull().unique())
    .addColumn('category_code', 'text', (c) => c.notNull().references('request_categories.code'))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'acknowledged', 'in_progress', 'fixed', 'closed', 'not_ours', 'duplicate')`))
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('lat', t.real)
    .addColumn('lon', t.real)
    .addColumn('address', 'text')
    .addColumn('address_id', 'text')
    .addColumn('postcode', 'text')
    .addColumn('area_id', t.id)
    .addColumn('team_id', t.id, (c) => c.references('request_teams.id'))
    .addColumn('reporter_resident_id', t.id, (c) => c.references('residents.id').onDelete('set null'))
    .addColumn('reporter_name', 'text')
    .addColumn('reporter_email', 'text')
    .addColumn('reporter_phone', 'text')
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('submitted_by', 'text')
    .addColumn('external_id', 'text')
    .addColumn('attributes_json', t.json, (c) => c.notNull())
    .addColumn('media_url', 'text')
    .addColumn('status_notes', 'text')
    .addColumn('duplicate_of', t.id, (c) => c.references('requests.id'))
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addColumn('due_at', t.time, (c) => c.notNull())
    .addColumn('acknowledged_at', t.time)
    .addColumn('closed_at', t.time)
    .execute();
  await db.schema.createIndex('requests_category_created').on('requests').columns(['category_code', 'created_at']).execute();
  await db.schema.createIndex('requests_created').on('requests').column('created_at').execute();
  // The console's queues: a team's requests by status, and what is overdue.
  await db.schema.createIndex('requests_team_status').on('requests').columns(['team_id', 'status', 'due_at']).execute();
  await db.schema.createIndex('requests_status_due').on('requests').columns(['status', 'due_at']).execute();
  await db.schema.createIndex('requests_area').on('requests').columns(['area_id', 'created_at']).execute();
  await db.schema.createIndex('requests_resident').on('requests').columns(['reporter_resident_id', 'created_at']).where('reporter_resident_id', 'is not', null).execute();
  await db.schema.createIndex('requests_external').on('requests').column('external_id').where('external_id', 'is not', null).execute();
  await db.schema.createIndex('requests_duplicate_of').on('requests').column('duplicate_of').where('duplicate_of', 'is not', null).execute();

  await db.schema
    .createTable('request_updates')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('request_id', t.id, (c) => c.notNull().references('requests.id').onDelete('cascade'))
    .addColumn('is_public', t.bool, (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('status', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('author_type', 'text', (c) => c.notNull())
    .addColumn('author_id', 'text')
    .addColumn('author_label', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('request_updates_request').on('request_updates').columns(['request_id', 'created_at']).execute();
  // GET servicerequestupdates: public updates in a time window.
  await db.schema.createIndex('request_updates_public').on('request_updates').column('created_at').where(sql.ref('is_public'), '=', sql.lit(true)).execute();
  await db.schema.createIndex('request_updates_external').on('request_updates').columns(['request_id', 'external_id']).unique().where('external_id', 'is not', null).execute();

  await db.schema
    .createTable('request_setup')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['request_setup', 'request_updates', 'requests', 'request_routes', 'request_categories', 'request_teams']) await db.schema.dropTable(table).execute();
}
