import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * The residents' portal: passwordless sign-in and residents' sessions.
 *
 * - `portal_sign_in_requests`: each link or code sent, to sign in or to confirm a new email
 *   address or mobile number. The secret is kept only as an HMAC under WEFT_SECRET (a code's with
 *   the request's id, so the million codes cannot be tabled); `browser_hash` ties a code to the
 *   browser that asked for it; `attempts` counts tries at a code. The contact point and address
 *   are kept for the rate limits (per contact point, per address, over an hour) and go after a day.
 *   `signup_hash` is the cookie of someone who proved an email or mobile no resident has yet,
 *   until they give their name.
 * - `portal_sessions`: residents' sessions, keyed by the token's HMAC, with an idle and an
 *   absolute expiry; they go with the resident.
 * - `portal_limit_keys`: one row per contact point or address asking, locked while its requests
 *   are counted, so two processes cannot both let the last request of an hour through.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('portal_sign_in_requests')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('browser_hash', 'text')
    .addColumn('resident_id', t.id, (c) => c.references('residents.id').onDelete('cascade'))
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('next_path', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('expires_at', t.time, (c) => c.notNull())
    .addColumn('used_at', t.time)
    .addColumn('signup_hash', 'text', (c) => c.unique())
    .addColumn('signup_expires_at', t.time)
    .execute();
  await db.schema.createIndex('portal_sign_in_requests_contact').on('portal_sign_in_requests').columns(['contact', 'created_at']).execute();
  await db.schema.createIndex('portal_sign_in_requests_ip').on('portal_sign_in_requests').columns(['ip', 'created_at']).execute();
  await db.schema.createIndex('portal_sign_in_requests_browser').on('portal_sign_in_requests').columns(['browser_hash', 'created_at']).execute();
  await db.schema.createIndex('portal_sign_in_requests_created').on('portal_sign_in_requests').column('created_at').execute();

  await db.schema
    .createTable('portal_sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('resident_id', t.id, (c) => c.notNull().references('residents.id').onDelete('cascade'))
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('last_seen_at', t.time, (c) => c.notNull())
    .addColumn('expires_at', t.time, (c) => c.notNull())
    .addColumn('ip', 'text')
    .execute();
  await db.schema.createIndex('portal_sessions_resident').on('portal_sessions').column('resident_id').execute();
  await db.schema.createIndex('portal_sessions_expires').on('portal_sessions').column('expires_at').execute();

  await db.schema
    .createTable('portal_limit_keys')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('touched_at', t.time, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('portal_limit_keys').execute();
  await db.schema.dropTable('portal_sessions').execute();
  await db.schema.dropTable('portal_sign_in_requests').execute();
}
