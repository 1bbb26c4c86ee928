/**
 * Pay links against a local GOV.UK Pay (peers/pay.ts): a message with a pay link and reminders,
 * the short link counted and leading to Pay, Pay's signed webhook marking it paid and cancelling
 * the reminders, reconciliation catching a lost webhook, the short link's headers, nothing about
 * the person clicking kept, and each error's code.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { signToken, splitApiKey } from '../../../src/modules/messaging/notify.auth.js';
import { londonDayStart, PAY_RECONCILE_JOB, PAYMENT_LIFETIME_MS, PAYMENTS_PER_LINK_PER_DAY, replaceUrls } from '../../../src/modules/messaging/payments.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { type PayPeer, payPeer } from './peers/pay.js';

const admin = systemActor('test');
const CODE_URL = /\/l\/([0-9A-Za-z]{12})$/;

describe('replaceUrls', () => {
  const shorten = (url: string) => (url.includes('skip') ? undefined : `[${url}]`);
  test('replaces addresses, keeps sentence punctuation, leaves addresses built from placeholders', () => {
    assert.equal(replaceUrls('See https://a.gov.uk/x.', shorten), 'See [https://a.gov.uk/x].');
    assert.equal(replaceUrls('[Pay](https://a.gov.uk/pay?x=1) now', shorten), '[Pay]([https://a.gov.uk/pay?x=1]) now');
    assert.equal(replaceUrls('https://a.gov.uk/pay?ref=((ref))', shorten), 'https://a.gov.uk/pay?ref=((ref))');
    assert.equal(replaceUrls('https://a.gov.uk/skip and http://b.org', shorten), 'https://a.gov.uk/skip and [http://b.org]');
  });
});

describe('londonDayStart', () => {
  test('is midnight in London, in winter and in summer time, and on the days the clocks change', () => {
    assert.equal(londonDayStart(new Date('2026-12-05T10:00:00Z')).toISOString(), '2026-12-05T00:00:00.000Z');
    assert.equal(londonDayStart(new Date('2026-07-10T22:59:59Z')).toISOString(), '2026-07-09T23:00:00.000Z');
    assert.equal(londonDayStart(new Date('2026-07-10T23:00:00Z')).toISOString(), '2026-07-10T23:00:00.000Z');
    // 29 March 2026: the clocks go forward at 01:00 UTC; 25 October 2026: back at 01:00 UTC.
    assert.equal(londonDayStart(new Date('2026-03-29T12:00:00Z')).toISOString(), '2026-03-29T00:00:00.000Z');
    assert.equal(londonDayStart(new Date('2026-03-30T12:00:00Z')).toISOString(), '2026-03-29T23:00:00.000Z');
    assert.equal(londonDayStart(new Date('2026-10-25T12:00:00Z')).toISOString(), '2026-10-24T23:00:00.000Z');
    assert.equal(londonDayStart(new Date('2026-10-26T00:30:00Z')).toISOString(), '2026-10-26T00:00:00.000Z');
  });
});

/** Waits, if need be, until London's midnight is more than a few minutes away: the daily limit counts by London day. */
async function awayFromMidnight(): Promise<void> {
  const now = Date.now();
  const start = londonDayStart(new Date(now)).getTime();
  const next = londonDayStart(new Date(start + 26 * 3_600_000)).getTime();
  const wait = now - start < 180_000 ? start + 180_000 - now : next - now < 120_000 ? next + 180_000 - now : 0;
  if (wait) await new Promise((resolve) => setTimeout(resolve, wait));
}

