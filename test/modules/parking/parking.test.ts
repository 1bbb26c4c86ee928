/**
 * Parking fines against a local GOV.UK Pay (../messaging/peers/pay.ts): a file of penalty charge
 * notices becomes a text (or email) with a pay link in the development inbox; a click counts as
 * clicked; Pay's signed webhook marks a notice paid and cancels its follow-up; an unpaid one gets
 * exactly one follow-up when its day comes; bad files, notices sent before and staff without the
 * permission are refused with nothing stored; a job run again, or cut short, sends nothing twice.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { SEND_JOB } from '../../../src/modules/parking/index.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { type PayPeer, payPeer } from '../messaging/peers/pay.js';
import { file, HEADER, row } from './fixtures.js';

const system = systemActor('test');
const CODE = /\/l\/([0-9A-Za-z]{12})\b/;

forEachDialect('parking fines with pay links', (dialect) => {
  let t: TestApp;
  let pay: PayPeer;
  let weft: string;
  let key: string;
  let serviceId: string;

  const upload = (text: string, query = '', auth = key) =>
    t.app.inject({ method: 'POST', url: `/api/v1/parking/batches${query}`, headers: { authorization: `Bearer ${auth}`, 'content-type': 'text/csv' }, payload: text });
  const batch = async (id: string) => {
    const res = await t.app.inject({ url: `/api/v1/parking/batches/${id}`, headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };
  const runJobs = async () => {
    while ((await t.services.jobs.runOnce()) > 0);
  };
  const deliver = async () => {
    while ((await t.services.delivery.runOnce()) > 0);
  };
  const count = async (table: 'parking_batches' | 'parking_notices' | 'notifications' | 'pay_links') =>
    Number(
      (
        await t.services.db.k
          .selectFrom(table)
          .select((e) => e.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  /** A notice's messages: the first, then its follow-up (made in the same millisecond, so ordered by being scheduled). */
  const messagesFor = async (pcn: string) =>
    (await t.services.db.k.selectFrom('notifications').selectAll().where('reference', '=', pcn).execute()).sort(
      (a, b) => a.created_at.getTime() - b.created_at.getTime() || Number(!!a.scheduled_for_at) - Number(!!b.scheduled_for_at),
    );
  const notice = (b: { notices: { pcn: string }[] }, pcn: string) => b.notices.find((n) => n.pcn === pcn) as Record<string, any>;
  /** Uploads, runs the sending job, and answers the batch. */
  const send = async (text: string, query = '') => {
    const res = await upload(text, query);
    assert.equal(res.statusCode, 201, res.body);
    await runJobs();
    return batch(res.json().id);
  };

  before(async () => {
    t = await testApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    weft = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    pay = await payPeer();
    key = await t.key(['parking:manage']);
  });
  after(() => pay.close());

  test('until the Parking service is set up with a GOV.UK Pay account, uploads are refused and nothing is stored', async () => {
    const none = await upload(file(row('AA00000001')));
    assert.equal(none.statusCode, 409);
    assert.equal(none.json().code, 'PARKING_PAY_ACCOUNT_MISSING');
    assert.match(none.json().detail, /not set up yet/);
    const auth = { authorization: `Bearer ${key}` };
    assert.deepEqual((await t.app.inject({ url: '/api/v1/parking/setup', headers: auth })).json(), { serviceId: null, payAccount: false, payAccountUrl: null, webhookUrl: null });

    const made = await t.app.inject({ method: 'POST', url: '/api/v1/parking/setup', headers: auth });
    assert.equal(made.statusCode, 200, made.body);
    serviceId = made.json().serviceId;
    assert.equal(made.json().payAccount, false);
    assert.equal(made.json().payAccountUrl, `/api/v1/messaging/services/${serviceId}/pay`);
    const templates = await t.services.messaging.listTemplates(serviceId);
    assert.deepEqual(templates.map((x) => `${x.type}: ${x.name}`).sort(), [
      'email: Penalty charge not paid (email)',
      'email: Penalty charge notice (email)',
      'sms: Penalty charge not paid (text)',
      'sms: Penalty charge notice (text)',
    ]);
    assert.ok(templates.every((x) => x.body_cy?.includes('((pay_link))')));
    // Set up again: nothing new.
    await t.app.inject({ method: 'POST', url: '/api/v1/parking/setup', headers: auth });
    assert.equal((await t.services.messaging.listTemplates(serviceId)).length, 4);

    const noAccount = await upload(file(row('AA00000001')));
    assert.equal(noAccount.statusCode, 409);
    assert.equal(noAccount.json().code, 'PARKING_PAY_ACCOUNT_MISSING');
    assert.match(noAccount.json().detail, new RegExp(`PUT /api/v1/messaging/services/${serviceId}/pay`));
    assert.equal(await count('parking_batches'), 0);

    await t.services.payments.setAccount(system, serviceId, { baseUrl: pay.url, apiKey: pay.apiKey, webhookSigningSecret: pay.webhookSecret });
    pay.webhookUrl = `${weft}/api/v1/messaging/services/${serviceId}/pay/webhook`;
    assert.equal((await t.app.inject({ url: '/api/v1/parking/setup', headers: auth })).json().payAccount, true);
  });

  test('each keeper gets a text with a pay link in the development inbox, an email when there is no mobile, in Welsh when asked', async () => {
    const before = pay.payments.length;
    const res = await upload(
      file(
        row('AB10000001'),
        row('AB10000002', { mobile: '', email: 'keeper@example.com', amount: '£50', issued_on: '19/11/2026' }),
        row('AB10000003', { mobile: '07700900403', language: 'cy', keeper_name: 'Seren Pryderi' }),
      ),
      '?fileName=november.csv',
    );
    assert.equal(res.statusCode, 201, res.body);
    const made = res.json();
    assert.equal(res.headers.location, `/api/v1/parking/batches/${made.id}`);
    assert.equal(made.status, 'sending');
    assert.equal(made.fileName, 'november.csv');
    assert.deepEqual([made.counts.notices, made.counts.waiting, made.money.totalPence], [3, 3, 19000]);
    const audit = await t.services.audit.search({ action: 'parking.batch_upload', limit: 5 });
    assert.equal(audit[0].target_id, made.id);
    assert.match(audit[0].summary, /Uploaded 3 penalty charge notices \(£190\.00\) from november\.csv/);
    assert.ok(!audit[0].summary.includes('Sam Keeper') && !audit[0].summary.includes('07700'), 'no personal data in the audit log');

    await runJobs();
    const sent = await batch(made.id);
    assert.equal(sent.status, 'sent');
    assert.deepEqual([sent.counts.waiting, sent.counts.outstanding, sent.counts.failed], [0, 3, 0]);
    assert.equal(pay.payments.length, before + 3);
    const byPcn = Object.fromEntries(pay.payments.slice(before).map((p) => [p.reference, p]));
    assert.deepEqual([byPcn.AB10000001.amount, byPcn.AB10000002.amount, byPcn.AB10000003.amount], [7000, 5000, 7000]);
    assert.equal(byPcn.AB10000001.description, 'Penalty charge notice AB10000001');
    assert.equal(byPcn.AB10000003.language, 'cy');
    assert.equal(byPcn.AB10000003.description, 'Hysbysiad Tâl Cosb AB10000003');

    const [text] = await messagesFor('AB10000001');
    assert.equal(text.type, 'sms');
    assert.equal(text.recipient, '447700900401', 'sent to the mobile as stored: normalised, as residents’ are');
    assert.match(text.body, /^Penalty charge notice AB10000001 for vehicle ZA12 BCD, issued on 20 November 2026 at High Street, Moorchester: £70\.00 to pay\. Pay online at /);
    const code = CODE.exec(text.body)?.[1] as string;
    assert.ok(code, text.body);
    assert.ok(!text.body.includes(pay.url), 'Pay’s own address is never in a message');
    const [email] = await messagesFor('AB10000002');
    assert.equal(email.type, 'email');
    assert.equal(email.recipient, 'keeper@example.com');
    assert.equal(email.subject, 'Penalty charge notice AB10000002 for vehicle ZA12 BCD');
    assert.match(email.body, /Dear Sam Keeper,[\s\S]*on 19 November 2026[\s\S]*Amount to pay: £50\.00/);
    const [welsh] = await messagesFor('AB10000003');
    assert.match(welsh.body, /^Hysbysiad Tâl Cosb AB10000003 ar gyfer cerbyd ZA12 BCD, a roddwyd ar 20 Tachwedd 2026 /);

    await deliver();
    for (const pcn of ['AB10000001', 'AB10000002', 'AB10000003']) {
      const [first, followUp] = await messagesFor(pcn);
      assert.equal(first.status, 'delivered');
      assert.equal(first.provider, 'inbox');
      assert.equal(followUp.status, 'created', 'the follow-up waits for its day');
    }
    const one = notice(await batch(made.id), 'AB10000001');
    assert.equal(one.followUp.status, 'waiting');
    const days = (Date.parse(one.followUp.dueAt) - Date.parse(one.sentAt)) / 86_400_000;
    assert.equal(Math.round(days), 14);
    assert.equal(one.notificationId, text.id);
    assert.ok(one.payLinkId);
  });

  test('a click counts as clicked; paying through Pay’s signed webhook marks the notice paid and cancels its follow-up', async () => {
    const sent = await send(file(row('AC10000001'), row('AC10000002'), row('AC10000003')));
    const [text] = await messagesFor('AC10000001');
    const click = await t.app.inject({ url: `/l/${CODE.exec(text.body)?.[1]}`, headers: { accept: 'text/html' } });
    assert.equal(click.statusCode, 302);
    assert.match(String(click.headers.location), new RegExp(`^${pay.url}/secure/`));

    const paid = pay.payments.find((p) => p.reference === 'AC10000002');
    assert.ok(paid);
    assert.equal(await pay.complete(paid.payment_id, 'success'), 200);

    const after = await batch(sent.id);
    assert.equal(notice(after, 'AC10000001').status, 'clicked');
    assert.equal(notice(after, 'AC10000001').clicks, 1);
    assert.equal(notice(after, 'AC10000002').status, 'paid');
    assert.equal(notice(after, 'AC10000002').paidPence, 7000);
    assert.ok(notice(after, 'AC10000002').paidAt);
    assert.equal(notice(after, 'AC10000002').followUp.status, 'cancelled');
    assert.equal(notice(after, 'AC10000003').status, 'outstanding');
    assert.deepEqual([after.counts.paid, after.counts.clicked, after.counts.outstanding], [1, 1, 1]);
    assert.deepEqual([after.money.paidPence, after.money.unpaidPence, after.money.totalPence], [7000, 14000, 21000]);
    const [, followUp] = await messagesFor('AC10000002');
    assert.equal(followUp.status, 'cancelled');
    assert.match(String(followUp.status_reason), /^Paid on /);
  });

  test('an unpaid notice gets exactly one follow-up when its day comes; a paid one gets none', async () => {
    const sent = await send(file(row('AD10000001'), row('AD10000002', { mobile: '', email: 'keeper2@example.com' }), row('AD10000003')), '?followUpDays=7');
    assert.equal(sent.followUpDays, 7);
    const paid = pay.payments.find((p) => p.reference === 'AD10000003');
    assert.equal(await pay.complete((paid as { payment_id: string }).payment_id, 'success'), 200);
    await deliver();
    // The follow-ups' day comes.
    const followUps = sent.notices.map((n: { followUp: { notificationId: string } }) => n.followUp.notificationId);
    await t.services.db.k
      .updateTable('notifications')
      .set({ next_attempt_at: new Date(Date.now() - 1000) })
      .where('id', 'in', followUps)
      .where('status', '=', 'created')
      .execute();
    await deliver();
    await deliver();
    for (const pcn of ['AD10000001', 'AD10000002']) {
      const messages = await messagesFor(pcn);
      assert.deepEqual(
        messages.map((m) => m.status),
        ['delivered', 'delivered'],
        pcn,
      );
      assert.ok(messages[1].body.includes(CODE.exec(messages[0].body)?.[0] as string), 'the follow-up carries the same pay link');
    }
    const [first] = await messagesFor('AD10000001');
    const [, reminder] = await messagesFor('AD10000001');
    assert.ok(first.body.startsWith('Penalty charge notice'));
    assert.match(reminder.body, /^Reminder: penalty charge notice AD10000001 for vehicle ZA12 BCD has not been paid\. Pay £70\.00 online at /);
    assert.deepEqual(
      (await messagesFor('AD10000003')).map((m) => m.status),
      ['delivered', 'cancelled'],
    );
    const after = await batch(sent.id);
    assert.equal(after.counts.followUpsSent, 2);
    assert.equal(notice(after, 'AD10000001').followUp.status, 'sent');
  });

  test('running the job again sends nothing twice, and a run cut short after sending finds what was stored', async () => {
    const sent = await send(file(row('AE10000001'), row('AE10000002')));
    const payments = pay.payments.length;
    const messages = await count('notifications');
    await t.services.jobs.enqueue(SEND_JOB, { batchId: sent.id }, { idempotencyKey: `again:${sent.id}` });
    await runJobs();
    await t.services.parking.send(sent.id);
    assert.equal(pay.payments.length, payments);
    assert.equal(await count('notifications'), messages);

    // A crash between storing the message and marking the notice: the notice is still claimed.
    const before = notice(sent, 'AE10000002');
    await t.services.db.k.updateTable('parking_notices').set({ status: 'sending', pay_link_id: null, notification_id: null, sent_at: null }).where('id', '=', before.id).execute();
    await t.services.db.k.updateTable('parking_batches').set({ status: 'sending', sent_at: null }).where('id', '=', sent.id).execute();
    await t.services.parking.send(sent.id);
    const after = notice(await batch(sent.id), 'AE10000002');
    assert.equal(after.status, 'outstanding');
    assert.equal(after.payLinkId, before.payLinkId);
    assert.equal(after.notificationId, before.notificationId);
    assert.equal(pay.payments.length, payments, 'no second payment');
    assert.equal(await count('notifications'), messages, 'no second message');

    // A claim is taken once: a run that saw an older count of claims does not get it.
    const row1 = await t.services.parking.repo.findNotice(before.id);
    assert.equal(await t.services.parking.repo.claim(before.id, (row1?.attempts ?? 0) - 1), undefined);
  });

  test('a file with bad rows is refused with each problem by row number, and nothing is stored', async () => {
    const counts = async () => Promise.all([count('parking_batches'), count('parking_notices'), count('notifications'), count('pay_links')]);
    const before = await counts();
    const payments = pay.payments.length;
    const res = await upload(
      file(
        row('AF10000001'),
        row('not a pcn!'),
        row('AF10000003', { mobile: '01632 960123' }),
        row('AF10000004', { mobile: '', email: 'nobody' }),
        row('AF10000005', { mobile: '' }),
        row('AF10000006', { amount: 'seventy', issued_on: '2026-02-30', language: 'fr' }),
        row('AF10000007', { issued_on: '2099-01-01', vrm: '' }),
        row('AF10000001'),
      ),
    );
    assert.equal(res.statusCode, 400, res.body);
    const problem = res.json();
    assert.equal(problem.code, 'PARKING_CSV_INVALID');
    assert.match(problem.detail, /^The file has 10 problems\. Nothing was sent/);
    assert.deepEqual(
      problem.errors.map((e: { field: string }) => e.field),
      ['rows/3/pcn', 'rows/4/mobile', 'rows/5/email', 'rows/6/mobile', 'rows/7/amount', 'rows/7/issued_on', 'rows/7/language', 'rows/8/vrm', 'rows/8/issued_on', 'rows/9/pcn'],
    );
    const messages = problem.errors.map((e: { message: string }) => e.message);
    assert.ok(messages.includes('Row 4: mobile: Enter a UK mobile number, like 07700 900123, or leave it empty.'), messages.join('\n'));
    assert.ok(messages.includes('Row 6: mobile: Give a mobile number or an email address: there is no way to reach this keeper.'));
    assert.ok(messages.includes('Row 8: issued_on: The date the notice was issued cannot be in the future.'));
    assert.ok(messages.includes('Row 9: pcn: AF10000001 is also on row 2: each penalty charge notice may appear once.'));

    const header = await upload('pcn,vrm,keeper,amount,colour\r\nAF1,AB1,x,1,red\r\n');
    assert.equal(header.json().code, 'PARKING_CSV_INVALID');
    assert.deepEqual(
      header.json().errors.map((e: { message: string }) => e.message),
      [
        'Row 1: colour: colour is not a column Weft knows. Use: pcn, vrm, keeper_name, mobile, email, amount, issued_on, contravention, location, language.',
        'Row 1: issued_on: The issued_on column is missing.',
        'Row 1: contravention: The contravention column is missing.',
        'Row 1: location: The location column is missing.',
        'Row 1: mobile: The file needs a mobile column, an email column or both.',
      ],
    );
    const broken = await upload(`${HEADER}\r\n"AF1,unclosed\r\n`);
    assert.match(broken.json().errors[0].message, /^Row 2: file: The file is not valid CSV: a quoted field is not closed/);
    assert.match((await upload(`${HEADER}\r\n`)).json().errors[0].message, /The file has a header but no notices/);
    assert.match((await upload(`${HEADER}\r\nAF1,AB1\r\n`)).json().errors[0].message, /^Row 2: row: This row has 2 fields; the header has 10/);
    const json = await t.app.inject({ method: 'POST', url: '/api/v1/parking/batches', headers: { authorization: `Bearer ${key}` }, payload: { pcn: 'x' } });
    assert.equal(json.statusCode, 400);
    assert.equal(json.json().code, 'VALIDATION_FAILED');
    assert.deepEqual(await counts(), before);
    assert.equal(pay.payments.length, payments);
  });

  test('a notice sent before is refused, from this batch or any other, and never sent twice', async () => {
    const first = await send(file(row('AG10000001'), row('AG10000002')));
    const messages = await count('notifications');
    const again = await upload(file(row('AG10000003'), row('AG10000002')));
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'PARKING_PCN_DUPLICATE');
    assert.match(again.json().detail, /^1 penalty charge notice in the file has been sent before/);
    assert.deepEqual(again.json().errors, [
      {
        field: 'rows/3/pcn',
        message: `Row 3: pcn: AG10000002 was sent before, in the batch of ${new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'long' }).format(new Date(first.createdAt))}.`,
      },
    ]);
    // Written differently (lower case, spaces), it is the same notice.
    const spaced = await upload(file(row('ag 1000 0001')));
    assert.equal(spaced.json().code, 'PARKING_PCN_DUPLICATE');
    // With other problems too, every one is listed in the file's refusal.
    const mixed = await upload(file(row('AG10000001'), row('AG10000004', { amount: '0' })));
    assert.equal(mixed.json().code, 'PARKING_CSV_INVALID');
    assert.deepEqual(
      mixed.json().errors.map((e: { field: string }) => e.field),
      ['rows/2/pcn', 'rows/3/amount'],
    );
    // The database holds to it too.
    const copy = { ...(await t.services.parking.repo.findBatch(first.id)), id: '01900000-0000-7000-8000-0000000000aa' } as never;
    const again2 = { ...(await t.services.parking.repo.findNotice(first.notices[0].id)), id: '01900000-0000-7000-8000-0000000000ab', batch_id: '01900000-0000-7000-8000-0000000000aa' } as never;
    await assert.rejects(t.services.db.transaction((trx) => t.services.parking.repo.insertBatch(copy, [again2], trx)));
    assert.equal(await count('notifications'), messages);
    assert.equal((await t.services.db.k.selectFrom('pay_links').select('id').where('reference', '=', 'AG10000002').execute()).length, 1);
  });

  test('a notice Pay refuses fails on its own; trying again sends it, once; a batch with nothing to try again says so', async () => {
    pay.minimumAmount = 2000;
    const sent = await send(file(row('AH10000001'), row('AH10000002', { amount: '10.00' })));
    pay.minimumAmount = 1;
    assert.equal(sent.status, 'sent');
    assert.equal(notice(sent, 'AH10000001').status, 'outstanding');
    const failed = notice(sent, 'AH10000002');
    assert.equal(failed.status, 'failed');
    assert.match(failed.failure, /^GOV\.UK Pay refused the payment: Invalid attribute value: amount\. Must be greater than or equal to 2000/);
    assert.deepEqual([sent.counts.failed, sent.money.unpaidPence], [1, 7000]);
    assert.equal((await messagesFor('AH10000002')).length, 0);

    const retry = await t.app.inject({ method: 'POST', url: `/api/v1/parking/batches/${sent.id}/retry`, headers: { authorization: `Bearer ${key}` } });
    assert.equal(retry.statusCode, 200, retry.body);
    await runJobs();
    const after = await batch(sent.id);
    assert.equal(notice(after, 'AH10000002').status, 'outstanding');
    assert.equal((await messagesFor('AH10000001')).length, 2, 'the notice sent the first time is not sent again');
    assert.equal((await messagesFor('AH10000002')).length, 2);
    const nothing = await t.app.inject({ method: 'POST', url: `/api/v1/parking/batches/${sent.id}/retry`, headers: { authorization: `Bearer ${key}` } });
    assert.equal(nothing.statusCode, 409);
    assert.equal(nothing.json().code, 'PARKING_NOTHING_TO_RETRY');
    assert.ok((await t.services.audit.search({ action: 'parking.batch_retry', limit: 5 })).some((a) => a.target_id === sent.id));
  });

  test('when GOV.UK Pay cannot be reached the job waits and tries again; no notice fails and each is sent once', async () => {
    await t.services.payments.setAccount(system, serviceId, { baseUrl: 'http://127.0.0.1:9', apiKey: pay.apiKey });
    const res = await upload(file(row('AI10000001'), row('AI10000002')));
    assert.equal(res.statusCode, 201);
    await t.services.jobs.runOnce();
    const waiting = await batch(res.json().id);
    assert.equal(waiting.status, 'sending');
    assert.equal(waiting.counts.waiting, 2);
    assert.match(waiting.problem, /^Sending is waiting to try again: GOV\.UK Pay could not be reached/);
    const busy = await t.app.inject({ method: 'POST', url: `/api/v1/parking/batches/${waiting.id}/retry`, headers: { authorization: `Bearer ${key}` } });
    assert.equal(busy.json().code, 'PARKING_NOTHING_TO_RETRY');

    await t.services.payments.setAccount(system, serviceId, { baseUrl: pay.url, apiKey: pay.apiKey });
    const jobId = (await t.services.parking.repo.findBatch(waiting.id))?.job_id as string;
    await t.services.db.k
      .updateTable('jobs')
      .set({ run_at: new Date(Date.now() - 1000) })
      .where('id', '=', jobId)
      .execute();
    await runJobs();
    const sent = await batch(waiting.id);
    assert.equal(sent.status, 'sent');
    assert.equal(sent.problem, null);
    assert.deepEqual([sent.counts.outstanding, sent.counts.failed], [2, 0]);
    assert.equal(pay.payments.filter((p) => p.reference.startsWith('AI1000000')).length, 2);
  });

  test('the API takes a multipart upload too; unknown batches are 404; staff without parking:manage are refused', async () => {
    const boundary = '----parking-test';
    const body = [
      `--${boundary}\r\nContent-Disposition: form-data; name="followUpDays"\r\n\r\n21\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="multipart.csv"\r\nContent-Type: text/csv\r\n\r\n${file(row('AJ10000001'))}\r\n`,
      `--${boundary}--\r\n`,
    ].join('');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/parking/batches',
      headers: { authorization: `Bearer ${key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: body,
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual([res.json().fileName, res.json().followUpDays], ['multipart.csv', 21]);
    const badDays = await upload(file(row('AJ10000003')), '?followUpDays=99');
    assert.equal(badDays.statusCode, 400);
    assert.equal(badDays.json().code, 'VALIDATION_FAILED');
    const notAFile = await t.app.inject({ method: 'POST', url: '/api/v1/parking/batches', headers: { authorization: `Bearer ${key}` }, payload: { file: 'AJ10000003' } });
    assert.equal(notAFile.statusCode, 415);
    assert.equal(notAFile.json().code, 'UNSUPPORTED_MEDIA_TYPE');
    const list = await t.app.inject({ url: '/api/v1/parking/batches', headers: { authorization: `Bearer ${key}` } });
    assert.equal(list.json().batches[0].id, res.json().id);

    const missing = await t.app.inject({ url: '/api/v1/parking/batches/01900000-0000-7000-8000-000000000000', headers: { authorization: `Bearer ${key}` } });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'PARKING_BATCH_NOT_FOUND');
    await assert.rejects(t.services.parking.notice('01900000-0000-7000-8000-000000000000'), { code: 'PARKING_NOTICE_NOT_FOUND' });
    await assert.rejects(t.services.parking.notice('not-an-id'), { code: 'PARKING_NOTICE_NOT_FOUND' });

    const other = await t.key(['messages:read']);
    const refused = await upload(file(row('AJ10000002')), '', other);
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().code, 'FORBIDDEN');
    const viewer = await t.signInAs(['viewer']);
    assert.equal((await t.app.inject({ url: '/console/parking', headers: { cookie: viewer.cookie } })).statusCode, 403);
    assert.equal((await t.app.inject({ url: '/api/v1/parking/batches' })).statusCode, 401);
    assert.equal(await t.services.parking.repo.findNotice('01900000-0000-7000-8000-000000000000'), undefined);
    assert.equal((await t.services.parking.repo.existingPcns(['AJ10000002', 'AJ10000003'])).size, 0, 'nothing of the refused uploads was stored');
  });
});
