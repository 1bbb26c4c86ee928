import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { before, test } from 'node:test';
import { type LoadedCounty, loadCounty } from '../../demo/county.js';
import { ESTATE_COUNTS, planEstate } from '../../demo/estate.js';
import { HUB_DESKS } from '../../demo/hubs.js';
import { addDays, londonDay } from '../../src/platform/dates.js';
import { wealdmoorGeography } from '../../demo/geography.js';
import { readDevicesFile, type SimDevice, Simulator } from '../../demo/simulator.js';
import { loadConfig } from '../../src/config.js';
import { program } from '../../src/cli.js';
import { type Running, StartupError, start } from '../../src/server.js';
import { atEnd, forEachDialect, freePort, freshDatabase, TEST_SECRET } from '../helpers.js';

/** Loading the estate (wards, sites, devices) must take seconds, not minutes. */
const LOAD_BUDGET_MS = 15_000;

const until = async (what: string, check: () => Promise<boolean>, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

forEachDialect('the demo county and its simulator', (dialect) => {
  let running: Running;
  let county: LoadedCounty;

  before(async () => {
    const { url, dataDir } = await freshDatabase(dialect);
    const config = loadConfig(
      { WEFT_DATABASE_URL: url, WEFT_DATA_DIR: dataDir, WEFT_SECRET: TEST_SECRET, WEFT_LOG_LEVEL: 'silent', WEFT_PORT: String(await freePort()), WEFT_MQTT_PORT: '0' },
      { file: '/nonexistent' },
    );
    running = await start(config, {
      beforeListen: async (s) => {
        county = await loadCounty(s, { residents: 500 });
      },
    });
    atEnd(() => running.stop());
  });

  test('loads the whole county through the estate’s bulk imports in seconds', (t) => {
    assert.ok(county.estate, 'the estate was loaded');
    t.diagnostic(`${dialect}: estate loaded in ${county.estate.ms} ms`);
    assert.ok(county.estate.ms < LOAD_BUDGET_MS, `took ${county.estate.ms} ms`);
    assert.equal(county.estate.sites, 1090);
    assert.equal(county.estate.devices, planEstate().devices.length);
  });

  test('has 12 hubs with 300 desks and some rooms, and a month of bookings past and future', async () => {
    const services = running.services;
    const today = londonDay(new Date());
    const loaded = county.hubs;
    assert.ok(loaded, 'the hubs were loaded');
    assert.deepEqual([loaded.hubs, loaded.desks, HUB_DESKS.length], [12, 300, 12]);
    assert.ok(loaded.rooms >= 12);
    const hubs = await services.workforce.listHubs();
    assert.equal(hubs.length, 12);
    assert.equal(hubs.flatMap((h) => h.spaces).filter((s) => s.kind === 'desk').length, 300);
    const rows = await services.db.k.selectFrom('hub_bookings').select(['day', 'status']).execute();
    assert.equal(rows.length, loaded.bookings);
    assert.ok(rows.some((r) => r.day < today) && rows.some((r) => r.day > addDays(today, 7)), 'past and future');
    for (const status of ['checked_out', 'checked_in', 'released', 'booked'])
      assert.ok(
        rows.some((r) => r.status === status),
        status,
      );
    assert.ok(!rows.some((r) => r.day < today && r.status === 'booked'), 'no past booking left waiting');
    // A hub someone checked in at this past week shows it in its occupancy.
    const attended = await services.db.k
      .selectFrom('hub_bookings')
      .select('hub_id')
      .where('status', 'in', ['checked_in', 'checked_out'])
      .where('day', '>=', addDays(today, -7))
      .where('day', '<=', today)
      .executeTakeFirstOrThrow();
    const week = await services.workforce.hubOccupancy(attended.hub_id, addDays(today, -7), today);
    assert.ok(week.some((d) => d.checkedIn > 0));
  });

  test('has bin rounds for every ward, library cards with reservations told, and a school closure being announced', async () => {
    const services = running.services;
    const wards = (await services.estate.listAreas()).filter((a) => a.kind === 'ward');
    assert.equal((await services.waste.rounds()).length, wards.length * 2);
    const reserved = await services.db.k.selectFrom('library_events').select('notification_id').execute();
    assert.ok(reserved.length >= 5 && reserved.every((e) => e.notification_id), 'each reservation event sent its message');
    const [closure] = await services.schools.list();
    assert.equal(closure?.reason, 'a burst water main');
  });

  test('has the issue’s numbers of schools, council buildings, NHS sites, libraries, parks, car parks, street hubs and homes', async () => {
    const { estate } = running.services;
    for (const type of ['school', 'council_building', 'nhs_site', 'library', 'park', 'car_park', 'street_hub', 'home'] as const) {
      assert.equal(await estate.countSites({ type, includePersonal: true }), ESTATE_COUNTS[type], type);
    }
    assert.equal(await estate.countDevices({ profileKey: 'parking-bay', includePersonal: true }), 1500);
    assert.equal(await estate.countDevices({ profileKey: 'air-quality' }), 30);
    assert.equal(await estate.countDevices({ profileKey: 'telecare-hub', includePersonal: true }), 200);
    assert.equal(await estate.countSites({ type: 'home' }), 0, 'homes stay hidden unless asked for');
    const fibre = await estate.countSites({ type: 'school', technology: 'full_fibre', connectivityStatus: 'live' });
    assert.ok(fibre > 200 && fibre < 300, `${fibre} schools on live full fibre`);
  });

  test('places every site in its own ward', async () => {
    const { estate } = running.services;
    const areas = await estate.listAreas();
    assert.equal(areas.length, 20);
    const codeOf = new Map(areas.map((a) => [a.id, a.code]));
    const planned = new Map(planEstate('wealdmoor', wealdmoorGeography()).sites.map((s) => [`${s.lat},${s.lon}`, s.wardCode]));
    const sites = await estate.listSites({ includePersonal: true, limit: 5000 });
    assert.equal(sites.length, 1090);
    for (const s of sites) assert.equal(codeOf.get(s.areaId ?? ''), planned.get(`${s.lat},${s.lon}`), s.name);
  });

  test('keeps the devices’ credentials for the simulator in a file only its owner can read', () => {
    assert.ok(county.devicesFile);
    assert.equal(statSync(county.devicesFile).mode & 0o777, 0o600);
    const file = readDevicesFile(county.devicesFile);
    assert.equal(file.devices.length, county.estate?.devices);
    for (const d of file.devices) {
      assert.match(d.token, /^wdev_/);
      assert.ok(d.mqttPassword.length >= 20);
    }
  });

  test('a short run stores readings sent over MQTT and HTTP, with history, and a silent device goes offline', async () => {
    const { estate, telemetry } = running.services;
    const all = county.estate?.simDevices ?? [];
    const some = (profile: string, n: number) => all.filter((d) => d.profile === profile).slice(0, n);
    const devices: SimDevice[] = [
      ...some('air-quality', 30),
      ...some('parking-bay', 2),
      ...some('telecare-hub', 1),
      ...some('pir-motion', 1),
      ...some('bin-fill', 1),
      ...some('people-counter', 1),
      ...some('energy-meter', 1),
    ];
    // At 240 times real time, a simulated quarter-hour passes in under four seconds.
    const sim = new Simulator({ url: running.url as string, mqttUrl: running.mqttUrl, devices, backfillHours: 2, speed: 240, tickMs: 200 });
    sim.start();
    try {
      await sim.backfilled();
      const silent = sim.silentIds;
      assert.equal(silent.length, 1, 'one air-quality monitor goes silent');
      const started = new Date(sim.startedAt);
      const live = devices.filter((d) => !silent.includes(d.id));
      const mqttDevices = live.filter((d) => d.transport === 'mqtt');
      const httpDevices = live.filter((d) => d.transport === 'http');
      assert.ok(mqttDevices.length > 30 && httpDevices.length === 3);
      const meter = httpDevices.find((d) => d.profile === 'energy-meter') as SimDevice;
      const bay = some('parking-bay', 1)[0];
      // Live readings since the start: over MQTT (a monitor's JSON, a bay's two bytes) and over HTTP (a meter).
      const sentSinceStart = async (id: string, metric: string) => (await telemetry.latest([id], [metric])).some((r) => r.at >= started);
      await until('a monitor has sent over MQTT since the start', () => sentSinceStart(mqttDevices[0].id, 'no2'));
      await until('a bay has sent over MQTT since the start', () => sentSinceStart(bay.id, 'occupied'));
      await until('a meter has sent over HTTP since the start', () => sentSinceStart(meter.id, 'energy_kwh'));
      await until('every live device has readings', async () => {
        const latest = await telemetry.latest(live.map((d) => d.id));
        return live.every((d) => latest.some((r) => r.deviceId === d.id));
      });
      const latest = await telemetry.latest(live.map((d) => d.id));
      const metricsOf = (id: string) => new Set(latest.filter((r) => r.deviceId === id).map((r) => r.metric));
      for (const m of ['no2', 'pm2_5', 'pm10', 'o3', 'so2', 'temperature', 'humidity']) assert.ok(metricsOf(mqttDevices[0].id).has(m), m);
      assert.ok(metricsOf(bay.id).has('occupied'), 'a bay sent its two bytes');
      assert.ok(metricsOf(some('telecare-hub', 1)[0].id).has('heartbeat'));
      assert.ok(metricsOf(meter.id).has('power_w'));
      assert.ok(metricsOf(httpDevices.find((d) => d.profile === 'bin-fill')?.id ?? '').has('fill_level'));
      assert.ok(sim.stats.mqtt.messages > 0 && sim.stats.http.requests > 0);
      assert.equal(sim.stats.mqtt.errors + sim.stats.http.errors, 0, sim.stats.lastError);
      // The history: two hours of one-minute readings before the start.
      const history = await telemetry.range(mqttDevices[0].id, 'no2', new Date(started.getTime() - 2 * 3_600_000), started);
      assert.ok(history.length >= 110, `${history.length} readings of history`);
      // The silent monitor sent its history up to some time ago, then nothing.
      const quiet = await telemetry.latest(silent, ['no2']);
      assert.ok(quiet.length === 1 && quiet[0].at < started);
      // Offline detection: once it has been silent longer than its profile allows, and the others have not.
      const profile = await estate.getProfile('air-quality');
      const allowedMs = profile.reportIntervalSeconds * profile.offlineTolerance * 1000;
      let seenAt = 0;
      await until('the silent monitor is seen (its history arrived)', async () => {
        seenAt = (await estate.getDevice(silent[0])).lastSeenAt?.getTime() ?? 0;
        return seenAt > 0;
      });
      await new Promise((r) => setTimeout(r, Math.max(0, seenAt + 3000 - Date.now())));
      const { offline } = await estate.checkHealth(new Date(seenAt + allowedMs + 1000));
      assert.ok(offline.includes(silent[0]), 'the silent monitor is offline');
      // A live monitor is offline only if it, too, has been silent since before the cut-off.
      const cutoff = seenAt + 1000;
      for (const d of mqttDevices.filter((d) => d.profile === 'air-quality' && !silent.includes(d.id))) {
        const lastSeen = (await estate.getDevice(d.id)).lastSeenAt?.getTime() ?? 0;
        if (lastSeen > cutoff) assert.ok(!offline.includes(d.id), `${d.name} is still online`);
      }
    } finally {
      await sim.stop();
    }
  });
});

test('weft simulate explains itself, and says plainly when it has no devices file', async () => {
  const simulate = program().commands.find((c) => c.name() === 'simulate');
  assert.ok(simulate);
  const help = simulate.helpInformation();
  for (const option of ['--url', '--mqtt', '--devices', '--speed', '--backfill-hours']) assert.match(help, new RegExp(option));
  await assert.rejects(program().parseAsync(['node', 'weft', 'simulate', '--devices', '/nonexistent/devices.json']), (err: Error) => {
    assert.ok(err instanceof StartupError);
    assert.match(err.message, /^Cannot read the devices file \/nonexistent\/devices\.json .*Run weft demo first/);
    return true;
  });
});
