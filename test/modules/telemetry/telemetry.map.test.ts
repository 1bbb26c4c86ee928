/**
 * The live map page on each dialect: devices of a profile with their latest values after
 * readings are ingested (the table that works without JavaScript, and the JSON the map
 * reads), residents' homes kept from those without homes:read, and the filters.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { newId } from '../../../src/platform/ids.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { bearer, realDevice } from './fixtures.js';

const square = (name: string, lon: number, lat: number) => ({
  type: 'Feature',
  properties: { name, code: name.toUpperCase() },
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [lon - 0.05, lat - 0.05],
        [lon + 0.05, lat - 0.05],
        [lon + 0.05, lat + 0.05],
        [lon - 0.05, lat + 0.05],
        [lon - 0.05, lat - 0.05],
      ],
    ],
  },
});

/** The JSON the page embeds for the map script. */
const mapData = (html: string) => {
  const m = /<script type="application\/json" id="telemetry-map-data">([^<]*)<\/script>/.exec(html);
  assert.ok(m, 'the page embeds the map data');
  return JSON.parse(m[1]);
};

forEachDialect('telemetry live map page', (dialect) => {
  let t: TestApp;
  let north: Awaited<ReturnType<typeof realDevice>>;
  let south: Awaited<ReturnType<typeof realDevice>>;
  let bay: Awaited<ReturnType<typeof realDevice>>;
  let home: Awaited<ReturnType<typeof realDevice>>;
  let northAreaId: string;
  const now = Date.now();

  const post = (token: string, payload: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/telemetry', headers: bearer(token), payload: JSON.stringify(payload) });

  before(async () => {
    t = await testApp(dialect, { WEFT_KEY_RATE_LIMIT: '100000' });
    await t.services.estate.importAreas(systemActor('test'), { type: 'FeatureCollection', features: [square('Northfield', -1.0, 53.0), square('Southmead', -1.0, 51.0)] });
    northAreaId = (await t.services.estate.listAreas()).find((a) => a.name === 'Northfield')?.id as string;
    north = await realDevice(t, { lat: 53.0, lon: -1.0 });
    south = await realDevice(t, { lat: 51.0, lon: -1.0 });
    bay = await realDevice(t, { profile: 'parking-bay', lat: 53.01, lon: -1.01 });
    home = await realDevice(t, { profile: 'air-quality', siteType: 'home', lat: 53.02, lon: -0.99 });
    for (const [d, payload] of [
      [
        north,
        {
          readings: [
            { metric: 'no2', value: 31, at: now - 120_000 },
            { metric: 'no2', value: 452.5, at: now - 60_000 },
            { metric: 'pm2_5', value: 7, at: now - 60_000 },
          ],
        },
      ],
      [south, { metric: 'no2', value: 12, at: now - 60_000 }],
      [bay, { metric: 'occupied', value: 1, at: now - 60_000 }],
      [home, { metric: 'no2', value: 99, at: now - 60_000 }],
    ] as const) {
      const res = await post(d.token, payload);
      assert.equal(res.statusCode, 200, res.body);
    }
  });

  test('the page lists air-quality devices with their latest values, and embeds them for the map', async () => {
    const care = await t.signInAs(['care']);
    const res = await t.app.inject({ url: '/console/telemetry/map', headers: { cookie: care.cookie } });
    assert.equal(res.statusCode, 200, res.body.slice(0, 500));
    assert.doesNotMatch(res.body, /<script>(?!<\/script>)|style="/);
    assert.match(res.body, /<script type="module" src="\/assets\/telemetry\/telemetry-map.mjs"><\/script>/);
    const row = (id: string) =>
      new RegExp(`<tr class="govuk-table__row">\\s*<th[^>]*><a class="govuk-link" href="/console/telemetry/devices/${id}">[^<]*</a></th>[\\s\\S]*?</tr>`).exec(res.body)?.[0] ?? '';
    assert.match(row(north.device.id), /452\.5 µg\/m³/);
    assert.match(row(north.device.id), /7 µg\/m³/);
    assert.match(row(north.device.id), /Northfield/);
    assert.doesNotMatch(row(north.device.id), />31 /);
    assert.match(row(south.device.id), /12 µg\/m³/);
    assert.match(row(home.device.id), /99 µg\/m³/, 'care sees homes');
    assert.equal(row(bay.device.id), '', 'parking bays are another profile');
    const data = mapData(res.body);
    assert.equal(data.metric, 'no2');
    assert.equal(data.streamUrl, '/api/v1/telemetry/stream?profile=air-quality');
    const n = data.devices.find((d: { id: string }) => d.id === north.device.id);
    assert.deepEqual(n.values.no2, { value: 452.5, at: new Date(now - 60_000).toISOString() });
    assert.deepEqual([n.lat, n.lon], [53.0, -1.0]);
    assert.ok(data.bands.some((b: { key: string }) => b.key === 'high'));
    assert.equal((await t.app.inject({ url: '/assets/telemetry/telemetry-map.mjs' })).statusCode, 200);
    // The telemetry page links to the map.
    const index = await t.app.inject({ url: '/console/telemetry', headers: { cookie: care.cookie } });
    assert.match(index.body, /href="\/console\/telemetry\/map"/);
  });

  test('a viewer does not see devices in residents’ homes', async () => {
    const viewer = await t.signInAs(['viewer']);
    const res = await t.app.inject({ url: '/console/telemetry/map', headers: { cookie: viewer.cookie } });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, new RegExp(north.device.id));
    assert.doesNotMatch(res.body, new RegExp(home.device.id));
    assert.doesNotMatch(res.body, /99 µg/);
    assert.ok(mapData(res.body).devices.every((d: { id: string }) => d.id !== home.device.id));
  });

  test('filters: profile and area; unknown ones are refused with a message', async () => {
    const viewer = await t.signInAs(['viewer']);
    const as = (url: string) => t.app.inject({ url, headers: { cookie: viewer.cookie } });
    const bays = await as('/console/telemetry/map?profile=parking-bay');
    assert.equal(bays.statusCode, 200);
    assert.match(bays.body, new RegExp(bay.device.id));
    assert.doesNotMatch(bays.body, new RegExp(north.device.id));
    assert.match(bays.body, /Occupied/);
    const bayData = mapData(bays.body);
    assert.equal(bayData.metric, 'occupied');
    assert.deepEqual(bayData.devices[0].values.occupied.value, 1);

    const inNorth = await as(`/console/telemetry/map?profile=air-quality&areaId=${northAreaId}`);
    assert.equal(inNorth.statusCode, 200);
    assert.match(inNorth.body, new RegExp(north.device.id));
    assert.doesNotMatch(inNorth.body, new RegExp(south.device.id));
    assert.equal(mapData(inNorth.body).streamUrl, `/api/v1/telemetry/stream?profile=air-quality&areaId=${northAreaId}`);
    const allAreas = await as('/console/telemetry/map?profile=air-quality&areaId=');
    assert.match(allAreas.body, new RegExp(south.device.id));

    const other = await as('/console/telemetry/map?profile=telecare-hub');
    assert.equal(other.statusCode, 200);
    assert.match(other.body, /There are no devices of this kind/);

    const badProfile = await as('/console/telemetry/map?profile=no-such-thing');
    assert.equal(badProfile.statusCode, 400);
    assert.match(badProfile.body, /There is no kind of device with that name/);
    const badArea = await as(`/console/telemetry/map?areaId=${newId()}`);
    assert.equal(badArea.statusCode, 400);
    assert.match(badArea.body, /There is no area with that id/);
  });

  test('the stream follows a profile: readings of its devices only', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address() as { port: number };
    const key = await t.key(['telemetry:read']);
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${address.port}/api/v1/telemetry/stream?profile=parking-bay`, { headers: { authorization: `Bearer ${key}` }, signal: controller.signal });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read(); // retry line
    await post(north.token, { metric: 'no2', value: 50 });
    await post(bay.token, { metric: 'occupied', value: 0 });
    let text = '';
    while (!/event: readings/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    assert.match(text, new RegExp(bay.device.id));
    assert.doesNotMatch(text, new RegExp(north.device.id));
    controller.abort();
    const none = await t.app.inject({ url: '/api/v1/telemetry/stream?areaId=' + northAreaId, headers: { authorization: `Bearer ${key}` } });
    assert.equal(none.json().code, 'QUERY_INVALID');
  });
});
