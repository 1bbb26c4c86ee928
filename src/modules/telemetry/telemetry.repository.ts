import type BetterSqlite3 from 'better-sqlite3';
import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../../platform/db/database.js';

export interface ReadingsTable {
  device_id: string;
  metric: string;
  measured_at: Date;
  value: number;
}

export interface RollupsTable {
  device_id: string;
  metric: string;
  bucket_at: Date;
  count: number;
  min: number;
  max: number;
  sum: number;
}

export interface LatestTable {
  device_id: string;
  metric: string;
  measured_at: Date;
  value: number;
}

export interface QuarantineTable {
  id: string;
  device_id: string;
  metric: string;
  measured_at: Date;
  value: number;
  reason: string;
  source: string;
  received_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    readings: ReadingsTable;
    rollups_hourly: RollupsTable;
    rollups_daily: RollupsTable;
    latest: LatestTable;
    quarantine: QuarantineTable;
  }
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * One device's checked readings, column by column (times in epoch ms): the shape the bulk
 * insert wants, with no object per reading.
 */
export interface Batch {
  deviceId: string;
  metrics: string[];
  ats: number[];
  values: number[];
  quarantine: { id: string; metric: string; at: number; value: number; reason: string }[];
  source: string;
  receivedAt: number;
}

/** What was actually inserted: duplicates of stored readings are not. */
export interface StoredRows {
  metrics: string[];
  ats: number[];
  values: number[];
}

interface Agg {
  metric: string;
  bucket: number;
  count: number;
  min: number;
  max: number;
  sum: number;
}

export interface BatchRollups {
  hourly: Agg[];
  daily: Agg[];
  latest: { metric: string; at: number; value: number }[];
}

/**
 * Aggregates a batch's inserted readings in memory, so each device × metric × bucket costs
 * one upsert however many readings fall in it. Sorted, so concurrent batches lock rows in
 * the same order.
 */
export function rollupBatch(rows: StoredRows): BatchRollups {
  const hourly = new Map<string, Map<number, Agg>>();
  const daily = new Map<string, Map<number, Agg>>();
  const latest = new Map<string, { metric: string; at: number; value: number }>();
  const add = (maps: Map<string, Map<number, Agg>>, metric: string, bucket: number, value: number) => {
    let byBucket = maps.get(metric);
    if (!byBucket) {
      byBucket = new Map();
      maps.set(metric, byBucket);
    }
    const a = byBucket.get(bucket);
    if (!a) byBucket.set(bucket, { metric, bucket, count: 1, min: value, max: value, sum: value });
    else {
      a.count++;
      if (value < a.min) a.min = value;
      if (value > a.max) a.max = value;
      a.sum += value;
    }
  };
  const { metrics, ats, values } = rows;
  for (let i = 0; i < metrics.length; i++) {
    const metric = metrics[i];
    const at = ats[i];
    const value = values[i];
    add(hourly, metric, at - (at % HOUR_MS), value);
    add(daily, metric, at - (at % DAY_MS), value);
    const l = latest.get(metric);
    if (!l) latest.set(metric, { metric, at, value });
    else if (at > l.at) {
      l.at = at;
      l.value = value;
    }
  }
  const flat = (maps: Map<string, Map<number, Agg>>) => [...maps.values()].flatMap((m) => [...m.values()]).sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : a.bucket - b.bucket));
  return { hourly: flat(hourly), daily: flat(daily), latest: [...latest.values()].sort((a, b) => (a.metric < b.metric ? -1 : 1)) };
}

/** Read-only: on SQLite the same frozen rows are handed to every caller. */
export interface LatestRow {
  readonly deviceId: string;
  readonly metric: string;
  readonly value: number;
  readonly at: Date;
}

export interface AggregateRow {
  at: Date;
  count: number;
  min: number;
  max: number;
  mean: number;
}

export interface QuarantineQuery {
  deviceId?: string;
  deviceIds?: string[];
  /** keyset paging: quarantine ids are time-ordered */
  before?: string;
  limit: number;
}

const PARTITION = /^readings_p(\d{4})(\d{2})(\d{2})$/;

