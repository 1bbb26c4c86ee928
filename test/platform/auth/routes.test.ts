import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import Fastify from 'fastify';
import '../../../src/modules/estate/index.js';
import { permissionNames, requirePermissionOnEveryRoute } from '../../../src/platform/auth/auth.plugin.js';
import { permissionsOf } from '../../../src/platform/auth/roles.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

/** The only routes anyone may call without signing in. Adding to this list is a security decision. */
// The NGSI-LD @context is a vocabulary that JSON-LD processors fetch without credentials; it holds no data.
const ALLOWED_WITHOUT_CREDENTIALS = [
  'GET /',
  'GET /healthz',
  'GET /readyz',
  'GET /api/openapi.json',
  'GET /console/sign-in',
  'POST /console/sign-in',
  'POST /console/sign-out',
  'GET /ngsi-ld/v1/jsonldContexts/weft',
  // Messaging providers' webhooks carry no session or key: each request is authenticated by its
  // signature (X-Twilio-Signature, Weft-Signature) or Notify's callback bearer token, checked
  // against that provider's own secret before anything is read (receipts.service.ts).
  'POST /api/v1/messaging/providers/:id/twilio/status',
  'POST /api/v1/messaging/providers/:id/twilio/inbound',
  'POST /api/v1/messaging/providers/:id/twilio/gather',
  'POST /api/v1/messaging/providers/:id/notify/callback',
  'POST /api/v1/messaging/providers/:id/webhook/receipts',
  // Short links in messages to residents, who have no account: the random code (12 base62
  // characters) is the only key, and following one records a count a day, nothing about who.
  // /return is where GOV.UK Pay sends the resident back to; it only says whether they paid.
  'GET /l/:code',
  'GET /l/:code/return',
  // GOV.UK Pay's webhook: each message is authenticated by its Pay-Signature (HMAC of the body
  // under the service's webhook signing secret), checked before anything is read (payments.ts).
  'POST /api/v1/messaging/services/:id/pay/webhook',
  // Open311 GeoReport v2: the spec's reads need no key and show only public fields (never a
  // reporter); its two writes check the api_key form field (or a bearer) for open311:submit
  // themselves, since a form field cannot be read before the body is (requests/open311.routes.ts).
  ...['discovery', 'services', 'services/:code', 'requests', 'requests/:id', 'tokens/:token', 'servicerequestupdates'].map((p) => `GET /open311/v2/${p}.:format`),
  'POST /open311/v2/requests.:format',
  'POST /open311/v2/servicerequestupdates.:format',
  // Photos sent with residents' reports: the request's media_url, which Open311 shows to anyone,
  // points here. The address is a UUID v7 (74 random bits); the photo is as public as the report.
  'GET /request-photos/:name',
  // The residents' portal: signing in or up is for people without a session yet. A link's token
  // (256 bits) or a code (5 tries, tied by cookie to the browser that asked) is the only key; the
  // new-account page needs the cookie of someone who has just proved their email or mobile.
  // Confirming a new email address needs only the link sent to it (256 bits, once, 20 minutes).
  'GET /sign-in',
  'POST /sign-in',
  'GET /sign-in/check-email',
  'GET /sign-in/link/:token',
  'POST /sign-in/link/:token',
  'GET /sign-in/code',
  'POST /sign-in/code',
  'GET /sign-in/new',
  'POST /sign-in/new',
  'POST /sign-out',
  'GET /account/email/confirm/:token',
  'POST /account/email/confirm/:token',
];
const THIRD_PARTY_PUBLIC_PREFIXES = ['/assets/', '/api/docs'];

function concrete(url: string): string {
  return url.replace(/:(\w+)/g, '01900000-0000-7000-8000-000000000000').replace(/\*$/, 'x');
}

test('a route may name a list of permissions, meaning any of them; every name must be known and the list not empty', async () => {
  const app = Fastify();
  requirePermissionOnEveryRoute(app);
  app.get('/one', { config: { permission: 'estate:read' } }, async () => 'ok');
  app.get('/any', { config: { permission: ['estate:manage', 'homes:manage'] } }, async () => 'ok');
  assert.throws(() => app.get('/typo', { config: { permission: ['estate:manage', 'homes:mange'] } }, async () => 'no'), /names unknown permission homes:mange/);
  assert.throws(() => app.get('/none', { config: { permission: [] } }, async () => 'no'), /must declare config.permission/);
  await app.ready();
  const listed = (url: string) => permissionNames(app.weftRoutes.find((r) => r.url === url && r.method === 'GET')?.permission);
  assert.deepEqual(listed('/one'), ['estate:read']);
  assert.deepEqual(listed('/any'), ['estate:manage', 'homes:manage']);
  await app.close();
});

