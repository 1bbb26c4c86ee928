/**
 * The messaging console in a real browser: the overview, a text message template written with
 * its counter updating as it is typed, previews (the email in a sandboxed frame, the phone
 * bubble), the development inbox, services with an API key shown once, and providers; a campaign
 * from a CSV file (errors by row, the check, sending followed in place, pause, resume, cancel) and
 * the delivery dashboard. Then the same work with JavaScript turned off. Every page must pass axe and load without console
 * errors, CSP violations or failed requests.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { signToken, splitApiKey } from '../../src/modules/messaging/notify.auth.js';
import { systemActor } from '../../src/platform/auth/actor.js';
import { browserFor, checkPage, createStaff, mainText, startApp, submit, text, visit } from './browser.js';
import { squareWards } from '../geo-fixtures.js';

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
const fineTemplate = await m.createTemplate(system, service.id, { name: 'Parking fine', type: 'sms', body: 'Hello ((name)), your parking fine ((ref)) is due. Pay at https://example.gov.uk/pay' });
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
  const { signedIn } = browserFor(live);

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

  const phones = (n: number) => Array.from({ length: n }, (_, i) => `0770090${String(2000 + i)}`);
  const drain = async () => {
    for (;;) {
      const jobs = await live.services.jobs.runOnce();
      const sent = await live.services.delivery.runOnce();
      if (!jobs && !sent) return;
    }
  };

  test('a campaign: a bad file with its rows listed, a good one checked, sent now and followed in place; then pause, resume and cancel', async () => {
    const { context, page } = await signedIn(comms);
    try {
      await visit(page, '/console/messaging/campaigns');
      await submit(page, () => page.getByRole('button', { name: 'Send to a list in a file' }).click());
      await checkPage(page);
      if (/Which service/.test(await mainText(page))) {
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Continue' }).click()), 400, 'a choice is needed');
        await checkPage(page);
        await page.getByLabel('Wealdmoor Libraries', { exact: true }).check();
        await submit(page, () => page.getByRole('button', { name: 'Continue' }).click());
        await checkPage(page);
      }
      await page.getByLabel(fineTemplate.name, { exact: true }).check();
      await submit(page, () => page.getByRole('button', { name: 'Continue' }).click());
      await checkPage(page);
      assert.match(await text(page.locator('#columns')), /phone number\s+name\s+ref/);

      await page.locator('#name').fill('Parking fines, March');
      const bad = ['phone number,name,ref', '07700900123,Sam,A1', '0770090,Jo,A2', '07700900124,,A3'].join('\r\n');
      await page.locator('#file').setInputFiles({ name: 'fines.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Upload and check' }).click()), 400);
      await checkPage(page);
      assert.match(await text(page.locator('.govuk-error-summary')), /The file has 2 rows with a problem/);
      assert.match(await text(page.locator('#row-errors')), /3\s+phone number: Not enough digits\s+4\s+name: Missing/);

      const good = ['phone number,name,ref', ...phones(30).map((p, i) => `${p},Person ${i},PCN${i}`)].join('\r\n');
      await page.locator('#file').setInputFiles({ name: 'fines.csv', mimeType: 'text/csv', buffer: Buffer.from(good) });
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Upload and check' }).click()), 200);
      await checkPage(page);
      assert.match(await text(page.locator('#campaign-summary')), /^30 text messages to 30 recipients, 1 text message part each, costing about 60p at 2p a part\.$/);
      assert.match(await text(page.locator('.weft-bubble')), /^Hello Person 0, your parking fine PCN0 is due\./);

      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Send now' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Campaign started/);
      assert.equal(await page.locator('#campaign-progress[data-weft-refresh]').count(), 1);
      // The progress is replaced in place while the worker sends: the page itself is not reloaded.
      await page.evaluate(() => {
        (window as unknown as { stayed: boolean }).stayed = true;
      });
      await drain();
      await page.waitForFunction(() => /30 of 30 messages finished \(100%\)/.test(document.querySelector('#campaign-state')?.textContent ?? ''), undefined, { timeout: 15_000 });
      assert.equal(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed), true, 'updated without a reload');
      assert.equal(await page.locator('#campaign-progress[data-weft-refresh]').count(), 0, 'no longer followed once finished');
      await checkPage(page);

      // A second campaign with messages still waiting: pause, resume and cancel by the buttons.
      const csv = ['phone number,name,ref', ...phones(8).map((p, i) => `${p},Held ${i},H${i}`)].join('\n');
      const held = await live.services.campaigns.create(system, service.id, { templateId: fineTemplate.id, name: 'Held fines', csv });
      await live.services.campaigns.start(system, held.id);
      await live.services.jobs.runOnce();
      await visit(page, `/console/messaging/campaigns/${held.id}`);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Pause' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Campaign paused.*Paused: 8 messages are held\./);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Resume' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Campaign resumed/);
      await submit(page, () => page.getByRole('button', { name: 'Cancel campaign' }).click());
      await checkPage(page);
      assert.match(await mainText(page), /Are you sure you want to cancel the campaign ‘Held fines’\?/);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Yes, cancel the campaign' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Campaign cancelled\./);
      assert.match(await text(page.locator('#campaign-counts')), /0\s+0\s+0\s+0\s+8\s+8/);

      await visit(page, '/console/messaging/campaigns');
      assert.match(await text(page.locator('#campaigns')), /Held fines[\s\S]*Cancelled/);
    } finally {
      await context.close();
    }
  });

  test('the delivery dashboard: charts with their tables, filtered by service and period', async () => {
    const { context, page } = await signedIn(comms);
    try {
      await visit(page, '/console/messaging');
      await page.getByRole('link', { name: 'Delivery dashboard' }).click();
      await page.waitForURL('**/console/messaging/dashboard');
      await checkPage(page);
      assert.equal(await page.locator('svg.weft-chart').count(), 3);
      assert.ok((await page.locator('svg.weft-chart rect').count()) > 0, 'the charts have bars');
      await page.locator('#serviceId').selectOption({ label: 'Wealdmoor Libraries' });
      await page.locator('#days').selectOption('30');
      await submit(page, () => page.getByRole('button', { name: 'Show' }).click());
      await checkPage(page);
      assert.match(await mainText(page), /in the last 30 days from Wealdmoor Libraries/);
      assert.equal(await page.locator('#by-day-status-table tbody tr').count(), 31);
    } finally {
      await context.close();
    }
  });

  test('without JavaScript: a campaign checked and scheduled, with errors on the date first', async () => {
    const { context, page } = await signedIn(comms, false);
    try {
      await visit(page, `/console/messaging/campaigns/new?templateId=${fineTemplate.id}`);
      await page.locator('#name').fill('Reminders for April');
      const csv = ['phone number,name,ref', ...phones(3).map((p, i) => `${p},Later ${i},L${i}`)].join('\n');
      await page.locator('#file').setInputFiles({ name: 'april.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Upload and check' }).click()), 200);
      await checkPage(page);
      assert.equal(await page.locator('#schedule-day').isVisible(), true);
      await page.locator('#schedule-day').fill('31');
      await page.locator('#schedule-month').fill('2');
      await page.locator('#schedule-year').fill('2030');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Schedule' }).click()), 400);
      await checkPage(page);
      assert.match(await text(page.locator('.govuk-error-summary')), /The date must be a real date[\s\S]*Enter the time to send the campaign/);
      const when = new Date(Date.now() + 5 * 86_400_000);
      const [day, month, year] = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'numeric', year: 'numeric' }).format(when).split('/');
      await page.locator('#schedule-day').fill(day);
      await page.locator('#schedule-month').fill(month);
      await page.locator('#schedule-year').fill(year);
      await page.locator('#schedule-time').fill('9:30am');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Schedule' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Campaign scheduled\..*Scheduled to start at .*09:30/);
      await visit(page, '/console/messaging/dashboard');
    } finally {
      await context.close();
    }
  });

  test('letter printing: the day’s batch is listed with its files, and an administrator marks it sent', async () => {
    const provider = await m.createProvider(system, { channel: 'letter', kind: 'print', name: 'County print room' });
    try {
      const { secret } = splitApiKey((await m.createKey(system, service.id, { name: 'print', keyType: 'normal' })).apiKey);
      const res = await live.app.inject({
        method: 'POST',
        url: '/v2/notifications/letter',
        headers: { authorization: `Bearer ${signToken(service.id, secret)}` },
        payload: {
          template_id: letterTemplate.id,
          personalisation: { name: 'Bryn', address_line_1: 'Bryn Hughes', address_line_2: '2 Mill Lane', address_line_3: 'Exampletown', postcode: 'SW1A 1AA' },
        },
      });
      assert.equal(res.statusCode, 201, res.body);
      while ((await live.services.delivery.runOnce()) > 0);
      const batch = await live.services.print.run(provider.id);
      assert.ok(batch);
      const { context, page } = await signedIn(admin);
      try {
        await visit(page, '/console/messaging/print');
        await page.getByRole('link', { name: batch.day }).click();
        await page.waitForURL(`**/console/messaging/print/${batch.id}`);
        await checkPage(page);
        assert.match(await mainText(page), /Ready to print[\s\S]*Manifest/);
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Mark as sent' }).click()), 200);
        await checkPage(page);
        assert.match(await mainText(page), /Marked as sent: 1 letter is now shown as received/);
      } finally {
        await context.close();
      }
    } finally {
      await m.deleteProvider(system, provider.id).catch(() => m.setProviderEnabled(system, provider.id, false));
    }
  });

  test('a campaign to subscribed residents: the form with its errors, the values asked for, and the draft that says who it is for', async () => {
    await live.services.estate.importAreas(system, squareWards([{ name: 'Brookside', code: 'B1', box: [-2.5, 52.33, -2.45, 52.36] }]));
    const resident = await live.services.residents.create(system, { name: 'Nia', email: 'nia@example.com', location: { lat: 52.34, lon: -2.48 }, postcode: 'WR1 1AA' });
    await live.services.residents.subscribe(system, resident.id, { topic: 'council-news', kind: 'home' });
    const { context, page } = await signedIn(comms);
    try {
      await visit(page, '/console/messaging/campaigns');
      await page.getByRole('button', { name: 'Send to subscribed residents' }).click();
      await page.waitForURL('**/campaigns/new-audience**');
      if (await page.getByLabel('Wealdmoor Libraries').count()) {
        await page.getByLabel('Wealdmoor Libraries').check();
        await submit(page, () => page.getByRole('button', { name: 'Continue' }).click());
      }
      await checkPage(page);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Find residents and check' }).click()), 400);
      await checkPage(page);
      assert.match(await text(page.locator('.govuk-error-summary')), /Enter a name for the campaign[\s\S]*Choose at least one area or place/);
      await page.locator('#name').fill('Library news');
      await page.locator('#topic').selectOption('council-news');
      await page.getByLabel('Brookside').check();
      await page.locator('#template-email').selectOption({ label: 'Book overdue' });
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Find residents and check' }).click()), 400);
      await checkPage(page);
      await page.locator('#value-title').fill('The new library card');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Find residents and check' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /1 resident subscribed to Council news in Brookside\./);
    } finally {
      await context.close();
    }
  });
});
