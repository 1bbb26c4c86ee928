import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * PostgreSQL: each latest row records the transaction that last wrote it (`written_by`, a
 * 64-bit transaction id that never wraps). A process keeping an in-memory copy of latest
 * remembers the snapshot of its last read and next fetches only the rows written by
 * transactions that snapshot could not see: exact, however late another process commits.
 * This replaces the clock-based `updated_at` of 20261202T0500, which had to re-read a window
 * of recent rows on every look and could miss a commit later than that window.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  if (t.id !== 'uuid') return;
  await db.schema.dropIndex('latest_updated').execute();
  await sql`ALTER TABLE latest DROP COLUMN updated_at`.execute(db);
  await sql`ALTER TABLE latest ADD COLUMN written_by xid8 NOT NULL DEFAULT pg_current_xact_id()`.execute(db);
  await db.schema.createIndex('latest_written_by').on('latest').column('written_by').execute();
}

export async function down(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  if (t.id !== 'uuid') return;
  await db.schema.dropIndex('latest_written_by').execute();
  await sql`ALTER TABLE latest DROP COLUMN written_by`.execute(db);
  await sql`ALTER TABLE latest ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`.execute(db);
  await db.schema.createIndex('latest_updated').on('latest').column('updated_at').execute();
}
