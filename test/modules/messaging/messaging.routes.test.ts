/**
 * Weft's own messaging API (/api/v1/messaging): services, keys shown once, callbacks, templates
 * with versions and previews, providers; who may do what; every write audited.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

forEachDialect('messaging API', (dialect) => {
  let t: TestApp;
  let admin: string;
  let writer: string;
  let reader: string;
  const call = (key: string, method: string, url: string, payload?: unknown) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}` }, payload: payload as object });

  before(async () => {
    t = await testApp(dialect);
    admin = await t.key(['messaging:manage', 'messages:read', 'templates:manage']);
    writer = await t.key(['templates:manage', 'messages:read']);
    reader = await t.key(['messages:read']);
  });

  test('services, keys (the whole key once, never again), callbacks and providers need messaging:manage', async () => {
    const created = await call(admin, 'POST', '/api/v1/messaging/services', { name: 'Schools', smsSender: 'WEALDMOOR', teamMembers: ['head@school.example'] });
    assert.equal(created.statusCode, 201, created.body);
    const service = created.json();
    assert.equal((await call(admin, 'POST', '/api/v1/messaging/services', { name: 'Schools' })).json().code, 'MESSAGE_SERVICE_NAME_TAKEN');
    assert.equal((await call(writer, 'POST', '/api/v1/messaging/services', { name: 'Other' })).statusCode, 403);
    assert.equal((await call(reader, 'GET', '/api/v1/messaging/services/01900000-0000-7000-8000-000000000000')).json().code, 'MESSAGE_SERVICE_NOT_FOUND');

    const key = await call(admin, 'POST', `/api/v1/messaging/services/${service.id}/keys`, { name: 'school system', keyType: 'normal' });
    assert.equal(key.statusCode, 201);
    assert.equal(key.headers['cache-control'], 'no-store');
    assert.match(key.json().apiKey, new RegExp(`^school_system-${service.id}-[0-9a-f-]{36}$`));
    const listed = (await call(admin, 'GET', `/api/v1/messaging/services/${service.id}/keys`)).json().keys;
    assert.equal(listed.length, 1);
    assert.ok(!JSON.stringify(listed).includes(key.json().apiKey.slice(-36)), 'the secret is never listed');
    const stored = await t.services.db.k.selectFrom('message_keys').select('secret_sealed').executeTakeFirstOrThrow();
    assert.ok(!stored.secret_sealed.includes(key.json().apiKey.slice(-36)), 'the secret is sealed at rest');
    assert.equal((await call(admin, 'DELETE', `/api/v1/messaging/services/${service.id}/keys/${key.json().id}`)).statusCode, 204);
    assert.equal((await call(admin, 'DELETE', `/api/v1/messaging/services/${service.id}/keys/${key.json().id}`)).json().code, 'MESSAGE_KEY_NOT_FOUND');

    const cb = await call(admin, 'PUT', `/api/v1/messaging/services/${service.id}/callback`, { url: 'https://school.example/notify', bearerToken: 'a-long-secret-token' });
    assert.equal(cb.json().callbackUrl, 'https://school.example/notify');
    assert.ok(!cb.body.includes('a-long-secret-token'));

    const provider = await call(admin, 'POST', '/api/v1/messaging/providers', {
      channel: 'email',
      kind: 'smtp',
      name: 'Council relay',
      settings: { host: '127.0.0.1', port: 2525 },
      secrets: { password: 'relay-password' },
    });
    assert.equal(provider.statusCode, 201, provider.body);
    assert.equal(provider.json().hasSecrets, true);
    assert.ok(!provider.body.includes('relay-password'));
    assert.equal((await call(admin, 'POST', `/api/v1/messaging/providers/${provider.json().id}/disable`)).statusCode, 204);
    const providers = (await call(admin, 'GET', '/api/v1/messaging/providers')).json().providers;
    assert.equal(providers[0].enabled, false);
    assert.equal((await call(admin, 'POST', '/api/v1/messaging/providers/01900000-0000-7000-8000-000000000000/enable')).json().code, 'PROVIDER_NOT_FOUND');
    const twice = await call(admin, 'POST', '/api/v1/messaging/providers', { channel: 'email', kind: 'smtp', name: 'Council relay', settings: { host: '127.0.0.1', port: 2525 } });
    assert.equal(twice.json().code, 'PROVIDER_NAME_TAKEN');
    assert.equal((await call(admin, 'POST', '/api/v1/messaging/providers', { channel: 'sms', kind: 'webhook', name: 'Inbox', settings: {} })).json().code, 'PROVIDER_NAME_TAKEN');
    assert.equal((await call(admin, 'DELETE', `/api/v1/messaging/providers/${provider.json().id}`)).statusCode, 204);
    assert.equal((await call(admin, 'GET', '/api/v1/messaging/providers')).json().providers.length, 0);

    const audit = await t.services.db.k.selectFrom('audit_events').select('action').where('action', 'like', 'messaging.%').execute();
    for (const action of [
      'messaging.service_create',
      'messaging.key_create',
      'messaging.key_revoke',
      'messaging.callback_set',
      'messaging.provider_create',
      'messaging.provider_update',
      'messaging.provider_delete',
    ])
      assert.ok(
        audit.some((a) => a.action === action),
        action,
      );
  });

  test('templates: created and versioned with templates:manage, read and previewed with messages:read', async () => {
    const service = (await call(admin, 'POST', '/api/v1/messaging/services', { name: 'Libraries' })).json();
    const bad = await call(writer, 'POST', `/api/v1/messaging/services/${service.id}/templates`, { name: 'x', type: 'email', body: 'no subject' });
    assert.deepEqual([bad.statusCode, bad.json().code, bad.json().errors[0].field], [400, 'TEMPLATE_INVALID', 'subject']);
    const created = await call(writer, 'POST', `/api/v1/messaging/services/${service.id}/templates`, {
      name: 'Book ready',
      type: 'sms',
      body: 'Your book ((title)) is ready.',
      bodyCy: 'Mae eich llyfr ((title)) yn barod.',
    });
    assert.equal(created.statusCode, 201, created.body);
    const tpl = created.json();
    assert.deepEqual(tpl.placeholders, ['title']);
    assert.equal((await call(reader, 'POST', `/api/v1/messaging/services/${service.id}/templates`, { name: 'x', type: 'sms', body: 'x' })).statusCode, 403);
    const v2 = await call(writer, 'PUT', `/api/v1/messaging/templates/${tpl.id}`, { name: 'Book ready', type: 'sms', body: 'Your book ((title)) is waiting.' });
    assert.equal(v2.json().version, 2);
    assert.equal((await call(writer, 'PUT', `/api/v1/messaging/templates/${tpl.id}`, { name: 'Book ready', type: 'email', subject: 's', body: 'b' })).json().code, 'TEMPLATE_INVALID');
    const versions = (await call(reader, 'GET', `/api/v1/messaging/templates/${tpl.id}/versions`)).json().versions;
    assert.deepEqual(
      versions.map((v: { version: number }) => v.version),
      [2, 1],
    );
    const preview = (await call(reader, 'POST', `/api/v1/messaging/templates/${tpl.id}/preview`, { personalisation: { title: 'Emma' } })).json();
    assert.deepEqual([preview.body, preview.billableUnits, preview.missing], ['Your book Emma is waiting.', 1, []]);
    const missing = (await call(reader, 'POST', `/api/v1/messaging/templates/${tpl.id}/preview`, {})).json();
    assert.deepEqual(missing.missing, ['title']);
    assert.equal((await call(reader, 'GET', '/api/v1/messaging/templates/01900000-0000-7000-8000-000000000000')).json().code, 'TEMPLATE_NOT_FOUND');
  });
});
