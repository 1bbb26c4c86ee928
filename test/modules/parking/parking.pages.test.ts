/**
 * The console's parking fines as a browser without JavaScript uses them: what the upload page
 * asks for first (the Parking service, then its GOV.UK Pay account), a file's problems listed by
 * row in the GOV.UK way, a good file sent and its batch with counts, tags, a status filter and
 * a CSV export without keepers' details, a notice with its pay link, and who may see any of it.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { type PayPeer, payPeer } from '../messaging/peers/pay.js';

const system = systemActor('test');
import { HEADER } from './fixtures.js';
const GOOD = [
  HEADER,
  'PG10000001,ZA12 BCD,Sam Keeper,07700 900501,,70.00,2026-11-20,01 Parked in a restricted street,"High Street, Moorchester",',
  'PG10000002,ZB34 CDE,Alex Keeper,,alex@example.com,50.00,21/11/2026,30 Parked for longer than permitted,Station Road,en',
  'PG10000003,ZC56 DEF,Seren Pryderi,07700 900503,,70.00,2026-11-22,01 Parked in a restricted street,"Stryd Fawr, Llanwen",cy',
].join('\r\n');

/** A multipart/form-data body, as a browser sends a form with a file input. */
function multipart(fields: Record<string, string>, file: { filename: string; content: string }) {
  const boundary = `----parking${Date.now()}`;
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\nContent-Type: text/csv\r\n\r\n${file.content}\r\n`);
  return { payload: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}

forEachDialect('parking fines in the console', (dialect) => {
  let t: TestApp;
  let pay: PayPeer;
  let officer: Browser;
  let batchUrl: string;
  const get = (b: Browser, url: string) => t.app.inject({ url, headers: { cookie: b.cookie } });
  const post = (b: Browser, url: string, fields: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url, headers: { cookie: b.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ ...fields, _csrf: b.csrf }).toString() });
  const upload = (b: Browser, content: string, fields: Record<string, string> = { followUpDays: '14' }, filename = 'notices.csv') => {
    const { payload, contentType } = multipart({ ...fields, _csrf: b.csrf }, { filename, content });
    return t.app.inject({ method: 'POST', url: '/console/parking/upload', headers: { cookie: b.cookie, 'content-type': contentType }, payload });
  };

  before(async () => {
    t = await testApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    pay = await payPeer();
    officer = await t.signInAs(['service']);
  });
  after(() => pay.close());

  test('the upload page asks for the Parking service, then for its GOV.UK Pay account, before it takes a file', async () => {
    const home = await get(officer, '/console');
    assert.match(home.body, /href="\/console\/parking"/);
    const list = await get(officer, '/console/parking');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /No penalty charge notices have been uploaded yet/);

    const first = await get(officer, '/console/parking/upload');
    assert.equal(first.statusCode, 200);
    assert.match(first.body, /Set up the Parking messaging service first/);
    assert.doesNotMatch(first.body, /type="file"/);
    const setUp = await post(officer, '/console/parking/setup');
    assert.equal(setUp.statusCode, 303);
    assert.equal(setUp.headers.location, '/console/parking/upload');

    const needsPay = await get(officer, '/console/parking/upload');
    assert.match(needsPay.body, /A GOV\.UK Pay account is needed first/);
    const { serviceId } = await t.services.parking.setup();
    assert.ok(needsPay.body.includes(`PUT /api/v1/messaging/services/${serviceId}/pay`));
    assert.ok(needsPay.body.includes(`/api/v1/messaging/services/${serviceId}/pay/webhook`));
    assert.doesNotMatch(needsPay.body, /type="file"/);
    const refused = await upload(officer, GOOD);
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /has no GOV\.UK Pay account/);
    assert.equal((await t.services.parking.list()).length, 0);

    await t.services.payments.setAccount(system, serviceId as string, { baseUrl: pay.url, apiKey: pay.apiKey, webhookSigningSecret: pay.webhookSecret });
    const ready = await get(officer, '/console/parking/upload');
    assert.match(ready.body, /<input class="govuk-file-upload"[^>]*id="file" name="file" type="file"/);
    assert.match(ready.body, /The messages are sent as soon as the file has been checked/);
  });

  test('a file’s problems come back in the GOV.UK way, listed by row, and nothing is sent', async () => {
    const noFile = await upload(officer, '', { followUpDays: '0' });
    assert.equal(noFile.statusCode, 400);
    assert.match(noFile.body, /govuk-error-summary/);
    assert.match(noFile.body, /href="#file">Choose a CSV file of penalty charge notices/);
    assert.match(noFile.body, /href="#followUpDays">Enter the number of days before the follow-up, from 1 to 56/);

    const bad = await upload(officer, `${GOOD}\r\nPG10000004,ZD78 EFG,Jo Keeper,01632 960999,,70.00,2026-11-23,x,y,\r\nPG10000001,ZA12 BCD,Sam Keeper,07700 900501,,70.00,2026-11-20,x,y,`);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /<title>Error: Upload penalty charge notices/);
    assert.match(bad.body, /href="#file">The file has 2 problems\. Nothing was sent: correct the rows listed and upload the file again\./);
    assert.match(bad.body, /<caption class="govuk-table__caption govuk-table__caption--m">Problems in the file<\/caption>/);
    assert.match(
      bad.body,
      /<td class="govuk-table__cell govuk-table__cell--numeric">5<\/td>\s*<td class="govuk-table__cell"><code>mobile<\/code><\/td>\s*<td class="govuk-table__cell">Enter a UK mobile number, like 07700 900123, or leave it empty\.<\/td>/,
    );
    assert.match(bad.body, /<code>pcn<\/code><\/td>\s*<td class="govuk-table__cell">PG10000001 is also on row 2: each penalty charge notice may appear once\.<\/td>/);
    assert.equal((await t.services.parking.list()).length, 0);

    const noCsrf = multipart({ followUpDays: '14' }, { filename: 'a.csv', content: GOOD });
    const forged = await t.app.inject({ method: 'POST', url: '/console/parking/upload', headers: { cookie: officer.cookie, 'content-type': noCsrf.contentType }, payload: noCsrf.payload });
    assert.equal(forged.statusCode, 403);
    assert.equal((await t.services.parking.list()).length, 0);
  });

  test('a good file is sent; the batch shows paid, clicked and outstanding with tags, a filter and the money', async () => {
    const res = await upload(officer, GOOD, { followUpDays: '10' }, 'november.csv');
    assert.equal(res.statusCode, 303, res.body);
    batchUrl = String(res.headers.location);
    assert.match(batchUrl, /^\/console\/parking\/batches\/[0-9a-f-]{36}$/);
    const sending = await get(officer, batchUrl);
    assert.match(sending.body, /Sending: 3 of 3 still to send\./);
    assert.match(sending.body, /data-weft-refresh="5"/);

    while ((await t.services.jobs.runOnce()) > 0);
    const batch = await t.services.parking.batch(batchUrl.split('/').pop() as string);
    const [clicked, paid] = [batch.notices[0], batch.notices[1]];
    const sms = await t.services.db.k
      .selectFrom('notifications')
      .select('body')
      .where('id', '=', clicked.notificationId as string)
      .executeTakeFirstOrThrow();
    const code = /\/l\/([0-9A-Za-z]{12})/.exec(sms.body)?.[1];
    assert.equal((await t.app.inject({ url: `/l/${code}` })).statusCode, 302);
    const { serviceId } = await t.services.parking.setup();
    pay.webhookUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/api/v1/messaging/services/${serviceId}/pay/webhook`;
    const payment = pay.payments.find((p) => p.reference === paid.pcn);
    assert.equal(await pay.complete((payment as { payment_id: string }).payment_id, 'success'), 200);

    const page = await get(officer, batchUrl);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /3 notices: every one sent\./);
    assert.doesNotMatch(page.body, /data-weft-refresh/);
    const figure = (name: string) => new RegExp(`<th scope="row" class="govuk-table__header">${name}</th><td class="govuk-table__cell govuk-table__cell--numeric">(\\d+)</td>`).exec(page.body)?.[1];
    assert.deepEqual([figure('Paid'), figure('Link followed, not paid'), figure('Outstanding \\(link not followed\\)'), figure('Not sent')], ['1', '1', '1', '0']);
    assert.match(page.body, /Amount paid\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*£50\.00/);
    assert.match(page.body, /Still to pay \(sent, not paid\)\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*£140\.00/);
    assert.match(page.body, /After 10 days, to keepers who have not paid/);
    assert.match(page.body, /<strong class="govuk-tag govuk-tag--green">\s*Paid\s*<\/strong>/);
    assert.match(page.body, /<strong class="govuk-tag govuk-tag--blue">\s*Link followed, not paid\s*<\/strong>/);
    assert.match(page.body, /<strong class="govuk-tag govuk-tag--yellow">\s*Outstanding\s*<\/strong>/);
    assert.ok(page.body.includes(`href="/console/parking/notices/${clicked.id}">${clicked.pcn}</a>`));
    assert.match(page.body, /Cancelled: paid first/);

    const onlyPaid = await get(officer, `${batchUrl}?status=paid`);
    assert.match(onlyPaid.body, /Paid: 1 to 1 of 1/);
    assert.ok(onlyPaid.body.includes(paid.pcn) && !onlyPaid.body.includes(`>${clicked.pcn}</a>`));
    assert.match(onlyPaid.body, /<option value="paid" selected>Paid<\/option>/);
    const noneFailed = await get(officer, `${batchUrl}?status=failed`);
    assert.match(noneFailed.body, /No notices are “Not sent”\./);
    assert.doesNotMatch(noneFailed.body, /Try the notices not sent again/);

    const list = await get(officer, '/console/parking');
    assert.match(list.body, /november\.csv/);
    assert.match(list.body, /£190\.00/);
  });

  test('the batch as CSV, without keepers’ names, numbers or addresses; a notice with its pay link', async () => {
    const csv = await get(officer, `${batchUrl}/notices.csv`);
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.match(String(csv.headers['content-disposition']), /^attachment; filename="penalty-notices-[0-9a-f]{8}\.csv"$/);
    const lines = csv.body.trim().split('\r\n');
    assert.equal(lines[0], 'row,pcn,vrm,channel,language,amount,status,clicks,paid_amount,paid_at,follow_up,follow_up_due_at,sent_at,failure');
    assert.match(lines[1], /^2,PG10000001,ZA12 BCD,sms,en,70\.00,clicked,1,,,waiting,\d{4}-/);
    assert.match(lines[2], /^3,PG10000002,ZB34 CDE,email,en,50\.00,paid,0,50\.00,\d{4}-.*,cancelled,/);
    for (const personal of ['Sam Keeper', '07700', 'alex@example.com', 'Seren']) assert.ok(!csv.body.includes(personal), personal);

    const batch = await t.services.parking.batch(batchUrl.split('/').pop() as string);
    const welsh = batch.notices[2];
    const page = await get(officer, `/console/parking/notices/${welsh.id}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1 class="govuk-heading-l">Penalty charge notice PG10000003<\/h1>/);
    assert.match(page.body, /Text message, in Welsh/);
    assert.match(page.body, /Issued\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*22 November 2026/);
    assert.match(page.body, /Seren Pryderi/);
    assert.ok(page.body.includes(`href="/console/messaging/notifications/${welsh.notificationId}"`));
    assert.match(page.body, /Times the link was followed\s*<\/dt>\s*<dd class="govuk-summary-list__value">\s*0/);
    assert.match(page.body, /Waiting: due \d{1,2} [A-Z][a-z]+ \d{4}/);
    const missing = await get(officer, '/console/parking/notices/01900000-0000-7000-8000-000000000000');
    assert.equal(missing.statusCode, 404);
  });

  test('a notice not sent can be tried again from the batch page; staff without parking:manage see none of it', async () => {
    pay.minimumAmount = 6000;
    const res = await upload(officer, `${HEADER}\r\nPG20000001,ZE11 AAA,Kim Keeper,07700 900511,,50.00,2026-11-24,x,y,`);
    const url = String(res.headers.location);
    while ((await t.services.jobs.runOnce()) > 0);
    pay.minimumAmount = 1;
    const failed = await get(officer, url);
    assert.match(failed.body, /<strong class="govuk-tag govuk-tag--red">\s*Not sent\s*<\/strong>/);
    assert.match(failed.body, /Try the notices not sent again/);
    const notice = (await t.services.parking.batch(url.split('/').pop() as string)).notices[0];
    assert.match((await get(officer, `/console/parking/notices/${notice.id}`)).body, /This notice was not sent: GOV\.UK Pay refused the payment/);
    const retried = await post(officer, `${url}/retry`);
    assert.equal(retried.statusCode, 303);
    while ((await t.services.jobs.runOnce()) > 0);
    assert.match((await get(officer, url)).body, /govuk-tag--yellow">\s*Outstanding/);

    const viewer = await t.signInAs(['viewer']);
    const comms = await t.signInAs(['comms']);
    for (const who of [viewer, comms]) {
      assert.doesNotMatch((await get(who, '/console')).body, /href="\/console\/parking"/);
      for (const path of ['/console/parking', '/console/parking/upload', url, `${url}/notices.csv`, `/console/parking/notices/${notice.id}`])
        assert.equal((await get(who, path)).statusCode, 403, path);
      assert.equal((await post(who, `${url}/retry`)).statusCode, 403);
    }
    const anonymous = await t.app.inject({ url: '/console/parking' });
    assert.equal(anonymous.statusCode, 303);
    assert.match(String(anonymous.headers.location), /^\/console\/sign-in/);
  });
});
