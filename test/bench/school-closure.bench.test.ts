import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../bench/school-closure.js';

test('the school closure benchmark runs on SQLite and reports the closure beside its baseline', async () => {
  const r = JSON.parse(JSON.stringify(await main({ dialect: 'sqlite', residents: 300, schools: 3 })));
  assert.equal(r.bench, 'school-closure');
  assert.deepEqual([r.closure.residents, r.closure.schools, r.closure.stored], [300, 3, 300], 'every subscriber’s notification is stored');
  for (const rate of [r.closure, r.baseline]) assert.ok(Number.isFinite(rate.perSecond) && rate.perSecond > 0);
});
