/**
 * The generic signed webhook provider against a supplier written from README-providers.md
 * (peers/webhook.ts): signed JSON with an idempotency key, errors classified for failover,
 * lookup after a lost answer, and signed receipts both ways.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { systemActor } from '../../../../src/platform/auth/actor.js';
import { checkWebhookSignature, signWebhook } from '../../../../src/modules/messaging/providers/webhook.js';
import type { TestApp } from '../../../app-helpers.js';
import { forEachDialect } from '../../../helpers.js';
import { sendingService } from '../sending-service.js';
import { type WebhookSupplier, webhookSupplier } from '../peers/webhook.js';

const admin = systemActor('test');

test('Weft-Signature is t=<unix>,v1=<hex HMAC-SHA256 of "t.body">, checked within five minutes, any v1 matching', () => {
  const header = signWebhook('s3cret', '{"a":1}', 1_700_000_000);
  assert.equal(header, `t=1700000000,v1=${createHmac('sha256', 's3cret').update('1700000000.{"a":1}').digest('hex')}`);
  assert.deepEqual(checkWebhookSignature('s3cret', header, '{"a":1}', 1_700_000_100), { ok: true });
  assert.deepEqual(checkWebhookSignature('s3cret', `t=1700000000,v1=00,${header.split(',')[1]}`, '{"a":1}', 1_700_000_000), { ok: true });
  assert.equal(checkWebhookSignature('s3cret', header, '{"a":2}', 1_700_000_000).ok, false);
  assert.equal(checkWebhookSignature('other', header, '{"a":1}', 1_700_000_000).ok, false);
  assert.match((checkWebhookSignature('s3cret', header, '{"a":1}', 1_700_000_301) as { problem: string }).problem, /more than 300 seconds/);
  assert.match((checkWebhookSignature('s3cret', undefined, '{}') as { problem: string }).problem, /missing/);
  assert.match((checkWebhookSignature('s3cret', 'v1=abc', '{}') as { problem: string }).problem, /t=<unix time>/);
});

forEachDialect('the signed webhook provider', (dialect) => {
  let t: TestApp;
  let base: string;
  let first: WebhookSupplier;
  let second: WebhookSupplier;
  let serviceId: string;
  let token: () => string;
  const ids: Record<string, string> = {};

  before(async () => {
    ({ t, base, serviceId, token } = await sendingService(dialect, { name: 'Libraries', emailFrom: 'libraries@wealdmoor.example' }));
    first = await webhookSupplier();
    second = await webhookSupplier();
    const m = t.services.messaging;
    ids.template = (await m.createTemplate(admin, serviceId, { name: 'Book ready', type: 'email', subject: 'Your book is ready', body: 'Hello ((name)), your book is waiting.' })).id;
    ids.first = (
      await m.createProvider(admin, { channel: 'email', kind: 'webhook', name: 'Mail supplier', priority: 1, settings: { url: first.url, timeoutMs: 500 }, secrets: { signingSecret: first.secret } })
    ).id;
    ids.second = (
      await m.createProvider(admin, { channel: 'email', kind: 'webhook', name: 'Second supplier', priority: 2, settings: { url: second.url }, secrets: { signingSecret: second.secret } })
    ).id;
  });
  after(async () => {
    await first.close();
    await second.close();
  });

  async function sent(to: string): Promise<string> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/v2/notifications/email',
      headers: { authorization: `Bearer ${token()}` },
      payload: { template_id: ids.template, email_address: to, personalisation: { name: 'Sam' }, reference: 'loan-42' },
    });
    assert.equal(res.statusCode, 201, res.body);
    while ((await t.services.delivery.runOnce()) > 0);
    return res.json().id;
  }
  const row = async (id: string) => (await t.services.messaging.getNotification(serviceId, id))!;
  const receipts = (providerId: string) => `${base}/api/v1/messaging/providers/${providerId}/webhook/receipts`;

  test('a message is POSTed as signed JSON with Idempotency-Key: its id; the supplier’s reference is kept', async () => {
    const id = await sent('reader1@example.com');
    const got = first.messages.find((x) => x.idempotencyKey === id);
    assert.ok(got, 'the supplier took it, checking the signature');
    assert.deepEqual(Object.keys(got.body).sort(), ['channel', 'from', 'html', 'id', 'reference', 'subject', 'text', 'to']);
    assert.equal(got.body.id, id);
    assert.equal(got.body.channel, 'email');
    assert.equal(got.body.to, 'reader1@example.com');
    assert.equal(got.body.subject, 'Your book is ready');
    assert.match(String(got.body.text), /Hello Sam, your book is waiting\./);
    assert.match(String(got.body.html), /<p[^>]*>Hello Sam, your book is waiting\.<\/p>/);
    assert.equal(got.body.reference, 'loan-42');
    const n = await row(id);
    assert.equal(n.status, 'sending');
    assert.equal(n.provider_ref, got.reference);
    assert.equal(first.refused, 0);
  });

  test('signed receipts move messages on: by the supplier’s reference to delivered, by Weft’s id to a failure with its reason', async () => {
    const a = await sent('reader2@example.com');
    const b = await sent('reader3@example.com');
    const ref = first.messages.find((x) => x.idempotencyKey === a)!.reference;
    const ok = await first.receipt(receipts(ids.first), { reference: ref, status: 'delivered' });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { id: a, status: 'delivered' });
    assert.ok((await row(a)).completed_at instanceof Date);
    const bounced = await first.receipt(receipts(ids.first), { id: b, status: 'permanent-failure', reason: 'Mailbox does not exist' });
    assert.equal(bounced.status, 200);
    const nb = await row(b);
    assert.equal(nb.status, 'permanent-failure');
    assert.equal(nb.status_reason, 'Mail supplier: Mailbox does not exist');
    // A late "sending" changes nothing.
    assert.deepEqual(await (await first.receipt(receipts(ids.first), { reference: ref, status: 'sending' })).json(), { id: a, status: 'delivered' });
  });

  test('a receipt signed with another secret, an old time or not at all is refused with PROVIDER_SIGNATURE_INVALID', async () => {
    const id = await sent('reader4@example.com');
    for (const options of [{ secret: second.secret }, { at: Math.floor(Date.now() / 1000) - 3600 }]) {
      const res = await first.receipt(receipts(ids.first), { id, status: 'delivered' }, options);
      assert.equal(res.status, 403);
      const body = await res.json();
      assert.equal(body.code, 'PROVIDER_SIGNATURE_INVALID');
    }
    const bare = await fetch(receipts(ids.first), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, status: 'delivered' }) });
    assert.equal(bare.status, 403);
    assert.match((await bare.json()).detail, /Weft-Signature header is missing/);
    // The other supplier's receipt is checked against its own secret: it cannot move this supplier's messages.
    const crossed = await second.receipt(receipts(ids.second), { id, status: 'delivered' });
    assert.equal(crossed.status, 404);
    assert.equal((await crossed.json()).code, 'RECEIPT_NOT_FOUND');
    assert.equal((await row(id)).status, 'sending');
  });

  test('a receipt without a reference or with an unknown status is RECEIPT_INVALID, naming the fields; for another message, RECEIPT_NOT_FOUND', async () => {
    const res = await first.receipt(receipts(ids.first), { status: 'arrived' });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.code, 'RECEIPT_INVALID');
    assert.deepEqual(body.errors.map((e: { field: string }) => e.field).sort(), ['reference', 'status']);
    const unknown = await first.receipt(receipts(ids.first), { reference: 'sup-nothing', status: 'delivered' });
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).code, 'RECEIPT_NOT_FOUND');
    const notJson = await fetch(receipts(ids.first), { method: 'POST', headers: { 'content-type': 'application/json', 'weft-signature': 'x' }, body: '{not json' });
    assert.equal(notJson.status, 400);
    assert.equal((await notJson.json()).code, 'MALFORMED_JSON');
  });

  test('a 422 is a permanent failure, not passed on; a 503, a 429 or a refused signature go to the next supplier', async () => {
    first.script.push({ status: 422, message: 'Address rejected' });
    const refused = await sent('reader5@example.com');
    const r = await row(refused);
    assert.equal(r.status, 'permanent-failure');
    assert.match(String(r.status_reason), /Mail supplier: The supplier answered 422: Address rejected/);
    assert.equal(second.messages.filter((x) => x.idempotencyKey === refused).length, 0);

    for (const status of [503, 429]) {
      first.script.push({ status, message: 'Busy' });
      const id = await sent(`reader-${status}@example.com`);
      assert.equal((await row(id)).provider, 'Second supplier', `${status} fails over`);
      assert.equal(second.messages.filter((x) => x.idempotencyKey === id).length, 1);
    }
  });

  test('when the answer is lost after the supplier took the message, GET {url}/{id} finds it: sent once', async () => {
    first.script.push({ hangMs: 1500 });
    const id = await sent('reader6@example.com');
    assert.equal(first.messages.filter((x) => x.idempotencyKey === id).length, 1);
    assert.equal(second.messages.filter((x) => x.idempotencyKey === id).length, 0);
    const n = await row(id);
    assert.equal(n.status, 'sending');
    assert.equal(n.provider, 'Mail supplier');
    assert.equal(n.provider_ref, first.messages.find((x) => x.idempotencyKey === id)!.reference);
  });

  test('a supplier that refuses Weft’s signature (a wrong signing secret in Weft) is passed over for the next', async () => {
    await t.services.messaging.setProviderEnabled(admin, ids.first, false);
    const wrong = (
      await t.services.messaging.createProvider(admin, {
        channel: 'email',
        kind: 'webhook',
        name: 'Misconfigured',
        priority: 1,
        settings: { url: first.url },
        secrets: { signingSecret: 'not-the-shared-secret' },
      })
    ).id;
    try {
      const before = first.refused;
      const id = await sent('reader7@example.com');
      assert.equal(first.refused, before + 1);
      assert.equal((await row(id)).provider, 'Second supplier');
    } finally {
      await t.services.messaging.setProviderEnabled(admin, wrong, false);
      await t.services.messaging.setProviderEnabled(admin, ids.first, true);
    }
  });
});
