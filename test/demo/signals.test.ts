import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planEstate } from '../../demo/estate.js';
import { hashString } from '../../demo/random.js';
import {
  airQuality,
  bayOccupied,
  binFill,
  carParkOccupancy,
  energyKwh,
  episodeLevel,
  episodesBetween,
  HOUR,
  londonInstant,
  londonTime,
  MINUTE,
  MOTION_SLOT,
  motionIn,
  peopleCount,
  powerW,
  type SignalDevice,
} from '../../demo/signals.js';

const SEED = hashString('wealdmoor');
const plan = planEstate();
const asSignal = (profile: string): SignalDevice[] =>
  plan.devices
    .filter((d) => d.profile === profile)
    .map((d) => {
      const site = plan.sites.find((s) => s.id === d.siteId);
      return { key: d.serial, lat: d.lat ?? site?.lat ?? 0, lon: d.lon ?? site?.lon ?? 0, scale: d.sim.scale, pattern: d.sim.pattern };
    });
const monitors = asSignal('air-quality');
const bays = asSignal('parking-bay');
const motion = asSignal('pir-motion');

// Local days: a Wednesday and a Saturday, in winter and in summer time.
const WEDNESDAY = londonTime(Date.UTC(2026, 2, 4, 12)).day;
const SATURDAY = londonTime(Date.UTC(2026, 2, 7, 12)).day;
const JULY_WEDNESDAY = londonTime(Date.UTC(2026, 6, 8, 12)).day;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('the simulator’s signals', () => {
  test('local time is Europe/London, summer time included', () => {
    assert.equal(londonTime(Date.UTC(2026, 0, 15, 7, 30)).hour, 7.5);
    assert.equal(londonTime(Date.UTC(2026, 6, 15, 7, 30)).hour, 8.5);
    assert.equal(londonTime(Date.UTC(2026, 2, 4, 12)).weekday, 3);
    assert.equal(new Date(londonInstant(JULY_WEDNESDAY, 8)).toISOString(), '2026-07-08T07:00:00.000Z');
  });

  test('NO2 and PM2.5 peak in the rush hours, well above 03:00, and less at weekends', () => {
    for (const day of [WEDNESDAY, JULY_WEDNESDAY]) {
      const at = (h: number, metric: string) => mean(monitors.map((m) => airQuality(SEED, m, londonInstant(day, h))[metric]));
      assert.ok(at(8, 'no2') > 2 * at(3, 'no2'), `08:00 NO2 ${at(8, 'no2')} vs 03:00 ${at(3, 'no2')}`);
      assert.ok(at(17, 'no2') > 2 * at(3, 'no2'), 'evening rush');
      assert.ok(at(8, 'no2') > at(12, 'no2'), 'the peak is in the rush hour, not all day');
      assert.ok(at(8, 'pm2_5') > at(3, 'pm2_5'));
    }
    const weekday = mean(monitors.map((m) => airQuality(SEED, m, londonInstant(WEDNESDAY, 8)).no2));
    const weekend = mean(monitors.map((m) => airQuality(SEED, m, londonInstant(SATURDAY, 8)).no2));
    assert.ok(weekday > 1.5 * weekend);
  });

  test('ozone follows the afternoon sun; temperature the day; readings stay in their profile’s ranges', () => {
    const at = (h: number, metric: string) => mean(monitors.map((m) => airQuality(SEED, m, londonInstant(JULY_WEDNESDAY, h))[metric]));
    assert.ok(at(15, 'o3') > 1.5 * at(4, 'o3'));
    assert.ok(at(15, 'temperature') > at(4, 'temperature') + 4);
    for (let h = 0; h < 24; h += 0.5) {
      for (const m of monitors.slice(0, 5)) {
        const r = airQuality(SEED, m, londonInstant(WEDNESDAY, h));
        for (const metric of ['no2', 'pm2_5', 'pm10', 'o3', 'so2']) assert.ok(r[metric] > 0 && r[metric] < 500, `${metric} ${r[metric]}`);
        assert.ok(r.humidity >= 0 && r.humidity <= 100);
      }
    }
  });

  test('a pollution episode raises PM2.5 for a few hours across an area', () => {
    const from = Date.UTC(2026, 0, 1);
    const episodes = episodesBetween(SEED, from, from + 60 * 24 * HOUR, monitors);
    assert.ok(episodes.length >= 10 && episodes.length <= 35, `${episodes.length} episodes in 60 days`);
    const e = episodes[0];
    assert.ok(e.end - e.start >= 3 * HOUR && e.end - e.start <= 7 * HOUR);
    const middle = (e.start + e.end) / 2;
    const near = monitors.filter((m) => episodeLevel([e], m, middle) > 0);
    assert.ok(near.length >= 1, 'some monitors are in it');
    const m = near[0];
    assert.ok(airQuality(SEED, m, middle, [e]).pm2_5 > airQuality(SEED, m, middle).pm2_5 + 10);
    assert.equal(episodeLevel([e], m, e.end + HOUR), 0, 'and it passes');
  });

  test('car parks fill through the day: far fuller at noon than at 03:00, and bays follow', () => {
    for (const day of [WEDNESDAY, SATURDAY]) {
      const share = (h: number) => bays.filter((b) => bayOccupied(SEED, b, londonInstant(day, h))).length / bays.length;
      assert.ok(share(12) > 0.5, `noon ${share(12)}`);
      assert.ok(share(3) < 0.12, `03:00 ${share(3)}`);
    }
    assert.ok(carParkOccupancy('commuter', londonInstant(WEDNESDAY, 11)) > 0.8);
    assert.ok(carParkOccupancy('commuter', londonInstant(SATURDAY, 11)) < 0.3, 'station car parks are quiet at weekends');
    // Bays turn over: most bays change at least once during a working day.
    const changed = bays.filter((b) => {
      let last = bayOccupied(SEED, b, londonInstant(WEDNESDAY, 7));
      let flips = 0;
      for (let t = londonInstant(WEDNESDAY, 7); t < londonInstant(WEDNESDAY, 19); t += 5 * MINUTE) {
        const now = bayOccupied(SEED, b, t);
        if (now !== last) flips++;
        last = now;
      }
      return flips > 0;
    }).length;
    assert.ok(changed / bays.length > 0.8);
  });

  test('telecare motion is busy by day and quiet at night', () => {
    const events = (fromH: number, toH: number) => {
      let n = 0;
      for (const d of motion) for (let t = londonInstant(WEDNESDAY, fromH); t < londonInstant(WEDNESDAY, toH); t += MOTION_SLOT) if (motionIn(SEED, d, t) !== undefined) n++;
      return n / motion.length / (toH - fromH);
    };
    const night = events(0, 5);
    const day = events(9, 17);
    assert.ok(night < 0.6, `${night} events an hour at night`);
    assert.ok(day > 5 * night, `${day} by day vs ${night} at night`);
  });

  test('bins fill and are emptied; libraries count people only when open; meters only count up', () => {
    const bin: SignalDevice = { key: 'bin', lat: 52.3, lon: -2.4, scale: 12 };
    const week = Array.from({ length: 7 * 24 }, (_, h) => binFill(SEED, bin, londonInstant(WEDNESDAY, h)));
    assert.ok(Math.max(...week) > 60 && Math.min(...week) < 15, 'fills up and is emptied');
    const counter: SignalDevice = { key: 'counter', lat: 52.3, lon: -2.4, scale: 60 };
    assert.deepEqual(peopleCount(SEED, counter, londonInstant(WEDNESDAY, 3)), { in: 0, out: 0 });
    assert.ok(peopleCount(SEED, counter, londonInstant(WEDNESDAY, 11)).in > 0);
    assert.equal(peopleCount(SEED, counter, londonInstant(SATURDAY + 1, 11)).in, 0, 'closed on Sunday');
    const meter: SignalDevice = { key: 'meter', lat: 52.3, lon: -2.4, scale: 40 };
    assert.ok(powerW(SEED, meter, londonInstant(WEDNESDAY, 11)) > 2 * powerW(SEED, meter, londonInstant(WEDNESDAY, 3)));
    let last = 0;
    for (let t = londonInstant(WEDNESDAY, 0); t < londonInstant(WEDNESDAY + 2, 0); t += 15 * MINUTE) {
      const kwh = energyKwh(meter, t);
      assert.ok(kwh >= last, 'the meter never goes back');
      last = kwh;
    }
  });
});
