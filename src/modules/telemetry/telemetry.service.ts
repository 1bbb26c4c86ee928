import { Counter, register } from 'prom-client';
import type { Db } from '../../platform/db/database.js';
import type { EventBus } from '../../platform/events/index.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../services.js';
import type { DeviceAuth, EstateService, MetricSpec, Profile } from '../estate/index.js';
import { telemetryErrors } from './telemetry.errors.js';
import { type AggregateRow, type Batch, DAY_MS, HOUR_MS, type LatestRow, type QuarantineQuery, type QuarantineTable, TelemetryRepository } from './telemetry.repository.js';

export type IngestSource = 'http' | 'mqtt' | 'lorawan' | 'ngsi-ld' | 'simulator';

export interface ReadingInput {
  metric: string;
  value: number | boolean;
  /** ISO 8601 with a time zone, epoch milliseconds, or a Date; now when absent */
  at?: string | number | Date;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  quarantined: { index: number; metric: string; reason: string }[];
}

/** A stored reading as onReadings listeners get it: the contract's fields, plus where the device is. */
export interface ReadingEvent {
  deviceId: string;
  metric: string;
  value: number;
  at: Date;
  siteId: string | null;
  areaId: string | null;
  isPersonal: boolean;
}

export type ReadingsListener = (batch: ReadingEvent[]) => void;

