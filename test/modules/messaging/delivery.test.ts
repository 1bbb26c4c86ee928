/**
 * Delivery through real providers: email over SMTP to a local smtp-server (the real protocol),
 * failover to the next provider when one fails, retries, and a send left in doubt by a crash
 * that is not sent again.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const admin = systemActor('test');

interface Received {
  from: string;
  to: string[];
  data: string;
}

/** A local SMTP server; `refuse` makes it answer 451 (try later) to every message. */
async function smtpServer(): Promise<{ port: number; received: Received[]; refuse: { on: boolean }; close: () => Promise<void> }> {
  const received: Received[] = [];
  const refuse = { on: false };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let data = '';
      stream.setEncoding('utf8');
      stream.on('data', (c) => {
        data += c;
      });
      stream.on('end', () => {
        if (refuse.on) return callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, refuse, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

forEachDialect('message delivery through providers', (dialect) => {
  let t: TestApp;
  let primary: Awaited<ReturnType<typeof smtpServer>>;
  let backup: Awaited<ReturnType<typeof smtpServer>>;
  let serviceId: string;
  let emailTemplate: Awaited<ReturnType<TestApp['services']['messaging']['createTemplate']>>;

  before(async () => {
    t = await testApp(dialect);
    primary = await smtpServer();
    backup = await smtpServer();
    const m = t.services.messaging;
    serviceId = (await m.createService(admin, { name: 'Libraries', emailFrom: 'libraries@wealdmoor.example', emailReplyTo: 'help@wealdmoor.example' })).id;
    emailTemplate = await m.createTemplate(admin, serviceId, {
      name: 'Book ready',
      type: 'email',
      subject: 'Your book is ready',
      body: '# Ready to collect\n\nHello ((name)), *The Hobbit* is waiting at ((library)).',
    });
    await m.createProvider(admin, { channel: 'email', kind: 'smtp', name: 'Primary SMTP', priority: 1, settings: { host: '127.0.0.1', port: primary.port } });
    await m.createProvider(admin, { channel: 'email', kind: 'smtp', name: 'Backup SMTP', priority: 2, settings: { host: '127.0.0.1', port: backup.port } });
  });
  after(async () => {
    await t.services.delivery.stop();
    await primary.close();
    await backup.close();
  });

  async function queueEmail(to: string, name: string) {
    const m = t.services.messaging;
    const rendered = m.render(emailTemplate, { name, library: 'Northtown Library' }, 'en', { name: 'Libraries' });
    const [row] = await m.queue([
      { serviceId, keyId: null, keyType: 'normal', template: emailTemplate, recipient: to, normalisedTo: to, personalisation: { name, library: 'Northtown Library' }, rendered },
    ]);
    return row;
  }

  const status = async (id: string) => (await t.services.messaging.getNotification(serviceId, id))!;

  test('an email goes out over SMTP with its HTML and text parts, Message-ID and List-Unsubscribe, and is marked sending', async () => {
    const row = await queueEmail('reader@example.com', 'Jo');
    while ((await t.services.delivery.runOnce()) > 0);
    const got = primary.received.find((r) => r.to.includes('reader@example.com'));
    assert.ok(got, 'the primary server received it');
    assert.equal(got.from, 'libraries@wealdmoor.example');
    assert.match(got.data, /Subject: Your book is ready/);
    assert.match(got.data, new RegExp(`Message-ID: <${row.id}@weft>`, 'i'));
    assert.match(got.data, /List-Unsubscribe: <mailto:help@wealdmoor\.example\?subject=unsubscribe>/);
    assert.match(got.data, /Content-Type: text\/html/);
    assert.match(got.data, /Content-Type: text\/plain/);
    assert.match(got.data, /Hello Jo/);
    const after = await status(row.id);
    assert.equal(after.status, 'sending');
    assert.equal(after.provider, 'Primary SMTP');
    assert.equal(after.attempts, 1);
  });

  test('when the first provider refuses for now, the next one takes the message, once', async () => {
    primary.refuse.on = true;
    try {
      const row = await queueEmail('second@example.com', 'Al');
      while ((await t.services.delivery.runOnce()) > 0);
      assert.equal(backup.received.filter((r) => r.to.includes('second@example.com')).length, 1);
      assert.equal(primary.received.filter((r) => r.to.includes('second@example.com')).length, 0);
      assert.equal((await status(row.id)).provider, 'Backup SMTP');
      const health = [...t.services.delivery.health.values()].find((h) => h.name === 'Primary SMTP');
      assert.ok(health && health.failed >= 1 && /Try again later/.test(String(health.lastError)));
    } finally {
      primary.refuse.on = false;
    }
  });

  test('when every provider fails, the message waits and is tried again later, not marked sending', async () => {
    primary.refuse.on = true;
    backup.refuse.on = true;
    try {
      const row = await queueEmail('third@example.com', 'Mo');
      await t.services.delivery.runOnce();
      const waiting = await status(row.id);
      assert.equal(waiting.status, 'created');
      assert.ok(waiting.next_attempt_at && waiting.next_attempt_at.getTime() > Date.now() + 10_000, 'tried again after a back-off');
      assert.match(String(waiting.status_reason), /Backup SMTP/);
    } finally {
      primary.refuse.on = false;
      backup.refuse.on = false;
    }
  });

  test('a send left in doubt by a crash (marked sending, its lock run out) is not sent again over SMTP', async () => {
    const row = await queueEmail('doubt@example.com', 'Di');
    // As if a worker had claimed it, marked it in flight, and died before it heard back.
    await t.services.db.k
      .updateTable('notifications')
      .set({ status: 'sending', provider: 'Primary SMTP', attempts: 1, locked_by: 'dead-worker', locked_until: new Date(Date.now() - 1000) })
      .where('id', '=', row.id)
      .execute();
    while ((await t.services.delivery.runOnce()) > 0);
    assert.equal(primary.received.filter((r) => r.to.includes('doubt@example.com')).length, 0);
    const after = await status(row.id);
    assert.equal(after.status, 'technical-failure');
    assert.match(String(after.status_reason), /not sent again/);
  });

  test('a provider’s sending rate holds messages back instead of failing them over', async () => {
    await t.services.db.k
      .updateTable('message_providers')
      .set({ settings_json: JSON.stringify({ host: '127.0.0.1', port: primary.port, ratePerSecond: 10 }) as never })
      .where('name', '=', 'Primary SMTP')
      .execute();
    t.services.delivery.reloadProviders();
    const before = primary.received.length;
    const rows = [];
    for (let i = 0; i < 25; i++) rows.push(await queueEmail(`rate${i}@example.com`, `R${i}`));
    const t0 = Date.now();
    await t.services.delivery.runOnce();
    // A bucket of 10 a second starts full and refills while the batch is sent, so a slow run may send a few more.
    const allowed = 10 + Math.ceil(((Date.now() - t0) / 1000) * 10) + 1;
    const sent = primary.received.length - before;
    assert.ok(sent <= allowed && sent < 25, `at most a second's worth at once, plus what refilled (${sent} of ${allowed})`);
    assert.equal(backup.received.filter((r) => r.to[0].startsWith('rate')).length, 0, 'nothing failed over');
    while (primary.received.length - before < 25) {
      assert.ok(Date.now() - t0 < 10_000, 'all sent within 10 s');
      await t.services.db.k
        .updateTable('notifications')
        .set({ next_attempt_at: new Date() })
        .where('status', '=', 'created')
        .where('next_attempt_at', '>', new Date())
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .execute();
      await new Promise((r) => setTimeout(r, 100));
      await t.services.delivery.runOnce();
    }
    assert.ok(Date.now() - t0 >= 1300, `25 at 10 a second take over a second (${Date.now() - t0} ms)`);
  });
});
