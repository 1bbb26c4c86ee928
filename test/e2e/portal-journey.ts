import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type PortalId, portalText } from '../../src/modules/portal/portal.messages.js';
import { systemActor } from '../../src/platform/auth/actor.js';
import { squareWards } from '../geo-fixtures.js';
import { lastSecret } from '../modules/portal/portal-helpers.js';
import { checkPage, type LiveApp, launchBrowser, mainText, newPage, startApp, submit, text, visit } from './browser.js';

const WARD = squareWards([{ name: 'Riverside', code: 'E05000100', box: [-2.5, 52.3, -2.4, 52.4] }]);

/**
 * The residents' portal walked in a real browser, in one language with JavaScript on or off:
 * signing up, my account, how you hear from us, signing in with a code, and the limits. Two
 * files walk it, English without JavaScript and Welsh with it (the report pages' browser test takes
 * the other two pairings), so every string is seen in both languages and every page both ways
 * without running all four: browser tests are most of the suite's time.
 */
export function portalJourney(lang: 'en' | 'cy', js: boolean): void {
  let live: LiveApp;

  /** The button of the page's (first) form in <main>: each portal page has one, the sign-out button is outside <main>. */
  const press = (page: Page, form = 0) => submit(page, () => page.locator('main form').nth(form).locator('button.govuk-button').click());

  /** Requests an hour ago: every walk starts with the limits of a fresh hour (the browser always comes from 127.0.0.1). */
  async function newHour(): Promise<void> {
    await live.services.db.k
      .updateTable('portal_sign_in_requests')
      .set({ created_at: new Date(Date.now() - 2 * 3_600_000) })
      .execute();
  }

  describe(`the residents’ portal in a browser (${lang === 'en' ? 'English' : 'Welsh'}, JavaScript ${js ? 'on' : 'off'})`, () => {
    let browser: Browser;
    before(async () => {
      live = await startApp();
      await live.services.estate.importAreas(systemActor('test'), WARD);
      await live.services.estate.createSite(systemActor('test'), { type: 'library', name: 'Riverside Library', address: '1 Book Lane', lat: 52.35, lon: -2.44 });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
    });

    test(`${lang === 'en' ? 'in English' : 'in Welsh'}, ${js ? 'with' : 'without'} JavaScript: signing up, my account, how you hear from us, signing in with a code`, async () => {
      await newHour();
      const t = (id: PortalId, params?: Record<string, unknown>) => portalText(lang, id, params);
      const { context, page } = await newPage(browser, live.baseUrl, { javaScriptEnabled: js });
      const address = `walker-${lang}-${js ? 'js' : 'nojs'}@example.com`;
      const mobile = `077009${lang === 'en' ? '1' : '2'}${js ? '1' : '2'}234`;
      try {
        // The start page, switched to the language by its own switch.
        await visit(page, '/');
        if (lang === 'cy') {
          await submit(page, () => page.locator('.govuk-language-navigation a[hreflang="cy"]').click());
          await checkPage(page);
        }
        assert.equal(await page.locator('html').getAttribute('lang'), lang === 'cy' ? 'cy' : 'en-GB');
        assert.equal((await text(page.locator('h1'))).trim(), t('startHeading', { organisation: 'Your council' }));

        // Signing up with a link by email.
        await submit(page, () => page.locator('main a.govuk-button--start').click());
        await checkPage(page);
        assert.equal(await press(page), 400);
        await checkPage(page);
        assert.match(await text(page.locator('.govuk-error-summary')), new RegExp(t('errorContactMissing')));
        await page.locator('#contact').fill(address);
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.equal((await text(page.locator('h1'))).trim(), t('checkEmailTitle'));
        await visit(page, (await lastSecret(live.services, address)).path as string);
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.equal(new URL(page.url()).pathname, '/sign-in/new');
        assert.equal(await press(page), 400);
        await checkPage(page);
        await page.locator('#name').fill(lang === 'cy' ? 'Gwenllian Jones' : 'Jenny Walker');
        await page.locator(`input[name="language"][value="${lang}"]`).check();
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.match(await mainText(page), new RegExp(t('welcome')));

        // My account, a page at a time.
        await visit(page, '/account/details');
        await page.locator('#landline').fill('12');
        assert.equal(await press(page), 400);
        await checkPage(page);
        await page.locator('#landline').fill('01632 960 001');
        await page.locator('#address').fill('Jenny Walker\n4 Mill Lane\nWealdmoor\nSW1A 1AA');
        assert.equal(await press(page), 200);
        await checkPage(page);
        await visit(page, '/account/home');
        await page.locator('#postcode').fill('SW1A 1AA');
        await page.locator('#latitude').fill('52.35');
        await page.locator('#longitude').fill('-2.45');
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.match(await mainText(page), new RegExp(t('homeInArea', { area: 'Riverside' })));
        await visit(page, '/account/accessibility');
        await page.locator('input[name="needs"][value="largePrint"]').check();
        assert.equal(await press(page), 200);
        await checkPage(page);
        await visit(page, '/account/language');
        assert.equal(await press(page), 200);
        await checkPage(page);
        await visit(page, '/account/quiet-hours');
        await page.locator('#quietFrom').fill('21:00');
        assert.equal(await press(page), 400);
        await checkPage(page);
        await page.locator('#quietTo').fill('07:00');
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.match(await mainText(page), new RegExp(t('quietSpan', { from: '21:00', to: '07:00' })));

        // A new email address, confirmed by its link; a mobile number, confirmed by its code.
        await visit(page, '/account/email');
        await page.locator('#email').fill(`new-${address}`);
        assert.equal(await press(page), 200);
        await checkPage(page);
        await visit(page, (await lastSecret(live.services, `new-${address}`)).path as string);
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.match(await mainText(page), new RegExp(t('savedEmail')));
        await visit(page, '/account/mobile');
        await page.locator('#mobile').fill(mobile);
        assert.equal(await press(page), 200);
        await checkPage(page);
        await page.locator('#code').fill('12');
        assert.equal(await press(page), 400);
        await checkPage(page);
        await page.locator('#code').fill((await lastSecret(live.services, `44${mobile.slice(1)}`)).code as string);
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.match(await mainText(page), new RegExp(t('savedMobile')));

        // How you hear from us: the usual order, a subscription added and removed.
        await visit(page, '/account/messages');
        await submit(page, () => page.locator('main table').first().locator('a').first().click());
        await checkPage(page);
        await page.locator('#choice1').selectOption('sms');
        await page.locator('#choice2').selectOption('sms');
        assert.equal(await press(page), 400);
        await checkPage(page);
        await page.locator('#choice2').selectOption('email');
        assert.equal(await press(page), 200);
        await checkPage(page);
        await submit(page, () => page.locator('main a.govuk-button[href$="/subscriptions/new"]').click());
        await checkPage(page);
        assert.equal(await press(page), 400);
        await checkPage(page);
        await page.locator('#topic').selectOption('air-quality');
        await page.locator('input[name="kind"][value="site"]').check();
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.equal(await press(page), 400);
        await checkPage(page);
        await page.locator('#siteId').selectOption({ index: 1 });
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.match(await mainText(page), /Riverside Library/);
        await submit(page, () => page.locator('main a.govuk-button[href$="/subscriptions/new"]').click());
        await page.locator('#topic').selectOption('roadworks');
        await page.locator('input[name="kind"][value="radius"]').check();
        assert.equal(await press(page), 200);
        await checkPage(page);
        await page.locator('#radiusMetres').fill('1500');
        assert.equal(await press(page), 200);
        await checkPage(page);
        await submit(page, () => page.locator('main a.govuk-button[href$="/subscriptions/new"]').click());
        await page.locator('#topic').selectOption('parking');
        await page.locator('input[name="kind"][value="area"]').check();
        assert.equal(await press(page), 200);
        await checkPage(page);
        await page.locator('#areaId').selectOption({ index: 1 });
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.equal(await submit(page, () => page.locator('#subscriptions ~ table form button').first().click()), 200);
        await checkPage(page);
        assert.match(await mainText(page), new RegExp(t('unsubscribed')));

        // Signing out, and in again with a code by text message.
        await submit(page, () => page.locator('form[action="/sign-out"] button').click());
        await checkPage(page);
        assert.match(await mainText(page), new RegExp(t('signedOut')));
        await page.locator('#contact').fill(mobile);
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.equal(new URL(page.url()).pathname, '/sign-in/code');
        await page.locator('#code').fill('000000' === (await lastSecret(live.services, `44${mobile.slice(1)}`)).code ? '111111' : '000000');
        assert.equal(await press(page), 400);
        await checkPage(page);
        await page.locator('#code').fill((await lastSecret(live.services, `44${mobile.slice(1)}`)).code as string);
        assert.equal(await press(page), 200);
        await checkPage(page);
        assert.equal(new URL(page.url()).pathname, '/account');

        // The pages that refuse: a link that does not work, too many requests in an hour.
        assert.equal((await visit(page, '/sign-in/link/not-a-real-link')).status(), 400);
        assert.equal((await text(page.locator('h1'))).trim(), t('linkInvalidTitle'));
        await visit(page, '/account/email');
        let status = 200;
        for (let i = 0; i < 6 && status !== 429; i++) {
          await page.locator('#email').fill(`flood-${address}`);
          status = await press(page);
          await checkPage(page);
          if (status === 200) await visit(page, '/account/email');
        }
        assert.equal(status, 429);
        assert.equal((await text(page.locator('h1'))).trim(), t('tooManyTitle'));
        const resident = await live.services.residents.findByContact('email', `new-${address}`);
        assert.deepEqual([resident?.language, resident?.mobile, resident?.largePrint], [lang, `44${mobile.slice(1)}`, true]);
      } finally {
        await context.close();
      }
    });
  });
}