/** UTC day → partition name, e.g. readings_p20261202. */
export function partitionName(dayStart: number): string {
  return `readings_p${new Date(dayStart).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

type LatestCopy = Map<string, readonly LatestRow[]>;

function isNewer(row: LatestRow, held: readonly LatestRow[] | undefined): boolean {
  const had = held?.find((r) => r.metric === row.metric);
  return !had || row.at.getTime() > had.at.getTime();
}

/** Folds newer values into the copy: a touched device gets a new array, so rows already handed out never change. */
function mergeLatest(byDevice: LatestCopy, rows: LatestRow[]): void {
  const touched = new Map<string, Map<string, LatestRow>>();
  for (const row of rows) {
    let metrics = touched.get(row.deviceId);
    // A row this process wrote itself comes back from PostgreSQL's next look: skip it without copying the device.
    if (!metrics && !isNewer(row, byDevice.get(row.deviceId))) continue;
    if (!metrics) {
      metrics = new Map((byDevice.get(row.deviceId) ?? []).map((r) => [r.metric, r]));
      touched.set(row.deviceId, metrics);
    }
    const had = metrics.get(row.metric);
    // Later in time wins, whichever arrives first: this process's commit or another's read back.
    if (!had || row.at.getTime() > had.at.getTime()) metrics.set(row.metric, Object.freeze(row));
  }
  for (const [deviceId, metrics] of touched)
    byDevice.set(
      deviceId,
      [...metrics.values()].sort((a, b) => (a.metric < b.metric ? -1 : 1)),
    );
}

/** The copy's rows of the given devices (each once), optionally of some metrics only. */
function pickLatest(byDevice: LatestCopy, deviceIds: string[], metrics?: string[]): LatestRow[] {
  const wanted = metrics?.length ? new Set(metrics) : undefined;
  const out: LatestRow[] = [];
  const seen = new Set<string>();
  for (const deviceId of deviceIds) {
    const rows = byDevice.get(deviceId);
    if (!rows || seen.has(deviceId)) continue;
    seen.add(deviceId);
    for (const row of rows) if (!wanted || wanted.has(row.metric)) out.push(row);
  }
  return out;
}

/**
 * Wraps a refresh so concurrent callers share runs. A caller arriving while one runs waits for
 * the next, which starts after it called: it still sees everything committed before it asked.
 */
function coalesced(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const start = (): Promise<void> => {
    const p = run().finally(() => {
      if (running === p) running = undefined;
    });
    running = p;
    return p;
  };
  return () => {
    if (!running) return start();
    queued ??= running
      .catch(() => {})
      .then(() => {
        queued = undefined;
        return start();
      });
    return queued;
  };
}

interface SqliteStatements {
  insert: BetterSqlite3.Statement;
  quarantine: BetterSqlite3.Statement;
  hourly: BetterSqlite3.Statement;
  daily: BetterSqlite3.Statement;
  latest: BetterSqlite3.Statement;
  allLatest: BetterSqlite3.Statement;
}

const upsertRollup = (table: string, least: string, greatest: string) =>
  `ON CONFLICT (device_id, metric, bucket_at) DO UPDATE SET "count" = ${table}."count" + excluded."count", "min" = ${least}(${table}."min", excluded."min"), "max" = ${greatest}(${table}."max", excluded."max"), "sum" = ${table}."sum" + excluded."sum"`;

/** Readings, rollups, latest values and quarantine: every statement of the telemetry module. */
export class TelemetryRepository {
  private stmts?: SqliteStatements;
  /**
   * A copy of the latest table in memory, so "latest values for 10,000 devices" is map lookups.
   * This process's ingest updates it after each commit. Other processes' writes: on SQLite
   * `PRAGMA data_version` (the version here) changes only when another connection commits, and
   * then the copy is read again. On PostgreSQL each read first fetches the rows written by
   * transactions that the snapshot of the last fetch (the version here) could not see: every
   * commit since, however late, and nothing twice. Any other statement of this repository that
   * writes `latest` must drop the copy or set written_by.
   */
  private latestCopy?: { version: number | string; byDevice: LatestCopy };
  private readonly refreshLatest = coalesced(() => this.pgRefreshLatest());
  /** PostgreSQL: UTC day starts (ms) known to have a partition of their own */
  private partitions?: Set<number>;

  constructor(private readonly db: Db) {}

  private sqliteStatements(): SqliteStatements {
    if (this.stmts) return this.stmts;
    const raw = this.db.driver.sqlite as BetterSqlite3.Database;
    const rollup = (table: string) =>
      raw.prepare(`INSERT INTO ${table} (device_id, metric, bucket_at, "count", "min", "max", "sum") VALUES (?, ?, ?, ?, ?, ?, ?) ${upsertRollup(table, 'min', 'max')}`);
    this.stmts = {
      insert: raw.prepare('INSERT INTO readings (device_id, metric, measured_at, value) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      quarantine: raw.prepare('INSERT INTO quarantine (id, device_id, metric, measured_at, value, reason, source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      hourly: rollup('rollups_hourly'),
      daily: rollup('rollups_daily'),
      latest: raw.prepare(
        'INSERT INTO latest (device_id, metric, measured_at, value) VALUES (?, ?, ?, ?) ON CONFLICT (device_id, metric) DO UPDATE SET measured_at = excluded.measured_at, value = excluded.value WHERE excluded.measured_at > latest.measured_at',
      ),
      allLatest: raw.prepare('SELECT device_id, metric, measured_at, value FROM latest ORDER BY device_id, metric').raw(true),
    };
    return this.stmts;
  }

  /**
   * Stores a batch in one transaction: readings (a duplicate key is skipped), quarantined
   * readings, and the rollups and latest values of what was actually inserted.
   */
  async storeBatch(batch: Batch): Promise<StoredRows> {
    return this.db.dialect === 'sqlite' ? this.storeSqlite(batch) : this.storePostgres(batch);
  }

  private async storeSqlite(batch: Batch): Promise<StoredRows> {
    const s = this.sqliteStatements();
    const raw = this.db.driver.sqlite as BetterSqlite3.Database;
    const { deviceId, metrics, ats, values } = batch;
    const run = raw.transaction(() => {
      const out: StoredRows = { metrics: [], ats: [], values: [] };
      // One prepared statement per row: better-sqlite3 runs these at close to SQLite's own speed.
      for (let i = 0; i < metrics.length; i++) {
        if (s.insert.run(deviceId, metrics[i], ats[i], values[i]).changes === 1) {
          out.metrics.push(metrics[i]);
          out.ats.push(ats[i]);
          out.values.push(values[i]);
        }
      }
      for (const q of batch.quarantine) s.quarantine.run(q.id, deviceId, q.metric, q.at, q.value, q.reason, batch.source, batch.receivedAt);
      const r = rollupBatch(out);
      for (const a of r.hourly) s.hourly.run(deviceId, a.metric, a.bucket, a.count, a.min, a.max, a.sum);
      for (const a of r.daily) s.daily.run(deviceId, a.metric, a.bucket, a.count, a.min, a.max, a.sum);
      for (const l of r.latest) s.latest.run(deviceId, l.metric, l.at, l.value);
      return { out, latest: r.latest };
    });
    // Holding Kysely's one connection keeps this transaction from nesting inside another's.
    return this.db.k.connection().execute(async () => {
      const { out, latest } = run();
      this.noteLatest(deviceId, latest);
      return out;
    });
  }

  private async storePostgres(batch: Batch): Promise<StoredRows> {
    const { deviceId } = batch;
    // Sorted by key, so two batches overlapping on some keys cannot deadlock.
    const order = batch.metrics.map((_, i) => i).sort((a, b) => (batch.metrics[a] < batch.metrics[b] ? -1 : batch.metrics[a] > batch.metrics[b] ? 1 : batch.ats[a] - batch.ats[b]));
    const metrics = order.map((i) => batch.metrics[i]);
    const ats = order.map((i) => batch.ats[i]);
    const values = order.map((i) => batch.values[i]);
    const { out, latest } = await this.db.transaction(async (trx) => {
      const out: StoredRows = { metrics: [], ats: [], values: [] };
      if (metrics.length) {
        const inserted = await sql<{ metric: string; t: number; value: number }>`
          INSERT INTO readings (device_id, metric, measured_at, value)
          SELECT ${deviceId}::uuid, u.m, to_timestamp(u.t / 1000.0), u.v FROM unnest(${metrics}::text[], ${ats}::float8[], ${values}::float8[]) AS u(m, t, v)
          ON CONFLICT DO NOTHING
          RETURNING metric, date_part('epoch', measured_at) * 1000 AS t, value`.execute(trx);
        for (const row of inserted.rows) {
          out.metrics.push(row.metric);
          out.ats.push(Math.round(row.t));
          out.values.push(row.value);
        }
      }
      const q = batch.quarantine;
      if (q.length) {
        await sql`
          INSERT INTO quarantine (id, device_id, metric, measured_at, value, reason, source, received_at)
          SELECT u.id, ${deviceId}::uuid, u.m, to_timestamp(u.t / 1000.0), u.v, u.r, ${batch.source}, to_timestamp(${batch.receivedAt}::float8 / 1000.0)
          FROM unnest(${q.map((x) => x.id)}::uuid[], ${q.map((x) => x.metric)}::text[], ${q.map((x) => x.at)}::float8[], ${q.map((x) => x.value)}::float8[], ${q.map((x) => x.reason)}::text[]) AS u(id, m, t, v, r)`.execute(
          trx,
        );
      }
      const r = rollupBatch(out);
      for (const [table, rows] of [
        ['rollups_hourly', r.hourly],
        ['rollups_daily', r.daily],
      ] as const) {
        if (!rows.length) continue;
        await sql`
          INSERT INTO ${sql.table(table)} (device_id, metric, bucket_at, "count", "min", "max", "sum")
          SELECT ${deviceId}::uuid, u.m, to_timestamp(u.b / 1000.0), u.c, u.mn, u.mx, u.s
          FROM unnest(${rows.map((a) => a.metric)}::text[], ${rows.map((a) => a.bucket)}::float8[], ${rows.map((a) => a.count)}::int[], ${rows.map((a) => a.min)}::float8[], ${rows.map((a) => a.max)}::float8[], ${rows.map((a) => a.sum)}::float8[]) AS u(m, b, c, mn, mx, s)
          ${sql.raw(upsertRollup(table, 'LEAST', 'GREATEST'))}`.execute(trx);
      }
      if (r.latest.length) {
        // written_by: this transaction, by default on insert and set on update (see pgRefreshLatest).
        await sql`
          INSERT INTO latest (device_id, metric, measured_at, value)
          SELECT ${deviceId}::uuid, u.m, to_timestamp(u.t / 1000.0), u.v FROM unnest(${r.latest.map((l) => l.metric)}::text[], ${r.latest.map((l) => l.at)}::float8[], ${r.latest.map((l) => l.value)}::float8[]) AS u(m, t, v)
          ON CONFLICT (device_id, metric) DO UPDATE SET measured_at = excluded.measured_at, value = excluded.value, written_by = pg_current_xact_id() WHERE excluded.measured_at > latest.measured_at`.execute(
          trx,
        );
      }
      return { out, latest: r.latest };
    });
    this.noteLatest(deviceId, latest);
    return out;
  }

  /** After a commit: the in-memory copy of latest (if read yet) takes this process's new values. */
  private noteLatest(deviceId: string, latest: BatchRollups['latest']): void {
    const byDevice = this.latestCopy?.byDevice;
    if (byDevice)
      mergeLatest(
        byDevice,
        latest.map((l) => ({ deviceId, metric: l.metric, value: l.value, at: new Date(l.at) })),
      );
  }

  // ---- PostgreSQL partitions ----

  /** PostgreSQL: the UTC days (start, ms) that have a partition of their own. */
  async listPartitions(): Promise<Map<number, string>> {
    const res = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class p ON p.oid = i.inhparent
      JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE p.relname = 'readings' AND n.nspname = current_schema()`.execute(this.db.k);
    const out = new Map<number, string>();
    for (const { name } of res.rows) {
      const m = PARTITION.exec(name);
      if (m) out.set(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])), name);
    }
    return out;
  }

  /**
   * PostgreSQL: makes sure each UTC day has a partition. Readings of that day already in
   * the default partition are moved into the new one, in the same transaction; an advisory
   * lock keeps two processes from creating the same partition at once.
   */
  async ensurePartitions(days: number[]): Promise<number> {
    if (this.db.dialect !== 'postgres') return 0;
    if (!this.partitions) this.partitions = new Set((await this.listPartitions()).keys());
    let created = 0;
    for (const day of days) {
      if (this.partitions.has(day)) continue;
      const name = partitionName(day);
      const from = new Date(day).toISOString();
      const to = new Date(day + DAY_MS).toISOString();
      await this.db.transaction(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtext('weft.readings.partitions'))`.execute(trx);
        const exists = await sql<{ r: string | null }>`SELECT to_regclass(${name}) AS r`.execute(trx);
        if (exists.rows[0]?.r) return;
        const stray = await sql`SELECT 1 FROM readings_default WHERE measured_at >= ${from}::timestamptz AND measured_at < ${to}::timestamptz LIMIT 1`.execute(trx);
        if (stray.rows.length) {
          await sql`CREATE TEMP TABLE weft_moving (LIKE readings) ON COMMIT DROP`.execute(trx);
          await sql`WITH d AS (DELETE FROM readings_default WHERE measured_at >= ${from}::timestamptz AND measured_at < ${to}::timestamptz RETURNING *) INSERT INTO weft_moving SELECT * FROM d`.execute(
            trx,
          );
        }
        await sql.raw(`CREATE TABLE ${name} PARTITION OF readings FOR VALUES FROM ('${from}') TO ('${to}')`).execute(trx);
        if (stray.rows.length) await sql`INSERT INTO readings SELECT * FROM weft_moving`.execute(trx);
        created++;
      });
      this.partitions.add(day);
    }
    return created;
  }

  /** PostgreSQL: drops the day partitions that end at or before the cutoff; returns their names. */
  async dropPartitionsBefore(cutoff: Date): Promise<string[]> {
    if (this.db.dialect !== 'postgres') return [];
    const dropped: string[] = [];
    for (const [day, name] of await this.listPartitions()) {
      if (day + DAY_MS > cutoff.getTime()) continue;
      await sql.raw(`DROP TABLE IF EXISTS ${name}`).execute(this.db.k);
      this.partitions?.delete(day);
      dropped.push(name);
    }
    return dropped;
  }

  // ---- Queries ----

  async latest(deviceIds: string[], metrics?: string[]): Promise<LatestRow[]> {
    if (!deviceIds.length) return [];
    if (this.db.dialect === 'sqlite') return pickLatest(await this.db.k.connection().execute(async () => this.sqliteLatest()), deviceIds, metrics);
    await this.refreshLatest();
    return pickLatest(this.latestCopy?.byDevice ?? new Map(), deviceIds, metrics);
  }

  /**
   * PostgreSQL: brings the copy up to date (the whole table the first time). Rows written by a
   * transaction that the last read's snapshot could see are already here; the others (committed
   * since, or still in progress then and committed now) are fetched. The statement returns its
   * own snapshot for the next look, and at least one row to carry it.
   */
  private async pgRefreshLatest(): Promise<void> {
    const last = this.latestCopy?.version;
    const changed = typeof last === 'string' ? sql`l.written_by >= pg_snapshot_xmin(${last}::pg_snapshot) AND NOT pg_visible_in_snapshot(l.written_by, ${last}::pg_snapshot)` : sql`true`;
    // Times come back as epoch ms, cheaper to read than thousands of timestamptz texts.
    const res = await sql<{ snapshot: string; device_id: string | null; metric: string; t: number; value: number }>`
      SELECT pg_current_snapshot()::text AS snapshot, l.device_id, l.metric, date_part('epoch', l.measured_at) * 1000 AS t, l.value
      FROM (SELECT 1) AS one LEFT JOIN latest l ON ${changed}`.execute(this.db.k);
    const rows: LatestRow[] = [];
    for (const r of res.rows) if (r.device_id !== null) rows.push({ deviceId: r.device_id, metric: r.metric, value: r.value, at: new Date(Math.round(r.t)) });
    const byDevice = this.latestCopy?.byDevice ?? new Map();
    mergeLatest(byDevice, rows);
    this.latestCopy = { version: res.rows[0].snapshot, byDevice };
  }

  /** The in-memory copy of latest, read again if another connection has written since. Call holding the connection. */
  private sqliteLatest(): LatestCopy {
    const raw = this.db.driver.sqlite as BetterSqlite3.Database;
    const version = raw.pragma('data_version', { simple: true }) as number;
    if (this.latestCopy?.version === version) return this.latestCopy.byDevice;
    const byDevice = new Map<string, LatestRow[]>();
    // In key order, so each device's rows come sorted by metric.
    for (const [deviceId, metric, at, value] of this.sqliteStatements().allLatest.iterate() as Iterable<[string, string, number, number]>) {
      let rows = byDevice.get(deviceId);
      if (!rows) {
        rows = [];
        byDevice.set(deviceId, rows);
      }
      rows.push(Object.freeze({ deviceId, metric, value, at: new Date(at) }));
    }
    this.latestCopy = { version, byDevice };
    return byDevice;
  }

  async range(deviceId: string, metric: string, from: Date, to: Date, limit: number): Promise<{ at: Date; value: number }[]> {
    const rows = await this.db.k
      .selectFrom('readings')
      .select(['measured_at', 'value'])
      .where('device_id', '=', deviceId)
      .where('metric', '=', metric)
      .where('measured_at', '>=', from)
      .where('measured_at', '<', to)
      .orderBy('measured_at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ at: r.measured_at, value: r.value }));
  }

  /** The newest readings of one series first (for the console's table). */
  async recent(deviceId: string, metric: string, limit: number): Promise<{ at: Date; value: number }[]> {
    const rows = await this.db.k
      .selectFrom('readings')
      .select(['measured_at', 'value'])
      .where('device_id', '=', deviceId)
      .where('metric', '=', metric)
      .orderBy('measured_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ at: r.measured_at, value: r.value }));
  }

  /** One page of a series in [from, to) after the given time: a range of the primary key, however long the series. */
  async seriesPage(deviceId: string, metric: string, from: Date, to: Date, limit: number): Promise<{ at: Date; value: number }[]> {
    return this.range(deviceId, metric, from, to, limit);
  }

  /** The metrics a device has readings of (each has a row in latest). */
  async metricsOf(deviceId: string): Promise<string[]> {
    const rows = await this.db.k.selectFrom('latest').select('metric').where('device_id', '=', deviceId).orderBy('metric').execute();
    return rows.map((r) => r.metric);
  }

  /** Aggregates of raw readings in buckets of bucketMs (which divides an hour), from bucket-aligned `from`. */
  async aggregateRaw(deviceId: string, metric: string, from: Date, to: Date, bucketMs: number): Promise<AggregateRow[]> {
    // SQLite keeps epoch ms (its driver wrapper turns *_at columns into Dates); PostgreSQL a timestamptz.
    const bucket: RawBuilder<Date> =
      this.db.dialect === 'sqlite' ? sql`measured_at - (measured_at % ${bucketMs})` : sql`to_timestamp(floor(date_part('epoch', measured_at) * 1000 / ${bucketMs}) * ${bucketMs} / 1000.0)`;
    const rows = await this.db.k
      .selectFrom('readings')
      .select((eb) => [bucket.as('bucket_at'), eb.fn.countAll<number>().as('count'), eb.fn.min('value').as('min'), eb.fn.max('value').as('max'), eb.fn.avg<number>('value').as('mean')])
      .where('device_id', '=', deviceId)
      .where('metric', '=', metric)
      .where('measured_at', '>=', from)
      .where('measured_at', '<', to)
      .groupBy(sql`1`)
      .orderBy(sql`1`)
      .execute();
    return rows.map((r) => ({ at: r.bucket_at, count: Number(r.count), min: Number(r.min), max: Number(r.max), mean: Number(r.mean) }));
  }

  /** Rollup rows (hourly or daily) whose bucket starts in [from, to). */
  async rollups(table: 'rollups_hourly' | 'rollups_daily', deviceId: string, metric: string, from: Date, to: Date): Promise<RollupsTable[]> {
    return this.db.k
      .selectFrom(table)
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('metric', '=', metric)
      .where('bucket_at', '>=', from)
      .where('bucket_at', '<', to)
      .orderBy('bucket_at')
      .execute();
  }

  async listQuarantine(query: QuarantineQuery): Promise<QuarantineTable[]> {
    let q = this.db.k.selectFrom('quarantine').selectAll();
    if (query.deviceId) q = q.where('device_id', '=', query.deviceId);
    if (query.deviceIds) q = query.deviceIds.length ? q.where('device_id', 'in', query.deviceIds) : q.where(sql<boolean>`1 = 0`);
    if (query.before) q = q.where('id', '<', query.before);
    return q.orderBy('id', 'desc').limit(query.limit).execute();
  }

  /** Every series (device and metric) that has readings: each has a row in latest. */
  async series(): Promise<{ deviceId: string; metric: string }[]> {
    const rows = await this.db.k.selectFrom('latest').select(['device_id', 'metric']).orderBy('device_id').orderBy('metric').execute();
    return rows.map((r) => ({ deviceId: r.device_id, metric: r.metric }));
  }

  /** Deletes a series' raw readings older than the cutoff, a batch at a time (a range of the key); returns how many. */
  async deleteReadingsBefore(deviceId: string, metric: string, cutoff: Date, batchSize = 10_000): Promise<number> {
    let total = 0;
    for (;;) {
      const res = await sql`
        DELETE FROM readings WHERE device_id = ${deviceId} AND metric = ${metric} AND measured_at IN (
          SELECT measured_at FROM readings WHERE device_id = ${deviceId} AND metric = ${metric} AND measured_at < ${cutoff} ORDER BY measured_at LIMIT ${batchSize}
        )`.execute(this.db.k);
      const n = Number(res.numAffectedRows ?? 0);
      total += n;
      if (n < batchSize) return total;
    }
  }

  async deleteQuarantineBefore(cutoff: Date): Promise<number> {
    const res = await this.db.k.deleteFrom('quarantine').where('received_at', '<', cutoff).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
