/**
 * Service requests in a real browser: the queue with its filters and map (no tiles: it must draw
 * offline), a request's page and its update and merge forms (errors first), and the categories page,
 * with JavaScript on and off. Every page must pass axe and load without console errors, CSP
 * violations or failed requests.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { catalogue, IN_CASTLE, IN_MEADOW, pothole, system } from '../modules/requests/fixtures.js';
import { browserFor, checkPage, createStaff, mainText, startApp, submit, visit } from './browser.js';

const live = await startApp();
const service = await createStaff(live, ['service'], 'Sam Service');
const admin = await createStaff(live, ['admin'], 'Ada Admin');
const c = await catalogue(live);
const r = live.services.requests;
const late = await r.submit(system, pothole(IN_CASTLE, { reporterName: 'Lee Late', reporterEmail: 'lee@example.com' }), { source: 'staff' });
await live.services.db.k
  .updateTable('requests')
  .set({ due_at: new Date(Date.now() - 7_200_000) })
  .where('id', '=', late.id)
  .execute();
const other = await r.submit(system, pothole(IN_MEADOW), { source: 'staff' });
await r.submit(system, { category: 'fly-tipping', description: 'Fridge in the lane', ...IN_MEADOW }, { source: 'staff' });

describe('service requests console in a browser', () => {
  const { signedIn } = browserFor(live);

  for (const javaScriptEnabled of [true, false]) {
    test(`the queue filters and marks what is overdue; a request is moved on, noted and merged (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async () => {
      const { context, page } = await signedIn(service, javaScriptEnabled);
      try {
        await visit(page, '/console/requests');
        const text = await mainText(page);
        assert.match(text, /3 requests/);
        assert.match(text, /Overdue/);
        if (javaScriptEnabled) {
          await page.locator('#requests-map .leaflet-interactive').first().waitFor();
          assert.ok((await page.locator('#requests-map path.weft-map-request').count()) >= 3, 'a marker per request');
          assert.equal(await page.locator('#requests-map path.weft-map-request--overdue').count(), 1);
        } else assert.match(text, /The map needs JavaScript/);

        await page.locator('#team').selectOption(c.cleansing.id);
        await submit(page, () => page.getByRole('button', { name: 'Filter' }).click());
        await checkPage(page);
        assert.match(await mainText(page), /1 request\b/);
        assert.match(await mainText(page), /Fly-tipping/);

        await visit(page, `/console/requests/${late.id}`);
        assert.match(await mainText(page), /This request was due/);
        assert.match(await mainText(page), /lee@example.com/);
        const note = javaScriptEnabled ? 'Gang booked for Monday' : 'Cones put out';
        await page.getByLabel('Internal note').check();
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save update' }).click()), 400);
        await checkPage(page);
        assert.equal(await page.locator('.govuk-error-summary a[href="#message"]').count(), 1);
        await page.locator('#message').fill(note);
        await page.getByLabel('Internal note').check();
        assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save update' }).click()), 200);
        await checkPage(page);
        assert.match(await mainText(page), new RegExp(`Update saved.*Internal note.*${note}`));
      } finally {
        await context.close();
      }
    });
  }

  test('a request is acknowledged with a public update, then merged into another', async () => {
    const { context, page } = await signedIn(service);
    try {
      await visit(page, `/console/requests/${late.id}`);
      await page.getByLabel('Acknowledge').check();
      await page.locator('#message').fill('Thank you, an inspector will look this week.');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save update' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Acknowledged/);
      await page.locator('#into').fill('NOTAREF1');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Merge as duplicate' }).click()), 400);
      await checkPage(page);
      await page.locator('#into').fill(other.reference);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Merge as duplicate' }).click()), 200);
      await checkPage(page);
      const text = await mainText(page);
      assert.match(text, /Merged as a duplicate/);
      assert.match(text, new RegExp(`already been reported as ${other.reference}`));
      assert.equal(await page.getByRole('button', { name: 'Merge as duplicate' }).count(), 0, 'a duplicate is not merged again');
    } finally {
      await context.close();
    }
  });

  test('an admin adds a team and a category routed by area', async () => {
    const { context, page } = await signedIn(admin, false);
    try {
      await visit(page, '/console/requests/categories');
      await page.locator('#teamName').fill('Parks');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add team' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Team added/);
      await submit(page, () => page.getByRole('button', { name: 'Add a category' }).click());
      await checkPage(page);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save category' }).click()), 400);
      await checkPage(page);
      await page.locator('#code').fill('graffiti');
      await page.locator('#name').fill('Graffiti');
      await page.locator('#group').fill('Street cleaning');
      await page.locator('#targetHours').fill('168');
      await page.locator('#defaultTeamId').selectOption({ label: 'Street cleansing' });
      await page.locator(`[name="route-${c.meadow}"]`).selectOption({ label: 'Parks' });
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save category' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Category saved.*Graffiti/);
      const saved = await r.getCategory('graffiti');
      assert.equal(saved.routes.length, 1);
      assert.equal(saved.routes[0].areaId, c.meadow);
    } finally {
      await context.close();
    }
  });
});
