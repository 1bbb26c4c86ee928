/**
 * The council's postcode list: loaded from the CSVs councils hold (the ONS Postcode Directory's
 * columns, in any case; or postcode, latitude and longitude), every row checked first and nothing
 * stored when one is bad; each postcode placed in its area, and again when areas change; looked
 * up whatever its case and spacing; `GET /api/v1/postcodes/{postcode}` for staff with estate:read;
 * and `weft import postcodes <file>`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { AppError } from '../../../src/platform/errors.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { square } from '../../geo-fixtures.js';
import { forEachDialect, TEST_SECRET } from '../../helpers.js';

const system = systemActor('test');

const ward = (name: string, code: string, coordinates: number[][][]) => ({ type: 'Feature', properties: { name, code }, geometry: { type: 'Polygon', coordinates } });
/** Westminster Ward holds SW1A 1AA and W1A 0AX; EC1A 1BB and M1 1AE lie outside it. */
const WESTMINSTER = { type: 'FeatureCollection', features: [ward('Westminster Ward', 'T1', square(-0.2, 51.45, -0.1, 51.55))] };

/** Part of an ONS Postcode Directory extract, its header in capitals as some releases have it: pcds is used, the rest ignored. */
const ONSPD = [
  'PCD,PCD2,PCDS,DOINTR,DOTERM,OSEAST1M,OSNRTH1M,OSWARD,CTRY,LAT,LONG',
  'SW1A1AA,SW1A 1AA,SW1A 1AA,198001,,529090,179645,E05013806,E92000001,51.501009,-0.141588',
  'EC1A1BB,EC1A 1BB,EC1A 1BB,198001,,531950,181620,E05009302,E92000001,51.520180,-0.097790',
  'M1  1AE,M1   1AE,M1 1AE,199406,,384721,397960,E05011376,E92000001,53.479130,-2.237050',
  // Terminated, but people still write it: kept.
  'W1A0AX,W1A 0AX,W1A 0AX,198001,202103,528887,181593,E05013805,E92000001,51.518561,-0.143799',
  // The ONSPD's mark for a postcode with no grid reference: left out.
  'AB1 0AA,AB1  0AA,AB1 0AA,198001,199606,,,,S92000003,99.999999,0.000000',
  '',
].join('\n');

