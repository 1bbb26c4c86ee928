import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { EmbeddedBroker } from '../../../src/platform/mqtt/broker.js';

describe('the embedded broker', () => {
  let broker: EmbeddedBroker;
  before(async () => {
    broker = new EmbeddedBroker();
    await broker.start(0);
  });
  after(async () => {
    await broker.stop();
  });

  test('without hooks nobody but Weft’s own client gets in (CONNACK 5)', async () => {
    for (const creds of [{}, { username: 'someone', password: 'x' }, { username: broker.internalUser, password: 'wrong' }]) {
      await assert.rejects(mqtt.connectAsync(broker.url, { ...creds, reconnectPeriod: 0 }), (err: Error & { code?: number }) => err.code === 5);
    }
  });

  test('Weft’s own client may publish and subscribe anywhere', async () => {
    const c = await mqtt.connectAsync(broker.url, { username: broker.internalUser, password: broker.internalPassword, reconnectPeriod: 0 });
    await c.subscribeAsync('weft/#', { qos: 1 });
    const got = new Promise<string>((resolve) => c.once('message', (_topic, payload) => resolve(payload.toString())));
    await c.publishAsync('weft/devices/x/commands', 'reboot', { qos: 1 });
    assert.equal(await got, 'reboot');
    await c.endAsync();
  });

  test('hooks decide for devices; Weft’s own client still bypasses them', async () => {
    const own = new EmbeddedBroker();
    const seen: string[] = [];
    own.setHooks({
      authenticate: (_client, username, _password, done) => done(null, username === 'device-1'),
      authorizePublish: (_client, packet, callback) => {
        seen.push(packet.topic);
        callback(packet.topic === 'ok' ? null : new Error('no'));
      },
      authorizeSubscribe: (_client, sub, callback) => callback(null, sub.topic === 'mine' ? sub : null),
    });
    await own.start(0);
    try {
      const device = await mqtt.connectAsync(own.url, { username: 'device-1', password: 'p', reconnectPeriod: 0 });
      await device.publishAsync('ok', 'x', { qos: 1 });
      assert.deepEqual(seen, ['ok']);
      const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
      device.publish('not-ok', 'x', { qos: 0 });
      await closed;
      device.end(true);
      const internal = await mqtt.connectAsync(own.url, { username: own.internalUser, password: own.internalPassword, reconnectPeriod: 0 });
      await internal.publishAsync('anything/at/all', 'x', { qos: 1 });
      assert.deepEqual(seen, ['ok', 'not-ok']);
      await internal.endAsync();
    } finally {
      await own.stop();
    }
  });

  test('stop() lets the hooks drain before clients are disconnected, then frees the port', async () => {
    const own = new EmbeddedBroker();
    const order: string[] = [];
    own.setHooks({
      authenticate: (_c, _u, _p, done) => done(null, true),
      authorizePublish: (_c, _p, cb) => cb(null),
      authorizeSubscribe: (_c, s, cb) => cb(null, s),
      drain: async () => {
        order.push(`drain (client connected: ${client.connected})`);
      },
    });
    const port = await own.start(0);
    const client = await mqtt.connectAsync(own.url, { username: 'd', password: 'p', reconnectPeriod: 0 });
    client.on('close', () => order.push('client closed'));
    await own.stop();
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(order, ['drain (client connected: true)', 'client closed']);
    const again = new EmbeddedBroker();
    assert.equal(await again.start(port), port);
    await again.stop();
    client.end(true);
  });
});
