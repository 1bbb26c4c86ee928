/**
 * LoRaWAN integrations in a real browser: add one (errors first), see its token once with
 * the set-up steps, find it in the list with the message counts, and revoke it. Every page
 * must pass axe and load without console errors, CSP violations or failed requests, with
 * and without JavaScript.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { checkPage, createStaff, launchBrowser, mainText, newPage, signInByCookie, startApp, submit, text, visit } from './browser.js';

const live = await startApp();
const officer = await createStaff(live, ['officer'], 'Olu Officer');

describe('LoRaWAN integrations in a browser', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  for (const javaScriptEnabled of [true, false]) {
    test(`an officer adds a ChirpStack integration, copies its token and revokes it (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
      const { context, page } = await newPage(browser, live.baseUrl, { javaScriptEnabled });
      await signInByCookie(context, live, officer.email, officer.password);
      try {
        await visit(page, '/console');
        await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'LoRaWAN' }).click();
        await page.waitForURL('**/console/lorawan');
        await checkPage(page);
        assert.match(await mainText(page), /Messages since this process started/);
        await submit(page, () => page.getByRole('button', { name: 'Add an integration' }).click());
        await checkPage(page);

        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Create integration' }).click()), 400);
        await checkPage(page);
        const summary = page.locator('.govuk-error-summary');
        for (const field of ['name', 'kind']) assert.equal(await summary.locator(`a[href="#${field}"]`).count(), 1, `summary links to #${field}`);

        const name = `Waste sensors ${javaScriptEnabled ? 'js' : 'nojs'}`;
        await page.locator('#name').fill(name);
        await page.getByLabel('ChirpStack (v4)').check();
        await page.locator('#defaultProfile').selectOption('bin-fill');
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Create integration' }).click()), 200);
        await checkPage(page);
        const token = (await text(page.locator('#integration-token'))).trim();
        assert.match(token, /^wint_/);
        assert.match(await mainText(page), /\/api\/v1\/lorawan\/chirpstack/);
        assert.equal((await live.services.lorawan.actorForToken(token))?.type, 'integration');

        await page.getByRole('link', { name: 'Back to LoRaWAN integrations' }).click();
        await page.waitForURL('**/console/lorawan');
        await checkPage(page);
        assert.match(await mainText(page), new RegExp(`${name}[\\s\\S]*Registered as Bin fill sensor`));
        assert.ok(!(await page.content()).includes(token), 'the token is not shown again');
        await submit(page, () => page.getByRole('button', { name: `Revoke integration ${name}` }).click());
        await checkPage(page);
        assert.equal(await live.services.lorawan.actorForToken(token), undefined, 'the token stops working at once');
      } finally {
        await context.close();
      }
    });
  }
});
