import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { cookieHeader, csrfFrom, PASSWORD, signIn, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

forEachDialect('staff sign-in, sessions and passwords', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await testApp(dialect, { WEFT_SIGN_IN_ATTEMPTS: '3' });
  });

  async function attempt(email: string, password: string) {
    const form = await t.app.inject({ url: '/console/sign-in' });
    return t.app.inject({ method: 'POST', url: '/console/sign-in', headers: { cookie: cookieHeader(form.headers['set-cookie']) }, payload: { email, password, _csrf: csrfFrom(form.body) } });
  }

  test('a session cookie is HttpOnly and SameSite, and signing out ends the session', async () => {
    const person = await t.signInAs(['officer']);
    assert.match(person.cookie, /weft_session=/);
    const raw = await attempt(person.email, PASSWORD);
    const setCookie = [raw.headers['set-cookie']].flat().find((c) => String(c).startsWith('weft_session='));
    assert.match(String(setCookie), /HttpOnly/);
    assert.match(String(setCookie), /SameSite=Lax/);
    const out = await t.app.inject({ method: 'POST', url: '/console/sign-out', headers: { cookie: person.cookie }, payload: { _csrf: person.csrf } });
    assert.equal(out.statusCode, 303);
    const after = await t.app.inject({ url: '/console', headers: { cookie: person.cookie } });
    assert.equal(after.statusCode, 303);
  });

  test('a wrong password is refused and audited; after too many failures even the right one is throttled', async () => {
    const person = await t.signInAs(['viewer']);
    for (let i = 0; i < 3; i++) {
      const res = await attempt(person.email, 'wrong-password-entirely');
      assert.equal(res.statusCode, 401);
      assert.match(res.body, /Enter a correct email address and password/);
    }
    const throttled = await attempt(person.email, PASSWORD);
    assert.equal(throttled.statusCode, 429);
    assert.match(throttled.body, /Too many failed attempts/);
    const rows = await t.services.audit.search({ action: 'auth.sign_in', q: person.email, limit: 20 });
    assert.equal(rows.filter((r) => r.outcome === 'failed').length, 3);
    assert.equal(rows.filter((r) => r.outcome === 'denied').length, 1);
  });

  test('the service refuses with stable codes', async () => {
    const person = await t.signInAs(['viewer']);
    const origin = { ip: '10.0.0.9' };
    await assert.rejects(t.services.auth.signIn(person.email, 'nope-nope-nope', origin), { code: 'SIGN_IN_FAILED' });
    await assert.rejects(t.services.auth.signIn(person.email, 'nope-nope-nope', origin), { code: 'SIGN_IN_FAILED' });
    await assert.rejects(t.services.auth.signIn(person.email, 'nope-nope-nope', origin), { code: 'SIGN_IN_FAILED' });
    await assert.rejects(t.services.auth.signIn(person.email, PASSWORD, origin), { code: 'SIGN_IN_THROTTLED' });
    const actor = await t.services.auth.actorForSession(person.cookie.match(/weft_session=([^;]+)/)?.[1] ?? '');
    assert.ok(actor);
    await assert.rejects(t.services.auth.changePassword(actor, 'wrong-current-pass', 'a-fine-new-passphrase', origin), { code: 'PASSWORD_INCORRECT' });
    await assert.rejects(t.services.auth.changePassword(actor, PASSWORD, 'aaaaaaaaaaaaaa', origin), { code: 'PASSWORD_TOO_WEAK' });
  });

  test('sign-in errors on an empty form name each field; unknown accounts look the same as wrong passwords', async () => {
    const empty = await attempt('', '');
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /href="#email"/);
    assert.match(empty.body, /href="#password"/);
    const unknown = await attempt('nobody@test.example', 'whatever-password');
    assert.equal(unknown.statusCode, 401);
    assert.match(unknown.body, /Enter a correct email address and password/);
  });

  test('after sign-in, only same-site destinations are followed', async () => {
    const person = await t.signInAs(['officer']);
    const form = await t.app.inject({ url: '/console/sign-in?next=//evil.example/x' });
    assert.doesNotMatch(form.body, /evil\.example/);
    const res = await t.app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: { cookie: cookieHeader(form.headers['set-cookie']) },
      payload: { email: person.email, password: PASSWORD, next: 'https://evil.example/', _csrf: csrfFrom(form.body) },
    });
    assert.equal(res.headers.location, '/console');
  });

  test('changing the password checks the current one, refuses weak ones, and signs out other sessions', async () => {
    const first = await t.signInAs(['comms']);
    const second = await signIn(t.app, first.email, PASSWORD);
    const change = (current: string, password: string, confirm = password) =>
      t.app.inject({ method: 'POST', url: '/console/account/password', headers: { cookie: first.cookie }, payload: { current, password, confirm, _csrf: first.csrf } });
    const wrong = await change('not-my-password', 'a-brand-new-passphrase');
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /current password is not correct/);
    const weak = await change(PASSWORD, 'short');
    assert.match(weak.body, /at least 12 characters/);
    const mismatch = await change(PASSWORD, 'a-brand-new-passphrase', 'something-else-entirely');
    assert.match(mismatch.body, /do not match/);
    const ok = await change(PASSWORD, 'a-brand-new-passphrase');
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /Your password has been changed/);
    assert.equal((await t.app.inject({ url: '/console', headers: { cookie: first.cookie } })).statusCode, 200);
    assert.equal((await t.app.inject({ url: '/console', headers: { cookie: second.cookie } })).statusCode, 303);
    await signIn(t.app, first.email, 'a-brand-new-passphrase');
  });

  test('an expired session is refused', async () => {
    const person = await t.signInAs(['care']);
    await t.services.db.k
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', person.userId)
      .execute();
    const page = await t.app.inject({ url: '/console', headers: { cookie: person.cookie } });
    assert.equal(page.statusCode, 303);
    const api = await t.app.inject({ url: '/api/v1/audit', headers: { cookie: person.cookie } });
    assert.equal(api.json().code, 'AUTH_INVALID');
    assert.equal((await t.services.auth.purgeExpiredSessions()) >= 1, true);
  });

  test('pages carry a strict content security policy and other security headers', async () => {
    const res = await t.app.inject({ url: '/console/sign-in' });
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.doesNotMatch(res.body, /<script>(?!<\/script>)|<script(?![^>]*\bsrc=)[^>]*>/, 'no inline scripts');
  });
});
