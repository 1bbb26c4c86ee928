import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { DeviceAuth } from '../../../src/modules/estate/index.js';
import type { DecodedReading } from '../../../src/modules/telemetry/decoders.js';
import { type EmbeddedIngest, embeddedIngest, ExternalSubscriber, IngestBatcher, IngestStats, parseDeviceTopic } from '../../../src/modules/telemetry/mqtt.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { AppError } from '../../../src/platform/errors.js';
import { EmbeddedBroker } from '../../../src/platform/mqtt/broker.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { loadConfig } from '../../../src/config.js';
import { start } from '../../../src/server.js';
import { forEachDialect, freshDatabase, logRecorder, TEST_SECRET } from '../../helpers.js';

const MOSQUITTO = 'mqtt://127.0.0.1:1883';
const quiet = { info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface TestDevice {
  id: string;
  password: string;
  topic: string;
}

async function makeDevice(t: TestApp, profile = 'air-quality', name = 'Test device'): Promise<TestDevice> {
  const serial = `T-${randomBytes(4).toString('hex')}`;
  const { device, credentials } = await t.services.estate.createDevice(systemActor('test'), { name, serial, profile });
  return { id: device.id, password: credentials.mqttPassword, topic: `weft/devices/${device.id}/telemetry` };
}

/** Readings of one metric stored for a device over the last day. */
async function stored(t: TestApp, deviceId: string, metric = 'no2') {
  return t.services.telemetry.range(deviceId, metric, new Date(Date.now() - 86_400_000), new Date(Date.now() + 60_000));
}

/** Runs mosquitto_pub without blocking this process (the embedded broker answers it from here). */
function mosquittoPub(args: string[], input?: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('mosquitto_pub', args, { timeout: 20_000 });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('close', (status) => resolve({ status, stderr }));
    // With -m, mosquitto_pub does not read its input and may have exited already.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

describe('device topics', () => {
  test('only weft/devices/{id}/telemetry and …/events are device topics', () => {
    assert.deepEqual(parseDeviceTopic('weft/devices/abc/telemetry'), { deviceId: 'abc', leaf: 'telemetry' });
    assert.deepEqual(parseDeviceTopic('weft/devices/abc/events'), { deviceId: 'abc', leaf: 'events' });
    for (const t of ['weft/devices/abc', 'weft/devices//telemetry', 'weft/devices/abc/telemetry/x', 'x/devices/abc/telemetry', 'weft/devices/abc/commands'])
      assert.equal(parseDeviceTopic(t), undefined, t);
  });
});

describe('the ingest micro-batcher', () => {
  const device = (id: string) => ({ deviceId: id }) as DeviceAuth;
  const r = (value: number): DecodedReading[] => [{ metric: 'no2', value, at: new Date(1_800_000_000_000 + value) }];

  test('writes one call per device per batch and acknowledges in arrival order after the write', async () => {
    const calls: string[] = [];
    const order: string[] = [];
    const batcher = new IngestBatcher(
      async (d, readings) => {
        calls.push(`${d.deviceId}:${readings.map((x) => x.value).join(',')}`);
        return { accepted: readings.length, duplicates: 0, quarantined: [] };
      },
      new IngestStats(),
      quiet,
      { maxDelayMs: 5 },
    );
    for (const [id, v] of [
      ['a', 1],
      ['b', 2],
      ['a', 3],
      ['c', 4],
      ['b', 5],
    ] as const)
      batcher.add(device(id), r(v), () => order.push(`${id}${v}`));
    assert.deepEqual(order, [], 'nothing is acknowledged before the write');
    await batcher.flush();
    assert.deepEqual(calls, ['a:1,3', 'b:2,5', 'c:4']);
    assert.deepEqual(order, ['a1', 'b2', 'a3', 'c4', 'b5']);
  });

  test('writes at once when a batch reaches its size, and again for what arrived meanwhile', async () => {
    let calls = 0;
    const stats = new IngestStats();
    const batcher = new IngestBatcher(
      async (_d, readings) => {
        calls++;
        await sleep(5);
        return { accepted: readings.length, duplicates: 0, quarantined: [] };
      },
      stats,
      quiet,
      { maxReadings: 3, maxDelayMs: 10_000 },
    );
    let acked = 0;
    for (let i = 0; i < 3; i++) batcher.add(device('a'), r(i), () => acked++);
    await waitFor(async () => acked === 3, 'the full batch to be written', 2000);
    for (let i = 3; i < 5; i++) batcher.add(device('a'), r(i), () => acked++);
    await batcher.flush();
    assert.equal(acked, 5);
    assert.equal(calls, 2);
    assert.equal(stats.accepted, 5);
  });

  test('a device’s readings are written in chunks of at most the batch size (telemetry takes 10,000 at most)', async () => {
    const sizes: number[] = [];
    const batcher = new IngestBatcher(
      async (_d, readings) => {
        sizes.push(readings.length);
        return { accepted: readings.length, duplicates: 0, quarantined: [] };
      },
      new IngestStats(),
      quiet,
      { maxReadings: 3, maxDelayMs: 10_000 },
    );
    for (let i = 0; i < 7; i++) batcher.add(device('a'), r(i));
    await batcher.flush();
    assert.deepEqual(sizes, [3, 3, 1]);
  });

  test('a message telemetry refuses is isolated: the others of its device are still written', async () => {
    const { lines, log } = logRecorder();
    const stats = new IngestStats();
    const written: number[] = [];
    const batcher = new IngestBatcher(
      async (_d, readings) => {
        if (readings.some((x) => x.value === 13)) throw new AppError('TIMESTAMP_IN_FUTURE', 400, 'Reading 0 is stamped in the future.');
        written.push(...readings.map((x) => x.value as number));
        return { accepted: readings.length, duplicates: 0, quarantined: [] };
      },
      stats,
      log,
    );
    const errors: (Error | undefined)[] = [];
    for (const v of [12, 13, 14]) batcher.add(device('a'), r(v), (err) => errors.push(err));
    await batcher.flush();
    assert.deepEqual(written, [12, 14]);
    assert.deepEqual(errors, [undefined, undefined, undefined], 'refused input is acknowledged: sending it again cannot help');
    assert.equal(stats.rejected, 1);
    assert.ok(lines.some((l) => l.level === 'warn'));
  });

  test('a failed write is not acknowledged: each message of the batch gets the error', async () => {
    const stats = new IngestStats();
    const batcher = new IngestBatcher(
      async () => {
        throw new Error('database is down');
      },
      stats,
      quiet,
    );
    const errors: (Error | undefined)[] = [];
    batcher.add(device('a'), r(1), (err) => errors.push(err));
    batcher.add(device('b'), r(2), (err) => errors.push(err));
    await batcher.flush();
    assert.equal(errors.length, 2);
    assert.ok(errors.every((e) => e?.message === 'database is down'));
    assert.equal(stats.failedBatches, 2);
  });

  test('reports when waiting readings pass the high-water mark and when they drain', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batcher = new IngestBatcher(
      async (_d, readings) => {
        await gate;
        return { accepted: readings.length, duplicates: 0, quarantined: [] };
      },
      new IngestStats(),
      quiet,
      { highWater: 2, maxDelayMs: 1 },
    );
    batcher.add(device('a'), r(1));
    await sleep(10); // the first batch is now being written and holds the gate
    batcher.add(device('a'), r(2));
    batcher.add(device('a'), r(3));
    assert.equal(batcher.overHighWater, true);
    let drained = false;
    const waiting = batcher.belowHighWater().then(() => {
      drained = true;
    });
    await sleep(10);
    assert.equal(drained, false);
    release();
    await waiting;
    await batcher.flush();
    assert.equal(batcher.pending, 0);
  });
});

forEachDialect('MQTT ingest through the embedded broker', (dialect) => {
  let t: TestApp;
  let broker: EmbeddedBroker;
  let ingest: EmbeddedIngest;
  let url: string;
  const clients: MqttClient[] = [];

  before(async () => {
    t = await testApp(dialect);
    broker = new EmbeddedBroker();
    ingest = embeddedIngest({ estate: t.services.estate, telemetry: t.services.telemetry, log: quiet, batch: { concurrency: dialect === 'postgres' ? 4 : 1 } });
    broker.setHooks(ingest.hooks);
    await broker.start(0);
    url = broker.url;
  });
  after(async () => {
    for (const c of clients) c.end(true);
    await broker.stop();
  });

  async function connect(d: TestDevice, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
    const c = await mqtt.connectAsync(url, { username: d.id, password: d.password, reconnectPeriod: 0, ...extra });
    clients.push(c);
    return c;
  }

  test('a wrong password, an unknown device or no credentials are refused with CONNACK 4', async () => {
    const d = await makeDevice(t);
    const before = ingest.stats.denied;
    for (const creds of [
      { username: d.id, password: 'not-the-password' },
      { username: '01900000-0000-7000-8000-000000000000', password: d.password },
      { username: 'not-a-device', password: 'x' },
      {},
    ]) {
      await assert.rejects(mqtt.connectAsync(url, { ...creds, reconnectPeriod: 0 }), (err: Error & { code?: number }) => {
        assert.equal(err.code, 4);
        assert.match(err.message, /Bad username or password/);
        return true;
      });
    }
    assert.equal(ingest.stats.denied - before, 4);
    const metrics = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${await t.key(['metrics:read'])}` } });
    assert.match(metrics.body, /weft_mqtt_messages_total\{outcome="denied"\} [1-9]/);
  });

  test('QoS 0 and QoS 1 readings are stored, with their own times or the time they arrived', async () => {
    const d = await makeDevice(t);
    const c = await connect(d);
    const at = Date.now() - 60_000;
    c.publish(d.topic, JSON.stringify({ no2: 40, pm10: 11, ts: at }), { qos: 0 });
    await c.publishAsync(d.topic, JSON.stringify({ no2: 41, at: at + 1000 }), { qos: 1 });
    const sentAt = Date.now();
    await c.publishAsync(d.topic, JSON.stringify({ no2: 42 }), { qos: 1 });
    const rows = await waitFor(async () => {
      const rows = await stored(t, d.id);
      return rows.length === 3 && rows;
    }, 'three no2 readings');
    assert.deepEqual(
      rows.map((r) => r.value),
      [40, 41, 42],
    );
    assert.equal(rows[0].at.getTime(), at);
    assert.ok(Math.abs(rows[2].at.getTime() - sentAt) < 5000);
    assert.deepEqual(
      (await stored(t, d.id, 'pm10')).map((r) => r.value),
      [11],
    );
    const latest = await t.services.telemetry.latest([d.id], ['no2']);
    assert.equal(latest[0].value, 42);
  });

  test('a QoS 1 PUBACK comes only after its reading is committed', async () => {
    const d = await makeDevice(t);
    const c = await connect(d);
    const committed: number[] = [];
    const off = t.services.telemetry.onReadings((batch) => {
      for (const r of batch) if (r.deviceId === d.id) committed.push(r.value);
    });
    try {
      const at = Date.now() - 5000;
      for (let i = 0; i < 20; i++) {
        await c.publishAsync(d.topic, JSON.stringify({ no2: i, at: at + i }), { qos: 1 });
        // The acknowledgement is here: the reading must already be stored, with no waiting.
        assert.ok(committed.includes(i), `reading ${i} was acknowledged before it was committed`);
        const rows = await stored(t, d.id);
        assert.equal(rows.length, i + 1);
      }
    } finally {
      off();
    }
  });

  test('many messages in flight are written in a few batches, and every one is stored', async () => {
    const d = await makeDevice(t);
    const c = await connect(d);
    const at = Date.now() - 600_000;
    const n = 1000;
    const before = { messages: ingest.stats.messages };
    await Promise.all(Array.from({ length: n }, (_, i) => c.publishAsync(d.topic, JSON.stringify({ no2: i % 500, at: at + i }), { qos: 1 })));
    assert.equal(ingest.stats.messages - before.messages, n);
    assert.equal((await stored(t, d.id)).length, n);
  });

  test('publishing to another device’s topic disconnects the device and stores nothing', async () => {
    const a = await makeDevice(t);
    const b = await makeDevice(t);
    const c = await connect(a);
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    const denied = ingest.stats.denied;
    c.publish(b.topic, JSON.stringify({ no2: 99 }), { qos: 1 });
    await closed;
    assert.equal(ingest.stats.denied, denied + 1);
    for (const topic of [`weft/devices/${a.id}/other`, 'weft/anything', '$SYS/x']) {
      const again = await connect(a);
      const closedAgain = new Promise<void>((resolve) => again.once('close', () => resolve()));
      again.publish(topic, JSON.stringify({ no2: 99 }), { qos: 0 });
      await closedAgain;
    }
    await sleep(50);
    assert.deepEqual(await stored(t, b.id), []);
    assert.deepEqual(await stored(t, a.id), []);
  });

  test('a device may subscribe only under its own topic (for commands)', async () => {
    const a = await makeDevice(t);
    const b = await makeDevice(t);
    const c = await connect(a);
    // The SUBACK's return codes, whether or not mqtt.js counts the refusals as an error.
    const granted = (topics: string[]) => new Promise<number[]>((resolve) => c.subscribe(topics, { qos: 1 }, (_err, _list, packet) => resolve((packet as { granted: number[] }).granted)));
    assert.deepEqual(await granted([`weft/devices/${a.id}/#`, `weft/devices/${a.id}/commands`]), [1, 1]);
    // 128 (0x80) is a refused subscription.
    assert.deepEqual(await granted([`weft/devices/${b.id}/#`, 'weft/devices/+/telemetry', '#', `$share/g/weft/devices/${a.id}/#`]), [128, 128, 128, 128]);
    assert.equal(c.connected, true);
  });

  test('a malformed payload is acknowledged, counted and logged; the connection and the broker carry on', async () => {
    const d = await makeDevice(t);
    const c = await connect(d);
    const malformed = ingest.stats.malformed;
    await c.publishAsync(d.topic, 'not json at all', { qos: 1 });
    await c.publishAsync(d.topic, JSON.stringify({ no2: 'lots' }), { qos: 1 });
    await c.publishAsync(d.topic, Buffer.from([0xff, 0x00, 0x13]), { qos: 0 });
    await c.publishAsync(d.topic, JSON.stringify({ no2: 7, at: Date.now() - 1000 }), { qos: 1 });
    assert.equal(ingest.stats.malformed - malformed, 3);
    assert.equal(c.connected, true);
    assert.deepEqual(
      (await stored(t, d.id)).map((r) => r.value),
      [7],
    );
  });

  test('out-of-range values are quarantined, not stored; a battery level reaches the device', async () => {
    const d = await makeDevice(t, 'parking-bay');
    const c = await connect(d);
    const quarantined = ingest.stats.quarantined;
    // parking-bay decodes bytes: occupied (bit 0 of byte 0) and battery (byte 1); 250 % is out of range.
    await c.publishAsync(d.topic, Buffer.from([0x01, 250]), { qos: 1 });
    await c.publishAsync(d.topic, Buffer.from([0x00, 64]), { qos: 1 });
    assert.equal(ingest.stats.quarantined - quarantined, 1);
    const occupied = await stored(t, d.id, 'occupied');
    assert.equal(occupied.length, 2);
    await t.services.estate.flush();
    const device = await waitFor(async () => {
      const dev = await t.services.estate.getDevice(d.id);
      return dev.batteryPercent === 64 && dev;
    }, 'the battery level to be recorded');
    assert.ok(device.lastSeenAt);
  });

  test('an event may be published by name on the events topic', async () => {
    const d = await makeDevice(t, 'fall-detector');
    const c = await connect(d);
    await c.publishAsync(`weft/devices/${d.id}/events`, 'fall', { qos: 1 });
    await c.publishAsync(`weft/devices/${d.id}/events`, JSON.stringify({ event: 'fall' }), { qos: 1 });
    const falls = await stored(t, d.id, 'fall');
    assert.ok(falls.length >= 1 && falls.every((r) => r.value === 1));
  });

  test('mosquitto_pub works as a device; with a wrong password it is refused', async () => {
    const d = await makeDevice(t);
    const port = String(broker.port);
    const at = new Date(Date.now() - 2000).toISOString();
    const ok = await mosquittoPub(['-h', '127.0.0.1', '-p', port, '-u', d.id, '-P', d.password, '-q', '1', '-t', d.topic, '-m', JSON.stringify({ no2: 23.5, at })]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(
      (await stored(t, d.id)).map((r) => r.value),
      [23.5],
    );
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ no2: i, at: Date.now() - 100_000 + i })).join('\n');
    const many = await mosquittoPub(['-h', '127.0.0.1', '-p', port, '-u', d.id, '-P', d.password, '-q', '1', '-t', d.topic, '-l'], `${lines}\n`);
    assert.equal(many.status, 0, many.stderr);
    await waitFor(async () => (await stored(t, d.id)).length === 51, '51 readings');
    const bad = await mosquittoPub(['-h', '127.0.0.1', '-p', port, '-u', d.id, '-P', 'wrong', '-q', '1', '-t', d.topic, '-m', '{"no2":1}']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /bad user name or password|not authori[sz]ed/i);
  });

  test('when a batch cannot be written, the QoS 1 message is not acknowledged: the device sends it again', async () => {
    const own = new EmbeddedBroker();
    let failures = 1;
    // The database "goes away" for one batch: telemetry.ingest throws a plain error once.
    const flaky = {
      ingest: async (...args: Parameters<typeof t.services.telemetry.ingest>) => {
        if (failures-- > 0) throw new Error('connection to the database lost');
        return t.services.telemetry.ingest(...args);
      },
    };
    const ownIngest = embeddedIngest({ estate: t.services.estate, telemetry: flaky, log: quiet });
    own.setHooks(ownIngest.hooks);
    await own.start(0);
    try {
      const d = await makeDevice(t);
      const c = await mqtt.connectAsync(own.url, { username: d.id, password: d.password, reconnectPeriod: 100, clean: false, clientId: `dev-${d.id.slice(0, 8)}` });
      let closes = 0;
      c.on('close', () => closes++);
      await c.publishAsync(d.topic, JSON.stringify({ no2: 12, at: Date.now() - 1000 }), { qos: 1 });
      assert.equal(ownIngest.stats.failedBatches, 1);
      assert.ok(closes >= 1, 'the device was disconnected instead of acknowledged');
      assert.deepEqual(
        (await stored(t, d.id)).map((r) => r.value),
        [12],
      );
      c.end(true);
    } finally {
      await own.stop();
    }
  });

  test('stopping the broker writes what it holds first', async () => {
    const own = new EmbeddedBroker();
    const ownIngest = embeddedIngest({ estate: t.services.estate, telemetry: t.services.telemetry, log: quiet, batch: { maxDelayMs: 1000 } });
    own.setHooks(ownIngest.hooks);
    await own.start(0);
    const d = await makeDevice(t);
    const c = await mqtt.connectAsync(own.url, { username: d.id, password: d.password, reconnectPeriod: 0 });
    const at = Date.now() - 30_000;
    for (let i = 0; i < 100; i++) c.publish(d.topic, JSON.stringify({ no2: i, at: at + i }), { qos: 0 });
    await waitFor(async () => ownIngest.stats.messages === 100, 'the broker to receive 100 messages');
    assert.equal((await stored(t, d.id)).length, 0, 'held for up to a second by the batcher');
    await own.stop();
    assert.equal((await stored(t, d.id)).length, 100);
    c.end(true);
  });
});