forEachDialect('the council’s postcode list', (dialect) => {
  let t: TestApp;
  let westminster: string;

  const stored = async () =>
    Number(
      (
        await t.services.db.k
          .selectFrom('postcodes')
          .select((e) => e.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  /** The IMPORT_INVALID a file is refused with: its message and each problem as "Row N: column: …". */
  const refused = async (csv: string) => {
    try {
      await t.services.estate.importPostcodes(system, csv);
    } catch (err) {
      assert.ok(err instanceof AppError && err.code === 'IMPORT_INVALID', String(err));
      return { message: err.message, rows: err.fields.map((f) => f.message), fields: err.fields.map((f) => f.field) };
    }
    assert.fail('the file was accepted');
  };

  before(async () => {
    t = await testApp(dialect);
    await t.services.estate.importAreas(system, WESTMINSTER);
    westminster = (await t.services.estate.listAreas())[0].id;
  });

  describe('loading the list', () => {
    test('an ONS Postcode Directory extract: its postcodes with their centres, each in its area; one with no grid reference left out; audited', async () => {
      const result = await t.services.estate.importPostcodes(system, ONSPD);
      assert.deepEqual(result, { count: 4, skipped: 1, inAreas: 2 });
      assert.equal(await stored(), 4);
      const e = t.services.estate;
      assert.deepEqual(await e.lookupPostcode('sw1a1aa'), { postcode: 'SW1A 1AA', lat: 51.501009, lon: -0.141588, areaId: westminster });
      assert.deepEqual(await e.lookupPostcode(' SW1A  1AA '), await e.lookupPostcode('SW1A 1AA'));
      assert.deepEqual(await e.lookupPostcode('m11ae'), { postcode: 'M1 1AE', lat: 53.47913, lon: -2.23705, areaId: null });
      assert.equal((await e.lookupPostcode('W1A 0AX'))?.areaId, westminster, 'a terminated postcode is kept');
      for (const missing of ['AB1 0AA', 'ZZ99 9ZZ', 'not a postcode', '', 'SW1A']) assert.equal(await e.lookupPostcode(missing), undefined, missing);
      const [audit] = await t.services.audit.search({ action: 'estate.postcode_import', limit: 5 });
      assert.equal(audit.summary, 'Imported 4 postcodes from CSV; 1 without a grid reference left out');
    });

    test('a file with a postcode, latitude and longitude column (any names councils use) updates the postcodes it has and adds the rest', async () => {
      const result = await t.services.estate.importPostcodes(system, 'Postcode,Latitude,Longitude\r\nSW1A 1AA,51.5014,-0.1419\r\nn1 9gu,51.536,-0.123\r\n');
      assert.deepEqual(result, { count: 2, skipped: 0, inAreas: 2 });
      assert.deepEqual(await t.services.estate.lookupPostcode('SW1A 1AA'), { postcode: 'SW1A 1AA', lat: 51.5014, lon: -0.1419, areaId: westminster });
      assert.equal((await t.services.estate.lookupPostcode('N19GU'))?.postcode, 'N1 9GU');
      assert.equal(await stored(), 5, 'the others are kept');
    });

    test('a file with bad rows stores nothing and names each bad row and column in plain words', async () => {
      const before = await stored();
      const audits = (await t.services.audit.search({ action: 'estate.postcode_import', limit: 50 })).length;
      const bad = await refused(
        ['pcds,lat,long', 'E1 6AN,51.5205,-0.0740', 'XX,51.5,-0.1', 'N1 9GU,abc,-0.1', 'SE1 9SG,-0.09,51.50', 'SE1 7PB,55.0,-20', 'e16an,51.52,-0.07', 'W1,2', ',51.5,-0.1'].join('\n'),
      );
      assert.equal(bad.message, 'The file has 7 errors. Nothing was imported: correct the rows listed and try again.');
      assert.deepEqual(bad.rows, [
        'Row 3: pcds: XX is not a UK postcode: enter one like SW1A 1AA.',
        'Row 4: lat: Enter the latitude in decimal degrees, like 51.501009.',
        'Row 5: lat: The latitude and longitude look swapped: the lat column is north to south (49 to 61 in the UK), long east to west.',
        'Row 6: long: Enter a longitude in the UK, from -9 to 2.5.',
        'Row 7: pcds: E1 6AN is also on row 2: each postcode may appear once.',
        'Row 8: row: This row has 2 fields; the header has 3.',
        'Row 9: pcds: Enter the postcode.',
      ]);
      assert.deepEqual(bad.fields.slice(0, 3), ['rows/3/pcds', 'rows/4/lat', 'rows/5/lat']);
      assert.equal(await stored(), before, 'nothing stored, not even the good row');
      assert.equal(await t.services.estate.lookupPostcode('E1 6AN'), undefined);
      assert.equal((await t.services.audit.search({ action: 'estate.postcode_import', limit: 50 })).length, audits, 'nothing audited');
    });

    test('a file without the columns it needs is refused at its header', async () => {
      assert.deepEqual((await refused('Postcode,Eastings,Northings\nSW1A 1AA,529090,179645\n')).rows, [
        'Row 1: lat: The file gives eastings and northings but not latitude and longitude. Use a file with lat and long columns, such as the ONS Postcode Directory.',
      ]);
      assert.deepEqual((await refused('pcds,lat\nSW1A 1AA,51.5\n')).rows, ['Row 1: long: The file needs a longitude column, named long, lon or longitude.']);
      assert.deepEqual((await refused('code,lat,long\nSW1A 1AA,51.5,-0.1\n')).rows, ['Row 1: postcode: The file needs a column of postcodes, named pcds, pcd or postcode.']);
      assert.deepEqual((await refused('pcds,lat,long\n')).rows, ['Row 2: file: The file has a header but no postcodes.']);
      assert.deepEqual((await refused('pcds,lat,long\n"SW1A 1AA,51.5,-0.1\n')).fields, ['rows/2/file']);
    });

    test('postcodes move with the areas: placed when an area is imported, and out of it when it is deleted', async () => {
      const e = t.services.estate;
      assert.equal((await e.lookupPostcode('EC1A 1BB'))?.areaId, null);
      const imported = await e.importAreas(system, { type: 'FeatureCollection', features: [ward('City Ward', 'T2', square(-0.1, 51.45, 0, 51.55))] });
      assert.equal(imported.placed.postcodes, 1);
      const city = (await e.listAreas()).find((a) => a.code === 'T2')?.id as string;
      assert.equal((await e.lookupPostcode('EC1A 1BB'))?.areaId, city);
      assert.equal((await e.lookupPostcode('SW1A 1AA'))?.areaId, westminster, 'the others stay where they are');
      await e.imports.deleteArea(system, city);
      assert.equal((await e.lookupPostcode('EC1A 1BB'))?.areaId, null);
    });
  });

  describe('GET /api/v1/postcodes/{postcode}', () => {
    const get = (postcode: string, headers: Record<string, string> = {}) => t.app.inject({ url: `/api/v1/postcodes/${postcode}`, headers });

    test('needs a session or key with estate:read', async () => {
      const none = await get('SW1A1AA');
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().code, 'AUTH_REQUIRED');
      const other = await t.key(['audit:read']);
      const forbidden = await get('SW1A1AA', { authorization: `Bearer ${other}` });
      assert.equal(forbidden.statusCode, 403);
      assert.equal(forbidden.json().code, 'FORBIDDEN');
      const viewer = await t.signInAs(['viewer']);
      const bySession = await get('SW1A1AA', { cookie: viewer.cookie });
      assert.equal(bySession.statusCode, 200, bySession.body);
    });

    test('answers where a postcode is, whatever its case and spacing; 404 for one not in the list, 400 for text that is no postcode', async () => {
      const auth = { authorization: `Bearer ${await t.key(['estate:read'])}` };
      const found = await get('sw1a1aa', auth);
      assert.equal(found.statusCode, 200, found.body);
      assert.deepEqual(found.json(), { postcode: 'SW1A 1AA', lat: 51.5014, lon: -0.1419, areaId: westminster });
      assert.deepEqual((await get('SW1A%201AA', auth)).json(), found.json());
      const unknown = await get('ZE9%209ZZ', auth);
      assert.equal(unknown.statusCode, 404);
      assert.match(String(unknown.headers['content-type']), /^application\/problem\+json/);
      assert.equal(unknown.json().code, 'POSTCODE_NOT_FOUND');
      const nonsense = await get('hello', auth);
      assert.equal(nonsense.statusCode, 400);
      assert.equal(nonsense.json().code, 'POSTCODE_INVALID');
      const doc = (await t.app.inject({ url: '/api/openapi.json' })).json();
      assert.ok(doc.paths['/api/v1/postcodes/{postcode}']?.get, 'documented in OpenAPI');
    });
  });
});

test('weft import postcodes: an ONSPD file loaded, or refused by row with nothing written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-cli-postcodes-'));
  const env = { PATH: process.env.PATH ?? '', WEFT_LOG_LEVEL: 'silent', WEFT_DATA_DIR: dir, WEFT_DATABASE_URL: `sqlite:${join(dir, 'weft.db')}`, WEFT_SECRET: TEST_SECRET };
  const weft = (args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, err: r.stderr };
  };
  const file = join(dir, 'onspd.csv');
  writeFileSync(file, 'pcd,pcds,lat,long\nSW1A1AA,SW1A 1AA,51.501009,-0.141588\nXX1,XX1,51.5,-0.1\n');
  let r = weft(['import', 'postcodes', file]);
  assert.equal(r.code, 1);
  assert.match(r.err, /^weft: The file has 1 error\. Nothing was imported/);
  assert.match(r.err, /Row 3: pcds: XX1 is not a UK postcode: enter one like SW1A 1AA\./);

  writeFileSync(file, ONSPD);
  r = weft(['import', 'postcodes', file]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^Imported 4 postcodes, 0 of them in the council’s areas; 1 without a grid reference were left out\.$/m);
});
