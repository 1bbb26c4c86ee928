import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../bench/sentiment.js';

test('the sentiment benchmark scores the evaluation set with Weft and both baselines, per split, and times them', async () => {
  const r = JSON.parse(JSON.stringify(await main({ seconds: 0.05 })));
  assert.equal(r.bench, 'sentiment');
  assert.ok(r.data.texts >= 1200, 'at least 1,200 labelled texts');
  assert.equal(r.data.test + r.data.tune, r.data.texts);
  for (const label of ['positive', 'neutral', 'negative']) assert.ok(Math.abs(r.data.labels[label] / r.data.texts - 1 / 3) < 0.05, `${label} is about a third`);
  for (const name of ['weft', 'vader', 'afinn']) {
    for (const split of ['test', 'tune']) {
      const q = r[name][split];
      assert.ok(q.accuracy > 0 && q.accuracy <= 1 && q.macroF1 > 0 && q.macroF1 <= 1, `${name} ${split}`);
      const total = Object.values(q.confusion as Record<string, Record<string, number>>).reduce((s, row) => s + Object.values(row).reduce((a, b) => a + b, 0), 0);
      assert.equal(total, q.n);
    }
    assert.ok(r[name].textsPerSecond > 0);
  }
  assert.ok(r.weft.test.macroF1 > r.vader.test.macroF1 && r.weft.test.macroF1 > r.afinn.test.macroF1, 'Weft beats both packages on the test split');
});