export const MAX_BATCH = 10_000;
/** A reading may be stamped at most this far ahead of the server's clock. */
export const MAX_FUTURE_MS = 5 * 60_000;
/** Earlier timestamps are refused: they are almost always seconds sent as milliseconds. */
export const MIN_TIME_MS = Date.UTC(2000, 0, 1);
export const DEFAULT_RETENTION_DAYS = 90;
export const QUARANTINE_RETENTION_DAYS = 30;
/** Raw-reading queries span at most this; longer ones use aggregates. */
export const MAX_RAW_SPAN_MS = 31 * DAY_MS;
export const MAX_RAW_LIMIT = 100_000;
export const MAX_BUCKETS = 10_000;
/** PostgreSQL: days around now that get a partition of their own on demand; others use the default partition. */
const ON_DEMAND_PAST_DAYS = 35;
const ON_DEMAND_FUTURE_DAYS = 1;
const PARTITIONS_AHEAD_DAYS = 7;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** Readings counted by source and outcome, for Prometheus (prom-client's default registry). */
const readingsCounter =
  (register.getSingleMetric('weft_telemetry_readings_total') as Counter<'source' | 'outcome'> | undefined) ??
  new Counter({ name: 'weft_telemetry_readings_total', help: 'Readings received, by source and outcome (accepted, duplicate, quarantined)', labelNames: ['source', 'outcome'] });

const metricMaps = new WeakMap<Profile, Map<string, MetricSpec>>();
function metricsOf(profile: Profile): Map<string, MetricSpec> {
  let map = metricMaps.get(profile);
  if (!map) {
    map = new Map(profile.metrics.map((m) => [m.name, m]));
    metricMaps.set(profile, map);
  }
  return map;
}

function invalid(index: number, field: string, message: string) {
  return telemetryErrors.READING_INVALID(`Reading ${index}: ${message}`, [{ field: field ? `readings/${index}/${field}` : `readings/${index}`, message }]);
}

/** A reading's time in epoch ms, or an error naming the reading. */
function timeOf(at: unknown, index: number, now: number): number {
  let ms: number;
  if (at === undefined || at === null) return now;
  if (typeof at === 'number') ms = Math.round(at);
  else if (typeof at === 'string') ms = ISO_TIME.test(at) ? Date.parse(at) : Number.NaN;
  else if (at instanceof Date) ms = at.getTime();
  else ms = Number.NaN;
  if (!Number.isFinite(ms) || ms < MIN_TIME_MS) {
    const message =
      typeof at === 'number' && Number.isFinite(at) && at < MIN_TIME_MS
        ? 'the timestamp is before the year 2000: send milliseconds since 1970, not seconds.'
        : 'the timestamp must be an ISO 8601 date and time with a time zone (2026-12-02T10:00:00Z) or milliseconds since 1970.';
    throw telemetryErrors.TIMESTAMP_INVALID(`Reading ${index}: ${message}`, [{ field: `readings/${index}/at`, message }]);
  }
  if (ms > now + MAX_FUTURE_MS) {
    throw telemetryErrors.TIMESTAMP_IN_FUTURE(`Reading ${index} is stamped ${new Date(ms).toISOString()}, more than 5 minutes in the future. Check the device’s clock.`, [
      { field: `readings/${index}/at`, message: 'more than 5 minutes in the future' },
    ]);
  }
  return ms;
}

/**
 * Turns an HTTP body into readings. Accepted shapes:
 *  - one reading: {"metric": "no2", "value": 41.2, "at": "…"}
 *  - a batch: {"readings": [{…}, …]}
 *  - ThingsBoard style: {"no2": 41.2, "pm2_5": 9, "ts": 1764669600000} or {"ts": …, "values": {…}},
 *    or an array of those
 * `deviceId` may accompany any object shape (for API keys posting for a device).
 */
export function readingsFromBody(body: unknown): { deviceId?: string; readings: ReadingInput[] } {
  const malformed = (message?: string) => telemetryErrors.READINGS_MALFORMED(message);
  if (Array.isArray(body)) {
    const readings: ReadingInput[] = [];
    for (const item of body) {
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw malformed('Each item of the array must be an object.');
      readings.push(...readingsFromBody(item).readings);
      if (readings.length > MAX_BATCH) throw telemetryErrors.BATCH_TOO_LARGE();
    }
    return { readings };
  }
  if (!body || typeof body !== 'object') throw malformed();
  const o = body as Record<string, unknown>;
  const deviceId = o.deviceId;
  if (deviceId !== undefined && typeof deviceId !== 'string') throw malformed('The "deviceId" must be a string.');
  if ('readings' in o) {
    if (!Array.isArray(o.readings)) throw malformed('The "readings" must be an array of readings.');
    for (const key in o) if (key !== 'readings' && key !== 'deviceId') throw malformed(`A batch has only "readings" and "deviceId"; remove "${key}".`);
    if (o.readings.length > MAX_BATCH) throw telemetryErrors.BATCH_TOO_LARGE(`A request may carry at most 10,000 readings; this one has ${o.readings.length}. Split the batch.`);
    return { deviceId, readings: o.readings as ReadingInput[] };
  }
  if ('metric' in o) {
    for (const key in o) if (!['metric', 'value', 'at', 'deviceId'].includes(key)) throw malformed(`A reading has only "metric", "value", "at" and "deviceId"; remove "${key}".`);
    return { deviceId, readings: [{ metric: o.metric as string, value: o.value as number, at: o.at as string }] };
  }
  const nested = 'values' in o;
  if (nested) for (const key in o) if (!['ts', 'at', 'values', 'deviceId'].includes(key)) throw malformed(`Beside "values" only "ts" and "deviceId" are accepted; remove "${key}".`);
  const values = nested ? o.values : o;
  if (!values || typeof values !== 'object' || Array.isArray(values)) throw malformed('The "values" must be an object of metric names and values.');
  const ts = o.ts ?? o.at;
  const readings: ReadingInput[] = [];
  for (const [metric, value] of Object.entries(values as Record<string, unknown>)) {
    if (!nested && (metric === 'ts' || metric === 'at' || metric === 'deviceId')) continue;
    readings.push({ metric, value: value as number, at: ts as number });
  }
  return { deviceId, readings };
}

/** Readings: ingest, quarantine, rollups, retention, queries and live subscriptions. */
export class TelemetryService {
  private readonly repo: TelemetryRepository;
  private readonly listeners = new Set<ReadingsListener>();

  constructor(
    readonly db: Db,
    readonly estate: EstateService,
    readonly events: EventBus,
    readonly log: Logger,
  ) {
    this.repo = new TelemetryRepository(db);
  }

  /**
   * Checks and stores one device's readings. Malformed input throws and stores nothing;
   * unknown metrics and values outside the profile's range go to quarantine; a reading
   * already stored (same device, metric and time) is counted as a duplicate.
   */
  async ingest(device: DeviceAuth, readings: ReadingInput[], source: IngestSource): Promise<IngestResult> {
    if (!Array.isArray(readings)) throw telemetryErrors.READINGS_MALFORMED();
    if (readings.length === 0) throw telemetryErrors.READINGS_EMPTY();
    if (readings.length > MAX_BATCH) throw telemetryErrors.BATCH_TOO_LARGE(`A request may carry at most 10,000 readings; this one has ${readings.length}. Split the batch.`);
    const now = Date.now();
    const specs = metricsOf(device.profile);
    const n = readings.length;
    const batch: Batch = { deviceId: device.deviceId, metrics: [], ats: [], values: [], quarantine: [], source, receivedAt: now };
    const quarantined: IngestResult['quarantined'] = [];
    for (let i = 0; i < n; i++) {
      const r = readings[i];
      if (r === null || typeof r !== 'object') throw invalid(i, '', 'each reading must be an object with a metric and a value.');
      const metric = r.metric;
      if (typeof metric !== 'string' || metric.length === 0 || metric.length > 100) throw invalid(i, 'metric', 'the metric must be a name of 1 to 100 characters, such as no2.');
      let value = r.value as unknown;
      if (typeof value === 'boolean') value = value ? 1 : 0;
      else if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(i, 'value', `the value of ${metric} must be a number or true/false.`);
      const at = timeOf(r.at, i, now);
      const spec = specs.get(metric);
      let reason: string | undefined;
      if (!spec) reason = `${metric} is not a metric of the ${device.profile.name} profile.`;
      else if (spec.min !== undefined && (value as number) < spec.min) reason = `${value} is below the minimum of ${spec.min} for ${metric}.`;
      else if (spec.max !== undefined && (value as number) > spec.max) reason = `${value} is above the maximum of ${spec.max} for ${metric}.`;
      if (reason) {
        quarantined.push({ index: i, metric, reason });
        batch.quarantine.push({ id: newId(now), metric, at, value: value as number, reason });
      } else {
        batch.metrics.push(metric);
        batch.ats.push(at);
        batch.values.push(value as number);
      }
    }

    if (this.db.dialect === 'postgres') await this.ensurePartitionsFor(batch.ats, now);
    const stored = await this.repo.storeBatch(batch);
    const accepted = stored.metrics.length;
    const duplicates = batch.metrics.length - accepted;

    let battery: number | undefined;
    let batteryAt = -1;
    for (let i = 0; i < accepted; i++) {
      if (stored.metrics[i] === 'battery' && stored.ats[i] > batteryAt) {
        batteryAt = stored.ats[i];
        battery = stored.values[i];
      }
    }
    // Seen now: a device that sends old readings (a backlog, a slow clock) is still talking to us.
    this.estate.noteSeen(device.deviceId, new Date(now), battery);

    if (accepted) readingsCounter.inc({ source, outcome: 'accepted' }, accepted);
    if (duplicates) readingsCounter.inc({ source, outcome: 'duplicate' }, duplicates);
    if (quarantined.length) readingsCounter.inc({ source, outcome: 'quarantined' }, quarantined.length);

    if (accepted && this.listeners.size) {
      const events: ReadingEvent[] = new Array(accepted);
      for (let i = 0; i < accepted; i++) {
        events[i] = {
          deviceId: device.deviceId,
          metric: stored.metrics[i],
          value: stored.values[i],
          at: new Date(stored.ats[i]),
          siteId: device.siteId,
          areaId: device.areaId,
          isPersonal: device.isPersonal,
        };
      }
      for (const listener of this.listeners) {
        try {
          listener(events);
        } catch (err) {
          this.log.error({ err }, 'a telemetry readings listener failed');
        }
      }
    }
    return { accepted, duplicates, quarantined };
  }

  /** PostgreSQL: each recent day in the batch gets its partition before the insert (older days use the default partition). */
  private async ensurePartitionsFor(ats: number[], now: number): Promise<void> {
    const today = now - (now % DAY_MS);
    const lo = today - ON_DEMAND_PAST_DAYS * DAY_MS;
    const hi = today + ON_DEMAND_FUTURE_DAYS * DAY_MS;
    const days = new Set<number>();
    let last = -1;
    for (const at of ats) {
      const day = at - (at % DAY_MS);
      if (day === last) continue;
      last = day;
      if (day >= lo && day <= hi) days.add(day);
    }
    if (days.size) await this.repo.ensurePartitions([...days]);
  }

  /** Called with each batch of stored readings after its transaction commits, in this process. */
  onReadings(listener: ReadingsListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  // ---- Queries ----

  /** The latest value of each metric of each device (in no particular device order). The rows are read-only. */
  async latest(deviceIds: string[], metrics?: string[]): Promise<LatestRow[]> {
    if (deviceIds.length > MAX_BATCH) throw telemetryErrors.TOO_MANY_DEVICES();
    return this.repo.latest(deviceIds, metrics);
  }

  /** Raw readings in [from, to), oldest first. */
  async range(deviceId: string, metric: string, from: Date, to: Date, limit = 10_000): Promise<{ at: Date; value: number }[]> {
    checkRange(from, to, MAX_RAW_SPAN_MS);
    return this.repo.range(deviceId, metric, from, to, Math.max(1, Math.min(limit, MAX_RAW_LIMIT)));
  }

  /** The newest readings of one series, newest first. */
  recent(deviceId: string, metric: string, limit = 50) {
    return this.repo.recent(deviceId, metric, Math.max(1, Math.min(limit, 1000)));
  }

  /**
   * Count, min, max and mean per bucket, for buckets starting in [from, to) with `from`
   * rounded down to a whole bucket (UTC). Buckets shorter than an hour are computed from
   * raw readings; hours and days come from the rollups, so they outlive raw retention.
   */
  async aggregate(deviceId: string, metric: string, from: Date, to: Date, bucketSeconds: number): Promise<AggregateRow[]> {
    const b = bucketSeconds * 1000;
    const valid = Number.isInteger(bucketSeconds) && bucketSeconds > 0 && (b < HOUR_MS ? HOUR_MS % b === 0 : b % HOUR_MS === 0 && (b < DAY_MS ? DAY_MS % b === 0 : b % DAY_MS === 0));
    if (!valid) throw telemetryErrors.BUCKET_INVALID();
    const start = new Date(from.getTime() - (from.getTime() % b));
    checkRange(start, to, MAX_BUCKETS * b);
    if (b < HOUR_MS) return this.repo.aggregateRaw(deviceId, metric, start, to, b);
    const rows = await this.repo.rollups(b < DAY_MS ? 'rollups_hourly' : 'rollups_daily', deviceId, metric, start, to);
    const out: AggregateRow[] = [];
    let cur: (AggregateRow & { sum: number }) | undefined;
    for (const r of rows) {
      const bucket = r.bucket_at.getTime() - (r.bucket_at.getTime() % b);
      if (!cur || cur.at.getTime() !== bucket) {
        cur = { at: new Date(bucket), count: 0, min: r.min, max: r.max, mean: 0, sum: 0 };
        out.push(cur);
      }
      cur.count += Number(r.count);
      cur.sum += r.sum;
      cur.min = Math.min(cur.min, r.min);
      cur.max = Math.max(cur.max, r.max);
      cur.mean = cur.sum / cur.count;
    }
    return out.map(({ at, count, min, max, mean }) => ({ at, count, min, max, mean }));
  }

  /** A range of raw readings as CSV text, page by page, so a long export never sits in memory. */
  exportCsv(deviceId: string, metric: string | undefined, from: Date, to: Date, pageSize = 5000): AsyncGenerator<string> {
    // Checked now, not when the first page is read: by then the reply has started.
    checkRange(from, to, 366 * DAY_MS);
    return this.csvPages(deviceId, metric, from, to, pageSize);
  }

  private async *csvPages(deviceId: string, metric: string | undefined, from: Date, to: Date, pageSize: number): AsyncGenerator<string> {
    yield 'device_id,metric,time,value\n';
    // Series by series, each paged along its key, so a long export never rescans what it has sent.
    for (const m of metric ? [metric] : await this.repo.metricsOf(deviceId)) {
      let start = from;
      for (;;) {
        const rows = await this.repo.seriesPage(deviceId, m, start, to, pageSize);
        if (!rows.length) break;
        let chunk = '';
        for (const r of rows) chunk += `${deviceId},${m},${r.at.toISOString()},${r.value}\n`;
        yield chunk;
        if (rows.length < pageSize) break;
        start = new Date(rows[rows.length - 1].at.getTime() + 1);
      }
    }
  }

  listQuarantine(query: QuarantineQuery): Promise<QuarantineTable[]> {
    return this.repo.listQuarantine(query);
  }

  // ---- Retention and partitions ----

  /**
   * Deletes raw readings older than each device's profile allows (rollups are kept for
   * ever) and quarantined readings older than 30 days. On PostgreSQL, day partitions older
   * than every profile's retention are dropped whole first.
   */
  async applyRetention(now = new Date()): Promise<{ readingsDeleted: number; partitionsDropped: string[]; quarantineDeleted: number }> {
    const profiles = await this.estate.listProfiles();
    const days = new Map(profiles.map((p) => [p.id, p.rawRetentionDays]));
    const longest = Math.max(DEFAULT_RETENTION_DAYS, ...days.values());
    const partitionsDropped = await this.repo.dropPartitionsBefore(new Date(now.getTime() - longest * DAY_MS));

    let readingsDeleted = 0;
    const series = await this.repo.series();
    const retention = new Map<string, number>();
    const ids = [...new Set(series.map((x) => x.deviceId))];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      for (const d of await this.estate.listDevices({ ids: chunk, includePersonal: true, includeDecommissioned: true, limit: chunk.length })) {
        retention.set(d.id, days.get(d.profileId) ?? DEFAULT_RETENTION_DAYS);
      }
    }
    for (const { deviceId, metric } of series) {
      const keep = retention.get(deviceId) ?? DEFAULT_RETENTION_DAYS;
      readingsDeleted += await this.repo.deleteReadingsBefore(deviceId, metric, new Date(now.getTime() - keep * DAY_MS));
    }
    const quarantineDeleted = await this.repo.deleteQuarantineBefore(new Date(now.getTime() - QUARANTINE_RETENTION_DAYS * DAY_MS));
    this.log.info({ readingsDeleted, partitionsDropped: partitionsDropped.length, quarantineDeleted }, 'telemetry retention applied');
    return { readingsDeleted, partitionsDropped, quarantineDeleted };
  }

  /** PostgreSQL: creates the day partitions for yesterday to a week ahead. */
  async preparePartitions(now = new Date()): Promise<number> {
    if (this.db.dialect !== 'postgres') return 0;
    const today = now.getTime() - (now.getTime() % DAY_MS);
    const days: number[] = [];
    for (let d = -1; d <= PARTITIONS_AHEAD_DAYS; d++) days.push(today + d * DAY_MS);
    return this.repo.ensurePartitions(days);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}

function checkRange(from: Date, to: Date, maxSpanMs: number): void {
  if (!(from.getTime() < to.getTime())) throw telemetryErrors.RANGE_INVALID();
  if (to.getTime() - from.getTime() > maxSpanMs) {
    const days = Math.round(maxSpanMs / DAY_MS);
    throw telemetryErrors.RANGE_TOO_LARGE(`The range is too long: ask for at most ${days >= 1 ? `${days} days` : `${Math.round(maxSpanMs / HOUR_MS)} hours`} at a time, or for larger buckets.`);
  }
}
