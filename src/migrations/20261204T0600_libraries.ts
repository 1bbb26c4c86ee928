import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Libraries: a resident's library card (so the library system, which knows borrowers by card,
 * can reach them), and the reservation events it posts, kept by the library system's own event
 * id so one posted twice sends one message.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('library_cards')
    .addColumn('card_number', 'text', (c) => c.primaryKey())
    .addColumn('resident_id', t.id, (c) => c.notNull().references('residents.id').onDelete('cascade'))
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('library_cards_resident').on('library_cards').column('resident_id').execute();
  await db.schema
    .createTable('library_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('card_number', 'text', (c) => c.notNull())
    .addColumn('notification_id', t.id)
    .addColumn('received_at', t.time, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('library_events').execute();
  await db.schema.dropTable('library_cards').execute();
}
