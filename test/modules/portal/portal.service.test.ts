/**
 * Signing in to the portal without a password, in the service: links and codes stored only as
 * HMACs, used once, expiring; a code's five tries, however many guesses arrive at once; the
 * limits per contact point and per address, held in the database; signing up; sessions with an
 * idle and an absolute expiry; changing an email or a mobile with the new one confirmed.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { PortalSender, SIGN_IN_REFERENCE, SIGN_IN_SERVICE_NAME } from '../../../src/modules/portal/portal.sender.js';
import { LIMITS } from '../../../src/modules/portal/portal.schema.js';
import type { PortalService } from '../../../src/modules/portal/portal.service.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { hashToken } from '../../../src/platform/auth/secrets.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect, TEST_SECRET } from '../../helpers.js';
import { lastSecret, sentTo } from './portal-helpers.js';

const staff = systemActor('test');
let n = 0;
/** A fresh address each time, so the per-contact limit of one test does not touch another. */
const email = () => `resident-${++n}-${Date.now()}@example.com`;
const mobile = () => `0770090${String(1000 + (++n % 9000)).padStart(4, '0')}`;
const normalisedMobile = (m: string) => `44${m.slice(1)}`;
/** Each test asks from its own address, so the per-address limit is its own too. */
const from = () => ({ ip: `10.0.${Math.floor(++n / 250) % 250}.${n % 250}`, requestId: 'test' });

const codeOf = async (t: TestApp, m: string) => (await lastSecret(t.services, normalisedMobile(m))).code as string;
const tokenOf = async (t: TestApp, e: string) => (await lastSecret(t.services, e)).token as string;
const rejects = (p: Promise<unknown>, code: string) => assert.rejects(p, (err: { code?: string }) => err.code === code);

