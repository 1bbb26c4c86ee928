import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * A service's email reply-to addresses and text message senders, each with an id a sender may
 * name (Notify's email_reply_to_id and sms_sender_id); and the one-click unsubscribe link a
 * service gives with an email (Notify's one_click_unsubscribe_url, RFC 8058).
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('message_senders')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('service_id', t.id, (c) => c.notNull().references('message_services.id').onDelete('cascade'))
    // email_reply_to or sms_sender
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('message_senders_service').on('message_senders').columns(['service_id', 'kind']).execute();
  await db.schema.alterTable('notifications').addColumn('reply_to', 'text').execute();
  await db.schema.alterTable('notifications').addColumn('unsubscribe_url', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications').dropColumn('unsubscribe_url').execute();
  await db.schema.alterTable('notifications').dropColumn('reply_to').execute();
  await db.schema.dropTable('message_senders').execute();
}
