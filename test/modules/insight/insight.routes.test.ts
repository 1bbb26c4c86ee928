/**
 * POST /api/v1/insight/sentiment: per text its score, label, services and the estate's areas it
 * names, in order; only with insight:read; the batch bounded (1,000 texts of 5,000 characters).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { squareWards } from '../../geo-fixtures.js';
import { forEachDialect } from '../../helpers.js';

const URL = '/api/v1/insight/sentiment';

forEachDialect('insight sentiment API', (dialect) => {
  let t: TestApp;
  let reader: string;
  let outsider: string;
  const post = (payload: unknown, key: string | null = reader) => t.app.inject({ method: 'POST', url: URL, headers: key ? { authorization: `Bearer ${key}` } : {}, payload: payload as object });

  before(async () => {
    t = await testApp(dialect);
    reader = await t.key(['insight:read']);
    outsider = await t.key(['residents:read']);
    await t.services.estate.importAreas(
      systemActor('test'),
      squareWards([
        { name: 'Kingswood', code: 'E05000001', box: [-2.6, 51.4, -2.5, 51.5] },
        { name: 'North Town', code: 'E05000002', box: [-2.5, 51.4, -2.4, 51.5] },
      ]),
    );
  });

  test('scores each text in order, with its services and the areas it names', async () => {
    const res = await post({ texts: ['Bins missed AGAIN in Kingswood 😡', 'Thank you to the library staff in north town, brilliant as always', 'When is the tip open?'] });
    assert.equal(res.statusCode, 200, res.body);
    const [angry, happy, question] = res.json().results;
    assert.equal(angry.label, 'negative');
    assert.ok(angry.score < 0 && angry.score >= -1);
    assert.deepEqual(angry.services, ['bins']);
    assert.deepEqual(angry.places, ['Kingswood']);
    assert.equal(happy.label, 'positive');
    assert.deepEqual(happy.services, ['libraries']);
    assert.deepEqual(happy.places, ['North Town']);
    assert.deepEqual(question, { score: 0, label: 'neutral', services: ['bins'], places: [] });
  });

  test('nothing is stored or audited: scoring is a read', async () => {
    const before = (await t.services.audit.search({ limit: 100 })).length;
    assert.equal((await post({ texts: ['Great service'] })).statusCode, 200);
    assert.equal((await t.services.audit.search({ limit: 100 })).length, before);
  });

  test('401 without credentials, 403 without insight:read', async () => {
    const anonymous = await post({ texts: ['hello'] }, null);
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json().code, 'AUTH_REQUIRED');
    const forbidden = await post({ texts: ['hello'] }, outsider);
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.json().code, 'FORBIDDEN');
  });

  test('a body of the wrong shape is refused with the fields named', async () => {
    for (const body of [{}, { texts: 'one text' }, { texts: [1, 2] }, { texts: ['ok'], extra: true }]) {
      const res = await post(body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().code, 'VALIDATION_FAILED');
      assert.ok(res.json().errors.length > 0);
    }
  });

  test('the batch is bounded: at least one text, at most 1,000, each at most 5,000 characters', async () => {
    const none = await post({ texts: [] });
    assert.equal(none.statusCode, 400);
    assert.equal(none.json().code, 'INSIGHT_NO_TEXTS');
    const many = await post({ texts: Array.from({ length: 1001 }, (_, i) => `text ${i}`) });
    assert.equal(many.statusCode, 400);
    assert.equal(many.json().code, 'INSIGHT_TOO_MANY_TEXTS');
    const long = await post({ texts: ['fine', 'x'.repeat(5001), 'also fine', 'y'.repeat(6000)] });
    assert.equal(long.statusCode, 400);
    assert.equal(long.json().code, 'INSIGHT_TEXT_TOO_LONG');
    assert.deepEqual(
      long.json().errors.map((e: { field: string }) => e.field),
      ['texts/1', 'texts/3'],
    );
    const full = await post({ texts: Array.from({ length: 1000 }, (_, i) => (i === 999 ? `${'z'.repeat(4990)} brilliant` : `text ${i}`)) });
    assert.equal(full.statusCode, 200, 'exactly at the bounds is accepted');
    assert.equal(full.json().results.length, 1000);
    assert.equal(full.json().results[999].label, 'positive');
  });
});
