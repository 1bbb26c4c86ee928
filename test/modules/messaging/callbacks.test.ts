/**
 * Delivery-status callbacks as Notify sends them: the body, the bearer token, retries five
 * minutes apart through the durable job queue on a 5xx, no retry on another 4xx, and nothing for
 * services without a callback URL.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { NotifyClient } from 'notifications-node-client';
import { CALLBACK_RETRY_MS } from '../../../src/modules/messaging/callbacks.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { callbackServer } from './peers/callbacks.js';
import { forEachDialect } from '../../helpers.js';

const admin = systemActor('test');

forEachDialect('delivery-status callbacks', (dialect) => {
  let t: TestApp;
  let peer: Awaited<ReturnType<typeof callbackServer>>;
  let client: NotifyClient;
  let template: string;
  let serviceId: string;

  before(async () => {
    t = await testApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    peer = await callbackServer('/notify/callback');
    const m = t.services.messaging;
    serviceId = (await m.createService(admin, { name: 'Waste' })).id;
    await m.setCallback(admin, serviceId, { url: peer.url, bearerToken: 'callback-secret-123' });
    client = new NotifyClient(`http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`, (await m.createKey(admin, serviceId, { name: 'k', keyType: 'test' })).apiKey);
    template = (await m.createTemplate(admin, serviceId, { name: 't', type: 'sms', body: 'Bins on ((day))' })).id;
  });
  after(() => peer.close());

  /** Runs due jobs; then makes retries due now and runs again, `rounds` times. */
  async function runJobs(rounds = 1) {
    for (let i = 0; i < rounds; i++) {
      while ((await t.services.jobs.runOnce()) > 0);
      await t.services.db.k.updateTable('jobs').set({ run_at: new Date() }).where('status', '=', 'pending').where('name', '=', 'messaging.callback').execute();
    }
  }

  test('a final status is posted once to the service’s URL with its bearer token, in Notify’s shape', async () => {
    const sent = (await client.sendSms(template, '07700900003', { personalisation: { day: 'Tuesday' }, reference: 'bins-1' })).data;
    while ((await t.services.delivery.runOnce()) > 0);
    await runJobs();
    const mine = peer.calls.filter((c) => c.body.id === sent.id);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].auth, 'Bearer callback-secret-123');
    assert.deepEqual(Object.keys(mine[0].body).sort(), ['completed_at', 'created_at', 'id', 'notification_type', 'reference', 'sent_at', 'status', 'template_id', 'template_version', 'to'].sort());
    assert.equal(mine[0].body.status, 'temporary-failure');
    assert.equal(mine[0].body.reference, 'bins-1');
    assert.equal(mine[0].body.to, '07700900003');
    assert.equal(mine[0].body.template_version, 1);
  });

  test('a 500 is retried five minutes later, until it succeeds; a 400 is not retried', async () => {
    peer.answers.push(500, 503);
    const sent = (await client.sendSms(template, '07700900001', { personalisation: { day: 'Friday' } })).data;
    while ((await t.services.delivery.runOnce()) > 0);
    while ((await t.services.jobs.runOnce()) > 0);
    const job = await t.services.db.k.selectFrom('jobs').selectAll().where('name', '=', 'messaging.callback').where('status', '=', 'pending').executeTakeFirstOrThrow();
    const wait = job.run_at.getTime() - Date.now();
    assert.ok(wait > CALLBACK_RETRY_MS - 10_000 && wait <= CALLBACK_RETRY_MS, `retried in about five minutes (${wait} ms)`);
    await runJobs(3);
    assert.equal(peer.calls.filter((c) => c.body.id === sent.id).length, 3);

    peer.answers.push(400);
    const refused = (await client.sendSms(template, '07700900001', { personalisation: { day: 'Monday' } })).data;
    while ((await t.services.delivery.runOnce()) > 0);
    await runJobs(3);
    assert.equal(peer.calls.filter((c) => c.body.id === refused.id).length, 1);
  });

  test('callback settings are checked: https (or this machine), a token of 10 characters or more', async () => {
    await assert.rejects(t.services.messaging.setCallback(admin, serviceId, { url: 'http://example.com/cb', bearerToken: 'long-enough-token' }), { code: 'CALLBACK_INVALID' });
    await assert.rejects(t.services.messaging.setCallback(admin, serviceId, { url: 'https://example.com/cb', bearerToken: 'short' }), { code: 'CALLBACK_INVALID' });
  });
});
