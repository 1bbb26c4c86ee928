import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * The daily letter print batch: each print provider's letters of a day, rendered into one PDF
 * per postage class plus a manifest in WEFT_DATA_DIR/print/<day>/. The files are personal data
 * on disk; the database keeps which letters are in which batch, so they can be made again.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('print_batches')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('provider_id', t.id, (c) => c.notNull())
    .addColumn('provider_name', 'text', (c) => c.notNull())
    // The day in the UK (YYYY-MM-DD): one batch a provider a day.
    .addColumn('day', 'text', (c) => c.notNull())
    // building (letters taken, files being written), ready, dispatched
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('letter_count', 'integer', (c) => c.notNull())
    .addColumn('pages', 'integer', (c) => c.notNull())
    .addColumn('sheets', 'integer', (c) => c.notNull())
    // The folder under WEFT_DATA_DIR, and its files: [{postage, file, letters, pages, sheets}]
    .addColumn('folder', 'text', (c) => c.notNull())
    .addColumn('files_json', t.json, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('ready_at', t.time)
    .addColumn('dispatched_at', t.time)
    .addColumn('dispatched_by', 'text')
    .execute();
  await db.schema.createIndex('print_batches_provider_day').on('print_batches').columns(['provider_id', 'day']).unique().execute();
  await db.schema.createIndex('print_batches_status').on('print_batches').columns(['status', 'provider_id']).execute();

  // A letter is in one batch at most.
  await db.schema
    .createTable('print_batch_letters')
    .addColumn('notification_id', t.id, (c) => c.primaryKey())
    .addColumn('batch_id', t.id, (c) => c.notNull().references('print_batches.id').onDelete('cascade'))
    .addColumn('postage', 'text', (c) => c.notNull())
    // Known once the letter is rendered: its pages, sheets (printed on both sides) and first page in its file.
    .addColumn('pages', 'integer')
    .addColumn('sheets', 'integer')
    .addColumn('first_page', 'integer')
    .execute();
  await db.schema.createIndex('print_batch_letters_batch').on('print_batch_letters').columns(['batch_id', 'postage', 'notification_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('print_batch_letters').execute();
  await db.schema.dropTable('print_batches').execute();
}
