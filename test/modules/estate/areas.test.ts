import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { square } from '../../geo-fixtures.js';

/** Two wards side by side; the east one has a hole (a neighbouring parish) in it. */
const WARDS = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { name: 'West Ward', code: 'E05000001' }, geometry: { type: 'Polygon', coordinates: square(-1.4, 51.7, -1.3, 51.8) } },
    {
      type: 'Feature',
      properties: { name: 'East Ward', code: 'E05000002' },
      geometry: { type: 'MultiPolygon', coordinates: [[...square(-1.3, 51.7, -1.2, 51.8), ...square(-1.26, 51.74, -1.24, 51.76)]] },
    },
  ],
};

forEachDialect('estate: areas, placement and the rollout view', (dialect) => {
  let t: TestApp;
  let officer: Browser;
  const as = (b: Browser) => ({ cookie: b.cookie, 'x-csrf-token': b.csrf });
  const site = async (name: string, lat: number, lon: number, type = 'school', connectivity?: object) =>
    (await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: as(officer), payload: { type, name, address: `${name} Road`, lat, lon, ...(connectivity ? { connectivity } : {}) } })).json();

  before(async () => {
    t = await testApp(dialect);
    officer = await t.signInAs(['officer']);
  });

  test('sites made before the areas are placed when the areas are imported; new ones as they are made', async () => {
    const west = await site('Westfield', 51.75, -1.35);
    const hole = await site('In the hole', 51.75, -1.25);
    assert.equal(west.areaId, null);
    const dev = (
      await t.app.inject({ method: 'POST', url: '/api/v1/devices', headers: as(officer), payload: { name: 'AQ', serial: 'AQ-AREA-1', profile: 'air-quality', lat: 51.72, lon: -1.22 } })
    ).json().device;
    const atSite = (await t.app.inject({ method: 'POST', url: '/api/v1/devices', headers: as(officer), payload: { name: 'PIR', serial: 'PIR-AREA-1', profile: 'pir-motion', siteId: west.id } })).json()
      .device;

    const res = await t.app.inject({ method: 'POST', url: '/api/v1/areas/import', headers: as(officer), payload: WARDS });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { created: 2, updated: 0, placed: { sites: 1, devices: 2 } });
    const areas = (await t.app.inject({ url: '/api/v1/areas', headers: as(officer) })).json();
    const byName = Object.fromEntries(areas.map((a: { name: string; id: string }) => [a.name, a.id]));
    assert.deepEqual(areas.find((a: { name: string }) => a.name === 'West Ward').bbox, [-1.4, 51.7, -1.3, 51.8]);

    const get = async (kind: 'sites' | 'devices', id: string) => (await t.app.inject({ url: `/api/v1/${kind}/${id}`, headers: as(officer) })).json();
    assert.equal((await get('sites', west.id)).areaId, byName['West Ward']);
    assert.equal((await get('sites', hole.id)).areaId, null, 'a point in the hole is in no ward');
    assert.equal((await get('devices', dev.id)).areaId, byName['East Ward']);
    assert.equal((await get('devices', atSite.id)).areaId, byName['West Ward'], 'a device with no position is in its site’s area');

    const east = await site('Eastgate', 51.79, -1.21);
    assert.equal(east.areaId, byName['East Ward']);
    assert.equal(east.areaName, 'East Ward');
    const moved = (await t.app.inject({ method: 'PATCH', url: `/api/v1/sites/${west.id}`, headers: as(officer), payload: { lat: 51.71, lon: -1.29 } })).json();
    assert.equal(moved.areaId, byName['East Ward']);
    assert.equal((await get('devices', atSite.id)).areaId, byName['East Ward'], 'its devices move with it');

    // Importing again with the same codes replaces the shapes: the hole is filled.
    const filled = structuredClone(WARDS);
    filled.features[1].geometry = { type: 'Polygon', coordinates: square(-1.3, 51.7, -1.2, 51.8) } as never;
    const again = await t.app.inject({ method: 'POST', url: '/api/v1/areas/import', headers: as(officer), payload: filled });
    assert.deepEqual(again.json(), { created: 0, updated: 2, placed: { sites: 1, devices: 0 } });
    assert.equal((await get('sites', hole.id)).areaId, byName['East Ward']);

    const geo = (await t.app.inject({ url: '/api/v1/areas.geojson', headers: as(officer) })).json();
    assert.equal(geo.features.length, 2);
    assert.equal(geo.features[0].geometry.type, 'Polygon');

    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/areas/${byName['West Ward']}`, headers: as(officer) });
    assert.equal(del.statusCode, 204);
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/v1/areas/${byName['West Ward']}`, headers: as(officer) })).json().code, 'AREA_NOT_FOUND');
    await t.app.inject({ method: 'POST', url: '/api/v1/areas/import', headers: as(officer), payload: WARDS });
  });

  test('a bad GeoJSON file is refused whole, naming each bad feature', async () => {
    const bad = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { name: 'Ok' }, geometry: { type: 'Polygon', coordinates: square(0, 0, 1, 1) } },
        { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: square(0, 0, 1, 1) } },
        { type: 'Feature', properties: { name: 'Pointy' }, geometry: { type: 'Point', coordinates: [0, 0] } },
      ],
    };
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/areas/import', headers: as(officer), payload: bad });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'AREA_IMPORT_INVALID');
    assert.deepEqual(
      res.json().errors.map((e: { field: string }) => e.field),
      ['features/1/properties/name', 'features/2/geometry'],
    );
    const notFc = await t.app.inject({
      method: 'POST',
      url: '/api/v1/areas/import',
      headers: { ...as(officer), 'content-type': 'application/geo+json' },
      payload: JSON.stringify({ type: 'Feature' }),
    });
    assert.equal(notFc.statusCode, 400);
    assert.equal((await t.app.inject({ url: '/api/v1/areas', headers: as(officer) })).json().length, 2);
  });

  test('the rollout counts sites by type, technology and status, by area', async () => {
    const fibre = (status: string) => ({ technology: 'full_fibre', status });
    await site('School A', 51.75, -1.35, 'school', fibre('live'));
    await site('School B', 51.75, -1.35, 'school', fibre('planned'));
    await site('School C', 51.75, -1.21, 'school', fibre('planned'));
    await site('Hall', 51.75, -1.25, 'council_building', fibre('live'));
    await site('Clinic', 51.75, -1.25, 'nhs_site', { technology: 'fttc', status: 'live' });
    const r = (await t.app.inject({ url: '/api/v1/estate/rollout', headers: as(officer) })).json();
    const count = (type: string, technology: string | null, status: string | null) =>
      r.rows
        .filter((x: { type: string; technology: string; status: string }) => x.type === type && x.technology === technology && x.status === status)
        .reduce((n: number, x: { count: number }) => n + x.count, 0);
    assert.equal(count('school', 'full_fibre', 'planned'), 2);
    assert.equal(count('school', 'full_fibre', 'live'), 1);
    assert.equal(count('council_building', 'full_fibre', 'live'), 1);
    assert.equal(count('nhs_site', 'fttc', 'live'), 1);
    assert.equal(count('school', null, null), 3, 'sites with no connectivity recorded');
    const east = r.areas.find((a: { name: string }) => a.name === 'East Ward').id;
    const plannedEast = r.rows.filter((x: { type: string; status: string; areaId: string }) => x.type === 'school' && x.status === 'planned' && x.areaId === east);
    assert.equal(
      plannedEast.reduce((n: number, x: { count: number }) => n + x.count, 0),
      1,
    );

    const page = await t.app.inject({ url: '/console/estate/rollout', headers: as(officer) });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<svg class="weft-chart"/);
    assert.match(page.body, /id="estate-map"/);
    assert.ok(!/ style="/.test(page.body), 'no inline styles');
    const areaPage = await t.app.inject({ url: `/console/estate/rollout?areaId=${east}`, headers: as(officer) });
    assert.match(areaPage.body, /Connectivity rollout in East Ward/);
  });
});
