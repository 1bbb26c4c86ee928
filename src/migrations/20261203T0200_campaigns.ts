import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Campaigns: one template sent to many recipients from a checked CSV. The file is kept until
 * every row has become a notification, then dropped (it is personal data).
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('campaigns')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('service_id', t.id, (c) => c.notNull().references('message_services.id'))
    .addColumn('template_id', t.id, (c) => c.notNull())
    .addColumn('template_version', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // draft, scheduled, sending, paused, cancelled, sent (every row made a notification)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('recipient_count', 'integer', (c) => c.notNull())
    .addColumn('created_count', 'integer', (c) => c.notNull())
    // Messages a minute this campaign may go out at; null: as fast as delivery goes.
    .addColumn('rate_per_minute', 'integer')
    .addColumn('scheduled_for_at', t.time)
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('started_at', t.time)
    .addColumn('finished_at', t.time)
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('campaigns_service').on('campaigns').columns(['service_id', 'created_at']).execute();

  await db.schema
    .createTable('campaign_files')
    .addColumn('campaign_id', t.id, (c) => c.primaryKey().references('campaigns.id').onDelete('cascade'))
    .addColumn('csv', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('campaign_files').execute();
  await db.schema.dropTable('campaigns').execute();
}
