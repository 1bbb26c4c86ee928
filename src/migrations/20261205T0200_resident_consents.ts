import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Residents' consents: what a resident agreed to (`purpose`: `messages:<topic>`, or a named
 * purpose such as `marketing`), the words they were shown (`wording`, in `language`, and the
 * version id of those words), when, and where (`source`: `portal:/account/…`, `staff:console`,
 * `api`); `withdrawn_at` once they take it back. Each giving is a row of its own, so the history
 * stays; at most one of a resident's rows for a purpose is in force (not withdrawn).
 *
 * `residents.erased_at`: when a resident's personal data was erased (the row stays, anonymised,
 * so counts of requests and messages still add up).
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('resident_consents')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('resident_id', t.id, (c) => c.notNull().references('residents.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('wording_version', 'text', (c) => c.notNull())
    .addColumn('wording', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('given_at', t.time, (c) => c.notNull())
    .addColumn('withdrawn_at', t.time)
    .addColumn('withdrawn_source', 'text')
    .execute();
  await db.schema.createIndex('resident_consents_resident').on('resident_consents').columns(['resident_id', 'given_at']).execute();
  await db.schema.createIndex('resident_consents_in_force').on('resident_consents').columns(['resident_id', 'purpose']).unique().where(sql.ref('withdrawn_at'), 'is', null).execute();

  await db.schema.alterTable('residents').addColumn('erased_at', t.time).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('residents').dropColumn('erased_at').execute();
  await db.schema.dropTable('resident_consents').execute();
}