forEachDialect('MQTT ingest from an external broker (Mosquitto on 127.0.0.1:1883)', (dialect) => {
  let t: TestApp;
  const group = `weft-test-${randomBytes(4).toString('hex')}`;
  const subscribers: ExternalSubscriber[] = [];
  const sessions = new Set<string>();

  before(async () => {
    t = await testApp(dialect);
  });
  after(async () => {
    for (const s of subscribers) await s.stop().catch(() => {});
    // Leave no persistent sessions behind in the shared Mosquitto.
    for (const clientId of sessions) {
      const c = await mqtt.connectAsync(MOSQUITTO, { clientId, protocolVersion: 5, clean: true, properties: { sessionExpiryInterval: 0 }, reconnectPeriod: 0 }).catch(() => undefined);
      await c?.endAsync();
    }
  });

  async function subscriber(name: string): Promise<ExternalSubscriber> {
    const s = new ExternalSubscriber({ url: MOSQUITTO, clientId: `${group}-${name}`, group, estate: t.services.estate, telemetry: t.services.telemetry, log: quiet });
    sessions.add(s.clientId);
    subscribers.push(s);
    await s.start();
    return s;
  }

  test('a reading published with mosquitto_pub is stored with its own time', async () => {
    const s = await subscriber('a');
    const d = await makeDevice(t);
    const at = new Date(Date.now() - 3000).toISOString();
    const r = await mosquittoPub(['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-t', d.topic, '-m', JSON.stringify({ no2: 17, pm2_5: 4, at })]);
    assert.equal(r.status, 0, r.stderr);
    const rows = await waitFor(async () => {
      const rows = await stored(t, d.id);
      return rows.length === 1 && rows;
    }, 'the reading');
    assert.equal(rows[0].value, 17);
    assert.equal(rows[0].at.toISOString(), at);
    assert.equal(s.stats.accepted >= 2, true);
  });

  test('two subscribers in one shared group split the messages, and every one is stored once', async () => {
    const a = subscribers[0] ?? (await subscriber('a'));
    const b = await subscriber('b');
    const devices = [await makeDevice(t), await makeDevice(t), await makeDevice(t), await makeDevice(t)];
    const before = a.stats.messages + b.stats.messages;
    const base = Date.now() - 200_000;
    // mosquitto_pub -l sends one message per line of its input.
    for (const d of devices) {
      const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ no2: i, at: base + i })).join('\n');
      const r = await mosquittoPub(['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-t', d.topic, '-l'], `${lines}\n`);
      assert.equal(r.status, 0, r.stderr);
    }
    await waitFor(async () => a.stats.messages + b.stats.messages - before >= 200, 'both subscribers to receive 200 messages');
    assert.ok(a.stats.messages > 0 && b.stats.messages > 0, `both take a share (${a.stats.messages}, ${b.stats.messages})`);
    assert.equal(a.stats.messages + b.stats.messages - before, 200);
    for (const d of devices) await waitFor(async () => (await stored(t, d.id)).length === 50, 'every reading of each device');
  });

  test('mqtt.js devices publish too; unknown devices and bad payloads are counted and acknowledged', async () => {
    const s = subscribers[0];
    const d = await makeDevice(t);
    const pub = await mqtt.connectAsync(MOSQUITTO, { reconnectPeriod: 0 });
    const unknown = subscribers.reduce((n, x) => n + x.stats.unknownDevices, 0);
    const malformed = subscribers.reduce((n, x) => n + x.stats.malformed, 0);
    await pub.publishAsync(`weft/devices/01900000-0000-7000-8000-${randomBytes(6).toString('hex')}/telemetry`, '{"no2": 1}', { qos: 1 });
    await pub.publishAsync(d.topic, '{not json', { qos: 1 });
    await pub.publishAsync(d.topic, JSON.stringify({ no2: 5, at: Date.now() - 500 }), { qos: 1 });
    await waitFor(async () => (await stored(t, d.id)).length === 1, 'the good reading');
    await waitFor(async () => subscribers.reduce((n, x) => n + x.stats.unknownDevices, 0) === unknown + 1, 'the unknown device to be counted');
    await waitFor(async () => subscribers.reduce((n, x) => n + x.stats.malformed, 0) === malformed + 1, 'the bad payload to be counted');
    await pub.endAsync();
    assert.ok(s);
  });

  test('messages published while Weft is down wait in the broker and are stored when it is back', async () => {
    // Stop every subscriber of the group: their sessions (and subscriptions) stay in Mosquitto.
    const names = subscribers.map((s) => s.clientId.slice(group.length + 1));
    for (const s of subscribers.splice(0)) await s.stop();
    const d = await makeDevice(t);
    const base = Date.now() - 50_000;
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ no2: i, at: base + i })).join('\n');
    const r = await mosquittoPub(['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-t', d.topic, '-l'], `${lines}\n`);
    assert.equal(r.status, 0, r.stderr);
    await sleep(200);
    assert.equal((await stored(t, d.id)).length, 0);
    for (const name of names) await subscriber(name);
    await waitFor(async () => (await stored(t, d.id)).length === 30, 'the 30 readings queued while Weft was down');
  });

  test('when a batch cannot be written, nothing is acknowledged and Mosquitto delivers the message again', async () => {
    let failures = 1;
    const flaky = {
      ingest: async (...args: Parameters<typeof t.services.telemetry.ingest>) => {
        if (failures-- > 0) throw new Error('connection to the database lost');
        return t.services.telemetry.ingest(...args);
      },
    };
    // Alone in its group and on the broker: any other subscriber would store the reading too.
    for (const other of subscribers.splice(0)) await other.stop();
    const s = new ExternalSubscriber({ url: MOSQUITTO, clientId: `${group}-flaky`, group: `${group}-flaky`, estate: t.services.estate, telemetry: flaky, log: quiet });
    sessions.add(s.clientId);
    subscribers.push(s);
    await s.start();
    const d = await makeDevice(t);
    const r = await mosquittoPub(['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-t', d.topic, '-m', JSON.stringify({ no2: 66, at: Date.now() - 1000 })]);
    assert.equal(r.status, 0, r.stderr);
    await waitFor(async () => (await stored(t, d.id)).length === 1, 'the reading, delivered again after the failed batch');
    assert.equal(s.stats.failedBatches, 1);
    assert.ok(s.stats.messages >= 2, 'the message came twice');
  });
});

