/**
 * Rolling windows: the running means agree with a plain recount over the readings in the window,
 * whatever order the readings come in, across gaps longer than the window, and after growing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MinuteSeries } from '../../../src/modules/rules/windows.js';

const MIN = 60_000;

function recount(readings: { at: number; value: number }[], newestMinute: number, minutes: number): number {
  const inside = readings.filter((r) => Math.floor(r.at / MIN) > newestMinute - minutes && Math.floor(r.at / MIN) <= newestMinute);
  return inside.length ? inside.reduce((a, r) => a + r.value, 0) / inside.length : Number.NaN;
}

test('running means match a recount, with readings late, early, and after long gaps', () => {
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const series = new MinuteSeries(1440);
  const kept: { at: number; value: number }[] = [];
  let clock = Date.UTC(2026, 11, 1);
  let newest = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 3000; i++) {
    const r = random();
    clock += r < 0.01 ? 2000 * MIN : r < 0.9 ? Math.floor(random() * 3 * MIN) : 0;
    const late = random() < 0.1 ? Math.floor(random() * 30 * MIN) : 0;
    const at = clock - late;
    const value = Math.round(random() * 500) / 10;
    series.add(at, value);
    if (Math.floor(at / MIN) > newest - 1441) kept.push({ at, value });
    newest = Math.max(newest, Math.floor(at / MIN));
    if (i % 7 === 0)
      for (const w of [15, 60, 480, 1440]) {
        const want = recount(kept, newest, w);
        const got = series.mean(w);
        if (Number.isNaN(want)) assert.ok(Number.isNaN(got));
        else assert.ok(Math.abs(got - want) < 1e-6, `window ${w} at reading ${i}: ${got} vs ${want}`);
      }
  }
});

test('growing the window keeps what was there', () => {
  const s = new MinuteSeries(15);
  const t0 = Date.UTC(2026, 11, 1);
  for (let m = 0; m < 10; m++) s.add(t0 + m * MIN, m);
  assert.equal(s.mean(15), 4.5);
  s.grow(60);
  s.add(t0 + 10 * MIN, 10);
  assert.equal(s.mean(60), 5);
  assert.equal(s.valueAgo(10), 0);
});
