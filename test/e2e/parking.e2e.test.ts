/**
 * Parking fines in a real browser: set up the Parking service, upload the demo's sample file of
 * penalty charge notices, see the batch page with its counts and tags, filter it and open a
 * notice. Every page must pass axe. (The same pages without JavaScript: parking.pages.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { systemActor } from '../../src/platform/auth/actor.js';
import { payPeer } from '../modules/messaging/peers/pay.js';
import { browserFor, checkPage, createStaff, mainText, startApp, submit, visit } from './browser.js';

const SAMPLE = new URL('../../demo/penalty-notices.csv', import.meta.url).pathname;

const live = await startApp();
const pay = await payPeer();
after(() => pay.close());
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
      const { serviceId } = await live.services.parking.setup();
      await live.services.payments.setAccount(systemActor('test'), serviceId as string, { baseUrl: pay.url, apiKey: pay.apiKey, webhookSigningSecret: pay.webhookSecret });
      await visit(page, '/console/parking/upload');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Check the file and send' }).click()), 400);
      await checkPage(page);
      await page.locator('#file').setInputFiles(SAMPLE);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Check the file and send' }).click()), 200);
      await checkPage(page);
      assert.match(page.url(), /\/console\/parking\/batches\/[0-9a-f-]{36}$/);

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
    } finally {
      await context.close();
    }
  });
});
