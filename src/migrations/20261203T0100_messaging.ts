import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Messaging: sending services (Notify's "services") and their API keys, templates and their
 * versions, notifications (each row is also its own delivery queue entry), opt-outs and
 * received text messages.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('message_services')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('sms_sender', 'text', (c) => c.notNull())
    .addColumn('email_from', 'text', (c) => c.notNull())
    .addColumn('email_reply_to', 'text')
    // Recipients a team key may send to: staff of the service.
    .addColumn('team_members_json', t.json, (c) => c.notNull())
    .addColumn('rate_limit_per_minute', 'integer', (c) => c.notNull())
    .addColumn('daily_limit', 'integer', (c) => c.notNull())
    .addColumn('callback_url', 'text')
    // Bearer token for callbacks, sealed (AES-256-GCM) under WEFT_SECRET.
    .addColumn('callback_token_sealed', 'text')
    .addColumn('inbound_callback_url', 'text')
    .addColumn('inbound_callback_token_sealed', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('message_keys')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('service_id', t.id, (c) => c.notNull().references('message_services.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    // normal (live), team or test, as Notify names them
    .addColumn('key_type', 'text', (c) => c.notNull())
    // The key's secret signs JWTs, so the server needs it back: sealed, never hashed.
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('revoked_at', t.time)
    .addColumn('last_used_at', t.time)
    .execute();
  await db.schema.createIndex('message_keys_service').on('message_keys').column('service_id').execute();

  await db.schema
    .createTable('templates')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('service_id', t.id, (c) => c.notNull().references('message_services.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('is_archived', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('templates_service').on('templates').columns(['service_id', 'type']).execute();

  await db.schema
    .createTable('template_versions')
    .addColumn('template_id', t.id, (c) => c.notNull().references('templates.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    // The Welsh variant, used for recipients whose language is Cymraeg.
    .addColumn('subject_cy', 'text')
    .addColumn('body_cy', 'text')
    // Channel extras: a voice keypad menu, RCS suggested replies, a letter's postage.
    .addColumn('options_json', t.json, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('template_versions_pk', ['template_id', 'version'])
    .execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('service_id', t.id, (c) => c.notNull().references('message_services.id'))
    .addColumn('key_id', t.id)
    .addColumn('key_type', 'text', (c) => c.notNull())
    .addColumn('template_id', t.id, (c) => c.notNull())
    .addColumn('template_version', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    // The address as given (email, phone number, or the letter's first line) and normalised (for opt-outs and search).
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('normalised_to', 'text', (c) => c.notNull())
    .addColumn('address_json', t.json)
    .addColumn('reference', 'text')
    .addColumn('personalisation_json', t.json, (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('billable_units', 'integer', (c) => c.notNull())
    .addColumn('postage', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('provider', 'text')
    .addColumn('provider_ref', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    // The delivery queue: due when next_attempt_at has passed; a claim sets locked_until.
    .addColumn('next_attempt_at', t.time)
    .addColumn('locked_until', t.time)
    .addColumn('locked_by', 'text')
    .addColumn('campaign_id', t.id)
    .addColumn('row_number', 'integer')
    .addColumn('created_by_name', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('scheduled_for_at', t.time)
    .addColumn('sent_at', t.time)
    .addColumn('completed_at', t.time)
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notifications_service').on('notifications').columns(['service_id', 'created_at', 'id']).execute();
  await db.schema.createIndex('notifications_reference').on('notifications').columns(['service_id', 'reference']).execute();
  await db.schema.createIndex('notifications_due').on('notifications').columns(['next_attempt_at']).where('next_attempt_at', 'is not', null).execute();
  await db.schema.createIndex('notifications_provider_ref').on('notifications').columns(['provider', 'provider_ref']).execute();
  await db.schema.createIndex('notifications_campaign').on('notifications').columns(['campaign_id', 'row_number']).unique().execute();

  // Letters sent as a finished PDF (Notify's precompiled letters).
  await db.schema
    .createTable('letter_files')
    .addColumn('notification_id', t.id, (c) => c.primaryKey())
    .addColumn('pdf', t.id === 'uuid' ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('message_providers')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('channel', 'text', (c) => c.notNull())
    // inbox (the development inbox), smtp, twilio, notify, webhook or print
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // Lower goes first; the next is tried when one fails or times out.
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('settings_json', t.json, (c) => c.notNull())
    // Passwords and tokens, sealed (AES-256-GCM) under WEFT_SECRET.
    .addColumn('secrets_sealed', 'text')
    .addColumn('is_enabled', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('message_providers_channel').on('message_providers').columns(['channel', 'priority']).execute();

  await db.schema
    .createTable('opt_outs')
    .addColumn('normalised_to', 'text', (c) => c.primaryKey())
    .addColumn('keyword', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('received_texts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('service_id', t.id, (c) => c.notNull().references('message_services.id').onDelete('cascade'))
    .addColumn('user_number', 'text', (c) => c.notNull())
    .addColumn('notify_number', 'text', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('provider_ref', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('received_texts_service').on('received_texts').columns(['service_id', 'created_at', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['received_texts', 'opt_outs', 'notifications', 'message_providers', 'letter_files', 'template_versions', 'templates', 'message_keys', 'message_services']) {
    await db.schema.dropTable(table).execute();
  }
}
