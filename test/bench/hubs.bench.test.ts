import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../bench/hubs.js';

test('the hubs benchmark runs on SQLite: exactly the free desks are booked in the race, beside the baseline', async () => {
  const r = JSON.parse(JSON.stringify(await main({ dialect: 'sqlite', desks: 20, last: 3, attempts: 24, concurrency: 4 })));
  assert.equal(r.bench, 'hubs');
  assert.equal(r.booking.requests, 17);
  assert.deepEqual([r.race.attempts, r.race.succeeded, r.race.refused], [24, 3, 21], 'one booking a desk, the rest refused');
  assert.deepEqual(r.race.otherAnswers, {});
  for (const x of [r.booking, r.race, r.baseline.booking, r.baseline.race]) assert.ok(x.p99Ms >= x.p50Ms && x.p50Ms > 0);
});
