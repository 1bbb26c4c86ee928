import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parseChirpstackUp, parseTtsUplink } from '../../../src/modules/lorawan/lorawan.service.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { AppError } from '../../../src/platform/errors.js';
import { csrfFrom, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string): Record<string, any> => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'));
const TTS = '/api/v1/lorawan/tts/uplink';
const CHIRPSTACK = '/api/v1/lorawan/chirpstack';

describe('network-server message parsing', () => {
  test('a The Things Stack uplink: DevEUI, network-server time, payload, decoded payload, battery', () => {
    const up = parseTtsUplink(fixture('tts-uplink-decoded'));
    assert.ok(up);
    assert.equal(up.devEui, '70b3d57ed0051a2c');
    assert.equal(up.deviceName, 'eui-70b3d57ed0051a2c');
    assert.equal(up.at.toISOString(), '2025-03-14T08:15:02.212Z');
    assert.equal(up.bytes?.toString('hex'), '016700cd0268820302019a');
    assert.deepEqual(up.decoded, { analog_in_3: 4.1, relative_humidity_2: 65, temperature_1: 20.5 });
    assert.equal(up.battery, 87.401575);
  });

  test('other The Things Stack messages carry no uplink', () => {
    assert.equal(parseTtsUplink(fixture('tts-join-accept')), undefined);
  });

  test('a ChirpStack v4 up event: devEui, time, data, object', () => {
    const up = parseChirpstackUp(fixture('chirpstack-up-object'));
    assert.equal(up.devEui, '24e124707c481002');
    assert.equal(up.at.toISOString(), '2025-03-14T10:07:12.088Z');
    assert.equal(up.bytes?.toString('hex'), '017500bd0276007b0373006d');
    assert.equal(up.decoded?.no2, 38.5);
  });

  test('port 0 (MAC commands) is not application data', () => {
    const body = fixture('tts-uplink-raw');
    body.uplink_message.f_port = 0;
    assert.equal(parseTtsUplink(body)?.bytes, undefined);
  });

  test('bodies that are not these messages are refused with LORAWAN_BODY_MALFORMED', () => {
    const bad = (fn: () => unknown, message: RegExp) =>
      assert.throws(fn, (err: unknown) => err instanceof AppError && err.code === 'LORAWAN_BODY_MALFORMED' && err.status === 400 && message.test(err.message));
    bad(() => parseTtsUplink({ hello: 1 }), /end_device_ids is missing/);
    bad(() => parseTtsUplink({ end_device_ids: { device_id: 'x' }, uplink_message: {} }), /dev_eui is missing/);
    const b = fixture('tts-uplink-raw');
    b.uplink_message.frm_payload = 'not base64!';
    bad(() => parseTtsUplink(b), /frm_payload is not base64/);
    const c = fixture('tts-uplink-raw');
    c.uplink_message.received_at = 'last tuesday';
    bad(() => parseTtsUplink(c), /received_at is not a time/);
    bad(() => parseChirpstackUp({ devEUI: 'AgICAgICAgI=' }), /ChirpStack v4/);
    bad(() => parseChirpstackUp({ ...fixture('chirpstack-up'), object: [1] }), /object is not an object/);
  });
});

