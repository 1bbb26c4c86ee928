/**
 * A confidential messaging service (residents' sign-in links and codes): staff pages and the
 * Notify API show its messages' recipients and statuses but never their text; a development
 * instance's inbox shows them, so a developer can sign in as a resident in the demo.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { isDevelopmentInstance } from '../../../src/modules/messaging/messaging.pages.js';
import { HIDDEN_TEXT } from '../../../src/modules/messaging/messaging.service.js';
import { signToken, splitApiKey } from '../../../src/modules/messaging/notify.auth.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');
const SECRET = 'Your sign-in code is 482913';

test('only a plain-http instance on this machine counts as a development instance', () => {
  assert.equal(isDevelopmentInstance('http://127.0.0.1:8080'), true);
  assert.equal(isDevelopmentInstance('http://localhost:3000/'), true);
  assert.equal(isDevelopmentInstance('https://localhost'), false);
  assert.equal(isDevelopmentInstance('http://weft.council.example'), false);
  assert.equal(isDevelopmentInstance('not a url'), false);
});

forEachDialect('confidential messaging services', (dialect) => {
  let t: TestApp;
  let admin: Browser;
  let id: string;
  let token: () => string;

  before(async () => {
    t = await testApp(dialect);
    admin = await t.signInAs(['admin']);
    const m = t.services.messaging;
    const { service, templates } = await m.ensureService(system, { name: 'Council sign-in', confidential: true }, [{ name: 'Code', type: 'sms', body: 'Your sign-in code is ((code))' }]);
    assert.equal(service.confidential, true);
    const { secret } = splitApiKey((await m.createKey(system, service.id, { name: 'k', keyType: 'normal' })).apiKey);
    token = () => signToken(service.id, secret);
    const res = await t.app.inject({
      method: 'POST',
      url: '/v2/notifications/sms',
      headers: { authorization: `Bearer ${token()}` },
      payload: { template_id: templates.get('Code')?.id, phone_number: '07700900123', personalisation: { code: '482913' } },
    });
    assert.equal(res.statusCode, 201, res.body);
    id = res.json().id;
    await t.services.delivery.runOnce();
  });

  test('staff pages and the API show who and when, never the secret', async () => {
    for (const url of ['/console/messaging/notifications', `/console/messaging/notifications/${id}`]) {
      const page = await t.app.inject({ url, headers: { cookie: admin.cookie } });
      assert.equal(page.statusCode, 200, url);
      assert.ok(!page.body.includes('482913'), `${url} hides the code`);
    }
    assert.match((await t.app.inject({ url: `/console/messaging/notifications/${id}`, headers: { cookie: admin.cookie } })).body, /sign-in secret, so its text is not shown/);
    const one = await t.app.inject({ url: `/v2/notifications/${id}`, headers: { authorization: `Bearer ${token()}` } });
    assert.equal(one.json().body, HIDDEN_TEXT);
    const list = await t.app.inject({ url: '/v2/notifications', headers: { authorization: `Bearer ${token()}` } });
    assert.ok(!list.body.includes('482913'));
    const stored = await t.services.messaging.notificationById(id);
    assert.equal(stored?.body, SECRET, 'it is stored and sent as it is');
  });

  test('a development instance’s inbox shows the message, so a developer can sign in', async () => {
    const inbox = await t.app.inject({ url: `/console/messaging/inbox/${id}`, headers: { cookie: admin.cookie } });
    assert.equal(inbox.statusCode, 200);
    assert.equal(inbox.body.includes('482913'), isDevelopmentInstance(t.services.config.publicUrl));
  });
});