forEachDialect('portal sign-in', (dialect) => {
  let t: TestApp;
  let portal: PortalService;

  before(async () => {
    t = await testApp(dialect);
    portal = t.services.portal;
  });

  describe('a link by email', () => {
    test('is sent through the portal’s own messaging service in the page’s language, and kept only as an HMAC', async () => {
      const to = email();
      const sent = await portal.requestSignIn(to.toUpperCase(), 'cy', null, from());
      assert.deepEqual(sent, { channel: 'email', browserToken: undefined });
      const [message] = await sentTo(t.services, to);
      const service = await t.services.messaging.getService(message.serviceId);
      assert.equal(service.name, SIGN_IN_SERVICE_NAME);
      assert.equal(message.reference, SIGN_IN_REFERENCE);
      assert.equal(message.residentId, null, 'not on any resident’s record, so not in the console’s list of their messages');
      assert.equal(message.language, 'cy');
      assert.equal(message.subject, 'Eich dolen i fewngofnodi');
      const token = await tokenOf(t, to);
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(message.body.includes(`/sign-in/link/${token}`));
      // Nothing the portal stores holds the token itself.
      const rows = await t.services.db.k.selectFrom('portal_sign_in_requests').selectAll().where('contact', '=', to).execute();
      assert.equal(rows.length, 1);
      assert.ok(!JSON.stringify(rows).includes(token));
      assert.equal(rows[0].secret_hash.length, 43);
      // An English page sends the English text.
      const other = email();
      await portal.requestSignIn(other, 'en', null, from());
      assert.equal((await sentTo(t.services, other))[0].subject, 'Your link to sign in');
    });

    test('works once: a second use, a wrong token or an expired link is refused', async () => {
      const to = email();
      await portal.requestSignIn(to, 'en', '/account/messages', from());
      const token = await tokenOf(t, to);
      assert.equal(await portal.linkWorks(token), true);
      assert.equal(await portal.linkWorks(token, 'email-change'), false, 'a sign-in link is not a link of another kind');
      const first = await portal.confirmLink(token, from());
      assert.equal(first.kind, 'sign-up');
      assert.equal(first.next, '/account/messages');
      await rejects(portal.confirmLink(token, from()), 'PORTAL_LINK_INVALID');
      assert.equal(await portal.linkWorks(token), false);
      await rejects(portal.confirmLink(`${token.slice(0, -1)}x`, from()), 'PORTAL_LINK_INVALID');
      await rejects(portal.confirmLink('', from()), 'PORTAL_LINK_INVALID');

      const late = email();
      await portal.requestSignIn(late, 'en', null, from());
      await t.services.db.k
        .updateTable('portal_sign_in_requests')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('contact', '=', late)
        .execute();
      await rejects(portal.confirmLink(await tokenOf(t, late), from()), 'PORTAL_LINK_INVALID');
    });

    test('expires after 20 minutes', async () => {
      const to = email();
      const before = Date.now();
      await portal.requestSignIn(to, 'en', null, from());
      const row = await t.services.db.k.selectFrom('portal_sign_in_requests').selectAll().where('contact', '=', to).executeTakeFirstOrThrow();
      const minutes = (row.expires_at.getTime() - before) / 60_000;
      assert.ok(minutes >= 20 && minutes < 20.1, `${minutes}`);
    });

    test('signs in the resident who has that email, whatever its case; one no resident has leads to signing up as themself', async () => {
      const known = email();
      const r = await t.services.residents.create(staff, { name: 'Known Person', email: known });
      await portal.requestSignIn(known, 'en', null, from());
      const signedIn = await portal.confirmLink(await tokenOf(t, known), from());
      assert.equal(signedIn.kind, 'session');
      assert.equal(signedIn.kind === 'session' && signedIn.residentId, r.id);
      const actor = await portal.actorForSession(signedIn.kind === 'session' ? signedIn.token : '');
      assert.equal(actor?.type, 'resident');
      assert.equal(actor?.id, r.id);
      assert.deepEqual([...(actor?.permissions ?? [])], ['portal:account'], 'a resident holds no staff permission');

      const fresh = email();
      await portal.requestSignIn(fresh, 'cy', null, from());
      const asked = await portal.confirmLink(await tokenOf(t, fresh), from());
      assert.equal(asked.kind, 'sign-up');
      const signupToken = asked.kind === 'sign-up' ? asked.signupToken : '';
      assert.deepEqual(await portal.signUpFor(signupToken), { channel: 'email', contact: fresh, language: 'cy' });
      const done = await portal.signUp(signupToken, { name: 'Newydd Sbon', language: 'cy' }, from());
      const made = await t.services.residents.get(done.residentId);
      assert.deepEqual([made.name, made.email, made.language, made.mobile], ['Newydd Sbon', fresh, 'cy', null]);
      const [created] = await t.services.audit.search({ action: 'residents.create', targetId: made.id, limit: 5 });
      assert.equal(created.actor_type, 'resident');
      assert.equal(created.actor_id, made.id, 'the resident made their own record');
      assert.equal((await portal.actorForSession(done.token))?.id, made.id);
      // The sign-up is used up.
      assert.equal(await portal.signUpFor(signupToken), undefined);
      await rejects(portal.signUp(signupToken, { name: 'Again', language: 'en' }, from()), 'PORTAL_SIGN_UP_EXPIRED');
      await rejects(portal.signUp('nonsense', { name: 'Again', language: 'en' }, from()), 'PORTAL_SIGN_UP_EXPIRED');
    });

    test('when staff gave one email to two residents, it signs in to the one added first', async () => {
      const shared = email();
      const first = await t.services.residents.create(staff, { name: 'First', email: shared });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await t.services.residents.create(staff, { name: 'Second', email: shared });
      await portal.requestSignIn(shared, 'en', null, from());
      const r = await portal.confirmLink(await tokenOf(t, shared), from());
      assert.equal(r.kind === 'session' && r.residentId, first.id);
    });
  });

  describe('a code by text message', () => {
    test('is 6 digits, tied to the browser that asked, and works once', async () => {
      const m = mobile();
      await t.services.residents.create(staff, { name: 'Texting Person', mobile: m });
      const { channel, browserToken } = await portal.requestSignIn(m, 'en', null, from());
      assert.equal(channel, 'sms');
      assert.ok(browserToken);
      const [message] = await sentTo(t.services, normalisedMobile(m));
      assert.equal(message.recipient, `+${normalisedMobile(m)}`);
      const code = await codeOf(t, m);
      assert.match(code, /^\d{6}$/);
      assert.match(message.body, new RegExp(`^${code} is your code to sign in`));
      const row = await t.services.db.k.selectFrom('portal_sign_in_requests').selectAll().where('contact', '=', normalisedMobile(m)).executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(browserToken as string));
      assert.equal((row.expires_at.getTime() - row.created_at.getTime()) / 60_000, LIMITS.codeMinutes);
      assert.deepEqual(await portal.pendingCode(browserToken, 'sign-in'), { contact: normalisedMobile(m), triesLeft: 5 });
      await rejects(portal.confirmCode('another-browser', code, from()), 'PORTAL_CODE_EXPIRED');
      const ok = await portal.confirmCode(browserToken as string, ` ${code.slice(0, 3)} ${code.slice(3)} `, from());
      assert.equal(ok.kind, 'session');
      await rejects(portal.confirmCode(browserToken as string, code, from()), 'PORTAL_CODE_EXPIRED');
      assert.equal(await portal.pendingCode(browserToken, 'sign-in'), undefined);
    });

    test('is dead after 5 wrong tries, even to the right code', async () => {
      const m = mobile();
      const { browserToken } = await portal.requestSignIn(m, 'en', null, from());
      const code = await codeOf(t, m);
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 1; i < LIMITS.codeTries; i++) {
        await rejects(portal.confirmCode(browserToken as string, wrong, from()), 'PORTAL_CODE_WRONG');
        assert.equal((await portal.pendingCode(browserToken, 'sign-in'))?.triesLeft, LIMITS.codeTries - i);
      }
      await rejects(portal.confirmCode(browserToken as string, wrong, from()), 'PORTAL_CODE_LOCKED');
      await rejects(portal.confirmCode(browserToken as string, code, from()), 'PORTAL_CODE_LOCKED');
      const [locked] = await t.services.audit.search({ action: 'portal.sign_in', outcome: 'failed', limit: 1 });
      assert.match(locked.summary, /entered wrongly 5 times/);
      assert.ok(!locked.summary.includes(normalisedMobile(m)), 'the audit names no number');
    });

    test('simultaneous guesses get 5 tries between them, no more', async () => {
      const m = mobile();
      const { browserToken } = await portal.requestSignIn(m, 'en', null, from());
      const code = await codeOf(t, m);
      const guesses = Array.from({ length: 12 }, (_, i) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'));
      const results = await Promise.allSettled(guesses.map((g) => portal.confirmCode(browserToken as string, g, from())));
      const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok'));
      assert.ok(!codes.includes('ok'));
      assert.ok(codes.filter((c) => c === 'PORTAL_CODE_WRONG').length <= LIMITS.codeTries - 1, codes.join());
      assert.ok(codes.filter((c) => c === 'PORTAL_CODE_LOCKED').length >= guesses.length - LIMITS.codeTries + 1, codes.join());
      const row = await t.services.db.k.selectFrom('portal_sign_in_requests').select('attempts').where('contact', '=', normalisedMobile(m)).executeTakeFirstOrThrow();
      assert.equal(row.attempts, LIMITS.codeTries);
      await rejects(portal.confirmCode(browserToken as string, code, from()), 'PORTAL_CODE_LOCKED');
    });

    test('expires after 10 minutes', async () => {
      const m = mobile();
      const { browserToken } = await portal.requestSignIn(m, 'en', null, from());
      await t.services.db.k
        .updateTable('portal_sign_in_requests')
        .set({ expires_at: new Date(Date.now() - 1) })
        .where('contact', '=', normalisedMobile(m))
        .execute();
      await rejects(portal.confirmCode(browserToken as string, await codeOf(t, m), from()), 'PORTAL_CODE_EXPIRED');
    });

    test('a number that replied STOP is sent nothing, and the person is told what everyone is told', async () => {
      const m = mobile();
      await t.services.db.k
        .insertInto('opt_outs')
        .values({ normalised_to: normalisedMobile(m), keyword: 'STOP', created_at: new Date() })
        .execute();
      assert.equal(await t.services.messaging.isOptedOut(normalisedMobile(m)), true);
      const sent = await portal.requestSignIn(m, 'en', null, from());
      assert.equal(sent.channel, 'sms');
      assert.deepEqual(await sentTo(t.services, normalisedMobile(m)), []);
    });
  });

  describe('limits', () => {
    test('5 requests an hour per email or mobile, from any address', async () => {
      const to = email();
      for (let i = 0; i < LIMITS.perContactPerHour; i++) await portal.requestSignIn(to, 'en', null, from());
      await rejects(portal.requestSignIn(to, 'en', null, from()), 'PORTAL_TOO_MANY_REQUESTS');
      assert.equal((await sentTo(t.services, to)).length, LIMITS.perContactPerHour, 'the refused request sent nothing');
      const [refusal] = await t.services.audit.search({ action: 'portal.sign_in_request', outcome: 'denied', limit: 1 });
      assert.ok(!refusal.summary.includes(to));
      // An hour on, it may ask again.
      await t.services.db.k
        .updateTable('portal_sign_in_requests')
        .set({ created_at: new Date(Date.now() - 61 * 60_000) })
        .where('contact', '=', to)
        .execute();
      await portal.requestSignIn(to, 'en', null, from());
    });

    test('20 requests an hour from one address, whatever they are for', async () => {
      const ip = { ip: '192.0.2.77', requestId: 'test' };
      for (let i = 0; i < LIMITS.perIpPerHour; i++) await portal.requestSignIn(email(), 'en', null, ip);
      await rejects(portal.requestSignIn(email(), 'en', null, ip), 'PORTAL_TOO_MANY_REQUESTS');
      await rejects(portal.requestSignIn(mobile(), 'en', null, ip), 'PORTAL_TOO_MANY_REQUESTS');
    });

    test('simultaneous requests are counted one after another: exactly 5 get through', async () => {
      const to = email();
      const results = await Promise.allSettled(Array.from({ length: 12 }, () => portal.requestSignIn(to, 'en', null, from())));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, LIMITS.perContactPerHour);
      assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.code === 'PORTAL_TOO_MANY_REQUESTS'));
      assert.equal((await sentTo(t.services, to)).length, LIMITS.perContactPerHour);
    });

    test('what is neither an email address nor a UK mobile is refused before anything is stored or sent', async () => {
      for (const bad of ['', 'someone', 'a@b', '01632 960 001', '+33 6 12 34 56 78']) await rejects(portal.requestSignIn(bad, 'en', null, from()), 'PORTAL_CONTACT_INVALID');
    });
  });

  describe('sessions', () => {
    const session = async () => {
      const to = email();
      await t.services.residents.create(staff, { name: 'Session Person', email: to });
      await portal.requestSignIn(to, 'en', null, from());
      const r = await portal.confirmLink(await tokenOf(t, to), from());
      return r.kind === 'session' ? r.token : '';
    };
    const row = (token: string) => t.services.db.k.selectFrom('portal_sessions').selectAll().where('token_hash', '=', hashOf(token)).executeTakeFirstOrThrow();

    test('are kept as an HMAC, end after 12 idle hours, and never last more than 7 days', async () => {
      const token = await session();
      const s = await row(token);
      assert.notEqual(s.token_hash, token);
      assert.equal((s.expires_at.getTime() - s.created_at.getTime()) / 3_600_000, LIMITS.sessionIdleHours);
      // Used again after two minutes, it slides; but never past 7 days from its start.
      const now = Date.now();
      await t.services.db.k
        .updateTable('portal_sessions')
        .set({ created_at: new Date(now - 7 * 86_400_000 + 30_000), last_seen_at: new Date(now - 120_000) })
        .where('token_hash', '=', s.token_hash)
        .execute();
      assert.ok(await portal.actorForSession(token));
      const slid = await row(token);
      assert.ok(Math.abs(slid.expires_at.getTime() - (now + 30_000)) < 5_000, 'capped at the absolute expiry');
      await t.services.db.k
        .updateTable('portal_sessions')
        .set({ expires_at: new Date(Date.now() - 1) })
        .where('token_hash', '=', s.token_hash)
        .execute();
      assert.equal(await portal.actorForSession(token), undefined);
    });

    test('end on signing out; an unknown token is no one', async () => {
      const token = await session();
      assert.ok(await portal.actorForSession(token));
      await portal.signOut(token);
      assert.equal(await portal.actorForSession(token), undefined);
      assert.equal(await portal.actorForSession('made-up'), undefined);
    });
  });

  describe('changing an email address or a mobile number', () => {
    test('a new email changes when the link sent to it is used, by anyone holding it, once', async () => {
      const r = await t.services.residents.create(staff, { name: 'Mover', email: email() });
      const actor = { ...staff, type: 'resident' as const, id: r.id };
      const next = email();
      await rejects(portal.requestEmailChange(actor, r.email as string, 'en', from()), 'PORTAL_CONTACT_UNCHANGED');
      await rejects(portal.requestEmailChange(actor, '07700900123', 'en', from()), 'PORTAL_CONTACT_INVALID');
      await portal.requestEmailChange(actor, next, 'en', from());
      assert.equal((await t.services.residents.get(r.id)).email, r.email, 'unchanged until confirmed');
      const [message] = await sentTo(t.services, next);
      assert.equal(message.subject, 'Confirm your new email address');
      const token = await tokenOf(t, next);
      await rejects(portal.confirmLink(token, from()), 'PORTAL_LINK_INVALID');
      assert.equal(await portal.linkWorks(token, 'email-change'), true);
      await portal.confirmEmailChange(token, from());
      assert.equal((await t.services.residents.get(r.id)).email, next);
      await rejects(portal.confirmEmailChange(token, from()), 'PORTAL_LINK_INVALID');
      const [audit] = await t.services.audit.search({ action: 'residents.update', targetId: r.id, limit: 1 });
      assert.deepEqual([audit.actor_type, audit.actor_id, audit.changes_json], ['resident', r.id, ['email']]);
    });

    test('a new mobile changes when the code sent to it is entered in the same browser by the same resident', async () => {
      const r = await t.services.residents.create(staff, { name: 'Texter', email: email() });
      const other = await t.services.residents.create(staff, { name: 'Other', email: email() });
      const actor = { ...staff, type: 'resident' as const, id: r.id };
      const m = mobile();
      const browser = await portal.requestMobileChange(actor, m, 'cy', from());
      const [message] = await sentTo(t.services, normalisedMobile(m));
      assert.match(message.body, /^\d{6} yw eich cod i gadarnhau['’]r rhif ffôn symudol hwn ar gyfer eich cyfrif gyda['’]r cyngor\. Mae['’]n dod i ben ar ôl 10 munud\./);
      const code = await codeOf(t, m);
      await rejects(portal.confirmMobileChange({ ...actor, id: other.id }, browser, code, from()), 'PORTAL_CODE_EXPIRED');
      await rejects(portal.confirmCode(browser, code, from()), 'PORTAL_CODE_EXPIRED');
      await portal.confirmMobileChange(actor, browser, code, from());
      assert.equal((await t.services.residents.get(r.id)).mobile, normalisedMobile(m));
      assert.equal((await t.services.residents.get(other.id)).mobile, null);
    });

    test('the last way to sign in cannot be removed', async () => {
      const r = await t.services.residents.create(staff, { name: 'Only Email', email: email(), mobile: mobile() });
      const actor = { ...staff, type: 'resident' as const, id: r.id };
      await portal.removeContact(actor, 'mobile', from());
      await rejects(portal.removeContact(actor, 'email', from()), 'PORTAL_CONTACT_NEEDED');
      const after = await t.services.residents.get(r.id);
      assert.deepEqual([after.email, after.mobile], [r.email, null]);
    });
  });

  test('the messaging service and its four templates, with their Welsh, are made once and found after', async () => {
    const first = await portal.sender.setup();
    const again = await new PortalSender(t.services.messaging, { info() {}, warn() {}, error() {} }).setup();
    assert.deepEqual(again, first, 'another process finds the same ones');
    assert.equal((await t.services.messaging.listServices()).filter((s) => s.name === SIGN_IN_SERVICE_NAME).length, 1);
    const templates = await t.services.messaging.listTemplates(first.serviceId);
    assert.equal(templates.length, 4);
    assert.deepEqual(new Set(templates.map((x) => x.id)), new Set(Object.values(first.templates)));
    assert.ok(
      templates.every((x) => x.body_cy),
      'every template has its Welsh',
    );
  });

  test('old requests and expired sessions are purged', async () => {
    const to = email();
    await portal.requestSignIn(to, 'en', null, from());
    await t.services.db.k
      .updateTable('portal_sign_in_requests')
      .set({ created_at: new Date(Date.now() - 25 * 3_600_000) })
      .where('contact', '=', to)
      .execute();
    assert.ok((await portal.purge()) >= 1);
    assert.equal((await t.services.db.k.selectFrom('portal_sign_in_requests').select('id').where('contact', '=', to).execute()).length, 0);
  });
});

/** The HMAC the portal keeps for a session token (the same derivation as the service). */
function hashOf(token: string): string {
  return hashToken(TEST_SECRET, `weft portal session|${token}`);
}
