/**
 * Live readings over Server-Sent Events, on a real listening server: a reading posted over
 * HTTP reaches the stream; homes' readings reach only those with homes:read; heartbeats
 * keep idle streams open; closing the app ends open streams.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { eventStreams as liveStreams } from '../../../src/platform/web/sse.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { bearer, realDevice } from './fixtures.js';

/** An open event stream: what has arrived so far, and a way to wait for more. */
function openStream(baseUrl: string, path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; type: string; text: () => string; until: (re: RegExp, ms?: number) => Promise<string>; ended: Promise<void>; close: () => void }>((resolve, reject) => {
    const req = http.get(`${baseUrl}${path}`, { headers }, (res) => {
      let buffer = '';
      const waiters: (() => void)[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffer += chunk;
        for (const w of waiters.splice(0)) w();
      });
      const ended = new Promise<void>((done) => res.on('close', () => done()));
      const until = (re: RegExp, ms = 5000) =>
        new Promise<string>((ok, fail) => {
          const timer = setTimeout(() => fail(new Error(`timed out waiting for ${re} in ${JSON.stringify(buffer)}`)), ms);
          const check = () => {
            const m = re.exec(buffer);
            if (m) {
              clearTimeout(timer);
              ok(m[0]);
            } else waiters.push(check);
          };
          check();
        });
      resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text: () => buffer, until, ended, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

forEachDialect('live telemetry stream', (dialect) => {
  let t: TestApp;
  let baseUrl: string;
  const heartbeat = liveStreams.heartbeatMs;

  before(async () => {
    liveStreams.heartbeatMs = 100;
    t = await testApp(dialect, { WEFT_KEY_RATE_LIMIT: '100000' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  after(() => {
    liveStreams.heartbeatMs = heartbeat;
  });

  const post = (token: string, payload: unknown) => fetch(`${baseUrl}/api/v1/telemetry`, { method: 'POST', headers: bearer(token), body: JSON.stringify(payload) });

  test('a reading posted over HTTP arrives on the streams that follow its device, site or metric', async () => {
    const reader = await t.key(['telemetry:read']);
    const a = await realDevice(t);
    const b = await realDevice(t);
    const auth = { authorization: `Bearer ${reader}` };
    const byDevice = await openStream(baseUrl, `/api/v1/telemetry/stream?deviceId=${a.device.id}`, auth);
    const bySite = await openStream(baseUrl, `/api/v1/telemetry/stream?siteId=${b.siteId}`, auth);
    const byMetric = await openStream(baseUrl, '/api/v1/telemetry/stream?metric=pm2_5', auth);
    assert.equal(byDevice.status, 200);
    assert.match(byDevice.type, /^text\/event-stream/);
    await byDevice.until(/retry: 5000/);

    const at = new Date(Date.now() - 60_000).toISOString();
    assert.equal(
      (
        await post(a.token, {
          readings: [
            { metric: 'no2', value: 41.5, at },
            { metric: 'pm2_5', value: 7, at },
          ],
        })
      ).status,
      200,
    );
    assert.equal((await post(b.token, { metric: 'no2', value: 12, at })).status, 200);

    const event = await byDevice.until(/event: readings\ndata: .*\n\n/);
    const data = JSON.parse(event.split('\n')[1].slice('data: '.length));
    assert.deepEqual(data, [
      { deviceId: a.device.id, metric: 'no2', value: 41.5, at },
      { deviceId: a.device.id, metric: 'pm2_5', value: 7, at },
    ]);
    await bySite.until(new RegExp(`"deviceId":"${b.device.id}","metric":"no2","value":12`));
    await byMetric.until(new RegExp(`"deviceId":"${a.device.id}","metric":"pm2_5"`));
    assert.doesNotMatch(byMetric.text(), /"metric":"no2"/);
    assert.doesNotMatch(bySite.text(), new RegExp(a.device.id));
    await byDevice.until(/: heartbeat\n\n/);
    for (const s of [byDevice, bySite, byMetric]) s.close();
  });

  test('residents’ homes: their readings reach only staff with homes:read', async () => {
    const home = await realDevice(t, { profile: 'telecare-hub', siteType: 'home' });
    const viewer = await t.signInAs(['viewer']);
    const care = await t.signInAs(['care']);
    const hidden = await fetch(`${baseUrl}/api/v1/telemetry/stream?deviceId=${home.device.id}`, { headers: { cookie: viewer.cookie } });
    assert.equal(hidden.status, 404);
    assert.equal((await hidden.json()).code, 'DEVICE_NOT_FOUND');
    const viewerAll = await openStream(baseUrl, '/api/v1/telemetry/stream?metric=heartbeat', { cookie: viewer.cookie });
    const careAll = await openStream(baseUrl, '/api/v1/telemetry/stream?metric=heartbeat', { cookie: care.cookie });
    const careOne = await openStream(baseUrl, `/api/v1/telemetry/stream?deviceId=${home.device.id}`, { cookie: care.cookie });
    await post(home.token, { metric: 'heartbeat', value: 1 });
    await careOne.until(/"metric":"heartbeat"/);
    await careAll.until(/"metric":"heartbeat"/);
    await viewerAll.until(/: heartbeat\n\n: heartbeat\n\n/);
    assert.doesNotMatch(viewerAll.text(), /event: readings/);
    for (const s of [viewerAll, careAll, careOne]) s.close();
  });

  test('a stream needs something to follow and the read permission; closing the app ends open streams', async () => {
    const reader = await t.key(['telemetry:read']);
    const nothing = await fetch(`${baseUrl}/api/v1/telemetry/stream`, { headers: { authorization: `Bearer ${reader}` } });
    assert.equal(nothing.status, 400);
    assert.equal((await nothing.json()).code, 'QUERY_INVALID');
    const ingester = await t.key(['telemetry:ingest']);
    const forbidden = await fetch(`${baseUrl}/api/v1/telemetry/stream?metric=no2`, { headers: { authorization: `Bearer ${ingester}` } });
    assert.equal(forbidden.status, 403);
    const open = await openStream(baseUrl, '/api/v1/telemetry/stream?metric=no2', { authorization: `Bearer ${reader}` });
    await open.until(/retry/);
    const closing = t.app.close();
    await open.ended;
    await closing;
  });
});
