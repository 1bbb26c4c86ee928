/**
 * What every provider receipt obeys, whichever provider sent it: statuses only move forward,
 * a final one records completed_at, stops a waiting retry and queues the service's
 * delivery-status callback; a receipt that beats delivery's own record is still matched; and
 * requests to the wrong kind of provider, or about nothing, are refused with their codes.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import type { NotificationsTable } from '../../../src/modules/messaging/messaging.repository.js';
import { signWebhook } from '../../../src/modules/messaging/providers/webhook.js';
import { replyKeyword } from '../../../src/modules/messaging/receipts.service.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { signTwilio } from './peers/twilio.js';

const admin = systemActor('test');
const SECRET = 'supplier-shared-secret';
const AUTH_TOKEN = 'twilio-auth-token';

test('STOP and START are recognised in any case, with trailing punctuation, in English and Welsh; other replies are not keywords', () => {
  assert.deepEqual(replyKeyword(' stop. '), { word: 'STOP', optOut: true });
  assert.deepEqual(replyKeyword('Unsubscribe'), { word: 'UNSUBSCRIBE', optOut: true });
  assert.deepEqual(replyKeyword('Dim'), { word: 'DIM', optOut: true });
  assert.deepEqual(replyKeyword('stopio!'), { word: 'STOPIO', optOut: true });
  assert.deepEqual(replyKeyword('Start'), { word: 'START', optOut: false });
  assert.deepEqual(replyKeyword('dechrau'), { word: 'DECHRAU', optOut: false });
  assert.equal(replyKeyword('Please stop sending these'), undefined);
  assert.equal(replyKeyword(''), undefined);
});

forEachDialect('provider receipts', (dialect) => {
  let t: TestApp;
  let serviceId: string;
  let webhookId: string;
  let twilioId: string;
  let template: Awaited<ReturnType<TestApp['services']['messaging']['createTemplate']>>;

  before(async () => {
    t = await testApp(dialect, { WEFT_PUBLIC_URL: 'https://weft.wealdmoor.example' });
    const m = t.services.messaging;
    serviceId = (await m.createService(admin, { name: 'Parking' })).id;
    await m.setCallback(admin, serviceId, { url: 'https://parking.wealdmoor.example/callbacks', bearerToken: 'parking-callback-token' });
    template = await m.createTemplate(admin, serviceId, { name: 'Permit', type: 'sms', body: 'Your permit is ready.' });
    webhookId = (
      await m.createProvider(admin, { channel: 'sms', kind: 'webhook', name: 'SMS supplier', settings: { url: 'http://127.0.0.1:9/none' }, secrets: { signingSecret: SECRET }, enabled: false })
    ).id;
    twilioId = (
      await m.createProvider(admin, {
        channel: 'voice',
        kind: 'twilio',
        name: 'Twilio',
        settings: { accountSid: 'AC0', statusCallbackUrl: 'https://weft.wealdmoor.example' },
        secrets: { authToken: AUTH_TOKEN },
        enabled: false,
      })
    ).id;
  });

  /** A notification as delivery leaves it after handing it to the supplier. */
  async function handedOver(fields: Partial<NotificationsTable> = {}): Promise<NotificationsTable> {
    const m = t.services.messaging;
    const rendered = m.render(template, {}, 'en', { name: 'Parking' });
    const [row] = await m.queue([{ serviceId, keyId: null, keyType: 'normal', template, recipient: '07700900001', normalisedTo: '447700900001', personalisation: {}, rendered }]);
    const set = { status: 'sending', provider: 'SMS supplier', provider_ref: `ref-${row.id}`, next_attempt_at: null, ...fields };
    await t.services.db.k.updateTable('notifications').set(set).where('id', '=', row.id).execute();
    return { ...row, ...set } as NotificationsTable;
  }
  const row = async (id: string) => (await t.services.messaging.getNotification(serviceId, id))!;
  function receipt(body: Record<string, unknown>, providerId = webhookId, secret = SECRET) {
    const payload = JSON.stringify(body);
    return t.app.inject({
      method: 'POST',
      url: `/api/v1/messaging/providers/${providerId}/webhook/receipts`,
      headers: { 'content-type': 'application/json', 'weft-signature': signWebhook(secret, payload) },
      payload,
    });
  }

  test('statuses only move forward: pending after sending, a final status after either; nothing after a final one', async () => {
    const n = await handedOver();
    assert.equal((await receipt({ reference: n.provider_ref, status: 'pending' })).json().status, 'pending');
    assert.equal((await receipt({ reference: n.provider_ref, status: 'sending' })).json().status, 'pending');
    assert.equal((await receipt({ reference: n.provider_ref, status: 'temporary-failure', reason: 'Phone off' })).json().status, 'temporary-failure');
    const after = await receipt({ reference: n.provider_ref, status: 'delivered' });
    assert.equal(after.statusCode, 200);
    assert.equal(after.json().status, 'temporary-failure');
    const r = await row(n.id);
    assert.equal(r.status_reason, 'SMS supplier: Phone off');
    assert.ok(r.completed_at instanceof Date);
  });

  test('a final receipt queues the service’s delivery-status callback, once', async () => {
    const n = await handedOver();
    await receipt({ reference: n.provider_ref, status: 'delivered' });
    await receipt({ reference: n.provider_ref, status: 'delivered' });
    const jobs = await t.services.db.k.selectFrom('jobs').selectAll().where('name', '=', 'messaging.callback').execute();
    assert.equal(jobs.filter((j) => j.idempotency_key === `callback:${n.id}:delivered`).length, 1);
  });

  test('a receipt for a message waiting to be tried again (the supplier did take it) delivers it and stops the retry', async () => {
    const n = await handedOver({ status: 'created', next_attempt_at: new Date(Date.now() + 60_000), status_reason: 'SMS supplier: timed out' });
    assert.equal((await receipt({ id: n.id, status: 'delivered' })).json().status, 'delivered');
    const r = await row(n.id);
    assert.equal(r.next_attempt_at, null);
    assert.equal(r.status, 'delivered');
  });

  test('a receipt that beats delivery’s own record is matched by Weft’s id and keeps the supplier’s reference', async () => {
    const n = await handedOver({ provider_ref: null });
    assert.equal((await receipt({ id: n.id, reference: 'sup-early', status: 'delivered' })).statusCode, 200);
    const r = await row(n.id);
    assert.equal(r.status, 'delivered');
    assert.equal(r.provider_ref, 'sup-early');
  });

  test('receipts to a provider of another kind, or to no provider, are PROVIDER_NOT_FOUND', async () => {
    const wrongKind = await t.app.inject({
      method: 'POST',
      url: `/api/v1/messaging/providers/${webhookId}/twilio/status`,
      payload: 'MessageSid=SM1&MessageStatus=delivered',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(wrongKind.statusCode, 404);
    assert.equal(wrongKind.json().code, 'PROVIDER_NOT_FOUND');
    assert.match(wrongKind.json().detail, /no Twilio provider/);
    const nobody = await receipt({ id: 'x', status: 'delivered' }, 'not-an-id');
    assert.equal(nobody.statusCode, 404);
    assert.equal(nobody.json().code, 'PROVIDER_NOT_FOUND');
    const notify = await t.app.inject({ method: 'POST', url: `/api/v1/messaging/providers/${twilioId}/notify/callback`, payload: {} });
    assert.equal(notify.json().code, 'PROVIDER_NOT_FOUND');
  });

  test('a Twilio status callback is checked against Weft’s public URL; without MessageStatus it is RECEIPT_INVALID; for an unknown message RECEIPT_NOT_FOUND', async () => {
    const path = `/api/v1/messaging/providers/${twilioId}/twilio/status`;
    const post = (params: Record<string, string>) =>
      t.app.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilio(AUTH_TOKEN, `https://weft.wealdmoor.example${path}`, params) },
        payload: new URLSearchParams(params).toString(),
      });
    const invalid = await post({ MessageSid: 'SM123' });
    assert.equal(invalid.statusCode, 400);
    assert.equal(invalid.json().code, 'RECEIPT_INVALID');
    assert.deepEqual(
      invalid.json().errors.map((e: { field: string }) => e.field),
      ['MessageStatus'],
    );
    const unknown = await post({ MessageSid: 'SM404', MessageStatus: 'delivered' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().code, 'RECEIPT_NOT_FOUND');
    // Statuses of texts received are not receipts: accepted and ignored.
    assert.equal((await post({ MessageSid: 'SM405', MessageStatus: 'received' })).statusCode, 204);
  });

  test('pollReceipts carries on when a Notify relay cannot be reached, and changes nothing', async () => {
    const m = t.services.messaging;
    await m.createProvider(admin, {
      channel: 'email',
      kind: 'notify',
      name: 'Unreachable Notify',
      settings: { baseUrl: 'http://127.0.0.1:9', templateIds: {} },
      secrets: { apiKey: `x-${'0'.repeat(36)}-${'0'.repeat(36)}` },
      enabled: false,
    });
    const n = await handedOver({ provider: 'Unreachable Notify', provider_ref: 'notify-id' });
    assert.equal(await t.services.receipts.pollReceipts(), 0);
    assert.equal((await row(n.id)).status, 'sending');
  });
});
