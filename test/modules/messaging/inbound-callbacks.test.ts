/**
 * Received-text callbacks as Notify sends them: a text a resident sends to the service's number
 * (here through the Twilio-compatible provider's inbound webhook) is POSTed to the service's
 * inbound callback URL with its own bearer token, in Notify's body, through the durable job
 * queue, with the delivery-status callbacks' retry rules; and the setting is checked and audited.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { CALLBACK_ATTEMPTS, CALLBACK_RETRY_MS } from '../../../src/modules/messaging/callbacks.js';
import { INBOUND_CALLBACK_JOB } from '../../../src/modules/messaging/inbound-callbacks.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { callbackServer } from './peers/callbacks.js';
import { forEachDialect } from '../../helpers.js';
import { type TwilioPeer, twilioPeer } from './peers/twilio.js';

const admin = systemActor('test');
const NOTIFY_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

forEachDialect('received-text callbacks', (dialect) => {
  let t: TestApp;
  let peer: TwilioPeer;
  let service: Awaited<ReturnType<typeof callbackServer>>;
  let inboundUrl: string;
  let quietInboundUrl: string;
  let serviceId: string;
  let manager: string;

  before(async () => {
    t = await testApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    peer = await twilioPeer();
    service = await callbackServer('/notify/inbound', 204);
    const m = t.services.messaging;
    serviceId = (await m.createService(admin, { name: 'Housing' })).id;
    const quietId = (await m.createService(admin, { name: 'Libraries' })).id;
    const provider = async (name: string, inboundServiceId: string) =>
      (
        await m.createProvider(admin, {
          channel: 'sms',
          kind: 'twilio',
          name,
          settings: { baseUrl: peer.url, accountSid: peer.accountSid, statusCallbackUrl: base, inboundServiceId },
          secrets: { authToken: peer.authToken },
          enabled: false,
        })
      ).id;
    inboundUrl = `${base}/api/v1/messaging/providers/${await provider('Housing number', serviceId)}/twilio/inbound`;
    quietInboundUrl = `${base}/api/v1/messaging/providers/${await provider('Libraries number', quietId)}/twilio/inbound`;
    manager = await t.key(['messaging:manage']);
  });
  after(async () => {
    await peer.close();
    await service.close();
  });

  const put = (key: string, id: string, payload: object) =>
    t.app.inject({ method: 'PUT', url: `/api/v1/messaging/services/${id}/inbound-callback`, headers: { authorization: `Bearer ${key}` }, payload });
  const receive = async (Body: string, url = inboundUrl) => {
    const res = await peer.inbound(url, { From: '+447700900123', To: '+447700900999', Body });
    assert.equal(res.status, 200);
  };
  /** Runs due jobs; then makes retries due now and runs again, `rounds` times. */
  async function runJobs(rounds = 1) {
    for (let i = 0; i < rounds; i++) {
      while ((await t.services.jobs.runOnce()) > 0);
      await t.services.db.k.updateTable('jobs').set({ run_at: new Date() }).where('status', '=', 'pending').where('name', '=', INBOUND_CALLBACK_JOB).execute();
    }
  }
  const callsFor = (message: string) => service.calls.filter((c) => c.body.message === message);

  test('the inbound callback is set with an https URL (or this machine) and a token of 10 characters or more; audited', async () => {
    const http = await put(manager, serviceId, { url: 'http://example.com/inbound', bearerToken: 'long-enough-token' });
    assert.equal(http.statusCode, 400);
    assert.equal(http.json().code, 'CALLBACK_INVALID');
    assert.equal((await put(manager, serviceId, { url: 'https://example.com/inbound', bearerToken: 'short' })).json().code, 'CALLBACK_INVALID');
    assert.equal((await put(manager, '0193a000-0000-7000-8000-000000000000', { url: null })).json().code, 'MESSAGE_SERVICE_NOT_FOUND');
    assert.equal((await put(await t.key(['messages:read']), serviceId, { url: null })).statusCode, 403);

    const res = await put(manager, serviceId, { url: service.url, bearerToken: 'inbound-secret-123' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().inboundCallbackUrl, service.url);
    assert.equal(res.json().bearerToken, undefined, 'the token is never shown');
    const audit = await t.services.audit.search({ action: 'messaging.inbound_callback_set', limit: 5 });
    assert.equal(audit.length, 1);
    assert.match(audit[0].summary, /received-text callback of Housing/);
  });

  test('a received text is posted once to the service’s inbound URL with its bearer token, in Notify’s body', async () => {
    await receive('When is my repair booked?');
    await runJobs();
    const mine = callsFor('When is my repair booked?');
    assert.equal(mine.length, 1);
    assert.equal(mine[0].auth, 'Bearer inbound-secret-123');
    assert.deepEqual(Object.keys(mine[0].body).sort(), ['date_received', 'destination_number', 'id', 'message', 'source_number']);
    assert.equal(mine[0].body.source_number, '447700900123');
    assert.equal(mine[0].body.destination_number, '+447700900999');
    assert.match(String(mine[0].body.date_received), NOTIFY_TIME);
    const kept = await t.services.messaging.repo.listReceivedTexts(serviceId, undefined, 10);
    assert.equal(mine[0].body.id, kept.find((r) => r.content === 'When is my repair booked?')?.id);
  });

  test('a 5xx or 429 is tried again five minutes later until it is taken; another 4xx is not; after five more tries it stops', async () => {
    service.answers.push(500, 429);
    await receive('Is the boiler fixed?');
    while ((await t.services.jobs.runOnce()) > 0);
    const job = await t.services.db.k.selectFrom('jobs').selectAll().where('name', '=', INBOUND_CALLBACK_JOB).where('status', '=', 'pending').executeTakeFirstOrThrow();
    const wait = job.run_at.getTime() - Date.now();
    assert.ok(wait > CALLBACK_RETRY_MS - 10_000 && wait <= CALLBACK_RETRY_MS, `tried again in about five minutes (${wait} ms)`);
    await runJobs(3);
    assert.equal(callsFor('Is the boiler fixed?').length, 3);

    service.answers.push(400);
    await receive('Wrong number?');
    await runJobs(3);
    assert.equal(callsFor('Wrong number?').length, 1);

    service.answers.push(...Array(CALLBACK_ATTEMPTS).fill(503));
    await receive('Hello?');
    await runJobs(CALLBACK_ATTEMPTS + 1);
    assert.equal(callsFor('Hello?').length, CALLBACK_ATTEMPTS, 'the first try and five more');
    const dead = await t.services.db.k.selectFrom('jobs').select(['status', 'last_error']).where('name', '=', INBOUND_CALLBACK_JOB).where('status', '=', 'dead').execute();
    assert.equal(dead.length, 1);
    assert.match(dead[0].last_error ?? '', /answered 503/);
  });

  test('no callback for a service without an inbound URL, or once it is turned off', async () => {
    await receive('A library question', quietInboundUrl);
    assert.equal((await put(manager, serviceId, { url: null })).json().inboundCallbackUrl, null);
    await receive('After it was turned off');
    await runJobs();
    assert.equal(callsFor('A library question').length, 0);
    assert.equal(callsFor('After it was turned off').length, 0);
  });
});