forEachDialect('LoRaWAN webhooks', (dialect) => {
  let t: TestApp;
  let ttsToken: string;
  let csToken: string;
  const actor = systemActor('test');

  const post = (url: string, token: string, body: unknown) => t.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: body as object });
  const stored = (deviceId: string, metric: string) => t.services.telemetry.range(deviceId, metric, new Date('2025-03-13T00:00:00Z'), new Date('2025-03-15T00:00:00Z'));

  before(async () => {
    t = await testApp(dialect);
    ttsToken = (await t.services.lorawan.createIntegration(actor, { name: 'TTS parking', kind: 'tts' })).token;
    csToken = (await t.services.lorawan.createIntegration(actor, { name: 'ChirpStack waste', kind: 'chirpstack' })).token;
  });

  test('The Things Stack: a raw uplink goes through the profile’s byte decoder; its time is the network server’s', async () => {
    const { device } = await t.services.estate.createDevice(actor, { name: 'Westgate bay 417', serial: 'BAY-0417', profile: 'parking-bay', externalId: '0004A30B00F1C2D3' });
    const res = await post(TTS, ttsToken, fixture('tts-uplink-raw'));
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { deviceId: device.id, accepted: 2, duplicates: 0, quarantined: 0 });
    assert.deepEqual(await stored(device.id, 'occupied'), [{ at: new Date('2025-03-14T09:41:17.118Z'), value: 1 }]);
    assert.deepEqual(
      (await stored(device.id, 'battery')).map((r) => r.value),
      [88],
    );
    // The same uplink again (a webhook retry) is stored once.
    const again = await post(TTS, ttsToken, fixture('tts-uplink-raw'));
    assert.deepEqual(again.json(), { deviceId: device.id, accepted: 0, duplicates: 2, quarantined: 0 });
  });

  test('The Things Stack: a decoded payload is mapped by the profile’s json fields; the battery reaches the device', async () => {
    await t.services.estate.createProfile(actor, {
      key: 'indoor-climate',
      name: 'Indoor climate sensor',
      description: 'Cayenne LPP sensor decoded by The Things Stack',
      metrics: [
        { name: 'temperature', unit: '°C', kind: 'measure', min: -40, max: 60 },
        { name: 'humidity', unit: '%', kind: 'measure', min: 0, max: 100 },
        { name: 'battery', unit: '%', kind: 'measure', min: 0, max: 100 },
      ],
      reportIntervalSeconds: 600,
      offlineTolerance: 3,
      batteryLowPercent: 20,
      rawRetentionDays: 90,
      decoder: { type: 'json', fields: { temperature: 'temperature_1', humidity: 'relative_humidity_2' } },
    });
    const { device } = await t.services.estate.createDevice(actor, { name: 'Library reading room', serial: 'LPP-1A2C', profile: 'indoor-climate', externalId: '70b3d57ed0051a2c' });
    const res = await post(TTS, ttsToken, fixture('tts-uplink-decoded'));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().accepted, 2);
    const latest = await t.services.telemetry.latest([device.id]);
    assert.deepEqual(latest.map((r) => [r.metric, r.value, r.at.toISOString()]).sort(), [
      ['humidity', 65, '2025-03-14T08:15:02.212Z'],
      ['temperature', 20.5, '2025-03-14T08:15:02.212Z'],
    ]);
    await t.services.estate.flush();
    assert.equal((await t.services.estate.getDevice(device.id)).batteryPercent, 87.401575);
  });

  test('The Things Stack: messages other than uplinks are accepted with 204', async () => {
    const res = await post(TTS, ttsToken, fixture('tts-join-accept'));
    assert.equal(res.statusCode, 204);
  });

  test('ChirpStack: an up event with raw data, and one with a codec’s object', async () => {
    const { device: bin } = await t.services.estate.createDevice(actor, { name: 'Market Square bin 3', serial: 'BIN-C2E7', profile: 'bin-fill', externalId: 'a84041000181c2e7' });
    const res = await post(`${CHIRPSTACK}?event=up`, csToken, fixture('chirpstack-up'));
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(await stored(bin.id, 'fill_level'), [{ at: new Date('2025-03-14T10:02:44.716Z'), value: 72 }]);

    const { device: aq } = await t.services.estate.createDevice(actor, { name: 'Cornmarket hub', serial: 'AQ-1002', profile: 'air-quality', externalId: '24E124707C481002' });
    const res2 = await post(`${CHIRPSTACK}?event=up`, csToken, fixture('chirpstack-up-object'));
    assert.equal(res2.statusCode, 200, res2.body);
    assert.deepEqual(res2.json(), { deviceId: aq.id, accepted: 5, duplicates: 0, quarantined: 0 });
    const latest = await t.services.telemetry.latest([aq.id], ['no2', 'pm2_5']);
    assert.deepEqual(latest.map((r) => [r.metric, r.value]).sort(), [
      ['no2', 38.5],
      ['pm2_5', 12.3],
    ]);
  });

  test('ChirpStack: a status event’s battery level reaches the device; join and other events are accepted with 204', async () => {
    const device = await t.services.estate.deviceForExternalId('a84041000181c2e7');
    assert.ok(device);
    const events: unknown[] = [];
    const off = t.services.events.on('device.battery_low', (p) => void events.push(p));
    try {
      for (const [event, body] of [
        ['status', fixture('chirpstack-status')],
        ['join', fixture('chirpstack-join')],
        ['txack', { deviceInfo: fixture('chirpstack-join').deviceInfo, downlinkId: 1 }],
        ['log', { deviceInfo: fixture('chirpstack-join').deviceInfo, level: 'ERROR', code: 'UPLINK_CODEC', description: 'x' }],
      ] as const) {
        const res = await post(`${CHIRPSTACK}?event=${event}`, csToken, body);
        assert.equal(res.statusCode, 204, `${event}: ${res.body}`);
      }
      await t.services.estate.flush();
      assert.equal((await t.services.estate.getDevice(device.deviceId)).batteryPercent, 12.5);
      assert.equal(events.length, 1, 'bin-fill’s threshold is 15 %: 12.5 % is low');
    } finally {
      off();
    }
  });

  test('an unknown DevEUI is refused with 404 LORAWAN_DEVICE_UNKNOWN and counted', async () => {
    const before = t.services.lorawan.stats.tts.unknownDevices;
    const body = fixture('tts-uplink-raw');
    body.end_device_ids.dev_eui = 'FFFFFFFFFFFF0001';
    const res = await post(TTS, ttsToken, body);
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'LORAWAN_DEVICE_UNKNOWN');
    assert.match(res.json().detail, /ffffffffffff0001/);
    assert.equal(t.services.lorawan.stats.tts.unknownDevices, before + 1);
    const metrics = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${await t.key(['metrics:read'])}` } });
    assert.match(metrics.body, /weft_lorawan_messages_total\{kind="tts",outcome="unknown_device"\} [1-9]/);
    const cs = fixture('chirpstack-up');
    cs.deviceInfo.devEui = 'ffffffffffff0002';
    const res2 = await post(`${CHIRPSTACK}?event=up`, csToken, cs);
    assert.equal(res2.statusCode, 404);
    assert.equal(res2.json().code, 'LORAWAN_DEVICE_UNKNOWN');
  });

  test('with a default profile, an unknown DevEUI registers a device (audited) and its uplink is stored', async () => {
    const { token, row } = await t.services.lorawan.createIntegration(actor, { name: 'TTS new bays', kind: 'tts', defaultProfile: 'parking-bay' });
    const body = fixture('tts-uplink-raw');
    body.end_device_ids.dev_eui = '0004A30B00F1FFFF';
    body.end_device_ids.device_id = 'bay-new-1';
    const res = await post(TTS, token, body);
    assert.equal(res.statusCode, 200, res.body);
    const device = await t.services.estate.getDevice(res.json().deviceId);
    assert.equal(device.externalId, '0004a30b00f1ffff');
    assert.equal(device.name, 'bay-new-1');
    assert.equal(device.profileKey, 'parking-bay');
    const audit = await t.services.audit.search({ action: 'estate.device_create', targetId: device.id, limit: 5 });
    assert.equal(audit.length, 1);
    assert.equal(audit[0].actor_type, 'integration');
    assert.equal(audit[0].actor_id, row.id);
  });

  test('a malformed body or an undecodable payload is refused with 400 and a code', async () => {
    const m1 = await post(TTS, ttsToken, { something: 'else' });
    assert.equal(m1.statusCode, 400);
    assert.equal(m1.json().code, 'LORAWAN_BODY_MALFORMED');
    const m2 = await post(`${CHIRPSTACK}?event=up`, csToken, { devEUI: 'AgICAgICAgI=', data: 'qg==' });
    assert.equal(m2.statusCode, 400);
    assert.equal(m2.json().code, 'LORAWAN_BODY_MALFORMED');
    // A parking-bay payload must have at least the occupancy byte and the battery byte.
    const short = fixture('tts-uplink-raw');
    short.uplink_message.frm_payload = 'AQ==';
    const m3 = await post(TTS, ttsToken, short);
    assert.equal(m3.statusCode, 400);
    assert.equal(m3.json().code, 'PAYLOAD_MALFORMED');
    const notJson = await t.app.inject({ method: 'POST', url: TTS, headers: { authorization: `Bearer ${ttsToken}`, 'content-type': 'application/json' }, payload: '{"end_device_ids": ' });
    assert.equal(notJson.statusCode, 400);
    assert.equal(notJson.json().code, 'MALFORMED_JSON');
  });

  test('a wrong, revoked or wrong-kind token is refused; devices may not post network-server messages', async () => {
    const wrong = await post(TTS, 'wint_not-a-real-token', fixture('tts-uplink-raw'));
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().code, 'AUTH_INVALID');
    const none = await t.app.inject({ method: 'POST', url: TTS, payload: fixture('tts-uplink-raw') });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().code, 'AUTH_REQUIRED');

    const kind = await post(`${CHIRPSTACK}?event=up`, ttsToken, fixture('chirpstack-up'));
    assert.equal(kind.statusCode, 403);
    assert.equal(kind.json().code, 'INTEGRATION_KIND_MISMATCH');

    const { credentials } = await t.services.estate.createDevice(actor, { name: 'A device', serial: 'DEV-TOKEN-1', profile: 'air-quality' });
    const asDevice = await post(TTS, credentials.token, fixture('tts-uplink-raw'));
    assert.equal(asDevice.statusCode, 403);
    assert.equal(asDevice.json().code, 'FORBIDDEN');

    const key = await t.key(['telemetry:ingest']);
    const asKey = await post(TTS, key, fixture('tts-join-accept'));
    assert.equal(asKey.statusCode, 204, 'an API key with telemetry:ingest may post');

    const { row, token } = await t.services.lorawan.createIntegration(actor, { name: 'Short-lived', kind: 'tts' });
    assert.equal((await post(TTS, token, fixture('tts-join-accept'))).statusCode, 204);
    await t.services.lorawan.revokeIntegration(actor, row.id);
    const revoked = await post(TTS, token, fixture('tts-join-accept'));
    assert.equal(revoked.statusCode, 401);
    assert.equal(revoked.json().code, 'AUTH_INVALID');
  });

  test('the API creates (token shown once), lists and revokes integrations, with estate:manage', async () => {
    const officer = await t.signInAs(['officer']);
    const headers = { cookie: officer.cookie, 'x-csrf-token': officer.csrf };
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/lorawan/integrations', headers, payload: { name: 'ChirpStack lights', kind: 'chirpstack', defaultProfile: 'door-contact' } });
    assert.equal(created.statusCode, 201, created.body);
    const body = created.json();
    assert.match(body.token, /^wint_[A-Za-z0-9_-]{40,}$/);
    assert.equal(body.webhookUrl, `${t.services.config.publicUrl}/api/v1/lorawan/chirpstack`);
    assert.equal(created.headers['cache-control'], 'no-store');
    assert.ok(body.token.startsWith(body.tokenPrefix));

    const list = await t.app.inject({ url: '/api/v1/lorawan/integrations', headers });
    assert.equal(list.statusCode, 200);
    const listed = list.json().find((i: { id: string }) => i.id === body.id);
    assert.equal(listed.token, undefined, 'the token is never listed');
    assert.ok(!list.body.includes(body.token));

    const revoked = await t.app.inject({ method: 'POST', url: `/api/v1/lorawan/integrations/${body.id}/revoke`, headers });
    assert.equal(revoked.statusCode, 200);
    assert.ok(revoked.json().revokedAt);
    const missing = await t.app.inject({ method: 'POST', url: '/api/v1/lorawan/integrations/01900000-0000-7000-8000-000000000000/revoke', headers });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'INTEGRATION_NOT_FOUND');
    const badProfile = await t.app.inject({ method: 'POST', url: '/api/v1/lorawan/integrations', headers, payload: { name: 'x', kind: 'tts', defaultProfile: 'no-such-profile' } });
    assert.equal(badProfile.statusCode, 404);
    assert.equal(badProfile.json().code, 'PROFILE_NOT_FOUND');

    const audit = await t.services.audit.search({ actorId: officer.userId, limit: 10 });
    assert.deepEqual(
      audit
        .map((e) => e.action)
        .filter((a) => a.startsWith('lorawan.'))
        .sort(),
      ['lorawan.integration_create', 'lorawan.integration_revoke'],
    );

    const viewer = await t.signInAs(['viewer']);
    const refused = await t.app.inject({ url: '/api/v1/lorawan/integrations', headers: { cookie: viewer.cookie } });
    assert.equal(refused.statusCode, 403);
  });

  test('console pages: add an integration (token shown once with set-up steps), list, revoke', async () => {
    const officer = await t.signInAs(['officer']);
    const form = await t.app.inject({ url: '/console/lorawan/new', headers: { cookie: officer.cookie } });
    assert.equal(form.statusCode, 200);
    const csrf = csrfFrom(form.body);
    const invalid = await t.app.inject({ method: 'POST', url: '/console/lorawan/new', headers: { cookie: officer.cookie }, payload: { _csrf: csrf, name: '', kind: 'tts' } });
    assert.equal(invalid.statusCode, 400);
    assert.match(invalid.body, /Enter a name for the integration/);
    const made = await t.app.inject({
      method: 'POST',
      url: '/console/lorawan/new',
      headers: { cookie: officer.cookie },
      payload: { _csrf: csrf, name: 'TTS from the console', kind: 'tts', defaultProfile: '' },
    });
    assert.equal(made.statusCode, 200, made.body);
    const token = /id="integration-token">(wint_[^<]+)</.exec(made.body)?.[1];
    assert.ok(token, 'the token is shown');
    assert.match(made.body, /Base URL: <code>http:\/\/[^<]+\/api\/v1\/lorawan\/tts<\/code>[\s\S]*<code>\/uplink<\/code>/);
    assert.equal((await post(TTS, token, fixture('tts-join-accept'))).statusCode, 204);

    const page = await t.app.inject({ url: '/console/lorawan', headers: { cookie: officer.cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /TTS from the console/);
    assert.ok(!page.body.includes(token), 'the list never shows a token');
    const row = (await t.services.lorawan.listIntegrations()).find((i) => i.name === 'TTS from the console');
    const revoke = await t.app.inject({ method: 'POST', url: `/console/lorawan/${row?.id}/revoke`, headers: { cookie: officer.cookie }, payload: { _csrf: csrfFrom(page.body) } });
    assert.equal(revoke.statusCode, 303);
    assert.equal((await post(TTS, token, fixture('tts-join-accept'))).statusCode, 401);
  });
});
