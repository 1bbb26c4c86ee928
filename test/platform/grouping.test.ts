/**
 * Group commit and grouped look-ups: callers who arrive together share one call; no more than
 * `parallel` calls run at once; a failing group is retried caller by caller, so one bad row
 * fails only its own caller.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupLookup, GroupWriter } from '../../src/platform/grouping.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 2));

test('rows handed in together are written in one call, and at most `parallel` calls run at once', async () => {
  const calls: number[][] = [];
  let running = 0;
  let most = 0;
  const writer = new GroupWriter<number>(async (rows) => {
    running++;
    most = Math.max(most, running);
    calls.push(rows);
    await tick();
    running--;
  }, 2);
  // Callers arrive in waves while earlier writes are in flight.
  const done: Promise<number[]>[] = [];
  for (let wave = 0; wave < 5; wave++) {
    for (let i = 0; i < 10; i++) done.push(writer.add([wave * 10 + i]));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(done);
  assert.equal(calls.flat().length, 50, 'every row written once');
  assert.deepEqual(
    calls.flat().sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.ok(calls.length < 50, `grouped: ${calls.length} calls for 50 rows`);
  assert.ok(most <= 2, `never more than two at once (saw ${most})`);
  assert.equal(most, 2, 'and two do run together under load');
});

test('one serial writer (SQLite) never overlaps its writes', async () => {
  let running = 0;
  let most = 0;
  const writer = new GroupWriter<number>(async () => {
    running++;
    most = Math.max(most, running);
    await tick();
    running--;
  });
  await Promise.all(Array.from({ length: 30 }, (_, i) => writer.add([i])));
  assert.equal(most, 1);
});

test('when a group fails, each caller is tried alone: only the bad row’s caller fails', async () => {
  const written: number[] = [];
  const writer = new GroupWriter<number>(async (rows) => {
    if (rows.includes(13)) throw new Error('bad row');
    written.push(...rows);
  });
  const results = await Promise.allSettled([1, 2, 13, 4].map((n) => writer.add([n])));
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
  assert.deepEqual(
    written.sort((a, b) => a - b),
    [1, 2, 4],
  );
});

test('a write may decline rows: each caller hears which of theirs were declined', async () => {
  const writer = new GroupWriter<number>(async (rows) => new Set(rows.filter((n) => n % 2)));
  const [a, b, c] = await Promise.all([writer.add([1, 2]), writer.add([4]), writer.add([3, 5, 6])]);
  assert.deepEqual([a, b, c], [[1], [], [3, 5]]);
});

test('look-ups made together share one query, each answered for its own key', async () => {
  const queries: string[][] = [];
  const lookup = new GroupLookup<string>(async (keys) => {
    queries.push(keys);
    await tick();
    return new Set(keys.filter((k) => k.startsWith('stop')));
  }, 3);
  const keys = ['a', 'stop-1', 'b', 'a', 'stop-2', 'c'];
  assert.deepEqual(await Promise.all(keys.map((k) => lookup.has(k))), [false, true, false, false, true, false]);
  assert.equal(queries.length, 1, 'one query for callers who arrived together');
  assert.deepEqual(queries[0].sort(), ['a', 'b', 'c', 'stop-1', 'stop-2'], 'each key asked once');
  const failing = new GroupLookup<string>(async () => {
    throw new Error('database away');
  });
  await assert.rejects(failing.has('x'), /database away/);
});
