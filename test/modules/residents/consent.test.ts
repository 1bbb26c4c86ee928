/**
 * Residents' consents: subscribing to a topic or choosing channels for it records consent to
 * messages about it (the words, their language, when, where); named purposes are recorded through
 * the API; withdrawing a topic's consent removes its subscriptions and channel order, so a
 * campaign's audience and sending by preference leave the resident out. Every change audited.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { squareWards } from '../../geo-fixtures.js';

const system = systemActor('test');
const WARDS = squareWards([{ name: 'North', code: 'N1', box: [-2.5, 52.33, -2.45, 52.36] }]);
const home = { location: { lat: 52.34, lon: -2.48 }, postcode: 'WR1 1AA' };

forEachDialect('residents’ consents', (dialect) => {
  let t: TestApp;
  let staff: string;
  let reader: string;
  let comms: string;
  let serviceId: string;
  let northId: string;
  const templates: Record<string, string> = {};
  const call = (key: string, method: string, url: string, payload?: unknown) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}` }, payload: payload as object });
  const consents = (residentId: string) => t.services.db.k.selectFrom('resident_consents').selectAll().where('resident_id', '=', residentId).orderBy('given_at').execute();
  const auditOf = (residentId: string) => t.services.db.k.selectFrom('audit_events').selectAll().where('target_id', '=', residentId).execute();

  before(async () => {
    t = await testApp(dialect);
    staff = await t.key(['residents:read', 'residents:manage']);
    reader = await t.key(['residents:read']);
    comms = await t.key(['messaging:manage', 'messages:read', 'messages:send', 'templates:manage']);
    await t.services.estate.importAreas(system, WARDS);
    northId = (await t.services.estate.listAreas())[0].id;
    const m = t.services.messaging;
    serviceId = (await m.createService(system, { name: 'Schools' })).id;
    templates.email = (await m.createTemplate(system, serviceId, { name: 'Closed (email)', type: 'email', subject: 'Closed', body: 'Dear ((name)), the school is closed.' })).id;
  });

  test('a channel order or a subscription for a topic records consent: the words in their language, when and through which route; once while in force; audited', async () => {
    const created = await call(staff, 'POST', '/api/v1/residents', {
      name: 'Rhys Owen',
      email: 'rhys@example.com',
      mobile: '07700900501',
      language: 'cy',
      preferences: { 'bin-collections': ['sms', 'email'], '*': ['email'] },
      ...home,
    });
    assert.equal(created.statusCode, 201, created.body);
    const id = created.json().id;
    let rows = await consents(id);
    assert.deepEqual(
      rows.map((r) => [r.purpose, r.wording_version, r.language, r.source, r.withdrawn_at]),
      [['messages:bin-collections', 'messages-1', 'cy', 'api', null]],
      'the usual order (*) is no topic',
    );
    assert.equal(rows[0].wording, 'Anfonwch negeseuon ataf am Casgliadau biniau ar y sianeli rwy’n eu dewis, nes i mi dynnu hyn yn ôl.');

    assert.equal((await call(staff, 'POST', `/api/v1/residents/${id}/subscriptions`, { topic: 'school-closures', kind: 'home' })).statusCode, 201);
    assert.equal((await call(staff, 'POST', `/api/v1/residents/${id}/subscriptions`, { topic: 'school-closures', kind: 'area', areaId: northId })).statusCode, 201);
    // The same channels again, and a subscription from the console: nothing new for topics in force.
    await call(staff, 'PUT', `/api/v1/residents/${id}`, { name: 'Rhys Owen', email: 'rhys@example.com', mobile: '07700900501', language: 'cy', preferences: { 'bin-collections': ['sms', 'email'] } });
    await t.services.residents.subscribe(system, id, { topic: 'roadworks', kind: 'home' }, { source: 'staff:console' });
    rows = await consents(id);
    assert.deepEqual(
      rows.map((r) => [r.purpose, r.source]),
      [
        ['messages:bin-collections', 'api'],
        ['messages:school-closures', 'api'],
        ['messages:roadworks', 'staff:console'],
      ],
    );

    const listed = await call(reader, 'GET', `/api/v1/residents/${id}/consents`);
    assert.equal(listed.statusCode, 200);
    assert.deepEqual(
      listed
        .json()
        .consents.map((c: { purpose: string }) => c.purpose)
        .sort(),
      ['messages:bin-collections', 'messages:roadworks', 'messages:school-closures'],
    );
    const given = (await auditOf(id)).filter((a) => a.action === 'residents.consent_give');
    assert.equal(given.length, 3);
    assert.ok(!JSON.stringify(given).includes('rhys@') && !JSON.stringify(given).includes('900501'), 'no contact points in the audit');
    assert.equal((await call(reader, 'POST', `/api/v1/residents/${id}/consents`, { purpose: 'marketing' })).statusCode, 403, 'recording a consent needs residents:manage');
  });

  test('withdrawing consent to a topic removes its subscriptions and channel order: the campaign audience leaves them out and sending by preference stops', async () => {
    const r = t.services.residents;
    const alys = await r.create(system, { name: 'Alys', email: 'alys@example.com', preferences: { 'school-closures': ['email'] }, ...home });
    const bob = await r.create(system, { name: 'Bob', email: 'bob@example.com', ...home });
    for (const who of [alys, bob]) await r.subscribe(system, who.id, { topic: 'school-closures', kind: 'home' });
    await r.subscribe(system, alys.id, { topic: 'bin-collections', kind: 'home' });
    const audience = { topic: 'school-closures', areaIds: [northId] };
    const inAudience = async () => {
      const ids: string[] = [];
      for await (const page of r.audienceIds(audience)) ids.push(...page);
      return ids;
    };
    assert.ok((await inAudience()).includes(alys.id));
    const before = await r.countAudience(audience);
    const draft = async () => {
      const res = await call(comms, 'POST', `/api/v1/messaging/services/${serviceId}/campaigns`, { name: 'Closed', audience, templates: { email: templates.email }, personalisation: {} });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().recipientCount as number;
    };
    assert.equal(await draft(), before);

    const consent = (await consents(alys.id)).find((c) => c.purpose === 'messages:school-closures');
    assert.ok(consent);
    const withdrawn = await call(staff, 'POST', `/api/v1/residents/${alys.id}/consents/${consent.id}/withdraw`);
    assert.equal(withdrawn.statusCode, 200, withdrawn.body);
    assert.deepEqual([withdrawn.json().purpose, withdrawn.json().withdrawnSource], ['messages:school-closures', 'api']);
    assert.ok(withdrawn.json().withdrawnAt);

    assert.ok(!(await inAudience()).includes(alys.id), 'the audience no longer includes her');
    assert.equal(await r.countAudience(audience), before - 1);
    assert.equal(await draft(), before - 1, 'a campaign drafted now counts one fewer');
    const after = await r.get(alys.id);
    assert.equal(after.preferences['school-closures'], undefined, 'her channel order for the topic is gone');
    assert.deepEqual(after.withdrawnTopics, ['school-closures']);
    assert.deepEqual(
      (await r.subscriptions(alys.id)).map((s) => s.topic),
      ['bin-collections'],
      'other topics stay',
    );
    assert.deepEqual(r.channelsFor(after, 'school-closures'), []);
    assert.deepEqual(r.channelsFor(after, 'bin-collections'), ['email', 'sms', 'letter']);

    // Sending by preference on the topic stops; on another topic it goes on.
    const sender = { ...system, serviceId, keyType: 'normal' };
    await assert.rejects(t.services.residentSending.send(sender, { residentId: alys.id, templates: { email: templates.email }, topic: 'school-closures', personalisation: {} }), /cannot be reached/);
    const other = await t.services.residentSending.send(sender, { residentId: alys.id, templates: { email: templates.email }, topic: 'bin-collections', personalisation: {} });
    assert.equal(other.type, 'email');

    const audit = (await auditOf(alys.id)).find((a) => a.action === 'residents.consent_withdraw');
    assert.deepEqual(audit?.changes_json, { consent: consent.id, purpose: 'messages:school-closures', source: 'api', subscriptions: 1, preference: true });

    const again = await call(staff, 'POST', `/api/v1/residents/${alys.id}/consents/${consent.id}/withdraw`);
    assert.deepEqual([again.statusCode, again.json().code], [409, 'CONSENT_WITHDRAWN']);
    const missing = await call(staff, 'POST', `/api/v1/residents/${bob.id}/consents/${consent.id}/withdraw`);
    assert.deepEqual([missing.statusCode, missing.json().code], [404, 'CONSENT_NOT_FOUND'], 'another resident’s consent is not theirs to withdraw');

    // Subscribing again is consent again.
    await r.subscribe(system, alys.id, { topic: 'school-closures', kind: 'home' });
    assert.deepEqual((await r.get(alys.id)).withdrawnTopics, []);
    assert.ok((await inAudience()).includes(alys.id));
  });

  test('named purposes are recorded through the API and withdrawn; anything else is refused', async () => {
    const r = await t.services.residents.create(system, { name: 'Ceri', email: 'ceri@example.com' });
    const given = await call(staff, 'POST', `/api/v1/residents/${r.id}/consents`, { purpose: 'marketing' });
    assert.equal(given.statusCode, 201, given.body);
    assert.deepEqual([given.json().purpose, given.json().topic, given.json().source, given.json().wordingVersion], ['marketing', null, 'api', 'marketing-1']);
    const twice = await call(staff, 'POST', `/api/v1/residents/${r.id}/consents`, { purpose: 'marketing' });
    assert.equal(twice.json().id, given.json().id, 'one in force is answered as it is');
    for (const purpose of ['spam', 'messages:no-such-topic', 'messages:']) {
      const bad = await call(staff, 'POST', `/api/v1/residents/${r.id}/consents`, { purpose });
      assert.deepEqual([bad.statusCode, bad.json().code, bad.json().errors[0].field], [400, 'CONSENT_INVALID', 'purpose'], purpose);
    }
    const topic = await call(staff, 'POST', `/api/v1/residents/${r.id}/consents`, { purpose: 'messages:air-quality' });
    assert.equal(topic.json().topic, 'air-quality');
    const out = await call(staff, 'POST', `/api/v1/residents/${r.id}/consents/${given.json().id}/withdraw`);
    assert.equal(out.json().withdrawnSource, 'api');
    assert.equal((await consents(r.id)).length, 2);
  });
});