forEachDialect('the ingest role starts MQTT ingest (server.ts)', (dialect) => {
  async function config(env: Record<string, string>) {
    const { url, dataDir } = await freshDatabase(dialect);
    return loadConfig({ WEFT_DATABASE_URL: url, WEFT_DATA_DIR: dataDir, WEFT_SECRET: TEST_SECRET, WEFT_LOG_LEVEL: 'silent', WEFT_ROLES: 'ingest', ...env }, { file: '/nonexistent' });
  }

  test('with the embedded broker, devices sign in and their readings are stored', async () => {
    const running = await start(await config({ WEFT_MQTT_PORT: '0' }));
    try {
      assert.ok(running.broker && running.mqttUrl && !running.app);
      const { device, credentials } = await running.services.estate.createDevice(systemActor('test'), { name: 'Role test', serial: `ROLE-${randomBytes(3).toString('hex')}`, profile: 'air-quality' });
      const c = await mqtt.connectAsync(running.mqttUrl, { username: device.id, password: credentials.mqttPassword, reconnectPeriod: 0 });
      await c.publishAsync(`weft/devices/${device.id}/telemetry`, JSON.stringify({ no2: 31, at: Date.now() - 1000 }), { qos: 1 });
      c.publish(`weft/devices/${device.id}/telemetry`, JSON.stringify({ no2: 32, at: Date.now() - 500 }), { qos: 0 });
      await waitFor(async () => running.broker?.port && (await running.services.telemetry.latest([device.id], ['no2']))[0]?.value === 32, 'the QoS 0 reading');
      c.end(true);
    } finally {
      await running.stop();
    }
  });

  test('with WEFT_MQTT_URL, it subscribes to Mosquitto with a shared subscription instead', async () => {
    const clientId = `weft-test-role-${randomBytes(4).toString('hex')}`;
    const running = await start(await config({ WEFT_MQTT_URL: MOSQUITTO, WEFT_MQTT_CLIENT_ID: clientId }));
    try {
      assert.ok(running.subscriber && !running.broker);
      assert.equal(running.subscriber.clientId, clientId);
      const { device } = await running.services.estate.createDevice(systemActor('test'), { name: 'Role test', serial: `ROLE-${randomBytes(3).toString('hex')}`, profile: 'air-quality' });
      const r = await mosquittoPub(['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-t', `weft/devices/${device.id}/telemetry`, '-m', JSON.stringify({ no2: 44, at: Date.now() - 1000 })]);
      assert.equal(r.status, 0, r.stderr);
      await waitFor(async () => (await running.services.telemetry.latest([device.id], ['no2']))[0]?.value === 44, 'the reading from Mosquitto');
    } finally {
      await running.stop();
      const c = await mqtt.connectAsync(MOSQUITTO, { clientId, protocolVersion: 5, clean: true, properties: { sessionExpiryInterval: 0 }, reconnectPeriod: 0 });
      await c.endAsync();
    }
  });

  test('an unreachable external broker stops start-up with a clear message', async () => {
    await assert.rejects(start(await config({ WEFT_MQTT_URL: 'mqtt://127.0.0.1:1' })), /Cannot subscribe to the MQTT broker at WEFT_MQTT_URL: .*ECONNREFUSED/);
  });
});
