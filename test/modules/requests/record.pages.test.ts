/**
 * Staff recording a request on someone's behalf in the console: the category first (its
 * questions depend on it), then the problem, where, and who reported it (a resident found by
 * their email or mobile, or details typed); errors first, source 'staff', audited.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { type Catalogue, catalogue, IN_MEADOW, pothole, system } from './fixtures.js';

const errorLinks = (html: string) => [...(/govuk-error-summary__list"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '').matchAll(/<a href="#([^"]+)">/g)].map((m) => m[1]);

forEachDialect('requests console: recording a request for someone', (dialect) => {
  let t: TestApp;
  let c: Catalogue;
  let service: Browser;
  let viewer: Browser;
  const as = (b: Browser) => ({ cookie: b.cookie });
  const post = (b: Browser, form: Record<string, string>) => t.app.inject({ method: 'POST', url: '/console/requests/new', headers: as(b), payload: { ...form, _csrf: b.csrf } });
  const count = async () =>
    Number(
      (
        await t.services.db.k
          .selectFrom('requests')
          .select((e) => e.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  before(async () => {
    t = await testApp(dialect);
    c = await catalogue(t);
    [service, viewer] = await Promise.all([t.signInAs(['service']), t.signInAs(['viewer'])]);
  });

  test('staff who manage requests get the form from the queue; viewers do not', async () => {
    const queue = await t.app.inject({ url: '/console/requests', headers: as(service) });
    assert.match(queue.body, /href="\/console\/requests\/new"[^>]*>\s*Record a request/);
    const viewerQueue = await t.app.inject({ url: '/console/requests', headers: as(viewer) });
    assert.ok(!viewerQueue.body.includes('/console/requests/new'));
    assert.equal((await t.app.inject({ url: '/console/requests/new', headers: as(viewer) })).statusCode, 403);
    assert.equal((await post(viewer, { category: 'potholes', description: 'x', address: 'y' })).statusCode, 403);

    const first = await t.app.inject({ url: '/console/requests/new', headers: as(service) });
    assert.equal(first.statusCode, 200);
    assert.match(first.body, /<option value="potholes">Roads: Potholes<\/option>/);
    assert.ok(!first.body.includes('name="description"'), 'the category comes first');
    const unknown = await t.app.inject({ url: '/console/requests/new?category=nonsense', headers: as(service) });
    assert.equal(unknown.statusCode, 400);
    assert.deepEqual(errorLinks(unknown.body), ['category']);
    const form = await t.app.inject({ url: '/console/requests/new?category=potholes', headers: as(service) });
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /name="attr-depth" type="radio" value="deep"/);
    assert.match(form.body, new RegExp(`<option value="${c.meadow}">Meadow Ward</option>`));
  });

  test('what is missing or wrong is listed first and nothing is written', async () => {
    const before = await count();
    const empty = await post(service, { category: 'potholes' });
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(errorLinks(empty.body), ['description', 'address', 'attr-depth']);
    const wrong = await post(service, { category: 'potholes', description: 'A hole', latitude: '51.7', 'attr-depth': 'deep', contact: 'not a contact', reporterEmail: 'nope' });
    assert.deepEqual(errorLinks(wrong.body), ['longitude', 'contact', 'reporterEmail']);
    assert.match(wrong.body, /value="not a contact"/, 'what was typed is kept');
    const nobody = await post(service, { category: 'potholes', description: 'A hole', address: 'Mill Lane', 'attr-depth': 'deep', contact: 'nobody@example.com' });
    assert.deepEqual(errorLinks(nobody.body), ['contact']);
    assert.match(nobody.body, /No resident has this email address or mobile number/);
    const badArea = await post(service, { category: 'potholes', description: 'A hole', address: 'Mill Lane', 'attr-depth': 'deep', areaId: '01900000-0000-7000-8000-000000000000' });
    assert.deepEqual(errorLinks(badArea.body), ['areaId']);
    const noCsrf = await t.app.inject({
      method: 'POST',
      url: '/console/requests/new',
      headers: as(service),
      payload: { category: 'potholes', description: 'A hole', address: 'Mill Lane', 'attr-depth': 'deep' },
    });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal(await count(), before);
    await assert.rejects(
      t.services.requests.submit(system, { ...pothole(), lat: undefined, lon: undefined, address: 'Mill Lane' }, { source: 'staff', areaId: '01900000-0000-7000-8000-000000000000' }),
      {
        code: 'REQUEST_AREA_NOT_FOUND',
      },
    );
  });

  test('a request for a resident found by their mobile: theirs (their name and language), from staff, audited, and on their reports in the portal', async () => {
    const resident = await t.services.residents.create(system, { name: 'Rhian Caller', mobile: '07700 900 123', language: 'cy' });
    const res = await post(service, {
      category: 'potholes',
      description: 'Phoned about a hole',
      latitude: String(IN_MEADOW.lat),
      longitude: String(IN_MEADOW.lon),
      'attr-depth': 'deep',
      contact: '07700900123',
    });
    assert.equal(res.statusCode, 303, res.body.slice(0, 800));
    const id = String(res.headers.location).match(/\/console\/requests\/([0-9a-f-]{36})\?saved=recorded$/)?.[1] as string;
    assert.ok(id, String(res.headers.location));
    const row = await t.services.db.k.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(
      [row.source, row.reporter_resident_id, row.reporter_name, row.language, row.submitted_by, row.area_id, row.team_id],
      ['staff', resident.id, 'Rhian Caller', 'cy', service.userId, c.meadow, c.contractor.id],
    );
    const audit = await t.services.audit.search({ action: 'requests.create', targetId: id, limit: 5 });
    assert.deepEqual(
      audit.map((e) => [e.actor_type, e.actor_id]),
      [['user', service.userId]],
    );
    const page = await t.app.inject({ url: String(res.headers.location), headers: as(service) });
    assert.match(page.body, /Request recorded\./);
    assert.match(page.body, /Rhian Caller/);
    assert.ok(
      (await t.services.requests.listForResident(resident.id)).some((r) => r.id === id),
      'it is on their reports in the portal',
    );
  });

  test('a request for someone with no account, routed by the area chosen when there is no point', async () => {
    const res = await post(service, {
      category: 'fly-tipping',
      description: 'Mattress in the lane',
      address: 'Back lane behind the shops',
      postcode: 'ox1 1aa',
      areaId: c.meadow,
      reporterName: 'Sam Walker',
      reporterEmail: 'Sam@Example.com',
      reporterPhone: '01632 960 001',
      language: 'cy',
    });
    assert.equal(res.statusCode, 303, res.body.slice(0, 800));
    const id = String(res.headers.location).split('/').at(-1)?.split('?')[0] as string;
    const row = await t.services.db.k.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(
      [row.lat, row.area_id, row.team_id, row.address, row.postcode, row.reporter_resident_id, row.reporter_name, row.reporter_email, row.reporter_phone, row.language],
      [null, c.meadow, c.cleansing.id, 'Back lane behind the shops', 'OX1 1AA', null, 'Sam Walker', 'sam@example.com', '01632 960 001', 'cy'],
    );
  });
});
