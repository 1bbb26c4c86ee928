import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Telemetry: raw readings, hourly and daily rollups, the latest value per device and
 * metric, and quarantined readings. No foreign keys to devices: readings are the hot
 * path, and devices are decommissioned, never deleted.
 *
 * PostgreSQL: readings are partitioned by day on measured_at (partitions are created
 * ahead by the telemetry.partitions job and on demand at ingest); the default partition
 * takes anything else, so no reading is ever refused for want of a partition.
 * SQLite: readings are a WITHOUT ROWID table clustered on its key.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  const pgsql = t.id === 'uuid';

  if (pgsql) {
    await sql`CREATE TABLE readings (
      device_id uuid NOT NULL,
      metric text NOT NULL,
      measured_at timestamptz NOT NULL,
      value double precision NOT NULL,
      PRIMARY KEY (device_id, metric, measured_at)
    ) PARTITION BY RANGE (measured_at)`.execute(db);
    await sql`CREATE TABLE readings_default PARTITION OF readings DEFAULT`.execute(db);
  } else {
    await sql`CREATE TABLE readings (
      device_id text NOT NULL,
      metric text NOT NULL,
      measured_at integer NOT NULL,
      value real NOT NULL,
      PRIMARY KEY (device_id, metric, measured_at)
    ) WITHOUT ROWID`.execute(db);
  }

  for (const table of ['rollups_hourly', 'rollups_daily']) {
    let builder = db.schema
      .createTable(table)
      .addColumn('device_id', t.id, (c) => c.notNull())
      .addColumn('metric', 'text', (c) => c.notNull())
      .addColumn('bucket_at', t.time, (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('min', t.real, (c) => c.notNull())
      .addColumn('max', t.real, (c) => c.notNull())
      .addColumn('sum', t.real, (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['device_id', 'metric', 'bucket_at']);
    if (!pgsql) builder = builder.modifyEnd(sql`WITHOUT ROWID`);
    await builder.execute();
  }

  let latest = db.schema
    .createTable('latest')
    .addColumn('device_id', t.id, (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('measured_at', t.time, (c) => c.notNull())
    .addColumn('value', t.real, (c) => c.notNull())
    .addPrimaryKeyConstraint('latest_pk', ['device_id', 'metric']);
  if (!pgsql) latest = latest.modifyEnd(sql`WITHOUT ROWID`);
  await latest.execute();

  await db.schema
    .createTable('quarantine')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('device_id', t.id, (c) => c.notNull())
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('measured_at', t.time, (c) => c.notNull())
    .addColumn('value', t.real, (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('received_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('quarantine_device').on('quarantine').columns(['device_id', 'id']).execute();
  await db.schema.createIndex('quarantine_received').on('quarantine').column('received_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['quarantine', 'latest', 'rollups_daily', 'rollups_hourly', 'readings']) {
    await db.schema.dropTable(table).execute();
  }
}
