import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { type Catalogue, catalogue, IN_CASTLE, IN_MEADOW, pothole } from './fixtures.js';

const ROUTES: [method: 'GET' | 'POST' | 'PATCH', url: string, permission: string][] = [
  ['GET', '/api/v1/requests', 'requests:read'],
  ['GET', '/api/v1/requests.geojson', 'requests:read'],
  ['GET', '/api/v1/requests/01900000-0000-7000-8000-000000000000', 'requests:read'],
  ['POST', '/api/v1/requests', 'requests:manage'],
  ['POST', '/api/v1/requests/01900000-0000-7000-8000-000000000000/updates', 'requests:manage'],
  ['POST', '/api/v1/requests/01900000-0000-7000-8000-000000000000/merge', 'requests:manage'],
  ['GET', '/api/v1/request-categories', 'requests:read'],
  ['POST', '/api/v1/request-categories', 'requests:configure'],
  ['PATCH', '/api/v1/request-categories/potholes', 'requests:configure'],
  ['GET', '/api/v1/request-teams', 'requests:read'],
  ['POST', '/api/v1/request-teams', 'requests:configure'],
];

forEachDialect('requests staff API', (dialect) => {
  let t: TestApp;
  let c: Catalogue;
  let service: Browser;
  let viewer: Browser;
  let admin: Browser;
  const as = (b: Browser) => ({ cookie: b.cookie, 'x-csrf-token': b.csrf });

  before(async () => {
    t = await testApp(dialect);
    c = await catalogue(t);
    [service, viewer, admin] = await Promise.all([t.signInAs(['service']), t.signInAs(['viewer']), t.signInAs(['admin'])]);
  });

  test('every route answers 401 without credentials and 403 without its permission', async () => {
    const care = await t.signInAs(['care']);
    for (const [method, url, permission] of ROUTES) {
      const anonymous = await t.app.inject({ method, url, payload: method === 'GET' ? undefined : {} });
      assert.equal(anonymous.statusCode, 401, `${method} ${url}`);
      assert.equal(anonymous.json().code, 'AUTH_REQUIRED');
      const who = permission === 'requests:read' ? care : permission === 'requests:manage' ? viewer : service;
      const refused = await t.app.inject({ method, url, headers: as(who), payload: method === 'GET' ? undefined : {} });
      assert.equal(refused.statusCode, 403, `${method} ${url} without ${permission}`);
      assert.equal(refused.json().code, 'FORBIDDEN');
    }
  });

  test('staff record a request, move it on, note it and merge a duplicate; lists filter by team, status, area and overdue', async () => {
    const made = await t.app.inject({
      method: 'POST',
      url: '/api/v1/requests',
      headers: as(service),
      payload: { ...pothole(IN_MEADOW), reporterName: 'Phone Caller', reporterEmail: 'caller@example.com' },
    });
    assert.equal(made.statusCode, 201, made.body);
    const r = made.json();
    assert.equal(r.teamName, 'Meadow contractor');
    assert.equal(r.areaName, 'Meadow Ward');
    assert.equal(r.source, 'staff');
    assert.match(r.dueAt, /Z$/);

    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/requests', headers: as(service), payload: { ...pothole(), extra: 1 } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'VALIDATION_FAILED');

    const ack = await t.app.inject({ method: 'POST', url: `/api/v1/requests/${r.reference}/updates`, headers: as(service), payload: { status: 'acknowledged', message: 'Thanks', public: true } });
    assert.equal(ack.statusCode, 201, ack.body);
    const wrong = await t.app.inject({ method: 'POST', url: `/api/v1/requests/${r.id}/updates`, headers: as(service), payload: { status: 'open', message: '', public: true } });
    assert.equal(wrong.statusCode, 409);
    assert.equal(wrong.json().code, 'TRANSITION_INVALID');
    const note = await t.app.inject({ method: 'POST', url: `/api/v1/requests/${r.id}/updates`, headers: as(service), payload: { message: '', public: false } });
    assert.equal(note.json().code, 'MESSAGE_REQUIRED');

    const dup = (await t.app.inject({ method: 'POST', url: '/api/v1/requests', headers: as(service), payload: pothole(IN_MEADOW) })).json();
    const merged = await t.app.inject({ method: 'POST', url: `/api/v1/requests/${dup.id}/merge`, headers: as(service), payload: { into: r.reference } });
    assert.equal(merged.statusCode, 201, merged.body);
    const got = (await t.app.inject({ url: `/api/v1/requests/${dup.id}`, headers: as(service) })).json();
    assert.equal(got.status, 'duplicate');
    assert.equal(got.duplicateOf.reference, r.reference);
    assert.equal(got.updates.length, 1);
    const none = await t.app.inject({ url: '/api/v1/requests/01900000-0000-7000-8000-000000000000', headers: as(service) });
    assert.equal(none.statusCode, 404);
    assert.equal(none.json().code, 'REQUEST_NOT_FOUND');

    const list = (q: string) =>
      t.app.inject({ url: `/api/v1/requests?${q}`, headers: as(service) }).then((res) => res.json().items as { id: string; teamId: string; status: string; areaId: string }[]);
    assert.ok((await list(`team=${c.contractor.id}`)).every((x) => x.teamId === c.contractor.id));
    assert.ok((await list('status=open_all')).every((x) => ['open', 'acknowledged', 'in_progress'].includes(x.status)));
    assert.ok((await list('status=duplicate')).some((x) => x.id === dup.id));
    assert.ok((await list(`area=${c.castle}`)).every((x) => x.areaId === c.castle));
    assert.deepEqual(await list('overdue=true'), [], 'nothing is overdue yet');
    const paged = await t.app.inject({ url: '/api/v1/requests?limit=1', headers: as(service) });
    assert.ok(paged.json().next);
    const asViewer = await t.app.inject({ url: `/api/v1/requests/${r.id}`, headers: as(viewer) });
    assert.equal(asViewer.json().reporter.email, null, 'a viewer sees no reporter');
    assert.ok(!(await t.app.inject({ url: '/api/v1/requests', headers: as(viewer) })).body.includes('caller@example.com'));
    assert.equal((await t.app.inject({ url: `/api/v1/requests/${r.id}`, headers: as(service) })).json().reporter.email, 'caller@example.com');
    const geo = await t.app.inject({ url: '/api/v1/requests.geojson', headers: as(viewer) });
    assert.equal(geo.json().type, 'FeatureCollection');
    assert.ok(!geo.body.includes('caller@example.com'));
  });

  test('categories and teams are configured by admins; codes come back as problems', async () => {
    const team = await t.app.inject({ method: 'POST', url: '/api/v1/request-teams', headers: as(admin), payload: { name: 'Graffiti squad' } });
    assert.equal(team.statusCode, 201, team.body);
    const made = await t.app.inject({
      method: 'POST',
      url: '/api/v1/request-categories',
      headers: as(admin),
      payload: { code: 'graffiti', name: 'Graffiti', group: 'Street', targetHours: 72, defaultTeamId: team.json().id, routes: [{ areaId: c.castle, teamId: c.highways.id }] },
    });
    assert.equal(made.statusCode, 201, made.body);
    const taken = await t.app.inject({ method: 'POST', url: '/api/v1/request-categories', headers: as(admin), payload: { code: 'graffiti', name: 'G', group: 'S', targetHours: 1 } });
    assert.equal(taken.json().code, 'CATEGORY_CODE_TAKEN');
    const changed = await t.app.inject({ method: 'PATCH', url: '/api/v1/request-categories/graffiti', headers: as(admin), payload: { enabled: false } });
    assert.equal(changed.json().enabled, false);
    const missing = await t.app.inject({ method: 'PATCH', url: '/api/v1/request-categories/nope', headers: as(admin), payload: { enabled: false } });
    assert.equal(missing.json().code, 'CATEGORY_NOT_FOUND');
    const off = await t.app.inject({ method: 'POST', url: '/api/v1/requests', headers: as(service), payload: { category: 'graffiti', description: 'Tag', ...IN_CASTLE } });
    assert.equal(off.json().code, 'CATEGORY_DISABLED');
    const listed = (await t.app.inject({ url: '/api/v1/request-categories', headers: as(viewer) })).json().items;
    assert.ok(listed.some((x: { code: string }) => x.code === 'graffiti'));
  });
});
