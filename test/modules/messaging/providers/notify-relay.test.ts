/**
 * The GOV.UK Notify relay against a second Weft acting as Notify: Weft's /v2 API is a real
 * implementation of Notify's (the official node client passes against it), so the relay's
 * requests, JWTs, errors, lookups, polled statuses and delivery-status callbacks are Notify's.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import { systemActor } from '../../../../src/platform/auth/actor.js';
import { signToken, splitApiKey } from '../../../../src/modules/messaging/notify.auth.js';
import { notifyRelayProvider } from '../../../../src/modules/messaging/providers/index.js';
import { fromNotifyStatus } from '../../../../src/modules/messaging/providers/notify-relay.js';
import { type TestApp, testApp } from '../../../app-helpers.js';
import { forEachDialect } from '../../../helpers.js';

const admin = systemActor('test');
const CALLBACK_TOKEN = 'relay-callback-token-123';

test('Notify’s statuses are stored as Weft’s, letters as accepted and received', () => {
  assert.equal(fromNotifyStatus('created', 'sms'), 'sending');
  assert.equal(fromNotifyStatus('pending', 'sms'), 'pending');
  assert.equal(fromNotifyStatus('delivered', 'email'), 'delivered');
  assert.equal(fromNotifyStatus('accepted', 'letter'), 'accepted');
  assert.equal(fromNotifyStatus('received', 'letter'), 'received');
  assert.equal(fromNotifyStatus('validation-failed', 'letter'), 'permanent-failure');
  assert.equal(fromNotifyStatus('temporary-failure', 'sms'), 'temporary-failure');
  assert.equal(fromNotifyStatus('lost', 'sms'), undefined);
});

forEachDialect('the GOV.UK Notify relay', (dialect) => {
  let weft: TestApp;
  let notify: TestApp;
  let base: string;
  let notifyUrl: string;
  let serviceId: string;
  let notifyServiceId: string;
  let notifyKey: string;
  let token: () => string;
  let notifyToken: () => string;
  const ids: Record<string, string> = {};
  let templateIds: Record<string, string>;

  before(async () => {
    notify = await testApp(dialect);
    await notify.app.listen({ port: 0, host: '127.0.0.1' });
    notifyUrl = `http://127.0.0.1:${(notify.app.server.address() as AddressInfo).port}`;
    weft = await testApp(dialect);
    await weft.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(weft.app.server.address() as AddressInfo).port}`;

    // "Notify": a service with a live key and one ((body)) template a channel.
    const n = notify.services.messaging;
    notifyServiceId = (await n.createService(admin, { name: 'Wealdmoor on Notify', smsSender: 'WEALDMOOR', emailFrom: 'council@notify.example' })).id;
    notifyKey = (await n.createKey(admin, notifyServiceId, { name: 'weft relay', keyType: 'normal' })).apiKey;
    notifyToken = () => signToken(notifyServiceId, splitApiKey(notifyKey).secret);
    templateIds = {
      email: (await n.createTemplate(admin, notifyServiceId, { name: 'Relay email', type: 'email', subject: '((subject))', body: '((body))' })).id,
      sms: (await n.createTemplate(admin, notifyServiceId, { name: 'Relay text', type: 'sms', body: '((body))' })).id,
      letter: (await n.createTemplate(admin, notifyServiceId, { name: 'Relay letter', type: 'letter', subject: '((subject))', body: '((body))' })).id,
    };

    // Weft: a service sending through Notify, one relay provider a channel.
    const m = weft.services.messaging;
    serviceId = (await m.createService(admin, { name: 'Council tax', smsSender: 'COUNCILTAX', emailFrom: 'counciltax@wealdmoor.example' })).id;
    const { secret } = splitApiKey((await m.createKey(admin, serviceId, { name: 'live', keyType: 'normal' })).apiKey);
    token = () => signToken(serviceId, secret);
    ids.email = (await m.createTemplate(admin, serviceId, { name: 'Bill', type: 'email', subject: 'Your bill for ((year))', body: 'Dear ((name)),\n\nYour bill is ready.' })).id;
    ids.sms = (await m.createTemplate(admin, serviceId, { name: 'Reminder', type: 'sms', body: 'Your council tax of ((amount)) is due on ((date)).' })).id;
    ids.letter = (await m.createTemplate(admin, serviceId, { name: 'Final notice', type: 'letter', subject: 'Final notice', body: 'Dear ((name)),\n\nPlease pay.' })).id;
    for (const channel of ['email', 'sms', 'letter'] as const) {
      ids[`${channel}Provider`] = (
        await m.createProvider(admin, {
          channel,
          kind: 'notify',
          name: `Notify (${channel})`,
          priority: 2,
          settings: { baseUrl: notifyUrl, templateIds },
          secrets: { apiKey: notifyKey, callbackToken: CALLBACK_TOKEN },
        })
      ).id;
    }
    // Notify's one callback URL for the service: any relay provider's id will do.
    await n.setCallback(admin, notifyServiceId, { url: `${base}/api/v1/messaging/providers/${ids.smsProvider}/notify/callback`, bearerToken: CALLBACK_TOKEN });
  });

  async function send(channel: 'email' | 'sms' | 'letter', fields: Record<string, unknown>): Promise<string> {
    const res = await weft.app.inject({ method: 'POST', url: `/v2/notifications/${channel}`, headers: { authorization: `Bearer ${token()}` }, payload: { template_id: ids[channel], ...fields } });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id;
  }
  const deliver = async () => {
    while ((await weft.services.delivery.runOnce()) > 0);
  };
  const row = async (id: string) => (await weft.services.messaging.getNotification(serviceId, id))!;
  /** What "Notify" holds with this reference. */
  async function atNotify(reference: string) {
    const res = await notify.app.inject({ url: `/v2/notifications?reference=${reference}`, headers: { authorization: `Bearer ${notifyToken()}` } });
    return res.json().notifications as Record<string, any>[];
  }

  test('email, a text and a letter go to Notify through its ((body)) templates, with Weft’s id as the reference; Notify’s id is kept', async () => {
    const email = await send('email', { email_address: 'payer@example.com', personalisation: { name: 'Ali', year: '2026' } });
    const sms = await send('sms', { phone_number: '07700 900321', personalisation: { amount: '£120', date: '1 March' } });
    const letter = await send('letter', { personalisation: { address_line_1: 'A Payer', address_line_2: '1 High Street', address_line_3: 'Wealdmoor', postcode: 'SW1A 1AA', name: 'A Payer' } });
    await deliver();

    const [e] = await atNotify(email);
    assert.equal(e.type, 'email');
    assert.equal(e.email_address, 'payer@example.com');
    assert.equal(e.subject, 'Your bill for 2026');
    assert.match(e.body, /Dear Ali,[\s\S]*Your bill is ready\./);
    const [s] = await atNotify(sms);
    assert.equal(s.phone_number, '+447700900321');
    assert.equal(s.body, 'Your council tax of £120 is due on 1 March.');
    const [l] = await atNotify(letter);
    assert.equal(l.type, 'letter');
    assert.equal(l.line_1, 'A Payer');
    assert.equal(l.subject, 'Final notice');

    for (const [id, at, status] of [
      [email, e, 'sending'],
      [sms, s, 'sending'],
      [letter, l, 'accepted'],
    ] as const) {
      const r = await row(id);
      assert.equal(r.status, status);
      assert.equal(r.provider_ref, at.id);
      assert.match(String(r.provider), /^Notify \(/);
    }
    ids.polledEmail = email;
    ids.polledLetter = letter;
  });

  test('pollReceipts asks Notify for each waiting notification: nothing changes until Notify has delivered them', async () => {
    assert.equal(await weft.services.receipts.pollReceipts(), 0);
    assert.equal((await row(ids.polledEmail)).status, 'sending');
    while ((await notify.services.delivery.runOnce()) > 0);
    assert.ok((await weft.services.receipts.pollReceipts()) >= 2);
    const e = await row(ids.polledEmail);
    assert.equal(e.status, 'delivered');
    assert.ok(e.completed_at instanceof Date);
    assert.equal((await row(ids.polledLetter)).status, 'received');
    assert.equal(await weft.services.receipts.pollReceipts(), 0, 'nothing is left waiting');
  });

  test('Notify’s delivery-status callback, with its bearer token, delivers the notification', async () => {
    const id = await send('sms', { phone_number: '07700 900322', personalisation: { amount: '£80', date: '2 March' } });
    await deliver();
    while ((await notify.services.delivery.runOnce()) > 0);
    // Notify's callback job: a POST of its callback body with the service's bearer token.
    let ran = 0;
    for (let i = 0; i < 5 && (await row(id)).status !== 'delivered'; i++) ran += await notify.services.jobs.runOnce();
    assert.ok(ran >= 1, 'Notify sent a callback');
    const r = await row(id);
    assert.equal(r.status, 'delivered');
    assert.ok(r.completed_at instanceof Date);
  });

  test('a callback without the bearer token, or with another, is refused with PROVIDER_CALLBACK_TOKEN_INVALID and changes nothing', async () => {
    const id = await send('email', { email_address: 'payer2@example.com', personalisation: { name: 'Bo', year: '2026' } });
    await deliver();
    const [at] = await atNotify(id);
    const body = {
      id: at.id,
      reference: id,
      to: 'payer2@example.com',
      status: 'delivered',
      created_at: at.created_at,
      completed_at: at.created_at,
      sent_at: at.created_at,
      notification_type: 'email',
      template_id: at.template.id,
      template_version: 1,
    };
    const url = `${base}/api/v1/messaging/providers/${ids.emailProvider}/notify/callback`;
    for (const authorization of [undefined, 'Bearer not-the-token-at-all']) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify(body) });
      assert.equal(res.status, 401);
      assert.equal((await res.json()).code, 'PROVIDER_CALLBACK_TOKEN_INVALID');
    }
    assert.equal((await row(id)).status, 'sending');
    const bad = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CALLBACK_TOKEN}` },
      body: JSON.stringify({ ...body, status: 'lost-in-post' }),
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).code, 'RECEIPT_INVALID');
    const ok = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${CALLBACK_TOKEN}` },
      body: JSON.stringify({ ...body, status: 'permanent-failure' }),
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { id, status: 'permanent-failure' });
  });

  test('an address Notify refuses (ValidationError) is a permanent failure; a missing template or a bad key goes to the next provider', async () => {
    const m = weft.services.messaging;
    const template = await m.getTemplate(ids.email);
    const rendered = m.render(template, { name: 'X', year: '2026' }, 'en', { name: 'Council tax' });
    const [bad] = await m.queue([
      { serviceId, keyId: null, keyType: 'normal', template, recipient: 'not an address', normalisedTo: 'not an address', personalisation: { name: 'X', year: '2026' }, rendered },
    ]);
    await deliver();
    const b = await row(bad.id);
    assert.equal(b.status, 'permanent-failure');
    assert.match(String(b.status_reason), /Notify answered 400 ValidationError: email_address Not a valid email address/);

    const broken = [
      (
        await m.createProvider(admin, {
          channel: 'sms',
          kind: 'notify',
          name: 'No template',
          priority: 1,
          settings: { baseUrl: notifyUrl, templateIds: { sms: '00000000-0000-4000-8000-000000000001' } },
          secrets: { apiKey: notifyKey },
        })
      ).id,
      (
        await m.createProvider(admin, {
          channel: 'sms',
          kind: 'notify',
          name: 'Bad key',
          priority: 1,
          settings: { baseUrl: notifyUrl, templateIds },
          secrets: { apiKey: `${notifyKey.slice(0, -4)}0000` },
        })
      ).id,
    ];
    try {
      const id = await send('sms', { phone_number: '07700 900323', personalisation: { amount: '£1', date: 'today' } });
      await deliver();
      const r = await row(id);
      assert.equal(r.provider, 'Notify (sms)');
      assert.equal(r.status, 'sending');
      assert.equal((await atNotify(id)).length, 1);
      const health = [...weft.services.delivery.health.values()];
      assert.match(String(health.find((h) => h.name === 'No template')?.lastError), /BadRequestError: Template not found/);
      assert.match(String(health.find((h) => h.name === 'Bad key')?.lastError), /403 AuthError: Invalid token/);
    } finally {
      for (const id of broken) await m.setProviderEnabled(admin, id, false);
    }
  });

  test('a send left in doubt by a crash is found at Notify by its reference, and not sent again', async () => {
    const id = await send('sms', { phone_number: '07700 900324', personalisation: { amount: '£9', date: 'Friday' } });
    // The worker reached Notify, then died before it recorded the answer.
    const providerRow = (await weft.services.messaging.repo.listProviders()).find((p) => p.id === ids.smsProvider)!;
    const relay = notifyRelayProvider(providerRow, { apiKey: notifyKey });
    const took = await relay.send({ id, channel: 'sms', to: '447700900324', from: 'COUNCILTAX', text: 'Your council tax of £9 is due on Friday.' });
    await weft.services.db.k
      .updateTable('notifications')
      .set({ status: 'sending', provider: 'Notify (sms)', attempts: 1, locked_by: 'dead-worker', locked_until: new Date(Date.now() - 1000) })
      .where('id', '=', id)
      .execute();
    await deliver();
    const r = await row(id);
    assert.equal(r.status, 'sending');
    assert.equal(r.provider_ref, took.reference);
    assert.equal((await atNotify(id)).length, 1, 'Notify has it once');
  });
});
