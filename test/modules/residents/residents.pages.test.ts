/**
 * The residents console pages through the real app: who may look and who may change, finding a
 * resident (every search and every look audited), adding one with errors in the summary first,
 * their page with contact points, preferences and the messages sent to them, changing details, and
 * the preference editor's numbered selects.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { signToken, splitApiKey } from '../../../src/modules/messaging/notify.auth.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');
const idFrom = (location: unknown) => String(location).split('/').pop()?.split('?')[0] ?? '';

forEachDialect('residents console pages', (dialect) => {
  let t: TestApp;
  let care: Browser;
  let comms: Browser;
  let viewer: Browser;
  const as = (b: Browser) => ({ cookie: b.cookie });
  const get = (b: Browser, url: string) => t.app.inject({ url, headers: as(b) });
  const post = (b: Browser, url: string, form: Record<string, string | string[]>) => t.app.inject({ method: 'POST', url, headers: as(b), payload: { ...form, _csrf: b.csrf } });
  const hrefs = (body: string) => [...body.matchAll(/govuk-error-summary__list"[\s\S]*?<\/ul>/g)].flatMap((m) => [...m[0].matchAll(/href="(#[^"]+)"/g)].map((h) => h[1]));
  const audited = async (b: Browser, action: string) => (await t.services.audit.search({ actorId: b.userId, limit: 200 })).filter((e) => e.action === action);
  const details = {
    name: 'Rhian Jones',
    email: 'Rhian@Example.com',
    mobile: '07700 900 321',
    landline: '',
    address: 'Rhian Jones\n1 High Street\nWealdmoor\nSW1A 1AA',
    language: 'cy',
    accessibility: ['largePrint'],
    quietFrom: '21:00',
    quietTo: '8:00',
  };

  before(async () => {
    t = await testApp(dialect);
    [care, comms, viewer] = await Promise.all([t.signInAs(['care']), t.signInAs(['comms']), t.signInAs(['viewer'])]);
  });

  test('care, comms and service staff find residents; a viewer is refused; every search is audited', async () => {
    for (const b of [care, comms]) {
      const page = await get(b, '/console/residents');
      assert.equal(page.statusCode, 200);
      assert.ok(!/ style="/.test(page.body), 'no inline style');
      assert.match(page.body, /href="\/console\/residents\/new"/);
      assert.match((await get(b, '/console')).body, /href="\/console\/residents"/);
    }
    assert.equal((await get(viewer, '/console/residents')).statusCode, 403);
    assert.doesNotMatch((await get(viewer, '/console')).body, /href="\/console\/residents"/);
    assert.equal((await get(viewer, '/console/residents/new')).statusCode, 403);
    assert.equal((await post(viewer, '/console/residents/new', details)).statusCode, 403);
    assert.equal((await audited(care, 'residents.search')).length, 0, 'opening the search page looks at nobody');
    const blank = await get(care, '/console/residents?q=+');
    assert.equal(blank.statusCode, 400);
    assert.deepEqual(hrefs(blank.body), ['#q']);
  });

  test('a resident is added on their behalf: errors in the summary first, then the resident, audited', async () => {
    const bad = await post(care, '/console/residents/new', {
      ...details,
      name: '',
      email: 'not an email',
      mobile: '0770',
      address: 'Rhian Jones\nSW1A 1AA',
      quietFrom: '21:00',
      quietTo: '',
    });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(hrefs(bad.body), ['#name', '#address', '#quietTo']);
    assert.match(bad.body, /Enter the address on 3 to 7 lines/);
    assert.match(bad.body, /value="not an email"/, 'what was typed is kept');
    const contacts = await post(care, '/console/residents/new', { ...details, email: 'not an email', mobile: '0770' });
    assert.equal(contacts.statusCode, 400);
    assert.deepEqual(hrefs(contacts.body), ['#email', '#mobile']);
    assert.match(contacts.body, /Enter a UK mobile number, like 07700 900 982/);
    const unposted = await post(care, '/console/residents/new', { ...details, address: 'Rhian Jones\n1 High Street\nNowhere at all' });
    assert.match(unposted.body, /The address cannot be posted to as it is:/);
    const badTime = await post(care, '/console/residents/new', { ...details, quietFrom: '9pm' });
    assert.deepEqual(hrefs(badTime.body), ['#quietFrom']);

    const ok = await post(care, '/console/residents/new', details);
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 500));
    const id = idFrom(ok.headers.location);
    const r = await t.services.residents.get(id);
    assert.deepEqual(
      [r.email, r.mobile, r.address, r.language, r.largePrint, r.prefersVoice, r.quietFrom, r.quietTo],
      ['rhian@example.com', '447700900321', ['Rhian Jones', '1 High Street', 'Wealdmoor', 'SW1A 1AA'], 'cy', true, false, '21:00', '08:00'],
    );
    const page = await get(care, String(ok.headers.location));
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Resident added/);
    assert.match(page.body, /07700900321/);
    assert.match(page.body, /<span lang="cy">Cymraeg<\/span>/);
    assert.match(page.body, /Large print letters/);
    assert.match(page.body, /From 21:00 to 08:00, UK time/);
    assert.match(page.body, /For every topic: the usual order, email, then text message, then letter\./);
    assert.equal((await audited(care, 'residents.create')).length, 1);
    assert.equal((await audited(care, 'residents.view')).length, 1, 'looking at the record is audited');
    assert.equal((await audited(care, 'http.write')).length, 0);
  });

  test('search by name, email or a mobile number typed as people type it; the page lists the messages sent to the resident', async () => {
    const r = (await t.services.residents.search(system, 'Rhian Jones'))[0];
    const before = (await audited(comms, 'residents.search')).length;
    for (const q of ['rhian', 'RHIAN@example.com', '07700 900321', '+44 7700 900321']) {
      const found = await get(comms, `/console/residents?q=${encodeURIComponent(q)}`);
      assert.equal(found.statusCode, 200);
      assert.match(found.body, /1 resident found/, q);
      assert.match(found.body, new RegExp(`href="/console/residents/${r.id}">Rhian Jones</a>`), q);
    }
    assert.match((await get(comms, '/console/residents?q=nobody')).body, /0 residents found[\s\S]*No resident matches/);
    assert.equal((await audited(comms, 'residents.search')).length, before + 5);

    const m = t.services.messaging;
    const service = await m.createService(system, { name: 'Wealdmoor Libraries' });
    const sms = await m.createTemplate(system, service.id, { name: 'Ready', type: 'sms', body: 'Your book ((title)) is ready.', bodyCy: 'Mae eich llyfr ((title)) yn barod.' });
    const { secret } = splitApiKey((await m.createKey(system, service.id, { name: 'library', keyType: 'normal' })).apiKey);
    const sent = await t.app.inject({
      method: 'POST',
      url: '/v2/notifications/resident',
      headers: { authorization: `Bearer ${signToken(service.id, secret)}` },
      payload: { resident_id: r.id, template_ids: { sms: sms.id }, personalisation: { title: 'Y Mabinogion' }, urgent: true },
    });
    assert.equal(sent.statusCode, 201, sent.body);
    await t.services.delivery.runOnce();
    const page = await get(comms, `/console/residents/${r.id}`);
    assert.match(page.body, /Mae eich llyfr Y Mabinogion yn barod\./);
    assert.match(page.body, new RegExp(`href="/console/messaging/notifications/${sent.json().id}"`), 'comms may open the message');
    assert.match(page.body, /Delivered/);
    // Care staff may see the resident, not what was sent to them (that needs messages:read).
    const forCare = await get(care, `/console/residents/${r.id}`);
    assert.equal(forCare.statusCode, 200);
    assert.doesNotMatch(forCare.body, /Mae eich llyfr/);
    assert.doesNotMatch(forCare.body, /Recent messages/);
    assert.equal((await get(comms, '/console/residents/01900000-0000-7000-8000-000000000000')).statusCode, 404);
  });

  test('details are changed through a form that starts with what is stored; audited without the values', async () => {
    const r = (await t.services.residents.search(system, 'Rhian Jones'))[0];
    const form = await get(comms, `/console/residents/${r.id}/edit`);
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /value="07700900321"/);
    assert.match(form.body, /Rhian Jones\n1 High Street\nWealdmoor\nSW1A 1AA<\/textarea>/);
    assert.match(form.body, /value="cy" checked/);
    const bad = await post(comms, `/console/residents/${r.id}/edit`, { ...details, landline: '12345' });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(hrefs(bad.body), ['#landline']);
    const ok = await post(comms, `/console/residents/${r.id}/edit`, { ...details, language: 'en', accessibility: [], landline: '01632 960 001', quietFrom: '', quietTo: '' });
    assert.equal(ok.statusCode, 303);
    const after = await t.services.residents.get(r.id);
    assert.deepEqual([after.language, after.largePrint, after.landline, after.quietFrom], ['en', false, '+441632960001', null]);
    assert.match((await get(comms, String(ok.headers.location))).body, /Details saved/);
    const update = (await audited(comms, 'residents.update'))[0];
    assert.ok(update);
    assert.ok(!JSON.stringify(update).includes('01632'), 'the audit names fields, never values');
  });

  test('the preference editor: numbered selects per topic, errors by field, topics added, reordered and removed', async () => {
    const r = (await t.services.residents.search(system, 'Rhian Jones'))[0];
    const form = await get(care, `/console/residents/${r.id}/preferences`);
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /<input type="hidden" name="topics" value="3">/, 'any other topic and two new ones');
    for (const id of ['topic-0-choice-1', 'topic-0-choice-5', 'topic-1', 'topic-2-choice-3']) assert.match(form.body, new RegExp(`id="${id}"`));
    assert.match(form.body, /<label class="govuk-label" for="topic-0-choice-2">\s*2nd choice\s*<\/label>/);
    assert.doesNotMatch(form.body, /\(no contact details\)/, 'email, mobile and address: every channel can reach her');
    const emailOnly = await t.services.residents.create(system, { name: 'Sam Email', email: 'sam@example.com' });
    const limited = await get(care, `/console/residents/${emailOnly.id}/preferences`);
    assert.match(limited.body, />Text message \(no contact details\)</);
    assert.doesNotMatch(limited.body, />Email \(no contact details\)</);

    const bad = await post(care, `/console/residents/${r.id}/preferences`, {
      topics: '3',
      'topic-0-choice-1': 'sms',
      'topic-0-choice-2': 'sms',
      'topic-1': 'Bin Collections!',
      'topic-1-choice-1': 'email',
      'topic-2': '',
      'topic-2-choice-1': 'pigeon',
    });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(hrefs(bad.body), ['#topic-0-choice-2', '#topic-1', '#topic-2-choice-1']);
    assert.match(bad.body, /Text message is chosen twice for any other topic: choose each channel once/);
    assert.match(bad.body, /value="Bin Collections!"/, 'what was typed is kept');

    const ok = await post(care, `/console/residents/${r.id}/preferences`, {
      topics: '3',
      'topic-0-choice-1': 'email',
      'topic-0-choice-2': '',
      'topic-0-choice-3': 'letter',
      'topic-1': 'Bin collections',
      'topic-1-choice-1': 'sms',
      'topic-1-choice-2': 'voice',
      'topic-2': 'library-reservations',
      'topic-2-choice-2': 'rcs',
    });
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 400));
    assert.deepEqual((await t.services.residents.get(r.id)).preferences, { '*': ['email', 'letter'], 'bin-collections': ['sms', 'voice'], 'library-reservations': ['rcs'] });
    const page = await get(care, String(ok.headers.location));
    assert.match(page.body, /Channel preferences saved/);
    assert.match(page.body, /<th scope="row" class="govuk-table__header">bin-collections<\/th>\s*<td[^>]*><ol[^>]*><li>Text message<\/li><li>Voice call<\/li><\/ol>/);
    assert.equal((await t.services.residents.get(r.id)).email, 'rhian@example.com', 'changing preferences leaves the details as they were');

    const again = await get(care, `/console/residents/${r.id}/preferences`);
    assert.match(again.body, /<input type="hidden" name="topics" value="5">/);
    const removed = await post(care, `/console/residents/${r.id}/preferences`, {
      topics: '5',
      'topic-0-choice-1': 'letter',
      'topic-0-choice-2': 'email',
      'topic-1': 'bin-collections',
      'topic-2': 'library-reservations',
      'topic-2-choice-1': 'rcs',
    });
    assert.equal(removed.statusCode, 303);
    assert.deepEqual((await t.services.residents.get(r.id)).preferences, { '*': ['letter', 'email'], 'library-reservations': ['rcs'] });
    assert.equal((await post(viewer, `/console/residents/${r.id}/preferences`, { topics: '1' })).statusCode, 403);
    assert.equal((await audited(care, 'http.write')).length, 0, 'every change was audited by the service');
  });
});
