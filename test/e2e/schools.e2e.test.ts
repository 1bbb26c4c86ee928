/**
 * School closures in a real browser, with and without JavaScript: find schools and tick them
 * (ticks kept across searches), errors in the GOV.UK way, close them, and the page that follows
 * the messages. Every page must pass axe.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { systemActor } from '../../src/platform/auth/actor.js';
import { browserFor, checkPage, createStaff, mainText, startApp, submit, text, visit } from './browser.js';

const live = await startApp();
const comms = await createStaff(live, ['comms'], 'Carys Comms');
const system = systemActor('test');
for (const name of ['Oakfield Primary', 'Oakwood Academy', 'Birch Infants']) {
  const site = await live.services.estate.createSite(system, { type: 'school', name, address: `${name} Road`, lat: 52.3, lon: -2.4 });
  const resident = await live.services.residents.create(system, { name: `Parent at ${name}`, email: `parent-${site.id.slice(0, 8)}@example.com` });
  await live.services.residents.subscribe(system, resident.id, { topic: 'school-closures', kind: 'site', siteId: site.id });
}

describe('school closures in a browser', () => {
  const { signedIn } = browserFor(live);

  for (const js of [true, false]) {
    test(`closing schools ${js ? 'with' : 'without'} JavaScript`, async () => {
      const { context, page } = await signedIn(comms, js);
      try {
        await visit(page, '/console/schools/closures');
        await page.getByRole('button', { name: 'Close schools' }).click();
        await page.waitForURL('**/closures/new');
        await checkPage(page);
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Close the schools and tell subscribers' }).click()), 400);
        await checkPage(page);
        assert.match(await text(page.locator('.govuk-error-summary')), /Choose at least one school[\s\S]*Enter the reason/);
        await page.locator('#q').fill('oak');
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Find' }).click()), 200);
        await checkPage(page);
        await page.getByLabel('Oakfield Primary').check();
        await page.locator('#q').fill('birch');
        await submit(page, () => page.getByRole('button', { name: 'Find' }).click());
        assert.equal(await page.getByLabel('Oakfield Primary').isChecked(), true, 'the tick is kept');
        await page.getByLabel('Birch Infants').check();
        await page.locator('#reason').fill(js ? 'the boiler has failed' : 'snow');
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Close the schools and tell subscribers' }).click()), 200);
        await checkPage(page);
        while ((await live.services.jobs.runOnce()) > 0);
        await visit(page, page.url());
        await checkPage(page);
        assert.match(await mainText(page), /2 residents subscribed: 2 messages made\./);
      } finally {
        await context.close();
      }
    });
  }
});
