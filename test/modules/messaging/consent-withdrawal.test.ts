/**
 * Withdrawing consent stops the messages it covered: a resident's messages about the topic that no
 * provider has been given yet (held by quiet hours, an audience campaign's rows, one a worker has
 * claimed but not sent) are cancelled with the reason, in the transaction that withdraws it; on
 * erasure every one is, even one queued while the erasure runs. A message already handed to a
 * provider goes. The fallback to the next channel checks the consent again. Notifications keep
 * their topic, and the statement that finds a resident's waiting ones uses notifications_resident.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { CompiledQuery, sql } from 'kysely';
import { signToken, splitApiKey } from '../../../src/modules/messaging/notify.auth.js';
import { SMOKE_TEST_RECIPIENTS } from '../../../src/modules/messaging/recipients.js';
import type { ResidentInput } from '../../../src/modules/residents/index.js';
import { type Actor, systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { squareWards } from '../../geo-fixtures.js';

const system = systemActor('test');
const WARDS = squareWards([{ name: 'North', code: 'N1', box: [-2.5, 52.33, -2.45, 52.36] }]);
const home = { location: { lat: 52.34, lon: -2.48 }, postcode: 'WR1 1AA' };
const ERASED = 'The resident’s personal data was erased';

/** Quiet hours that hold now: from an hour ago to two hours from now, UK time. */
function quietNow(): { quietFrom: string; quietTo: string } {
  const at = (ms: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(Date.now() + ms));
  return { quietFrom: at(-3_600_000), quietTo: at(7_200_000) };
}

