import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/** LoRaWAN network-server integrations (The Things Stack, ChirpStack) and their webhook tokens. */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('lorawan_integrations')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('token_prefix', 'text', (c) => c.notNull())
    .addColumn('default_profile_id', t.id, (c) => c.references('device_profiles.id').onDelete('set null'))
    .addColumn('created_by', t.id, (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('revoked_at', t.time)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('lorawan_integrations').execute();
}
