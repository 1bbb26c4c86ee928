/**
 * The development GOV.UK Pay (WEFT_DEV_PAY): its API as the messaging module's Pay client calls
 * it (a bearer key it issued, Pay's 401, 422s and 404), its routes absent when the setting is
 * off, and the demo's parking journey through the real app listening on a port: a notice file
 * uploaded on the console page, the pay link followed to the development payment page, "pay"
 * marking the notice paid (Pay's signed webhook) and cancelling its follow-up, "decline" leaving
 * it unpaid with its follow-up waiting.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { parkingPayAccount } from '../../../demo/county.js';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { DevPayService } from '../../../src/modules/devpay/index.js';
import { devPayErrors } from '../../../src/modules/devpay/devpay.errors.js';
import { GovUkPay } from '../../../src/modules/messaging/payments.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type Browser, csrfFrom, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect, freePort } from '../../helpers.js';

const CODE = /\/l\/([0-9A-Za-z]{12})\b/;
const SENTENCE = 'This is Weft&#39;s development payment page. No money is taken and no card details are asked for.';

/** A multipart/form-data body, as a browser sends a form with a file input. */
function multipart(fields: Record<string, string>, file: { filename: string; content: string }) {
  const boundary = `----devpay${Date.now()}`;
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\nContent-Type: text/csv\r\n\r\n${file.content}\r\n`);
  return { payload: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A resident's browser over real HTTP: keeps its cookies, follows nothing by itself. */
class Resident {
  private readonly jar = new Map<string, string>();
  async go(url: string, form?: Record<string, string>): Promise<Response> {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { accept: 'text/html', cookie: [...this.jar.values()].join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const c of res.headers.getSetCookie()) this.jar.set(c.split('=')[0], c.split(';')[0]);
    return res;
  }
}

test('WEFT_DEV_PAY is off unless set, and takes only true or false', () => {
  const load = (env: Record<string, string>) => loadConfig({ WEFT_SECRET: 'x'.repeat(32), ...env }, { file: '/nonexistent' });
  assert.equal(load({}).devPay, false);
  assert.equal(load({ WEFT_DEV_PAY: 'true' }).devPay, true);
  assert.equal(load({ WEFT_DEV_PAY: 'false' }).devPay, false);
  assert.throws(
    () => load({ WEFT_DEV_PAY: 'yes' }),
    (err: Error) => err instanceof ConfigError && /^WEFT_DEV_PAY has a bad value/.test(err.message),
  );
});

forEachDialect('the development GOV.UK Pay', (dialect) => {
  describe('switched off (the default)', () => {
    let t: TestApp;
    before(async () => {
      t = await testApp(dialect);
    });

    test('its routes do not exist and no service is made', async () => {
      assert.equal(t.services.devPay, undefined);
      for (const [method, url] of [
        ['POST', '/dev-pay/v1/payments'],
        ['GET', '/dev-pay/v1/payments/abcdefghijklmnopqrstuvwxyz'],
        ['GET', '/dev-pay/secure/sometoken'],
        ['GET', '/dev-pay/card/abcdefghijklmnopqrstuvwxyz'],
        ['POST', '/dev-pay/card/abcdefghijklmnopqrstuvwxyz'],
      ] as const) {
        const res = await t.app.inject({ method, url, headers: { authorization: 'Bearer api_test_devpay_x', 'content-type': 'application/json' }, payload: method === 'POST' ? '{}' : undefined });
        assert.equal(res.statusCode, 404, `${method} ${url}`);
      }
      assert.ok(!t.app.weftRoutes.some((r) => r.url.startsWith('/dev-pay')));
    });
  });

  describe('switched on', () => {
    let t: TestApp;
    let weft: string;
    let base: string;
    let devPay: DevPayService;

    before(async () => {
      const port = await freePort();
      weft = `http://127.0.0.1:${port}`;
      t = await testApp(dialect, { WEFT_DEV_PAY: 'true', WEFT_PUBLIC_URL: weft, WEFT_PORT: String(port) });
      await t.app.listen({ port, host: '127.0.0.1' });
      devPay = t.services.devPay as DevPayService;
      base = `${weft}/dev-pay`;
    });

    const body = { amount: 7000, reference: 'PCN-AB12345678', description: 'Parking penalty charge AB12345678', return_url: 'http://127.0.0.1/back', language: 'en' };
    const call = (method: string, path: string, key: string | undefined, payload?: unknown) =>
      fetch(`${base}${path}`, {
        method,
        headers: { accept: 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }), ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
        body: payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
      });

    test('its API refuses a missing or wrong key as Pay does (401), and makes and reads payments with the key it issued', async () => {
      const account = await devPay.createAccount('Test service');
      assert.equal(account.baseUrl, base);
      assert.match(account.apiKey, /^api_test_devpay_/);
      const weftKey = await t.key(['parking:manage']);
      for (const key of [undefined, '', 'api_test_devpay_wrong', weftKey]) {
        for (const [method, path, payload] of [
          ['POST', '/v1/payments', body],
          ['GET', '/v1/payments/abcdefghijklmnopqrstuvwxyz', undefined],
        ] as const) {
          const res = await call(method, path, key, payload);
          assert.equal(res.status, 401, `${method} ${path} with ${key === undefined ? 'no key' : `key ${key.slice(0, 12)}…`}`);
          assert.deepEqual(await res.json(), { message: 'Credentials are required to access this resource' });
        }
      }
      assert.equal(await t.services.db.k.selectFrom('dev_pay_payments').select('payment_id').executeTakeFirst(), undefined, 'nothing was made');

      const made = await call('POST', '/v1/payments', account.apiKey, body);
      assert.equal(made.status, 201);
      const p = await made.json();
      assert.match(p.payment_id, /^[a-z0-9]{26}$/);
      assert.equal(made.headers.get('location'), `${base}/v1/payments/${p.payment_id}`);
      assert.deepEqual([p.amount, p.reference, p.description, p.return_url, p.language], [7000, body.reference, body.description, body.return_url, 'en']);
      assert.deepEqual(p.state, { status: 'created', finished: false });
      assert.match(p._links.next_url.href, new RegExp(`^${base}/secure/[\\w-]+$`));

      const read = await call('GET', `/v1/payments/${p.payment_id}`, account.apiKey);
      assert.equal(read.status, 200);
      const again = await read.json();
      assert.deepEqual(again.state, { status: 'created', finished: false });
      assert.equal(again._links.next_url, undefined, 'the single-use address is given only when the payment is made');

      // Another account's key cannot see it: Pay's 404.
      const other = await devPay.createAccount('Another service');
      const hidden = await call('GET', `/v1/payments/${p.payment_id}`, other.apiKey);
      assert.equal(hidden.status, 404);
      assert.equal((await hidden.json()).code, 'P0200');

      // Pay's refusals: the first problem, as a 422 with Pay's code; JSON it cannot read, 400 P0197.
      const refused = async (b: unknown) => {
        const res = await call('POST', '/v1/payments', account.apiKey, b);
        return { status: res.status, ...(await res.json()) };
      };
      const { amount: _, ...noAmount } = body;
      assert.deepEqual(await refused(noAmount), { status: 422, field: 'amount', code: 'P0101', description: 'Missing mandatory attribute: amount' });
      assert.deepEqual(await refused({ ...body, amount: 0 }), { status: 422, field: 'amount', code: 'P0102', description: 'Invalid attribute value: amount. Must be greater than or equal to 1' });
      assert.equal((await refused({ ...body, return_url: 'not a url' })).code, 'P0102');
      assert.equal((await refused({ ...body, language: 'fr' })).field, 'language');
      assert.deepEqual(await refused('{"amount": '), { status: 400, code: 'P0197', description: 'Unable to parse JSON' });

      // Stored in the database: a service made afresh (as after a restart) reads it.
      const restarted = new DevPayService(t.services.db, t.services.config.secret, weft, { info() {}, warn() {}, error() {} });
      assert.equal((await restarted.get((await restarted.repo.findAccount(account.id)) as never, p.payment_id))?.payment_id, p.payment_id);
    });

    test('the messaging module’s own GOV.UK Pay client works against it, and a wrong key is PAY_ACCOUNT_REFUSED', async () => {
      const account = await devPay.createAccount('Client test');
      const client = new GovUkPay(account.baseUrl, account.apiKey);
      const made = await client.create({ amount: 5000, reference: 'R1', description: 'A test payment', return_url: 'http://127.0.0.1/back', language: 'cy' });
      assert.ok(made.nextUrl.startsWith(`${base}/secure/`));
      const read = await client.get(made.payment_id);
      assert.equal(read?.state.status, 'created');
      assert.equal(read?.amount, 5000);
      assert.equal(await client.get('abcdefghijklmnopqrstuvwxyz'), undefined);
      await assert.rejects(new GovUkPay(account.baseUrl, 'api_test_devpay_wrong').create({ amount: 1, reference: 'R', description: 'D', return_url: 'http://x/y', language: 'en' }), {
        code: 'PAY_ACCOUNT_REFUSED',
      });
      await assert.rejects(client.create({ amount: 20_000_000, reference: 'R', description: 'D', return_url: 'http://x/y', language: 'en' }), { code: 'PAY_PAYMENT_REFUSED' });
    });

    test('the payment page: its address works once, it says plainly it takes no money, and its buttons need the form’s CSRF token', async () => {
      const account = await devPay.createAccount('Page test');
      const made = await new GovUkPay(account.baseUrl, account.apiKey).create({
        amount: 7000,
        reference: 'PCN-PAGE0001',
        description: 'Penalty charge notice PAGE0001',
        return_url: `${weft}/healthz`,
        language: 'en',
      });
      const resident = new Resident();
      const opened = await resident.go(made.nextUrl);
      assert.equal(opened.status, 303);
      const card = new URL(opened.headers.get('location') as string, weft).toString();
      assert.equal(card, `${base}/card/${made.payment_id}`);
      const expired = devPayErrors.DEV_PAY_SESSION_EXPIRED();
      assert.equal(expired.code, 'DEV_PAY_SESSION_EXPIRED');
      const twice = await new Resident().go(made.nextUrl);
      assert.equal(twice.status, 400, 'next_url works once, as at Pay');
      assert.ok((await twice.text()).includes(expired.message));
      assert.equal((await new Resident().go(`${base}/secure/not-a-token`)).status, 400);

      const page = await resident.go(card);
      assert.equal(page.status, 200);
      const html = await page.text();
      // The page's shape, as far as HTTP can check it (axe runs only in the browser suite).
      assert.match(html, /<html lang="en-GB"/);
      assert.match(html, /<title>Development payment page – /);
      assert.equal(html.match(/<h1[ >]/g)?.length, 1);
      assert.match(html, /<h1 class="govuk-heading-l">Development payment page<\/h1>/);
      assert.ok(html.includes(SENTENCE), 'the page says it takes no money');
      assert.match(html, /Penalty charge notice PAGE0001/);
      assert.match(html, /£70\.00/);
      assert.ok(!/<input[^>]+type="(text|number|tel)"/.test(html), 'no card details are asked for');
      assert.match(html, new RegExp(`<form method="post" action="/dev-pay/card/${made.payment_id}"`));
      const buttons = [...html.matchAll(/<button type="submit" value="(\w+)" name="outcome"[^>]*>\s*([^<]+?)\s*<\/button>/g)].map((m) => `${m[1]}: ${m[2]}`);
      assert.deepEqual(buttons, ['success: Complete the payment', 'declined: Decline the payment', 'cancelled: Cancel the payment']);
      assert.ok(!/<script(?![^>]*src=)/.test(html), 'no inline script');

      // Without the form's token (another site's form), nothing happens.
      const forged = await resident.go(card, { outcome: 'success' });
      assert.equal(forged.status, 403);
      assert.equal((await devPay.get((await devPay.repo.findAccount(account.id)) as never, made.payment_id))?.state.status, 'started');
      const odd = await resident.go(card, { outcome: 'refund', _csrf: csrfFrom(html) });
      assert.equal(odd.status, 400);

      const cancelled = await resident.go(card, { outcome: 'cancelled', _csrf: csrfFrom(html) });
      assert.equal(cancelled.status, 303);
      assert.equal(cancelled.headers.get('location'), `${weft}/healthz`, 'back to the return_url, as from Pay');
      const state = (await new GovUkPay(account.baseUrl, account.apiKey).get(made.payment_id))?.state;
      assert.deepEqual(state, { status: 'failed', finished: true, message: 'Payment was cancelled by the user', code: 'P0030' });
      // Ended once: the page and its buttons are gone.
      assert.equal((await resident.go(card)).status, 400);
      assert.equal((await resident.go(card, { outcome: 'success', _csrf: csrfFrom(html) })).status, 400);
    });

    test('the demo’s parking fines: upload on the console page, pay on the development page, the notice paid and its follow-up cancelled; declined stays unpaid', async () => {
      const officer: Browser = await t.signInAs(['service']);
      const setUp = await parkingPayAccount(t.services, systemActor('weft demo'));
      assert.deepEqual(setUp, { devPay: base });
      const ready = await t.app.inject({ url: '/console/parking/upload', headers: { cookie: officer.cookie } });
      assert.match(ready.body, /name="file" type="file"/, 'the upload page takes a file: the Pay account is set');

      const csv = readFileSync('demo/penalty-notices.csv', 'utf8');
      const { payload, contentType } = multipart({ followUpDays: '14', _csrf: officer.csrf }, { filename: 'penalty-notices.csv', content: csv });
      const uploaded = await t.app.inject({ method: 'POST', url: '/console/parking/upload', headers: { cookie: officer.cookie, 'content-type': contentType }, payload });
      assert.equal(uploaded.statusCode, 303, uploaded.body.slice(0, 500));
      const batchUrl = uploaded.headers.location as string;
      const batchId = batchUrl.split('/').pop() as string;
      while ((await t.services.jobs.runOnce()) > 0);
      while ((await t.services.delivery.runOnce()) > 0);

      const key = await t.key(['parking:manage']);
      const batch = async () => (await t.app.inject({ url: `/api/v1/parking/batches/${batchId}`, headers: { authorization: `Bearer ${key}` } })).json();
      const sent = await batch();
      const rows = csv.trim().split(/\r?\n/).length - 1;
      assert.equal(sent.counts.notices, rows);
      assert.deepEqual([sent.counts.outstanding, sent.counts.failed, sent.counts.waiting], [rows, 0, 0], sent.problem ?? '');
      assert.equal(
        (await t.services.db.k
          .selectFrom('dev_pay_payments')
          .select((e) => e.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
          .then((r) => Number(r.n))) >= rows,
        true,
      );

      // Every keeper's message is in the development inbox with a working pay link.
      const texts = sent.notices.filter((n: { channel: string }) => n.channel === 'sms');
      assert.ok(texts.length >= 2);
      const message = async (n: { notificationId: string }) => t.services.db.k.selectFrom('notifications').selectAll().where('id', '=', n.notificationId).executeTakeFirstOrThrow();
      for (const n of sent.notices) {
        const m = await message(n);
        assert.equal(m.provider, 'inbox');
        assert.ok(CODE.test(m.body), `${n.pcn}: ${m.body}`);
      }

      /** The keeper follows the link in their text and presses a button on the development page. */
      const payThrough = async (n: { notificationId: string }, outcome: string) => {
        const code = CODE.exec((await message(n)).body)?.[1] as string;
        const resident = new Resident();
        const followed = await resident.go(`${weft}/l/${code}`);
        assert.equal(followed.status, 302);
        const next = followed.headers.get('location') as string;
        assert.ok(next.startsWith(`${base}/secure/`), next);
        const opened = await resident.go(next);
        assert.equal(opened.status, 303);
        const card = new URL(opened.headers.get('location') as string, weft).toString();
        const page = await resident.go(card);
        assert.equal(page.status, 200);
        const html = await page.text();
        assert.ok(html.includes(SENTENCE));
        const done = await resident.go(card, { outcome, _csrf: csrfFrom(html) });
        assert.equal(done.status, 303);
        assert.equal(done.headers.get('location'), `${weft}/l/${code}/return`, 'back to Weft’s return page');
        return { resident, returnUrl: done.headers.get('location') as string };
      };

      const [paid, declined] = texts;
      const byPcn = (b: { notices: { pcn: string }[] }, pcn: string) => b.notices.find((x) => x.pcn === pcn) as Record<string, any>;

      const payer = await payThrough(paid, 'success');
      // Pay's signed webhook has come before the resident is sent back: the notice is paid already.
      const afterPay = await batch();
      assert.equal(byPcn(afterPay, paid.pcn).status, 'paid');
      assert.equal(byPcn(afterPay, paid.pcn).paidPence, paid.amountPence);
      assert.equal(byPcn(afterPay, paid.pcn).followUp.status, 'cancelled');
      const followUp = await t.services.db.k.selectFrom('notifications').selectAll().where('id', '=', byPcn(afterPay, paid.pcn).followUp.notificationId).executeTakeFirstOrThrow();
      assert.equal(followUp.status, 'cancelled');
      assert.match(String(followUp.status_reason), /^Paid on /);
      const back = await payer.resident.go(payer.returnUrl);
      assert.equal(back.status, 200);
      assert.match(await back.text(), /Payment received/);

      const decliner = await payThrough(declined, 'declined');
      const notTaken = await decliner.resident.go(decliner.returnUrl);
      assert.equal(notTaken.status, 200);
      assert.match(await notTaken.text(), /Your payment was not taken/);
      const afterDecline = await batch();
      assert.equal(byPcn(afterDecline, declined.pcn).status, 'clicked', 'followed, not paid');
      assert.equal(byPcn(afterDecline, declined.pcn).paidAt, null);
      assert.equal(byPcn(afterDecline, declined.pcn).followUp.status, 'waiting', 'its follow-up still goes');
      assert.deepEqual([afterDecline.counts.paid, afterDecline.counts.clicked, afterDecline.counts.outstanding], [1, 1, rows - 2]);

      // The console shows paid, clicked and outstanding.
      const shown = await t.app.inject({ url: batchUrl, headers: { cookie: officer.cookie } });
      assert.equal(shown.statusCode, 200);
      const cell = (label: string) => new RegExp(`<th scope="row" class="govuk-table__header">${label}</th><td class="govuk-table__cell govuk-table__cell--numeric">(\\d+)</td>`).exec(shown.body)?.[1];
      assert.deepEqual([cell('Paid'), cell('Link followed, not paid'), cell('Outstanding \\(link not followed\\)')], ['1', '1', String(rows - 2)]);
    });
  });
});
