/**
 * Campaigns to an audience: residents subscribed to a topic in some areas or at some places, each
 * sent on the first channel they prefer that the campaign has a template for and they can be
 * reached on, in their language, with the next channel kept to fall back on; held by quiet hours
 * unless urgent (and still held after a pause); residents reached on no channel counted, not sent.
 * Every template and value is checked before anything is saved.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { squareWards } from '../../geo-fixtures.js';

const system = systemActor('test');
const WARDS = squareWards([
  { name: 'North', code: 'N1', box: [-2.5, 52.33, -2.45, 52.36] },
  { name: 'South', code: 'S1', box: [-2.5, 52.3, -2.45, 52.33] },
]);

/** Quiet hours that hold now: from an hour ago to two hours from now, UK time. */
function quietNow(): { quietFrom: string; quietTo: string } {
  const at = (ms: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(Date.now() + ms));
  return { quietFrom: at(-3_600_000), quietTo: at(7_200_000) };
}

forEachDialect('campaigns to subscribed residents', (dialect) => {
  let t: TestApp;
  let key: string;
  let serviceId: string;
  const templates: Record<string, string> = {};
  const areas: Record<string, string> = {};
  const people: Record<string, string> = {};
  let school: string;
  let otherServiceTemplate: string;
  const call = (method: string, url: string, payload?: unknown, as = key) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${as}` }, payload: payload as object });
  const create = (body: object) => call('POST', `/api/v1/messaging/services/${serviceId}/campaigns`, { name: 'School closed', ...body });
  const drain = async () => {
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) return;
    }
  };
  const notes = (campaignId: string) =>
    t.services.db.k
      .selectFrom('notifications')
      .select(['resident_id', 'type', 'status', 'body', 'subject', 'language', 'fallback_json', 'scheduled_for_at', 'next_attempt_at', 'address_json', 'row_number'])
      .where('campaign_id', '=', campaignId)
      .execute();

  before(async () => {
    t = await testApp(dialect);
    key = await t.key(['messaging:manage', 'messages:read', 'messages:send', 'templates:manage']);
    const m = t.services.messaging;
    serviceId = (await m.createService(system, { name: 'Schools' })).id;
    templates.sms = (await m.createTemplate(system, serviceId, { name: 'Closed (text)', type: 'sms', body: '((school)) is closed today: ((reason)).' })).id;
    templates.email = (
      await m.createTemplate(system, serviceId, {
        name: 'Closed (email)',
        type: 'email',
        subject: '((school)) is closed',
        body: 'Dear ((name)), ((school)) is closed today: ((reason)).',
        subjectCy: 'Mae ((school)) ar gau',
        bodyCy: 'Annwyl ((name)), mae ((school)) ar gau heddiw: ((reason)).',
      })
    ).id;
    templates.letter = (await m.createTemplate(system, serviceId, { name: 'Closed (letter)', type: 'letter', subject: 'School closed', body: 'Dear ((name)), ((school)) is closed.' })).id;
    otherServiceTemplate = (await m.createTemplate(system, (await m.createService(system, { name: 'Other' })).id, { name: 'x', type: 'sms', body: 'x' })).id;

    await t.services.estate.importAreas(system, WARDS);
    for (const a of await t.services.estate.listAreas()) areas[a.name] = a.id;
    school = (await t.services.estate.createSite(system, { type: 'school', name: 'North School', address: 'School Lane', lat: 52.345, lon: -2.475 })).id;

    const r = t.services.residents;
    const home = (lat: number) => ({ location: { lat, lon: -2.48 }, postcode: 'WR1 1AA' });
    people.welshEmail = (await r.create(system, { name: 'Catrin', email: 'catrin@example.com', language: 'cy', preferences: { 'school-closures': ['sms', 'email'] }, ...home(52.34) })).id;
    people.smsQuiet = (await r.create(system, { name: 'Bryn', mobile: '07700900201', email: 'bryn@example.com', preferences: { '*': ['sms', 'email'] }, ...quietNow(), ...home(52.35) })).id;
    people.optedOut = (await r.create(system, { name: 'Dai', mobile: '07700900202' })).id;
    people.south = (await r.create(system, { name: 'Sian', email: 'sian@example.com', ...home(52.31) })).id;
    people.letter = (await r.create(system, { name: 'Ifor', address: ['Ifor Lewis', '3 Mill Road', 'Northtown', 'WR1 2BB'], preferences: { '*': ['letter'] } })).id;
    people.otherTopic = (await r.create(system, { name: 'Gwen', email: 'gwen@example.com', ...home(52.34) })).id;
    await r.subscribe(system, people.welshEmail, { topic: 'school-closures', kind: 'home' });
    await r.subscribe(system, people.smsQuiet, { topic: 'school-closures', kind: 'home' });
    await r.subscribe(system, people.optedOut, { topic: 'school-closures', kind: 'site', siteId: school });
    await r.subscribe(system, people.south, { topic: 'school-closures', kind: 'home' });
    await r.subscribe(system, people.letter, { topic: 'school-closures', kind: 'area', areaId: areas.North });
    await r.subscribe(system, people.otherTopic, { topic: 'bin-collections', kind: 'home' });
    await m.repo.insertOptOut({ normalised_to: '447700900202', keyword: 'STOP', created_at: new Date() });
  });

  const audience = () => ({ topic: 'school-closures', areaIds: [areas.North] });
  const values = { school: 'North School', reason: 'the heating has failed' };

  test('the templates, the values they need and the audience are checked first; nothing is saved when one is wrong', async () => {
    const cases: [object, string, RegExp][] = [
      [{ audience: audience(), personalisation: values }, 'CAMPAIGN_INVALID', /Choose a template for at least one channel/],
      [{ audience: audience(), templates: { sms: templates.email }, personalisation: values }, 'CAMPAIGN_INVALID', /Choose a sms template for sms: this one is for email/],
      [{ audience: audience(), templates: { sms: otherServiceTemplate }, personalisation: values }, 'CAMPAIGN_INVALID', /Choose a template of this service/],
      [{ audience: audience(), templates: { email: templates.email }, personalisation: { school: 'North School' } }, 'CAMPAIGN_INVALID', /Give a value for \(\(reason\)\)/],
      [{ audience: audience(), templates, personalisation: values, csv: 'phone number\n07700900001' }, 'CAMPAIGN_INVALID', /not both/],
      [{ audience: { topic: 'school-closures', areaIds: [areas.South], siteIds: [] }, templates: { sms: templates.sms }, personalisation: values }, 'CAMPAIGN_AUDIENCE_EMPTY', /No residents/],
      [{ audience: { topic: 'no-such-topic', areaIds: [areas.North] }, templates: { sms: templates.sms }, personalisation: values }, 'TOPIC_NOT_FOUND', /./],
    ];
    // South's only subscriber is on email; the text-only campaign there still counts her: the empty case is an empty area.
    await t.services.db.k.deleteFrom('resident_subscriptions').where('resident_id', '=', people.south).execute();
    for (const [body, code, message] of cases) {
      const res = await create(body);
      assert.equal(res.statusCode, code === 'TOPIC_NOT_FOUND' ? 404 : 400, res.body);
      assert.equal(res.json().code, code, res.body);
      assert.match(`${res.json().detail} ${JSON.stringify(res.json().errors ?? [])}`, message);
    }
    assert.equal((await t.services.db.k.selectFrom('campaigns').select('id').execute()).length, 0);
    assert.equal((await create({ audience: audience(), templates, personalisation: values })).statusCode, 201);
    await t.services.db.k.deleteFrom('campaigns').execute();
  });

  test('each resident gets the message on their channel, in their language, with the next channel kept; the unreachable are counted', async () => {
    const created = await create({ audience: audience(), templates, personalisation: values });
    assert.equal(created.statusCode, 201, created.body);
    const c = created.json();
    assert.deepEqual([c.status, c.recipientCount, c.audience.topic, c.urgent], ['draft', 4, 'school-closures', false]);
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${c.id}/start`, {})).statusCode, 200);
    await drain();
    const done = (await call('GET', `/api/v1/messaging/campaigns/${c.id}`)).json();
    assert.deepEqual([done.status, done.createdCount, done.skippedCount], ['sent', 4, 1], 'Dai opted out and has no other channel');
    const rows = await notes(c.id);
    const of = (who: string) => rows.find((r) => r.resident_id === people[who]);
    assert.equal(rows.length, 3);
    assert.equal(of('optedOut'), undefined);
    assert.equal(of('south'), undefined, 'South is not in the audience');
    assert.equal(of('otherTopic'), undefined);
    const welsh = of('welshEmail');
    assert.deepEqual([welsh?.type, welsh?.language, welsh?.subject, welsh?.status], ['email', 'cy', 'Mae North School ar gau', 'delivered']);
    assert.match(welsh?.body ?? '', /^Annwyl Catrin, mae North School ar gau heddiw: the heating has failed\./);
    const quiet = of('smsQuiet');
    assert.equal(quiet?.type, 'sms');
    assert.deepEqual(quiet?.fallback_json, [{ channel: 'email', templateId: templates.email }]);
    assert.equal(quiet?.status, 'created', 'held by quiet hours');
    assert.ok(quiet?.scheduled_for_at && quiet.scheduled_for_at.getTime() > Date.now());
    const letter = of('letter');
    assert.deepEqual([letter?.type, letter?.address_json], ['letter', ['Ifor Lewis', '3 Mill Road', 'Northtown', 'WR1 2BB']]);

    // Paused and resumed, the resident's quiet hours still hold.
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${c.id}/pause`)).json().status, 'paused');
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${c.id}/resume`)).json().status, 'sent');
    const after = (await notes(c.id)).find((r) => r.resident_id === people.smsQuiet);
    assert.equal(after?.next_attempt_at?.getTime(), quiet?.scheduled_for_at?.getTime());
  });

  test('an urgent campaign is not held by quiet hours, and a place picks its subscribers too', async () => {
    const c = (await create({ name: 'Closed now', audience: { topic: 'school-closures', siteIds: [school] }, templates, personalisation: values, urgent: true })).json();
    assert.deepEqual([c.recipientCount, c.urgent], [1, true]);
    const c2 = (await create({ name: 'Closed now, north', audience: audience(), templates, personalisation: values, urgent: true })).json();
    await call('POST', `/api/v1/messaging/campaigns/${c2.id}/start`, {});
    await drain();
    const quiet = (await notes(c2.id)).find((r) => r.resident_id === people.smsQuiet);
    assert.deepEqual([quiet?.status, quiet?.scheduled_for_at], ['delivered', null]);
  });

  test('only staff who may send campaigns can make one', async () => {
    const reader = await t.key(['messages:read']);
    const res = await call('POST', `/api/v1/messaging/services/${serviceId}/campaigns`, { name: 'x', audience: audience(), templates, personalisation: values }, reader);
    assert.equal(res.statusCode, 403);
  });
});
