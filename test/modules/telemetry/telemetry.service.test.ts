/**
 * The storage layer through TelemetryService, on each dialect: validation, quarantine,
 * de-duplication, rollups, latest values, queries, retention and PostgreSQL partitions.
 * Devices here are hand-made DeviceAuth objects: ingest trusts the caller's device.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { sql } from 'kysely';
import { register } from 'prom-client';
import type { DeviceAuth, Profile } from '../../../src/modules/estate/index.js';
import { type ReadingEvent, TelemetryService } from '../../../src/modules/telemetry/telemetry.service.js';
import { openDb } from '../../../src/platform/db/database.js';
import { AppError } from '../../../src/platform/errors.js';
import { newId } from '../../../src/platform/ids.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect, logRecorder } from '../../helpers.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;

export const testProfile: Profile = {
  id: newId(),
  key: 'test-air',
  name: 'Test air monitor',
  description: 'for tests',
  metrics: [
    { name: 'no2', unit: 'µg/m³', kind: 'measure', min: 0, max: 1000 },
    { name: 'pm2_5', unit: 'µg/m³', kind: 'measure', min: 0, max: 1000 },
    { name: 'occupied', unit: '', kind: 'state', min: 0, max: 1 },
    { name: 'battery', unit: '%', kind: 'measure', min: 0, max: 100 },
    { name: 'temperature', unit: '°C', kind: 'measure' },
  ],
  reportIntervalSeconds: 60,
  offlineTolerance: 3,
  batteryLowPercent: 20,
  rawRetentionDays: 90,
  decoder: { type: 'json' },
  isBuiltIn: false,
};

export const handMade = (profile: Profile = testProfile): DeviceAuth => ({ deviceId: newId(), name: 'Hand-made device', profile, siteId: null, areaId: null, isPersonal: false });

/** The start of an hour a few days ago, so every reading in a test is in the past. */
const base = (() => {
  const now = Date.now();
  return now - (now % DAY) - 3 * DAY + 10 * HOUR;
})();

async function rejects(p: Promise<unknown>, code: string, field?: string) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, err.message);
    if (field)
      assert.ok(
        err.fields.some((f) => f.field === field),
        `${field} in ${JSON.stringify(err.fields)}`,
      );
    assert.match(err.message, /^[A-Z].*\.$/);
    return true;
  });
}

