import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../bench/rules.js';

test('the rules benchmark runs on SQLite and reports ingest with and without rules, and reading-to-alarm latency', async () => {
  const r = JSON.parse(JSON.stringify(await main({ dialect: 'sqlite', devices: 20, rules: 40, rate: 1000, seconds: 2, probes: 10, readings: 20_000 })));
  assert.equal(r.bench, 'rules');
  assert.equal(r.rules, 40);
  assert.ok(r.throughput.without.perSecond > 0 && r.throughput.withRules.perSecond > 0);
  assert.equal(r.throughput.withRules.readings, 20_000);
  assert.ok(r.latency.runs >= 1 && r.latency.p99Ms >= r.latency.p50Ms);
  assert.ok(r.latency.backgroundPerSecond > 0);
  assert.equal(r.targets.latencyP99Ms, 50);
});
