/**
 * The rules and alarms API: rules validated on save with field errors, versioned, enabled and
 * disabled, described in plain English; alarms acknowledged, assigned, commented on and cleared
 * (each audited, each in the history), with errors for what cannot be done; and every route
 * refused to a key without its permission.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');

forEachDialect('rules and alarms API', (dialect) => {
  let t: TestApp;
  let officer: string;
  let carer: string;
  let viewer: string;
  let deviceId: string;
  const call = (key: string, method: string, url: string, payload?: unknown) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}` }, payload: payload as object });
  const no2Rule = (value = 200) => ({ name: 'NO2 high', severity: 'major', scope: { deviceIds: [deviceId] }, condition: { type: 'threshold', metric: 'no2', op: '>', value, forMinutes: 15 } });

  before(async () => {
    t = await testApp(dialect);
    officer = await t.key(['rules:read', 'rules:manage', 'alarms:read', 'alarms:manage']);
    carer = await t.key(['alarms:read', 'alarms:manage']);
    viewer = await t.key(['rules:read', 'alarms:read']);
    deviceId = (await t.services.estate.createDevice(system, { name: 'Air quality, High Street', serial: 'AQ-API-1', profile: 'air-quality', lat: 51.5, lon: -1.5 })).device.id;
    await t.services.rules.start();
  });

  test('a rule is saved with its plain-English sentence, and each change is a version', async () => {
    const made = await call(officer, 'POST', '/api/v1/rules', no2Rule());
    assert.equal(made.statusCode, 201, made.body);
    const rule = made.json();
    assert.equal(rule.version, 1);
    assert.equal(rule.sentence, 'Raise a major alarm when NO2 is above 200 for 15 minutes on Air quality, High Street.');
    const changed = await call(officer, 'PUT', `/api/v1/rules/${rule.id}`, no2Rule(250));
    assert.equal(changed.json().version, 2);
    const versions = (await call(viewer, 'GET', `/api/v1/rules/${rule.id}/versions`)).json().items;
    assert.deepEqual(
      versions.map((v: { version: number; rule: { condition: { value: number } } }) => [v.version, v.rule.condition.value]),
      [
        [2, 250],
        [1, 200],
      ],
    );
    assert.equal((await call(officer, 'POST', `/api/v1/rules/${rule.id}/disable`)).json().enabled, false);
    assert.equal((await call(officer, 'POST', `/api/v1/rules/${rule.id}/enable`)).json().enabled, true);
    const audit = await t.services.audit.search({ targetId: rule.id, limit: 10 } as never);
    assert.deepEqual(audit.map((a) => a.action).sort(), ['rules.create', 'rules.disable', 'rules.enable', 'rules.update']);
    assert.equal((await call(viewer, 'GET', '/api/v1/rules')).json().items.length, 1);
  });

  test('a rule that makes no sense is refused with the fields named, and nothing is saved', async () => {
    const before = (await call(viewer, 'GET', '/api/v1/rules')).json().items.length;
    const hysteresis = await call(officer, 'POST', '/api/v1/rules', { ...no2Rule(), condition: { type: 'threshold', metric: 'no2', op: '>', value: 200, clearValue: 220 } });
    assert.equal(hysteresis.statusCode, 400);
    assert.equal(hysteresis.json().code, 'RULE_INVALID');
    assert.deepEqual(
      hysteresis.json().errors.map((e: { field: string }) => e.field),
      ['condition.clearValue'],
    );
    const occupancy = await call(officer, 'POST', '/api/v1/rules', { ...no2Rule(), condition: { type: 'occupancy' } });
    assert.equal(occupancy.json().code, 'RULE_INVALID');
    const profile = await call(officer, 'POST', '/api/v1/rules', { ...no2Rule(), scope: { profiles: ['toaster'] } });
    assert.match(profile.json().errors[0].message, /no device profile toaster/);
    const shape = await call(officer, 'POST', '/api/v1/rules', { ...no2Rule(), condition: { type: 'threshold', metric: 'no2' } });
    assert.equal(shape.json().code, 'VALIDATION_FAILED');
    assert.equal((await call(viewer, 'GET', '/api/v1/rules')).json().items.length, before);
    assert.equal((await call(viewer, 'GET', '/api/v1/rules/7f0c4f9e-2d1b-4c1a-9a57-0a5b0f3c9d11')).json().code, 'RULE_NOT_FOUND');
  });

  test('an alarm is acknowledged, assigned, commented on and cleared; each step is in its history and the audit log', async () => {
    const rule = (
      await call(officer, 'POST', '/api/v1/rules', {
        name: 'NO2 very high',
        severity: 'critical',
        scope: { deviceIds: [deviceId] },
        condition: { type: 'threshold', metric: 'no2', op: '>', value: 400 },
      })
    ).json();
    const auth = await t.services.estate.deviceAuth(deviceId);
    await t.services.telemetry.ingest(auth as never, [{ metric: 'no2', value: 450 }], 'http');
    await t.services.rules.idle();
    const open = (await call(viewer, 'GET', `/api/v1/alarms?status=open&rule=${rule.id}`)).json().items;
    assert.equal(open.length, 1);
    const id = open[0].id;
    assert.equal((await call(carer, 'POST', `/api/v1/alarms/${id}/comment`, {})).json().code, 'ALARM_NOTE_REQUIRED');
    assert.equal((await call(carer, 'POST', `/api/v1/alarms/${id}/acknowledge`, { note: 'Looking' })).json().status, 'acknowledged');
    assert.equal((await call(carer, 'POST', `/api/v1/alarms/${id}/acknowledge`, {})).json().code, 'ALARM_STATE_INVALID');
    const user = await t.signInAs(['care']);
    assert.equal((await call(carer, 'POST', `/api/v1/alarms/${id}/assign`, { assigneeId: user.userId })).json().assigneeId, user.userId);
    assert.equal((await call(carer, 'POST', `/api/v1/alarms/${id}/comment`, { note: 'Traffic queue on the bypass' })).statusCode, 200);
    assert.equal((await call(carer, 'POST', `/api/v1/alarms/${id}/clear`, { note: 'Back to normal' })).json().status, 'cleared');
    const detail = (await call(viewer, 'GET', `/api/v1/alarms/${id}`)).json();
    assert.deepEqual(
      detail.history.map((h: { kind: string }) => h.kind),
      ['raised', 'acknowledged', 'assigned', 'comment', 'cleared'],
    );
    const audit = await t.services.audit.search({ targetId: id, limit: 10 } as never);
    assert.equal(audit.length, 4);
    assert.equal((await call(viewer, 'GET', '/api/v1/alarms/7f0c4f9e-2d1b-4c1a-9a57-0a5b0f3c9d11')).json().code, 'ALARM_NOT_FOUND');
  });

  test('an alarm from a resident’s home names them only to those who may see homes', async () => {
    const home = await t.services.estate.createSite(system, { type: 'home', name: 'Mrs Jones, 4 Mill Lane', address: '4 Mill Lane', lat: 51.5, lon: -1.5 });
    const pendant = (await t.services.estate.createDevice(system, { name: 'Pendant, Mrs Jones', serial: 'PEND-API-1', profile: 'pendant', siteId: home.id })).device.id;
    const rule = (
      await call(officer, 'POST', '/api/v1/rules', { name: 'Pendant pressed', severity: 'critical', scope: { deviceIds: [pendant] }, condition: { type: 'event', metric: 'pressed' } })
    ).json();
    await t.services.telemetry.ingest((await t.services.estate.deviceAuth(pendant)) as never, [{ metric: 'pressed', value: 1 }], 'http');
    await t.services.rules.idle();
    const [seen] = (await call(viewer, 'GET', `/api/v1/alarms?rule=${rule.id}`)).json().items;
    assert.equal(seen.subjectName, 'A resident’s home');
    assert.doesNotMatch(JSON.stringify(seen), /Jones/);
    assert.doesNotMatch((await call(viewer, 'GET', `/api/v1/alarms/${seen.id}`)).body, /Jones/);
    const carer = await t.key(['alarms:read', 'homes:read']);
    assert.equal((await call(carer, 'GET', `/api/v1/alarms/${seen.id}`)).json().subjectName, 'Pendant, Mrs Jones');
  });

  test('every route needs its permission', async () => {
    const none = await t.key(['estate:read']);
    const id = '7f0c4f9e-2d1b-4c1a-9a57-0a5b0f3c9d11';
    for (const [method, url, body] of [
      ['GET', '/api/v1/rules'],
      ['POST', '/api/v1/rules', no2Rule()],
      ['POST', '/api/v1/rules/trial', no2Rule()],
      ['GET', `/api/v1/rules/${id}`],
      ['GET', '/api/v1/alarms'],
      ['POST', `/api/v1/alarms/${id}/clear`, {}],
      ['GET', '/api/v1/air-quality'],
    ] as const)
      assert.equal((await call(none, method, url, body)).statusCode, 403, `${method} ${url}`);
    assert.equal((await call(viewer, 'POST', '/api/v1/rules', no2Rule())).statusCode, 403, 'viewers cannot write rules');
    assert.equal((await call(viewer, 'POST', `/api/v1/alarms/${id}/clear`, {})).statusCode, 403, 'viewers cannot clear alarms');
    assert.equal((await call(carer, 'GET', '/api/v1/rules')).statusCode, 403);
  });
});
