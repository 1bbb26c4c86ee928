/**
 * Parking as a holder of residents' data, through the real app on each dialect: keepers' mobiles
 * and emails are stored normalised (as residents' are) and the notices still go to them; a
 * resident's subject access export holds the notices sent to their mobile or email, however the
 * file wrote them; erasing the resident anonymises those notices (number, amount, dates and status
 * kept, so the batch adds up as before), cancels their follow-ups, leaves other keepers' notices
 * alone, changes nothing the second time, and a notice not sent yet is never sent. The console
 * still shows erased notices. The migration normalises notices stored as typed, and indexes both.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { ResidentView } from '../../../src/modules/residents/index.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { migrateDown, migrateUp, migrationStatus } from '../../../src/platform/db/migrator.js';
import { newId } from '../../../src/platform/ids.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { type PayPeer, payPeer } from '../messaging/peers/pay.js';
import { file, row as noticeRow } from './fixtures.js';

const system = systemActor('test');
const MIGRATION = '20261206T0100_parking_keepers';

/** A notice row for Morgan unless told otherwise; `over` replaces columns by name. */
const row = (pcn: string, over: Record<string, string> = {}) => noticeRow(pcn, { keeper_name: 'Morgan Keeper', mobile: '', ...over });

/** Sets up the Parking service with a GOV.UK Pay account at the local peer. */
async function parkingReady(t: TestApp, pay: PayPeer): Promise<string> {
  const { serviceId } = await t.services.parking.setUp(system);
  await t.services.payments.setAccount(system, serviceId as string, { baseUrl: pay.url, apiKey: pay.apiKey, webhookSigningSecret: pay.webhookSecret });
  return serviceId as string;
}

