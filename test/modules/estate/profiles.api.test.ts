import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const custom = {
  key: 'river-level',
  name: 'River level sensor',
  description: 'Ultrasonic river gauge.',
  metrics: [{ name: 'level_m', unit: 'm', kind: 'measure', min: -1, max: 15 }],
  reportIntervalSeconds: 600,
  offlineTolerance: 3,
  batteryLowPercent: 20,
  rawRetentionDays: 365,
  decoder: { type: 'bytes', fields: [{ metric: 'level_m', offset: 0, format: 'u16be', scale: 0.01 }] },
};

forEachDialect('estate API: device profiles', (dialect) => {
  let t: TestApp;
  let officer: Browser;
  const as = (b: Browser) => ({ cookie: b.cookie, 'x-csrf-token': b.csrf });

  before(async () => {
    t = await testApp(dialect);
    officer = await t.signInAs(['officer']);
  });

  test('the built-in profiles are listed and cannot be changed or deleted', async () => {
    const list = (await t.app.inject({ url: '/api/v1/profiles', headers: as(officer) })).json();
    assert.equal(list.length, 10);
    assert.ok(list.every((p: { isBuiltIn: boolean }) => p.isBuiltIn));
    const aq = (await t.app.inject({ url: '/api/v1/profiles/air-quality', headers: as(officer) })).json();
    assert.equal(aq.metrics.find((m: { name: string }) => m.name === 'no2').unit, 'µg/m³');
    const change = await t.app.inject({ method: 'PATCH', url: '/api/v1/profiles/air-quality', headers: as(officer), payload: { reportIntervalSeconds: 60 } });
    assert.equal(change.statusCode, 409);
    assert.equal(change.json().code, 'PROFILE_BUILT_IN');
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/profiles/${aq.id}`, headers: as(officer) });
    assert.equal(del.json().code, 'PROFILE_BUILT_IN');
    assert.equal((await t.app.inject({ url: '/api/v1/profiles/nothing', headers: as(officer) })).json().code, 'PROFILE_NOT_FOUND');
  });

  test('a profile of your own: created, changed, in use, deleted', async () => {
    const made = await t.app.inject({ method: 'POST', url: '/api/v1/profiles', headers: as(officer), payload: custom });
    assert.equal(made.statusCode, 201, made.body);
    assert.equal(made.json().isBuiltIn, false);
    const dup = await t.app.inject({ method: 'POST', url: '/api/v1/profiles', headers: as(officer), payload: custom });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'PROFILE_KEY_TAKEN');
    const badDecoder = await t.app.inject({ method: 'POST', url: '/api/v1/profiles', headers: as(officer), payload: { ...custom, key: 'x-1', decoder: { type: 'javascript', code: 'evil()' } } });
    assert.equal(badDecoder.json().code, 'VALIDATION_FAILED');

    const { credentials, device } = (await t.app.inject({ method: 'POST', url: '/api/v1/devices', headers: as(officer), payload: { name: 'Gauge', serial: 'RL-1', profile: 'river-level' } })).json();
    assert.equal((await t.services.estate.deviceForToken(credentials.token))?.profile.reportIntervalSeconds, 600);
    const changed = await t.app.inject({ method: 'PATCH', url: '/api/v1/profiles/river-level', headers: as(officer), payload: { reportIntervalSeconds: 300 } });
    assert.equal(changed.json().reportIntervalSeconds, 300);
    assert.equal((await t.services.estate.deviceForToken(credentials.token))?.profile.reportIntervalSeconds, 300, 'cached device auth sees the change');

    const inUse = await t.app.inject({ method: 'DELETE', url: '/api/v1/profiles/river-level', headers: as(officer) });
    assert.equal(inUse.json().code, 'PROFILE_IN_USE');
    await t.app.inject({ method: 'PATCH', url: `/api/v1/devices/${device.id}`, headers: as(officer), payload: { profile: 'air-quality' } });
    const del = await t.app.inject({ method: 'DELETE', url: '/api/v1/profiles/river-level', headers: as(officer) });
    assert.equal(del.statusCode, 204, 'no device uses it any more');
    assert.equal((await t.app.inject({ url: '/api/v1/profiles/river-level', headers: as(officer) })).statusCode, 404);
  });

  test('a site id given by the caller must be new', async () => {
    const id = '01900000-0000-7000-8000-0000000000aa';
    const payload = { id, type: 'park', name: 'Green', address: 'Park Lane' };
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: as(officer), payload })).statusCode, 201);
    const again = await t.app.inject({ method: 'POST', url: '/api/v1/sites', headers: as(officer), payload });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'SITE_ID_TAKEN');
  });
});
