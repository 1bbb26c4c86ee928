import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Campaigns to an audience: residents subscribed to a topic in some areas or at some sites, each
 * sent on their own channel. The campaign keeps who it is for, a template (and its version) for
 * each channel it may go on, the values every message shares, whether it is urgent (quiet hours
 * do not hold it), and how many residents it could not reach on any of its channels.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema.alterTable('campaigns').addColumn('audience_json', t.json).execute();
  await db.schema.alterTable('campaigns').addColumn('templates_json', t.json).execute();
  await db.schema.alterTable('campaigns').addColumn('personalisation_json', t.json).execute();
  await db.schema
    .alterTable('campaigns')
    .addColumn('is_urgent', t.bool, (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .alterTable('campaigns')
    .addColumn('skipped_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['skipped_count', 'is_urgent', 'personalisation_json', 'templates_json', 'audience_json']) await db.schema.alterTable('campaigns').dropColumn(column).execute();
}
