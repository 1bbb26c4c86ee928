/**
 * The rules and alarms console in a real browser: the alarm board taking a new alarm live (SSE,
 * a GOV.UK notification banner), an alarm's page and its forms, the rule form without JavaScript
 * (type first, an error, a preview, save), the air quality map (drawn offline, no tiles) and car
 * parks. Every page must pass axe and load without console errors, CSP violations or failed requests.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { systemActor } from '../../src/platform/auth/actor.js';
import { squareWards } from '../geo-fixtures.js';
import { browserFor, checkPage, createStaff, mainText, startApp, submit, visit } from './browser.js';

const system = systemActor('test');
const live = await startApp();
const officer = await createStaff(live, ['officer'], 'Olu Officer');
const { estate, telemetry, rules } = live.services;
await estate.importAreas(system, squareWards([{ name: 'Northtown', code: 'E05000001', box: [-2, 51, -1, 52] }]));
await rules.start();

let n = 0;
async function device(profile: string, at: { lat: number; lon: number } | { siteId: string }) {
  return (await estate.createDevice(system, { name: `${profile === 'air-quality' ? 'Monitor' : 'Bay'} ${++n}`, serial: `E2E-${n}`, profile, ...at })).device.id;
}
async function send(deviceId: string, metric: string, value: number) {
  await telemetry.ingest((await estate.deviceAuth(deviceId)) as never, [{ metric, value }], 'http');
  await rules.idle();
}

const monitor = await device('air-quality', { lat: 51.5, lon: -1.5 });
await rules.create(system, { name: 'Air quality very high', severity: 'major', scope: { profiles: ['air-quality'] }, condition: { type: 'daqi', atLeast: 10, per: 'area' } });
const no2 = await rules.create(system, {
  name: 'NO2 very high',
  severity: 'critical',
  scope: { deviceIds: [monitor] },
  condition: { type: 'threshold', metric: 'no2', op: '>', value: 400, clearValue: 350 },
});
await send(monitor, 'no2', 450);
const [first] = await rules.alarms.list({ rule: no2.id, limit: 1 });
const carPark = (await estate.createSite(system, { type: 'car_park', name: 'Castle Street car park', address: 'Castle Street', lat: 51.4, lon: -1.4 })).id;
for (const occupied of [1, 1, 0]) await send(await device('parking-bay', { siteId: carPark }), 'occupied', occupied);

describe('rules and alarms console in a browser', () => {
  const { signedIn } = browserFor(live);

  test('the alarm board takes a new alarm live', async () => {
    const { context, page } = await signedIn(officer);
    try {
      await visit(page, '/console/alarms');
      assert.match(await mainText(page), /1 alarm Severity .* NO2 very high/);
      // A second monitor's alarm arrives while the board is open: a banner and a new row, no reload.
      const other = await device('air-quality', { lat: 51.6, lon: -1.6 });
      await rules.create(system, { name: 'PM10 high', severity: 'minor', scope: { deviceIds: [other] }, condition: { type: 'threshold', metric: 'pm10', op: '>', value: 50 } });
      await page.locator('#alarm-live-status', { hasText: 'Live:' }).waitFor();
      await send(other, 'pm10', 80);
      await page.locator('#alarm-news .govuk-notification-banner li', { hasText: 'New alarm: PM10 high' }).waitFor();
      assert.match(await mainText(page), /2 alarms/);
      await checkPage(page);
    } finally {
      // Closed here, not by leaving the page: leaving aborts the open stream, which the checks count as a failed request.
      await context.close();
    }
  });

  test('an alarm is acknowledged on its page, with an error first', async () => {
    const { context, page } = await signedIn(officer);
    try {
      await visit(page, `/console/alarms/${first.id}`);
      assert.match(await mainText(page), /NO2 is 450, above 400/);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add comment' }).click()), 400);
      await checkPage(page);
      await page.getByLabel('Note (optional)').first().fill('Checking the monitor');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Acknowledge' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Alarm acknowledged\..*Checking the monitor/);
      assert.equal((await rules.alarms.get(first.id)).alarm.status, 'acknowledged');
    } finally {
      await context.close();
    }
  });

  test('a rule is made without JavaScript: its type, an error, a preview, then saved', async () => {
    const { context, page } = await signedIn(officer, false);
    try {
      await visit(page, '/console/rules/new');
      await page.getByLabel('A car park is nearly full').check();
      await submit(page, () => page.getByRole('button', { name: 'Continue' }).click());
      await checkPage(page);
      await page.locator('#name').fill('Castle Street nearly full');
      await page.locator('#freePercentBelow').fill('a few');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Preview' }).click()), 400);
      await checkPage(page);
      assert.equal(await page.locator('.govuk-error-summary a[href="#freePercentBelow"]').count(), 1);
      await page.locator('#freePercentBelow').fill('10');
      await page.getByLabel('Car park', { exact: true }).check();
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Preview' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Raise a major alarm when free spaces fall below 10% at any car park\./);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Save rule' }).click()), 200);
      await checkPage(page);
      assert.match(await mainText(page), /Rule saved\..*Castle Street nearly full/);
    } finally {
      await context.close();
    }
  });

  test('the air quality map draws areas and monitors offline; car parks show their spaces', async () => {
    await send(monitor, 'no2', 300);
    const { context, page } = await signedIn(officer);
    try {
      await visit(page, '/console/air-quality');
      await page.locator('#air-quality-map path.weft-daqi-area').first().waitFor();
      assert.ok((await page.locator('#air-quality-map path.weft-daqi-monitor').count()) >= 1, 'a marker per monitor');
      assert.match(await mainText(page), /Northtown \d+ (Low|Moderate|High|Very High)/);
      await checkPage(page);
      await visit(page, '/console/car-parks');
      assert.match(await mainText(page), /Castle Street car park Northtown 3 2 1 0 33\.3/);
    } finally {
      await context.close();
    }
  });
});
