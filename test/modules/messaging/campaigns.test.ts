/**
 * Campaigns: the file is checked whole (errors by row, nothing saved), a draft is started now or
 * later, rows become notifications in chunks that a crash cannot repeat, and pause, resume and
 * cancel hold, release and stop what has not gone.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { CHUNK } from '../../../src/modules/messaging/campaigns.service.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

forEachDialect('campaigns', (dialect) => {
  let t: TestApp;
  let key: string;
  let serviceId: string;
  let sms: string;
  let email: string;
  const call = (method: string, url: string, payload?: unknown) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}` }, payload: payload as object });
  const phones = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `0770090${String(1000 + from + i).padStart(4, '0')}`);

  before(async () => {
    t = await testApp(dialect);
    key = await t.key(['messaging:manage', 'messages:read', 'messages:send', 'templates:manage']);
    serviceId = (await call('POST', '/api/v1/messaging/services', { name: 'Parking', dailyLimit: 50_000 })).json().id;
    sms = (await call('POST', `/api/v1/messaging/services/${serviceId}/templates`, { name: 'Fine', type: 'sms', body: 'Hello ((name)), fine ((ref)) is due.((paid??Thank you for paying.))' })).json()
      .id;
    email = (await call('POST', `/api/v1/messaging/services/${serviceId}/templates`, { name: 'Closure', type: 'email', subject: 'Closed', body: 'Dear ((name))' })).json().id;
  });

  const drain = async () => {
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) return;
    }
  };

  test('a file with bad rows is refused with each row named, and nothing is saved', async () => {
    const csv = ['phone number,name,ref,paid', '07700900123,Sam,A1,', '0770090,Jo,A2,', '07700900124,,A3,yes', 'not a number,Al,A4,'].join('\n');
    const res = await call('POST', `/api/v1/messaging/services/${serviceId}/campaigns`, { templateId: sms, name: 'Bad file', csv });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().code, 'CAMPAIGN_CSV_INVALID');
    assert.deepEqual(
      res.json().errors.map((e: { message: string }) => e.message),
      ['Row 3: phone number: Not enough digits', 'Row 4: name: Missing', 'Row 5: phone number: Must not contain letters or symbols'],
    );
    const noColumn = await call('POST', `/api/v1/messaging/services/${serviceId}/campaigns`, { templateId: sms, name: 'No column', csv: 'phone number,name\n07700900123,Sam' });
    assert.match(noColumn.json().detail, /needs columns? for ‘ref’, ‘paid’|needs a column for ‘ref’/);
    const wrongKind = await call('POST', `/api/v1/messaging/services/${serviceId}/campaigns`, { templateId: email, name: 'x', csv: 'phone number,name\n07700900123,Sam' });
    assert.match(wrongKind.json().detail, /needs a column called ‘email address’/);
    assert.equal((await t.services.db.k.selectFrom('campaigns').select('id').execute()).length, 0);
  });

  test(`a draft sends nothing; started, its rows become notifications in chunks of ${CHUNK} and are delivered once each`, async () => {
    const n = CHUNK + 1200;
    const csv = ['Phone Number,Name,REF,paid', ...phones(n).map((p, i) => `${p},Person ${i},R${i},${i % 2 ? 'yes' : ''}`)].join('\n');
    const created = await call('POST', `/api/v1/messaging/services/${serviceId}/campaigns`, { templateId: sms, name: 'Fines for March', csv });
    assert.equal(created.statusCode, 201, created.body);
    const c = created.json();
    assert.deepEqual([c.status, c.recipientCount, c.createdCount], ['draft', n, 0]);
    await drain();
    assert.equal((await t.services.db.k.selectFrom('notifications').select('id').where('campaign_id', '=', c.id).execute()).length, 0);

    const started = await call('POST', `/api/v1/messaging/campaigns/${c.id}/start`, {});
    assert.equal(started.json().status, 'sending');
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${c.id}/start`, {})).json().code, 'CAMPAIGN_STATE');
    // One chunk, as if the worker had died after it: the job runs again and carries on without repeating.
    await t.services.campaigns.expand(c.id);
    await drain();
    const done = (await call('GET', `/api/v1/messaging/campaigns/${c.id}`)).json();
    assert.deepEqual([done.status, done.createdCount, done.progress.delivered], ['sent', n, n]);
    const rows = await t.services.db.k.selectFrom('notifications').select(['row_number', 'body']).where('campaign_id', '=', c.id).orderBy('row_number').execute();
    assert.equal(rows.length, n);
    assert.equal(new Set(rows.map((r) => r.row_number)).size, n);
    assert.equal(rows[0].body, 'Hello Person 0, fine R0 is due.');
    assert.equal(rows[1].body, 'Hello Person 1, fine R1 is due.Thank you for paying.');
    assert.equal(await t.services.campaigns.repo.file(c.id), undefined, 'the file is dropped once every row is a notification');
  });

  test('pause holds what has not gone, resume releases it, cancel stops it for good', async () => {
    const csv = ['phone number,name,ref,paid', ...phones(300, 5000).map((p, i) => `${p},P${i},R${i},`)].join('\n');
    const c = (await call('POST', `/api/v1/messaging/services/${serviceId}/campaigns`, { templateId: sms, name: 'Paused one', csv, ratePerMinute: 60 })).json();
    await call('POST', `/api/v1/messaging/campaigns/${c.id}/start`, {});
    await t.services.jobs.runOnce();
    // At 60 a minute only the first is due now.
    await t.services.delivery.runOnce();
    let p = (await call('GET', `/api/v1/messaging/campaigns/${c.id}`)).json().progress;
    assert.deepEqual([p.delivered, p.created], [1, 299]);
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${c.id}/pause`)).json().status, 'paused');
    await t.services.db.k.updateTable('notifications').set({ next_attempt_at: new Date() }).where('campaign_id', '=', c.id).where('next_attempt_at', 'is not', null).execute();
    await drain();
    p = (await call('GET', `/api/v1/messaging/campaigns/${c.id}`)).json().progress;
    assert.deepEqual([p.delivered, p.created], [1, 299], 'nothing goes while paused');
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${c.id}/resume`)).json().status, 'sent');
    await t.services.delivery.runOnce();
    p = (await call('GET', `/api/v1/messaging/campaigns/${c.id}`)).json().progress;
    assert.equal(p.delivered, 2, 'resumed at its rate: one now, the rest a second apart');
    const next = await t.services.db.k.selectFrom('notifications').select('next_attempt_at').where('campaign_id', '=', c.id).where('status', '=', 'created').orderBy('row_number').execute();
    const gaps = next.slice(1, 4).map((r, i) => (r.next_attempt_at as Date).getTime() - (next[i].next_attempt_at as Date).getTime());
    assert.deepEqual(gaps, [1000, 1000, 1000]);

    const c2 = (await call('POST', `/api/v1/messaging/services/${serviceId}/campaigns`, { templateId: sms, name: 'Cancelled one', csv, ratePerMinute: 1 })).json();
    await call('POST', `/api/v1/messaging/campaigns/${c2.id}/start`, {});
    await drain();
    const cancelled = (await call('POST', `/api/v1/messaging/campaigns/${c2.id}/cancel`)).json();
    assert.deepEqual([cancelled.status, cancelled.progress.delivered, cancelled.progress.cancelled], ['cancelled', 1, 299]);
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${c2.id}/resume`)).json().code, 'CAMPAIGN_STATE');
  });

  test('a scheduled campaign paused and resumed before its time waits for its time again', async () => {
    const csv = ['phone number,name,ref,paid', ...phones(5, 7000).map((p, i) => `${p},P${i},R${i},`)].join('\n');
    const c = (await call('POST', `/api/v1/messaging/services/${serviceId}/campaigns`, { templateId: sms, name: 'Tomorrow', csv })).json();
    const at = new Date(Date.now() + 86_400_000).toISOString();
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${c.id}/start`, { scheduledFor: at })).json().status, 'scheduled');
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${c.id}/pause`)).json().status, 'paused');
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${c.id}/resume`)).json().status, 'scheduled');
    await drain();
    assert.equal((await call('GET', `/api/v1/messaging/campaigns/${c.id}`)).json().createdCount, 0, 'nothing made before its time');
    const job = await t.services.db.k
      .selectFrom('jobs')
      .select('run_at')
      .where('name', '=', 'messaging.campaign_expand')
      .where('status', '=', 'pending')
      .orderBy('run_at', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(job.run_at.toISOString(), at);
  });

  test('a campaign that would pass the service’s daily limit is refused at start; an unknown one is not found', async () => {
    const small = (await call('POST', '/api/v1/messaging/services', { name: 'Tiny', dailyLimit: 5 })).json().id;
    const tpl = (await call('POST', `/api/v1/messaging/services/${small}/templates`, { name: 't', type: 'sms', body: 'Hi' })).json().id;
    const c = (await call('POST', `/api/v1/messaging/services/${small}/campaigns`, { templateId: tpl, name: 'Too many', csv: ['phone number', ...phones(6)].join('\n') })).json();
    const refused = await call('POST', `/api/v1/messaging/campaigns/${c.id}/start`, {});
    assert.equal(refused.json().code, 'CAMPAIGN_OVER_DAILY_LIMIT');
    assert.equal((await call('GET', '/api/v1/messaging/campaigns/01900000-0000-7000-8000-000000000000')).json().code, 'CAMPAIGN_NOT_FOUND');
  });
});
