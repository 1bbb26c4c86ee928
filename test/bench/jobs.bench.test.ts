import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../bench/jobs.js';

test('the jobs benchmark runs on SQLite and reports its figures with a baseline', async () => {
  const result = await main({ dialect: 'sqlite', jobs: 50 });
  // The figure a reader compares must survive a round trip through JSON, as the script prints it.
  const r = JSON.parse(JSON.stringify(result));
  assert.equal(r.bench, 'jobs');
  assert.equal(r.dialect, 'sqlite');
  assert.equal(r.jobs, 50);
  for (const rate of [r.enqueue, r.process, r.baseline.insert, r.baseline.selectUpdate]) {
    assert.equal(typeof rate.ms, 'number');
    assert.ok(rate.ms > 0);
    assert.ok(Number.isFinite(rate.perSecond) && rate.perSecond > 0);
  }
  assert.ok(r.ratio.enqueueVsInsert > 0);
  assert.ok(r.ratio.processVsSelectUpdate > 0);
});
