import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Residents as messaging knows them: contact points, language, accessibility needs, quiet hours
 * and the channels they prefer for each topic. Personal data: export and erasure (issue 7) touch
 * these tables. Notifications remember the resident they went to and the channels still to try.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('residents')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('mobile', 'text')
    .addColumn('landline', 'text')
    .addColumn('address_json', t.json)
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('is_large_print', t.bool, (c) => c.notNull())
    .addColumn('is_voice_preferred', t.bool, (c) => c.notNull())
    // Local (Europe/London) times as HH:MM; no message that is not urgent goes out between them.
    .addColumn('quiet_from', 'text')
    .addColumn('quiet_to', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('residents_email').on('residents').column('email').execute();
  await db.schema.createIndex('residents_mobile').on('residents').column('mobile').execute();

  await db.schema
    .createTable('resident_channel_preferences')
    .addColumn('resident_id', t.id, (c) => c.notNull().references('residents.id').onDelete('cascade'))
    // A topic key (bin-collections, library-reservations, …) or '*' for everything else.
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('channels_json', t.json, (c) => c.notNull())
    .addPrimaryKeyConstraint('resident_channel_preferences_pk', ['resident_id', 'topic'])
    .execute();

  await db.schema.alterTable('notifications').addColumn('resident_id', t.id).execute();
  await db.schema.alterTable('notifications').addColumn('fallback_json', t.json).execute();
  await db.schema.alterTable('notifications').addColumn('fallback_of', t.id).execute();
  await db.schema.createIndex('notifications_resident').on('notifications').columns(['resident_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('notifications_resident').execute();
  for (const column of ['fallback_of', 'fallback_json', 'resident_id']) await db.schema.alterTable('notifications').dropColumn(column).execute();
  await db.schema.dropTable('resident_channel_preferences').execute();
  await db.schema.dropTable('residents').execute();
}
