/**
 * HTTP ingest and queries, on each dialect, with real devices and their tokens, API keys
 * and staff sessions: every bad-input case with its code, the accepted body shapes, the
 * queries, and residents' homes kept from those without homes:read.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { newId } from '../../../src/platform/ids.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { bearer, realDevice } from './fixtures.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const base = (() => {
  const now = Date.now();
  const hoursAgo = now - (now % HOUR) - 5 * HOUR;
  // The two hours of readings from base stay inside one UTC day, so the 1-day bucket holds them all.
  return hoursAgo % DAY > DAY - 2 * HOUR ? hoursAgo - 2 * HOUR : hoursAgo;
})();

forEachDialect('telemetry over HTTP', (dialect) => {
  let t: TestApp;
  let air: Awaited<ReturnType<typeof realDevice>>;
  let home: Awaited<ReturnType<typeof realDevice>>;
  let reader: string;
  let ingester: string;

  const post = (token: string, payload: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/telemetry', headers: bearer(token), payload: JSON.stringify(payload) });
  const get = (token: string, url: string) => t.app.inject({ url, headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    t = await testApp(dialect, { WEFT_KEY_RATE_LIMIT: '100000' });
    air = await realDevice(t, { lat: 51.752, lon: -1.2577 });
    home = await realDevice(t, { profile: 'telecare-hub', siteType: 'home', lat: 51.76, lon: -1.25 });
    reader = await t.key(['telemetry:read']);
    ingester = await t.key(['telemetry:ingest']);
  });

  test('a device posts one reading, a batch, or ThingsBoard-style objects with its own token', async () => {
    const one = await post(air.token, { metric: 'no2', value: 41.2, at: new Date(base).toISOString() });
    assert.equal(one.statusCode, 200, one.body);
    assert.deepEqual(one.json(), { accepted: 1, duplicates: 0, quarantined: [] });

    const batch = await post(air.token, {
      readings: [
        { metric: 'no2', value: 42, at: base + 60_000 },
        { metric: 'pm2_5', value: 9, at: base + 60_000 },
        { metric: 'no2', value: 9999, at: base + 120_000 },
      ],
    });
    assert.equal(batch.statusCode, 200);
    assert.deepEqual(batch.json(), { accepted: 2, duplicates: 0, quarantined: [{ index: 2, metric: 'no2', reason: '9999 is above the maximum of 2000 for no2.' }] });

    const flat = await post(air.token, { no2: 43, pm2_5: 10, ts: base + 180_000 });
    assert.deepEqual(flat.json(), { accepted: 2, duplicates: 0, quarantined: [] });
    const nested = await post(air.token, { ts: base + 240_000, values: { no2: 44, humidity: 60 } });
    assert.deepEqual(nested.json(), { accepted: 2, duplicates: 0, quarantined: [] });
    const list = await post(air.token, [
      { ts: base + 300_000, values: { no2: 45 } },
      { ts: base + 360_000, values: { no2: 46 } },
    ]);
    assert.deepEqual(list.json(), { accepted: 2, duplicates: 0, quarantined: [] });
    const again = await post(air.token, { no2: 43, pm2_5: 10, ts: base + 180_000 });
    assert.deepEqual(again.json(), { accepted: 0, duplicates: 2, quarantined: [] });

    const res = await get(reader, `/api/v1/devices/${air.device.id}/readings?metric=no2&from=${new Date(base).toISOString()}`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(
      res.json().readings.map((r: { value: number }) => r.value),
      [41.2, 42, 43, 44, 45, 46],
    );
    // The device was seen: estate records it (written about once a second, and on flush).
    await t.services.estate.flush();
    assert.ok((await t.services.estate.getDevice(air.device.id)).lastSeenAt);
  });

  test('bad requests are refused with their codes and store nothing', async () => {
    const d = await realDevice(t);
    const cases: [unknown, number, string, string?][] = [
      [{ readings: 'no2=4' }, 400, 'READINGS_MALFORMED'],
      [{ readings: [{ metric: 'no2', value: 1 }], extra: true }, 400, 'READINGS_MALFORMED'],
      [{ metric: 'no2', value: 1, unit: 'ppm' }, 400, 'READINGS_MALFORMED'],
      [{ ts: base, values: [1, 2] }, 400, 'READINGS_MALFORMED'],
      [[1, 2], 400, 'READINGS_MALFORMED'],
      [{ readings: [] }, 400, 'READINGS_EMPTY'],
      [{}, 400, 'READINGS_EMPTY'],
      ['hello', 400, 'READINGS_MALFORMED'],
      [null, 400, 'READINGS_MALFORMED'],
      [{ readings: [{ metric: 'no2', value: '41' }] }, 400, 'READING_INVALID', 'readings/0/value'],
      [{ readings: [{ value: 41 }] }, 400, 'READING_INVALID', 'readings/0/metric'],
      [{ no2: 'high' }, 400, 'READING_INVALID', 'readings/0/value'],
      [{ metric: 'no2', value: 1, at: 'last tuesday' }, 400, 'TIMESTAMP_INVALID', 'readings/0/at'],
      [{ metric: 'no2', value: 1, at: Math.floor(Date.now() / 1000) }, 400, 'TIMESTAMP_INVALID', 'readings/0/at'],
      [{ metric: 'no2', value: 1, at: Date.now() + HOUR }, 400, 'TIMESTAMP_IN_FUTURE', 'readings/0/at'],
      [{ readings: Array.from({ length: 10_001 }, (_, i) => ({ metric: 'no2', value: 1, at: base + i })) }, 413, 'BATCH_TOO_LARGE'],
    ];
    for (const [payload, status, code, field] of cases) {
      const res = await post(d.token, payload);
      assert.equal(res.statusCode, status, `${JSON.stringify(payload).slice(0, 80)}: ${res.body.slice(0, 300)}`);
      const body = res.json();
      assert.equal(body.code, code, JSON.stringify(payload).slice(0, 80));
      assert.match(String(res.headers['content-type']), /application\/problem\+json/);
      if (field)
        assert.ok(
          body.errors.some((e: { field: string }) => e.field === field),
          JSON.stringify(body.errors),
        );
    }
    const malformed = await t.app.inject({ method: 'POST', url: '/api/v1/telemetry', headers: bearer(d.token), payload: '{"metric": "no2", ' });
    assert.equal(malformed.json().code, 'MALFORMED_JSON');
    const huge = await t.app.inject({ method: 'POST', url: '/api/v1/telemetry', headers: bearer(d.token), payload: JSON.stringify({ metric: 'no2', value: 1, pad: 'x'.repeat(5 * 1024 * 1024) }) });
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json().code, 'BODY_TOO_LARGE');
    const latest = await get(reader, `/api/v1/devices/${d.device.id}/latest`);
    assert.deepEqual(latest.json().values, []);
    const quarantine = await get(reader, `/api/v1/telemetry/quarantine?deviceId=${d.device.id}`);
    assert.deepEqual(quarantine.json().items, []);
  });

  test('a batch of 10,000 readings fits in one request', async () => {
    const d = await realDevice(t);
    const readings = Array.from({ length: 10_000 }, (_, i) => ({ metric: i % 2 ? 'no2' : 'pm2_5', value: (i % 500) / 3, at: new Date(base - DAY + Math.floor(i / 2) * 1000).toISOString() }));
    const res = await post(d.token, { readings });
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    assert.deepEqual(res.json(), { accepted: 10_000, duplicates: 0, quarantined: [] });
    const agg = await get(reader, `/api/v1/devices/${d.device.id}/aggregates?metric=no2&bucket=1d&from=${new Date(base - 2 * DAY).toISOString()}`);
    assert.equal(
      agg.json().buckets.reduce((n: number, b: { count: number }) => n + b.count, 0),
      5000,
    );
  });

  test('who may post: devices for themselves, API keys naming a device; wrong, unknown or decommissioned credentials are refused', async () => {
    const other = await realDevice(t);
    const none = await t.app.inject({ method: 'POST', url: '/api/v1/telemetry', headers: { 'content-type': 'application/json' }, payload: { metric: 'no2', value: 1 } });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().code, 'AUTH_REQUIRED');
    for (const bad of ['wdev_nonsense', `${other.token.slice(0, -3)}abc`]) {
      const res = await post(bad, { metric: 'no2', value: 1 });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().code, 'AUTH_INVALID');
    }
    const mismatch = await post(other.token, { metric: 'no2', value: 1, deviceId: air.device.id });
    assert.equal(mismatch.statusCode, 403);
    assert.equal(mismatch.json().code, 'DEVICE_MISMATCH');
    const own = await post(other.token, { metric: 'no2', value: 1, deviceId: other.device.id.toUpperCase() });
    assert.equal(own.statusCode, 200);

    const noDevice = await post(ingester, { metric: 'no2', value: 1 });
    assert.equal(noDevice.statusCode, 400);
    assert.equal(noDevice.json().code, 'DEVICE_ID_REQUIRED');
    const unknown = await post(ingester, { metric: 'no2', value: 1, deviceId: newId() });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().code, 'DEVICE_UNAVAILABLE');
    const forDevice = await post(ingester, { readings: [{ metric: 'no2', value: 7, at: base }], deviceId: other.device.id });
    assert.deepEqual(forDevice.json(), { accepted: 1, duplicates: 0, quarantined: [] });
    assert.equal((await post(reader, { metric: 'no2', value: 1, deviceId: other.device.id })).json().code, 'FORBIDDEN');
    const viewer = await t.signInAs(['viewer']);
    const staff = await t.app.inject({
      method: 'POST',
      url: '/api/v1/telemetry',
      headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf },
      payload: { metric: 'no2', value: 1, deviceId: other.device.id },
    });
    assert.equal(staff.statusCode, 403);

    await t.services.estate.decommissionDevice(systemActor('test'), other.device.id);
    const gone = await post(other.token, { metric: 'no2', value: 1 });
    assert.equal(gone.statusCode, 401);
    assert.equal(gone.json().code, 'AUTH_INVALID');
    const gone2 = await post(ingester, { metric: 'no2', value: 1, deviceId: other.device.id });
    assert.equal(gone2.json().code, 'DEVICE_UNAVAILABLE');
  });

  test('queries: latest for one device and for many, ranges, aggregates per bucket, CSV, nearby and quarantine', async () => {
    const site = await t.services.estate.createSite(systemActor('test'), { type: 'school', name: 'Query School', address: '1 School Lane', lat: 52.0, lon: -1.0 });
    const a = await realDevice(t, { siteId: site.id, lat: 52.0, lon: -1.0 });
    const b = await realDevice(t, { siteId: site.id, lat: 52.001, lon: -1.001 });
    const readings = Array.from({ length: 120 }, (_, i) => ({ metric: 'pm2_5', value: i, at: base + i * 60_000 }));
    await post(a.token, { readings });
    await post(b.token, {
      readings: [
        { metric: 'no2', value: 12, at: base },
        { metric: 'temperature', value: 99, at: base },
      ],
    });

    const one = (await get(reader, `/api/v1/devices/${a.device.id}/latest`)).json();
    assert.deepEqual(one.values, [{ metric: 'pm2_5', value: 119, at: new Date(base + 119 * 60_000).toISOString() }]);
    const bySite = (await get(reader, `/api/v1/telemetry/latest?siteId=${site.id}`)).json();
    assert.equal(bySite.values.length, 2);
    const byIds = (await get(reader, `/api/v1/telemetry/latest?deviceIds=${a.device.id},${b.device.id},not-an-id&metrics=no2`)).json();
    assert.deepEqual(byIds.values, [{ deviceId: b.device.id, metric: 'no2', value: 12, at: new Date(base).toISOString() }]);
    const posted = await t.app.inject({ method: 'POST', url: '/api/v1/telemetry/latest', headers: bearer(reader), payload: { deviceIds: [a.device.id, b.device.id] } });
    assert.equal(posted.json().values.length, 2);
    const byProfile = (await get(reader, '/api/v1/telemetry/latest?profile=air-quality')).json();
    assert.ok(byProfile.values.length >= 2);
    assert.equal((await get(reader, '/api/v1/telemetry/latest')).json().code, 'QUERY_INVALID');

    const from = new Date(base).toISOString();
    const to = new Date(base + 2 * HOUR).toISOString();
    const raw = (await get(reader, `/api/v1/devices/${a.device.id}/readings?metric=pm2_5&from=${from}&to=${to}&limit=5`)).json();
    assert.deepEqual(
      raw.readings.map((r: { value: number }) => r.value),
      [0, 1, 2, 3, 4],
    );
    for (const [bucket, n, first] of [
      ['1m', 120, [1, 0, 0, 0]],
      ['5m', 24, [5, 0, 4, 2]],
      ['15m', 8, [15, 0, 14, 7]],
      ['1h', 2, [60, 0, 59, 29.5]],
      ['1d', 1, [120, 0, 119, 59.5]],
    ] as const) {
      const res = await get(reader, `/api/v1/devices/${a.device.id}/aggregates?metric=pm2_5&bucket=${bucket}&from=${from}&to=${to}`);
      assert.equal(res.statusCode, 200, res.body);
      const buckets = res.json().buckets;
      if (bucket !== '1d') assert.equal(buckets.length, n, bucket);
      const b0 = buckets[0];
      if (bucket === '1d') assert.equal(b0.count, 120);
      else assert.deepEqual([b0.count, b0.min, b0.max, b0.mean], first, bucket);
    }
    const badBucket = await get(reader, `/api/v1/devices/${a.device.id}/aggregates?metric=pm2_5&bucket=2m`);
    assert.equal(badBucket.json().code, 'VALIDATION_FAILED');
    const backwards = await get(reader, `/api/v1/devices/${a.device.id}/readings?metric=pm2_5&from=${to}&to=${from}`);
    assert.equal(backwards.statusCode, 400);
    assert.equal(backwards.json().code, 'RANGE_INVALID');
    const tooLong = await get(reader, `/api/v1/devices/${a.device.id}/readings?metric=pm2_5&from=${new Date(base - 60 * DAY).toISOString()}&to=${to}`);
    assert.equal(tooLong.json().code, 'RANGE_TOO_LARGE');
    const tooMany = await get(reader, `/api/v1/devices/${a.device.id}/aggregates?metric=pm2_5&bucket=1m&from=${new Date(base - 60 * DAY).toISOString()}&to=${to}`);
    assert.equal(tooMany.json().code, 'RANGE_TOO_LARGE');
    const missing = await get(reader, `/api/v1/devices/${newId()}/readings?metric=pm2_5`);
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'DEVICE_NOT_FOUND');

    const csv = await get(reader, `/api/v1/devices/${a.device.id}/readings.csv?metric=pm2_5&from=${from}&to=${to}`);
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.match(String(csv.headers['content-disposition']), /attachment; filename=".*\.csv"/);
    const lines = csv.body.trim().split('\n');
    assert.equal(lines.length, 121);
    assert.equal(lines[1], `${a.device.id},pm2_5,${from},0`);
    const csvBad = await get(reader, `/api/v1/devices/${a.device.id}/readings.csv?from=${to}&to=${from}`);
    assert.equal(csvBad.json().code, 'RANGE_INVALID');

    const bbox = (await get(reader, '/api/v1/telemetry/nearby?bbox=-1.01,51.99,-0.99,52.01')).json();
    assert.deepEqual(bbox.devices.map((d: { id: string }) => d.id).sort(), [a.device.id, b.device.id].sort());
    assert.equal(bbox.devices.find((d: { id: string }) => d.id === a.device.id).values[0].value, 119);
    const near = (await get(reader, '/api/v1/telemetry/nearby?lat=52.0&lon=-1.0&radius=50')).json();
    assert.deepEqual(
      near.devices.map((d: { id: string }) => d.id),
      [a.device.id],
    );
    assert.equal((await get(reader, '/api/v1/telemetry/nearby?lat=52')).json().code, 'QUERY_INVALID');
    assert.equal((await get(reader, '/api/v1/telemetry/nearby?bbox=1,1,0,0')).json().code, 'QUERY_INVALID');

    const q = (await get(reader, `/api/v1/telemetry/quarantine?deviceId=${b.device.id}`)).json();
    assert.deepEqual(
      q.items.map((i: { metric: string; value: number; source: string }) => [i.metric, i.value, i.source]),
      [['temperature', 99, 'http']],
    );
    assert.match(q.items[0].reason, /above the maximum of 60/);
    assert.equal(q.next, null);
  });

  test('residents’ homes: their readings are hidden from staff without homes:read and shown to care', async () => {
    const sent = await post(home.token, {
      readings: [
        { metric: 'heartbeat', value: 1, at: base },
        { metric: 'mystery', value: 1, at: base },
      ],
    });
    assert.equal(sent.json().accepted, 1);
    const viewer = await t.signInAs(['viewer']);
    const care = await t.signInAs(['care']);
    const as = (who: { cookie: string }, url: string) => t.app.inject({ url, headers: { cookie: who.cookie } });
    for (const url of [
      `/api/v1/devices/${home.device.id}/latest`,
      `/api/v1/devices/${home.device.id}/readings?metric=heartbeat`,
      `/api/v1/devices/${home.device.id}/readings.csv`,
      `/api/v1/telemetry/quarantine?deviceId=${home.device.id}`,
    ]) {
      const hidden = await as(viewer, url);
      assert.equal(hidden.statusCode, 404, url);
      assert.equal(hidden.json().code, 'DEVICE_NOT_FOUND');
      assert.equal((await as(care, url)).statusCode, 200, url);
    }
    const many = (await as(viewer, `/api/v1/telemetry/latest?deviceIds=${home.device.id},${air.device.id}`)).json();
    assert.ok(many.values.length > 0 && many.values.every((v: { deviceId: string }) => v.deviceId !== home.device.id));
    const careMany = (await as(care, `/api/v1/telemetry/latest?deviceIds=${home.device.id}`)).json();
    assert.equal(careMany.values.length, 1);
    const bySite = await as(viewer, `/api/v1/telemetry/latest?siteId=${home.siteId}`);
    assert.equal(bySite.statusCode, 404);
    const near = (await as(viewer, '/api/v1/telemetry/nearby?lat=51.76&lon=-1.25&radius=100')).json();
    assert.deepEqual(near.devices, []);
    assert.equal((await as(care, '/api/v1/telemetry/nearby?lat=51.76&lon=-1.25&radius=100')).json().devices.length, 1);
    const quarantine = (await as(viewer, '/api/v1/telemetry/quarantine')).json();
    assert.ok(quarantine.items.every((i: { deviceId: string }) => i.deviceId !== home.device.id));
    assert.ok((await as(care, '/api/v1/telemetry/quarantine')).json().items.some((i: { deviceId: string }) => i.deviceId === home.device.id));
    const page = await as(viewer, `/console/telemetry/devices/${home.device.id}`);
    assert.equal(page.statusCode, 404);
  });

  test('console pages: telemetry, a device’s live page and quarantine render for a viewer', async () => {
    const viewer = await t.signInAs(['viewer']);
    const as = (url: string) => t.app.inject({ url, headers: { cookie: viewer.cookie } });
    const list = await as(`/console/telemetry?deviceId=${air.device.id}`);
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /Latest values/);
    assert.match(list.body, /no2/);
    const unknown = await as(`/console/telemetry?deviceId=${newId()}`);
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.body, /There is no device with that id/);
    const live = await as(`/console/telemetry/devices/${air.device.id}?metric=no2`);
    assert.equal(live.statusCode, 200);
    assert.match(live.body, /id="live-chart"/);
    assert.match(live.body, /<script type="module" src="\/assets\/telemetry\/live.js"><\/script>/);
    assert.doesNotMatch(live.body, /<script>(?!<\/script>)|style="/);
    const quarantine = await as('/console/telemetry/quarantine');
    assert.equal(quarantine.statusCode, 200);
    assert.match(quarantine.body, /9999/);
    for (const asset of ['/assets/telemetry/live.js', '/assets/uplot/uPlot.esm.js', '/assets/uplot/uPlot.min.css', '/assets/telemetry/telemetry.css']) {
      assert.equal((await t.app.inject({ url: asset })).statusCode, 200, asset);
    }
    assert.equal((await t.app.inject({ url: '/assets/uplot/package.json' })).statusCode, 404);
  });

  test('/metrics counts readings by source and outcome', async () => {
    const metrics = await t.key(['metrics:read']);
    const body = (await get(metrics, '/metrics')).body;
    assert.match(body, /^weft_telemetry_readings_total\{source="http",outcome="accepted"\} \d+$/m);
    assert.match(body, /^weft_telemetry_readings_total\{source="http",outcome="quarantined"\} \d+$/m);
    assert.match(body, /^weft_http_requests_total/m);
  });

  test('the OpenAPI description documents the accepted bodies', async () => {
    const doc = (await t.app.inject({ url: '/api/openapi.json' })).json();
    const op = doc.paths['/api/v1/telemetry'].post;
    const text = JSON.stringify(op.requestBody);
    for (const shape of ['Batch', 'One reading', 'ThingsBoard style', 'ThingsBoard list']) assert.ok(text.includes(shape), shape);
  });
});
