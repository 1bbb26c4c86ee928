import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Pay links and tracked short links. A messaging service may have a GOV.UK Pay account (its API
 * key and webhook signing secret sealed); a pay link asks a resident for an amount, reached
 * through a short link `/l/{code}`; each time the resident follows it a GOV.UK Pay payment may
 * be made (Pay gives each payment 90 minutes and a single-use address). Reminders are ordinary
 * scheduled notifications, listed against the pay link so that paying cancels them. Clicks are
 * counted by link and day: nothing about who clicked is kept.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('pay_accounts')
    .addColumn('service_id', t.id, (c) => c.primaryKey().references('message_services.id').onDelete('cascade'))
    .addColumn('base_url', 'text', (c) => c.notNull())
    // Sealed (AES-256-GCM) under WEFT_SECRET: the API key and the webhook signing secret.
    .addColumn('api_key_sealed', 'text', (c) => c.notNull())
    .addColumn('webhook_secret_sealed', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('pay_links')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('service_id', t.id, (c) => c.notNull().references('message_services.id'))
    .addColumn('code', 'text', (c) => c.notNull().unique())
    // The message that first carried the link.
    .addColumn('notification_id', t.id, (c) => c.notNull())
    .addColumn('amount_pence', 'integer', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('return_url', 'text')
    // unpaid or paid
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('paid_amount_pence', 'integer')
    .addColumn('paid_payment_id', 'text')
    .addColumn('paid_at', t.time)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('pay_links_service').on('pay_links').columns(['service_id', 'created_at']).execute();

  await db.schema
    .createTable('pay_payments')
    // GOV.UK Pay's payment_id
    .addColumn('payment_id', 'text', (c) => c.primaryKey())
    .addColumn('pay_link_id', t.id, (c) => c.notNull().references('pay_links.id').onDelete('cascade'))
    // Pay's state.status: created, started, submitted, capturable, success, failed, cancelled, error
    .addColumn('status', 'text', (c) => c.notNull())
    // Pay's single-use next_url until a resident is sent to it; null once given out.
    .addColumn('next_url', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addColumn('checked_at', t.time)
    .execute();
  await db.schema.createIndex('pay_payments_link').on('pay_payments').columns(['pay_link_id', 'created_at']).execute();
  await db.schema.createIndex('pay_payments_status').on('pay_payments').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('pay_reminders')
    .addColumn('notification_id', t.id, (c) => c.primaryKey())
    .addColumn('pay_link_id', t.id, (c) => c.notNull().references('pay_links.id').onDelete('cascade'))
    .addColumn('after_days', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('pay_reminders_link').on('pay_reminders').column('pay_link_id').execute();

  await db.schema
    .createTable('short_links')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('service_id', t.id, (c) => c.notNull().references('message_services.id'))
    .addColumn('notification_id', t.id)
    // A pay link's code leads to GOV.UK Pay; any other code to its target.
    .addColumn('pay_link_id', t.id)
    .addColumn('target_url', 'text')
    .addColumn('expires_at', t.time, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('short_links_notification').on('short_links').column('notification_id').execute();

  // A count a link a day (UTC, YYYY-MM-DD): no address, cookie, browser or time of day.
  await db.schema
    .createTable('short_link_clicks')
    .addColumn('code', 'text', (c) => c.notNull().references('short_links.code').onDelete('cascade'))
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('clicks', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('short_link_clicks_pk', ['code', 'day'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['short_link_clicks', 'short_links', 'pay_reminders', 'pay_payments', 'pay_links', 'pay_accounts']) await db.schema.dropTable(table).execute();
}
