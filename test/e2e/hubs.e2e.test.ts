/**
 * Hybrid-working hubs in a real browser, on a desktop and at a phone's size, with and without
 * JavaScript: see the day's free desks, book one from the list, check in, and cancel. Every page
 * must pass axe.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { systemActor } from '../../src/platform/auth/actor.js';
import { addDays, londonDay, londonInstant } from '../../src/platform/dates.js';
import { browserFor, checkPage, createStaff, mainText, newPage, signInByCookie, startApp, submit, text, visit } from './browser.js';

const live = await startApp();
// The hubs' clock is held at 10:00 (London) tomorrow: the test checks in at any real hour.
const NOW = londonInstant(addDays(londonDay(new Date()), 1), 10 * 60);
live.services.workforce.clock = () => NOW;
const system = { ...systemActor('test'), permissions: new Set(['hubs:manage']) };
const site = await live.services.estate.createSite(system, {
  type: 'library',
  name: 'Moorchester Library',
  address: '1 High Street',
  connectivity: { technology: 'full_fibre', status: 'live', downMbps: 900, upMbps: 110 },
});
const hub = await live.services.workforce.createHub(system, { siteId: site.id, opens: '00:00', closes: '23:30', openDays: [1, 2, 3, 4, 5, 6, 7] });
for (let i = 1; i <= 4; i++) await live.services.workforce.addSpace(system, hub.id, { name: `Desk ${i}`, kind: 'desk', equipment: ['two screens'] });
await live.services.workforce.addSpace(system, hub.id, { name: 'Quiet room', kind: 'quiet_room', accessibility: 'step-free' });
const PHONE = { width: 375, height: 740 };

describe('hub bookings in a browser', () => {
  const { browser } = browserFor(live);

  const cases = [
    { js: true, viewport: undefined, desk: 'Desk 1', name: 'Hana Hub' },
    { js: false, viewport: PHONE, desk: 'Desk 2', name: 'Ifan Hub' },
    { js: true, viewport: PHONE, desk: 'Desk 3', name: 'Jo Hub' },
  ];
  for (const c of cases) {
    test(`booking ${c.desk}, checking in and cancelling ${c.viewport ? 'on a phone' : 'on a desktop'} ${c.js ? 'with' : 'without'} JavaScript`, async () => {
      const person = await createStaff(live, ['service'], c.name);
      const { context, page } = await newPage(browser(), live.baseUrl, { javaScriptEnabled: c.js, ...(c.viewport ? { viewport: c.viewport } : {}) });
      try {
        await signInByCookie(context, live, person.email, person.password);
        await visit(page, '/console/hubs');
        assert.match(await mainText(page), /Moorchester Library/);
        assert.equal(await submit(page, () => page.getByRole('link', { name: 'Moorchester Library' }).click()), 200);
        await checkPage(page);
        assert.match(await mainText(page), /Full fibre \(live\), 900 Mbps down, 110 Mbps up/);
        const select = page.getByLabel(`When to book ${c.desk}`);
        // The first choice is what is left of today (or the whole day).
        assert.ok((await select.locator('option').count()) >= 1);
        assert.equal(await submit(page, () => page.getByRole('button', { name: `Book ${c.desk}` }).click()), 200);
        await checkPage(page);
        assert.match(await text(page.locator('.govuk-notification-banner')), /Booked\. Check in when you arrive/);
        assert.match(await mainText(page), new RegExp(`${c.desk} .*Booked`));
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Check in' }).click()), 200);
        await checkPage(page);
        assert.match(await text(page.locator('.govuk-notification-banner')), /You are checked in\./);
        assert.equal(await text(page.locator('#booking-status')), 'Checked in');
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Cancel booking' }).click()), 200);
        await checkPage(page);
        assert.match(await text(page.locator('.govuk-notification-banner')), /Booking cancelled\./);
        await visit(page, '/console/hubs/bookings');
        assert.match(await mainText(page), /Past and cancelled/);
        assert.match(await mainText(page), /Cancelled/);
      } finally {
        await context.close();
      }
    });
  }

  test('a manager’s pages: the day’s bookings, occupancy, QR codes and closing the hub', async () => {
    const officer = await createStaff(live, ['officer'], 'Owain Officer');
    const { context, page } = await newPage(browser(), live.baseUrl, { viewport: PHONE });
    try {
      await signInByCookie(context, live, officer.email, officer.password);
      await visit(page, `/console/hubs/${hub.id}/occupancy`);
      await visit(page, `/console/hubs/${hub.id}/bookings`);
      await visit(page, `/console/hubs/${hub.id}/qr-codes`);
      assert.equal(await page.locator('#qr-codes svg').count(), 5);
      await visit(page, `/console/hubs/${hub.id}/close`);
      await page.locator('#reason').fill('');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Close the hub and cancel bookings' }).click()), 400);
      await checkPage(page);
      assert.match(await text(page.locator('.govuk-error-summary')), /Enter the reason the hub is closed/);
      await visit(page, `/console/hubs/${hub.id}/spaces/new`);
      await visit(page, '/console/hubs/new');
    } finally {
      await context.close();
    }
  });
});
