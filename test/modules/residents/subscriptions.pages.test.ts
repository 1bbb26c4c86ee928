/**
 * Subscriptions, homes and topics in the console, posted as a browser without JavaScript posts:
 * a resident's home on the details form, the "Add a subscription" form with its errors in the
 * summary first, the list on the resident's page with a remove button each, and the topics page
 * for staff with topics:manage.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { squareWards } from '../../geo-fixtures.js';

const system = systemActor('test');
const idFrom = (location: unknown) => String(location).split('/')[3]?.split('?')[0] ?? '';
const WARD = squareWards([{ name: 'Riverside', code: 'E05000100', box: [-2.5, 52.3, -2.4, 52.4] }]);

forEachDialect('residents console: homes, subscriptions and topics', (dialect) => {
  let t: TestApp;
  let care: Browser;
  let comms: Browser;
  let viewer: Browser;
  let residentId: string;
  let schoolId: string;
  const get = (b: Browser, url: string) => t.app.inject({ url, headers: { cookie: b.cookie } });
  const post = (b: Browser, url: string, form: Record<string, string>, csrf = true) =>
    t.app.inject({ method: 'POST', url, headers: { cookie: b.cookie }, payload: csrf ? { ...form, _csrf: b.csrf } : form });
  const hrefs = (body: string) => [...body.matchAll(/govuk-error-summary__list"[\s\S]*?<\/ul>/g)].flatMap((m) => [...m[0].matchAll(/href="(#[^"]+)"/g)].map((h) => h[1]));
  const details = { name: 'Gwen Home', email: '', mobile: '', landline: '', address: '', language: 'en', quietFrom: '', quietTo: '' };

  before(async () => {
    t = await testApp(dialect);
    [care, comms, viewer] = await Promise.all([t.signInAs(['care']), t.signInAs(['comms']), t.signInAs(['viewer'])]);
    await t.services.estate.importAreas(system, WARD);
    schoolId = (await t.services.estate.createSite(system, { type: 'school', name: 'Riverside Primary', address: '1 School Lane', lat: 52.35, lon: -2.45 })).id;
    await t.services.estate.createSite(system, { type: 'library', name: 'Far Library', address: '1 Book Street', lat: 52.39, lon: -2.41 });
  });

  test('the details form takes a home: postcode and point, checked, placed in its ward', async () => {
    const form = await get(care, '/console/residents/new');
    for (const id of ['postcode', 'latitude', 'longitude']) assert.match(form.body, new RegExp(`id="${id}"`));
    const bad = await post(care, '/console/residents/new', { ...details, postcode: 'SW1A', latitude: '52.35', longitude: '' });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(hrefs(bad.body), ['#postcode', '#longitude']);
    const abroad = await post(care, '/console/residents/new', { ...details, latitude: '48.85', longitude: '2.35' });
    assert.deepEqual(hrefs(abroad.body), ['#latitude']);
    assert.match(abroad.body, /Enter a point in the UK/);
    const ok = await post(care, '/console/residents/new', { ...details, postcode: 'sw1a 1aa', latitude: '52.35', longitude: '-2.45' });
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 300));
    residentId = idFrom(ok.headers.location);
    const r = await t.services.residents.get(residentId);
    assert.deepEqual([r.postcode, r.location, r.areaId], ['SW1A 1AA', { lat: 52.35, lon: -2.45 }, (await t.services.estate.listAreas())[0].id]);
    const page = await get(care, `/console/residents/${residentId}`);
    assert.match(page.body, /SW1A 1AA, at 52.35, -2.45, in Riverside/);
    assert.match(page.body, /<h2 class="govuk-heading-m" id="subscriptions">Subscriptions<\/h2>[\s\S]*None yet\./);
    assert.match((await get(care, `/console/residents/${residentId}/edit`)).body, /id="latitude" name="latitude" type="text" spellcheck="false" value="52.35"/);
  });

  test('a subscription is added through the form without JavaScript: errors first, then the list with a remove button', async () => {
    const url = `/console/residents/${residentId}/subscriptions/new`;
    const form = await get(care, url);
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /Their home is in Riverside\./);
    assert.match(form.body, /<option value="bin-collections">Bin collections<\/option>/);
    assert.match(form.body, /id="conditional-kind-2"[\s\S]*id="areaId"/, 'the area select is revealed by its radio (shown without JavaScript)');
    assert.match(form.body, new RegExp(`<option value="${schoolId}">Riverside Primary \\(school, 0 metres away\\)</option>[\\s\\S]*Far Library \\(library, 5.2 km away\\)`), 'nearest first');

    const empty = await post(care, url, { topic: '', kind: '' });
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(hrefs(empty.body), ['#topic', '#kind']);
    const noArea = await post(care, url, { topic: 'air-quality', kind: 'area', areaId: '', siteId: schoolId });
    assert.deepEqual(hrefs(noArea.body), ['#areaId']);
    assert.match(noArea.body, /value="area" checked/, 'what was chosen is kept');
    assert.deepEqual(hrefs((await post(care, url, { topic: 'roadworks', kind: 'radius', radiusMetres: '1.5km' })).body), ['#radiusMetres']);
    assert.deepEqual(hrefs((await post(care, url, { topic: 'roadworks', kind: 'radius', radiusMetres: '50' })).body), ['#radiusMetres']);

    for (const form of [
      { topic: 'school-closures', kind: 'site', siteId: schoolId, radiusMetres: '900' } as Record<string, string>,
      { topic: 'roadworks', kind: 'radius', radiusMetres: '1,500' },
      { topic: 'bin-collections', kind: 'home' },
    ]) {
      const ok = await post(care, url, form);
      assert.equal(ok.statusCode, 303, ok.body.slice(0, 300));
    }
    const twice = await post(care, url, { topic: 'bin-collections', kind: 'home' });
    assert.deepEqual(hrefs(twice.body), ['#topic']);
    assert.match(twice.body, /The resident already has that subscription/);

    const page = await get(care, `/console/residents/${residentId}?saved=subscribed`);
    assert.match(page.body, /Subscription added\./);
    assert.match(page.body, /Bin collections<\/th>\s*<td class="govuk-table__cell">Where they live, in Riverside/);
    assert.match(page.body, /Roadworks<\/th>\s*<td class="govuk-table__cell">Within 1.5 km of their home/);
    assert.match(page.body, /School closures<\/th>\s*<td class="govuk-table__cell">At Riverside Primary/);
    const removeUrl = /action="(\/console\/residents\/[^"]+\/remove)"/.exec(page.body)?.[1] ?? '';
    assert.equal((await post(care, removeUrl, {}, false)).statusCode, 403, 'no CSRF token, no change');
    assert.equal((await post(viewer, removeUrl, {})).statusCode, 403);
    const removed = await post(care, removeUrl, {});
    assert.equal(removed.statusCode, 303);
    assert.equal((await t.services.residents.subscriptions(residentId)).length, 2);
    assert.match((await get(care, String(removed.headers.location))).body, /Subscription removed\./);
    assert.equal((await post(care, removeUrl, {})).statusCode, 404);

    const homeless = await t.services.residents.create(system, { name: 'No Home' });
    const needsHome = await post(care, `/console/residents/${homeless.id}/subscriptions/new`, { topic: 'parking', kind: 'home' });
    assert.deepEqual(hrefs(needsHome.body), ['#kind']);
    assert.match(needsHome.body, /Add the resident’s home location first/);
    assert.equal((await get(viewer, url)).statusCode, 403);
    assert.equal((await t.services.audit.search({ actorId: care.userId, limit: 200 })).filter((e) => e.action === 'http.write').length, 0, 'every change audited by the service');
  });

  test('the topics page: comms staff add, change and turn off topics; others may not', async () => {
    assert.match((await get(comms, '/console/residents')).body, /href="\/console\/residents\/topics"/);
    assert.doesNotMatch((await get(care, '/console/residents')).body, /href="\/console\/residents\/topics"/);
    assert.equal((await get(care, '/console/residents/topics')).statusCode, 403);
    const list = await get(comms, '/console/residents/topics');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /Library reservations[\s\S]*<span lang="cy">Llyfrau a gadwyd yn y llyfrgell<\/span>/);

    const bad = await post(comms, '/console/residents/topics/new', { code: '', name: '' });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(hrefs(bad.body), ['#code', '#name']);
    const ok = await post(comms, '/console/residents/topics/new', { code: 'Flood warnings', name: 'Flood warnings', nameCy: 'Rhybuddion llifogydd', description: '' });
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 300));
    const taken = await post(comms, '/console/residents/topics/new', { code: 'flood-warnings', name: 'Floods' });
    assert.deepEqual(hrefs(taken.body), ['#code']);
    const changed = await post(comms, '/console/residents/topics/flood-warnings/edit', { name: 'Flood alerts', nameCy: '', description: 'When the river may flood' });
    assert.equal(changed.statusCode, 303);
    assert.deepEqual((await t.services.residents.topics.get('flood-warnings')).nameCy, null);
    assert.deepEqual(hrefs((await post(comms, '/console/residents/topics/flood-warnings/edit', { name: ' ' })).body), ['#name']);

    assert.match((await get(care, `/console/residents/${residentId}/subscriptions/new`)).body, /<option value="flood-warnings">Flood alerts<\/option>/);
    const off = await post(comms, '/console/residents/topics/flood-warnings/enabled', { enabled: 'no' });
    assert.equal(off.statusCode, 303);
    const after = await get(comms, String(off.headers.location));
    assert.match(after.body, /Topic turned off\./);
    assert.match(after.body, /Flood alerts[\s\S]*?Off[\s\S]*?Turn on/);
    assert.doesNotMatch((await get(care, `/console/residents/${residentId}/subscriptions/new`)).body, /flood-warnings/, 'a topic turned off is not offered');
    assert.equal((await post(care, '/console/residents/topics/flood-warnings/enabled', { enabled: 'yes' })).statusCode, 403);
    const audit = (await t.services.audit.search({ actorId: comms.userId, limit: 200 })).map((e) => e.action);
    assert.deepEqual(audit.filter((a) => a.startsWith('residents.topic')).sort(), ['residents.topic_create', 'residents.topic_update', 'residents.topic_update']);
  });
});
