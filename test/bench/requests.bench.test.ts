import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../bench/requests.js';

test('the requests benchmark runs on SQLite and reports Open311 GET requests beside the raw-SQL baseline', async () => {
  const r = JSON.parse(JSON.stringify(await main({ dialect: 'sqlite', rows: 20_000, requests: 50, concurrency: 2 })));
  assert.equal(r.bench, 'requests');
  assert.equal(r.rows, 20_000);
  for (const m of [r.open311Json, r.open311Xml]) {
    assert.equal(m.requests, 50);
    assert.ok(m.p99Ms >= m.p50Ms && m.p50Ms > 0);
    assert.ok(m.avgKB > 1, 'each answer carries requests');
  }
  assert.ok(r.baseline.p99Ms >= r.baseline.p50Ms);
  assert.ok(r.baseline.avgRows > 0, 'the windows find requests');
  assert.equal(r.targets.p99Ms, 100);
});
