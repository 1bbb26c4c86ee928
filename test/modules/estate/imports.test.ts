import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { parseCsv } from '../../../src/platform/csv.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const SITE_HEADER = 'type,name,address,postcode,uprn,lat,lon,tags,owner_team,technology,connectivity_status,down_mbps,up_mbps,provider,circuit_ref,planned_at,live_at';
const TYPES = ['school', 'council_building', 'nhs_site', 'library'];
const STAGES = ['planned', 'ordered', 'installed', 'live'];

function sitesCsv(n: number, prefix = 'S'): string {
  const lines = [SITE_HEADER];
  for (let i = 0; i < n; i++) {
    const lat = (51.5 + (i % 100) * 0.004).toFixed(5);
    const lon = (-1.5 + Math.floor(i / 100) * 0.004).toFixed(5);
    lines.push(
      `${TYPES[i % 4]},"${prefix} site ${i}, the ""annex""","${i} High Street, Wealdmoor",WM${1 + (i % 9)} ${i % 10}AB,${100000 + i},${lat},${lon},a;b,Estates,full_fibre,${STAGES[i % 4]},900,110,OpenNet,C-${prefix}-${i},2026-01-0${1 + (i % 9)},`,
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

function devicesCsv(n: number, prefix = 'D', euiBase = 0x70b3d57ed0000000n): string {
  const lines = ['name,serial,profile,external_id,lat,lon,firmware'];
  for (let i = 0; i < n; i++) lines.push(`Bay ${i},${prefix}-${i},parking-bay,${(euiBase + BigInt(i)).toString(16).padStart(16, '0')},51.6,-1.4,1.2.${i % 10}`);
  return `${lines.join('\n')}\n`;
}

forEachDialect('estate CSV import and export', (dialect) => {
  let t: TestApp;
  let officer: Browser;
  const as = (b: Browser) => ({ cookie: b.cookie, 'x-csrf-token': b.csrf });
  const figures: Record<string, number> = {};

  before(async () => {
    t = await testApp(dialect);
    officer = await t.signInAs(['officer']);
  });

  test('10,000 sites import in one go, in seconds, over the API', async () => {
    const csv = sitesCsv(10_000);
    const began = performance.now();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/sites/import', headers: { ...as(officer), 'content-type': 'text/csv' }, payload: csv });
    figures.sites10k = Math.round(performance.now() - began);
    assert.equal(res.statusCode, 201, res.body.slice(0, 500));
    assert.deepEqual(res.json(), { imported: 10_000 });
    assert.equal(await t.services.estate.countSites({}), 10_000);
    assert.ok(figures.sites10k < 15_000, `took ${figures.sites10k} ms`);
    const one = (await t.services.estate.listSites({ q: 'S site 7,', limit: 5 }))[0];
    assert.equal(one.name, 'S site 7, the "annex"');
    assert.equal(one.connectivity?.status, 'live');
    assert.deepEqual(one.tags, ['a', 'b']);
    const audit = await t.services.audit.search({ action: 'estate.site_import', limit: 5 } as never);
    assert.equal(audit.length, 1, 'one audit row for the whole import');
  });

  test('one bad row in 10,000: nothing is written, every error is named by row and column', async () => {
    const lines = sitesCsv(10_000, 'B').split('\r\n');
    lines[5001] = lines[5001].replace('school', 'castle'); // row 5002 in the file
    lines[9001] = lines[9001].replace(/,51\.\d+,/, ',95,'); // row 9002
    lines[3] = lines[3].replace(/WM\d \dAB/, 'NOT A CODE'); // row 4
    const before = await t.services.estate.countSites({});
    const began = performance.now();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/sites/import', headers: { ...as(officer), 'content-type': 'text/csv' }, payload: lines.join('\r\n') });
    figures.sitesCheck10k = Math.round(performance.now() - began);
    assert.equal(res.statusCode, 400);
    const body = res.json();
    assert.equal(body.code, 'IMPORT_INVALID');
    assert.match(body.detail, /3 errors/);
    assert.deepEqual(
      body.errors.map((e: { field: string }) => e.field),
      ['rows/4/postcode', 'rows/5002/type', 'rows/9002/lat'],
    );
    assert.match(body.errors[1].message, /^Row 5002: type: Enter one of: school, /);
    assert.equal(await t.services.estate.countSites({}), before, 'nothing written');
  });

  test('header and file problems are reported before any row', async () => {
    const post = (payload: string) => t.app.inject({ method: 'POST', url: '/api/v1/sites/import', headers: { ...as(officer), 'content-type': 'text/csv' }, payload });
    let res = await post('type,name,colour\nschool,A,red\n');
    assert.equal(res.json().code, 'IMPORT_INVALID');
    assert.deepEqual(
      res.json().errors.map((e: { field: string }) => e.field),
      ['rows/1/colour', 'rows/1/address'],
    );
    res = await post('type,name,address\nschool,"A,1 Road\n');
    assert.match(res.json().errors[0].message, /not valid CSV/);
    res = await post('type,name,address\n');
    assert.match(res.json().errors[0].message, /no rows/);
    res = await post('type,name,address\nschool,A\n');
    assert.match(res.json().errors[0].message, /2 fields; the header has 3/);
    res = await t.app.inject({ method: 'POST', url: '/api/v1/sites/import', headers: as(officer), payload: { not: 'csv' } });
    assert.equal(res.json().code, 'VALIDATION_FAILED');
    res = await t.app.inject({ method: 'POST', url: '/api/v1/sites/import', headers: { ...as(officer), 'content-type': 'application/xml' }, payload: '<a/>' });
    assert.equal(res.json().code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('10,000 devices import and answer with their credentials once, as CSV; duplicates are refused by row', async () => {
    const began = performance.now();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/devices/import', headers: { ...as(officer), 'content-type': 'text/csv' }, payload: devicesCsv(10_000) });
    figures.devices10k = Math.round(performance.now() - began);
    assert.equal(res.statusCode, 201, res.body.slice(0, 500));
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.equal(res.headers['cache-control'], 'no-store');
    const rows = parseCsv(res.body);
    assert.deepEqual(rows[0], ['id', 'name', 'serial', 'token', 'mqtt_username', 'mqtt_password']);
    assert.equal(rows.length - 1, 10_000);
    const [id, , serial, token, username, password] = rows[1];
    assert.equal(serial, 'D-0');
    assert.equal(username, id);
    assert.equal((await t.services.estate.deviceForToken(token))?.deviceId, id);
    assert.equal((await t.services.estate.deviceForMqtt(id, password))?.deviceId, id);
    assert.equal((await t.services.estate.deviceForExternalId('70b3d57ed0000005'))?.name, 'Bay 5');
    // Every device's credentials come back as they were issued (none mangled by the CSV's formula protection).
    assert.ok(
      rows.slice(1).every(([, , , tok, , pass]) => tok.startsWith('wdev_') && !pass.startsWith("'")),
      'no credential is quoted',
    );
    assert.ok(figures.devices10k < 15_000, `took ${figures.devices10k} ms`);

    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/devices/import',
      headers: { ...as(officer), 'content-type': 'text/csv' },
      payload: 'name,serial,profile,site_id\nA,D-7,parking-bay,\nB,NEW-1,parking-bay,\nC,NEW-1,nope,01900000-0000-7000-8000-000000000000\n',
    });
    assert.equal(again.json().code, 'IMPORT_INVALID');
    assert.deepEqual(
      again.json().errors.map((e: { field: string }) => e.field),
      ['rows/2/serial', 'rows/4/profile', 'rows/4/serial', 'rows/4/site_id'],
    );
  });

  test('export and import again: the same sites and devices, on a fresh database', async () => {
    const sitesCsvOut = (await t.app.inject({ url: '/api/v1/sites/export.csv?q=S%20site%2042', headers: as(officer) })).body;
    const devicesCsvOut = (await t.app.inject({ url: '/api/v1/devices/export.csv?q=D-99', headers: as(officer) })).body;
    assert.ok(parseCsv(sitesCsvOut).length > 2);
    const other = await testApp(dialect);
    const admin = await other.signInAs(['officer']);
    const s = await other.app.inject({ method: 'POST', url: '/api/v1/sites/import', headers: { ...as(admin), 'content-type': 'text/csv' }, payload: sitesCsvOut });
    assert.equal(s.statusCode, 201, s.body.slice(0, 400));
    const d = await other.app.inject({ method: 'POST', url: '/api/v1/devices/import', headers: { ...as(admin), 'content-type': 'text/csv' }, payload: devicesCsvOut });
    assert.equal(d.statusCode, 201, d.body.slice(0, 400));
    const strip = (csv: string) =>
      parseCsv(csv)
        .map((r) => r.slice(0, 20).join('|'))
        .sort();
    const reSites = (await other.app.inject({ url: '/api/v1/sites/export.csv', headers: as(admin) })).body;
    assert.deepEqual(strip(reSites), strip(sitesCsvOut), 'the import columns survive the round trip');
    const reDevices = (await other.app.inject({ url: '/api/v1/devices/export.csv', headers: as(admin) })).body;
    const cut = (csv: string) =>
      parseCsv(csv)
        .map((r) => r.slice(0, 9).join('|'))
        .sort();
    assert.deepEqual(cut(reDevices), cut(devicesCsvOut));
  });

  test('a console import runs as a job, shows its progress and errors, and hands over credentials once', async () => {
    const estate = t.services.estate;
    const actor = { ...systemActor('x'), type: 'user' as const, id: officer.userId, label: officer.email, permissions: new Set(['estate:manage']) };
    const bad = await estate.imports.startImport(actor, 'devices', 'name,serial,profile\nA,,parking-bay\n', 'bad.csv');
    assert.equal((await estate.imports.getImport(bad)).status, 'queued');
    while (await t.services.jobs.runOnce()) {}
    const failed = await estate.imports.getImport(bad);
    assert.equal(failed.status, 'failed');
    assert.deepEqual(failed.errors, [{ row: 2, field: 'serial', message: 'Enter the serial number: letters, digits and . _ : / - only' }]);

    const page = await t.app.inject({ url: `/console/estate/imports/${bad}`, headers: as(officer) });
    assert.match(page.body, /The file was not imported/);
    assert.match(page.body, /Enter the serial number/);

    const good = await estate.imports.startImport(actor, 'devices', devicesCsv(3, 'J', 0x70b3d57ef0000000n), 'good.csv');
    const waiting = await t.app.inject({ url: `/console/estate/imports/${good}`, headers: as(officer) });
    // While it runs, the progress part of the page follows itself (with JavaScript; no <meta refresh>).
    assert.match(waiting.body, /data-weft-refresh="2"/);
    assert.doesNotMatch(waiting.body, /http-equiv="refresh"/);
    while (await t.services.jobs.runOnce()) {}
    const done = await estate.imports.getImport(good);
    assert.equal(done.status, 'done');
    assert.equal(done.writtenRows, 3);
    assert.equal(done.hasCredentials, true);
    const row = await t.services.db.k.selectFrom('estate_imports').selectAll().where('id', '=', good).executeTakeFirstOrThrow();
    assert.equal(row.csv_text, null, 'the uploaded file is not kept');
    assert.ok(row.result_sealed && !row.result_sealed.includes('wdev_'), 'credentials are kept sealed');

    const download = await t.app.inject({ method: 'POST', url: `/console/estate/imports/${good}/credentials`, headers: as(officer) });
    assert.equal(download.statusCode, 200);
    assert.match(download.body, /^id,name,serial,token,mqtt_username,mqtt_password\r\n/);
    assert.equal(parseCsv(download.body).length, 4);
    const second = await t.app.inject({ method: 'POST', url: `/console/estate/imports/${good}/credentials`, headers: as(officer) });
    assert.equal(second.statusCode, 410);
    assert.match(second.body, /already been downloaded/);
    await assert.rejects(estate.imports.takeImportCredentials(actor, good), { code: 'IMPORT_RESULT_GONE' });
    await assert.rejects(estate.imports.getImport('01900000-0000-7000-8000-000000000000'), { code: 'IMPORT_NOT_FOUND' });
  });

  test('figures', () => {
    console.log(`[${dialect}] import figures (ms): ${JSON.stringify(figures)}`);
  });
});