forEachDialect('telemetry storage', (dialect) => {
  let t: TestApp;
  let telemetry: TelemetryService;
  const count = async (table: string, deviceId: string) =>
    Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)} where device_id = ${deviceId}`.execute(t.services.db.k)).rows[0].n);

  before(async () => {
    t = await testApp(dialect);
    telemetry = t.services.telemetry;
  });

  test('each kind of bad input is refused with its code, and nothing is stored', async () => {
    const d = handMade();
    const good = { metric: 'no2', value: 40, at: base };
    const bad: [unknown[], string, string?][] = [
      [[], 'READINGS_EMPTY'],
      [Array.from({ length: 10_001 }, (_, i) => ({ metric: 'no2', value: 1, at: base + i })), 'BATCH_TOO_LARGE'],
      [[good, 'no2=4'], 'READING_INVALID', 'readings/1'],
      [[good, { value: 4 }], 'READING_INVALID', 'readings/1/metric'],
      [[good, { metric: '', value: 4 }], 'READING_INVALID', 'readings/1/metric'],
      [[good, { metric: 'no2', value: '41.2' }], 'READING_INVALID', 'readings/1/value'],
      [[good, { metric: 'no2', value: null }], 'READING_INVALID', 'readings/1/value'],
      [[good, { metric: 'no2', value: Number.NaN }], 'READING_INVALID', 'readings/1/value'],
      [[good, { metric: 'no2', value: 4, at: 'yesterday' }], 'TIMESTAMP_INVALID', 'readings/1/at'],
      [[good, { metric: 'no2', value: 4, at: '2026-12-02 10:00' }], 'TIMESTAMP_INVALID', 'readings/1/at'],
      [[good, { metric: 'no2', value: 4, at: Math.floor(base / 1000) }], 'TIMESTAMP_INVALID', 'readings/1/at'],
      [[good, { metric: 'no2', value: 4, at: { when: 'now' } }], 'TIMESTAMP_INVALID', 'readings/1/at'],
      [[good, { metric: 'no2', value: 4, at: Date.now() + 6 * 60_000 }], 'TIMESTAMP_IN_FUTURE', 'readings/1/at'],
      // A quarantined reading before the bad one is not kept either.
      [
        [
          { metric: 'no2', value: 5000, at: base },
          { metric: 'no2', value: true, at: new Date(Number.NaN) },
        ],
        'TIMESTAMP_INVALID',
        'readings/1/at',
      ],
    ];
    for (const [readings, code, field] of bad) await rejects(telemetry.ingest(d, readings as never, 'http'), code, field);
    await rejects(telemetry.ingest(d, 'no2' as never, 'http'), 'READINGS_MALFORMED');
    assert.equal(await count('readings', d.deviceId), 0);
    assert.equal(await count('quarantine', d.deviceId), 0);
    assert.equal(await count('latest', d.deviceId), 0);
  });

  test('accepts ISO, epoch-millisecond and Date timestamps, defaults to now, allows 5 minutes of clock skew; booleans are 1 and 0', async () => {
    const d = handMade();
    const before = Date.now();
    const r = await telemetry.ingest(
      d,
      [
        { metric: 'no2', value: 41.2, at: new Date(base).toISOString() },
        { metric: 'no2', value: 42, at: base + 60_000 },
        { metric: 'no2', value: 43, at: new Date(base + 120_000) },
        { metric: 'no2', value: 44, at: new Date(base + 180_000).toISOString().replace('Z', '+00:00') },
        { metric: 'occupied', value: true, at: base },
        { metric: 'occupied', value: false, at: base + 60_000 },
        { metric: 'pm2_5', value: 9 },
        { metric: 'temperature', value: -4.5, at: Date.now() + 4 * 60_000 },
      ],
      'http',
    );
    assert.deepEqual(r, { accepted: 8, duplicates: 0, quarantined: [] });
    const no2 = await telemetry.range(d.deviceId, 'no2', new Date(base), new Date(base + HOUR));
    assert.deepEqual(
      no2.map((x) => [x.at.getTime() - base, x.value]),
      [
        [0, 41.2],
        [60_000, 42],
        [120_000, 43],
        [180_000, 44],
      ],
    );
    const occupied = await telemetry.range(d.deviceId, 'occupied', new Date(base), new Date(base + HOUR));
    assert.deepEqual(
      occupied.map((x) => x.value),
      [1, 0],
    );
    const [pm] = await telemetry.latest([d.deviceId], ['pm2_5']);
    assert.ok(pm.at.getTime() >= before && pm.at.getTime() <= Date.now(), 'a reading without a time is stamped now');
  });

  test('unknown metrics and out-of-range values go to quarantine with the reason, never into the series', async () => {
    const d = handMade();
    const r = await telemetry.ingest(
      d,
      [
        { metric: 'no2', value: 40, at: base },
        { metric: 'no2', value: 1200, at: base + 60_000 },
        { metric: 'no2', value: -1, at: base + 120_000 },
        { metric: 'co2', value: 400, at: base },
        { metric: 'occupied', value: 2, at: base },
      ],
      'mqtt',
    );
    assert.equal(r.accepted, 1);
    assert.deepEqual(
      r.quarantined.map((q) => [q.index, q.metric]),
      [
        [1, 'no2'],
        [2, 'no2'],
        [3, 'co2'],
        [4, 'occupied'],
      ],
    );
    assert.match(r.quarantined[0].reason, /1200 is above the maximum of 1000/);
    assert.match(r.quarantined[1].reason, /-1 is below the minimum of 0/);
    assert.match(r.quarantined[2].reason, /co2 is not a metric of the Test air monitor profile/);
    assert.deepEqual(
      (await telemetry.range(d.deviceId, 'no2', new Date(base), new Date(base + HOUR))).map((x) => x.value),
      [40],
    );
    assert.equal((await telemetry.range(d.deviceId, 'co2', new Date(base), new Date(base + HOUR))).length, 0);
    const [hour] = await telemetry.aggregate(d.deviceId, 'no2', new Date(base), new Date(base + HOUR), 3600);
    assert.equal(hour.count, 1);
    const listed = await telemetry.listQuarantine({ deviceId: d.deviceId, limit: 10 });
    assert.equal(listed.length, 4);
    assert.ok(listed.every((q) => q.source === 'mqtt' && q.received_at instanceof Date && q.measured_at instanceof Date));
    assert.deepEqual(
      listed.map((q) => q.value).sort((a, b) => a - b),
      [-1, 2, 400, 1200],
    );
  });

  test('a reading seen twice is stored once and counted as a duplicate; rollups count it once', async () => {
    const d = handMade();
    const batch = [
      { metric: 'no2', value: 10, at: base },
      { metric: 'no2', value: 20, at: base + 60_000 },
      { metric: 'no2', value: 99, at: base }, // same key within the batch
    ];
    assert.deepEqual(await telemetry.ingest(d, batch, 'http'), { accepted: 2, duplicates: 1, quarantined: [] });
    assert.deepEqual(await telemetry.ingest(d, batch, 'http'), { accepted: 0, duplicates: 3, quarantined: [] });
    const more = await telemetry.ingest(
      d,
      [
        { metric: 'no2', value: 20, at: base + 60_000 },
        { metric: 'no2', value: 30, at: base + 120_000 },
      ],
      'http',
    );
    assert.deepEqual(more, { accepted: 1, duplicates: 1, quarantined: [] });
    assert.equal(await count('readings', d.deviceId), 3);
    const [h] = await telemetry.aggregate(d.deviceId, 'no2', new Date(base), new Date(base + HOUR), 3600);
    assert.deepEqual({ count: h.count, min: h.min, max: h.max, mean: h.mean }, { count: 3, min: 10, max: 30, mean: 20 });
    const [day] = await telemetry.aggregate(d.deviceId, 'no2', new Date(base), new Date(base + HOUR), 86_400);
    assert.equal(day.count, 3);
    assert.equal(day.at.getTime(), base - (base % DAY));
  });

  test('rollups and latest values are right with out-of-order data across batches and hours', async () => {
    const d = handMade();
    // Three hours of one-minute readings, value = minute of the run, sent newest batch first.
    const all = Array.from({ length: 180 }, (_, i) => ({ metric: 'pm2_5', value: i, at: base + i * 60_000 }));
    for (const slice of [all.slice(120), all.slice(0, 60).reverse(), all.slice(60, 120)]) await telemetry.ingest(d, slice, 'simulator');
    const hours = await telemetry.aggregate(d.deviceId, 'pm2_5', new Date(base + 30 * 60_000), new Date(base + 3 * HOUR), 3600);
    assert.deepEqual(
      hours.map((h) => [h.at.getTime() - base, h.count, h.min, h.max, h.mean]),
      [
        [0, 60, 0, 59, 29.5],
        [HOUR, 60, 60, 119, 89.5],
        [2 * HOUR, 60, 120, 179, 149.5],
      ],
    );
    const quarter = await telemetry.aggregate(d.deviceId, 'pm2_5', new Date(base), new Date(base + HOUR), 900);
    assert.deepEqual(
      quarter.map((h) => [h.at.getTime() - base, h.count, h.min, h.max, h.mean]),
      [
        [0, 15, 0, 14, 7],
        [15 * 60_000, 15, 15, 29, 22],
        [30 * 60_000, 15, 30, 44, 37],
        [45 * 60_000, 15, 45, 59, 52],
      ],
    );
    const fives = await telemetry.aggregate(d.deviceId, 'pm2_5', new Date(base), new Date(base + HOUR), 300);
    assert.equal(fives.length, 12);
    assert.ok(fives.every((b) => b.count === 5));
    const minutes = await telemetry.aggregate(d.deviceId, 'pm2_5', new Date(base + 59_000), new Date(base + 10 * 60_000), 60);
    assert.deepEqual(
      minutes.map((m) => m.mean),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    const [latest] = await telemetry.latest([d.deviceId]);
    assert.deepEqual([latest.metric, latest.value, latest.at.getTime()], ['pm2_5', 179, base + 179 * 60_000]);
    // An older reading arriving late changes the rollup but not the latest value.
    await telemetry.ingest(d, [{ metric: 'pm2_5', value: 500, at: base - 60_000 }], 'http');
    const [again] = await telemetry.latest([d.deviceId]);
    assert.equal(again.value, 179);
    const [hBefore] = await telemetry.aggregate(d.deviceId, 'pm2_5', new Date(base - HOUR), new Date(base), 3600);
    assert.deepEqual([hBefore.count, hBefore.max], [1, 500]);
  });

  test('latest values for many devices at once, optionally for some metrics', async () => {
    const devices = Array.from({ length: 30 }, () => handMade());
    for (const [i, d] of devices.entries())
      await telemetry.ingest(
        d,
        [
          { metric: 'no2', value: i, at: base },
          { metric: 'pm2_5', value: i * 2, at: base },
        ],
        'http',
      );
    const ids = devices.map((d) => d.deviceId);
    const all = await telemetry.latest(ids);
    assert.equal(all.length, 60);
    const no2 = await telemetry.latest(ids, ['no2']);
    assert.equal(no2.length, 30);
    assert.deepEqual(new Set(no2.map((r) => r.deviceId)), new Set(ids));
    assert.equal(no2.find((r) => r.deviceId === ids[7])?.value, 7);
    assert.deepEqual(await telemetry.latest([]), []);
    assert.deepEqual(await telemetry.latest([newId()]), []);
    await rejects(telemetry.latest(Array.from({ length: 10_001 }, () => newId())), 'TOO_MANY_DEVICES');
  });

  test('latest values written by another process are seen at once', async () => {
    const d = handMade();
    await telemetry.ingest(d, [{ metric: 'no2', value: 1, at: base }], 'http');
    assert.equal((await telemetry.latest([d.deviceId]))[0].value, 1);
    // A second connection to the same database, as another Weft process would have.
    const other = openDb({ databaseUrl: t.url });
    try {
      const elsewhere = new TelemetryService(other, t.services.estate, t.services.events, logRecorder().log);
      await elsewhere.ingest(
        d,
        [
          { metric: 'no2', value: 2, at: base + 1000 },
          { metric: 'pm2_5', value: 3, at: base },
        ],
        'mqtt',
      );
    } finally {
      await other.close();
    }
    const seen = await telemetry.latest([d.deviceId]);
    assert.deepEqual(
      seen.map((r) => [r.metric, r.value]),
      [
        ['no2', 2],
        ['pm2_5', 3],
      ],
    );
  });

  test('ranges: ordered, limited, and refused when backwards or too long; buckets must be known sizes', async () => {
    const d = handMade();
    await telemetry.ingest(
      d,
      Array.from({ length: 50 }, (_, i) => ({ metric: 'no2', value: i, at: base + i * 1000 })),
      'http',
    );
    const some = await telemetry.range(d.deviceId, 'no2', new Date(base + 10_000), new Date(base + 20_000));
    assert.deepEqual(
      some.map((r) => r.value),
      [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
    );
    assert.equal((await telemetry.range(d.deviceId, 'no2', new Date(base), new Date(base + HOUR), 5)).length, 5);
    await rejects(telemetry.range(d.deviceId, 'no2', new Date(base), new Date(base)), 'RANGE_INVALID');
    await rejects(telemetry.range(d.deviceId, 'no2', new Date(base), new Date(base + 40 * DAY)), 'RANGE_TOO_LARGE');
    await rejects(telemetry.aggregate(d.deviceId, 'no2', new Date(base), new Date(base + HOUR), 7), 'BUCKET_INVALID');
    await rejects(telemetry.aggregate(d.deviceId, 'no2', new Date(base + HOUR), new Date(base), 60), 'RANGE_INVALID');
    await rejects(telemetry.aggregate(d.deviceId, 'no2', new Date(base - 30 * DAY), new Date(base), 60), 'RANGE_TOO_LARGE');
  });

  test('listeners hear each stored batch after commit, without duplicates or quarantined readings', async () => {
    const d = { ...handMade(), siteId: newId(), areaId: newId() };
    const heard: ReadingEvent[][] = [];
    const off = telemetry.onReadings((batch) => heard.push(batch));
    await telemetry.ingest(
      d,
      [
        { metric: 'no2', value: 1, at: base },
        { metric: 'no2', value: 2000, at: base + 1000 },
      ],
      'http',
    );
    await telemetry.ingest(d, [{ metric: 'no2', value: 1, at: base }], 'http');
    off();
    await telemetry.ingest(d, [{ metric: 'no2', value: 3, at: base + 5000 }], 'http');
    assert.equal(heard.length, 1);
    assert.deepEqual(heard[0], [{ deviceId: d.deviceId, metric: 'no2', value: 1, at: new Date(base), siteId: d.siteId, areaId: d.areaId, isPersonal: false }]);
  });

  test('a CSV export pages through a range in metric and time order', async () => {
    const d = handMade();
    await telemetry.ingest(
      d,
      [...Array.from({ length: 12 }, (_, i) => ({ metric: 'pm2_5', value: i, at: base + i * 1000 })), ...Array.from({ length: 7 }, (_, i) => ({ metric: 'no2', value: i / 2, at: base + i * 1000 }))],
      'http',
    );
    let csv = '';
    for await (const chunk of telemetry.exportCsv(d.deviceId, undefined, new Date(base), new Date(base + HOUR), 5)) csv += chunk;
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'device_id,metric,time,value');
    assert.equal(lines.length, 20);
    assert.equal(lines[1], `${d.deviceId},no2,${new Date(base).toISOString()},0`);
    assert.equal(lines[7], `${d.deviceId},no2,${new Date(base + 6000).toISOString()},3`);
    assert.equal(lines[8], `${d.deviceId},pm2_5,${new Date(base).toISOString()},0`);
    let one = '';
    for await (const chunk of telemetry.exportCsv(d.deviceId, 'no2', new Date(base + 2000), new Date(base + 4000))) one += chunk;
    assert.equal(one.trim().split('\n').length, 3);
  });

  test('retention deletes only raw readings older than the profile allows and old quarantine; rollups stay', async () => {
    const d = handMade();
    const now = Date.now();
    const old = now - (now % HOUR) - 100 * DAY;
    const recent = now - (now % HOUR) - 10 * DAY;
    await telemetry.ingest(
      d,
      [
        { metric: 'no2', value: 5, at: old },
        { metric: 'no2', value: 7, at: old + 60_000 },
        { metric: 'no2', value: 9, at: recent },
        { metric: 'no2', value: 5000, at: old },
      ],
      'http',
    );
    const keep = handMade();
    await telemetry.ingest(keep, [{ metric: 'no2', value: 1, at: recent }], 'http');
    // Quarantine rows are aged by when they arrived.
    await sql`update quarantine set received_at = ${new Date(now - 31 * DAY)} where device_id = ${d.deviceId}`.execute(t.services.db.k);
    const result = await telemetry.applyRetention(new Date(now));
    assert.ok(result.readingsDeleted >= 2);
    assert.ok(result.quarantineDeleted >= 1);
    assert.deepEqual(
      (await telemetry.range(d.deviceId, 'no2', new Date(recent - DAY), new Date(recent + DAY))).map((r) => r.value),
      [9],
    );
    assert.equal(await count('readings', d.deviceId), 1);
    assert.equal(await count('readings', keep.deviceId), 1);
    assert.equal(await count('quarantine', d.deviceId), 0);
    const [oldHour] = await telemetry.aggregate(d.deviceId, 'no2', new Date(old), new Date(old + HOUR), 3600);
    assert.deepEqual([oldHour.count, oldHour.min, oldHour.max, oldHour.mean], [2, 5, 7, 6]);
    const [oldDay] = await telemetry.aggregate(d.deviceId, 'no2', new Date(old), new Date(old + HOUR), 86_400);
    assert.equal(oldDay.count, 2);
  });

  test('readings are counted for Prometheus by source and outcome', async () => {
    const metric = async () => (await register.getSingleMetric('weft_telemetry_readings_total')?.get())?.values ?? [];
    const value = async (source: string, outcome: string) => (await metric()).find((v) => v.labels.source === source && v.labels.outcome === outcome)?.value ?? 0;
    const before = [await value('lorawan', 'accepted'), await value('lorawan', 'duplicate'), await value('lorawan', 'quarantined')];
    const d = handMade();
    await telemetry.ingest(
      d,
      [
        { metric: 'no2', value: 1, at: base },
        { metric: 'no2', value: 1, at: base },
        { metric: 'nope', value: 1, at: base },
      ],
      'lorawan',
    );
    assert.deepEqual([await value('lorawan', 'accepted'), await value('lorawan', 'duplicate'), await value('lorawan', 'quarantined')], [before[0] + 1, before[1] + 1, before[2] + 1]);
  });

  if (dialect === 'postgres') {
    test('PostgreSQL: readings go into day partitions made ahead or on demand; stray rows move out of the default partition; old partitions are dropped whole', async () => {
      const k = t.services.db.k;
      const partitionOf = async (deviceId: string) =>
        (await sql<{ p: string }>`select tableoid::regclass::text as p from readings where device_id = ${deviceId}`.execute(k)).rows.map((r) => r.p.replace(/^.*\./, ''));
      const now = Date.now();
      const today = now - (now % DAY);
      assert.ok((await telemetry.preparePartitions(new Date(now))) >= 0);
      const names = (
        await sql<{
          n: string;
        }>`select c.relname as n from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent where p.relname = 'readings' and p.relnamespace = current_schema()::regnamespace`.execute(
          k,
        )
      ).rows.map((r) => r.n);
      const day = (ms: number) => `readings_p${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')}`;
      for (let i = 0; i <= 7; i++) assert.ok(names.includes(day(today + i * DAY)), `partition for today + ${i}`);
      assert.ok(names.includes('readings_default'));

      // A day 20 days back gets its partition on demand; its earlier stray row moves into it.
      const d = handMade();
      const past = today - 20 * DAY + HOUR;
      await sql`insert into readings_default (device_id, metric, measured_at, value) values (${d.deviceId}, 'no2', ${new Date(past)}, 1)`.execute(k);
      const r = await telemetry.ingest(
        d,
        [
          { metric: 'no2', value: 1, at: past },
          { metric: 'no2', value: 2, at: past + 60_000 },
        ],
        'http',
      );
      assert.deepEqual(r, { accepted: 1, duplicates: 1, quarantined: [] });
      assert.deepEqual(await partitionOf(d.deviceId), [day(past), day(past)]);

      // Very old readings land in the default partition; a partition made for an old day is dropped whole by retention.
      const old = today - 200 * DAY;
      await telemetry.preparePartitions(new Date(old));
      const o = handMade();
      await telemetry.ingest(
        o,
        [
          { metric: 'no2', value: 1, at: old + HOUR },
          { metric: 'no2', value: 2, at: today - 300 * DAY },
        ],
        'http',
      );
      assert.deepEqual((await partitionOf(o.deviceId)).sort(), [day(old), 'readings_default'].sort());
      const result = await telemetry.applyRetention(new Date(now));
      assert.ok(result.partitionsDropped.includes(day(old)));
      assert.ok(!result.partitionsDropped.includes(day(past)));
      assert.equal((await partitionOf(o.deviceId)).length, 0);
      assert.equal((await telemetry.aggregate(o.deviceId, 'no2', new Date(old), new Date(old + DAY), 86_400))[0].count, 1);
    });
  }
});
