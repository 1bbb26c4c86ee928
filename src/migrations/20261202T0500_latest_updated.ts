import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * PostgreSQL: when each latest row last changed, by the database's clock, so a process can
 * keep its in-memory copy of latest current by reading only what changed since it last
 * looked (other processes write latest too). SQLite needs nothing: one file, and
 * `PRAGMA data_version` already tells a connection when another has written.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  if (t.id !== 'uuid') return;
  // now(), not clock_timestamp(): a stable default adds the column without rewriting the table.
  // The upsert in telemetry.repository.ts sets it to clock_timestamp() on every write.
  await sql`ALTER TABLE latest ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`.execute(db);
  await db.schema.createIndex('latest_updated').on('latest').column('updated_at').execute();
}

export async function down(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  if (t.id !== 'uuid') return;
  await db.schema.dropIndex('latest_updated').execute();
  await sql`ALTER TABLE latest DROP COLUMN updated_at`.execute(db);
}
