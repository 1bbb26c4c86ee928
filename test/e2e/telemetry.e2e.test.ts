/**
 * The telemetry console in a real browser: choosing a device and its latest values, the
 * live page (uPlot chart and a table kept up to date over Server-Sent Events, and the same
 * table without JavaScript), and quarantined readings. Every page must pass axe and load
 * without console errors, CSP violations or failed requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { checkPage, createStaff, launchBrowser, mainText, newPage, signInByCookie, startApp, submit, text, visit } from './browser.js';
import { bearer, realDevice } from '../modules/telemetry/fixtures.js';

const live = await startApp();
const viewer = await createStaff(live, ['viewer'], 'Vera Viewer');
const monitor = await realDevice(live, { lat: 51.75, lon: -1.26 });

const post = (payload: unknown) => fetch(`${live.baseUrl}/api/v1/telemetry`, { method: 'POST', headers: bearer(monitor.token), body: JSON.stringify(payload) });

describe('telemetry console in a browser', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
    const now = Date.now();
    const readings = Array.from({ length: 30 }, (_, i) => ({ metric: 'no2', value: 30 + i, at: now - (30 - i) * 60_000 }));
    const res = await post({ readings: [...readings, { metric: 'pm2_5', value: 8, at: now - 60_000 }, { metric: 'no2', value: 5000, at: now - 30_000 }] });
    assert.equal(res.status, 200);
  });
  after(async () => {
    await browser?.close();
  });

  test('a viewer chooses a device, sees its latest values, and watches readings arrive live', async () => {
    const { context, page } = await newPage(browser, live.baseUrl);
    try {
      await signInByCookie(context, live, viewer.email, viewer.password);
      await visit(page, '/console');
      await page.locator('.govuk-service-navigation').getByRole('link', { name: 'Telemetry', exact: true }).click();
      await page.waitForURL('**/console/telemetry');
      await checkPage(page);
      await page.getByLabel('Device').selectOption(monitor.device.id);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Show latest values' }).click()), 200);
      await checkPage(page);
      const latest = page.locator('table', { hasText: 'Latest values' });
      assert.match(await text(latest), /no2\s+59/);
      assert.match(await text(latest), /pm2_5\s+8/);

      await page.getByRole('link', { name: /Live readings and chart/ }).click();
      await page.waitForURL(`**/console/telemetry/devices/${monitor.device.id}`);
      await page.locator('#live-chart canvas').waitFor();
      await checkPage(page);
      assert.equal(await page.locator('#recent-readings tbody tr').count(), 30);
      assert.match(await text(page.locator('#recent-readings tbody tr').first()), /59/);

      // A reading sent now appears in the table and the status line, with no reload.
      const sent = await post({ metric: 'no2', value: 123.4 });
      assert.equal(sent.status, 200);
      await page.locator('#recent-readings tbody tr').first().filter({ hasText: '123.4' }).waitFor();
      assert.match(await text(page.locator('#live-status')), /Latest no2: 123\.4 µg\/m³ at /);
      await checkPage(page);
    } finally {
      await context.close();
    }
  });

  test('another metric is chosen with the form', async () => {
    // A page of its own: leaving a live page cuts its event stream, which the page checks would count as a failed request.
    const { context, page } = await newPage(browser, live.baseUrl);
    try {
      await signInByCookie(context, live, viewer.email, viewer.password);
      await visit(page, `/console/telemetry/devices/${monitor.device.id}`);
      await page.getByLabel('Metric to follow').selectOption('pm2_5');
      await submit(page, () => page.getByRole('button', { name: 'Show', exact: true }).click());
      assert.match(page.url(), /\?metric=pm2_5$/);
      await page.locator('#live-chart canvas').waitFor();
      assert.match(await text(page.locator('h2').first()), /pm2_5/);
      assert.match(await text(page.locator('#recent-readings tbody tr').first()), /8/);
    } finally {
      await context.close();
    }
  });

  test('the live map shows devices as markers coloured by NO2, updated as readings arrive; its table works without JavaScript', async () => {
    const { context, page } = await newPage(browser, live.baseUrl);
    try {
      await signInByCookie(context, live, viewer.email, viewer.password);
      await visit(page, '/console/telemetry');
      await page.getByRole('link', { name: 'Live map of devices' }).click();
      await page.waitForURL('**/console/telemetry/map');
      const marker = page.locator('#telemetry-map path.weft-tm-marker');
      await marker.first().waitFor();
      assert.ok((await marker.count()) >= 1);
      await checkPage(page);
      assert.match(await text(page.locator('#telemetry-map-table')), new RegExp(monitor.device.name));
      // A reading in the DAQI high band turns the monitor's marker red, with no reload.
      const sent = await post({ metric: 'no2', value: 450.5 });
      assert.equal(sent.status, 200);
      await page.locator('#telemetry-map path.weft-tm-marker.weft-tm--high').waitFor();
      await page.locator('#telemetry-map path.weft-tm--high').click();
      const popup = page.locator('.leaflet-popup-content');
      await popup.waitFor();
      assert.match(await text(popup), /no2\s*450\.5 µg\/m³/);
      assert.equal(await popup.getByRole('link', { name: monitor.device.name }).getAttribute('href'), `/console/telemetry/devices/${monitor.device.id}`);
      await checkPage(page);
    } finally {
      await context.close();
    }
    const noJs = await newPage(browser, live.baseUrl, { javaScriptEnabled: false });
    try {
      await signInByCookie(noJs.context, live, viewer.email, viewer.password);
      await visit(noJs.page, '/console/telemetry/map?profile=air-quality');
      assert.match(await text(noJs.page.locator('#telemetry-map-table')), /450\.5 µg\/m³/);
      assert.equal(await noJs.page.locator('#telemetry-map path').count(), 0);
      await checkPage(noJs.page);
    } finally {
      await noJs.context.close();
    }
  });

  test('without JavaScript the live page still lists recent readings, and quarantine is listed', async () => {
    const { context, page } = await newPage(browser, live.baseUrl, { javaScriptEnabled: false });
    try {
      await signInByCookie(context, live, viewer.email, viewer.password);
      await visit(page, `/console/telemetry/devices/${monitor.device.id}?metric=no2`);
      assert.ok((await page.locator('#recent-readings tbody tr').count()) >= 30);
      assert.equal(await page.locator('#live-chart canvas').count(), 0);
      await visit(page, '/console/telemetry/quarantine');
      assert.match(await mainText(page), /5000 is above the maximum of 2000 for no2/);
      await page.getByLabel('Device id').fill(monitor.device.id);
      await submit(page, () => page.getByRole('button', { name: 'Filter' }).click());
      await checkPage(page);
      assert.equal(await page.locator('tbody tr').count(), 1);
    } finally {
      await context.close();
    }
  });
});
