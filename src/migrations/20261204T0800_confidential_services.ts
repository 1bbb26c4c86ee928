import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * A confidential messaging service sends secrets (a resident's sign-in link or code): staff
 * pages and the API show its messages' addresses and statuses, never their text.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .alterTable('message_services')
    .addColumn('is_confidential', t.bool, (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('message_services').dropColumn('is_confidential').execute();
}
