/**
 * The messaging console in a real browser: the overview, a text message template written with
 * its counter updating as it is typed, previews (the email in a sandboxed frame, the phone
 * bubble), the development inbox, services with an API key shown once, and providers. Then the
 * same work with JavaScript turned off. Every page must pass axe and load without console
 * errors, CSP violations or failed requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { signToken, splitApiKey } from '../../src/modules/messaging/notify.auth.js';
import { systemActor } from '../../src/platform/auth/actor.js';
import { checkPage, createStaff, launchBrowser, mainText, newPage, signInByCookie, startApp, submit, text, visit } from './browser.js';

const live = await startApp();
const admin = await createStaff(live, ['admin'], 'Ada Admin');
const comms = await createStaff(live, ['comms'], 'Cai Comms');
const system = systemActor('test');
const m = live.services.messaging;

const service = await m.createService(system, { name: 'Wealdmoor Libraries', smsSender: 'WEALDMOOR', emailFrom: 'libraries@wealdmoor.example' });
const emailTemplate = await m.createTemplate(system, service.id, {
  name: 'Book overdue',
  type: 'email',
  subject: 'Your book is overdue, ((name))',
  body: '# Your book is overdue\n\nDear ((name)),\n\n* ((title))\n\n^ Return it by Friday.',
});
const letterTemplate = await m.createTemplate(system, service.id, { name: 'Membership', type: 'letter', subject: 'Welcome to the library', body: 'Dear ((name)),\n\nWelcome.' });
const voiceTemplate = await m.createTemplate(system, service.id, { name: 'Bin day call', type: 'voice', body: 'Your bin is collected tomorrow.', menu: [{ key: '1', label: 'confirm' }] });
{
  const { secret } = splitApiKey((await m.createKey(system, service.id, { name: 'e2e', keyType: 'normal' })).apiKey);
  const send = async (path: string, payload: object) => {
    const res = await live.app.inject({ method: 'POST', url: `/v2/notifications/${path}`, headers: { authorization: `Bearer ${signToken(service.id, secret)}` }, payload });
    assert.equal(res.statusCode, 201, res.body);
  };
  await send('email', { template_id: emailTemplate.id, email_address: 'reader@example.com', personalisation: { name: 'Rhian', title: 'Middlemarch' } });
  await send('letter', {
    template_id: letterTemplate.id,
    personalisation: { name: 'Rhian', address_line_1: 'Rhian Jones', address_line_2: '1 High Street', address_line_3: 'Exampletown', postcode: 'SW1A 1AA' },
  });
  await live.services.delivery.runOnce();
}

describe('messaging console in a browser', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  async function signedIn(account: { email: string; password: string }, javaScriptEnabled = true) {
    const { context, page } = await newPage(browser, live.baseUrl, { javaScriptEnabled });
    await signInByCookie(context, live, account.email, account.password);
    return { context, page };
  }

  test('the comms team writes a text message template: the counter follows the typing, then it is saved and previewed', async () => {
    const { context, page } = await signedIn(comms);
    try {
      await visit(page, '/console/messaging');
      assert.match(await mainText(page), /No provider is turned on: these messages go to the development inbox/);
      await page.getByRole('link', { name: 'Templates', exact: true }).click();
      await page.waitForURL('**/console/messaging/templates');
      await checkPage(page);
      await submit(page, () => page.getByRole('button', { name: 'Add a template to Wealdmoor Libraries' }).click());
      await checkPage(page);
      await page.getByLabel('Text message', { exact: true }).check();
      await submit(page, () => page.getByRole('button', { name: 'Continue' }).click());
      await checkPage(page);

      const count = page.locator('#body-count');
      assert.equal(await text(count), 'Your message is empty.');
      await page.locator('#name').fill('Book ready');
      await page.locator('#body').pressSequentially('Hello ((name)), your book is ready');
      await page.waitForFunction(() => document.querySelector('#body-count')?.textContent?.startsWith('34 characters: 1 text message part'));
      await page.locator('#body').press('End');
      await page.locator('#body').pressSequentially(` to collect from ${'the library on the High Street '.repeat(4)}`);
      await page.waitForFunction(() => /: 2 text message parts\. Estimated cost 4p a message/.test(document.querySelector('#body-count')?.textContent ?? ''));
      await page.locator('#body').pressSequentially(' ŵ');
      await page.waitForFunction(() => /outside the standard text message alphabet \(ŵ\)/.test(document.querySelector('#body-count')?.textContent ?? ''));
      assert.match(await text(count), /3 text message parts/, 'Welsh ŵ makes it UCS-2: 67 characters a part');
      await checkPage(page);

      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save template' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Template saved/);
      await submit(page, () => page.getByRole('button', { name: 'Preview' }).click());
      await checkPage(page);
      await page.locator('#p0').fill('Rhian');
      await submit(page, () => page.getByRole('button', { name: 'Preview' }).click());
      await checkPage(page);
      assert.match(await text(page.locator('.weft-bubble')), /^Hello Rhian, your book is ready to collect/);
    } finally {
      await context.close();
    }
  });

  test('previews: the email in its sandboxed frame, the voice call, the letter; and the development inbox', async () => {
    const { context, page } = await signedIn(comms);
    try {
      await visit(page, `/console/messaging/templates/${emailTemplate.id}`);
      await submit(page, () => page.getByRole('button', { name: 'Preview' }).click());
      await page.locator('#p0').fill('Rhian');
      await page.locator('#p1').fill('Middlemarch');
      await submit(page, () => page.getByRole('button', { name: 'Preview' }).click());
      await checkPage(page);
      assert.match(await mainText(page), /Your book is overdue, Rhian/);
      const frame = page.frameLocator('iframe.weft-email-frame');
      await frame.getByText('Dear Rhian,', { exact: true }).waitFor();
      assert.match(await text(frame.locator('body')), /Middlemarch/);

      await visit(page, `/console/messaging/templates/${voiceTemplate.id}/preview`);
      assert.match(await mainText(page), /Press 1 to confirm\./);
      await visit(page, `/console/messaging/templates/${letterTemplate.id}/preview`);
      assert.match(await mainText(page), /Open the letter as a PDF \(1 page, dated today\)/);

      await visit(page, '/console/messaging/inbox');
      assert.match(await mainText(page), /reader@example\.com/);
      await page.getByRole('link', { name: 'reader@example.com' }).click();
      await page.waitForURL('**/console/messaging/inbox/*');
      await checkPage(page);
      await page.frameLocator('iframe.weft-email-frame').getByText('Dear Rhian,', { exact: true }).waitFor();
      await visit(page, '/console/messaging/inbox?channel=letter');
      await page.getByRole('link', { name: 'Rhian Jones' }).click();
      await page.waitForURL('**/console/messaging/inbox/*');
      await checkPage(page);
      assert.match(await mainText(page), /Open the letter as a PDF/);
      await visit(page, '/console/messaging/notifications?status=delivered');
      assert.match(await mainText(page), /reader@example\.com/);
      await page.getByRole('link', { name: 'reader@example.com' }).click();
      await page.waitForURL('**/console/messaging/notifications/*');
      await checkPage(page);
      assert.match(await mainText(page), /Development inbox/);
    } finally {
      await context.close();
    }
  });

  test('an administrator adds a service, creates an API key seen once, revokes it, and adds a provider', async () => {
    const { context, page } = await signedIn(admin);
    try {
      await visit(page, '/console/messaging/services');
      await submit(page, () => page.getByRole('button', { name: 'Add a messaging service' }).click());
      await checkPage(page);
      await page.locator('#smsSender').fill('much too long a name');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add service' }).click()), 400);
      await checkPage(page);
      await page.locator('#name').fill('Wealdmoor Waste');
      await page.locator('#smsSender').fill('WASTE');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add service' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Messaging service added/);

      await submit(page, () => page.getByRole('button', { name: 'Create an API key' }).click());
      await checkPage(page);
      await page.locator('#name').fill('Bin app');
      await page.getByLabel('Live', { exact: true }).check();
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Create key' }).click()), 200);
      await checkPage(page);
      const apiKey = (await text(page.locator('#api-key'))).trim();
      assert.match(apiKey, /^bin_app-[0-9a-f-]{36}-[0-9a-f-]{36}$/);
      await page.getByRole('link', { name: 'Back to Wealdmoor Waste' }).click();
      await page.waitForURL('**/console/messaging/services/*');
      await checkPage(page);
      assert.ok(!(await page.content()).includes(splitApiKey(apiKey).secret), 'the key is not shown again');
      await page.getByRole('link', { name: 'Revoke Bin app' }).click();
      await page.waitForURL('**/revoke');
      await checkPage(page);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Yes, revoke this key' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /API key revoked/);

      await visit(page, '/console/messaging/providers/new');
      await page.getByLabel('Text message', { exact: true }).check();
      await page.getByLabel('SMTP email server').check();
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Continue' }).click()), 400);
      await checkPage(page);
      assert.match(await mainText(page), /This kind of provider cannot send text messages/);
      await page.getByLabel('Email', { exact: true }).check();
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Continue' }).click()), 200);
      await checkPage(page);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add provider' }).click()), 400);
      await checkPage(page);
      assert.match(await mainText(page), /Enter the server name/);
      await page.locator('#smtp-host').fill('127.0.0.1');
      await page.locator('#smtp-password').fill('hunter2-secret');
      await page.locator('#name').fill('Council mail relay');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add provider' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Council mail relay/);
      assert.ok(!(await page.content()).includes('hunter2-secret'));
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Turn off Council mail relay' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Provider turned off/);
      await visit(page, '/console/messaging');
    } finally {
      await context.close();
    }
  });

  test('without JavaScript: the Preview button counts the text message, and the provider form shows every setting', async () => {
    const { context, page } = await signedIn(comms, false);
    try {
      await visit(page, `/console/messaging/services/${service.id}/templates/new?type=sms`);
      await page.locator('#name').fill('Closure');
      await page.locator('#body').fill(`The library is closed today. ${'Sorry for any trouble this causes. '.repeat(5)}`);
      assert.equal(await text(page.locator('#body-count')), 'Your message is empty.', 'nothing counts without JavaScript until asked');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Preview' }).click()), 200);
      await checkPage(page);
      assert.match(await text(page.locator('#body-count')), /^\d+ characters: 2 text message parts\./);
      assert.match(await text(page.locator('.weft-bubble')), /^The library is closed today\./);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save template' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Template saved/);
      await visit(page, `/console/messaging/templates/${emailTemplate.id}/preview?version=1&p0=Rhian&p1=Middlemarch`);
      await page.frameLocator('iframe.weft-email-frame').getByText('Dear Rhian,', { exact: true }).waitFor();
    } finally {
      await context.close();
    }
    const signedInAdmin = await signedIn(admin, false);
    try {
      await visit(signedInAdmin.page, '/console/messaging/providers/new');
      await signedInAdmin.page.getByLabel('Text message', { exact: true }).check();
      await signedInAdmin.page.getByLabel('Twilio, or a service with the same API').check();
      assert.equal(await submit(signedInAdmin.page, () => signedInAdmin.page.getByRole('button', { name: 'Continue' }).click()), 200);
      await checkPage(signedInAdmin.page);
      assert.equal(await signedInAdmin.page.locator('#twilio-accountSid').isVisible(), true);
      assert.equal(await signedInAdmin.page.locator('#pencePerPart').isVisible(), true);
    } finally {
      await signedInAdmin.context.close();
    }
  });
});
