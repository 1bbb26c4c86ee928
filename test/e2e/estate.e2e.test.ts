/**
 * The estate console in a real browser: sites, a device and its credentials, the
 * connectivity rollout with its chart and map (no tiles: it must draw offline), fleet
 * health, and a CSV import with its progress page. Every page must pass axe and load
 * without console errors, CSP violations or failed requests.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { systemActor } from '../../src/platform/auth/actor.js';
import { browserFor, checkPage, createStaff, mainText, startApp, submit, text, visit } from './browser.js';

const live = await startApp();
const officer = await createStaff(live, ['officer'], 'Olu Officer');
const viewer = await createStaff(live, ['viewer'], 'Vic Viewer');
const system = systemActor('test');
live.services.jobs.start();

const square = (x0: number, y0: number, x1: number, y1: number) => [
  [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
    [x0, y0],
  ],
];
await live.services.estate.importAreas(system, {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { name: 'Castle Ward', code: 'W1' }, geometry: { type: 'Polygon', coordinates: square(-1.3, 51.7, -1.2, 51.8) } },
    { type: 'Feature', properties: { name: 'Meadow Ward', code: 'W2' }, geometry: { type: 'Polygon', coordinates: square(-1.2, 51.7, -1.1, 51.8) } },
  ],
});
const stages = ['live', 'planned', 'ordered', 'installed', 'fault'] as const;
const types = ['school', 'council_building', 'nhs_site'] as const;
for (let i = 0; i < 15; i++) {
  await live.services.estate.createSite(system, {
    type: types[i % 3],
    name: `${['School', 'Hall', 'Clinic'][i % 3]} ${i}`,
    address: `${i} Main Street`,
    lat: 51.72 + (i % 5) * 0.015,
    lon: -1.28 + Math.floor(i / 5) * 0.06,
    connectivity: { technology: 'full_fibre', status: stages[i % 5], plannedAt: '2026-03-01' },
  });
}
const home = await live.services.estate.createSite(system, { type: 'home', name: 'Mrs Private', address: '9 Secret Lane', lat: 51.75, lon: -1.15 });
await live.services.estate.createDevice(system, { name: 'Hub at home', serial: 'TC-E2E-1', profile: 'telecare-hub', siteId: home.id });

describe('estate console in a browser', () => {
  const { signedIn } = browserFor(live);

  test('an officer adds a site: errors first, then the site, then a device with its credentials', async () => {
    const { context, page } = await signedIn(officer);
    try {
      await visit(page, '/console/estate');
      await page.getByRole('link', { name: 'Sites', exact: true }).click();
      await page.waitForURL('**/console/estate/sites');
      await checkPage(page);
      assert.match(await mainText(page), /15 sites/);
      await submit(page, () => page.getByRole('button', { name: 'Add a site' }).click());
      await checkPage(page);

      await page.locator('#name').fill('Riverside Academy');
      await page.locator('#lat').fill('51.75');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add site' }).click()), 400);
      await checkPage(page);
      const summary = page.locator('.govuk-error-summary');
      for (const field of ['type', 'address', 'lon']) assert.equal(await summary.locator(`a[href="#${field}"]`).count(), 1, `summary links to #${field}`);
      assert.equal(await page.locator('#name').inputValue(), 'Riverside Academy');

      await page.getByLabel('School', { exact: true }).check();
      await page.locator('#address').fill('1 River Road, Wealdmoor');
      await page.locator('#lon').fill('-1.25');
      await page.locator('#technology').selectOption('full_fibre');
      await page.locator('#connectivity_status').selectOption('planned');
      await page.locator('#planned_at-day').fill('1');
      await page.locator('#planned_at-month').fill('9');
      await page.locator('#planned_at-year').fill('2026');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add site' }).click()), 200);
      await checkPage(page);
      assert.equal(await text(page.locator('h1')), 'Riverside Academy');
      assert.match(await mainText(page), /Castle Ward/);
      assert.match(await mainText(page), /1 September 2026/);

      await submit(page, () => page.getByRole('button', { name: 'Add a device here' }).click());
      await checkPage(page);
      await page.locator('#profile').selectOption('air-quality');
      await page.locator('#name').fill('Air monitor, Riverside');
      await page.locator('#serial').fill('AQ-E2E-1');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add device' }).click()), 200);
      await checkPage(page);
      const token = (await text(page.locator('.weft-secret').first())).trim();
      assert.match(token, /^wdev_/);
      assert.equal((await live.services.estate.deviceForToken(token))?.name, 'Air monitor, Riverside');

      await page.getByRole('link', { name: 'Go to the device' }).click();
      await page.waitForURL('**/console/estate/devices/*');
      await checkPage(page);
      assert.ok(!(await page.content()).includes(token), 'the token is not shown again');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Issue new credentials' }).click()), 200);
      await checkPage(page);
      assert.equal(await live.services.estate.deviceForToken(token), undefined, 'the old token stops working');
    } finally {
      await context.close();
    }
  });

  test('the rollout page: chart, tables and a map drawn with no tiles', async () => {
    const { context, page } = await signedIn(viewer);
    try {
      await visit(page, '/console/estate/rollout');
      assert.equal((await page.locator('svg.weft-chart rect').count()) > 0, true, 'the chart has bars');
      const byType = await text(page.locator('#rollout-by-type'));
      assert.match(byType, /School/);
      // The map draws the two wards and a marker per site, on a blank background.
      await page.locator('#estate-map.leaflet-container').waitFor();
      await page.locator('path.weft-map-site').first().waitFor();
      assert.equal(await page.locator('path.weft-map-area').count(), 2);
      assert.ok((await page.locator('path.weft-map-site').count()) >= 15);
      assert.equal(await page.locator('.leaflet-tile').count(), 0, 'no tiles are asked for');
      await checkPage(page);
      assert.ok(!(await page.content()).includes('Mrs Private'), 'a home is not on a viewer’s map');

      // Following a count lands on the sites it counts.
      await page.locator('#rollout-by-type a').first().click();
      await page.waitForURL('**/console/estate/sites?*');
      await checkPage(page);
      assert.match(await mainText(page), /sites?/);
    } finally {
      await context.close();
    }
  });

  test('without JavaScript the rollout page still answers the question, in tables', async () => {
    const { context, page } = await signedIn(viewer, false);
    try {
      await visit(page, '/console/estate/rollout');
      assert.match(await mainText(page), /The map needs JavaScript/);
      assert.match(await text(page.locator('#rollout-by-type')), /Council building/);
    } finally {
      await context.close();
    }
  });

  test('fleet health and the areas page', async () => {
    const { context, page } = await signedIn(viewer);
    try {
      await visit(page, '/console/estate/health');
      assert.match(await text(page.locator('#health-by-profile')), /Air-quality monitor/);
      assert.ok(!(await mainText(page)).includes('Telecare hub'), 'devices in homes are not counted for a viewer');
      await visit(page, '/console/estate/areas');
      await page.locator('path.weft-map-area').first().waitFor();
      await checkPage(page);
      await visit(page, '/console/estate/profiles/parking-bay');
      await visit(page, '/console/estate/devices');
      assert.ok(!(await mainText(page)).includes('Hub at home'));
    } finally {
      await context.close();
    }
  });

  test('the device profile form, blank and with errors, passes axe', async () => {
    const { context, page } = await signedIn(officer);
    try {
      await visit(page, '/console/estate/profiles/new');
      await submit(page, () => page.getByRole('button', { name: 'Add profile' }).click());
      await page.locator('.govuk-error-summary').waitFor();
      await checkPage(page);
      assert.match(await mainText(page), /Add at least one metric/);
    } finally {
      await context.close();
    }
  });

  test('importing sites from a CSV file: row errors, then a clean import with progress', async () => {
    const { context, page } = await signedIn(officer);
    try {
      await visit(page, '/console/estate/import');
      await page.getByLabel('Sites', { exact: true }).check();
      await page.locator('#file').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('type,name,address\r\nschool,Good,1 Road\r\ncastle,Bad,2 Road\r\n') });
      await submit(page, () => page.getByRole('button', { name: 'Check and import' }).click());
      await page.getByRole('heading', { name: 'The file was not imported' }).waitFor({ timeout: 15_000 });
      await checkPage(page);
      assert.match(await text(page.locator('#import-errors')), /3\s+type\s+Enter one of: school/);

      const lines = ['type,name,address,lat,lon,technology,connectivity_status'];
      for (let i = 0; i < 2000; i++) lines.push(`library,Branch ${i},"${i} Book Lane, Town",51.7${i % 10},-1.2${i % 10},fttc,live`);
      await visit(page, '/console/estate/import?kind=sites');
      await page.locator('#file').setInputFiles({ name: 'libraries.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
      await submit(page, () => page.getByRole('button', { name: 'Check and import' }).click());
      await checkPage(page);
      await page.getByText('Import complete').waitFor({ timeout: 30_000 });
      await checkPage(page);
      assert.match(await mainText(page), /2000 sites imported/);
    } finally {
      await context.close();
    }
  });
});
