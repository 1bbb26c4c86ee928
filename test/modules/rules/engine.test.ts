/**
 * The rules engine on real readings through telemetry's ingest: every condition type with its
 * edges (exactly at the value, hysteresis, a hold broken by a dip, a gap in data), a restart in the
 * middle of a held condition, "no data" within hours, events, car park occupancy, DAQI per monitor
 * and per area, and one alarm for two engines (two processes) that see the same reading.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { RulesService } from '../../../src/modules/rules/index.js';
import type { RuleCreate, RuleView } from '../../../src/modules/rules/index.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { squareWards } from '../../geo-fixtures.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');
const MIN = 60_000;

forEachDialect('rules engine', (dialect) => {
  let t: TestApp;
  let northtown: string;
  let n = 0;
  const t0 = Date.now() - 6 * 3_600_000;
  const at = (minutes: number) => new Date(t0 + minutes * MIN);

  async function device(profile: string, siteId?: string, lat = 51.5, lon = -1.5) {
    const { device } = await t.services.estate.createDevice(system, { name: `${profile} ${++n}`, serial: `R-${n}-${Date.now()}`, profile, siteId, ...(siteId ? {} : { lat, lon }) });
    return device.id;
  }
  async function site(type: string, name: string, lat = 51.5, lon = -1.5) {
    return (await t.services.estate.createSite(system, { type: type as 'car_park', name, address: `${name}, Northtown`, lat, lon })).id;
  }
  async function send(deviceId: string, metric: string, value: number, when: Date) {
    const auth = await t.services.estate.deviceAuth(deviceId);
    await t.services.telemetry.ingest(auth as never, [{ metric, value, at: when }], 'http');
    await t.services.rules.idle();
  }
  const rule = (input: Omit<RuleCreate, 'name' | 'severity'> & Partial<RuleCreate>) => t.services.rules.create(system, { name: `Rule ${++n}`, severity: 'major', ...input });
  const alarmsOf = async (r: RuleView) => t.services.rules.alarms.list({ rule: r.id, limit: 50 });

  before(async () => {
    t = await testApp(dialect);
    await t.services.estate.importAreas(system, squareWards([{ name: 'Northtown', code: 'E05000001', box: [-2, 51, -1, 52] }]));
    northtown = (await t.services.estate.listAreas())[0].id;
    await t.services.rules.start();
  });

  test('threshold held for a time, with a clear value: a dip restarts the hold; between the values it stays raised', async () => {
    const d = await device('air-quality');
    const r = await rule({ scope: { deviceIds: [d] }, condition: { type: 'threshold', metric: 'no2', op: '>', value: 200, clearValue: 180, forMinutes: 10 } });
    await send(d, 'no2', 210, at(0));
    await send(d, 'no2', 230, at(5));
    await send(d, 'no2', 190, at(9)); // dips below the value: the hold starts again
    await send(d, 'no2', 205, at(10));
    await send(d, 'no2', 210, at(15));
    assert.equal((await alarmsOf(r)).length, 0, 'not yet held for 10 minutes');
    await send(d, 'no2', 215, at(20));
    let alarms = await alarmsOf(r);
    assert.equal(alarms.length, 1);
    assert.deepEqual([alarms[0].status, alarms[0].value, alarms[0].subjectType, alarms[0].metric], ['active', 215, 'device', 'no2']);
    assert.match(alarms[0].message, /NO2 is 215, above 200/);
    await send(d, 'no2', 250, at(21));
    await send(d, 'no2', 195, at(22)); // below the value, above the clear value: still raised
    assert.equal((await alarmsOf(r))[0].status, 'active');
    await send(d, 'no2', 180, at(23));
    alarms = await alarmsOf(r);
    assert.deepEqual([alarms.length, alarms[0].status], [1, 'cleared']);
    const { history } = await t.services.rules.alarms.get(alarms[0].id);
    assert.deepEqual(
      history.map((h) => h.kind),
      ['raised', 'cleared'],
    );
  });

  test('exactly at the value: "above" does not fire, "at or above" does', async () => {
    const d = await device('air-quality');
    const above = await rule({ scope: { deviceIds: [d] }, condition: { type: 'threshold', metric: 'pm10', op: '>', value: 50 } });
    const atOrAbove = await rule({ scope: { deviceIds: [d] }, condition: { type: 'threshold', metric: 'pm10', op: '>=', value: 50 } });
    await send(d, 'pm10', 50, at(30));
    assert.equal((await alarmsOf(above)).length, 0);
    assert.equal((await alarmsOf(atOrAbove)).length, 1);
  });

  test('a restart in the middle of a held condition neither loses nor repeats the alarm', async () => {
    const d = await device('air-quality');
    const r = await rule({ scope: { deviceIds: [d] }, condition: { type: 'threshold', metric: 'so2', op: '>', value: 300, forMinutes: 15 } });
    await send(d, 'so2', 400, at(40));
    await t.services.rules.stop();
    const second = new RulesService({ ...t.services, log: { info() {}, warn() {}, error() {} } as never });
    await second.start();
    try {
      await send(d, 'so2', 410, at(50));
      await second.idle();
      assert.equal((await alarmsOf(r)).length, 0, 'held 10 of 15 minutes');
      await send(d, 'so2', 420, at(55));
      await second.idle();
      assert.equal((await alarmsOf(r)).length, 1, 'held 15 minutes across the restart');
      await send(d, 'so2', 430, at(60));
      await second.idle();
      assert.equal((await alarmsOf(r)).length, 1, 'not raised again');
    } finally {
      await second.stop();
      await t.services.rules.start();
    }
  });

  test('rolling mean with bands: the alarm takes the band’s severity; a gap in data leaves the mean to the readings there are', async () => {
    const d = await device('air-quality');
    const r = await rule({
      scope: { deviceIds: [d] },
      condition: {
        type: 'rolling_mean',
        metric: 'no2',
        window: '15m',
        bands: [
          { above: 100, severity: 'minor' },
          { above: 200, severity: 'critical' },
        ],
      },
    });
    await send(d, 'no2', 90, at(70));
    await send(d, 'no2', 100, at(75));
    assert.equal((await alarmsOf(r)).length, 0, 'mean 95');
    await send(d, 'no2', 380, at(80)); // mean of 90, 100, 380 = 190: the lower band
    let alarms = await alarmsOf(r);
    assert.deepEqual([alarms.length, alarms[0].severity, alarms[0].value], [1, 'minor', 190]);
    await send(d, 'no2', 20, at(120)); // after a 40-minute gap only this reading is in the window
    alarms = await alarmsOf(r);
    assert.equal(alarms[0].status, 'cleared');
  });

  test('rate of change: a rise of more than the rate within the minutes', async () => {
    const d = await device('air-quality');
    const r = await rule({ scope: { deviceIds: [d] }, condition: { type: 'rate_of_change', metric: 'o3', rise: 50, perMinutes: 10 } });
    await send(d, 'o3', 40, at(130));
    await send(d, 'o3', 80, at(135));
    await send(d, 'o3', 90, at(140)); // +50 in 10 minutes: not more than 50
    assert.equal((await alarmsOf(r)).length, 0);
    await send(d, 'o3', 131, at(145)); // +51 on the reading 10 minutes before
    assert.equal((await alarmsOf(r)).length, 1);
  });

  test('events: a fall raises one critical alarm until it is cleared; a door only counts at night', async () => {
    const fall = await device('fall-detector');
    const door = await device('door-contact');
    const falls = await rule({ severity: 'critical', scope: { profiles: ['fall-detector'], deviceIds: [fall] }, condition: { type: 'event', metric: 'fall' } });
    const night = await rule({ scope: { deviceIds: [door] }, condition: { type: 'event', metric: 'open', hours: { from: '23:00', to: '06:00' } } });
    await send(fall, 'fall', 1, at(150));
    await send(fall, 'fall', 1, at(151));
    let alarms = await alarmsOf(falls);
    assert.deepEqual([alarms.length, alarms[0].severity], [1, 'critical']);
    await t.services.rules.alarms.clear(system, alarms[0].id, 'Visited: she is fine');
    await send(fall, 'fall', 1, at(152));
    alarms = await alarmsOf(falls);
    assert.equal(alarms.length, 2, 'a new fall after the first was cleared');
    const london = (iso: string) => new Date(iso);
    const day = new Date(t0).toISOString().slice(0, 10);
    void london;
    // 02:30 UTC is 02:30 or 03:30 in London: at night either way; 12:00 UTC is day.
    const yesterday = new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
    await send(door, 'open', 1, new Date(`${yesterday}T12:00:00Z`));
    assert.equal((await alarmsOf(night)).length, 0);
    await send(door, 'open', 1, new Date(`${yesterday}T02:30:00Z`));
    assert.equal((await alarmsOf(night)).length, 1);
  });

  test('car park occupancy: free spaces below a number raise, and clear two spaces above it', async () => {
    const park = await site('car_park', 'Market Street car park');
    const bays = [await device('parking-bay', park), await device('parking-bay', park), await device('parking-bay', park), await device('parking-bay', park)];
    const r = await rule({ scope: { siteIds: [park], profiles: ['parking-bay'] }, condition: { type: 'occupancy', freeBelow: 2 } });
    await send(bays[0], 'occupied', 1, at(160));
    await send(bays[1], 'occupied', 1, at(161));
    assert.equal((await alarmsOf(r)).length, 0, '2 of 4 free');
    await send(bays[2], 'occupied', 1, at(162));
    let alarms = await alarmsOf(r);
    assert.deepEqual([alarms.length, alarms[0].subjectType, alarms[0].subjectId, alarms[0].value], [1, 'site', park, 1]);
    assert.match(alarms[0].message, /1 of 4 spaces free at Market Street car park/);
    await send(bays[0], 'occupied', 0, at(163));
    assert.equal((await alarmsOf(r))[0].status, 'active', '2 free: not yet the 2 more than 2 below it clears at (hysteresis)');
    await send(bays[1], 'occupied', 0, at(164));
    await send(bays[2], 'occupied', 0, at(165));
    alarms = await alarmsOf(r);
    assert.equal(alarms[0].status, 'cleared');
  });

  test('DAQI: per monitor from each pollutant’s averaging period, and per area from its worst monitor', async () => {
    const a = await device('air-quality', undefined, 51.4, -1.4);
    const b = await device('air-quality', undefined, 51.6, -1.6);
    const perArea = await rule({ scope: { deviceIds: [a, b] }, condition: { type: 'daqi', atLeast: 7 } });
    const perDevice = await rule({ scope: { deviceIds: [a, b] }, condition: { type: 'daqi', atLeast: 4, per: 'device' } });
    await send(a, 'no2', 150, at(170)); // 3, Low
    await send(b, 'pm2_5', 40, at(171)); // 4, Moderate: the monitor, not the area
    assert.equal((await alarmsOf(perArea)).length, 0);
    const devAlarms = await alarmsOf(perDevice);
    assert.deepEqual([devAlarms.length, devAlarms[0].subjectId, devAlarms[0].value], [1, b, 4]);
    await send(b, 'pm2_5', 80, at(172)); // 24-hour mean 60: index 8, High
    const areaAlarms = await alarmsOf(perArea);
    assert.deepEqual([areaAlarms.length, areaAlarms[0].subjectType, areaAlarms[0].subjectId, areaAlarms[0].value], [1, 'area', northtown, 8]);
    assert.match(areaAlarms[0].message, /Air quality index 8 \(High, from PM2\.5\) in Northtown/);
    const now = await t.app.inject({ method: 'GET', url: '/api/v1/air-quality', headers: { authorization: `Bearer ${await t.key(['rules:read'])}` } });
    assert.equal(now.statusCode, 200, now.body);
    assert.equal(now.json().areas.find((x: { areaId: string }) => x.areaId === northtown).index, 8);
  });

  test('no data within hours: a home with no movement since the hours began is raised at the time; movement clears it', async () => {
    const quiet = await device('pir-motion');
    const busy = await device('pir-motion');
    const r = await rule({ severity: 'major', scope: { deviceIds: [quiet, busy] }, condition: { type: 'no_data', metric: 'motion', forMinutes: 240, hours: { from: '06:00', to: '12:00' } } });
    // A summer or winter day: pick yesterday, times in London.
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const londonOffset = (iso: string) => {
      const d = new Date(iso);
      const shown = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', hourCycle: 'h23' }).format(d);
      return new Date(d.getTime() - (Number(shown) - d.getUTCHours()) * 3_600_000);
    };
    await send(busy, 'motion', 1, londonOffset(`${day}T07:00:00Z`));
    assert.equal(await t.services.rules.checkSilence(londonOffset(`${day}T09:55:00Z`)), 0, '3 h 55 min since 06:00');
    assert.equal(await t.services.rules.checkSilence(londonOffset(`${day}T10:05:00Z`)), 1, 'the quiet home, 4 h 5 min');
    assert.equal(await t.services.rules.checkSilence(londonOffset(`${day}T10:10:00Z`)), 0, 'raised once');
    assert.equal(await t.services.rules.checkSilence(londonOffset(`${day}T13:00:00Z`)), 0, 'outside the hours');
    let alarms = await alarmsOf(r);
    assert.deepEqual([alarms.length, alarms[0].deviceId], [1, quiet]);
    await send(quiet, 'motion', 1, londonOffset(`${day}T10:20:00Z`));
    alarms = await alarmsOf(r);
    assert.equal(alarms[0].status, 'cleared');
  });

  test('two engines (two processes) that see the same reading raise one alarm', async () => {
    const d = await device('air-quality');
    const r = await rule({ scope: { deviceIds: [d] }, condition: { type: 'threshold', metric: 'no2', op: '>', value: 400 } });
    const other = new RulesService({ ...t.services, log: { info() {}, warn() {}, error() {} } as never });
    await other.start();
    try {
      const reading = [{ deviceId: d, metric: 'no2', value: 500, at: at(200) }];
      other.accept(reading);
      t.services.rules.accept(reading);
      await Promise.all([other.idle(), t.services.rules.idle()]);
      assert.equal((await alarmsOf(r)).length, 1);
    } finally {
      await other.stop();
    }
  });

  test('a rule tried on the last 24 hours says how often it would have fired, and raises nothing', async () => {
    const d = await device('air-quality');
    for (const [m, v] of [
      [0, 100],
      [10, 300],
      [20, 100],
      [30, 320],
      [40, 330],
      [50, 90],
    ] as const)
      await send(d, 'no2', v, at(210 + m));
    const trial = await t.services.rules.trial({ name: 'Try', severity: 'minor', scope: { deviceIds: [d] }, condition: { type: 'threshold', metric: 'no2', op: '>', value: 250 } });
    assert.deepEqual([trial.fired, trial.readings], [2, 6]);
    assert.equal((await t.services.rules.alarms.list({ limit: 500 })).filter((a) => a.deviceId === d).length, 0);
  });
});
