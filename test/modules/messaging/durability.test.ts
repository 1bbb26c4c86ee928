/**
 * A worker killed with SIGKILL in the middle of a campaign, then started again: every
 * notification reaches the supplier exactly once (counted by raw POSTs, not by the supplier's
 * own de-duplication), and every one ends delivered. The worker is a real `weft start --role
 * worker` process; the supplier speaks Weft's signed webhook protocol and answers lookups.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect, TEST_SECRET } from '../../helpers.js';

const admin = systemActor('test');
const RECIPIENTS = 1500;

/** Counts every POST per idempotency key; answers lookups for what it has; slow enough that a kill lands mid-send. */
async function countingSupplier() {
  const posts = new Map<string, number>();
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path.startsWith('/messages/')) {
        const id = decodeURIComponent(path.slice('/messages/'.length));
        return posts.has(id) ? json(res, 200, { reference: `sup-${id}`, status: 'sending' }) : json(res, 404, { message: 'No such message' });
      }
      const key = String(req.headers['idempotency-key']);
      posts.set(key, (posts.get(key) ?? 0) + 1);
      // A few milliseconds a message, so sends are in flight when the worker is killed.
      setTimeout(() => json(res, 202, { reference: `sup-${key}`, status: 'sending' }), 3);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/messages`, posts, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function worker(t: TestApp, dataDir: string): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start', '--role', 'worker'], {
    env: { PATH: process.env.PATH, WEFT_DATABASE_URL: t.url, WEFT_DATA_DIR: dataDir, WEFT_SECRET: TEST_SECRET, WEFT_LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
}

forEachDialect('a worker killed mid-campaign', (dialect) => {
  let t: TestApp;
  let supplier: Awaited<ReturnType<typeof countingSupplier>>;
  const children: ChildProcess[] = [];

  before(async () => {
    t = await testApp(dialect);
    supplier = await countingSupplier();
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await supplier.close();
  });

  test('loses nothing and sends nothing twice', { timeout: 180_000 }, async () => {
    const m = t.services.messaging;
    const service = await m.createService(admin, { name: 'Council tax', dailyLimit: 1_000_000 });
    const template = await m.createTemplate(admin, service.id, { name: 'Reminder', type: 'sms', body: 'Hello ((name)), your council tax is due.' });
    await m.createProvider(admin, { channel: 'sms', kind: 'webhook', name: 'SMS supplier', settings: { url: supplier.url }, secrets: { signingSecret: 'a-signing-secret-of-some-length' } });
    const csv = ['phone number,name', ...Array.from({ length: RECIPIENTS }, (_, i) => `07700${String(910000 + i)},Resident ${i}`)].join('\n');
    const campaign = await t.services.campaigns.create(admin, service.id, { templateId: template.id, name: 'Council tax reminders', csv });
    await t.services.campaigns.start(admin, campaign.id);
    const dataDir = t.services.config.dataDir;

    const first = worker(t, dataDir);
    children.push(first);
    // Kill it once a good share has gone out, while sends are in flight.
    for (let i = 0; supplier.posts.size < RECIPIENTS / 3; i++) {
      assert.ok(i < 1200, `the first worker sent ${supplier.posts.size} in 60 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const atKill = supplier.posts.size;
    assert.ok(atKill < RECIPIENTS, 'killed before the end');

    // The claims the dead worker held run out; the next worker takes over. (Locks last five minutes:
    // as an operator would after a crash, the test lets them lapse at once.)
    await t.services.db.k
      .updateTable('notifications')
      .set({ locked_until: new Date(Date.now() - 1000) })
      .where('locked_by', 'is not', null)
      .execute();
    const second = worker(t, dataDir);
    children.push(second);
    const unanswered = async () =>
      Number(
        (
          await t.services.db.k
            .selectFrom('notifications')
            .select((e) => e.fn.countAll().as('n'))
            .where('campaign_id', '=', campaign.id)
            .where('provider_ref', 'is', null)
            .executeTakeFirstOrThrow()
        ).n,
      );
    for (let i = 0; (await t.services.campaigns.get(campaign.id)).createdCount < RECIPIENTS || (await unanswered()) > 0; i++) {
      assert.ok(i < 1800, `not finished after 90 s: ${JSON.stringify((await t.services.campaigns.get(campaign.id)).progress)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    second.kill('SIGTERM');

    const twice = [...supplier.posts].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no notification was posted twice');
    assert.equal(supplier.posts.size, RECIPIENTS, 'every notification reached the supplier');
    const rows = await t.services.db.k.selectFrom('notifications').select(['id', 'status', 'provider_ref']).where('campaign_id', '=', campaign.id).execute();
    assert.equal(rows.length, RECIPIENTS);
    assert.ok(
      rows.every((r) => r.status === 'sending' && r.provider_ref === `sup-${r.id}`),
      'each is marked sent to the supplier with its reference',
    );
    assert.ok(atKill > 0);
  });
});
