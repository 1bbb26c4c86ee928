import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * The development GOV.UK Pay (modules/devpay, on only with WEFT_DEV_PAY=true): its accounts
 * (an API key stored as an HMAC, the webhook it calls and that webhook's signing secret, sealed)
 * and the payments made through them, so a demo's payments survive a restart. No card details
 * and no personal data: a payment holds what Weft sent Pay (amount, reference, description).
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('dev_pay_accounts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    // HMAC-SHA256 of the API key under WEFT_SECRET, as Weft's own API keys are kept
    .addColumn('api_key_hash', 'text', (c) => c.notNull().unique())
    // Pay's webhook: where card_payment_succeeded goes, and its signing secret (sealed)
    .addColumn('webhook_url', 'text')
    .addColumn('webhook_secret_sealed', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('dev_pay_payments')
    // Pay's payment_id: 26 lower-case letters and digits
    .addColumn('payment_id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', t.id, (c) => c.notNull().references('dev_pay_accounts.id').onDelete('cascade'))
    .addColumn('amount', 'integer', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('return_url', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    // Pay's state: status (created, started, success, failed, cancelled), message and code
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('state_message', 'text')
    .addColumn('state_code', 'text')
    // the single-use next_url's token, as an HMAC; is_token_used once it has been opened
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('is_token_used', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dev_pay_payments_account').on('dev_pay_payments').columns(['account_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('dev_pay_payments').execute();
  await db.schema.dropTable('dev_pay_accounts').execute();
}
