import assert from 'node:assert/strict';
import { test } from 'node:test';
import { remember } from '../../src/platform/remember.js';

test('remember makes each answer once and forgets them all when full', () => {
  const asked: number[] = [];
  const double = remember((n: number) => {
    asked.push(n);
    return n * 2;
  }, 2);
  assert.deepEqual([double(1), double(1), double(2), double(2)], [2, 2, 4, 4]);
  assert.deepEqual(asked, [1, 2]);
  assert.equal(double(3), 6, 'a third key clears what was kept');
  assert.equal(double(1), 2);
  assert.deepEqual(asked, [1, 2, 3, 1]);
});

test('remember keeps an answer that is undefined', () => {
  let calls = 0;
  const nothing = remember((_: string) => {
    calls++;
    return undefined;
  });
  nothing('a');
  nothing('a');
  assert.equal(calls, 1);
});
