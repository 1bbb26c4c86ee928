import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * The council's postcode list (the estate's): each postcode's centre, as the ONS Postcode
 * Directory gives it, and the area it lies in, so a resident who gives only a postcode can be
 * placed. Keyed by the postcode as Weft writes it (upper case, one space: SW1A 1AA). Not personal
 * data: a postcode's centre is public.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('postcodes')
    .addColumn('postcode', 'text', (c) => c.primaryKey())
    .addColumn('lat', t.real, (c) => c.notNull())
    .addColumn('lon', t.real, (c) => c.notNull())
    // placed again whenever areas are imported or deleted, as sites are
    .addColumn('area_id', t.id, (c) => c.references('areas.id').onDelete('set null'))
    // when the row was last imported
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('postcodes_area').on('postcodes').column('area_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('postcodes').execute();
}
