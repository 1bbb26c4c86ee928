import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Photos residents send with a report: a JPEG or a PNG (checked by its first bytes, 5 MB at
 * most), kept in the database so a backup of it is a backup of everything. The request's
 * `media_url` points at `/request-photos/{id}.jpg|png`, which serves it to anyone (Open311
 * shows the link). A photo goes when its request goes.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('request_photos')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('request_id', t.id, (c) => c.notNull().references('requests.id').onDelete('cascade'))
    .addColumn('content_type', 'text', (c) => c.notNull().check(sql`content_type in ('image/jpeg', 'image/png')`))
    .addColumn('bytes', t.id === 'uuid' ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('request_photos_request').on('request_photos').column('request_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('request_photos').execute();
}
