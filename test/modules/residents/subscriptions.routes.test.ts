/**
 * Topics and subscriptions over the API: the default topics in English and Welsh, staff adding and
 * turning off topics (topics:manage: comms and service), a resident's home placed in its ward, and
 * their subscriptions added, listed and removed; every refusal with its code; audited without
 * personal data.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { squareWards } from '../../geo-fixtures.js';

const system = systemActor('test');
const WARD = squareWards([{ name: 'Riverside', code: 'E05000100', box: [-2.5, 52.3, -2.4, 52.4] }]);

forEachDialect('residents API: topics and subscriptions', (dialect) => {
  let t: TestApp;
  let staff: string;
  let reader: string;
  let topicsOnly: string;
  let outsider: string;
  let comms: Browser;
  let care: Browser;
  let wardId: string;
  let schoolId: string;
  let homeId: string;
  const call = (key: string, method: string, url: string, payload?: unknown) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}` }, payload: payload as object });
  const asStaff = (b: Browser, method: string, url: string, payload?: unknown) =>
    t.app.inject({ method: method as 'GET', url, headers: { cookie: b.cookie, 'x-csrf-token': b.csrf }, payload: payload as object });
  const fields = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((e) => e.field);

  before(async () => {
    t = await testApp(dialect);
    staff = await t.key(['residents:read', 'residents:manage', 'topics:manage']);
    reader = await t.key(['residents:read']);
    topicsOnly = await t.key(['topics:manage']);
    outsider = await t.key(['estate:read']);
    [comms, care] = await Promise.all([t.signInAs(['comms']), t.signInAs(['care'])]);
    await t.services.estate.importAreas(system, WARD);
    wardId = (await t.services.estate.listAreas())[0].id;
    schoolId = (await t.services.estate.createSite(system, { type: 'school', name: 'Riverside Primary', address: '1 School Lane', lat: 52.35, lon: -2.45 })).id;
    homeId = (await t.services.estate.createSite(system, { type: 'home', name: 'A telecare home', address: '2 Home Lane', lat: 52.35, lon: -2.44 })).id;
  });

  test('the default topics come with their Welsh names; staff with topics:manage add, change and turn off topics', async () => {
    const list = (await call(reader, 'GET', '/api/v1/topics')).json().topics;
    assert.equal(list.length, 7);
    assert.deepEqual(
      list.find((x: { code: string }) => x.code === 'library-reservations'),
      { ...list.find((x: { code: string }) => x.code === 'library-reservations'), name: 'Library reservations', nameCy: 'Llyfrau a gadwyd yn y llyfrgell', enabled: true },
    );
    assert.equal((await call(topicsOnly, 'GET', '/api/v1/topics')).statusCode, 200);

    const made = await call(staff, 'POST', '/api/v1/topics', { code: 'flood-warnings', name: ' Flood warnings ', nameCy: 'Rhybuddion llifogydd', description: 'When the river is expected to flood.' });
    assert.equal(made.statusCode, 201, made.body);
    assert.deepEqual([made.json().name, made.json().enabled], ['Flood warnings', true]);
    assert.equal((await call(staff, 'POST', '/api/v1/topics', { code: 'flood-warnings', name: 'Floods' })).json().code, 'TOPIC_TAKEN');
    const blank = await call(staff, 'POST', '/api/v1/topics', { code: 'gritting', name: '   ' });
    assert.equal(blank.json().code, 'TOPIC_INVALID');
    assert.deepEqual(fields(blank.json()), ['name']);
    assert.equal((await call(staff, 'POST', '/api/v1/topics', { code: 'Not A Code', name: 'x' })).json().code, 'VALIDATION_FAILED');

    const off = await call(staff, 'PUT', '/api/v1/topics/flood-warnings', { enabled: false, description: null });
    assert.deepEqual([off.json().enabled, off.json().description, off.json().nameCy], [false, null, 'Rhybuddion llifogydd']);
    assert.equal((await call(staff, 'PUT', '/api/v1/topics/no-such-topic', { enabled: false })).json().code, 'TOPIC_NOT_FOUND');

    // comms and service staff hold topics:manage; care staff and readers do not.
    assert.equal((await asStaff(comms, 'PUT', '/api/v1/topics/council-news', { description: 'News from the council' })).statusCode, 200);
    assert.equal((await asStaff(care, 'PUT', '/api/v1/topics/council-news', { description: 'x' })).statusCode, 403);
    assert.equal((await call(reader, 'POST', '/api/v1/topics', { code: 'x', name: 'x' })).statusCode, 403);
    assert.equal((await call(outsider, 'GET', '/api/v1/topics')).statusCode, 403);
    const audit = await t.services.db.k.selectFrom('audit_events').select(['action', 'summary']).where('action', 'like', 'residents.topic%').execute();
    assert.deepEqual(audit.map((a) => a.summary).sort(), ['Added the topic flood-warnings', 'Changed the topic council-news', 'Turned off the topic flood-warnings']);
  });

  test('a home is given as a postcode and a point, checked, and placed in its ward', async () => {
    const bad = await call(staff, 'POST', '/api/v1/residents', { name: 'Bad Home', postcode: 'NOT A CODE', location: { lat: 48.5, lon: -2.45 } });
    assert.equal(bad.json().code, 'RESIDENT_INVALID');
    assert.deepEqual(fields(bad.json()), ['postcode', 'location']);
    const made = await call(staff, 'POST', '/api/v1/residents', { name: 'Nia Home', postcode: ' sw1a1aa ', location: { lat: 52.35, lon: -2.45 } });
    assert.equal(made.statusCode, 201, made.body);
    assert.deepEqual([made.json().postcode, made.json().location, made.json().areaId], ['SW1A 1AA', { lat: 52.35, lon: -2.45 }, wardId]);
    const cleared = await call(staff, 'PUT', `/api/v1/residents/${made.json().id}`, { name: 'Nia Home', location: null, postcode: null });
    assert.deepEqual([cleared.json().postcode, cleared.json().location, cleared.json().areaId], [null, null, null]);
  });

  test('subscriptions are added, listed and removed; each refusal has its code; audited without where', async () => {
    const r = await t.services.residents.create(system, { name: 'Sion Subscriber', location: { lat: 52.36, lon: -2.46 } });
    const url = `/api/v1/residents/${r.id}/subscriptions`;
    const add = (input: object, key = staff) => call(key, 'POST', url, input);

    const home = await add({ topic: 'bin-collections', kind: 'home' });
    assert.equal(home.statusCode, 201, home.body);
    assert.deepEqual([home.json().kind, home.json().areaId, home.json().areaName], ['home', wardId, 'Riverside']);
    const site = await add({ topic: 'school-closures', kind: 'site', siteId: schoolId });
    assert.deepEqual([site.statusCode, site.json().siteName], [201, 'Riverside Primary']);
    assert.equal((await add({ topic: 'air-quality', kind: 'area', areaId: wardId })).statusCode, 201);
    assert.equal((await add({ topic: 'roadworks', kind: 'radius', radiusMetres: 1500 })).json().radiusMetres, 1500);

    assert.equal((await add({ topic: 'bin-collections', kind: 'home' })).json().code, 'SUBSCRIPTION_EXISTS');
    assert.equal((await add({ topic: 'roadworks', kind: 'radius', radiusMetres: 3000 })).json().code, 'SUBSCRIPTION_EXISTS', 'one radius per topic');
    assert.equal((await add({ topic: 'flood-warnings', kind: 'home' })).json().code, 'TOPIC_DISABLED');
    assert.equal((await add({ topic: 'no-such-topic', kind: 'home' })).json().code, 'TOPIC_NOT_FOUND');
    const wrong = await add({ topic: 'parking', kind: 'area', siteId: schoolId });
    assert.equal(wrong.json().code, 'SUBSCRIPTION_INVALID');
    assert.deepEqual(fields(wrong.json()), ['areaId', 'siteId']);
    const personal = await add({ topic: 'parking', kind: 'site', siteId: homeId });
    assert.deepEqual([personal.json().code, fields(personal.json())], ['SUBSCRIPTION_INVALID', ['siteId']], 'a telecare home is no site to subscribe to');
    assert.deepEqual(fields((await add({ topic: 'parking', kind: 'area', areaId: '01900000-0000-7000-8000-000000000000' })).json()), ['areaId']);
    assert.equal((await add({ topic: 'parking', kind: 'radius', radiusMetres: 50 })).json().code, 'VALIDATION_FAILED');
    const homeless = await t.services.residents.create(system, { name: 'No Home' });
    const needsHome = await call(staff, 'POST', `/api/v1/residents/${homeless.id}/subscriptions`, { topic: 'parking', kind: 'radius', radiusMetres: 500 });
    assert.deepEqual([needsHome.json().code, fields(needsHome.json())], ['SUBSCRIPTION_INVALID', ['kind']]);
    assert.equal((await call(staff, 'POST', '/api/v1/residents/01900000-0000-7000-8000-000000000000/subscriptions', { topic: 'parking', kind: 'home' })).json().code, 'RESIDENT_NOT_FOUND');

    const listed = (await call(reader, 'GET', url)).json().subscriptions;
    assert.deepEqual(
      listed.map((s: { topic: string }) => s.topic),
      ['air-quality', 'bin-collections', 'roadworks', 'school-closures'],
    );
    const removed = await call(staff, 'DELETE', `${url}/${home.json().id}`);
    assert.equal(removed.statusCode, 204);
    assert.equal((await call(staff, 'DELETE', `${url}/${home.json().id}`)).json().code, 'SUBSCRIPTION_NOT_FOUND');
    assert.equal((await call(staff, 'DELETE', `/api/v1/residents/${homeless.id}/subscriptions/${site.json().id}`)).json().code, 'SUBSCRIPTION_NOT_FOUND', 'only the resident’s own');
    assert.equal((await call(reader, 'GET', url)).json().subscriptions.length, 3);

    assert.equal((await add({ topic: 'parking', kind: 'home' }, reader)).statusCode, 403);
    assert.equal((await call(reader, 'DELETE', `${url}/${site.json().id}`)).statusCode, 403);
    assert.equal((await call(outsider, 'GET', url)).statusCode, 403);
    assert.equal((await call(topicsOnly, 'GET', url)).statusCode, 403);

    const audit = await t.services.db.k
      .selectFrom('audit_events')
      .select(['action', 'summary', 'changes_json', 'target_id'])
      .where('action', 'in', ['residents.subscribe', 'residents.unsubscribe', 'residents.view'])
      .where('target_id', '=', r.id)
      .execute();
    assert.equal(audit.filter((a) => a.action === 'residents.subscribe').length, 4);
    assert.equal(audit.filter((a) => a.action === 'residents.unsubscribe').length, 1);
    assert.equal(audit.filter((a) => a.action === 'residents.view').length, 2, 'each look at the list is audited');
    assert.ok(!JSON.stringify(audit).includes(schoolId) && !JSON.stringify(audit).includes(wardId), 'the audit names no place');
  });
});