forEachDialect('pay links and short links', (dialect) => {
  let t: TestApp;
  let pay: PayPeer;
  let serviceId: string;
  let bearer: () => { authorization: string };
  let weft: string;
  const templates: Record<string, string> = {};

  const send = (channel: 'email' | 'sms', payload: object) => t.app.inject({ method: 'POST', url: `/v2/pay-links/${channel}`, headers: bearer(), payload });
  const click = (code: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url: `/l/${code}`, headers: { accept: 'text/html', ...headers } });
  const notification = (id: string) => t.services.db.k.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const page = (url: string) => t.app.inject({ url, headers: { accept: 'text/html' } });
  /** The link's payments made in the last minute are moved a minute back, as if the resident had waited. */
  const aMinuteLater = async (payLinkId: string) => {
    const minuteAgo = new Date(Date.now() - 61_000);
    await t.services.db.k.updateTable('pay_payments').set({ created_at: minuteAgo }).where('pay_link_id', '=', payLinkId).where('created_at', '>', minuteAgo).execute();
  };
  const paymentRows = (payLinkId: string) => t.services.db.k.selectFrom('pay_payments').selectAll().where('pay_link_id', '=', payLinkId).execute();
  /** A page in `lang` at `path`, whose switch leads to the same page in the other language. */
  const inLanguage = (res: { statusCode: number; body: string; headers: Record<string, unknown> }, lang: 'en' | 'cy', path: string) => {
    const other = lang === 'cy' ? 'en' : 'cy';
    const names = { en: 'English', cy: 'Cymraeg' };
    assert.match(res.body, new RegExp(`<html lang="${lang === 'cy' ? 'cy' : 'en-GB'}"`));
    assert.match(res.body, new RegExp(`<nav class="govuk-language-navigation[^"]*" aria-label="${lang === 'cy' ? 'Iaith' : 'Language'}">`));
    assert.match(res.body, new RegExp(`<span class="govuk-language-navigation__text"\\s+aria-current="true" lang="${lang}">${names[lang]}</span>`));
    const link = `<a class="govuk-language-navigation__link" href="${path.replace(/[?]/g, '\\?')}\\?lang=${other}" rel="alternate" lang="${other}" hreflang="${other}">${names[other]}`;
    assert.match(res.body, new RegExp(link), `a switch to ${names[other]}`);
    const english = /Skip to main content|Council services|Crown copyright|Payment received|Try again|You have tried/;
    const welsh = /Neidio i’r prif gynnwys|Gwasanaethau’r cyngor|Hawlfraint y Goron|Taliad|Rhowch gynnig|Rydych chi/;
    if (lang === 'cy') {
      assert.match(res.body, welsh);
      assert.doesNotMatch(res.body, english);
    } else {
      assert.match(res.body, english);
      assert.doesNotMatch(res.body, welsh);
    }
    assert.equal(res.headers['set-cookie'], undefined, 'a short link sets no cookie, not even to remember a language');
  };
  const payment = { amount_pence: 7000, reference: 'PCN-AB12345678', description: 'Parking penalty charge AB12345678' };
  const fine = (extra: object = {}) => ({
    template_id: templates.email,
    email_address: 'sam@example.com',
    personalisation: { pcn: 'AB12345678', amount: '£70' },
    reference: 'pcn-ab12345678',
    payment,
    ...extra,
  });

  before(async () => {
    t = await testApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    weft = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    pay = await payPeer();
    const m = t.services.messaging;
    serviceId = (await m.createService(admin, { name: 'Parking' })).id;
    const key = await m.createKey(admin, serviceId, { name: 'parking system', keyType: 'normal' });
    const { secret } = splitApiKey(key.apiKey);
    bearer = () => ({ authorization: `Bearer ${signToken(serviceId, secret)}` });
    const make = async (name: string, input: Parameters<typeof m.createTemplate>[2]) => {
      templates[name] = (await m.createTemplate(admin, serviceId, input)).id;
    };
    await make('email', {
      name: 'Penalty charge',
      type: 'email',
      subject: 'Penalty charge ((pcn))',
      body: 'Pay ((amount)) at ((pay_link))\n\nAbout parking fines: https://council.example.gov.uk/parking.\n\nYour case: https://council.example.gov.uk/case?pcn=((pcn))',
    });
    await make('reminder', { name: 'Penalty reminder', type: 'email', subject: 'Reminder: penalty charge ((pcn))', body: 'You have not paid yet. Pay ((amount)) at ((pay_link))' });
    await make('sms', { name: 'Penalty text', type: 'sms', body: 'Pay your parking fine of ((amount)) at ((pay_link))' });
    await make('smsReminder', { name: 'Penalty text reminder', type: 'sms', body: 'Reminder: pay ((amount)) at ((pay_link))' });
    await make('noLink', { name: 'No link', type: 'email', subject: 'Hello', body: 'Pay ((amount)) somehow' });
    await t.services.payments.setAccount(admin, serviceId, { baseUrl: pay.url, apiKey: pay.apiKey, webhookSigningSecret: pay.webhookSecret });
    pay.webhookUrl = `${weft}/api/v1/messaging/services/${serviceId}/pay/webhook`;
  });
  after(() => pay.close());

  test('the whole life of a pay link: sent with reminders, followed to Pay, paid by webhook, reminders cancelled', async () => {
    const res = await send(
      'email',
      fine({
        reminders: [
          { template_id: templates.reminder, after_days: 7 },
          { template_id: templates.reminder, after_days: 14 },
        ],
        track_links: true,
      }),
    );
    assert.equal(res.statusCode, 201, res.body);
    const sent = res.json();
    const code = CODE_URL.exec(sent.pay_link.url)?.[1] as string;
    assert.ok(code, sent.pay_link.url);
    assert.equal(sent.pay_link.status, 'unpaid');
    assert.equal(sent.pay_link.amount_pence, 7000);
    assert.equal(sent.reference, 'pcn-ab12345678');

    // GOV.UK Pay made the payment, with Weft's return page; its address is not in the message.
    assert.equal(pay.payments.length, 1);
    const [first] = pay.payments;
    assert.equal(first.payment_id, sent.pay_link.payment_id);
    assert.deepEqual([first.amount, first.reference, first.description, first.language], [7000, payment.reference, payment.description, 'en']);
    assert.match(first.return_url, new RegExp(`/l/${code}/return$`));
    assert.equal(pay.requests.at(-1)?.auth, `Bearer ${pay.apiKey}`);
    const body: string = sent.content.body;
    assert.ok(body.includes(sent.pay_link.url), body);
    assert.ok(!body.includes(pay.url), 'Pay’s own address is never in a message');
    // track_links: the template's address became a short link; the one built from a placeholder did not.
    assert.ok(!body.includes('https://council.example.gov.uk/parking'), body);
    assert.ok(body.includes('https://council.example.gov.uk/case?pcn=AB12345678'), body);

    // Reminders wait, scheduled, linked to the payment; the first message goes at once.
    assert.equal(sent.reminders.length, 2);
    const reminder = await notification(sent.reminders[0].id);
    assert.equal(reminder.status, 'created');
    const days = ((reminder.scheduled_for_at as Date).getTime() - reminder.created_at.getTime()) / 86_400_000;
    assert.equal(Math.round(days), 7);
    assert.ok(reminder.body.includes(sent.pay_link.url));
    while ((await t.services.delivery.runOnce()) > 0);
    assert.equal((await notification(sent.id)).status, 'delivered');
    assert.equal((await notification(sent.reminders[0].id)).status, 'created');

    // Followed: the payment made with the message, while it is fresh; counted.
    const go = await click(code);
    assert.equal(go.statusCode, 302);
    assert.equal(go.headers.location, `${pay.url}/secure/${first.token}`);
    assert.equal(go.headers['referrer-policy'], 'no-referrer');
    assert.equal(go.headers['cache-control'], 'no-store');
    assert.equal(go.headers['set-cookie'], undefined);
    assert.equal(await pay.visit(String(go.headers.location)), 200);

    // Followed again after starting to pay, a minute later: Pay's address works once, so a new payment.
    await aMinuteLater(sent.pay_link.id);
    const again = await click(code);
    assert.equal(again.statusCode, 302);
    assert.equal(pay.payments.length, 2);
    const second = pay.payments[1];
    assert.equal(again.headers.location, `${pay.url}/secure/${second.token}`);
    assert.equal(second.amount, 7000);

    // Paid: Pay's webhook marks the link paid and the reminders still waiting are cancelled.
    assert.equal(await pay.complete(second.payment_id, 'success'), 200);
    const view = (await t.app.inject({ url: `/v2/pay-links/${sent.pay_link.id}`, headers: bearer() })).json();
    assert.equal(view.status, 'paid');
    assert.equal(view.paid_amount_pence, 7000);
    assert.equal(view.clicks, 2);
    assert.ok(view.paid_at);
    assert.deepEqual(
      view.reminders.map((r: { status: string }) => r.status),
      ['cancelled', 'cancelled'],
    );
    const cancelled = await notification(sent.reminders[1].id);
    assert.equal(cancelled.status, 'cancelled');
    assert.match(String(cancelled.status_reason), /^Paid on \d{1,2} [A-Z][a-z]+ \d{4}$/);
    assert.equal(cancelled.next_attempt_at, null);

    // The same webhook again (Pay retries) changes nothing; the link now says it is paid.
    assert.equal((await pay.sendWebhook(second.payment_id, 'card_payment_captured')).status, 200);
    const audit = await t.services.audit.search({ action: 'messaging.pay_link_paid', limit: 10 });
    assert.equal(audit.filter((a) => a.target_id === sent.pay_link.id).length, 1);
    const paidPage = await click(code);
    assert.equal(paidPage.statusCode, 200);
    assert.match(paidPage.body, /Payment received/);
    assert.match(paidPage.body, /£70\.00/);
    assert.equal(paidPage.headers['set-cookie'], undefined);
    assert.match(paidPage.body, /Parking penalty charge AB12345678 was paid on \d{1,2} [A-Z][a-z]+ \d{4}\./);
    inLanguage(paidPage, 'en', `/l/${code}`);
    const welshPaid = await page(`/l/${code}?lang=cy`);
    assert.equal(welshPaid.statusCode, 200);
    inLanguage(welshPaid, 'cy', `/l/${code}`);
    assert.match(welshPaid.body, /Taliad wedi’i dderbyn/);
    assert.equal(pay.payments.length, 2, 'a paid link asks for nothing more');

    // Figures: sent, clicked, paid, days to pay.
    const key = await t.key(['messages:read']);
    const summary = await t.app.inject({ url: `/api/v1/messaging/payments/summary?serviceId=${serviceId}`, headers: { authorization: `Bearer ${key}` } });
    assert.equal(summary.statusCode, 200, summary.body);
    const row = summary.json().services[0];
    assert.equal(row.serviceName, 'Parking');
    assert.ok(row.sent >= 1 && row.paid >= 1 && row.clicked >= 1);
    assert.ok(row.medianDaysToPay >= 0 && row.medianDaysToPay < 0.01);
  });

  test('a tracked address: counted, then a 302 with no referrer; an unknown or expired code is a GOV.UK 404 page', async () => {
    const sent = (await send('email', fine({ track_links: true }))).json();
    const tracked = await t.services.db.k.selectFrom('short_links').selectAll().where('notification_id', '=', sent.id).where('target_url', 'is not', null).execute();
    assert.equal(tracked.length, 1);
    assert.equal(tracked[0].target_url, 'https://council.example.gov.uk/parking');
    const res = await click(tracked[0].code);
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, 'https://council.example.gov.uk/parking');
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.equal(res.headers['set-cookie'], undefined);

    const unknown = await click('NoSuchCode000');
    assert.equal(unknown.statusCode, 404);
    assert.match(String(unknown.headers['content-type']), /text\/html/);
    assert.match(unknown.body, /Page not found/);
    assert.match(unknown.body, /govuk-template/);
    assert.equal(unknown.headers['set-cookie'], undefined);
    await assert.rejects(t.services.payments.follow('NoSuchCode000'), { code: 'SHORT_LINK_NOT_FOUND' });

    await t.services.db.k
      .updateTable('short_links')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('code', '=', tracked[0].code)
      .execute();
    assert.equal((await click(tracked[0].code)).statusCode, 404);
  });

  test('nothing about the person clicking is kept: no address, browser, cookie or time of day', async () => {
    const sent = (await send('email', fine())).json();
    const code = CODE_URL.exec(sent.pay_link.url)?.[1] as string;
    const agent = 'Mozilla/5.0 (Clicker-Fingerprint-7731)';
    const res = await t.app.inject({ method: 'GET', url: `/l/${code}`, remoteAddress: '203.0.113.77', headers: { 'user-agent': agent, cookie: 'tracker=abc-123-def', accept: 'text/html' } });
    assert.equal(res.statusCode, 302);
    const clicks = await t.services.db.k.selectFrom('short_link_clicks').selectAll().where('code', '=', code).execute();
    assert.deepEqual(clicks, [{ code, day: new Date().toISOString().slice(0, 10), clicks: 1 }]);
    // On PostgreSQL the introspector lists every schema's tables: only this test's own are read.
    const own = t.services.db.dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(t.services.db.k)).rows[0].s : undefined;
    for (const table of (await t.services.db.k.introspection.getTables()).filter((x) => !own || x.schema === own)) {
      const rows = await t.services.db.k
        .selectFrom(table.name as never)
        .selectAll()
        .execute();
      const text = JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
      for (const trace of ['203.0.113.77', 'Clicker-Fingerprint-7731', 'abc-123-def']) assert.ok(!text.includes(trace), `${table.name} keeps ${trace}`);
    }
  });

  test('polling catches a payment whose webhook was lost', async () => {
    const res = await send('sms', {
      template_id: templates.sms,
      phone_number: '07700 900123',
      personalisation: { amount: '£35' },
      payment: { ...payment, amount_pence: 3500 },
      reminders: [{ template_id: templates.smsReminder, after_days: 3 }],
    });
    assert.equal(res.statusCode, 201, res.body);
    const sent = res.json();
    const code = CODE_URL.exec(sent.pay_link.url)?.[1] as string;
    const go = await click(code);
    const p = pay.payments.find((x) => go.headers.location === `${pay.url}/secure/${x.token}`);
    assert.ok(p);
    await pay.visit(String(go.headers.location));
    await pay.complete(p.payment_id, 'success', { webhook: false });
    assert.equal((await t.services.payments.payLink(serviceId, sent.pay_link.id)).status, 'unpaid');

    const asked = pay.requests.length;
    await t.services.jobs.enqueue(PAY_RECONCILE_JOB, {});
    while ((await t.services.jobs.runOnce()) > 0);
    const view = await t.services.payments.payLink(serviceId, sent.pay_link.id);
    assert.equal(view.status, 'paid');
    assert.equal(view.paid_amount_pence, 3500);
    assert.equal((await notification(sent.reminders[0].id)).status, 'cancelled');
    // Only payments a resident was sent to are asked about, not those whose address Weft still holds.
    const gets = pay.requests
      .slice(asked)
      .filter((r) => r.method === 'GET')
      .map((r) => r.path);
    assert.ok(gets.includes(`/v1/payments/${p.payment_id}`));
    const unseen = await t.services.db.k.selectFrom('pay_payments').select('payment_id').where('next_url', 'is not', null).execute();
    assert.ok(unseen.length > 0);
    assert.ok(!gets.some((g) => unseen.some((u) => g === `/v1/payments/${u.payment_id}`)), 'payments nobody was sent to are not polled');
  });

  test('a payment being processed is not asked for again; a stale one is replaced; Pay’s return page says what happened', async () => {
    const sent = (await send('email', fine())).json();
    const code = CODE_URL.exec(sent.pay_link.url)?.[1] as string;
    const madeAtSend = pay.payments.find((x) => x.payment_id === sent.pay_link.payment_id);
    assert.ok(madeAtSend);
    // The payment made with the message is given out only while it has time left to pay in.
    await t.services.db.k
      .updateTable('pay_payments')
      .set({ created_at: new Date(Date.now() - 80 * 60_000) })
      .where('payment_id', '=', madeAtSend.payment_id)
      .execute();
    const go = await click(code);
    assert.notEqual(go.headers.location, `${pay.url}/secure/${madeAtSend.token}`);
    const p = pay.payments.at(-1);
    assert.ok(p && go.headers.location === `${pay.url}/secure/${p.token}`);
    await pay.visit(String(go.headers.location));
    pay.submit(p.payment_id);
    const count = pay.payments.length;
    const wait = await click(code);
    assert.equal(wait.statusCode, 200);
    assert.match(wait.body, /Your payment is being processed/);
    assert.match(wait.body, /Your payment of £70\.00 for Parking penalty charge AB12345678 is being processed\./);
    inLanguage(wait, 'en', `/l/${code}`);
    assert.equal(pay.payments.length, count, 'no second payment while one is being processed');

    await pay.complete(p.payment_id, 'declined', { webhook: false });
    const back = await t.app.inject({ url: `/l/${code}/return`, headers: { accept: 'text/html' } });
    assert.equal(back.statusCode, 200);
    assert.match(back.body, /Your payment was not taken/);
    assert.match(back.body, new RegExp(`href="/l/${code}"`));
    inLanguage(back, 'en', `/l/${code}/return`);

    const retry = await click(code);
    const q = pay.payments.at(-1);
    assert.ok(q && retry.headers.location === `${pay.url}/secure/${q.token}`);
    await pay.visit(String(retry.headers.location));
    await pay.complete(q.payment_id, 'success', { webhook: false });
    const done = await t.app.inject({ url: `/l/${code}/return`, headers: { accept: 'text/html' } });
    assert.match(done.body, /Payment received/);
    assert.equal((await t.services.payments.payLink(serviceId, sent.pay_link.id)).status, 'paid');
    assert.ok(PAYMENT_LIFETIME_MS === 90 * 60_000);
  });

  test('GOV.UK Pay’s webhook: a bad or missing signature is refused and changes nothing; other payments are acknowledged', async () => {
    const sent = (await send('email', fine())).json();
    const id = sent.pay_link.payment_id;
    await pay.complete(id, 'success', { webhook: false });
    const forged = await pay.sendWebhook(id, 'card_payment_succeeded', { secret: 'not-the-signing-secret' });
    assert.equal(forged.status, 403);
    assert.equal((await forged.json()).code, 'PAY_WEBHOOK_SIGNATURE_INVALID');
    assert.equal((await pay.sendWebhook(id, 'card_payment_succeeded', { signature: null })).status, 403);
    assert.equal((await t.services.payments.payLink(serviceId, sent.pay_link.id)).status, 'unpaid');

    const other = await fetch(`${weft}/api/v1/messaging/services/00000000-0000-7000-8000-000000000000/pay/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'pay-signature': 'ab' },
      body: '{}',
    });
    assert.equal(other.status, 403);

    const malformed = await pay.sendWebhook(id, 'card_payment_succeeded', { body: JSON.stringify({ resource_type: 'payment', resource: {} }) });
    assert.equal(malformed.status, 400);
    assert.equal((await malformed.json()).code, 'PAY_WEBHOOK_INVALID');

    const stranger = JSON.stringify({
      id: 'w1',
      created_date: new Date().toISOString(),
      resource_id: 'not-ours-123',
      api_version: 1,
      resource_type: 'payment',
      event_type: 'card_payment_succeeded',
      resource: { state: { status: 'success', finished: true }, amount: 100 },
    });
    const ignored = await pay.sendWebhook(id, 'card_payment_succeeded', { body: stranger });
    assert.equal(ignored.status, 200);
    assert.deepEqual(await ignored.json(), { received: true, outcome: 'ignored' });
  });

  test('errors have stable codes, and a refused send stores and sends nothing', async () => {
    const before = await t.services.db.k
      .selectFrom('notifications')
      .select((e) => e.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const actor = { ...admin, type: 'service' as const, id: null, serviceId, keyType: 'normal' };
    const request = {
      channel: 'email' as const,
      templateId: templates.email,
      to: 'sam@example.com',
      personalisation: { pcn: 'x', amount: 'y' },
      reference: null,
      language: 'en' as const,
      payment: { amountPence: 100, reference: 'r', description: 'd' },
      reminders: [],
      trackLinks: false,
    };
    const expectBad = async (payload: object, status: number, pattern: RegExp, channel: 'email' | 'sms' = 'email') => {
      const res = await send(channel, payload);
      assert.equal(res.statusCode, status, res.body);
      const errors = res.json().errors as { error: string; message: string }[];
      assert.ok(
        errors.some((e) => pattern.test(e.message)),
        JSON.stringify(errors),
      );
      return errors;
    };
    // NOTIFY_VALIDATION: each problem listed, in Notify's envelope.
    const errors = await expectBad(fine({ payment: { amount_pence: 0, reference: 'x' }, reminders: [{ template_id: 'nope', after_days: 0 }] }), 400, /payment.amount_pence must be a whole number/);
    assert.ok(errors.every((e) => e.error === 'ValidationError'));
    assert.deepEqual(errors.map((e) => e.message.split(' ')[0]).sort(), ['payment.amount_pence', 'payment.description', 'reminders[0].after_days', 'reminders[0].template_id'].sort());
    await expectBad(fine({ language: 'fr' }), 400, /language fr is not one of \[en, cy\]/);
    await expectBad(fine({ email_address: 'not-an-address' }), 400, /email_address Not a valid email address/);
    // PAY_LINK_INVALID: no ((pay_link)) in the template; pay_link given in the personalisation.
    await expectBad(fine({ template_id: templates.noLink }), 400, /has no \(\(pay_link\)\) placeholder/);
    await expectBad(fine({ personalisation: { pcn: 'x', amount: 'y', pay_link: 'https://evil.example' } }), 400, /Leave pay_link out/);
    await assert.rejects(t.services.payments.send(actor, { ...request, templateId: templates.noLink }), { code: 'PAY_LINK_INVALID' });
    await expectBad(fine({ reminders: [{ template_id: templates.sms, after_days: 2 }] }), 400, /sms template is not suitable for email notification/);
    // Missing personalisation, in Notify's words.
    await expectBad(fine({ personalisation: { pcn: 'x' } }), 400, /Missing personalisation: amount/);
    // PAY_PAYMENT_REFUSED: Pay's own 422 (here the account's smallest payment), in its words.
    pay.minimumAmount = 100;
    await expectBad(fine({ payment: { ...payment, amount_pence: 50 } }), 400, /GOV\.UK Pay refused the payment: Invalid attribute value: amount\. Must be greater than or equal to 100/);
    await assert.rejects(t.services.payments.send(actor, { ...request, payment: { ...request.payment, amountPence: 50 } }), (err: { code: string; fields: { field: string }[] }) => {
      assert.equal(err.code, 'PAY_PAYMENT_REFUSED');
      assert.deepEqual(
        err.fields.map((f) => f.field),
        ['payment.amount'],
      );
      return true;
    });
    pay.minimumAmount = 1;
    await assert.rejects(t.services.payments.payLink(serviceId, '01900000-0000-7000-8000-000000000000'), { code: 'PAY_LINK_NOT_FOUND' });
    const missing = await t.app.inject({ url: '/v2/pay-links/01900000-0000-7000-8000-000000000000', headers: bearer() });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().errors[0].error, 'NoResultFound');

    // PAY_ACCOUNT_REFUSED (a wrong key) and PAY_UNAVAILABLE (Pay cannot be reached).
    await t.services.payments.setAccount(admin, serviceId, { baseUrl: pay.url, apiKey: 'api_test_wrong_key_123' });
    await expectBad(fine(), 400, /GOV\.UK Pay refused this service’s API key/);
    await assert.rejects(t.services.payments.send(actor, request), { code: 'PAY_ACCOUNT_REFUSED' });
    assert.equal(pay.requests.at(-1)?.auth, 'Bearer api_test_wrong_key_123');
    await t.services.payments.setAccount(admin, serviceId, { baseUrl: 'http://127.0.0.1:9', apiKey: pay.apiKey });
    const down = await send('email', fine());
    assert.equal(down.statusCode, 503);
    await assert.rejects(t.services.payments.send(actor, request), { code: 'PAY_UNAVAILABLE' });
    await t.services.payments.setAccount(admin, serviceId, { baseUrl: pay.url, apiKey: pay.apiKey });
    assert.equal((await t.services.payments.getAccount(serviceId)).hasWebhookSecret, true, 'the signing secret is kept when left out');

    // PAY_ACCOUNT_INVALID and PAY_ACCOUNT_MISSING.
    await assert.rejects(t.services.payments.setAccount(admin, serviceId, { baseUrl: 'ftp://pay.example', apiKey: 'short' }), (err: { code: string; fields: { field: string }[] }) => {
      assert.equal(err.code, 'PAY_ACCOUNT_INVALID');
      assert.deepEqual(err.fields.map((f) => f.field).sort(), ['apiKey', 'baseUrl']);
      return true;
    });
    const other = (await t.services.messaging.createService(admin, { name: 'Council tax' })).id;
    await assert.rejects(t.services.payments.send({ ...actor, serviceId: other }, request), { code: 'PAY_ACCOUNT_MISSING' });
    const after = await t.services.db.k
      .selectFrom('notifications')
      .select((e) => e.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(after.n), Number(before.n), 'no refused send stored a notification');
  });

  test('staff set, read and remove a service’s Pay account over the API; the secrets never come back', async () => {
    const other = (await t.services.messaging.createService(admin, { name: 'Libraries' })).id;
    const key = await t.key(['messaging:manage']);
    const auth = { authorization: `Bearer ${key}` };
    const put = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/messaging/services/${other}/pay`,
      headers: auth,
      payload: { baseUrl: pay.url, apiKey: pay.apiKey, webhookSigningSecret: 'webhook_test_secret_42' },
    });
    assert.equal(put.statusCode, 200, put.body);
    const view = put.json();
    assert.equal(view.configured, true);
    assert.equal(view.hasWebhookSecret, true);
    assert.equal(view.webhookUrl, `${t.services.config.publicUrl}/api/v1/messaging/services/${other}/pay/webhook`);
    assert.ok(!put.body.includes(pay.apiKey) && !put.body.includes('webhook_test_secret_42'));
    const stored = await t.services.db.k.selectFrom('pay_accounts').selectAll().where('service_id', '=', other).executeTakeFirstOrThrow();
    assert.ok(!stored.api_key_sealed.includes(pay.apiKey), 'the key is sealed at rest');
    const bad = await t.app.inject({ method: 'PUT', url: `/api/v1/messaging/services/${other}/pay`, headers: auth, payload: { baseUrl: 'not a url', apiKey: pay.apiKey } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'PAY_ACCOUNT_INVALID');
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/v1/messaging/services/${other}/pay`, headers: auth })).statusCode, 204);
    const again = await t.app.inject({ method: 'DELETE', url: `/api/v1/messaging/services/${other}/pay`, headers: auth });
    assert.equal(again.statusCode, 400);
    assert.equal(again.json().code, 'PAY_ACCOUNT_MISSING');
    assert.equal((await t.app.inject({ url: `/api/v1/messaging/services/${other}/pay`, headers: auth })).json().configured, false);
    const audit = await t.services.audit.search({ targetId: other, limit: 10 });
    assert.ok(audit.some((a) => a.action === 'messaging.pay_account_set') && audit.some((a) => a.action === 'messaging.pay_account_remove'));
  });

  test('a reminder not cancelled goes out with the same link when its day comes', async () => {
    const sent = (await send('email', fine({ reminders: [{ template_id: templates.reminder, after_days: 1 }] }))).json();
    while ((await t.services.delivery.runOnce()) > 0);
    await t.services.db.k
      .updateTable('notifications')
      .set({ next_attempt_at: new Date(Date.now() - 1000) })
      .where('id', '=', sent.reminders[0].id)
      .execute();
    while ((await t.services.delivery.runOnce()) > 0);
    const r = await notification(sent.reminders[0].id);
    assert.equal(r.status, 'delivered');
    assert.ok(r.body.includes(sent.pay_link.url));
  });
  test('a pay link sent in Welsh: every page in Welsh, with a switch to English that works and sets no cookie', async () => {
    const res = await send('email', fine({ language: 'cy' }));
    assert.equal(res.statusCode, 201, res.body);
    const sent = res.json();
    const code = CODE_URL.exec(sent.pay_link.url)?.[1] as string;
    assert.equal(pay.payments.at(-1)?.language, 'cy', 'GOV.UK Pay’s own pages are in Welsh too');

    // Being processed.
    const go = await click(code);
    const p = pay.payments.find((x) => go.headers.location === `${pay.url}/secure/${x.token}`);
    assert.ok(p);
    await pay.visit(String(go.headers.location));
    pay.submit(p.payment_id);
    const wait = await click(code);
    assert.equal(wait.statusCode, 200);
    inLanguage(wait, 'cy', `/l/${code}`);
    assert.match(wait.body, /<h1 class="govuk-heading-l">Mae eich taliad yn cael ei brosesu<\/h1>/);
    assert.match(wait.body, /Mae eich taliad o £70\.00 am Parking penalty charge AB12345678 yn cael ei brosesu\./);
    assert.match(wait.body, /<title>Mae eich taliad yn cael ei brosesu – Gwasanaethau’r cyngor<\/title>/);
    const english = await page(`/l/${code}?lang=en`);
    assert.equal(english.statusCode, 200);
    inLanguage(english, 'en', `/l/${code}`);
    assert.match(english.body, /Your payment of £70\.00 for Parking penalty charge AB12345678 is being processed\./);

    // Not taken: Pay's return page, and its switch.
    await pay.complete(p.payment_id, 'declined', { webhook: false });
    const back = await page(`/l/${code}/return`);
    assert.equal(back.statusCode, 200);
    inLanguage(back, 'cy', `/l/${code}/return`);
    assert.match(back.body, /Ni chafodd eich taliad ei gymryd/);
    assert.match(back.body, /Ni chymerwyd unrhyw arian am Parking penalty charge AB12345678 \(£70\.00\)\./);
    assert.match(back.body, new RegExp(`href="/l/${code}"[^>]*>\\s*Rhowch gynnig arall arni`));
    const backEnglish = await page(`/l/${code}/return?lang=en`);
    inLanguage(backEnglish, 'en', `/l/${code}/return`);
    assert.match(backEnglish.body, /Your payment was not taken/);
    // Trying again from the English page stays in English, by the link rather than a cookie.
    assert.match(backEnglish.body, new RegExp(`href="/l/${code}\\?lang=en"[^>]*>\\s*Try again`));

    // Too many tries: a declined payment does not hold the next back, but a second within the minute is refused.
    const retry = await click(code);
    assert.equal(retry.statusCode, 302);
    const q = pay.payments.at(-1);
    assert.ok(q && retry.headers.location === `${pay.url}/secure/${q.token}`);
    assert.equal(q.language, 'cy');
    const count = pay.payments.length;
    const soon = await click(code);
    assert.equal(soon.statusCode, 429);
    inLanguage(soon, 'cy', `/l/${code}`);
    assert.match(soon.body, /Rydych chi wedi ceisio talu gormod o weithiau/);
    assert.match(soon.body, /Arhoswch funud, yna rhowch gynnig arall arni\./);
    const soonEnglish = await page(`/l/${code}?lang=en`);
    assert.equal(soonEnglish.statusCode, 429);
    inLanguage(soonEnglish, 'en', `/l/${code}`);
    assert.match(soonEnglish.body, /Wait a minute, then try again\./);
    assert.equal(pay.payments.length, count, 'no payment made while refused');

    // Paid, on a date in Welsh.
    await pay.visit(String(retry.headers.location));
    assert.equal(await pay.complete(q.payment_id, 'success'), 200);
    const paid = await click(code);
    assert.equal(paid.statusCode, 200);
    inLanguage(paid, 'cy', `/l/${code}`);
    assert.match(paid.body, /Taliad wedi’i dderbyn/);
    const months = 'Ionawr|Chwefror|Mawrth|Ebrill|Mai|Mehefin|Gorffennaf|Awst|Medi|Hydref|Tachwedd|Rhagfyr';
    assert.match(paid.body, new RegExp(`Talwyd Parking penalty charge AB12345678 ar \\d{1,2} (${months}) \\d{4}\\.`));
    assert.match(paid.body, /Does dim angen i chi wneud unrhyw beth arall\./);
    const paidEnglish = await page(`/l/${code}?lang=en`);
    inLanguage(paidEnglish, 'en', `/l/${code}`);
    assert.match(paidEnglish.body, /Parking penalty charge AB12345678 was paid on \d{1,2} [A-Z][a-z]+ \d{4}\./);
    // A language that is not offered is ignored: the link's own is used.
    inLanguage(await page(`/l/${code}?lang=fr`), 'cy', `/l/${code}`);
  });

  test('the 11th payment for a link in a day, and a second within a minute, are refused with a page and make no Pay payment', async () => {
    await awayFromMidnight();
    const sent = (await send('email', fine())).json();
    const code = CODE_URL.exec(sent.pay_link.url)?.[1] as string;
    const id = sent.pay_link.id;
    const before = pay.payments.length;
    // The payment made with the message is the day's first; following the link takes it.
    assert.equal((await click(code)).statusCode, 302);
    assert.equal(pay.payments.length, before);

    const soon = await click(code);
    assert.equal(soon.statusCode, 429);
    inLanguage(soon, 'en', `/l/${code}`);
    assert.match(soon.body, /<h1 class="govuk-heading-l">You have tried to pay too many times<\/h1>/);
    assert.match(soon.body, /Wait a minute, then try again\./);
    const wait = Number(soon.headers['retry-after']);
    assert.ok(wait >= 1 && wait <= 60, String(wait));
    assert.equal(pay.payments.length, before, 'a second within the minute makes no payment');

    for (let n = 2; n <= PAYMENTS_PER_LINK_PER_DAY; n++) {
      await aMinuteLater(id);
      const go = await click(code);
      assert.equal(go.statusCode, 302, `payment ${n}`);
      assert.equal(go.headers.location, `${pay.url}/secure/${pay.payments.at(-1)?.token}`);
    }
    assert.equal(pay.payments.length, before + PAYMENTS_PER_LINK_PER_DAY - 1);

    await aMinuteLater(id);
    const eleventh = await click(code);
    assert.equal(eleventh.statusCode, 429);
    inLanguage(eleventh, 'en', `/l/${code}`);
    assert.match(eleventh.body, /You have tried to pay too many times/);
    assert.match(eleventh.body, /You have tried to pay for Parking penalty charge AB12345678 \(£70\.00\) too many times today\./);
    assert.match(eleventh.body, /Try again tomorrow, or contact the council\./);
    const untilTomorrow = Number(eleventh.headers['retry-after']);
    assert.ok(untilTomorrow > 0 && untilTomorrow <= 25 * 3600, String(untilTomorrow));
    assert.equal(eleventh.headers['cache-control'], 'no-store');
    const welsh = await page(`/l/${code}?lang=cy`);
    assert.equal(welsh.statusCode, 429);
    inLanguage(welsh, 'cy', `/l/${code}`);
    assert.match(welsh.body, /Rhowch gynnig arall arni yfory, neu cysylltwch â’r cyngor\./);
    const refused = await t.services.payments.follow(code);
    assert.ok('page' in refused && refused.page === 'too-many' && refused.limit === 'day');
    assert.equal(refused.refusal.code, 'PAY_LINK_TOO_MANY_PAYMENTS');
    assert.equal(refused.refusal.status, 429);
    assert.equal(pay.payments.length, before + PAYMENTS_PER_LINK_PER_DAY - 1, 'the 11th makes no Pay payment');
    const rows = await paymentRows(id);
    assert.equal(rows.length, PAYMENTS_PER_LINK_PER_DAY);
    assert.ok(rows.every((r) => !r.payment_id.startsWith('creating')));

    // The count is by London day: yesterday's payments leave today's ten free.
    await t.services.db.k
      .updateTable('pay_payments')
      .set({ created_at: new Date(londonDayStart(new Date()).getTime() - 60_000) })
      .where('pay_link_id', '=', id)
      .execute();
    const nextDay = await click(code);
    assert.equal(nextDay.statusCode, 302);
    assert.equal(pay.payments.length, before + PAYMENTS_PER_LINK_PER_DAY);
  });

  test('followers at the same moment make one payment between them; a payment Pay refuses gives its place back', async () => {
    const sent = (await send('email', fine())).json();
    const code = CODE_URL.exec(sent.pay_link.url)?.[1] as string;
    const id = sent.pay_link.id;
    assert.equal((await click(code)).statusCode, 302);
    await aMinuteLater(id);
    const before = pay.payments.length;
    const all = await Promise.all(Array.from({ length: 12 }, () => click(code)));
    assert.deepEqual(all.map((r) => r.statusCode).sort(), [302, ...Array(11).fill(429)]);
    assert.equal(pay.payments.length, before + 1);

    await aMinuteLater(id);
    pay.minimumAmount = 1_000_000;
    const refused = await click(code);
    pay.minimumAmount = 1;
    assert.equal(refused.statusCode, 400);
    assert.equal(pay.payments.length, before + 1);
    const rows = await paymentRows(id);
    assert.equal(rows.length, 2, 'the place held for the refused payment was given back');
    assert.ok(rows.every((r) => r.status !== 'creating'));
    assert.equal((await click(code)).statusCode, 302, 'and the link still works');
  });
});
