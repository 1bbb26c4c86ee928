import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../bench/ingest-http.js';

test('the HTTP ingest benchmark runs on SQLite and reports its figures beside a baseline', async () => {
  const result = await main({ dialect: 'sqlite', readings: 20_000, devices: 2, latestDevices: 50, queryRuns: 5 });
  // The figures a reader compares must survive a round trip through JSON, as the script prints them.
  const r = JSON.parse(JSON.stringify(result));
  assert.equal(r.bench, 'ingest-http');
  assert.equal(r.dialect, 'sqlite');
  assert.equal(r.readings, 20_000);
  assert.equal(r.ingest.accepted, 20_000);
  assert.equal(r.ingest.requests, 2);
  for (const rate of [r.ingest, r.baseline]) {
    assert.ok(rate.ms > 0);
    assert.ok(Number.isFinite(rate.perSecond) && rate.perSecond > 0);
  }
  assert.ok(r.ratio > 0);
  assert.equal(r.latest.devices, 50);
  assert.equal(r.latest.values, 100);
  for (const l of [r.latest, r.range.service, r.range.http]) assert.ok(l.p50 > 0 && l.p99 >= l.p50);
  assert.ok(r.memory.peakRssMB > 0);
});
