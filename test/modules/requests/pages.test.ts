import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { type Catalogue, catalogue, IN_CASTLE, pothole, system } from './fixtures.js';

forEachDialect('requests console pages', (dialect) => {
  let t: TestApp;
  let c: Catalogue;
  let service: Browser;
  let viewer: Browser;
  let admin: Browser;
  const as = (b: Browser) => ({ cookie: b.cookie });
  const post = (b: Browser, url: string, form: Record<string, string>) => t.app.inject({ method: 'POST', url, headers: as(b), payload: { ...form, _csrf: b.csrf } });

  before(async () => {
    t = await testApp(dialect);
    c = await catalogue(t);
    [service, viewer, admin] = await Promise.all([t.signInAs(['service']), t.signInAs(['viewer']), t.signInAs(['admin'])]);
  });

  test('the queue filters, pages and marks overdue requests; viewers see no reporter and no forms', async () => {
    const r = t.services.requests;
    const late = await r.submit(system, pothole(IN_CASTLE, { reporterEmail: 'late@example.com' }), { source: 'staff' });
    await t.services.db.k
      .updateTable('requests')
      .set({ due_at: new Date(Date.now() - 3_600_000) })
      .where('id', '=', late.id)
      .execute();
    const fresh = await r.submit(system, { category: 'fly-tipping', description: 'Bags', ...IN_CASTLE }, { source: 'staff' });

    const queue = await t.app.inject({ url: '/console/requests', headers: as(viewer) });
    assert.equal(queue.statusCode, 200);
    assert.ok(!/ style="/.test(queue.body), 'no inline style');
    assert.match(queue.body, new RegExp(late.reference));
    assert.match(queue.body, /weft-row--overdue/);
    assert.match(queue.body, /Overdue/);
    assert.match(queue.body, /id="requests-map"/);
    assert.match(queue.body, /data-requests-url="\/api\/v1\/requests.geojson\?status=open_all/);
    const overdue = await t.app.inject({ url: '/console/requests?status=&overdue=true', headers: as(viewer) });
    assert.match(overdue.body, new RegExp(late.reference));
    assert.ok(!overdue.body.includes(fresh.reference), `only the overdue one: ${overdue.body.match(/<caption[^<]*</)?.[0]}`);
    const byTeam = await t.app.inject({ url: `/console/requests?team=${c.cleansing.id}`, headers: as(viewer) });
    assert.ok(byTeam.body.includes(fresh.reference), `by team: ${byTeam.body.match(/<caption[^<]*</)?.[0]}`);
    assert.ok(!byTeam.body.includes(late.reference), 'the other team’s request is not listed');
    const bad = await t.app.inject({ url: '/console/requests?team=nonsense', headers: as(viewer) });
    assert.match(bad.body, /Some of the filters were not valid/);

    const page = await t.app.inject({ url: `/console/requests/${late.id}`, headers: as(viewer) });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /This request was due/);
    assert.ok(!page.body.includes('late@example.com'), 'a viewer sees no reporter');
    assert.ok(!page.body.includes('Save update'), 'nor the forms');
    assert.equal((await post(viewer, `/console/requests/${late.id}/update`, { status: 'acknowledged', message: 'x', visibility: 'public' })).statusCode, 403);
    assert.equal((await t.app.inject({ url: '/console/requests/categories', headers: as(service) })).statusCode, 403);
    const staffPage = await t.app.inject({ url: `/console/requests/${late.id}`, headers: as(service) });
    assert.match(staffPage.body, /late@example.com/);
  });

  test('the update and merge forms: CSRF, error summaries, then the change and its history', async () => {
    const r = t.services.requests;
    const row = await r.submit(system, pothole(), { source: 'staff' });
    const noCsrf = await t.app.inject({ method: 'POST', url: `/console/requests/${row.id}/update`, headers: as(service), payload: { status: 'acknowledged', message: 'x' } });
    assert.equal(noCsrf.statusCode, 403);

    const empty = await post(service, `/console/requests/${row.id}/update`, { status: '', message: '', visibility: 'public' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /govuk-error-summary/);
    assert.match(empty.body, /href="#message"/);

    const ok = await post(service, `/console/requests/${row.id}/update`, { status: 'in_progress', message: 'Crew on the way', visibility: 'public' });
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 300));
    const note = await post(service, `/console/requests/${row.id}/update`, { status: '', message: 'Needs a road closure', visibility: 'internal' });
    assert.equal(note.statusCode, 303);
    const page = await t.app.inject({ url: String(note.headers.location), headers: as(service) });
    assert.match(page.body, /Update saved/);
    assert.match(page.body, /Crew on the way/);
    assert.match(page.body, /Internal note/);
    assert.match(page.body, /Needs a road closure/);
    assert.ok(!page.body.includes('value="acknowledged"'), 'only the moves allowed from in progress are offered');

    const badMerge = await post(service, `/console/requests/${row.id}/merge`, { into: 'ZZZZZZZZ' });
    assert.equal(badMerge.statusCode, 400);
    assert.match(badMerge.body, /href="#into"/);
    const original = await r.submit(system, pothole(), { source: 'staff' });
    const merged = await post(service, `/console/requests/${row.id}/merge`, { into: original.reference, mergeMessage: '' });
    assert.equal(merged.statusCode, 303);
    const after = await t.app.inject({ url: String(merged.headers.location), headers: as(service) });
    assert.match(after.body, /Merged as a duplicate/);
    assert.match(after.body, new RegExp(`href="/console/requests/${original.id}">${original.reference}`));
  });

  test('admins add teams and categories with routing through forms', async () => {
    const list = await t.app.inject({ url: '/console/requests/categories', headers: as(admin) });
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /Potholes/);
    const noName = await post(admin, '/console/requests/teams', { teamName: '', teamEmail: '' });
    assert.equal(noName.statusCode, 400);
    assert.match(noName.body, /href="#teamName"/);
    const taken = await post(admin, '/console/requests/teams', { teamName: 'Highways', teamEmail: '' });
    assert.match(taken.body, /already exists/);
    assert.equal((await post(admin, '/console/requests/teams', { teamName: 'Parks team', teamEmail: 'parks@council.example' })).statusCode, 303);

    const form = await t.app.inject({ url: '/console/requests/categories/new', headers: as(admin) });
    assert.match(form.body, new RegExp(`name="route-${c.castle}"`));
    const wrong = await post(admin, '/console/requests/categories/new', { code: 'Bad Code', name: '', group: '', targetHours: '0', attributes: '{oops' });
    assert.equal(wrong.statusCode, 400);
    for (const f of ['code', 'name', 'group', 'targetHours', 'attributes']) assert.match(wrong.body, new RegExp(`href="#${f}"`));
    const made = await post(admin, '/console/requests/categories/new', {
      code: 'streetlights',
      name: 'Street lights',
      group: 'Roads',
      targetHours: '72',
      defaultTeamId: c.highways.id,
      [`route-${c.meadow}`]: c.contractor.id,
      attributes: JSON.stringify([{ code: 'column', description: 'Number on the post', datatype: 'string', required: false }]),
      enabled: 'yes',
    });
    assert.equal(made.statusCode, 303, made.body.slice(0, 500));
    const saved = await t.services.requests.getCategory('streetlights');
    assert.deepEqual(saved.routes, [{ areaId: c.meadow, teamId: c.contractor.id }]);
    assert.equal(saved.attributes[0].code, 'column');
    const edit = await t.app.inject({ url: '/console/requests/categories/streetlights', headers: as(admin) });
    assert.match(edit.body, /Change Street lights/);
    const changed = await post(admin, '/console/requests/categories/streetlights', { name: 'Street lights', group: 'Roads', targetHours: '24', defaultTeamId: c.highways.id, enabled: 'no' });
    assert.equal(changed.statusCode, 303);
    const after = await t.services.requests.getCategory('streetlights');
    assert.equal(after.targetHours, 24);
    assert.equal(after.enabled, false);
    assert.deepEqual(after.routes, [], 'the routes are what the form says');
  });
});
