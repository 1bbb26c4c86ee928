/**
 * Residents over the API: added on their behalf, found, changed; contact points checked and
 * normalised; every look and change audited without personal data in the audit; who may do what.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

forEachDialect('residents API', (dialect) => {
  let t: TestApp;
  let staff: string;
  let outsider: string;
  const call = (key: string, method: string, url: string, payload?: unknown) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}` }, payload: payload as object });

  before(async () => {
    t = await testApp(dialect);
    staff = await t.key(['residents:read', 'residents:manage']);
    outsider = await t.key(['estate:read']);
  });

  test('a resident is added, found, looked at and changed; contact points are normalised', async () => {
    const created = await call(staff, 'POST', '/api/v1/residents', {
      name: 'Rhiannon Evans',
      email: 'Rhiannon@Example.com',
      mobile: '07700 900 123',
      landline: '01632 960001',
      address: ['Rhiannon Evans', '2 Church Lane', 'Wealdmoor', 'SW1A 1AA'],
      language: 'cy',
      quietFrom: '21:00',
      quietTo: '08:00',
      preferences: { 'bin-collections': ['sms', 'email'], '*': ['email'] },
    });
    assert.equal(created.statusCode, 201, created.body);
    const r = created.json();
    assert.deepEqual([r.email, r.mobile, r.landline, r.language], ['rhiannon@example.com', '447700900123', '+441632960001', 'cy']);
    assert.deepEqual(r.preferences['bin-collections'], ['sms', 'email']);
    const found = (await call(staff, 'GET', '/api/v1/residents?q=rhiannon')).json().residents;
    assert.equal(found.length, 1);
    const changed = await call(staff, 'PUT', `/api/v1/residents/${r.id}`, { name: 'Rhiannon Evans', mobile: '07700900124', preferences: { '*': ['letter'] } });
    assert.equal(changed.json().mobile, '447700900124');
    assert.deepEqual(changed.json().preferences, { '*': ['letter'] });
    const one = (await call(staff, 'GET', `/api/v1/residents/${r.id}`)).json();
    assert.equal(one.quietFrom, '21:00');
    const audit = await t.services.db.k.selectFrom('audit_events').select(['action', 'summary', 'changes_json']).where('action', 'like', 'residents.%').execute();
    // Channels chosen for a topic are consent to messages about it: recorded and audited too.
    assert.deepEqual(new Set(audit.map((a) => a.action)), new Set(['residents.create', 'residents.consent_give', 'residents.search', 'residents.update', 'residents.view']));
    assert.ok(!JSON.stringify(audit).includes('900124') && !JSON.stringify(audit).includes('Church Lane'), 'no contact details in the audit log');
  });

  test('bad contact points are refused with each field named; unknown residents are not found; others may not look', async () => {
    const bad = await call(staff, 'POST', '/api/v1/residents', { name: 'X', email: 'nope', mobile: '0123', quietFrom: '22:00' });
    assert.equal(bad.json().code, 'RESIDENT_INVALID');
    assert.deepEqual(
      bad.json().errors.map((e: { field: string }) => e.field),
      ['email', 'mobile', 'quietTo'],
    );
    assert.equal((await call(staff, 'GET', '/api/v1/residents/01900000-0000-7000-8000-000000000000')).json().code, 'RESIDENT_NOT_FOUND');
    assert.equal((await call(outsider, 'GET', '/api/v1/residents')).statusCode, 403);
  });
});
