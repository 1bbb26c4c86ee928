/**
 * What the residents' portal needs of the residents service: a resident found by their email or
 * mobile (normalised; the first added when staff gave one to two), one field changed with the
 * audit naming only that field, and a resident who signs up as the actor of their own record.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const staff = systemActor('test');

forEachDialect('residents: found by contact point, changed a field at a time, signing up themselves', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await testApp(dialect);
  });

  test('findByContact finds by normalised email or mobile, the first added when two share one, and nothing else', async () => {
    const first = await t.services.residents.create(staff, { name: 'First', email: 'Shared@Example.com', mobile: '07700 900 555' });
    // A moment later: ids are ordered by the millisecond only.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await t.services.residents.create(staff, { name: 'Second', email: 'shared@example.com' });
    assert.equal((await t.services.residents.findByContact('email', 'shared@example.com'))?.id, first.id);
    assert.equal((await t.services.residents.findByContact('mobile', '447700900555'))?.id, first.id);
    assert.equal(await t.services.residents.findByContact('mobile', '07700900555'), undefined, 'only the normalised form is looked up');
    assert.equal(await t.services.residents.findByContact('email', 'nobody@example.com'), undefined);
  });

  test('change keeps every field not given, and the audit names only those given', async () => {
    const r = await t.services.residents.create(staff, {
      name: 'Keeps Everything',
      email: 'keeps@example.com',
      mobile: '07700900556',
      landline: '01632 960 001',
      address: ['Keeps Everything', '1 High Street', 'Wealdmoor', 'SW1A 1AA'],
      language: 'cy',
      largePrint: true,
      quietFrom: '21:00',
      quietTo: '07:00',
      preferences: { '*': ['sms', 'email'] },
      postcode: 'SW1A 1AA',
      location: { lat: 52.3, lon: -2.4 },
    });
    const changed = await t.services.residents.change({ ...staff, type: 'resident', id: r.id }, r.id, { quietFrom: null, quietTo: null });
    assert.deepEqual({ ...changed, quietFrom: '21:00', quietTo: '07:00', updatedAt: r.updatedAt }, r);
    assert.deepEqual([changed.quietFrom, changed.quietTo], [null, null]);
    const [audit] = await t.services.audit.search({ action: 'residents.update', targetId: r.id, limit: 1 });
    assert.deepEqual(audit.changes_json, ['quietFrom', 'quietTo']);
    assert.equal(audit.actor_type, 'resident');
  });

  test('create takes a function of the new id for the actor: a resident signing up is the actor of their own record', async () => {
    const r = await t.services.residents.create((id) => ({ ...staff, type: 'resident', id, label: 'resident' }), { name: 'Self Made', email: 'self@example.com' });
    const [audit] = await t.services.audit.search({ action: 'residents.create', targetId: r.id, limit: 1 });
    assert.deepEqual([audit.actor_type, audit.actor_id], ['resident', r.id]);
  });
});
