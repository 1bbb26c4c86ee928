import { type Kysely, sql } from 'kysely';

/**
 * A campaign checks again, once each chunk is stored, whether anyone's consent ended while it was
 * being made. It asks only for withdrawals and erasures since the chunk was read: these partial
 * indexes hold just the rows that have one, so the question costs next to nothing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('resident_consents_withdrawn').ifNotExists().on('resident_consents').column('withdrawn_at').where(sql.ref('withdrawn_at'), 'is not', null).execute();
  await db.schema.createIndex('residents_erased').ifNotExists().on('residents').column('erased_at').where(sql.ref('erased_at'), 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('residents_erased').execute();
  await db.schema.dropIndex('resident_consents_withdrawn').execute();
}
