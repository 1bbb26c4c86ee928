import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadEstate } from '../../../demo/estate.js';
import { DEMO_REQUESTS, loadRequests } from '../../../demo/requests.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { system } from './fixtures.js';

forEachDialect('the demo county’s service requests', (dialect) => {
  let t: TestApp;
  let loaded: Awaited<ReturnType<typeof loadRequests>>;

  before(async () => {
    t = await testApp(dialect);
    await loadEstate(t.services.estate, system, 'wealdmoor');
    await t.services.residents.create(system, { name: 'Demo Resident', email: 'demo.resident@example.com' });
    loaded = await loadRequests(t.services, system, 'wealdmoor');
  });

  test('adds the usual categories and a few hundred requests in every state, across the wards, some overdue', async () => {
    const r = t.services.requests;
    assert.deepEqual((await r.listCategories()).map((c) => c.code).sort(), ['bins-missed', 'blocked-drains', 'dog-fouling', 'fly-tipping', 'graffiti', 'potholes', 'streetlights']);
    assert.equal(await r.count({}), DEMO_REQUESTS);
    const states = new Map((await r.countByStatus({})).map((s) => [s.status, Number(s.n)]));
    for (const s of ['open', 'acknowledged', 'in_progress', 'fixed', 'closed', 'not_ours', 'duplicate']) assert.ok((states.get(s) ?? 0) > 0, `some ${s}`);
    const overdue = await r.count({ overdue: true });
    assert.equal(overdue, loaded.overdue);
    assert.ok(overdue > 5 && overdue < 150, `${overdue} overdue`);
    const wards = new Set((await r.list({ limit: 500 })).map((x) => x.areaId));
    assert.ok(wards.size >= 15, `requests in ${wards.size} wards`);
    const potholes = await r.getCategory('potholes');
    assert.equal(potholes.routes.length, 5, 'the northern wards’ potholes go to the contractor');
    const [dup] = await r.list({ statuses: ['duplicate'], limit: 1 });
    assert.ok(dup.duplicateOf?.reference);
    const history = await r.detail(dup.id);
    assert.ok(history.updates.some((u) => u.status === 'duplicate' && u.public));
  });
});
