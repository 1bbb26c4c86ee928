import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TEST_SECRET } from '../../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-cli-import-'));
const env = { PATH: process.env.PATH ?? '', WEFT_LOG_LEVEL: 'silent', WEFT_DATA_DIR: dir, WEFT_DATABASE_URL: `sqlite:${join(dir, 'weft.db')}`, WEFT_SECRET: TEST_SECRET };
const weft = (args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('weft import: areas, sites and devices from files; errors by row; credentials to a private file', () => {
  const areas = join(dir, 'wards.geojson');
  writeFileSync(
    areas,
    JSON.stringify({
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: { name: 'Ward' },
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [-2, 51],
                [-1, 51],
                [-1, 52],
                [-2, 52],
                [-2, 51],
              ],
            ],
          },
        },
      ],
    }),
  );
  let r = weft(['import', 'areas', areas]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /Imported 1 areas/);

  const sites = join(dir, 'sites.csv');
  writeFileSync(sites, 'type,name,address,lat,lon\nschool,A,1 Road,51.5,-1.5\nnope,B,2 Road,,\n');
  r = weft(['import', 'sites', sites]);
  assert.equal(r.code, 1);
  assert.match(r.err, /^weft: The file has 1 error\. Nothing was imported/);
  assert.match(r.err, /Row 3: type: Enter one of: school/);

  writeFileSync(sites, 'type,name,address,lat,lon\nschool,A,1 Road,51.5,-1.5\n');
  r = weft(['import', 'sites', sites]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /Imported 1 sites/);

  const devices = join(dir, 'devices.csv');
  const creds = join(dir, 'creds.csv');
  writeFileSync(devices, 'name,serial,profile\nBin 1,BIN-1,bin-fill\n');
  r = weft(['import', 'devices', devices, '--credentials', creds]);
  assert.equal(r.code, 0, r.err);
  assert.match(readFileSync(creds, 'utf8'), /^id,name,serial,token,mqtt_username,mqtt_password\r\n.+,Bin 1,BIN-1,wdev_/);
  assert.equal(statSync(creds).mode & 0o777, 0o600);

  assert.notEqual(weft(['import', 'widgets', devices]).code, 0);
  assert.match(weft(['import', 'sites', join(dir, 'missing.csv')]).err, /Cannot read/);
});
