/**
 * homes:manage: the care team registers residents' homes and their devices without estate:manage;
 * officers keep the rest of the estate and still never see a home; one rule (EstateService.checkWrite)
 * decides every site and device write, in the API, the console and CSV imports alike.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type Actor, systemActor } from '../../../src/platform/auth/actor.js';
import { toJson } from '../../../src/platform/db/dialect.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const school = { type: 'school', name: 'Elm Primary', address: '1 School Lane, Wealdmoor', postcode: 'WM1 1AA', lat: 51.75, lon: -1.25 };
const home = { type: 'home', name: 'Mr B', address: '7 Willow Close, Wealdmoor', postcode: 'WM3 3CC', lat: 51.72, lon: -1.22 };
let serial = 0;
const hub = (siteId: string | null) => ({ name: 'Telecare hub', serial: `TC-HUB-${++serial}`, profile: 'telecare-hub', siteId });

forEachDialect('homes:manage: the care team and residents’ homes', (dialect) => {
  let t: TestApp;
  let care: Browser;
  let officer: Browser;
  let viewer: Browser;
  let officerSchool: { id: string };
  let schoolDevice: { id: string };
  const as = (b: Browser) => ({ cookie: b.cookie, 'x-csrf-token': b.csrf });
  const api = (b: Browser, method: 'POST' | 'PATCH' | 'DELETE' | 'GET', url: string, payload?: object) => t.app.inject({ method, url, headers: as(b), payload });
  const form = (b: Browser, url: string, fields: Record<string, string>) => t.app.inject({ method: 'POST', url, headers: { cookie: b.cookie }, payload: { ...fields, _csrf: b.csrf } });

  before(async () => {
    t = await testApp(dialect);
    [care, officer, viewer] = await Promise.all([t.signInAs(['care']), t.signInAs(['officer']), t.signInAs(['viewer'])]);
    officerSchool = (await api(officer, 'POST', '/api/v1/sites', school)).json();
    schoolDevice = (await api(officer, 'POST', '/api/v1/devices', { name: 'Air', serial: 'AQ-SCHOOL-1', profile: 'air-quality', siteId: officerSchool.id })).json().device;
  });

  test('care registers a home and its telecare hub by API, changes, re-keys and removes them; every write is audited as theirs', async () => {
    const made = await api(care, 'POST', '/api/v1/sites', home);
    assert.equal(made.statusCode, 201, made.body);
    const site = made.json();
    assert.equal(site.isPersonal, true);
    const dev = await api(care, 'POST', '/api/v1/devices', hub(site.id));
    assert.equal(dev.statusCode, 201, dev.body);
    assert.match(dev.json().credentials.token, /^wdev_/);
    const device = dev.json().device;
    assert.equal(device.isPersonal, true);

    assert.equal((await api(care, 'PATCH', `/api/v1/sites/${site.id}`, { name: 'Mr B (flat 2)' })).statusCode, 200);
    assert.equal((await api(care, 'PATCH', `/api/v1/devices/${device.id}`, { firmware: '2.1' })).statusCode, 200);
    assert.equal((await api(care, 'POST', `/api/v1/devices/${device.id}/credentials`)).statusCode, 200);
    assert.equal((await api(care, 'POST', `/api/v1/devices/${device.id}/decommission`)).json().status, 'decommissioned');
    assert.equal((await api(care, 'DELETE', `/api/v1/sites/${site.id}`)).statusCode, 204);

    const audit = await t.services.audit.search({ actorId: care.userId, outcome: 'ok', limit: 50 });
    assert.deepEqual(
      audit
        .map((e) => e.action)
        .filter((a) => a.startsWith('estate.'))
        .sort(),
      ['estate.device_create', 'estate.device_decommission', 'estate.device_rotate', 'estate.device_update', 'estate.site_create', 'estate.site_delete', 'estate.site_update'].sort(),
    );
    assert.ok(!JSON.stringify(audit).includes('Willow Close'), 'the audit log keeps no home’s address');
  });

  test('care cannot create, change or use the rest of the estate: ESTATE_MANAGE_REQUIRED', async () => {
    const mine = (await api(care, 'POST', '/api/v1/sites', { ...home, name: 'Mrs C' })).json();
    const refusals = [
      await api(care, 'POST', '/api/v1/sites', school),
      await api(care, 'PATCH', `/api/v1/sites/${officerSchool.id}`, { name: 'Renamed by care' }),
      await api(care, 'DELETE', `/api/v1/sites/${officerSchool.id}`),
      await api(care, 'PATCH', `/api/v1/sites/${mine.id}`, { type: 'school' }),
      await api(care, 'POST', '/api/v1/devices', hub(null)),
      await api(care, 'POST', '/api/v1/devices', hub(officerSchool.id)),
      await api(care, 'PATCH', `/api/v1/devices/${schoolDevice.id}`, { name: 'x' }),
      await api(care, 'POST', `/api/v1/devices/${schoolDevice.id}/credentials`),
      await api(care, 'POST', `/api/v1/devices/${schoolDevice.id}/decommission`),
    ];
    for (const res of refusals) {
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json().code, 'ESTATE_MANAGE_REQUIRED');
      assert.match(res.json().detail, /estate:manage permission/);
    }
    // Nor may a home's device be moved out to a school.
    const device = (await api(care, 'POST', '/api/v1/devices', hub(mine.id))).json().device;
    const moved = await api(care, 'PATCH', `/api/v1/devices/${device.id}`, { siteId: officerSchool.id });
    assert.equal(moved.json().code, 'ESTATE_MANAGE_REQUIRED');
    const after = (await api(officer, 'GET', `/api/v1/sites/${officerSchool.id}`)).json();
    assert.equal(after.name, 'Elm Primary', 'nothing changed');
    assert.equal((await api(officer, 'GET', `/api/v1/devices/${schoolDevice.id}`)).json().status, 'active');
    // Imports, profiles and areas stay estate:manage only.
    const imp = await t.app.inject({ method: 'POST', url: '/api/v1/sites/import', headers: { ...as(care), 'content-type': 'text/csv' }, payload: 'type,name,address\nhome,A,B\n' });
    assert.equal(imp.statusCode, 403);
    assert.equal(imp.json().code, 'FORBIDDEN');
  });

  test('an officer still cannot create, see or change a home, and cannot move a device into one', async () => {
    const refused = await api(officer, 'POST', '/api/v1/sites', home);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().code, 'PERSONAL_SITE_FORBIDDEN');
    assert.match(refused.json().detail, /homes:manage/);
    const site = (await api(care, 'POST', '/api/v1/sites', { ...home, name: 'Mrs D' })).json();
    assert.equal((await api(officer, 'GET', `/api/v1/sites/${site.id}`)).json().code, 'SITE_NOT_FOUND');
    assert.equal((await api(officer, 'PATCH', `/api/v1/sites/${site.id}`, { name: 'x' })).json().code, 'SITE_NOT_FOUND');
    assert.equal((await api(officer, 'PATCH', `/api/v1/sites/${officerSchool.id}`, { type: 'home' })).json().code, 'PERSONAL_SITE_FORBIDDEN');
    assert.equal((await api(officer, 'PATCH', `/api/v1/devices/${schoolDevice.id}`, { siteId: site.id })).json().code, 'SITE_NOT_FOUND');
    // homes:read alone no longer lets anyone register a home; homes:manage does, even on a key.
    const reader = await t.key(['estate:manage', 'homes:read']);
    const byReader = await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: { authorization: `Bearer ${reader}` }, payload: home });
    assert.equal(byReader.json().code, 'PERSONAL_SITE_FORBIDDEN');
    const manager = await t.key(['homes:manage']);
    const byManager = await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: { authorization: `Bearer ${manager}` }, payload: home });
    assert.equal(byManager.statusCode, 201, byManager.body);
  });

  test('a viewer is refused by the route guard, which names both permissions and audits the refusal', async () => {
    const res = await api(viewer, 'POST', '/api/v1/sites', home);
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 'FORBIDDEN');
    assert.equal(res.json().detail, 'You need the estate:manage or homes:manage permission to do this.');
    const page = await form(viewer, '/console/estate/sites/new', { type: 'home', name: 'x', address: 'y' });
    assert.equal(page.statusCode, 403);
    const audit = await t.services.audit.search({ actorId: viewer.userId, outcome: 'denied', limit: 5 });
    assert.ok(audit.some((e) => e.action === 'auth.forbidden' && e.summary.endsWith('needs estate:manage or homes:manage')));
  });

  test('console: care adds a home and its hub through the forms, and sees change buttons only where allowed', async () => {
    for (const url of ['/console/estate', '/console/estate/sites']) {
      const page = await t.app.inject({ url, headers: { cookie: care.cookie } });
      assert.match(page.body, /Add a home/, url);
      assert.ok(!page.body.includes('Add a site') && !page.body.includes('from CSV'), `${url}: no estate-wide writes`);
    }
    const blank = await t.app.inject({ url: '/console/estate/sites/new', headers: { cookie: care.cookie } });
    assert.equal(blank.statusCode, 200);
    assert.match(blank.body, /Add a resident’s home/);
    assert.match(blank.body, /value="home" checked/);
    assert.ok(!blank.body.includes('value="school"'), 'only the home type is offered');
    const officerForm = await t.app.inject({ url: '/console/estate/sites/new', headers: { cookie: officer.cookie } });
    assert.ok(officerForm.body.includes('value="school"') && !officerForm.body.includes('value="home"'));

    // A school posted anyway (no-JS, tampered): the GOV.UK error summary says why.
    const tampered = await form(care, '/console/estate/sites/new', { type: 'school', name: 'Sneaky', address: '1 Road' });
    assert.equal(tampered.statusCode, 400);
    assert.match(tampered.body, /govuk-error-summary/);
    assert.match(tampered.body, /href="#type"/);
    assert.match(tampered.body, /estate:manage permission/);

    const added = await form(care, '/console/estate/sites/new', { type: 'home', name: 'Mrs E', address: '3 Birch Row', postcode: 'WM4 4DD' });
    assert.equal(added.statusCode, 303, added.body.slice(0, 300));
    const siteUrl = String(added.headers.location).split('?')[0];
    const siteId = siteUrl.split('/').pop() as string;
    const sitePage = await t.app.inject({ url: siteUrl, headers: { cookie: care.cookie } });
    assert.match(sitePage.body, /Change this site/);
    assert.match(sitePage.body, new RegExp(`devices/new\\?siteId=${siteId}`));

    const deviceForm = await t.app.inject({ url: `/console/estate/devices/new?siteId=${siteId}`, headers: { cookie: care.cookie } });
    assert.match(deviceForm.body, /Resident’s home id/);
    const noHome = await form(care, '/console/estate/devices/new', { profile: 'telecare-hub', name: 'Hub', serial: 'TC-FORM-0', site_id: '' });
    assert.equal(noHome.statusCode, 400);
    assert.match(noHome.body, /href="#site_id"/);
    assert.match(noHome.body, /Enter the id of the resident’s home/);
    const atSchool = await form(care, '/console/estate/devices/new', { profile: 'telecare-hub', name: 'Hub', serial: 'TC-FORM-0', site_id: officerSchool.id });
    assert.equal(atSchool.statusCode, 400);
    assert.match(atSchool.body, /href="#site_id"/);
    const made = await form(care, '/console/estate/devices/new', { profile: 'telecare-hub', name: 'Hub', serial: 'TC-FORM-1', site_id: siteId });
    assert.equal(made.statusCode, 200, made.body.slice(0, 300));
    assert.match(made.body, /Device added/);
    assert.match(made.body, /wdev_/);
    const [device] = await t.services.estate.listDevices({ siteId, includePersonal: true });
    assert.equal(device.serial, 'TC-FORM-1');
    const devicePage = await t.app.inject({ url: `/console/estate/devices/${device.id}`, headers: { cookie: care.cookie } });
    assert.match(devicePage.body, /Change this device/);
    assert.equal((await t.app.inject({ url: `/console/estate/devices/${device.id}/edit`, headers: { cookie: care.cookie } })).statusCode, 200);

    // The officer's school: care may look, not change.
    const schoolPage = await t.app.inject({ url: `/console/estate/sites/${officerSchool.id}`, headers: { cookie: care.cookie } });
    assert.equal(schoolPage.statusCode, 200);
    assert.ok(!schoolPage.body.includes('Change this site') && !schoolPage.body.includes('Add a device here'));
    assert.equal((await t.app.inject({ url: `/console/estate/sites/${officerSchool.id}/edit`, headers: { cookie: care.cookie } })).statusCode, 403);
    const schoolDevicePage = await t.app.inject({ url: `/console/estate/devices/${schoolDevice.id}`, headers: { cookie: care.cookie } });
    assert.ok(!schoolDevicePage.body.includes('Change this device') && !schoolDevicePage.body.includes('Decommission this device'));
    assert.equal((await form(care, `/console/estate/devices/${schoolDevice.id}/decommission`, {})).statusCode, 403);

    const audit = await t.services.audit.search({ actorId: care.userId, action: 'estate.device_create', limit: 50 });
    assert.ok(audit.some((e) => e.target_id === device.id));
  });

  test('the service: the system may do all; an integration registers devices outside homes only', async () => {
    const estate = t.services.estate;
    const system = systemActor('test');
    const site = await estate.createSite(system, { type: 'home', name: 'Mr F', address: '9 Ash Road' });
    const integration: Actor = { type: 'integration', id: null, label: 'LoRaWAN integration', permissions: new Set(['telemetry:ingest']), roles: [] };
    const { device } = await estate.createDevice(integration, { name: 'Bay', serial: 'LW-BAY-1', profile: 'parking-bay', externalId: '70b3d57ed00f0001' });
    assert.equal(device.isPersonal, false);
    await assert.rejects(estate.createDevice(integration, { ...hub(site.id) }), { code: 'SITE_NOT_FOUND' });
    const careActor: Actor = { type: 'user', id: care.userId, label: care.email, permissions: new Set(['homes:manage']), roles: [] };
    assert.equal(estate.mayWrite(careActor, true), true);
    assert.equal(estate.mayWrite(careActor, false), false);
    assert.throws(() => estate.checkWrite(careActor, false), { code: 'ESTATE_MANAGE_REQUIRED' });
    assert.throws(() => estate.checkWrite({ ...careActor, permissions: new Set(['estate:manage', 'homes:read']) }, true), { code: 'PERSONAL_SITE_FORBIDDEN' });
    assert.doesNotThrow(() => estate.checkWrite(system, true));
  });

  test('CSV imports apply the same rule, and a background import keeps its creator’s homes:manage', async () => {
    const estate = t.services.estate;
    const csv = 'type,name,address\nhome,Mrs G,2 Oak Street\nschool,Oak Primary,3 Oak Street\n';
    const admin = (permissions: string[]): Actor => ({ type: 'user', id: officer.userId, label: officer.email, permissions: new Set(permissions), roles: [] });
    await assert.rejects(estate.importSites(admin(['estate:manage', 'homes:read']), csv), (err: { code: string; fields: { message: string }[] }) => {
      assert.equal(err.code, 'IMPORT_INVALID');
      assert.deepEqual(
        err.fields.map((f) => f.message),
        ['Row 2: type: Residents’ homes need the homes:manage permission.'],
      );
      return true;
    });

    const without = await estate.imports.startImport(admin(['estate:manage', 'homes:read']), 'sites', csv, 'homes.csv');
    const withIt = await estate.imports.startImport(admin(['estate:manage', 'homes:read', 'homes:manage', 'audit:read']), 'sites', csv, 'homes.csv');
    const stored = await t.services.db.k.selectFrom('estate_imports').select('created_by_json').where('id', '=', withIt).executeTakeFirstOrThrow();
    assert.deepEqual((stored.created_by_json as { permissions: string[] }).permissions.sort(), ['estate:manage', 'homes:manage', 'homes:read'], 'only what the rules ask about is kept');
    while (await t.services.jobs.runOnce()) {}
    const failed = await estate.imports.getImport(without);
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.errors, [{ row: 2, field: 'type', message: 'Residents’ homes need the homes:manage permission' }]);
    const done = await estate.imports.getImport(withIt);
    assert.equal(done.status, 'done', JSON.stringify(done.errors));
    assert.equal(done.writtenRows, 2);
    assert.equal((await estate.listSites({ q: 'Mrs G', includePersonal: true })).length, 1);

    // An import queued before permissions were stored (homes: true then meant homes:read) still runs.
    const legacy = await estate.imports.startImport(admin(['estate:manage']), 'sites', 'type,name,address\nhome,Mr H,4 Oak Street\n', 'old.csv');
    await t.services.db.k
      .updateTable('estate_imports')
      .set({ created_by_json: toJson({ type: 'user', id: officer.userId, label: officer.email, homes: true }) })
      .where('id', '=', legacy)
      .execute();
    while (await t.services.jobs.runOnce()) {}
    assert.equal((await estate.imports.getImport(legacy)).status, 'done');
  });
});
