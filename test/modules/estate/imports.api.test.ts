/**
 * CSV imports in the background over the API: POST /api/v1/imports/{sites,devices} answers 202 with
 * the import's URL; GET /api/v1/imports/{id} shows its progress, its row errors when it failed and its
 * counts when done, to whoever started it; a devices import's credentials are handed over once.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { parseCsv } from '../../../src/platform/csv.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

function sitesCsv(n: number, prefix: string): string {
  const lines = ['type,name,address,postcode,lat,lon,technology,connectivity_status'];
  for (let i = 0; i < n; i++) lines.push(`library,${prefix} library ${i},"${i} Book Street, Wealdmoor",WM${1 + (i % 9)} ${i % 10}AB,${(51.5 + (i % 100) * 0.004).toFixed(5)},-1.4,fttc,live`);
  return `${lines.join('\n')}\n`;
}

function devicesCsv(n: number, prefix: string): string {
  const lines = ['name,serial,profile,lat,lon'];
  for (let i = 0; i < n; i++) lines.push(`Counter ${i},${prefix}-${i},people-counter,51.6,-1.4`);
  return `${lines.join('\n')}\n`;
}

interface Status {
  id: string;
  status: string;
  totalRows: number;
  checkedRows: number;
  writtenRows: number;
  errors: { row: number; field: string; message: string }[];
  credentialsAvailable: boolean;
  links: { self: string; credentials?: string };
}

forEachDialect('estate imports in the background, over the API', (dialect) => {
  let t: TestApp;
  let officer: Browser;
  let other: Browser;
  const as = (b: Browser) => ({ cookie: b.cookie, 'x-csrf-token': b.csrf });
  const start = (headers: Record<string, string>, kind: 'sites' | 'devices', csv: string) =>
    t.app.inject({ method: 'POST', url: `/api/v1/imports/${kind}`, headers: { ...headers, 'content-type': 'text/csv' }, payload: csv });
  const status = async (headers: Record<string, string>, url: string) => (await t.app.inject({ url, headers })).json() as Status;

  before(async () => {
    t = await testApp(dialect);
    [officer, other] = await Promise.all([t.signInAs(['officer']), t.signInAs(['officer'])]);
  });

  test('2,000 sites: 202 with Location, then progress while it is checked, then done with its count', async () => {
    const before = await t.services.estate.countSites({});
    const res = await start(as(officer), 'sites', sitesCsv(2000, 'P'));
    assert.equal(res.statusCode, 202, res.body);
    const body = res.json();
    assert.equal(body.status, 'queued');
    assert.equal(body.kind, 'sites');
    assert.equal(body.links.self, `/api/v1/imports/${body.id}`);
    assert.equal(res.headers.location, body.links.self);

    const queued = await t.app.inject({ url: body.links.self, headers: as(officer) });
    assert.equal(queued.statusCode, 200);
    assert.equal(queued.headers['retry-after'], '2');
    assert.equal(queued.json().status, 'queued');

    // Run the job while asking for its progress, as a client polling would.
    let finished = false;
    const running = t.services.jobs.runOnce().finally(() => {
      finished = true;
    });
    const seen: Status[] = [];
    const until = Date.now() + 60_000;
    while (!finished && Date.now() < until) {
      seen.push(await status(as(officer), body.links.self));
      // A client waits between polls: here, one turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await running;
    const partway = seen.filter((s) => s.status === 'checking' && s.totalRows === 2000 && s.checkedRows > 0 && s.checkedRows < 2000);
    assert.ok(partway.length > 0, `progress was reported partway: ${JSON.stringify(seen.map((s) => [s.status, s.checkedRows]))}`);
    const checked = seen.map((s) => s.checkedRows);
    assert.deepEqual(
      checked,
      [...checked].sort((a, b) => a - b),
      'progress only goes forward',
    );

    const done = await status(as(officer), body.links.self);
    assert.equal(done.status, 'done');
    assert.deepEqual([done.totalRows, done.checkedRows, done.writtenRows], [2000, 2000, 2000]);
    assert.deepEqual(done.errors, []);
    assert.equal(done.credentialsAvailable, false);
    assert.equal(await t.services.estate.countSites({}), before + 2000);

    const audit = await t.services.audit.search({ actorId: officer.userId, limit: 20 });
    assert.ok(audit.some((e) => e.action === 'estate.import_start' && e.target_id === body.id));
    assert.ok(audit.some((e) => e.action === 'estate.site_import' && JSON.stringify(e.changes_json).includes(body.id)));
  });

  test('a bad file ends failed, with its errors by row and column, and writes nothing', async () => {
    const before = await t.services.estate.countSites({});
    const lines = sitesCsv(1200, 'Q').split('\n');
    lines[3] = lines[3].replace('library', 'castle'); // row 4 of the file
    lines[1001] = lines[1001].replace('WM', '??'); // row 1002
    const res = await start(as(officer), 'sites', lines.join('\n'));
    assert.equal(res.statusCode, 202);
    while (await t.services.jobs.runOnce()) {}
    const failed = await status(as(officer), res.json().links.self);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.checkedRows, 1200);
    assert.equal(failed.writtenRows, 0);
    assert.deepEqual(
      failed.errors.map((e) => [e.row, e.field]),
      [
        [4, 'type'],
        [1002, 'postcode'],
      ],
    );
    assert.match(failed.errors[0].message, /Enter one of: school/);
    assert.equal(await t.services.estate.countSites({}), before, 'nothing was written');
    assert.equal((await t.services.estate.listSites({ q: 'Q library 1', limit: 1 })).length, 0);
  });

  test('a devices import: counts in the progress, credentials never; only its starter sees it or takes them, once', async () => {
    const res = await start(as(officer), 'devices', devicesCsv(5, 'PC-API'));
    assert.equal(res.statusCode, 202);
    const self = res.json().links.self as string;
    while (await t.services.jobs.runOnce()) {}
    const got = await t.app.inject({ url: self, headers: as(officer) });
    assert.equal(got.statusCode, 200);
    assert.ok(!got.body.includes('wdev_'), 'no credentials in the progress');
    assert.equal(got.headers['cache-control'], 'no-store');
    const done = got.json() as Status;
    assert.equal(done.status, 'done');
    assert.equal(done.writtenRows, 5);
    assert.equal(done.credentialsAvailable, true);
    assert.equal(done.links.credentials, `${self}/credentials`);

    // Someone else, even with estate:manage, is told there is no such import.
    const theirs = await t.app.inject({ url: self, headers: as(other) });
    assert.equal(theirs.statusCode, 404);
    assert.equal(theirs.json().code, 'IMPORT_NOT_FOUND');
    const grab = await t.app.inject({ method: 'POST', url: `${self}/credentials`, headers: as(other) });
    assert.equal(grab.json().code, 'IMPORT_NOT_FOUND');

    const creds = await t.app.inject({ method: 'POST', url: `${self}/credentials`, headers: as(officer) });
    assert.equal(creds.statusCode, 200);
    assert.match(String(creds.headers['content-type']), /^text\/csv/);
    const rows = parseCsv(creds.body);
    assert.deepEqual(rows[0], ['id', 'name', 'serial', 'token', 'mqtt_username', 'mqtt_password']);
    assert.equal(rows.length, 6);
    assert.match(rows[1][3], /^wdev_/);
    const again = await t.app.inject({ method: 'POST', url: `${self}/credentials`, headers: as(officer) });
    assert.equal(again.statusCode, 410);
    assert.equal(again.json().code, 'IMPORT_RESULT_GONE');
    const after = (await status(as(officer), self)) as Status;
    assert.equal(after.credentialsAvailable, false);
    assert.equal(after.links.credentials, undefined);
    const audit = await t.services.audit.search({ action: 'estate.import_credentials', targetId: done.id, limit: 5 });
    assert.equal(audit.length, 1);
  });

  test('an API key sees its own imports; a person does not see a key’s', async () => {
    const key = await t.key(['estate:manage']);
    const bearer = { authorization: `Bearer ${key}` };
    const res = await start(bearer, 'sites', sitesCsv(3, 'K'));
    assert.equal(res.statusCode, 202, res.body);
    while (await t.services.jobs.runOnce()) {}
    assert.equal((await status(bearer, res.json().links.self)).status, 'done');
    assert.equal((await t.app.inject({ url: res.json().links.self, headers: as(officer) })).statusCode, 404);
  });

  test('refusals: JSON instead of CSV, an unknown id, and no estate:manage', async () => {
    const empty = await t.app.inject({ method: 'POST', url: '/api/v1/imports/sites', headers: { ...as(officer), 'content-type': 'application/json' }, payload: {} });
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json().code, 'VALIDATION_FAILED');
    const unknown = await t.app.inject({ url: '/api/v1/imports/01900000-0000-7000-8000-000000000000', headers: as(officer) });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().code, 'IMPORT_NOT_FOUND');
    const care = await t.signInAs(['care']);
    const refused = await start(as(care), 'sites', sitesCsv(1, 'C'));
    assert.equal(refused.statusCode, 403);
    assert.equal(refused.json().code, 'FORBIDDEN');
  });
});
