/**
 * The residents' portal as a browser without JavaScript uses it: forms posted urlencoded with
 * their CSRF token, cookies kept, every page in English and Welsh. Signing in (link, code, sign
 * up, the limits, no telling who has an account), my account and how you hear from us, and the
 * tests that try: another resident's data, staff credentials, forms without their token.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../../src/app.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { englishLeftOn, heading, lastSecret, sentTo, summaryErrors, Visitor } from './portal-helpers.js';
import { squareWards } from '../../geo-fixtures.js';

const staff = systemActor('test');
const WARD = squareWards([{ name: 'Riverside', code: 'E05000100', box: [-2.5, 52.3, -2.4, 52.4] }]);

let n = 0;
const email = () => `page-${++n}-${Date.now()}@example.com`;
const mobile = () => `0770091${String(1000 + (++n % 9000)).padStart(4, '0')}`;
const normalisedMobile = (m: string) => `44${m.slice(1)}`;

/** What a Welsh portal page must not show: the portal's and the layout's English, and GOV.UK Frontend's. */
const englishLeft = (html: string) => englishLeftOn(html, { namespaces: ['portal', 'platform'], govukDefaults: true });

forEachDialect('residents’ portal pages', (dialect) => {
  let t: TestApp;
  let wardName: string;
  let schoolId: string;

  before(async () => {
    t = await testApp(dialect);
    await t.services.estate.importAreas(staff, WARD);
    wardName = (await t.services.estate.listAreas())[0].name;
    schoolId = (await t.services.estate.createSite(staff, { type: 'school', name: 'Riverside Primary', address: '1 School Lane', lat: 52.35, lon: -2.45 })).id;
  });

  /** A visitor in a language (by the switch, remembered in the cookie), from an address of their own. */
  const visitor = async (lang: 'en' | 'cy' = 'en') => {
    const v = new Visitor(t.app);
    await v.get(`/?lang=${lang}`);
    return v;
  };

  /** Signs a visitor in with a link by email, through the pages; a new address signs up first. */
  const signIn = async (v: Visitor, address: string, name = 'Pat Resident') => {
    const asked = await v.submit('/sign-in', { contact: address });
    assert.equal(asked.statusCode, 303, asked.body.slice(0, 500));
    const { path } = await lastSecret(t.services, address);
    await v.get(path as string);
    const used = await v.post(path as string);
    if (used.headers.location === '/sign-in/new') await v.submit('/sign-in/new', { name, language: 'en' });
    assert.ok(v.cookies.has('weft_resident'), 'signed in');
    return v;
  };

  /** A resident of staff's making, and a visitor signed in as them. */
  const resident = async (overrides: Record<string, unknown> = {}, lang: 'en' | 'cy' = 'en') => {
    const r = await t.services.residents.create(staff, { name: 'Pat Resident', email: email(), language: lang, ...overrides });
    const v = await signIn(await visitor(lang), r.email as string);
    return { r, v };
  };

  describe('the start page and signing in', () => {
    test('the start page and the sign-in page are in English or Welsh, chosen by the switch and remembered', async () => {
      const v = new Visitor(t.app);
      const en = await v.get('/');
      assert.equal(en.statusCode, 200);
      assert.match(en.body, /<html lang="en-GB"/);
      assert.match(en.body, /<title>Start – Council services<\/title>/);
      assert.match(en.body, /href="\/\?lang=cy" rel="alternate" lang="cy" hreflang="cy"/);
      assert.match(en.body, /href="\/sign-in"[^>]*>\s*Sign in or create an account/);
      const cy = await v.get('/?lang=cy');
      assert.match(cy.body, /<html lang="cy"/);
      assert.match(cy.body, /<title>Dechrau – Gwasanaethau’r cyngor<\/title>/);
      assert.ok(
        cy.cookies.some((c) => c.name === 'weft_lang' && c.value === 'cy'),
        'the choice is remembered',
      );
      assert.deepEqual(englishLeft(cy.body), []);
      const signIn = await v.get('/sign-in');
      assert.equal(heading(signIn.body), 'Mewngofnodi neu greu cyfrif');
      assert.deepEqual(englishLeft(signIn.body), []);
      assert.match(signIn.body, /href="\/sign-in\?lang=en"/);
    });

    test('the form asks again with the error first when the address is missing or is neither an email nor a UK mobile', async () => {
      for (const lang of ['en', 'cy'] as const) {
        const v = await visitor(lang);
        const empty = await v.submit('/sign-in', { contact: '' });
        assert.equal(empty.statusCode, 400);
        assert.deepEqual(summaryErrors(empty.body), [lang === 'en' ? '#contact Enter your email address or mobile phone number' : '#contact Rhowch eich cyfeiriad e-bost neu rif eich ffôn symudol']);
        const bad = await v.post('/sign-in', { contact: 'not an address' });
        assert.equal(bad.statusCode, 400);
        assert.match(summaryErrors(bad.body)[0], lang === 'en' ? /Enter an email address in the correct format/ : /Rhowch gyfeiriad e-bost yn y fformat cywir/);
        assert.match(bad.body, /value="not an address"/, 'what they typed is kept');
        assert.match(bad.body, /<title>(Error|Gwall): /);
        if (lang === 'cy') assert.deepEqual(englishLeft(bad.body), []);
      }
    });

    test('whether or not anyone has the address, the answer is the same', async () => {
      const known = email();
      await t.services.residents.create(staff, { name: 'Known', email: known });
      const answers = [];
      for (const address of [known, email()]) {
        const v = await visitor();
        const res = await v.submit('/sign-in', { contact: address });
        const next = await v.get(String(res.headers.location));
        answers.push({
          status: res.statusCode,
          location: res.headers.location,
          cookies: res.cookies.map((c) => c.name).sort(),
          page: next.body.replace(/value="[^"]+"/g, ''),
          sent: (await sentTo(t.services, address)).length,
        });
      }
      assert.deepEqual(answers[0], answers[1]);
      assert.deepEqual([answers[0].status, answers[0].location, answers[0].sent], [303, '/sign-in/check-email', 1]);
    });

    test('a link opens a page with a button, so opening it does not use it; using it signs in, once', async () => {
      const { r } = await resident();
      const v = await visitor();
      await v.submit('/sign-in', { contact: r.email as string });
      const { path } = await lastSecret(t.services, r.email as string);
      for (let i = 0; i < 2; i++) {
        const page = await v.get(path as string);
        assert.equal(page.statusCode, 200);
        assert.match(page.body, new RegExp(`<form method="post" action="${path}"`));
      }
      // Without the form's token it is refused, and the link still works.
      const forged = await v.post(path as string, {}, { csrf: false });
      assert.equal(forged.statusCode, 403);
      assert.match(forged.body, /The form has expired/);
      const used = await v.post(path as string);
      assert.equal(used.statusCode, 303);
      assert.equal(used.headers.location, '/account');
      const cookie = used.cookies.find((c) => c.name === 'weft_resident') as { httpOnly?: boolean; sameSite?: string; secure?: boolean; path?: string; maxAge?: number };
      assert.deepEqual([cookie.httpOnly, cookie.sameSite, cookie.secure, cookie.path, cookie.maxAge], [true, 'Lax', undefined, '/', 7 * 86_400]);
      const account = await v.get('/account');
      assert.equal(account.statusCode, 200);
      assert.match(account.body, /Pat Resident/);
      const again = await (await visitor('cy')).post(path as string, {}, { csrf: false });
      assert.equal(again.statusCode, 403);
      const other = await visitor('cy');
      await other.get('/sign-in');
      assert.equal((await other.get(path as string)).statusCode, 400, 'a used link shows no button');
      const spent = await other.post(path as string);
      assert.equal(spent.statusCode, 400);
      assert.equal(heading(spent.body), 'Nid yw’r ddolen hon yn gweithio');
      assert.deepEqual(englishLeft(spent.body), []);
      assert.equal((await other.get('/sign-in/link/not-a-real-token')).statusCode, 400);
    });

    test('a new address signs up: their name and language, errors first, then their account in that language', async () => {
      const address = email();
      const v = await visitor();
      await v.submit('/sign-in', { contact: address });
      const { path } = await lastSecret(t.services, address);
      await v.get(path as string);
      const used = await v.post(path as string);
      assert.equal(used.headers.location, '/sign-in/new');
      const form = await v.get('/sign-in/new');
      assert.match(form.body, new RegExp(`No account uses ${address.replace(/\./g, '\\.')} yet`));
      const bad = await v.post('/sign-in/new', { name: '' });
      assert.deepEqual(summaryErrors(bad.body), ['#name Enter your full name, in 200 characters or fewer', '#language Choose a language']);
      const made = await v.post('/sign-in/new', { name: 'Gwen Newydd', language: 'cy' });
      assert.equal(made.statusCode, 303);
      assert.equal(made.headers.location, '/account?saved=welcome');
      const account = await v.get('/account?saved=welcome');
      assert.match(account.body, /<html lang="cy"/);
      assert.match(account.body, /Mae eich cyfrif wedi cael ei greu\./);
      assert.deepEqual(englishLeft(account.body), []);
      const r = await t.services.residents.findByContact('email', address);
      assert.deepEqual([r?.name, r?.language], ['Gwen Newydd', 'cy']);
      // The sign-up is over: the question is not asked again.
      const late = await (await visitor()).get('/sign-in/new');
      assert.equal(late.statusCode, 400);
      assert.equal(heading(late.body), 'Your sign in has expired');
    });

    test('a code by text message: a missing or malformed code uses no try; a wrong one says how many are left; the fifth wrong one ends it', async () => {
      const m = mobile();
      const v = await visitor();
      assert.equal((await v.get('/sign-in/code')).headers.location, '/sign-in', 'no code asked for: back to the start');
      const asked = await v.submit('/sign-in', { contact: m });
      assert.equal(asked.headers.location, '/sign-in/code');
      const cookie = asked.cookies.find((c) => c.name === 'weft_portal_code') as { httpOnly?: boolean; maxAge?: number };
      assert.deepEqual([cookie.httpOnly, cookie.maxAge], [true, 600]);
      const page = await v.get('/sign-in/code');
      assert.match(page.body, new RegExp(`We have sent a code by text message to ${m}`));
      assert.equal(summaryErrors((await v.post('/sign-in/code', { code: '' })).body)[0], '#code Enter the code');
      assert.equal(summaryErrors((await v.post('/sign-in/code', { code: '12ab56' })).body)[0], '#code Enter the code in the correct format: 6 numbers');
      const { code } = await lastSecret(t.services, normalisedMobile(m));
      const wrong = code === '000000' ? '111111' : '000000';
      const first = await v.post('/sign-in/code', { code: wrong });
      assert.equal(first.statusCode, 400);
      assert.match(summaryErrors(first.body)[0], /you have 4 tries left/);
      for (let i = 0; i < 2; i++) await v.post('/sign-in/code', { code: wrong });
      assert.match(summaryErrors((await v.post('/sign-in/code', { code: wrong })).body)[0], /this is your last try/);
      const dead = await v.post('/sign-in/code', { code: wrong });
      assert.equal(dead.statusCode, 400);
      assert.equal(heading(dead.body), 'You entered the wrong code too many times');
      const tooLate = await v.post('/sign-in/code', { code: code as string });
      assert.equal(heading(tooLate.body), 'You entered the wrong code too many times');
      // A new code, entered right, signs up.
      await v.submit('/sign-in', { contact: m });
      const fresh = await lastSecret(t.services, normalisedMobile(m));
      const ok = await v.post('/sign-in/code', { code: fresh.code as string });
      assert.equal(ok.headers.location, '/sign-in/new');
      assert.ok(!v.cookies.has('weft_portal_code'), 'the code’s cookie is gone');
    });

    test('a sixth request for one address in an hour gets a clear page, in the visitor’s language, with 429', async () => {
      const address = email();
      const v = await visitor('cy');
      for (let i = 0; i < 5; i++) assert.equal((await v.submit('/sign-in', { contact: address })).statusCode, 303);
      const refused = await v.submit('/sign-in', { contact: address });
      assert.equal(refused.statusCode, 429);
      assert.equal(heading(refused.body), 'Rydych chi wedi gofyn am ormod o ddolenni neu godau');
      assert.deepEqual(englishLeft(refused.body), []);
    });

    test('a page asked for before signing in is where signing in leads; only this site’s pages', async () => {
      const { r } = await resident();
      const v = await visitor();
      const asked = await v.get('/account/messages');
      assert.equal(asked.statusCode, 303);
      assert.equal(asked.headers.location, '/sign-in?next=%2Faccount%2Fmessages');
      const form = await v.get(String(asked.headers.location));
      assert.match(form.body, /name="next" value="\/account\/messages"/);
      await v.post('/sign-in', { contact: r.email as string, next: '/account/messages' });
      const { path } = await lastSecret(t.services, r.email as string);
      await v.get(path as string);
      assert.equal((await v.post(path as string)).headers.location, '/account/messages');

      const w = await visitor();
      await w.submit('/sign-in', { contact: r.email as string, next: '//evil.example/steal' });
      const link = await lastSecret(t.services, r.email as string);
      await w.get(link.path as string);
      assert.equal((await w.post(link.path as string)).headers.location, '/account');
    });

    test('signing out ends the session: the old cookie is no one', async () => {
      const { v } = await resident();
      const old = v.cookies.get('weft_resident') as string;
      await v.get('/account');
      const out = await v.post('/sign-out');
      assert.equal(out.headers.location, '/sign-in?signedOut=1');
      assert.ok(!v.cookies.has('weft_resident'));
      assert.match((await v.get('/sign-in?signedOut=1')).body, /You have signed out\./);
      const replay = await t.app.inject({ url: '/account', headers: { cookie: `weft_resident=${old}` } });
      assert.equal(replay.statusCode, 303);
      assert.equal(replay.headers.location, '/sign-in?next=%2Faccount');
    });
  });

  describe('who may see what', () => {
    test('resident A cannot see or change resident B’s details, preferences or subscriptions, by any address or form field', async () => {
      const a = await resident({ name: 'Alice Able', location: { lat: 52.35, lon: -2.45 } });
      const b = await resident({ name: 'Bob Baker', mobile: mobile(), location: { lat: 52.36, lon: -2.44 } });
      const bSub = await t.services.residents.subscribe(staff, b.r.id, { topic: 'bin-collections', kind: 'home' });
      for (const url of ['/account', '/account/details', '/account/messages', '/account/email', '/account/mobile']) {
        const page = await a.v.get(url);
        assert.ok(!page.body.includes('Bob Baker') && !page.body.includes(b.r.email as string), `${url} shows nothing of B`);
      }
      // Ids in forms are not read: the signed-in resident is the only one changed.
      const posted = await a.v.submit('/account/details', { name: 'Alice Changed', landline: '', address: '', id: b.r.id, residentId: b.r.id });
      assert.equal(posted.statusCode, 303);
      assert.equal((await t.services.residents.get(a.r.id)).name, 'Alice Changed');
      assert.equal((await t.services.residents.get(b.r.id)).name, 'Bob Baker');
      await a.v.submit('/account/messages/subscriptions/new', { topic: 'roadworks', kind: 'home', residentId: b.r.id });
      assert.equal((await t.services.residents.subscriptions(b.r.id)).length, 1);
      assert.equal((await t.services.residents.subscriptions(a.r.id)).length, 1);
      // B's subscription cannot be removed by A: it is not found among A's.
      await a.v.get('/account/messages');
      const removed = await a.v.post(`/account/messages/subscriptions/${bSub.id}/remove`);
      assert.equal(removed.statusCode, 404);
      assert.deepEqual(
        (await t.services.residents.subscriptions(b.r.id)).map((s) => s.id),
        [bSub.id],
      );
      // A's own removes: and B's page still shows B's.
      const own = (await t.services.residents.subscriptions(a.r.id))[0];
      assert.equal((await a.v.post(`/account/messages/subscriptions/${own.id}/remove`)).statusCode, 303);
      assert.equal((await t.services.residents.subscriptions(a.r.id)).length, 0);
      assert.match((await b.v.get('/account/messages')).body, /Bin collections/);
      // B's mobile code cannot be entered by A: the code is tied to B's browser.
      await b.v.submit('/account/mobile', { mobile: mobile() });
      const bCode = (await t.services.db.k.selectFrom('portal_sign_in_requests').select('contact').where('resident_id', '=', b.r.id).orderBy('created_at', 'desc').executeTakeFirstOrThrow()).contact;
      const { code } = await lastSecret(t.services, bCode);
      await a.v.get('/account/messages');
      const tried = await a.v.post('/account/mobile/code', { code: code as string });
      assert.equal(tried.statusCode, 400);
      assert.equal((await t.services.residents.get(a.r.id)).mobile, null);
    });

    test('staff sessions and API keys are no credentials on the portal; a resident’s session is none on the console or the API', async () => {
      const admin = await t.signInAs(['admin']);
      const toAccount = await t.app.inject({ url: '/account', headers: { cookie: admin.cookie } });
      assert.equal(toAccount.statusCode, 303);
      assert.equal(toAccount.headers.location, '/sign-in?next=%2Faccount');
      const key = await t.key(['portal:account', 'residents:read']);
      const byKey = await t.app.inject({ url: '/account', headers: { authorization: `Bearer ${key}` } });
      assert.equal(byKey.statusCode, 303);
      const posted = await t.app.inject({ method: 'POST', url: '/account/details', headers: { authorization: `Bearer ${key}` }, payload: { name: 'Key' } });
      assert.equal(posted.statusCode, 303, 'a key is not a resident, even with no CSRF check for it');

      const { v } = await resident();
      const console = await t.app.inject({ url: '/console', headers: { cookie: v.cookie } });
      assert.equal(console.statusCode, 303);
      assert.match(String(console.headers.location), /^\/console\/sign-in/);
      const api = await t.app.inject({ url: '/api/v1/residents', headers: { cookie: v.cookie } });
      assert.equal(api.statusCode, 401);
      const staffPage = await t.app.inject({ url: '/console/residents', headers: { cookie: v.cookie } });
      assert.equal(staffPage.statusCode, 303);
    });

    test('every portal form refuses a post without its token, with a page in the visitor’s language', async () => {
      const { v } = await resident({ mobile: mobile() }, 'cy');
      const forms = t.app.weftRoutes.filter((r) => r.method === 'POST' && r.page === 'portal');
      assert.ok(forms.length >= 15, `${forms.length} forms`);
      for (const r of forms) {
        const url = r.url.replace(':token', 'x'.repeat(43)).replace(':id', '01900000-0000-7000-8000-000000000000').replace(':topic', 'usual').replace(':kind', 'area');
        const res = await v.post(url, { name: 'Forged', contact: 'forged@example.com' }, { csrf: false });
        assert.equal(res.statusCode, 403, `${r.url}`);
        assert.match(res.body, /Mae’r ffurflen wedi dod i ben/, r.url);
      }
      assert.equal((await t.services.residents.findByContact('email', 'forged@example.com')) ?? null, null);
    });

    test('no link, code, email address or mobile number is written to the log', async () => {
      const lines: string[] = [];
      const app = await buildApp(t.services, { loggerInstance: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) });
      await app.ready();
      try {
        const address = email();
        const v = new Visitor(app);
        await v.submit('/sign-in', { contact: address });
        const { path, token } = await lastSecret(t.services, address);
        await v.get(path as string);
        await v.post(path as string);
        await v.get(path as string);
        const m = mobile();
        const w = new Visitor(app);
        await w.submit('/sign-in', { contact: m });
        const { code } = await lastSecret(t.services, normalisedMobile(m));
        await w.post('/sign-in/code', { code: code === '000000' ? '111111' : '000000' });
        await w.post('/sign-in/code', { code: code as string });
        const log = lines.join('');
        assert.match(log, /"url":"\/sign-in\/code"/, 'requests are logged');
        for (const secret of [token, code, address, normalisedMobile(m), m]) assert.ok(!log.includes(secret as string), `the log holds ${secret}`);
      } finally {
        await app.close();
      }
    });

    test('the session cookie is Secure when the public address is https, and links point there', async () => {
      const secure = await testApp(dialect, { WEFT_PUBLIC_URL: 'https://portal.example.org' });
      const address = email();
      const v = new Visitor(secure.app);
      await v.submit('/sign-in', { contact: address });
      const [message] = await sentTo(secure.services, address);
      assert.match(message.personalisation.link, /^https:\/\/portal\.example\.org\/sign-in\/link\/[\w-]{43}$/);
      const path = new URL(message.personalisation.link).pathname;
      await v.get(path);
      await v.post(path);
      const made = await v.submit('/sign-in/new', { name: 'Secure Person', language: 'en' });
      const cookie = made.cookies.find((c) => c.name === 'weft_resident') as { secure?: boolean; httpOnly?: boolean };
      assert.deepEqual([cookie.secure, cookie.httpOnly], [true, true]);
    });
  });

  describe('my account', () => {
    test('shows the resident’s details, each with a page to change it', async () => {
      const { v } = await resident({
        name: 'Show Me',
        mobile: '07700 900 321',
        address: ['Show Me', '2 High Street', 'Wealdmoor', 'SW1A 1AA'],
        largePrint: true,
        quietFrom: '21:00',
        quietTo: '07:30',
      });
      const page = await v.get('/account');
      assert.equal(heading(page.body), 'Your account');
      for (const text of ['Show Me', '07700900321', 'Show Me<br>2 High Street<br>Wealdmoor<br>SW1A 1AA', 'Letters in large print', 'From 21:00 to 07:30', 'Place not given'])
        assert.ok(page.body.includes(text), text);
      for (const href of ['/account/details', '/account/email', '/account/mobile', '/account/home', '/account/language', '/account/accessibility', '/account/quiet-hours', '/account/messages'])
        assert.match(page.body, new RegExp(`href="${href}"`));
      assert.match(page.body, /action="\/sign-out"/);
    });

    test('name, landline and address: errors first, then saved', async () => {
      const { r, v } = await resident();
      const bad = await v.submit('/account/details', { name: '', landline: '12345', address: 'Only\nTwo lines' });
      assert.deepEqual(summaryErrors(bad.body), [
        '#name Enter your full name, in 200 characters or fewer',
        '#address Enter your address on 3 to 7 lines: your name, the street, the town and the postcode, each on its own line',
      ]);
      const landline = await v.post('/account/details', { name: 'Pat', landline: '12345', address: '' });
      assert.deepEqual(summaryErrors(landline.body), ['#landline Enter a UK phone number, like 01632 960 001']);
      const ok = await v.post('/account/details', { name: 'Pat Changed', landline: '01632 960 002', address: 'Pat Changed\r\n3 High Street\r\nWealdmoor\r\nSW1A 1AA' });
      assert.equal(ok.headers.location, '/account?saved=details');
      const after = await t.services.residents.get(r.id);
      assert.deepEqual([after.name, after.landline, after.address, after.email], ['Pat Changed', '+441632960002', ['Pat Changed', '3 High Street', 'Wealdmoor', 'SW1A 1AA'], r.email]);
      assert.match((await v.get('/account?saved=details')).body, /Your changes have been saved\./);
    });

    test('where they live: a postcode and a point, placed in the council’s area', async () => {
      const { r, v } = await resident({}, 'cy');
      const half = await v.submit('/account/home', { postcode: 'SW1A', latitude: '52.35', longitude: '' });
      assert.deepEqual(
        summaryErrors(half.body).map((e) => e.split(' ')[0]),
        ['#postcode', '#longitude'],
      );
      assert.deepEqual(englishLeft(half.body), []);
      const abroad = await v.post('/account/home', { postcode: '', latitude: '48.85', longitude: '2.35' });
      assert.deepEqual(summaryErrors(abroad.body), ['#latitude Rhowch le yn y DU']);
      assert.equal((await v.post('/account/home', { postcode: 'sw1a 1aa', latitude: '52.35', longitude: '-2.45' })).statusCode, 303);
      const after = await t.services.residents.get(r.id);
      assert.deepEqual([after.postcode, after.location, after.areaId], ['SW1A 1AA', { lat: 52.35, lon: -2.45 }, (await t.services.estate.listAreas())[0].id]);
      assert.match((await v.get('/account')).body, new RegExp(`Yn ${wardName}`));
    });

    test('accessibility needs, language and quiet hours', async () => {
      const { r, v } = await resident();
      assert.equal((await v.submit('/account/accessibility', { needs: ['largePrint', 'prefersVoice'] })).headers.location, '/account?saved=accessibility');
      assert.deepEqual([(await t.services.residents.get(r.id)).largePrint, (await t.services.residents.get(r.id)).prefersVoice], [true, true]);
      await v.submit('/account/accessibility', {});
      assert.deepEqual([(await t.services.residents.get(r.id)).largePrint, (await t.services.residents.get(r.id)).prefersVoice], [false, false]);

      assert.deepEqual(summaryErrors((await v.submit('/account/language', {})).body), ['#language Choose a language']);
      const lang = await v.submit('/account/language?back=messages', { language: 'cy', back: 'messages' }, '/account/language');
      assert.equal(lang.headers.location, '/account/messages?saved=language');
      assert.ok(lang.cookies.some((c) => c.name === 'weft_lang' && c.value === 'cy'));
      assert.equal((await t.services.residents.get(r.id)).language, 'cy');
      assert.match((await v.get('/account/messages?saved=language')).body, /Mae eich newidiadau wedi cael eu cadw\./);

      const quiet = await v.submit('/account/quiet-hours', { quietFrom: '25:00', quietTo: '' });
      assert.deepEqual(summaryErrors(quiet.body), [
        '#quietFrom Rhowch yr amser y mae’r oriau tawel yn dechrau, fel 21:00',
        '#quietTo Rhowch y ddau amser, neu gadewch y ddau yn wag i beidio â chael oriau tawel',
      ]);
      assert.deepEqual(summaryErrors((await v.post('/account/quiet-hours', { quietFrom: '9.00', quietTo: '09:00' })).body), [
        '#quietTo Rhaid i’r oriau tawel orffen ar amser gwahanol i’r amser y maent yn dechrau',
      ]);
      assert.equal((await v.post('/account/quiet-hours', { quietFrom: '21.30', quietTo: '7:00' })).headers.location, '/account?saved=quiet');
      assert.deepEqual([(await t.services.residents.get(r.id)).quietFrom, (await t.services.residents.get(r.id)).quietTo], ['21:30', '07:00']);
      await v.submit('/account/quiet-hours', { quietFrom: '', quietTo: '' });
      assert.equal((await t.services.residents.get(r.id)).quietFrom, null);
    });

    test('a new email address is confirmed by a link sent to it before it is used', async () => {
      const { r, v } = await resident();
      assert.deepEqual(summaryErrors((await v.submit('/account/email', { email: r.email as string })).body), ['#email This is the email address you have already']);
      assert.deepEqual(summaryErrors((await v.post('/account/email', { email: 'nope' })).body), ['#email Enter an email address in the correct format, like name@example.com']);
      const next = email();
      const asked = await v.post('/account/email', { email: next });
      assert.equal(asked.headers.location, '/account/email/check');
      assert.equal((await v.get('/account/email/check')).statusCode, 200);
      assert.equal((await t.services.residents.get(r.id)).email, r.email);
      const { path } = await lastSecret(t.services, next);
      assert.match(path as string, /^\/account\/email\/confirm\//);
      // Opened in another browser, signed out: the link alone is the proof.
      const elsewhere = await visitor();
      assert.equal((await elsewhere.get(path as string)).statusCode, 200);
      const done = await elsewhere.post(path as string);
      assert.equal(done.statusCode, 200);
      assert.equal(heading(done.body), 'Email address changed');
      assert.equal((await t.services.residents.get(r.id)).email, next);
      assert.equal((await elsewhere.get(path as string)).statusCode, 400, 'once');
    });

    test('a new mobile number is confirmed by a code; the last way to sign in cannot be removed', async () => {
      const { r, v } = await resident();
      const m = mobile();
      assert.equal((await v.submit('/account/mobile', { mobile: m })).headers.location, '/account/mobile/code');
      const page = await v.get('/account/mobile/code');
      assert.match(page.body, new RegExp(m));
      const { code } = await lastSecret(t.services, normalisedMobile(m));
      const wrong = code === '000000' ? '111111' : '000000';
      assert.match(summaryErrors((await v.post('/account/mobile/code', { code: wrong })).body)[0], /4 tries left/);
      assert.equal((await v.post('/account/mobile/code', { code: code as string })).headers.location, '/account?saved=mobile');
      assert.equal((await t.services.residents.get(r.id)).mobile, normalisedMobile(m));

      assert.match((await v.get('/account/email')).body, /action="\/account\/email\/remove"/);
      assert.equal((await v.post('/account/email/remove')).headers.location, '/account?saved=email-removed');
      assert.equal((await t.services.residents.get(r.id)).email, null);
      const mobilePage = await v.get('/account/mobile');
      assert.ok(!mobilePage.body.includes('/account/mobile/remove'), 'no button to remove the last one');
      const refused = await v.post('/account/mobile/remove');
      assert.equal(refused.statusCode, 400);
      assert.match(summaryErrors(refused.body)[0], /add the other before you remove this one/);
      assert.equal((await t.services.residents.get(r.id)).mobile, normalisedMobile(m));
    });

    test('switching language while signed in saves it to the resident’s record', async () => {
      const { r, v } = await resident();
      await v.get('/account?lang=cy');
      assert.equal((await t.services.residents.get(r.id)).language, 'cy');
      const [audit] = await t.services.audit.search({ action: 'residents.update', targetId: r.id, limit: 1 });
      assert.deepEqual([audit.actor_type, audit.changes_json], ['resident', ['language']]);
    });
  });

  describe('how you hear from us', () => {
    test('the order of channels for each topic, with the topics’ Welsh names', async () => {
      const { r, v } = await resident({}, 'cy');
      const page = await v.get('/account/messages');
      assert.equal(heading(page.body), 'Sut rydych chi’n clywed gennym ni');
      assert.match(page.body, /Casgliadau biniau/);
      assert.match(page.body, /Trefn arferol y cyngor: E-bost, yna neges destun, yna llythyr/);
      assert.match(page.body, /Nid ydych wedi rhoi rhif ffôn symudol/);
      assert.deepEqual(englishLeft(page.body), []);
      const form = await v.get('/account/messages/channels/bin-collections');
      assert.equal(heading(form.body), 'Sut rydym yn cysylltu â chi am ‘Casgliadau biniau’');
      const twice = await v.post('/account/messages/channels/bin-collections', { choice1: 'sms', choice2: 'sms', choice3: '' });
      assert.deepEqual(summaryErrors(twice.body), ['#choice2 Dewiswch bob ffordd o gysylltu â chi unwaith yn unig']);
      const gap = await v.post('/account/messages/channels/bin-collections', { choice1: '', choice2: 'sms', choice3: '' });
      assert.deepEqual(summaryErrors(gap.body), ['#choice1 Dewiswch eich dewis cyntaf cyn eich ail neu’ch trydydd dewis']);
      assert.equal((await v.post('/account/messages/channels/bin-collections', { choice1: 'sms', choice2: 'letter', choice3: '' })).headers.location, '/account/messages?saved=channels');
      await v.submit('/account/messages/channels/usual', { choice1: 'email', choice2: '', choice3: '' });
      assert.deepEqual((await t.services.residents.get(r.id)).preferences, { 'bin-collections': ['sms', 'letter'], '*': ['email'] });
      assert.match((await v.get('/account/messages')).body, /Neges destun, yna llythyr/);
      await v.submit('/account/messages/channels/bin-collections', { choice1: '', choice2: '', choice3: '' });
      assert.deepEqual((await t.services.residents.get(r.id)).preferences, { '*': ['email'] });
      assert.equal((await v.get('/account/messages/channels/no-such-topic')).statusCode, 404);
      assert.equal(heading((await v.get('/account/messages/channels/no-such-topic')).body), 'Heb ddod o hyd i’r dudalen');
    });

    test('subscriptions: the topic and where, then which area, how far or which place; errors first; removed with a button', async () => {
      const { r, v } = await resident();
      const url = '/account/messages/subscriptions/new';
      const form = await v.get(url);
      assert.match(form.body, /Tell us where you live first/);
      assert.ok(!form.body.includes('aria-controls'), 'no field hides behind a radio');
      const none = await v.post(url, {});
      assert.deepEqual(
        summaryErrors(none.body).map((e) => e.split(' ')[0]),
        ['#topic', '#kind'],
      );
      assert.deepEqual(summaryErrors((await v.post(url, { topic: 'no-such-topic', kind: 'area' })).body), ['#topic Choose a topic']);
      assert.deepEqual(summaryErrors((await v.post(url, { topic: 'bin-collections', kind: 'home' })).body), ['#kind Tell us where you live first: you can do this from your account page']);
      assert.deepEqual(summaryErrors((await v.post(url, { topic: 'roadworks', kind: 'radius' })).body), ['#kind Tell us where you live first: you can do this from your account page']);
      // An area or a place is asked on the next page.
      const next = await v.post(url, { topic: 'roadworks', kind: 'area' });
      assert.equal(next.headers.location, `${url}/area?topic=roadworks`);
      const areaPage = await v.get(String(next.headers.location));
      assert.equal(heading(areaPage.body), 'In which area do you want to hear about Roadworks?');
      assert.match(areaPage.body, new RegExp(`href="${url}\\?topic=roadworks&amp;kind=area"`), 'back to the first question, as answered');
      assert.deepEqual(summaryErrors((await v.post(`${url}/area`, { topic: 'roadworks', areaId: '' })).body), ['#areaId Choose an area']);
      assert.equal((await v.get(`${url}/site?topic=parking`)).statusCode, 200);
      assert.match((await v.get(`${url}/site?topic=parking`)).body, /Riverside Primary \(school\)/);
      assert.equal((await v.get(`${url}/home?topic=parking`)).statusCode, 404);
      assert.equal((await v.get(`${url}/site?topic=nothing`)).headers.location, url);

      await v.submit('/account/home', { postcode: '', latitude: '52.35', longitude: '-2.45' });
      assert.deepEqual(summaryErrors((await v.submit(`${url}/radius?topic=air-quality`, { topic: 'air-quality', radiusMetres: '50' }, `${url}/radius`)).body), [
        '#radiusMetres Enter a distance from 100 to 20,000 metres',
      ]);
      const areaId = (await t.services.estate.listAreas())[0].id;
      const steps: [string, Record<string, string>][] = [
        [url, { topic: 'bin-collections', kind: 'home' }],
        [`${url}/area`, { topic: 'roadworks', areaId }],
        [`${url}/radius`, { topic: 'air-quality', radiusMetres: '1,500' }],
        [`${url}/site`, { topic: 'school-closures', siteId: schoolId }],
      ];
      for (const [to, input] of steps) {
        const res = await v.submit(`${to}?topic=${input.topic}`, input, to);
        assert.equal(res.statusCode, 303, `${to}: ${summaryErrors(res.body)}`);
        assert.equal(res.headers.location, '/account/messages?saved=subscribed');
      }
      assert.deepEqual(summaryErrors((await v.submit(url, { topic: 'bin-collections', kind: 'home' })).body), ['#topic You have subscribed to this already']);
      assert.deepEqual(summaryErrors((await v.submit(`${url}/area?topic=roadworks`, { topic: 'roadworks', areaId }, `${url}/area`)).body), ['#areaId You have subscribed to this already']);
      const list = await v.get('/account/messages?saved=subscribed');
      for (const text of [`Where you live, in ${wardName}`, `In ${wardName}`, 'Within 1.5 km of where you live', 'At Riverside Primary', 'Your subscription has been added.'])
        assert.ok(list.body.includes(text), text);
      const subs = await t.services.residents.subscriptions(r.id);
      assert.equal(subs.length, 4);
      const [audit] = await t.services.audit.search({ action: 'residents.subscribe', targetId: r.id, limit: 1 });
      assert.equal(audit.actor_type, 'resident');
      const site = subs.find((s) => s.kind === 'site') as { id: string };
      assert.equal((await v.post(`/account/messages/subscriptions/${site.id}/remove`)).headers.location, '/account/messages?saved=unsubscribed');
      assert.equal((await t.services.residents.subscriptions(r.id)).length, 3);
      const cy = await v.get('/account/messages?lang=cy');
      for (const text of [`Lle rydych chi’n byw, yn ${wardName}`, `Yn ${wardName}`, 'O fewn 1.5 km i’r lle rydych chi’n byw']) assert.ok(cy.body.includes(text), text);
      assert.ok(!cy.body.includes('Riverside Primary'), 'the place is no longer followed');
      assert.deepEqual(englishLeft(cy.body), []);
      for (const page of [url, `${url}/area?topic=roadworks`, `${url}/radius?topic=roadworks`, `${url}/site?topic=roadworks`]) assert.deepEqual(englishLeft((await v.get(page)).body), [], page);
    });
  });

  test('every page a resident sees has no English on it when it is in Welsh', async () => {
    const { v } = await resident({ mobile: mobile() }, 'cy');
    for (const url of [
      '/',
      '/account',
      '/account/details',
      '/account/home',
      '/account/email',
      '/account/email/check',
      '/account/mobile',
      '/account/accessibility',
      '/account/language',
      '/account/quiet-hours',
      '/account/messages',
      '/account/messages/channels/usual',
      '/account/messages/channels/parking',
      '/account/messages/subscriptions/new',
      '/account/messages/subscriptions/new/area?topic=parking',
      '/account/messages/subscriptions/new/radius?topic=parking',
      '/account/messages/subscriptions/new/site?topic=parking',
    ]) {
      const page = await v.get(url, { accept: 'text/html' });
      assert.match(page.body, /<html lang="cy"/, url);
      assert.deepEqual(englishLeft(page.body), [], url);
    }
    const out = await visitor('cy');
    for (const url of ['/sign-in', '/sign-in/check-email', '/sign-in/link/nothing', '/sign-in/new']) assert.deepEqual(englishLeft((await out.get(url)).body), [], url);
  });
});
