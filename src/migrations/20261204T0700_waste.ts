import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Bin collection rounds: which areas a round serves, which bin it empties, on which weekday and
 * how often (from a first collection day); days moved (bank holidays); and the reminders sent,
 * one a round a collection day.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('collection_rounds')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    // what residents put out, as they say it: "Recycling (blue bin)"
    .addColumn('bin', 'text', (c) => c.notNull())
    .addColumn('bin_cy', 'text')
    .addColumn('area_ids_json', t.json, (c) => c.notNull())
    // a collection day: YYYY-MM-DD (UK); the round comes every `every_weeks` weeks from it
    .addColumn('first_day', 'text', (c) => c.notNull())
    .addColumn('every_weeks', 'integer', (c) => c.notNull())
    .addColumn('is_enabled', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('collection_changes')
    .addColumn('round_id', t.id, (c) => c.notNull().references('collection_rounds.id').onDelete('cascade'))
    .addColumn('usual_day', 'text', (c) => c.notNull())
    .addColumn('moved_to', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addPrimaryKeyConstraint('collection_changes_pk', ['round_id', 'usual_day'])
    .execute();
  await db.schema.createIndex('collection_changes_moved').on('collection_changes').column('moved_to').execute();
  await db.schema
    .createTable('collection_reminders')
    .addColumn('round_id', t.id, (c) => c.notNull().references('collection_rounds.id').onDelete('cascade'))
    .addColumn('collection_day', 'text', (c) => c.notNull())
    .addColumn('campaign_id', t.id)
    .addColumn('residents', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('collection_reminders_pk', ['round_id', 'collection_day'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('collection_reminders').execute();
  await db.schema.dropTable('collection_changes').execute();
  await db.schema.dropTable('collection_rounds').execute();
}
