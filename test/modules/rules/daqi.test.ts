/**
 * The Daily Air Quality Index against Defra's band table, every pollutant and every band edge:
 * the top of each band is that band's index, one more is the next one's; the overall index is
 * the highest of the pollutants.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { daqiBand, daqiIndex, overallDaqi, worstDaqi } from '../../../src/modules/rules/daqi.js';

// Defra's table: the highest concentration (µg/m³) of indices 1 to 9 for each pollutant and its averaging period.
const DEFRA: Record<string, number[]> = {
  o3: [33, 66, 100, 120, 140, 160, 187, 213, 240],
  no2: [67, 134, 200, 267, 334, 400, 467, 534, 600],
  so2: [88, 177, 266, 354, 443, 532, 710, 887, 1064],
  pm2_5: [11, 23, 35, 41, 47, 53, 58, 64, 70],
  pm10: [16, 33, 50, 58, 66, 75, 83, 91, 100],
};

test('each pollutant is banded exactly at Defra’s edges, from 0 to Very High', () => {
  for (const [pollutant, tops] of Object.entries(DEFRA)) {
    assert.equal(daqiIndex(pollutant as 'o3', 0), 1, `${pollutant} at 0`);
    tops.forEach((top, i) => {
      assert.equal(daqiIndex(pollutant as 'o3', top), i + 1, `${pollutant} at ${top}`);
      assert.equal(daqiIndex(pollutant as 'o3', top + 1), i + 2, `${pollutant} at ${top + 1}`);
    });
    assert.equal(daqiIndex(pollutant as 'o3', 5000), 10);
  }
});

test('concentrations are rounded to whole numbers before banding', () => {
  assert.equal(daqiIndex('o3', 33.4), 1);
  assert.equal(daqiIndex('o3', 33.5), 2);
  assert.equal(daqiIndex('pm2_5', 70.49), 9);
  assert.equal(daqiIndex('pm2_5', 70.5), 10);
});

test('bands: Low 1–3, Moderate 4–6, High 7–9, Very High 10', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(daqiBand), ['Low', 'Low', 'Low', 'Moderate', 'Moderate', 'Moderate', 'High', 'High', 'High', 'Very High']);
});

test('the overall index is the highest pollutant’s; missing pollutants are left out', () => {
  const r = overallDaqi({ no2: 150, pm2_5: 55, o3: 20 });
  assert.deepEqual([r?.index, r?.band, r?.pollutant], [7, 'High', 'pm2_5']);
  assert.equal(r?.pollutants.length, 3);
  assert.equal(overallDaqi({}), undefined);
  assert.equal(overallDaqi({ no2: Number.NaN }), undefined);
  assert.equal(worstDaqi([overallDaqi({ no2: 10 }), undefined, overallDaqi({ so2: 900 })])?.index, 9);
});
