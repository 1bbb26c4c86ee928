/**
 * Parking fines in a real browser, as in the demo: set up the Parking service, with the development
 * GOV.UK Pay as its Pay account (WEFT_DEV_PAY), upload the demo's sample file of penalty charge
 * notices, see the batch page with its counts and tags, filter it and open a notice; then a keeper
 * follows their pay link to the development payment page, completes the payment and is back on
 * Weft's return page, and the notice shows paid. Every page must pass axe. (The same pages without
 * JavaScript: parking.pages.test.ts and devpay.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parkingPayAccount } from '../../demo/county.js';
import { systemActor } from '../../src/platform/auth/actor.js';
import { browserFor, checkPage, createStaff, mainText, startApp, submit, visit } from './browser.js';

const SAMPLE = new URL('../../demo/penalty-notices.csv', import.meta.url).pathname;
const CODE = /\/l\/([0-9A-Za-z]{12})\b/;

const live = await startApp({ WEFT_DEV_PAY: 'true' });
const officer = await createStaff(live, ['service'], 'Pat Parking');

describe('parking fines in a browser', () => {
  const { signedIn } = browserFor(live);

  test('uploading the sample file of penalty charge notices, and following the batch', async () => {
    const { context, page } = await signedIn(officer, true);
    try {
      await visit(page, '/console/parking');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Upload penalty charge notices' }).click()), 200);
      await checkPage(page);
      // First the Parking service, then its GOV.UK Pay account (set by an administrator, here directly).
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Set up the Parking messaging service' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /A GOV\.UK Pay account is needed first/);
      // The Pay account, as the demo sets it: the development GOV.UK Pay on this same Weft.
      assert.deepEqual(await parkingPayAccount(live.services, systemActor('weft demo')), { devPay: `${live.baseUrl}/dev-pay` });
      await visit(page, '/console/parking/upload');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Check the file and send' }).click()), 400);
      await checkPage(page);
      await page.locator('#file').setInputFiles(SAMPLE);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Check the file and send' }).click()), 200);
      await checkPage(page);
      assert.match(page.url(), /\/console\/parking\/batches\/[0-9a-f-]{36}$/);
      const batchUrl = page.url();

      while ((await live.services.jobs.runOnce()) > 0);
      await visit(page, page.url());
      assert.match(await mainText(page), /30 notices: every one sent\./);
      assert.match(await mainText(page), /Outstanding \(link not followed\) 30/);
      await page.locator('#status').selectOption('outstanding');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Show notices' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Outstanding: 1 to 30 of 30/);
      assert.equal(await submit(page, () => page.getByRole('link', { name: 'WM40012345' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Penalty charge notice WM40012345 Outstanding/);
      assert.match(await mainText(page), /Times the link was followed 0/);

      // The keeper follows the link in their text to the development payment page and pays.
      while ((await live.services.delivery.runOnce()) > 0);
      const notice = (await live.services.db.k.selectFrom('parking_notices').select('notification_id').where('pcn', '=', 'WM40012345').executeTakeFirstOrThrow()).notification_id;
      const text = await live.services.db.k
        .selectFrom('notifications')
        .select('body')
        .where('id', '=', notice as string)
        .executeTakeFirstOrThrow();
      const code = CODE.exec(text.body)?.[1] as string;
      await visit(page, `/l/${code}`);
      assert.match(page.url(), /\/dev-pay\/card\//);
      assert.match(await mainText(page), /No money is taken and no card details are asked for/);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Complete the payment' }).click()), 200);
      await checkPage(page);
      assert.match(page.url(), new RegExp(`/l/${code}/return$`));
      await visit(page, `${batchUrl}?status=paid`);
      assert.match(await mainText(page), /Paid: 1 to 1 of 1/);
    } finally {
      await context.close();
    }
  });
});
