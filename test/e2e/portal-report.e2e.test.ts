/**
 * "Report a problem" in a real browser: in English with JavaScript (the place chosen on the map)
 * and in Welsh without it (the place is the resident's home), each with a photo, then the
 * confirmation, the report's page with its photo and "Your reports"; and the console's "Record a
 * request" form. Every page must pass axe and load without console errors, CSP violations or
 * failed requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type PortalId, portalText } from '../../src/modules/portal/portal.messages.js';
import { lastSecret } from '../modules/portal/portal-helpers.js';
import { catalogue, IN_CASTLE, system } from '../modules/requests/fixtures.js';
import { checkPage, createStaff, launchBrowser, mainText, newPage, signInByCookie, startApp, submit, text } from './browser.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

const live = await startApp();
await catalogue(live);

/** The submit button of the page's form in <main> (the sign-out button is outside it; the map's button is not a submit). */
const press = (page: Page) => submit(page, () => page.locator('main form button[type="submit"]').first().click());
/** Lets a page not checked here finish loading (its favicon too) before the next: an aborted request would fail the next check. */
const settle = (page: Page) => page.waitForLoadState('networkidle');

describe('report a problem in a browser', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  for (const { lang, js } of [
    { lang: 'en', js: true },
    { lang: 'cy', js: false },
  ] as const) {
    test(`${lang === 'en' ? 'in English, with' : 'in Welsh, without'} JavaScript: a pothole reported with a photo, then followed in your reports`, async () => {
      const t = (id: PortalId, params?: Record<string, unknown>) => portalText(lang, id, params);
      const address = `reporter-${lang}@example.com`;
      await live.services.residents.create(system, { name: 'Pat Reporter', email: address, language: lang, location: IN_CASTLE, postcode: 'OX1 1AA' });
      const { context, page } = await newPage(browser, live.baseUrl, { javaScriptEnabled: js });
      try {
        // Signed out, the form sends the visitor to sign in and back (the sign-in pages have their own browser tests).
        await page.goto('/report');
        await settle(page);
        assert.equal(new URL(page.url()).pathname, '/sign-in');
        await page.locator('#contact').fill(address);
        assert.equal(await press(page), 200);
        await settle(page);
        await page.goto((await lastSecret(live.services, address)).path as string);
        await settle(page);
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.equal(new URL(page.url()).pathname, '/report');

        // What the problem is: asked again when nothing is chosen.
        assert.equal((await text(page.locator('h1'))).trim(), t('reportChooseTitle'));
        assert.equal(await press(page), 400);
        await checkPage(page);
        assert.match(await text(page.locator('.govuk-error-summary')), new RegExp(t('errorCategoryMissing')));
        await page.locator('input[name="category"][value="potholes"]').check();
        assert.equal(await press(page), 200);
        await settle(page);
        assert.equal(new URL(page.url()).pathname, '/report/potholes');

        // Where, the question, the description and a photo: errors first.
        assert.equal(await press(page), 400);
        await checkPage(page);
        assert.match(await text(page.locator('.govuk-error-summary')), new RegExp(t('errorDescriptionMissing')));
        if (js) {
          await page.locator('.weft-report-map .leaflet-container').waitFor();
          await page.locator('.weft-report-map .weft-map').click();
          assert.match(await page.locator('input[name="lat"]').inputValue(), /^\d+\.\d+$/);
          assert.equal(await page.locator('input[name="where"][value="elsewhere"]').isChecked(), true);
          assert.match(await text(page.locator('.weft-report-map__status')), new RegExp(t('mapChosen')));
          await checkPage(page);
        } else {
          assert.equal(await page.locator('.weft-report-map').isVisible(), false, 'no map without JavaScript');
          await page.locator('input[name="where"][value="home"]').check();
        }
        await page.locator('input[name="attr-depth"][value="deep"]').check();
        await page.locator('#description').fill(lang === 'en' ? 'A deep hole by the kerb' : 'Twll dwfn wrth ymyl y palmant');
        await page.locator('#photo').setInputFiles({ name: 'hole.png', mimeType: 'image/png', buffer: PNG });
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.equal((await text(page.locator('.govuk-panel__title'))).trim(), t('sentTitle'));
        const reference = (await text(page.locator('.govuk-panel__body strong'))).trim();
        assert.match(reference, /^[0-9A-Z]{8}$/);

        // The report's page shows its photo; "Your reports" lists it.
        await submit(page, () => page.getByRole('link', { name: t('seeReports') }).click());
        await checkPage(page);
        assert.equal((await text(page.locator('h1'))).trim(), t('reportTitle', { reference }));
        assert.ok(await page.locator('img.weft-report-photo').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 1), 'the photo loads');
        await submit(page, () => page.getByRole('link', { name: t('navReports'), exact: true }).click());
        await checkPage(page);
        assert.match(await mainText(page), new RegExp(`${reference} ${lang === 'en' ? 'Potholes' : 'Tyllau yn y ffordd'}`));

        const row = await live.services.db.k.selectFrom('requests').select(['lat', 'area_id', 'media_url']).where('reference', '=', reference).executeTakeFirstOrThrow();
        assert.ok(row.media_url?.endsWith('.png'));
        if (!js) assert.equal(row.lat, IN_CASTLE.lat, 'placed at home');
        else assert.ok(row.lat !== null && row.lat !== IN_CASTLE.lat, 'placed where the map was clicked, not at home');
      } finally {
        await context.close();
      }
    });
  }

  test('in the console, without JavaScript: staff record a request for someone, the category first, then the form, errors first', async () => {
    const staff = await createStaff(live, ['service'], 'Sam Service');
    const { context, page } = await newPage(browser, live.baseUrl, { javaScriptEnabled: false });
    await signInByCookie(context, live, staff.email, staff.password);
    try {
      await page.goto('/console/requests');
      await settle(page);
      await submit(page, () => page.locator('main a[href="/console/requests/new"]').click());
      await settle(page);
      await page.locator('#category').selectOption('fly-tipping');
      assert.equal(await press(page), 200);
      await checkPage(page);
      assert.equal(await press(page), 400);
      await checkPage(page);
      await page.locator('#description').fill('Mattress in the lane');
      await page.locator('#address').fill('Back lane behind the shops');
      await page.locator('#reporterName').fill('Sam Walker');
      assert.equal(await press(page), 200);
      assert.match(await mainText(page), /Request recorded\..*Mattress in the lane.*Sam Walker/);
    } finally {
      await context.close();
    }
  });
});
