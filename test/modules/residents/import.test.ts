/**
 * Adding residents and subscriptions in bulk (an import, the demo county): all checked before any is
 * stored, one transaction and one audit row each; the residents come out as if added one by one.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { squareWards } from '../../geo-fixtures.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');

forEachDialect('residents added in bulk', (dialect) => {
  let t: TestApp;

  before(async () => {
    t = await testApp(dialect);
    await t.services.estate.importAreas(system, squareWards([{ name: 'Riverside', code: 'E05000100', box: [-2.5, 52.3, -2.4, 52.4] }]));
  });

  test('many residents and their subscriptions are added at once, with one audit row each', async () => {
    const people = Array.from({ length: 50 }, (_, i) => ({
      name: `Person ${i}`,
      mobile: `07700 900${String(100 + i)}`,
      language: (i % 3 ? 'en' : 'cy') as 'en' | 'cy',
      preferences: { '*': ['sms' as const] },
      location: { lat: 52.35, lon: -2.45 },
    }));
    const ids = await t.services.residents.importMany(system, people);
    assert.equal(ids.length, 50);
    const [first] = await t.services.residents.getMany([ids[0]]);
    assert.deepEqual([first.name, first.language, first.mobile], ['Person 0', 'cy', '447700900100']);
    assert.ok(first.areaId, 'the home is placed in its ward');
    const added = await t.services.residents.subscribeMany(
      system,
      ids.map((residentId) => ({ residentId, input: { topic: 'bin-collections', kind: 'home' as const } })),
    );
    assert.equal(added, 50);
    const riverside = (await t.services.estate.listAreas())[0].id;
    assert.equal(await t.services.residents.countAudience({ topic: 'bin-collections', areaIds: [riverside] }), 50);
    assert.equal((await t.services.audit.search({ action: 'residents.import', limit: 5 })).length, 1);
    assert.equal((await t.services.audit.search({ action: 'residents.subscribe_many', limit: 5 })).length, 1);
  });

  test('one bad resident or subscription stores none of them', async () => {
    const count = async () => (await t.services.db.k.selectFrom('residents').select('id').execute()).length;
    const before = await count();
    await assert.rejects(
      t.services.residents.importMany(system, [
        { name: 'Good', mobile: '07700 900201' },
        { name: 'Bad', mobile: 'not a number' },
      ]),
    );
    assert.equal(await count(), before);
    const [id] = await t.services.residents.importMany(system, [{ name: 'No home', email: 'nohome@example.com' }]);
    await assert.rejects(t.services.residents.subscribeMany(system, [{ residentId: id, input: { topic: 'bin-collections', kind: 'home' } }]), { code: 'SUBSCRIPTION_INVALID' });
  });
});
