/**
 * The residents pages in a real browser: finding a resident, adding one with errors in the
 * summary first, their page, changing their details, and the preference editor's numbered
 * selects; then the same with JavaScript turned off. Every page must pass axe and load without
 * console errors, CSP violations or failed requests.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { systemActor } from '../../src/platform/auth/actor.js';
import { browserFor, checkPage, createStaff, mainText, startApp, submit, text, visit } from './browser.js';

const live = await startApp();
const care = await createStaff(live, ['care'], 'Carys Care');
const comms = await createStaff(live, ['comms'], 'Cai Comms');
await live.services.residents.create(systemActor('test'), {
  name: 'Owen Price',
  email: 'owen@example.com',
  mobile: '07700900555',
  address: ['Owen Price', '2 Mill Lane', 'Wealdmoor', 'SW1A 2AA'],
  preferences: { '*': ['sms', 'email'] },
});

describe('residents pages in a browser', () => {
  const { signedIn } = browserFor(live);

  test('care staff add a resident on their behalf, find them, change their details and their channel order', async () => {
    const { context, page } = await signedIn(care);
    try {
      await visit(page, '/console');
      await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Residents' }).click();
      await page.waitForURL('**/console/residents');
      await checkPage(page);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Search' }).click()), 400);
      await checkPage(page);

      await submit(page, () => page.getByRole('link', { name: 'Add a resident' }).click());
      await checkPage(page);
      await page.locator('#email').fill('not an email');
      await page.locator('#address').fill('Megan Hughes\nSW1A 1AA');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add resident' }).click()), 400);
      await checkPage(page);
      assert.match(await text(page.locator('.govuk-error-summary')), /Enter the resident’s name[\s\S]*Enter the address on 3 to 7 lines/);
      await page.locator('.govuk-error-summary a', { hasText: 'Enter the resident’s name' }).click();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'name', 'the summary’s link goes to the field');
      await page.locator('#name').fill('Megan Hughes');
      await page.locator('#address').fill('Megan Hughes\n3 Chapel Row\nWealdmoor\nSW1A 1AA');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add resident' }).click()), 400);
      await checkPage(page);
      assert.match(await text(page.locator('.govuk-error-summary')), /Enter an email address in the correct format/);
      await page.locator('#email').fill('megan@example.com');
      await page.locator('#mobile').fill('07700 900 777');
      await page.getByLabel('Welsh (Cymraeg)').check();
      await page.getByLabel('Large print letters').check();
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add resident' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Resident added.*Megan Hughes/);

      await submit(page, () => page.getByRole('button', { name: 'Change channel preferences' }).click());
      await checkPage(page);
      await page.locator('#topic-0-choice-1').selectOption('sms');
      await page.locator('#topic-0-choice-2').selectOption('sms');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save preferences' }).click()), 400);
      await checkPage(page);
      assert.match(await text(page.locator('.govuk-error-summary')), /Text message is chosen twice/);
      await page.locator('#topic-0-choice-2').selectOption('email');
      await page.locator('#topic-1').fill('bin-collections');
      await page.locator('#topic-1-choice-1').selectOption('letter');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save preferences' }).click()), 200);
      await checkPage(page);
      assert.match(await text(page.locator('#preferences')), /Any other topic\s+Text message\s+Email\s+bin-collections\s+Letter/);

      await submit(page, () => page.getByRole('button', { name: 'Change contact details' }).click());
      await checkPage(page);
      await page.locator('#quietFrom').fill('21:00');
      await page.locator('#quietTo').fill('07:30');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save details' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Details saved.*From 21:00 to 07:30, UK time/);

      await visit(page, '/console/residents');
      await page.locator('#q').fill('07700 900555');
      await submit(page, () => page.getByRole('button', { name: 'Search' }).click());
      await checkPage(page);
      await submit(page, () => page.getByRole('link', { name: 'Owen Price' }).click());
      await checkPage(page);
      assert.match(await mainText(page), /owen@example\.com/);
    } finally {
      await context.close();
    }
  });

  test('without JavaScript: searching and the preference editor’s numbered selects', async () => {
    const { context, page } = await signedIn(comms, false);
    try {
      await visit(page, '/console/residents');
      await page.locator('#q').fill('owen');
      await submit(page, () => page.getByRole('button', { name: 'Search' }).click());
      await checkPage(page);
      assert.match(await mainText(page), /1 resident found/);
      await submit(page, () => page.getByRole('link', { name: 'Owen Price' }).click());
      await checkPage(page);
      await submit(page, () => page.getByRole('button', { name: 'Change channel preferences' }).click());
      await checkPage(page);
      assert.equal(await page.locator('#topic-0-choice-1').inputValue(), 'sms');
      await page.locator('#topic-0-choice-1').selectOption('email');
      await page.locator('#topic-0-choice-2').selectOption('sms');
      await page.locator('#topic-0-choice-3').selectOption('voice');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save preferences' }).click()), 200);
      await checkPage(page);
      assert.match(await text(page.locator('#preferences')), /Any other topic\s+Email\s+Text message\s+Voice call/);
    } finally {
      await context.close();
    }
  });
});