forEachDialect('withdrawing consent cancels the messages it covered', (dialect) => {
  let t: TestApp;
  let serviceId: string;
  let northId: string;
  let notifyKey: { serviceId: string; secret: string };
  let campaignKey: string;
  const templates: Record<string, string> = {};
  const sender = (keyType: 'normal' | 'test'): Actor => ({ ...system, serviceId, keyType });

  const create = (input: ResidentInput) => t.services.residents.create(system, input);
  const send = (actor: Actor, residentId: string, topic?: string, channels: Record<string, string> = { email: templates.email }) =>
    t.services.residentSending.send(actor, { residentId, templates: channels, topic, personalisation: {} });
  const rowsOf = (residentId: string) => t.services.db.k.selectFrom('notifications').selectAll().where('resident_id', '=', residentId).orderBy('created_at').orderBy('id').execute();
  const row = (id: string) => t.services.db.k.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const withdraw = async (residentId: string, purpose: string) => {
    const consent = (await t.services.residents.consentsOf(residentId)).find((c) => c.purpose === purpose && !c.withdrawnAt);
    assert.ok(consent, `a consent to ${purpose} in force`);
    return t.services.residents.withdrawConsent(system, residentId, consent.id, { source: 'staff:console' });
  };
  const drain = async () => {
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) return;
    }
  };
  /** The quiet hours are over: whatever still waits for them is due now (a cancelled message waits for nothing). */
  const quietHoursEnd = (residentId: string) =>
    t.services.db.k
      .updateTable('notifications')
      .set({ next_attempt_at: new Date(Date.now() - 1000) })
      .where('resident_id', '=', residentId)
      .where('next_attempt_at', 'is not', null)
      .execute();

  before(async () => {
    t = await testApp(dialect);
    const m = t.services.messaging;
    serviceId = (await m.createService(system, { name: 'Council services' })).id;
    notifyKey = splitApiKey((await m.createKey(system, serviceId, { name: 'council systems', keyType: 'normal' })).apiKey);
    templates.email = (await m.createTemplate(system, serviceId, { name: 'News (email)', type: 'email', subject: 'News from the council', body: 'Dear ((name)), here is the news.' })).id;
    templates.sms = (await m.createTemplate(system, serviceId, { name: 'News (text)', type: 'sms', body: 'Dear ((name)), here is the news.' })).id;
    campaignKey = await t.key(['messaging:manage', 'messages:read', 'messages:send', 'templates:manage']);
    await t.services.estate.importAreas(system, WARDS);
    northId = (await t.services.estate.listAreas())[0].id;
  });

  test('a message held by quiet hours is cancelled when consent to its topic is withdrawn and is never sent; other topics still go', async () => {
    const r = await create({ name: 'Alys Hughes', email: 'alys@example.com', preferences: { 'bin-collections': ['email'], roadworks: ['email'] }, ...quietNow() });
    const bins = await send(sender('normal'), r.id, 'bin-collections');
    const roads = await send(sender('normal'), r.id, 'roadworks');
    const general = await send(sender('normal'), r.id);
    assert.deepEqual([bins.topic, roads.topic, general.topic], ['bin-collections', 'roadworks', null], 'each notification records its topic');
    assert.ok(bins.scheduled_for_at && bins.scheduled_for_at.getTime() > Date.now(), 'held by quiet hours');

    await withdraw(r.id, 'messages:bin-collections');
    const cancelled = await row(bins.id);
    assert.deepEqual(
      [cancelled.status, cancelled.status_reason, cancelled.next_attempt_at, cancelled.provider],
      ['cancelled', 'The resident withdrew their consent to messages about bin collections.', null, null],
    );
    assert.ok(cancelled.completed_at, 'a final status has its time');
    assert.deepEqual([(await row(roads.id)).status, (await row(general.id)).status], ['created', 'created']);

    await quietHoursEnd(r.id);
    await drain();
    const after = new Map((await rowsOf(r.id)).map((n) => [n.id, n]));
    assert.deepEqual([after.get(bins.id)?.status, after.get(bins.id)?.sent_at], ['cancelled', null], 'never sent');
    assert.equal(after.get(roads.id)?.status, 'delivered', 'a message on another topic is unaffected');
    assert.equal(after.get(general.id)?.status, 'delivered', 'a message on no topic is unaffected');

    // Notify's API shows a status it has; the console shows it with the reason.
    const api = await t.app.inject({ method: 'GET', url: `/v2/notifications/${bins.id}`, headers: { authorization: `Bearer ${signToken(notifyKey.serviceId, notifyKey.secret)}` } });
    assert.equal(api.statusCode, 200, api.body);
    assert.equal(api.json().status, 'cancelled');
    const staff = await t.signInAs(['comms']);
    const page = await t.app.inject({ method: 'GET', url: `/console/messaging/notifications/${bins.id}`, headers: { cookie: staff.cookie } });
    assert.equal(page.statusCode, 200, page.body);
    assert.match(page.body, /Cancelled/);
    assert.match(page.body, /The resident withdrew their consent to messages about bin collections\./);
    assert.match(page.body, /bin-collections/, 'the topic is shown');
  });

  test('a failed text whose topic was withdrawn gets no fallback; one whose consent is still in force does', async () => {
    // With a test key, 07700900003 fails temporarily (Notify's test number).
    const resident = (name: string) => create({ name, email: `${name.toLowerCase()}@example.com`, mobile: '07700900003', preferences: { 'bin-collections': ['sms', 'email'] } });
    const withdrawn = await resident('Bryn');
    const kept = await resident('Carys');
    for (const r of [withdrawn, kept]) assert.equal((await send(sender('test'), r.id, 'bin-collections', { sms: templates.sms, email: templates.email })).type, 'sms');
    // The texts fail, and the fallbacks are queued as durable jobs with the failures...
    while ((await t.services.delivery.runOnce()) > 0);
    for (const r of [withdrawn, kept])
      assert.deepEqual(
        (await rowsOf(r.id)).map((n) => n.status),
        ['temporary-failure'],
      );
    // ...then, before the jobs run, one of them withdraws consent to the topic.
    await withdraw(withdrawn.id, 'messages:bin-collections');
    await drain();
    assert.deepEqual(
      (await rowsOf(withdrawn.id)).map((n) => [n.type, n.status]),
      [['sms', 'temporary-failure']],
      'no email once the consent is withdrawn',
    );
    const sent = await rowsOf(kept.id);
    assert.deepEqual(
      sent.map((n) => [n.type, n.status, n.topic]),
      [
        ['sms', 'temporary-failure', 'bin-collections'],
        ['email', 'delivered', 'bin-collections'],
      ],
      'the fallback goes, and keeps the topic',
    );
    assert.equal(sent[1].fallback_of, sent[0].id);
  });

  test('an audience campaign’s messages carry their topic; one waiting for a resident who withdraws is cancelled and stays so after a pause', async () => {
    const r = await create({ name: 'Dafydd Rees', email: 'dafydd@example.com', ...home, ...quietNow() });
    await t.services.residents.subscribe(system, r.id, { topic: 'school-closures', kind: 'home' });
    const call = (method: string, url: string, payload?: object) => t.app.inject({ method: method as 'POST', url, headers: { authorization: `Bearer ${campaignKey}` }, payload });
    const created = await call('POST', `/api/v1/messaging/services/${serviceId}/campaigns`, {
      name: 'School closed',
      audience: { topic: 'school-closures', areaIds: [northId] },
      templates: { email: templates.email },
      personalisation: {},
    });
    assert.equal(created.statusCode, 201, created.body);
    const campaign = created.json().id;
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${campaign}/start`, {})).statusCode, 200);
    await drain();
    const [held] = await rowsOf(r.id);
    assert.deepEqual([held?.campaign_id, held?.topic, held?.status], [campaign, 'school-closures', 'created'], 'held by quiet hours');

    await withdraw(r.id, 'messages:school-closures');
    assert.deepEqual([(await row(held.id)).status, (await row(held.id)).status_reason], ['cancelled', 'The resident withdrew their consent to messages about school closures.']);
    // A pause and a resume release what waits, not what was cancelled.
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${campaign}/pause`)).statusCode, 200);
    assert.equal((await call('POST', `/api/v1/messaging/campaigns/${campaign}/resume`)).statusCode, 200);
    assert.deepEqual([(await row(held.id)).status, (await row(held.id)).next_attempt_at], ['cancelled', null]);
  });

  test('a resident who withdraws while a campaign chunk is being made is cancelled once the chunk is stored; others in it are kept', async () => {
    const leaving = await create({ name: 'Gethin Pugh', email: 'gethin@example.com', ...home });
    const staying = await create({ name: 'Heledd Owen', email: 'heledd@example.com', ...home });
    for (const r of [leaving, staying]) await t.services.residents.subscribe(system, r.id, { topic: 'school-closures', kind: 'home' });
    const call = (method: string, url: string, payload?: object) => t.app.inject({ method: method as 'POST', url, headers: { authorization: `Bearer ${campaignKey}` }, payload });
    const created = await call('POST', `/api/v1/messaging/services/${serviceId}/campaigns`, {
      name: 'School closed again',
      audience: { topic: 'school-closures', areaIds: [northId] },
      templates: { email: templates.email },
      personalisation: {},
      urgent: true,
    });
    assert.equal(created.statusCode, 201, created.body);
    // The chunk reads its residents, then one of them withdraws before its rows are stored.
    const residents = t.services.residents;
    const getMany = residents.getMany;
    residents.getMany = async (ids: string[]) => {
      const read = await getMany.call(residents, ids);
      if (ids.includes(leaving.id)) await withdraw(leaving.id, 'messages:school-closures');
      return read;
    };
    try {
      assert.equal((await call('POST', `/api/v1/messaging/campaigns/${created.json().id}/start`, {})).statusCode, 200);
      await drain();
    } finally {
      residents.getMany = getMany;
    }
    const [gone] = (await rowsOf(leaving.id)).filter((n) => n.campaign_id === created.json().id);
    const [kept] = (await rowsOf(staying.id)).filter((n) => n.campaign_id === created.json().id);
    assert.deepEqual([gone?.status, gone?.status_reason], ['cancelled', 'The resident withdrew their consent to messages about school closures.']);
    assert.equal(kept?.status, 'delivered');
  });

  test('erasure cancels everything still waiting for the resident, on any topic, even a message queued while it runs', async () => {
    const r = await create({ name: 'Eirlys Morgan', email: 'eirlys@example.com', preferences: { 'bin-collections': ['email'], roadworks: ['email'] }, ...quietNow() });
    const waiting = [await send(sender('normal'), r.id, 'bin-collections'), await send(sender('normal'), r.id, 'roadworks'), await send(sender('normal'), r.id)];
    // Consent to a named purpose is not consent to messages about a topic: withdrawing it cancels nothing.
    await t.services.residents.giveConsent(system, r.id, 'marketing');
    await withdraw(r.id, 'marketing');
    for (const n of waiting) assert.equal((await row(n.id)).status, 'created');

    // Another module sends to the resident while the erasure runs, after messaging has forgotten
    // them (holders run in turn): withdrawing all their consents at the end cancels it too.
    let late: string | undefined;
    t.services.residents.registerHolder({
      name: 'a module sending meanwhile',
      export: async () => ({ summary: [] }),
      erase: async (key) => {
        if (key.id === r.id) late = (await send(sender('normal'), r.id, 'roadworks')).id;
        return {};
      },
    });
    await t.services.residents.erase(system, r.id);
    assert.ok(late, 'a message was queued during the erasure');
    for (const id of [...waiting.map((n) => n.id), late]) {
      const n = await row(id);
      assert.deepEqual([n.status, n.status_reason, n.next_attempt_at], ['cancelled', ERASED, null], `${n.topic ?? 'no topic'}: cancelled`);
    }
    await quietHoursEnd(r.id);
    await drain();
    assert.equal((await row(late)).status, 'cancelled', 'never sent');
  });

  test('a message a worker has claimed is cancelled and then refused at the send; one already handed to a provider goes', async () => {
    const r = await create({ name: 'Ffion Lloyd', email: 'ffion@example.com', preferences: { parking: ['email'] } });
    const [claimed, inFlight, retried] = [await send(sender('normal'), r.id, 'parking'), await send(sender('normal'), r.id, 'parking'), await send(sender('normal'), r.id, 'parking')];
    const repo = t.services.messaging.repo;
    const worker = 'test-worker';
    const now = new Date();
    const taken = await repo.claimDue(worker, now, new Date(now.getTime() + 60_000), 100, ['email'], [...SMOKE_TEST_RECIPIENTS]);
    for (const n of [claimed, inFlight, retried])
      assert.ok(
        taken.some((x) => x.id === n.id),
        'claimed by the worker',
      );
    assert.ok(await repo.markInFlight(worker, inFlight.id, 'test-provider', new Date()), 'handed to a provider before the withdrawal');

    await withdraw(r.id, 'messages:parking');
    assert.deepEqual(
      [(await row(claimed.id)).status, (await row(retried.id)).status, (await row(inFlight.id)).status],
      ['cancelled', 'cancelled', 'sending'],
      'what a provider already has is left to go',
    );
    assert.equal(await repo.markInFlight(worker, claimed.id, 'test-provider', new Date()), false, 'the worker is refused: not sent');
    await repo.release(worker, claimed.id);
    // The worker found the provider over its rate and asks for a retry; the other send is accepted.
    await repo.recordOutcomes(
      worker,
      [
        { id: retried.id, status: 'created', reason: null, provider: 'test-provider', retryAt: new Date(Date.now() + 1000) },
        { id: inFlight.id, status: 'delivered', provider: 'test-provider', providerRef: 'ref-1', sentAt: new Date(), completedAt: new Date() },
      ],
      new Date(),
    );
    const reason = 'The resident withdrew their consent to messages about parking.';
    for (const n of [claimed, retried]) {
      const after = await row(n.id);
      assert.deepEqual([after.status, after.status_reason, after.next_attempt_at, after.locked_by], ['cancelled', reason, null, null], 'cancelled for good');
    }
    assert.equal((await row(inFlight.id)).status, 'delivered');
    for (const x of taken) await repo.release(worker, x.id);
  });

  test('one with a provider when consent ends goes if the provider takes it, but is cancelled if the provider asks for a retry', async () => {
    const r = await create({ name: 'Gwen Price', email: 'gwen@example.com', preferences: { parking: ['email'] } });
    const [busy, taken] = [await send(sender('normal'), r.id, 'parking'), await send(sender('normal'), r.id, 'parking')];
    const repo = t.services.messaging.repo;
    const worker = 'test-worker-2';
    const now = new Date();
    const claimed = await repo.claimDue(worker, now, new Date(now.getTime() + 60_000), 100, ['email'], [...SMOKE_TEST_RECIPIENTS]);
    for (const n of [busy, taken]) assert.ok(await repo.markInFlight(worker, n.id, 'test-provider', new Date()), 'with the provider');

    await withdraw(r.id, 'messages:parking');
    assert.deepEqual([(await row(busy.id)).status, (await row(taken.id)).status], ['sending', 'sending'], 'a provider has them: left to go');
    await repo.recordOutcomes(
      worker,
      [
        { id: busy.id, status: 'created', reason: 'The provider was busy', provider: 'test-provider', retryAt: new Date(Date.now() + 1000) },
        { id: taken.id, status: 'delivered', provider: 'test-provider', providerRef: 'ref-2', sentAt: new Date(), completedAt: new Date() },
      ],
      new Date(),
    );
    const retried = await row(busy.id);
    assert.deepEqual(
      [retried.status, retried.status_reason, retried.next_attempt_at, retried.locked_by],
      ['cancelled', 'The resident withdrew their consent to messages about parking.', null, null],
      'the retry is a cancellation: it never goes again',
    );
    assert.ok(retried.completed_at);
    assert.equal((await row(taken.id)).status, 'delivered', 'what the provider took stands');
    for (const x of claimed) await repo.release(worker, x.id);
  });

  test('consent that ends after a send has checked it, but before its row is stored, still cancels that row', async () => {
    const r = await create({ name: 'Huw Jones', email: 'huw@example.com', preferences: { roadworks: ['email'] }, ...quietNow() });
    // The withdrawal commits while the send is between its consent check and its insert (it reads its
    // templates there): the withdrawal's own cancelling finds no row yet.
    const m = t.services.messaging;
    const currentTemplate = m.currentTemplate.bind(m);
    let withdrawn = false;
    m.currentTemplate = async (...args: Parameters<typeof currentTemplate>) => {
      if (!withdrawn) {
        withdrawn = true;
        await withdraw(r.id, 'messages:roadworks');
        assert.deepEqual(await rowsOf(r.id), [], 'nothing stored yet when the consent ends');
      }
      return currentTemplate(...args);
    };
    try {
      const queued = await send(sender('normal'), r.id, 'roadworks');
      const after = await row(queued.id);
      assert.deepEqual([after.status, after.status_reason], ['cancelled', 'The resident withdrew their consent to messages about roadworks.']);
    } finally {
      m.currentTemplate = currentTemplate;
    }
  });

  test('the statement that finds a resident’s waiting messages uses notifications_resident', async () => {
    const db = t.services.db;
    for (const topic of ['parking', null]) {
      const q = t.services.messaging.repo.waitingForResident(db.k, '01900000-0000-7000-8000-000000000001', topic).set({ status: 'cancelled' }).compile();
      const plan =
        dialect === 'sqlite'
          ? (await db.k.executeQuery(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${q.sql}`, [...q.parameters]))).rows.map((p) => (p as { detail: string }).detail).join('\n')
          : await db.transaction(async (trx) => {
              // A test table is small enough to scan: with scans turned off, the plan shows whether the index can serve.
              await sql`SET LOCAL enable_seqscan = off`.execute(trx);
              const rows = (await trx.executeQuery(CompiledQuery.raw(`EXPLAIN ${q.sql}`, [...q.parameters]))).rows;
              return rows.map((p) => (p as Record<string, string>)['QUERY PLAN']).join('\n');
            });
      // A range of the index by resident, not a walk through all of it.
      assert.match(
        plan,
        dialect === 'sqlite'
          ? /SEARCH notifications USING INDEX notifications_resident \(resident_id=\?\)/
          : /(Index Scan using|Bitmap Index Scan on) notifications_resident[^\n]*\n\s*Index Cond: \(resident_id = /,
        plan,
      );
    }
  });
});
