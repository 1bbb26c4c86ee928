/**
 * The lone-worker visits page in a real browser at a phone's size, with and without JavaScript:
 * an error first, then start a visit, then "I'm safe – check out". Every page must pass axe.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { systemActor } from '../../src/platform/auth/actor.js';
import { browserFor, checkPage, createStaff, mainText, newPage, signInByCookie, startApp, submit, text, visit } from './browser.js';

const live = await startApp();
await live.services.requests.createTeam(systemActor('test'), { name: 'Community care', email: 'community-care@council.example' });
const PHONE = { width: 375, height: 740 };

describe('lone-worker visits in a browser', () => {
  const { browser } = browserFor(live);

  for (const javaScriptEnabled of [true, false]) {
    test(`starting a visit and checking out on a phone ${javaScriptEnabled ? 'with' : 'without'} JavaScript`, async () => {
      const worker = await createStaff(live, ['care'], javaScriptEnabled ? 'Wyn Worker' : 'Nia Nurse');
      const { context, page } = await newPage(browser(), live.baseUrl, { javaScriptEnabled, viewport: PHONE });
      try {
        await signInByCookie(context, live, worker.email, worker.password);
        await visit(page, '/console/visits');
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Start visit' }).click()), 400);
        await checkPage(page);
        assert.match(await text(page.locator('.govuk-error-summary')), /Enter where the visit is[\s\S]*Enter how long the visit should take/);

        await page.getByLabel('Where is the visit?').fill('12 Oak Road, flat 3');
        await page.getByLabel('How long will it take?').fill('45');
        await page.getByLabel('Community care').check();
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Start visit' }).click()), 200);
        await checkPage(page);
        assert.match(await mainText(page), /Your visit has started[\s\S]*12 Oak Road, flat 3/);

        assert.equal(await submit(page, () => page.getByRole('button', { name: 'I’m safe – check out' }).click()), 200);
        await checkPage(page);
        assert.match(await mainText(page), /You have checked out\. Your team knows you are safe\./);
        assert.match(await mainText(page), /12 Oak Road, flat 3 .* Checked out/);
      } finally {
        await context.close();
      }
    });
  }
});
