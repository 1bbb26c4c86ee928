/**
 * "What you have agreed to" on the portal's "How you hear from us", in English and Welsh, without
 * JavaScript: subscribing or choosing channels for a topic shows the consent, its words and date;
 * "Withdraw" (a form with its CSRF token) stops messages about the topic and removes its
 * subscriptions; another resident's consent cannot be withdrawn.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { formatDate } from '../../../src/platform/web/i18n.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { squareWards } from '../../geo-fixtures.js';
import { englishLeftOn, lastSecret, Visitor, visibleText } from './portal-helpers.js';

const staff = systemActor('test');
const WARD = squareWards([{ name: 'Riverside', code: 'E05000100', box: [-2.5, 52.3, -2.4, 52.4] }]);
let n = 0;
const email = () => `consent-${++n}-${Date.now()}@example.com`;

/** English of the portal's catalogue (and the consents' words) left on a Welsh page. */
const englishLeft = (html: string) => englishLeftOn(html, { namespaces: ['portal', 'residents.consents'] });

forEachDialect('the portal’s consents', (dialect) => {
  let t: TestApp;

  before(async () => {
    t = await testApp(dialect);
    await t.services.estate.importAreas(staff, WARD);
  });

  /** A resident living in the ward, signed in through the pages in their language. */
  const resident = async (lang: 'en' | 'cy') => {
    const r = await t.services.residents.create(staff, { name: 'Pat Resident', email: email(), language: lang, location: { lat: 52.35, lon: -2.45 } });
    const v = new Visitor(t.app);
    await v.get(`/?lang=${lang}`);
    await v.submit('/sign-in', { contact: r.email as string });
    const { path } = await lastSecret(t.services, r.email as string);
    await v.get(path as string);
    await v.post(path as string);
    assert.ok(v.cookies.has('weft_resident'), 'signed in');
    return { r, v };
  };
  const consents = (residentId: string) => t.services.db.k.selectFrom('resident_consents').selectAll().where('resident_id', '=', residentId).orderBy('given_at').execute();

  test('in English: subscribing and choosing channels show what they agreed to; withdrawing removes the topic’s subscriptions and says so', async () => {
    const { r, v } = await resident('en');
    const none = await v.get('/account/messages');
    assert.match(none.body, /<h2 class="govuk-heading-m" id="consents">What you have agreed to<\/h2>/);
    assert.match(none.body, /You have not agreed to anything yet\./);

    assert.equal((await v.submit('/account/messages/subscriptions/new', { topic: 'bin-collections', kind: 'home' })).headers.location, '/account/messages?saved=subscribed');
    assert.equal((await v.submit('/account/messages/channels/roadworks', { choice1: 'email', choice2: '', choice3: '' })).headers.location, '/account/messages?saved=channels');
    const rows = await consents(r.id);
    assert.deepEqual(
      rows.map((c) => [c.purpose, c.source, c.language]),
      [
        ['messages:bin-collections', 'portal:/account/messages/subscriptions/new', 'en'],
        ['messages:roadworks', 'portal:/account/messages/channels/roadworks', 'en'],
      ],
    );

    const page = await v.get('/account/messages');
    const text = visibleText(page.body);
    assert.ok(text.includes('Messages about Bin collections Send me messages about Bin collections on the channels I choose, until I withdraw this.'), text);
    assert.ok(text.includes(`Agreed on ${formatDate('en', rows[0].given_at)}`));
    assert.ok(text.includes('Messages about Roadworks'));
    const withdraw = `/account/messages/consents/${rows[0].id}/withdraw`;
    assert.match(page.body, new RegExp(`<form method="post" action="${withdraw}" novalidate>\\s*<input type="hidden" name="_csrf"`));

    const forged = await v.post(withdraw, {}, { csrf: false });
    assert.equal(forged.statusCode, 403, 'no token, no withdrawal');
    assert.equal((await consents(r.id))[0].withdrawn_at, null);

    const done = await v.submit('/account/messages', {}, withdraw);
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/account/messages?saved=withdrawn#consents');
    const after = await v.get('/account/messages?saved=withdrawn');
    assert.match(after.body, /You have withdrawn your consent\. We will not send you messages about it any more\./);
    assert.ok(visibleText(after.body).includes(`Withdrawn on ${formatDate('en', new Date())}`));
    assert.doesNotMatch(after.body, new RegExp(withdraw), 'nothing left to withdraw for that one');
    assert.match(after.body, /You have not subscribed to any topics yet\./, 'the topic’s subscription went with it');
    assert.deepEqual((await t.services.residents.get(r.id)).withdrawnTopics, ['bin-collections']);
    const [audit] = await t.services.audit.search({ targetId: r.id, action: 'residents.consent_withdraw', limit: 1 });
    assert.deepEqual([audit.actor_type, audit.actor_id, (audit.changes_json as { source: string }).source], ['resident', r.id, `portal:${withdraw}`]);
  });

  test('in Welsh: the consents, their words and dates are Welsh, with no English left; a withdrawal is confirmed in Welsh', async () => {
    const { r, v } = await resident('cy');
    await v.submit('/account/messages/subscriptions/new', { topic: 'school-closures', kind: 'home' });
    const [consent] = await consents(r.id);
    assert.equal(consent.wording, 'Anfonwch negeseuon ataf am Cau ysgolion ar y sianeli rwy’n eu dewis, nes i mi dynnu hyn yn ôl.');
    const page = await v.get('/account/messages');
    assert.match(page.body, /<html lang="cy"/);
    const text = visibleText(page.body);
    assert.ok(text.includes('Yr hyn rydych chi wedi cytuno iddo'));
    assert.ok(text.includes('Negeseuon am Cau ysgolion Anfonwch negeseuon ataf am Cau ysgolion'), text);
    assert.ok(text.includes(`Cytunwyd ar ${formatDate('cy', consent.given_at)}`));
    assert.match(page.body, />Tynnu’n ôl<span class="govuk-visually-hidden"> Negeseuon am Cau ysgolion<\/span>/);
    assert.deepEqual(englishLeft(page.body), []);
    await v.submit('/account/messages', {}, `/account/messages/consents/${consent.id}/withdraw`);
    const after = await v.get('/account/messages?saved=withdrawn');
    assert.match(after.body, /Rydych chi wedi tynnu eich caniatâd yn ôl\./);
    assert.ok(visibleText(after.body).includes(`Tynnwyd yn ôl ar ${formatDate('cy', new Date())}`));
    assert.deepEqual(englishLeft(after.body), []);
  });

  test('another resident’s consent is not found, and stays as it was', async () => {
    const a = await resident('en');
    const b = await resident('en');
    await a.v.submit('/account/messages/subscriptions/new', { topic: 'roadworks', kind: 'home' });
    const [theirs] = await consents(a.r.id);
    await b.v.get('/account/messages');
    const res = await b.v.post(`/account/messages/consents/${theirs.id}/withdraw`);
    assert.equal(res.statusCode, 404);
    assert.match(res.body, /Page not found/);
    assert.equal((await consents(a.r.id))[0].withdrawn_at, null);
  });
});