forEachDialect('parking notices as residents’ data: export and erasure', (dialect) => {
  let t: TestApp;
  let pay: PayPeer;
  let exporter: string;
  let eraser: string;
  let officer: Browser;
  let morgan: ResidentView;
  let riley: ResidentView;
  let sentBatch: string;

  const call = (key: string, method: 'GET' | 'POST', url: string) => t.app.inject({ method, url, headers: { authorization: `Bearer ${key}` } });
  const runJobs = async () => {
    while ((await t.services.jobs.runOnce()) > 0);
  };
  const deliver = async () => {
    while ((await t.services.delivery.runOnce()) > 0);
  };
  const noticeRow = async (pcn: string) => t.services.db.k.selectFrom('parking_notices').selectAll().where('pcn', '=', pcn).executeTakeFirstOrThrow();
  /** A notice's messages: the first, then its follow-up. */
  const messagesFor = async (pcn: string) =>
    (await t.services.db.k.selectFrom('notifications').selectAll().where('reference', '=', pcn).execute()).sort(
      (a, b) => a.created_at.getTime() - b.created_at.getTime() || Number(!!a.scheduled_for_at) - Number(!!b.scheduled_for_at),
    );
  const upload = async (...rows: string[]) => (await t.services.parking.upload(system, file(...rows))).id;

  before(async () => {
    t = await testApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    pay = await payPeer();
    const serviceId = await parkingReady(t, pay);
    pay.webhookUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/v1/messaging/services/${serviceId}/pay/webhook`;
    exporter = await t.key(['residents:export', 'residents:read']);
    eraser = await t.key(['residents:erase']);
    officer = await t.signInAs(['service']);
    morgan = await t.services.residents.create(system, { name: 'Morgan Keeper', mobile: '+44 7700 900123', email: 'Morgan.Keeper@example.com' });
    riley = await t.services.residents.create(system, { name: 'Riley Driver', mobile: '07700 900124' });
    assert.deepEqual([morgan.mobile, morgan.email], ['447700900123', 'morgan.keeper@example.com']);
  });
  after(() => pay.close());

  test('keepers’ mobiles and emails are stored normalised, as residents’ are, and the notices still go to them', async () => {
    sentBatch = await upload(
      row('RD10000001', { mobile: '07700 900123' }),
      row('RD10000002', { email: ' MORGAN.KEEPER@Example.com ' }),
      row('RD10000003', { keeper_name: 'Other Keeper', vrm: 'ZZ99 ZZZ', mobile: '(07700) 900-999', email: 'Other@Example.com' }),
    );
    await runJobs();
    await deliver();
    assert.deepEqual(
      [await noticeRow('RD10000001'), await noticeRow('RD10000002'), await noticeRow('RD10000003')].map((n) => [n.status, n.channel, n.mobile, n.email]),
      [
        ['sent', 'sms', '447700900123', null],
        ['sent', 'email', null, 'morgan.keeper@example.com'],
        ['sent', 'sms', '447700900999', 'other@example.com'],
      ],
    );
    const [text, textFollowUp] = await messagesFor('RD10000001');
    assert.deepEqual([text.type, text.recipient, text.status], ['sms', '447700900123', 'delivered']);
    assert.equal(textFollowUp.status, 'created', 'the follow-up waits for its day');
    const [email] = await messagesFor('RD10000002');
    assert.deepEqual([email.type, email.recipient, email.status], ['email', 'morgan.keeper@example.com', 'delivered']);
    assert.deepEqual(
      (await t.services.parking.batch(sentBatch)).notices.map((n) => n.erased),
      [false, false, false],
    );
  });

  test('the resident’s subject access export holds the notices sent to their mobile or email, with a summary; not other keepers’', async () => {
    const res = await call(exporter, 'GET', `/api/v1/residents/${morgan.id}/export`);
    assert.equal(res.statusCode, 200, res.body);
    const x = res.json();
    const notices = x.parking.notices as Record<string, any>[];
    assert.deepEqual(
      notices.map((n) => n.pcn),
      ['RD10000001', 'RD10000002'],
    );
    const [first] = notices;
    const view = (await t.services.parking.batch(sentBatch)).notices[0];
    assert.deepEqual(
      {
        ...first,
        sentAt: typeof first.sentAt,
        payLink: { ...first.payLink, followUp: { ...first.payLink.followUp, dueAt: typeof first.payLink.followUp.dueAt } },
      },
      {
        pcn: 'RD10000001',
        vehicle: 'ZA12 BCD',
        keeperName: 'Morgan Keeper',
        mobile: '447700900123',
        email: null,
        sentBy: 'text message',
        language: 'en',
        amountPence: 7000,
        issuedOn: '2026-11-20',
        contravention: '01 Parked in a restricted street',
        location: 'High Street, Moorchester',
        status: 'outstanding',
        failure: null,
        sentAt: 'string',
        payLink: { id: view.payLinkId, status: 'unpaid', clicks: 0, paidPence: null, paidAt: null, followUp: { status: 'waiting', dueAt: 'string' } },
      },
    );
    assert.equal(notices[1].sentBy, 'email');
    const summary = (x.summary as string[]).join('\n');
    assert.match(summary, /Parking fines \(penalty charge notices\) sent to their mobile or email: 2\./);
    assert.match(
      summary,
      /- RD10000001 for vehicle ZA12 BCD, issued on 20 November 2026 at High Street, Moorchester \(01 Parked in a restricted street\): £70\.00, sent by text message on \d+ \w+ 2026; not paid\./,
    );
    assert.ok(!res.body.includes('RD10000003') && !res.body.includes('Other Keeper'), 'another keeper’s notice is not in it');
    const audited = await t.services.audit.search({ targetId: morgan.id, action: 'residents.export', limit: 1 });
    assert.ok((audited[0].changes_json as { modules: string[] }).modules.includes('parking'));

    const none = await t.services.residents.exportResident(system, riley.id);
    assert.deepEqual(none.parking, { summary: ['Parking fines (penalty charge notices) sent to their mobile or email: none.'], notices: [] });
  });

  test('erasing the resident anonymises their notices and cancels their follow-ups, keeps the batch’s figures, leaves other keepers alone; again, it changes nothing', async () => {
    const before = await t.services.parking.batch(sentBatch);
    const other = await noticeRow('RD10000003');
    /** What erasure keeps of a notice: all but the keeper's name, mobile, email and registration. */
    const kept = async (pcn: string) => {
      const n: Partial<Awaited<ReturnType<typeof noticeRow>>> = { ...(await noticeRow(pcn)) };
      for (const personal of ['keeper_name', 'mobile', 'email', 'vrm'] as const) delete n[personal];
      return n;
    };
    const keptBefore = [await kept('RD10000001'), await kept('RD10000002')];

    const res = await call(eraser, 'POST', `/api/v1/residents/${morgan.id}/erase`);
    assert.equal(res.statusCode, 200, res.body);
    // Messaging's own erasure has cancelled the follow-ups to Morgan's contact points already.
    assert.deepEqual(res.json().changed.parking, { notices: 2, reminders: 0 });
    for (const pcn of ['RD10000001', 'RD10000002']) {
      const n = await noticeRow(pcn);
      assert.deepEqual([n.keeper_name, n.mobile, n.email, n.vrm], ['Erased', null, null, ''], pcn);
    }
    assert.deepEqual([await kept('RD10000001'), await kept('RD10000002')], keptBefore, 'number, amount, dates, status and pay link stay');
    assert.deepEqual(await noticeRow('RD10000003'), other, 'another keeper’s notice is untouched');
    const notices = await t.services.db.k.selectFrom('parking_notices').selectAll().execute();
    for (const trace of ['447700900123', 'morgan.keeper@example.com', 'Morgan Keeper']) assert.ok(!JSON.stringify(notices).includes(trace), trace);

    const after = await t.services.parking.batch(sentBatch);
    assert.deepEqual(after.counts, before.counts);
    assert.deepEqual(after.money, before.money);
    assert.deepEqual(
      after.notices.map((n) => [n.pcn, n.erased, n.status, n.followUp.status]),
      [
        ['RD10000001', true, 'outstanding', 'cancelled'],
        ['RD10000002', true, 'outstanding', 'cancelled'],
        ['RD10000003', false, 'outstanding', 'waiting'],
      ],
    );

    // The follow-ups' day comes: only the other keeper's goes.
    await t.services.db.k
      .updateTable('notifications')
      .set({ next_attempt_at: new Date(Date.now() - 1000) })
      .where(
        'id',
        'in',
        after.notices.map((n) => n.followUp.notificationId as string),
      )
      .where('status', '=', 'created')
      .execute();
    await deliver();
    assert.deepEqual(
      (await messagesFor('RD10000001')).map((m) => [m.status, m.recipient]),
      [
        ['delivered', ''],
        ['cancelled', ''],
      ],
    );
    assert.deepEqual(
      (await messagesFor('RD10000002')).map((m) => m.status),
      ['delivered', 'cancelled'],
    );
    assert.deepEqual(
      (await messagesFor('RD10000003')).map((m) => m.status),
      ['delivered', 'delivered'],
    );

    const snapshot = await t.services.db.k.selectFrom('parking_notices').selectAll().orderBy('pcn').execute();
    const again = await call(eraser, 'POST', `/api/v1/residents/${morgan.id}/erase`);
    assert.equal(again.statusCode, 200, again.body);
    assert.deepEqual(again.json().changed.parking, { notices: 0, reminders: 0 });
    assert.deepEqual(await t.services.db.k.selectFrom('parking_notices').selectAll().orderBy('pcn').execute(), snapshot);
    const exported = await t.services.residents.exportResident(system, morgan.id);
    assert.deepEqual((exported.parking as { notices: unknown[] }).notices, []);
  });

  test('a notice not sent yet when its keeper is erased is never sent, nor tried again; a run that died holding one skips it too', async () => {
    const batchId = await upload(
      row('RD20000001', { keeper_name: 'Riley Driver', mobile: '07700900124' }),
      row('RD20000002', { keeper_name: 'Riley Driver', mobile: '+447700 900124', email: 'riley@example.com' }),
      row('RD20000003', { keeper_name: 'Other Driver', mobile: '07700 900998' }),
    );
    // A run claimed RD20000002 and died before Pay was asked: it is still "sending".
    await t.services.db.k.updateTable('parking_notices').set({ status: 'sending', attempts: 1 }).where('pcn', '=', 'RD20000002').execute();
    const payments = pay.payments.length;

    const res = await call(eraser, 'POST', `/api/v1/residents/${riley.id}/erase`);
    assert.equal(res.statusCode, 200, res.body);
    // Messaging's own erasure has cancelled the follow-ups to Morgan's contact points already.
    assert.deepEqual(res.json().changed.parking, { notices: 2, reminders: 0 });
    assert.deepEqual([(await noticeRow('RD20000001')).status, (await noticeRow('RD20000002')).status], ['failed', 'sending']);

    await runJobs();
    await deliver();
    const batch = await t.services.parking.batch(batchId);
    assert.equal(batch.status, 'sent', 'the job finished rather than failing on a notice with no one to send to');
    assert.equal(batch.problem, null);
    assert.deepEqual(
      batch.notices.map((n) => [n.pcn, n.status, n.erased, n.keeperName, n.vrm]),
      [
        ['RD20000001', 'failed', true, 'Erased', ''],
        ['RD20000002', 'failed', true, 'Erased', ''],
        ['RD20000003', 'outstanding', false, 'Other Driver', 'ZA12 BCD'],
      ],
    );
    for (const n of batch.notices.slice(0, 2)) assert.match(n.failure as string, /personal data was erased before it was sent/);
    assert.deepEqual(
      pay.payments.slice(payments).map((p) => p.reference),
      ['RD20000003'],
      'no payment made for an erased keeper',
    );
    assert.equal((await messagesFor('RD20000001')).length + (await messagesFor('RD20000002')).length, 0, 'nothing sent to an erased keeper');

    // Trying again: there is no one to send the erased ones to.
    const retry = await t.app.inject({ method: 'POST', url: `/api/v1/parking/batches/${batchId}/retry`, headers: { authorization: `Bearer ${await t.key(['parking:manage'])}` } });
    assert.equal(retry.statusCode, 409, retry.body);
    assert.equal(retry.json().code, 'PARKING_NOTHING_TO_RETRY');

    const page = await t.app.inject({ url: `/console/parking/batches/${batchId}`, headers: { cookie: officer.cookie } });
    assert.equal(page.statusCode, 200);
    assert.doesNotMatch(page.body, /Try the notices not sent again/, 'no button for notices that cannot be sent');
  });

  test('the console still shows erased notices: the batch, the notice and its follow-up, the CSV', async () => {
    const page = await t.app.inject({ url: `/console/parking/batches/${sentBatch}`, headers: { cookie: officer.cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, />RD10000001<\/a><\/td>\s*<td class="govuk-table__cell">Erased<\/td>/);
    assert.match(page.body, /Cancelled: the keeper’s data was erased/);
    assert.match(page.body, />ZZ99 ZZZ</);
    const erased = (await t.services.parking.batch(sentBatch)).notices[0];
    const notice = await t.app.inject({ url: `/console/parking/notices/${erased.id}`, headers: { cookie: officer.cookie } });
    assert.equal(notice.statusCode, 200);
    assert.match(notice.body, /Vehicle\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*Erased/);
    assert.match(notice.body, /Keeper\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*Erased/);
    assert.match(notice.body, /Cancelled: the keeper’s data was erased/);
    const csv = await t.app.inject({ url: `/console/parking/batches/${sentBatch}/notices.csv`, headers: { cookie: officer.cookie } });
    assert.equal(csv.statusCode, 200);
    assert.match(csv.body, /\r?\n2,RD10000001,,sms,en,70\.00,outstanding,/);
  });

  test('a keeper erased while Pay is being asked for their link: the notice is recorded sent, and its follow-up cancelled', async () => {
    // Matched on their email; texted to a number they never gave Weft, so messaging's own erasure cannot find the follow-up.
    const sky = await t.services.residents.create(system, { name: 'Sky Keeper', email: 'sky.keeper@example.com' });
    const batch = await upload(row('RD40000001', { keeper_name: 'Sky Keeper', mobile: '07700 900888', email: 'sky.keeper@example.com' }));
    // The erasure lands after the send job claimed the notice and before it records the pay link.
    const payments = t.services.payments;
    const send = payments.send.bind(payments);
    let erased: number | undefined;
    payments.send = async (...args: Parameters<typeof send>) => {
      const sent = await send(...args);
      erased ??= (await call(eraser, 'POST', `/api/v1/residents/${sky.id}/erase`)).statusCode;
      return sent;
    };
    try {
      await runJobs();
    } finally {
      payments.send = send;
    }
    assert.equal(erased, 200);
    const [, followUp] = await messagesFor('RD40000001');
    assert.deepEqual([followUp.status, followUp.status_reason], ['cancelled', 'The keeper’s personal data was erased.']);
    const notice = (await t.services.parking.batch(batch)).notices[0];
    assert.deepEqual([notice.erased, notice.followUp.status], [true, 'cancelled']);
  });

  test('a notice matched on the resident’s email but texted to a number they never gave: its follow-up is cancelled too', async () => {
    const alex = await t.services.residents.create(system, { name: 'Alex Keeper', email: 'alex.keeper@example.com' });
    const batch = await upload(row('RD30000001', { keeper_name: 'Alex Keeper', mobile: '07700 900777', email: 'alex.keeper@example.com' }));
    await runJobs();
    await deliver();
    const [text, followUp] = await messagesFor('RD30000001');
    assert.deepEqual([text.recipient, text.status, followUp.status], ['447700900777', 'delivered', 'created']);
    const res = await call(eraser, 'POST', `/api/v1/residents/${alex.id}/erase`);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().changed.parking, { notices: 1, reminders: 1 });
    const [, cancelled] = await messagesFor('RD30000001');
    assert.deepEqual([cancelled.status, cancelled.status_reason], ['cancelled', 'The keeper’s personal data was erased.']);
    assert.equal((await t.services.parking.batch(batch)).notices[0].followUp.status, 'cancelled');
  });
});

forEachDialect('parking keepers migration', (dialect) => {
  let t: TestApp;
  let pay: PayPeer;

  before(async () => {
    t = await testApp(dialect);
    pay = await payPeer();
  });
  after(() => pay.close());

  test('notices stored as typed are normalised, and a keeper’s notices are found by index, not by a scan', async () => {
    const db = t.services.db;
    const serviceId = await parkingReady(t, pay);
    const applied = async () => (await migrationStatus(db)).find((m) => m.name === MIGRATION)?.executedAt;
    while (await applied()) await migrateDown(db);
    const now = new Date();
    const batchId = newId();
    const notice = (pcn: string, mobile: string | null, email: string | null) => ({
      id: newId(),
      batch_id: batchId,
      row_number: Number(pcn.slice(-1)) + 1,
      pcn,
      vrm: 'ZA12 BCD',
      keeper_name: 'Sam Keeper',
      mobile,
      email,
      channel: mobile ? ('sms' as const) : ('email' as const),
      amount_pence: 7000,
      issued_on: '2026-11-20',
      contravention: 'x',
      location: 'y',
      language: 'en' as const,
      status: 'sent',
      attempts: 1,
      failure: null,
      pay_link_id: null,
      notification_id: null,
      sent_at: now,
      created_at: now,
    });
    const batch = {
      id: batchId,
      service_id: serviceId,
      file_name: null,
      follow_up_days: 14,
      status: 'sent',
      notices: 3,
      total_pence: 21000,
      job_id: null,
      created_by: 'test',
      created_at: now,
      sent_at: now,
    };
    await db.transaction((trx) =>
      t.services.parking.repo.insertBatch(
        batch,
        [notice('MG10000001', '07700 900123', null), notice('MG10000002', '+44 (0)7700 900124', ' Sam.Keeper@Example.COM '), notice('MG10000003', null, 'sam@example.com')],
        trx,
      ),
    );
    await migrateUp(db);
    assert.ok(await applied());
    const rows = await db.k.selectFrom('parking_notices').select(['pcn', 'mobile', 'email']).orderBy('pcn').execute();
    assert.deepEqual(rows, [
      { pcn: 'MG10000001', mobile: '447700900123', email: null },
      { pcn: 'MG10000002', mobile: '447700900124', email: 'sam.keeper@example.com' },
      { pcn: 'MG10000003', mobile: null, email: 'sam@example.com' },
    ]);
    assert.deepEqual(
      (await t.services.parking.repo.ofKeeper({ mobile: '447700900124', email: 'sam@example.com' })).map((n) => n.pcn),
      ['MG10000002', 'MG10000003'],
    );

    // The look-up export and erasure make: by the partial indexes (PostgreSQL told not to scan, as a small table would otherwise be).
    const query = sql`select id from parking_notices where (mobile = ${sql.lit('447700900124')} or email = ${sql.lit('sam@example.com')})`;
    const plan =
      dialect === 'postgres'
        ? await db.transaction(async (trx) => {
            await sql`set local enable_seqscan = off`.execute(trx);
            return JSON.stringify((await sql`explain ${query}`.execute(trx)).rows);
          })
        : JSON.stringify((await sql`explain query plan ${query}`.execute(db.k)).rows);
    assert.match(plan, /parking_notices_mobile/, plan);
    assert.match(plan, /parking_notices_email/, plan);
    assert.doesNotMatch(plan, /Seq Scan|SCAN parking_notices(?! USING)/, plan);
  });
});