/** /v2/ authenticates as GOV.UK Notify does and refuses in Notify's words. */
function assertNotifyRefusal(res: { statusCode: number; json: () => any }, r: { method: string; url: string }) {
  assert.equal(res.statusCode, 401, `${r.method} ${r.url} should answer 401, got ${res.statusCode}`);
  assert.deepEqual(res.json(), { status_code: 401, errors: [{ error: 'AuthError', message: 'Unauthorized: authentication token must be provided' }] });
}

forEachDialect('every route is authorised', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await testApp(dialect);
  });

  test('the only public routes are the explicit allow-list', () => {
    const routes = t.app.weftRoutes.filter((r) => r.method !== 'HEAD');
    const publicOnes = routes.filter((r) => r.public && !THIRD_PARTY_PUBLIC_PREFIXES.some((p) => r.url.startsWith(p))).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(publicOnes.sort(), [...ALLOWED_WITHOUT_CREDENTIALS].sort());
    assert.ok(routes.length > 20, 'routes were enumerated');
  });

  test('without credentials every other route is refused: 401 for APIs, a redirect to sign in for pages', async () => {
    let checked = 0;
    for (const r of t.app.weftRoutes) {
      if (r.public || r.method === 'HEAD') continue;
      const res = await t.app.inject({ method: r.method as 'GET', url: concrete(r.url), payload: r.method === 'GET' ? undefined : {} });
      if (r.page) {
        assert.equal(res.statusCode, 303, `${r.method} ${r.url} should redirect`);
        assert.match(String(res.headers.location), /^\/console\/sign-in|^\/sign-in/, `${r.method} ${r.url} should redirect to sign in`);
      } else if (r.url.startsWith('/v2/')) {
        assertNotifyRefusal(res, r);
      } else {
        assert.equal(res.statusCode, 401, `${r.method} ${r.url} should answer 401, got ${res.statusCode}`);
        assert.equal(res.json().code, 'AUTH_REQUIRED');
        assert.match(String(res.headers['content-type']), /application\/problem\+json/);
      }
      checked++;
    }
    assert.ok(checked > 15);
  });

  test('a signed-in person without the permission gets 403 on every route that needs one they lack, and each refusal is audited', async () => {
    const viewer = await t.signInAs(['viewer']);
    const held = permissionsOf(['viewer']);
    let refused = 0;
    for (const r of t.app.weftRoutes) {
      // A viewer holds some permissions (console:access, estate:read, …): those routes are not refusals to test here.
      // A list of permissions means "any of these": skip the route when the viewer holds any one.
      if (r.public || r.method === 'HEAD' || permissionNames(r.permission).some((p) => held.has(p))) continue;
      const res = await t.app.inject({
        method: r.method as 'GET',
        url: concrete(r.url),
        headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf },
        payload: r.method === 'GET' ? undefined : {},
      });
      // The Notify-compatible API knows no sessions: a staff cookie is no credential there.
      if (r.url.startsWith('/v2/')) {
        assertNotifyRefusal(res, r);
        continue;
      }
      // Nor is it on the residents' portal, which knows only a resident's session: sign in as a resident.
      if (r.page === 'portal') {
        assert.equal(res.statusCode, 303, `${r.method} ${r.url} should redirect to the residents' sign-in`);
        assert.match(String(res.headers.location), /^\/sign-in/);
        continue;
      }
      assert.equal(res.statusCode, 403, `${r.method} ${r.url} should answer 403, got ${res.statusCode}`);
      if (!r.page) assert.equal(res.json().code, 'FORBIDDEN');
      refused++;
    }
    const audit = await t.services.audit.search({ actorId: viewer.userId, outcome: 'denied', limit: 500 });
    assert.equal(audit.length, refused);
    assert.ok(audit.every((e) => e.action === 'auth.forbidden' && e.ip));
  });

  test('an unknown, malformed or revoked key is refused with AUTH_INVALID', async () => {
    const key = await t.key(['audit:read']);
    const ok = await t.app.inject({ url: '/api/v1/audit', headers: { authorization: `Bearer ${key}` } });
    assert.equal(ok.statusCode, 200);
    for (const bad of [`${key.slice(0, -2)}xx`, 'weft_live_nonsense', key.replace('weft_live_', 'weft_test_')]) {
      const res = await t.app.inject({ url: '/api/v1/audit', headers: { authorization: `Bearer ${bad}` } });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().code, 'AUTH_INVALID');
    }
  });

  test('an expired or unknown session cookie gets 401 on APIs and a sign-in redirect on pages', async () => {
    const api = await t.app.inject({ url: '/api/v1/audit', headers: { cookie: 'weft_session=not-a-session' } });
    assert.equal(api.statusCode, 401);
    assert.equal(api.json().code, 'AUTH_INVALID');
    const page = await t.app.inject({ url: '/console/audit', headers: { cookie: 'weft_session=not-a-session' } });
    assert.equal(page.statusCode, 303);
  });
});
