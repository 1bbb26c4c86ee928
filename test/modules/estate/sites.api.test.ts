import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const school = {
  type: 'school',
  name: 'Castle Street Primary',
  address: '1 Castle Street, Wealdmoor',
  postcode: 'wm1 1aa',
  uprn: '100012345678',
  lat: 51.75,
  lon: -1.25,
  tags: ['primary'],
  ownerTeam: 'Schools ICT',
  connectivity: { technology: 'full_fibre', status: 'planned', downMbps: 900, upMbps: 110, provider: 'OpenNet', circuitRef: 'C-1', plannedAt: '2026-04-01' },
};

forEachDialect('estate API: sites, homes and validation', (dialect) => {
  let t: TestApp;
  let officer: Browser;
  let viewer: Browser;
  let care: Browser;
  const as = (b: Browser) => ({ cookie: b.cookie, 'x-csrf-token': b.csrf });

  before(async () => {
    t = await testApp(dialect);
    [officer, viewer, care] = await Promise.all([t.signInAs(['officer']), t.signInAs(['viewer']), t.signInAs(['care', 'officer'])]);
  });

  test('an officer creates, reads, changes and deletes a site; each write is audited', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: as(officer), payload: school });
    assert.equal(created.statusCode, 201, created.body);
    const site = created.json();
    assert.equal(site.postcode, 'WM1 1AA');
    assert.equal(site.isPersonal, false);
    assert.equal(site.connectivity.technology, 'full_fibre');
    assert.equal(site.connectivity.plannedAt, '2026-04-01');
    assert.equal(site.connectivity.liveAt, null);

    const got = await t.app.inject({ url: `/api/v1/sites/${site.id}`, headers: as(viewer) });
    assert.equal(got.statusCode, 200);
    assert.equal(got.json().name, 'Castle Street Primary');

    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/sites/${site.id}`,
      headers: as(officer),
      payload: { name: 'Castle Street Primary School', connectivity: { technology: 'full_fibre', status: 'live', liveAt: '2026-05-02' } },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().connectivity.status, 'live');
    assert.equal(patched.json().connectivity.provider, null, 'connectivity is replaced whole');

    const removed = await t.app.inject({ method: 'PATCH', url: `/api/v1/sites/${site.id}`, headers: as(officer), payload: { connectivity: null } });
    assert.equal(removed.json().connectivity, null);

    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/sites/${site.id}`, headers: as(officer) });
    assert.equal(del.statusCode, 204);
    const gone = await t.app.inject({ url: `/api/v1/sites/${site.id}`, headers: as(officer) });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().code, 'SITE_NOT_FOUND');

    const audit = await t.services.audit.search({ targetId: site.id, limit: 10 } as never);
    assert.deepEqual(audit.map((e) => e.action).sort(), ['estate.site_create', 'estate.site_delete', 'estate.site_update', 'estate.site_update']);
  });

  test('bad input is refused with a code and the field named', async () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ ...school, type: 'castle' }, 'VALIDATION_FAILED', 'type'],
      [{ ...school, postcode: 'not a postcode' }, 'VALIDATION_FAILED', 'postcode'],
      [{ ...school, lat: 91 }, 'VALIDATION_FAILED', 'lat'],
      [{ ...school, lat: null }, 'POSITION_INCOMPLETE', 'lat'],
      [{ ...school, extra: 1 }, 'VALIDATION_FAILED', ''],
      [{ ...school, connectivity: { technology: 'carrier_pigeon', status: 'live' } }, 'VALIDATION_FAILED', 'connectivity/technology'],
      [{ ...school, connectivity: { technology: 'fttc', status: 'live', plannedAt: '2026-02-30' } }, 'VALIDATION_FAILED', 'connectivity/plannedAt'],
    ];
    for (const [payload, code, field] of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: as(officer), payload });
      assert.equal(res.statusCode, 400, `${JSON.stringify(payload)} → ${res.body}`);
      assert.equal(res.json().code, code);
      if (field) assert.ok(JSON.stringify(res.json().errors ?? []).includes(field), `${field} named in ${res.body}`);
    }
    const noSite = await t.app.inject({ method: 'PATCH', url: '/api/v1/sites/01900000-0000-7000-8000-000000000000', headers: as(officer), payload: { name: 'x' } });
    assert.equal(noSite.json().code, 'SITE_NOT_FOUND');
    const viewerWrite = await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: as(viewer), payload: school });
    assert.equal(viewerWrite.statusCode, 403);
  });

  test('a site with devices cannot be deleted', async () => {
    const site = (await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: as(officer), payload: { ...school, name: 'Library' } })).json();
    const dev = await t.app.inject({ method: 'POST', url: '/api/v1/devices', headers: as(officer), payload: { name: 'Counter', serial: 'PC-LIB-1', profile: 'people-counter', siteId: site.id } });
    assert.equal(dev.statusCode, 201, dev.body);
    assert.equal(dev.json().device.lat, 51.75, 'a device without a position of its own takes its site’s');
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/sites/${site.id}`, headers: as(officer) });
    assert.equal(del.statusCode, 409);
    assert.equal(del.json().code, 'SITE_HAS_DEVICES');
  });

  test('residents’ homes and their devices do not exist for a viewer or an officer, and do for care', async () => {
    const home = { type: 'home', name: 'Mrs A', address: '4 Elm Road', postcode: 'WM2 2BB', lat: 51.7, lon: -1.2 };
    const refused = await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: as(officer), payload: home });
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().code, 'PERSONAL_SITE_FORBIDDEN');

    const made = await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: as(care), payload: home });
    assert.equal(made.statusCode, 201, made.body);
    const site = made.json();
    assert.equal(site.isPersonal, true);
    const dev = await t.app.inject({ method: 'POST', url: '/api/v1/devices', headers: as(care), payload: { name: 'Hub', serial: 'TC-HOME-1', profile: 'telecare-hub', siteId: site.id } });
    assert.equal(dev.statusCode, 201, dev.body);
    const device = dev.json().device;
    assert.equal(device.isPersonal, true);

    for (const who of [viewer, officer]) {
      assert.equal((await t.app.inject({ url: `/api/v1/sites/${site.id}`, headers: as(who) })).json().code, 'SITE_NOT_FOUND');
      assert.equal((await t.app.inject({ url: `/api/v1/devices/${device.id}`, headers: as(who) })).json().code, 'DEVICE_NOT_FOUND');
      const sites = (await t.app.inject({ url: '/api/v1/sites?limit=1000', headers: as(who) })).json().items;
      assert.ok(!sites.some((s: { id: string }) => s.id === site.id), 'not listed');
      const typed = (await t.app.inject({ url: '/api/v1/sites?type=home', headers: as(who) })).json().items;
      assert.equal(typed.length, 0);
      const devices = (await t.app.inject({ url: '/api/v1/devices?limit=1000', headers: as(who) })).json().items;
      assert.ok(!devices.some((d: { id: string }) => d.id === device.id));
      const csv = (await t.app.inject({ url: '/api/v1/sites/export.csv', headers: as(who) })).body;
      assert.ok(!csv.includes('Elm Road'));
      const devCsv = (await t.app.inject({ url: '/api/v1/devices/export.csv', headers: as(who) })).body;
      assert.ok(!devCsv.includes('TC-HOME-1'));
      const geo = (await t.app.inject({ url: '/api/v1/sites.geojson', headers: as(who) })).body;
      assert.ok(!geo.includes(site.id));
      const health = (await t.app.inject({ url: '/api/v1/estate/health', headers: as(who) })).json();
      assert.ok(!health.byProfile.some((p: { profileKey: string }) => p.profileKey === 'telecare-hub'));
      const rollout = (await t.app.inject({ url: '/api/v1/estate/rollout', headers: as(who) })).json();
      assert.ok(!rollout.rows.some((r: { type: string }) => r.type === 'home'));
      const page = await t.app.inject({ url: `/console/estate/sites/${site.id}`, headers: as(who) });
      assert.equal(page.statusCode, 404);
      const list = await t.app.inject({ url: '/console/estate/sites?type=home', headers: as(who) });
      assert.ok(!list.body.includes('Mrs A'));
      assert.ok(!list.body.includes('Resident’s home'), 'the type is not even offered');
      const patch = await t.app.inject({ method: 'PATCH', url: `/api/v1/devices/${device.id}`, headers: as(who), payload: { name: 'x' } });
      assert.ok([403, 404].includes(patch.statusCode));
    }
    const careList = (await t.app.inject({ url: '/api/v1/sites?type=home', headers: as(care) })).json().items;
    assert.equal(careList.length, 1);
    assert.equal((await t.app.inject({ url: `/console/estate/sites/${site.id}`, headers: as(care) })).statusCode, 200);
    assert.equal((await t.app.inject({ url: `/api/v1/devices/${device.id}`, headers: as(care) })).statusCode, 200);

    // The audit log does not keep a home's address.
    const audit = await t.services.audit.search({ targetId: site.id, limit: 5 } as never);
    assert.ok(!JSON.stringify(audit).includes('Elm Road'));
  });

  test('lists filter and page by keyset', async () => {
    for (let i = 0; i < 5; i++) await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: as(officer), payload: { ...school, name: `Paging school ${i}`, tags: ['paging'] } });
    const first = (await t.app.inject({ url: '/api/v1/sites?q=Paging&limit=3', headers: as(viewer) })).json();
    assert.equal(first.items.length, 3);
    assert.ok(first.next);
    const second = (await t.app.inject({ url: `/api/v1/sites?q=Paging&limit=3&after=${first.next}`, headers: as(viewer) })).json();
    assert.equal(second.items.length, 2);
    assert.equal(second.next, null);
    const near = (await t.app.inject({ url: '/api/v1/sites?near=51.75,-1.25,100&limit=100', headers: as(viewer) })).json();
    assert.ok(near.items.length >= 5);
    const far = (await t.app.inject({ url: '/api/v1/sites?near=52.75,-1.25,1000', headers: as(viewer) })).json();
    assert.equal(far.items.length, 0);
    const boxed = (await t.app.inject({ url: '/api/v1/sites?bbox=-1.3,51.7,-1.2,51.8&q=Paging', headers: as(viewer) })).json();
    assert.equal(boxed.items.length, 5);
    const badBox = await t.app.inject({ url: '/api/v1/sites?bbox=1,1,0,0', headers: as(viewer) });
    assert.equal(badBox.statusCode, 400);
    const planned = (await t.app.inject({ url: '/api/v1/sites?technology=full_fibre&connectivityStatus=planned&q=Paging', headers: as(viewer) })).json();
    assert.equal(planned.items.length, 5);
  });
});
