/**
 * POST /v2/notifications/resident: the resident's preferred channel for the topic, their
 * language, their quiet hours (urgent messages ignore them), and the next channel when one fails.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import { signToken, splitApiKey } from '../../../src/modules/messaging/notify.auth.js';
import { quietUntil } from '../../../src/modules/residents/index.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const admin = systemActor('test');

forEachDialect('sending to a resident by preference', (dialect) => {
  let t: TestApp;
  let post: (body: object) => Promise<{ status: number; body: any }>;
  const templates: Record<string, string> = {};

  before(async () => {
    t = await testApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const m = t.services.messaging;
    const service = await m.createService(admin, { name: 'Libraries' });
    const { serviceId, secret } = splitApiKey((await m.createKey(admin, service.id, { name: 'library system', keyType: 'test' })).apiKey);
    post = async (body) => {
      const res = await fetch(`${base}/v2/notifications/resident`, {
        method: 'POST',
        headers: { authorization: `Bearer ${signToken(serviceId, secret)}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    };
    templates.sms = (await m.createTemplate(admin, service.id, { name: 'Ready (text)', type: 'sms', body: 'Your book ((title)) is ready.', bodyCy: 'Mae eich llyfr ((title)) yn barod.' })).id;
    templates.email = (await m.createTemplate(admin, service.id, { name: 'Ready (email)', type: 'email', subject: 'Your book is ready', body: 'Your book ((title)) is ready.' })).id;
    templates.letter = (await m.createTemplate(admin, service.id, { name: 'Ready (letter)', type: 'letter', subject: 'Your book is ready', body: 'Your book ((title)) is ready.' })).id;
  });

  const resident = (overrides: object) =>
    t.services.residents.create(admin, { name: 'Sam Jones', email: 'sam@example.com', mobile: '07700900001', address: ['Sam Jones', '1 High Street', 'Wealdmoor', 'SW1A 1AA'], ...overrides });

  test('the resident’s channel for the topic is used, in their language', async () => {
    const r = await resident({ language: 'cy', preferences: { 'library-reservations': ['sms', 'email'], '*': ['email'] } });
    const sent = await post({ resident_id: r.id, template_ids: templates, topic: 'library-reservations', personalisation: { title: 'Y Mabinogion' } });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    assert.equal(sent.body.channel, 'sms');
    assert.deepEqual(sent.body.fallback, ['email']);
    assert.equal(sent.body.content.body, 'Mae eich llyfr Y Mabinogion yn barod.');
    const other = await post({ resident_id: r.id, template_ids: templates, topic: 'council-news', personalisation: { title: 'x' } });
    assert.equal(other.body.channel, 'email');
  });

  test('when a channel fails the next one in the resident’s order is sent, once', async () => {
    // With a test key, 07700900003 fails temporarily (Notify's test number).
    const r = await resident({ mobile: '07700900003', preferences: { '*': ['sms', 'email', 'letter'] } });
    const sent = await post({ resident_id: r.id, template_ids: templates, personalisation: { title: 'Emma' }, reference: 'res-1' });
    assert.equal(sent.body.channel, 'sms');
    // The next channel is a durable job, queued with the failure.
    for (let i = 0; i < 3; i++) {
      while ((await t.services.delivery.runOnce()) > 0);
      while ((await t.services.jobs.runOnce()) > 0);
    }
    const rows = await t.services.db.k.selectFrom('notifications').select(['id', 'type', 'status', 'fallback_of', 'reference']).where('resident_id', '=', r.id).orderBy('created_at').execute();
    assert.deepEqual(
      rows.map((x) => [x.type, x.status, x.reference]),
      [
        ['sms', 'temporary-failure', 'res-1'],
        ['email', 'delivered', 'res-1'],
      ],
    );
    assert.equal(rows[1].fallback_of, rows[0].id);
  });

  test('channels the resident cannot be reached on, or the message has no template for, are skipped', async () => {
    const r = await resident({ email: null, preferences: { '*': ['email', 'rcs', 'letter'] } });
    const sent = await post({ resident_id: r.id, template_ids: templates, personalisation: { title: 'x' } });
    assert.deepEqual([sent.body.channel, sent.body.fallback], ['letter', []]);
    const nobody = await resident({ email: null, mobile: null, address: null });
    const refused = await post({ resident_id: nobody.id, template_ids: templates, personalisation: { title: 'x' } });
    assert.deepEqual([refused.status, refused.body.errors[0].message], [400, 'The resident cannot be reached on any channel this message has a template for']);
    const missing = await post({ resident_id: r.id, template_ids: templates, personalisation: {} });
    assert.equal(missing.body.errors[0].message, 'Missing personalisation: title');
    const unknown = await post({ resident_id: '01900000-0000-7000-8000-000000000000', template_ids: templates });
    assert.equal(unknown.body.errors[0].message, 'Resident not found');
  });

  test('quiet hours hold a message until they end; an urgent one goes at once', async () => {
    const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    const at = (ms: number) => fmt.format(new Date(Date.now() + ms));
    const r = await resident({ quietFrom: at(-3_600_000), quietTo: at(3_600_000), preferences: { '*': ['sms'] } });
    const held = await post({ resident_id: r.id, template_ids: templates, personalisation: { title: 'x' } });
    const wait = new Date(held.body.scheduled_for).getTime() - Date.now();
    assert.ok(wait > 55 * 60_000 && wait <= 60 * 60_000, `held for about an hour (${wait} ms)`);
    const urgent = await post({ resident_id: r.id, template_ids: templates, personalisation: { title: 'x' }, urgent: true });
    assert.equal(urgent.body.scheduled_for, null);
    // Outside the quiet hours nothing is held; a span past midnight works.
    assert.equal(quietUntil({ quietFrom: at(3_600_000), quietTo: at(7_200_000) }, new Date()), null);
    assert.ok(quietUntil({ quietFrom: at(-60_000), quietTo: at(-120_000) }, new Date()), 'a quiet span of almost a day, through midnight, holds');
  });
});
