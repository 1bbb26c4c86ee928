import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * School closures: an officer closes schools on a day for a reason, and every resident
 * subscribed to them is told at once. The closure keeps a campaign for each school (its
 * subscribers, each on their own channel), and is announced by a durable job.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('school_closures')
    .addColumn('id', t.id, (c) => c.primaryKey())
    // YYYY-MM-DD, the day in the UK the schools are closed
    .addColumn('closed_on', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('reason_cy', 'text')
    // [{ siteId, name, campaignId | null, subscribers }]
    .addColumn('schools_json', t.json, (c) => c.notNull())
    // announcing (the job is making the campaigns), announced
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('announced_at', t.time)
    .execute();
  await db.schema.createIndex('school_closures_day').on('school_closures').columns(['closed_on', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('school_closures').execute();
}
