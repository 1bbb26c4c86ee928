import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { createEventBus } from '../../../src/platform/events/index.js';
import { AuditService } from '../../../src/platform/audit/audit.service.js';
import { EstateService } from '../../../src/modules/estate/index.js';
import type { Db } from '../../../src/platform/db/database.js';
import { atEnd, forEachDialect, freshDatabase, TEST_SECRET } from '../../helpers.js';

const officer = { ...systemActor('test'), type: 'user' as const, id: null, label: 'officer@test', permissions: new Set(['estate:read', 'estate:manage']) };

forEachDialect('estate: devices, credentials and health', (dialect) => {
  let db: Db;
  let estate: EstateService;
  const events: { name: string; payload: any }[] = [];

  before(async () => {
    db = (await freshDatabase(dialect)).db;
    const bus = await createEventBus(db, { warn() {}, error() {} });
    for (const name of ['device.online', 'device.offline', 'device.battery_low']) bus.on(name, (payload) => void events.push({ name, payload }));
    estate = new EstateService(db, new AuditService(db), bus, TEST_SECRET, { flushMs: 20 });
    atEnd(async () => {
      await estate.close();
      await bus.close();
    });
  });

  test('the built-in profiles are there on first use, once', async () => {
    const [a, b] = await Promise.all([estate.listProfiles(), estate.listProfiles()]);
    const keys = a.map((p) => p.key).sort();
    assert.deepEqual(keys, ['air-quality', 'bin-fill', 'door-contact', 'energy-meter', 'fall-detector', 'parking-bay', 'pendant', 'people-counter', 'pir-motion', 'telecare-hub']);
    assert.equal(b.length, 10);
    const aq = await estate.getProfile('air-quality');
    assert.deepEqual(
      aq.metrics.map((m) => m.name),
      ['no2', 'pm2_5', 'pm10', 'o3', 'so2', 'temperature', 'humidity'],
    );
    assert.equal(aq.rawRetentionDays, 90);
    assert.equal((await estate.getProfile('parking-bay')).decoder.type, 'bytes');
    assert.equal((await estate.getProfile(aq.id)).key, 'air-quality');
    await assert.rejects(estate.getProfile('no-such'), { code: 'PROFILE_NOT_FOUND' });
  });

  test('a device gets credentials once; the database keeps only their HMACs; every lookup finds it', async () => {
    const { device, credentials } = await estate.createDevice(officer, { name: 'Bay 1', serial: 'PB-0001', profile: 'parking-bay', externalId: '70B3D57ED0000001', lat: 51.75, lon: -1.25 });
    assert.match(credentials.token, /^wdev_[A-Za-z0-9_-]{43}$/);
    assert.equal(credentials.mqttUsername, device.id);
    assert.ok(credentials.mqttPassword.length >= 32);
    assert.equal(device.externalId, '70b3d57ed0000001');
    assert.equal(device.status, 'active');

    const row = await db.k.selectFrom('devices').selectAll().where('id', '=', device.id).executeTakeFirstOrThrow();
    const stored = JSON.stringify(row);
    assert.ok(!stored.includes(credentials.token) && !stored.includes(credentials.token.slice(5)), 'no clear token in the row');
    assert.ok(!stored.includes(credentials.mqttPassword), 'no clear MQTT password in the row');

    const byToken = await estate.deviceForToken(credentials.token);
    assert.equal(byToken?.deviceId, device.id);
    assert.equal(byToken?.profile.key, 'parking-bay');
    assert.equal(byToken?.isPersonal, false);
    assert.equal((await estate.deviceForMqtt(device.id, credentials.mqttPassword))?.deviceId, device.id);
    assert.equal(await estate.deviceForMqtt(device.id, 'wrong'), undefined);
    assert.equal(await estate.deviceForMqtt(device.id, credentials.token), undefined);
    assert.equal((await estate.deviceForExternalId('70B3D57ED0000001'))?.deviceId, device.id);
    assert.equal((await estate.deviceForExternalId('70b3d57ed0000001'))?.deviceId, device.id);
    assert.equal(await estate.deviceForExternalId('70b3d57ed0000002'), undefined);
    assert.equal((await estate.deviceAuth(device.id))?.name, 'Bay 1');
    assert.equal(await estate.deviceAuth('not-an-id'), undefined);
    assert.equal(await estate.deviceForToken('wdev_nonsense'), undefined);

    const actor = await estate.actorForDeviceToken(credentials.token);
    assert.equal(actor?.type, 'device');
    assert.equal(actor?.id, device.id);
    assert.deepEqual([...(actor?.permissions ?? [])], ['telemetry:ingest']);
  });

  test('rotating credentials stops the old token and password at once, even when cached', async () => {
    const { device, credentials: old } = await estate.createDevice(officer, { name: 'AQ 1', serial: 'AQ-0001', profile: 'air-quality' });
    assert.ok(await estate.deviceForToken(old.token)); // now cached
    assert.ok(await estate.deviceForMqtt(device.id, old.mqttPassword));
    const { credentials } = await estate.rotateCredentials(officer, device.id);
    assert.equal(await estate.deviceForToken(old.token), undefined);
    assert.equal(await estate.deviceForMqtt(device.id, old.mqttPassword), undefined);
    assert.equal((await estate.deviceForToken(credentials.token))?.deviceId, device.id);
    assert.equal((await estate.deviceForMqtt(device.id, credentials.mqttPassword))?.deviceId, device.id);
  });

  test('a decommissioned device is refused everywhere', async () => {
    const { device, credentials } = await estate.createDevice(officer, { name: 'Old', serial: 'OLD-1', profile: 'bin-fill', externalId: 'aaaaaaaaaaaaaaaa' });
    assert.ok(await estate.deviceAuth(device.id));
    const after = await estate.decommissionDevice(officer, device.id);
    assert.equal(after.status, 'decommissioned');
    assert.ok(after.decommissionedAt);
    assert.equal(await estate.deviceAuth(device.id), undefined);
    assert.equal(await estate.deviceForToken(credentials.token), undefined);
    assert.equal(await estate.deviceForExternalId('aaaaaaaaaaaaaaaa'), undefined);
    await assert.rejects(estate.rotateCredentials(officer, device.id), { code: 'DEVICE_DECOMMISSIONED' });
    await assert.rejects(estate.updateDevice(officer, device.id, { name: 'x' }), { code: 'DEVICE_DECOMMISSIONED' });
  });

  test('serials and DevEUIs are unique', async () => {
    await estate.createDevice(officer, { name: 'A', serial: 'UNIQ-1', profile: 'pendant', externalId: 'bbbbbbbbbbbbbbbb' });
    await assert.rejects(estate.createDevice(officer, { name: 'B', serial: 'UNIQ-1', profile: 'pendant' }), { code: 'DEVICE_SERIAL_TAKEN' });
    await assert.rejects(estate.createDevice(officer, { name: 'B', serial: 'UNIQ-2', profile: 'pendant', externalId: 'BBBBBBBBBBBBBBBB' }), { code: 'DEVICE_EXTERNAL_ID_TAKEN' });
    await assert.rejects(estate.createDevice(officer, { name: 'B', serial: 'UNIQ-3', profile: 'nope' }), { code: 'PROFILE_NOT_FOUND' });
    await assert.rejects(estate.createDevice(officer, { name: 'B', serial: 'UNIQ-4', profile: 'pendant', lat: 51 }), { code: 'POSITION_INCOMPLETE' });
  });

  test('noteSeen is written in a batch; a silent device goes offline, comes back online, and a low battery is published once', async () => {
    events.length = 0;
    const { device } = await estate.createDevice(officer, { name: 'Hub', serial: 'HUB-1', profile: 'telecare-hub' });
    const t0 = new Date(Date.now() - 60_000);
    estate.noteSeen(device.id, t0, 80);
    estate.noteSeen(device.id, new Date(t0.getTime() - 5000), 79); // older time: keeps t0, newer battery
    await estate.flush();
    let d = await estate.getDevice(device.id);
    assert.equal(d.lastSeenAt?.getTime(), t0.getTime());
    assert.equal(d.batteryPercent, 79);

    // telecare-hub: every 900 s, tolerance 2 → offline after 30 minutes of silence.
    const { offline: none } = await estate.checkHealth(new Date(t0.getTime() + 29 * 60_000));
    assert.ok(!none.includes(device.id));
    const { offline } = await estate.checkHealth(new Date(t0.getTime() + 31 * 60_000));
    assert.ok(offline.includes(device.id));
    assert.equal((await estate.getDevice(device.id)).status, 'offline');
    assert.ok(events.some((e) => e.name === 'device.offline' && e.payload.deviceId === device.id));
    const again = await estate.checkHealth(new Date(t0.getTime() + 40 * 60_000));
    assert.ok(!again.offline.includes(device.id), 'an offline device is not reported twice');

    estate.noteSeen(device.id, new Date(), 25); // threshold 30
    await new Promise((r) => setTimeout(r, 100)); // the timer flushes by itself
    d = await estate.getDevice(device.id);
    assert.equal(d.status, 'active');
    assert.equal(d.batteryPercent, 25);
    assert.ok(events.some((e) => e.name === 'device.online' && e.payload.deviceId === device.id));
    assert.deepEqual(
      events.filter((e) => e.name === 'device.battery_low').map((e) => e.payload),
      [{ deviceId: device.id, batteryPercent: 25, thresholdPercent: 30 }],
    );
    estate.noteSeen(device.id, new Date(), 24);
    await estate.flush();
    assert.equal(events.filter((e) => e.name === 'device.battery_low').length, 1, 'already low: not published again');
  });

  test('a device never heard from goes offline once its profile interval has passed since it was created', async () => {
    const { device } = await estate.createDevice(officer, { name: 'Quiet', serial: 'Q-1', profile: 'air-quality' });
    const { offline } = await estate.checkHealth(new Date(Date.now() + 16 * 60_000));
    assert.ok(offline.includes(device.id));
  });

  test('what ingest knows of a device follows its site: a site that becomes a home makes its devices personal at once', async () => {
    const system = systemActor('test');
    const site = await estate.createSite(system, { type: 'care_home', name: 'Elm House', address: '1 Elm Road' });
    const { device } = await estate.createDevice(system, { name: 'Door', serial: 'DC-ELM-1', profile: 'door-contact', siteId: site.id });
    assert.equal((await estate.deviceAuth(device.id))?.isPersonal, false);
    await estate.updateSite(system, site.id, { type: 'home' });
    assert.equal((await estate.deviceAuth(device.id))?.isPersonal, true);
    await assert.rejects(estate.updateSite(officer, site.id, { name: 'x' }), { code: 'SITE_NOT_FOUND' });
  });
});
