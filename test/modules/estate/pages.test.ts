import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

/** A multipart/form-data body, as a browser sends a form with a file input. */
export function multipart(fields: Record<string, string>, file: { name: string; filename: string; content: string; type?: string }) {
  const boundary = `----weft${Date.now()}`;
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\nContent-Type: ${file.type ?? 'text/csv'}\r\n\r\n${file.content}\r\n`);
  return { payload: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}

const id = (location: unknown) => String(location).split('/').pop()?.split('?')[0] ?? '';

forEachDialect('estate console pages', (dialect) => {
  let t: TestApp;
  let officer: Browser;
  let viewer: Browser;
  const as = (b: Browser) => ({ cookie: b.cookie });
  const post = (b: Browser, url: string, form: Record<string, string>) => t.app.inject({ method: 'POST', url, headers: as(b), payload: { ...form, _csrf: b.csrf } });

  before(async () => {
    t = await testApp(dialect);
    [officer, viewer] = await Promise.all([t.signInAs(['officer']), t.signInAs(['viewer'])]);
  });

  test('every estate page renders for a viewer, without inline styles', async () => {
    for (const url of [
      '/console/estate',
      '/console/estate/sites',
      '/console/estate/devices',
      '/console/estate/rollout',
      '/console/estate/health',
      '/console/estate/areas',
      '/console/estate/profiles',
      '/console/estate/profiles/air-quality',
    ]) {
      const res = await t.app.inject({ url, headers: as(viewer) });
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 300)}`);
      assert.ok(!/ style="/.test(res.body), `${url} has no inline style`);
      assert.ok(!res.body.includes('Add a site'), `${url} offers a viewer no writes`);
    }
    const nav = await t.app.inject({ url: '/console', headers: as(viewer) });
    assert.match(nav.body, /href="\/console\/estate"/);
    for (const url of ['/console/estate/sites/new', '/console/estate/import']) assert.equal((await t.app.inject({ url, headers: as(viewer) })).statusCode, 403);
  });

  test('adding a site through the form: errors in the GOV.UK summary, then saved, then changed', async () => {
    const empty = await post(officer, '/console/estate/sites/new', { name: '', lat: '51.7', 'planned_at-day': '31', 'planned_at-month': '2', 'planned_at-year': '2026', technology: 'full_fibre' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /govuk-error-summary/);
    for (const href of ['#type', '#name', '#address', '#lon', '#connectivity_status', '#planned_at-day']) assert.ok(empty.body.includes(`href="${href}"`), `summary links to ${href}`);
    assert.match(empty.body, /Enter a date as YYYY-MM-DD/);
    assert.match(empty.body, /value="51.7"/, 'what was typed is kept');

    const ok = await post(officer, '/console/estate/sites/new', {
      type: 'library',
      name: 'Central Library',
      address: '1 Library Way',
      postcode: 'wm1 2cd',
      lat: '51.75',
      lon: '-1.25',
      tags: 'flagship, busy',
      technology: 'full_fibre',
      connectivity_status: 'ordered',
      'ordered_at-day': '3',
      'ordered_at-month': '4',
      'ordered_at-year': '2026',
    });
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 500));
    const siteId = id(ok.headers.location);
    const page = await t.app.inject({ url: String(ok.headers.location), headers: as(viewer) });
    assert.match(page.body, /Site added/);
    assert.match(page.body, /WM1 2CD/);
    assert.match(page.body, /3 April 2026/);
    assert.match(page.body, /flagship, busy/);

    const form = await t.app.inject({ url: `/console/estate/sites/${siteId}/edit`, headers: as(officer) });
    assert.match(form.body, /name="ordered_at-day"[^>]*value="3"/);
    const changed = await post(officer, `/console/estate/sites/${siteId}/edit`, { type: 'library', name: 'Central Library', address: '1 Library Way', technology: '', connectivity_status: '' });
    assert.equal(changed.statusCode, 303);
    const site = await t.services.estate.getSite(siteId);
    assert.equal(site.connectivity, null);
    assert.equal(site.lat, null);
  });

  test('adding a device shows its credentials once; rotating and decommissioning from its page', async () => {
    const site = await t.services.estate.createSite({ type: 'system', id: null, label: 't', permissions: new Set(), roles: [] }, { type: 'car_park', name: 'Castle Car Park', address: 'Castle St' });
    const form = await t.app.inject({ url: `/console/estate/devices/new?siteId=${site.id}`, headers: as(officer) });
    assert.match(form.body, /Castle Car Park/);
    const bad = await post(officer, '/console/estate/devices/new', { name: 'Bay 1', serial: 'has space', profile: '', site_id: site.id, external_id: 'xyz' });
    assert.equal(bad.statusCode, 400);
    for (const href of ['#serial', '#profile', '#external_id']) assert.ok(bad.body.includes(`href="${href}"`), href);
    const made = await post(officer, '/console/estate/devices/new', { name: 'Bay 1', serial: 'CP-BAY-1', profile: 'parking-bay', site_id: site.id, external_id: '70B3D57ED00000AA' });
    assert.equal(made.statusCode, 200);
    const token = /wdev_[A-Za-z0-9_-]+/.exec(made.body)?.[0] ?? '';
    assert.ok(await t.services.estate.deviceForToken(token));
    const device = (await t.services.estate.listDevices({ q: 'CP-BAY-1' }))[0];
    const taken = await post(officer, '/console/estate/devices/new', { name: 'Bay 2', serial: 'CP-BAY-1', profile: 'parking-bay' });
    assert.equal(taken.statusCode, 400);
    assert.match(taken.body, /A device with that serial number already exists/);

    const detail = await t.app.inject({ url: `/console/estate/devices/${device.id}`, headers: as(officer) });
    assert.ok(!detail.body.includes(token), 'the token is never shown again');
    const rotated = await post(officer, `/console/estate/devices/${device.id}/credentials`, {});
    assert.equal(rotated.statusCode, 200);
    assert.match(rotated.body, /old token and MQTT password no longer work/);
    assert.equal(await t.services.estate.deviceForToken(token), undefined);

    const edit = await post(officer, `/console/estate/devices/${device.id}/edit`, {
      name: 'Bay one',
      serial: 'CP-BAY-1',
      profile: 'parking-bay',
      site_id: site.id,
      external_id: '70b3d57ed00000aa',
      lat: '51.1',
      lon: '-1.1',
    });
    assert.equal(edit.statusCode, 303);
    assert.equal((await t.services.estate.getDevice(device.id)).name, 'Bay one');

    const gone = await post(officer, `/console/estate/devices/${device.id}/decommission`, {});
    assert.equal(gone.statusCode, 303);
    const after = await t.app.inject({ url: String(gone.headers.location), headers: as(officer) });
    assert.match(after.body, /Device decommissioned/);
    assert.ok(!after.body.includes('Issue new credentials'));
  });

  test('uploading a CSV through the import page runs a job and shows the outcome', async () => {
    const { payload, contentType } = multipart(
      { _csrf: officer.csrf, kind: 'sites' },
      { name: 'file', filename: 'sites.csv', content: 'type,name,address\r\nschool,Upload School,"1 Road, Town"\r\npark,Upload Park,2 Road\r\n' },
    );
    const res = await t.app.inject({ method: 'POST', url: '/console/estate/import', headers: { ...as(officer), 'content-type': contentType }, payload });
    assert.equal(res.statusCode, 303, res.body.slice(0, 300));
    while (await t.services.jobs.runOnce()) {}
    const page = await t.app.inject({ url: String(res.headers.location), headers: as(officer) });
    assert.match(page.body, /Import complete/);
    assert.match(page.body, /2 sites imported/);
    assert.equal((await t.services.estate.listSites({ q: 'Upload' })).length, 2);

    const missing = multipart({ _csrf: officer.csrf }, { name: 'file', filename: '', content: '' });
    const noFile = await t.app.inject({ method: 'POST', url: '/console/estate/import', headers: { ...as(officer), 'content-type': missing.contentType }, payload: missing.payload });
    assert.equal(noFile.statusCode, 400);
    assert.match(noFile.body, /Choose whether the file holds sites or devices/);
    assert.match(noFile.body, /Choose a CSV file/);

    const noCsrf = multipart({ kind: 'sites' }, { name: 'file', filename: 'a.csv', content: 'type,name,address\n' });
    const refused = await t.app.inject({ method: 'POST', url: '/console/estate/import', headers: { ...as(officer), 'content-type': noCsrf.contentType }, payload: noCsrf.payload });
    assert.equal(refused.statusCode, 403);
  });

  test('uploading areas as GeoJSON from the areas page', async () => {
    const geo = JSON.stringify({
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: { name: 'Upload Ward' },
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
    });
    const { payload, contentType } = multipart({ _csrf: officer.csrf, kind: 'ward' }, { name: 'file', filename: 'wards.geojson', content: geo, type: 'application/geo+json' });
    const res = await t.app.inject({ method: 'POST', url: '/console/estate/areas', headers: { ...as(officer), 'content-type': contentType }, payload });
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    assert.match(res.body, /Imported 1 areas/);
    assert.match(res.body, /Upload Ward/);
    const bad = multipart({ _csrf: officer.csrf, kind: 'ward' }, { name: 'file', filename: 'x.json', content: '{"type":"Feature"}' });
    const refused = await t.app.inject({ method: 'POST', url: '/console/estate/areas', headers: { ...as(officer), 'content-type': bad.contentType }, payload: bad.payload });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /GeoJSON FeatureCollection/);
  });

  test('adding a device profile through the form: errors change nothing, then saved with its metrics, then changed', async () => {
    const list = await t.app.inject({ url: '/console/estate/profiles', headers: as(officer) });
    assert.match(list.body, /href="\/console\/estate\/profiles\/new"/);
    const form = await t.app.inject({ url: '/console/estate/profiles/new', headers: as(officer) });
    assert.equal(form.statusCode, 200);
    assert.ok(!/ style="/.test(form.body), 'no inline style');
    assert.match(form.body, /name="metrics-7-name"/, 'eight metric rows without JavaScript');
    assert.match(form.body, /option value="cayenne-lpp"/, 'the built-in decoders on offer');
    assert.match(form.body, /only be set through the API/, 'the page says bytes decoders are API-only');

    const before = (await t.services.estate.listProfiles()).length;
    const bad = await post(officer, '/console/estate/profiles/new', {
      name: '',
      key: 'Noise Monitor',
      report_interval: 'often',
      offline_tolerance: '3',
      battery_low: '120',
      raw_retention_days: '90',
      'metrics-0-name': 'Noise',
      'metrics-0-kind': 'measure',
      'metrics-2-name': 'peak',
      'metrics-2-min': 'low',
      decoder_type: 'json',
      json_fields: 'noise data.noise',
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /govuk-error-summary/);
    for (const href of ['#name', '#key', '#report_interval', '#battery_low', '#metrics-0-name', '#metrics-2-kind', '#metrics-2-min', '#json_fields'])
      assert.ok(bad.body.includes(`href="${href}"`), `summary links to ${href}`);
    assert.match(bad.body, /value="Noise Monitor"/, 'what was typed is kept');
    assert.equal((await t.services.estate.listProfiles()).length, before, 'nothing was saved');
    const none = await post(officer, '/console/estate/profiles/new', {
      name: 'Empty',
      key: 'empty',
      report_interval: '60',
      offline_tolerance: '3',
      battery_low: '0',
      raw_retention_days: '30',
      decoder_type: 'builtin',
      builtin_name: 'no-such',
    });
    assert.equal(none.statusCode, 400);
    assert.match(none.body, /Add at least one metric/);
    assert.match(none.body, /Choose a built-in decoder/);

    const made = await post(officer, '/console/estate/profiles/new', {
      name: 'Noise monitor',
      key: 'noise-monitor',
      description: 'Street noise',
      report_interval: '600',
      offline_tolerance: '2.5',
      battery_low: '15',
      raw_retention_days: '30',
      'metrics-0-name': 'laeq',
      'metrics-0-unit': 'dB',
      'metrics-0-kind': 'measure',
      'metrics-0-min': '0',
      'metrics-0-max': '140',
      'metrics-3-name': 'battery',
      'metrics-3-unit': '%',
      'metrics-3-kind': 'measure',
      decoder_type: 'json',
      json_fields: 'laeq = data.laeq\nbattery = status.batt',
    });
    assert.equal(made.statusCode, 303, made.body.slice(0, 500));
    assert.equal(made.headers.location, '/console/estate/profiles/noise-monitor?saved=created');
    const profile = await t.services.estate.getProfile('noise-monitor');
    assert.deepEqual(profile.metrics, [
      { name: 'laeq', unit: 'dB', kind: 'measure', min: 0, max: 140 },
      { name: 'battery', unit: '%', kind: 'measure' },
    ]);
    assert.equal(profile.reportIntervalSeconds, 600);
    assert.equal(profile.offlineTolerance, 2.5);
    assert.deepEqual(profile.decoder, { type: 'json', fields: { laeq: 'data.laeq', battery: 'status.batt' } });
    const page = await t.app.inject({ url: String(made.headers.location), headers: as(officer) });
    assert.match(page.body, /Device profile added/);
    assert.match(page.body, /href="\/console\/estate\/profiles\/noise-monitor\/edit"/);
    const taken = await post(officer, '/console/estate/profiles/new', {
      name: 'Again',
      key: 'noise-monitor',
      report_interval: '60',
      offline_tolerance: '3',
      battery_low: '0',
      raw_retention_days: '30',
      'metrics-0-name': 'x',
      'metrics-0-kind': 'event',
      decoder_type: 'json',
    });
    assert.equal(taken.statusCode, 400);
    assert.match(taken.body, /A device profile with that key already exists/);

    const edit = await t.app.inject({ url: '/console/estate/profiles/noise-monitor/edit', headers: as(officer) });
    assert.equal(edit.statusCode, 200);
    assert.match(edit.body, /name="metrics-1-name"[^>]*value="battery"/);
    const badEdit = await post(officer, '/console/estate/profiles/noise-monitor/edit', {
      name: 'Noise',
      report_interval: '0',
      offline_tolerance: '3',
      battery_low: '15',
      raw_retention_days: '30',
      'metrics-0-name': 'laeq',
      'metrics-0-kind': 'measure',
      decoder_type: 'json',
    });
    assert.equal(badEdit.statusCode, 400);
    assert.ok(badEdit.body.includes('href="#report_interval"'));
    assert.equal((await t.services.estate.getProfile('noise-monitor')).name, 'Noise monitor', 'nothing was changed');
    const changed = await post(officer, '/console/estate/profiles/noise-monitor/edit', {
      name: 'Noise meter',
      description: '',
      report_interval: '300',
      offline_tolerance: '3',
      battery_low: '15',
      raw_retention_days: '30',
      'metrics-0-name': 'laeq',
      'metrics-0-unit': 'dB',
      'metrics-0-kind': 'measure',
      decoder_type: 'builtin',
      builtin_name: 'elsys',
    });
    assert.equal(changed.statusCode, 303, changed.body.slice(0, 500));
    const after = await t.services.estate.getProfile('noise-monitor');
    assert.equal(after.name, 'Noise meter');
    assert.deepEqual(after.metrics, [{ name: 'laeq', unit: 'dB', kind: 'measure' }]);
    assert.deepEqual(after.decoder, { type: 'builtin', name: 'elsys' });
  });

  test('a viewer cannot add or change profiles, and a built-in profile cannot be changed', async () => {
    const list = await t.app.inject({ url: '/console/estate/profiles', headers: as(viewer) });
    assert.ok(!list.body.includes('Add a profile'));
    assert.equal((await t.app.inject({ url: '/console/estate/profiles/new', headers: as(viewer) })).statusCode, 403);
    const form = {
      name: 'Mine',
      key: 'viewer-made',
      report_interval: '60',
      offline_tolerance: '3',
      battery_low: '0',
      raw_retention_days: '30',
      'metrics-0-name': 'x',
      'metrics-0-kind': 'event',
      decoder_type: 'json',
    };
    assert.equal((await post(viewer, '/console/estate/profiles/new', form)).statusCode, 403);
    await assert.rejects(t.services.estate.getProfile('viewer-made'));

    const builtIn = await t.app.inject({ url: '/console/estate/profiles/air-quality', headers: as(officer) });
    assert.ok(!builtIn.body.includes('/console/estate/profiles/air-quality/edit'), 'no Change link on a built-in profile');
    assert.equal((await t.app.inject({ url: '/console/estate/profiles/air-quality/edit', headers: as(officer) })).statusCode, 409);
    const refused = await post(officer, '/console/estate/profiles/air-quality/edit', { ...form, name: 'Hacked' });
    assert.equal(refused.statusCode, 409);
    assert.equal((await t.services.estate.getProfile('air-quality')).name, 'Air-quality monitor');

    const system = { type: 'system' as const, id: null, label: 't', permissions: new Set<string>(), roles: [] };
    const decoder = { type: 'bytes' as const, fields: [{ metric: 'level', offset: 0, format: 'u8' as const }] };
    await t.services.estate.createProfile(system, {
      key: 'byte-gauge',
      name: 'Gauge',
      description: '',
      metrics: [{ name: 'level', unit: '%', kind: 'measure' }],
      reportIntervalSeconds: 60,
      offlineTolerance: 3,
      batteryLowPercent: 0,
      rawRetentionDays: 30,
      decoder,
    });
    const bytesForm = await t.app.inject({ url: '/console/estate/profiles/byte-gauge/edit', headers: as(officer) });
    assert.match(bytesForm.body, /Keep its bytes decoder/);
    const kept = await post(officer, '/console/estate/profiles/byte-gauge/edit', {
      name: 'Level gauge',
      report_interval: '60',
      offline_tolerance: '3',
      battery_low: '0',
      raw_retention_days: '30',
      'metrics-0-name': 'level',
      'metrics-0-unit': '%',
      'metrics-0-kind': 'measure',
      decoder_type: 'bytes',
    });
    assert.equal(kept.statusCode, 303, kept.body.slice(0, 500));
    const gauge = await t.services.estate.getProfile('byte-gauge');
    assert.equal(gauge.name, 'Level gauge');
    assert.deepEqual(gauge.decoder, decoder, 'the bytes decoder is kept');
  });

  test('a configured tile server is allowed by the content security policy and handed to the map', async () => {
    const other = await testApp(dialect, { WEFT_MAP_TILE_URL: 'https://{s}.tile.example.org/{z}/{x}/{y}.png', WEFT_MAP_ATTRIBUTION: '© Example contributors' });
    await other.services.estate.createSite(
      { type: 'system', id: null, label: 't', permissions: new Set(), roles: [] },
      { type: 'park', name: 'Green Park', address: 'Park Road', lat: 51.7, lon: -1.2 },
    );
    const b = await other.signInAs(['viewer']);
    const res = await other.app.inject({ url: '/console/estate/rollout', headers: { cookie: b.cookie } });
    assert.match(String(res.headers['content-security-policy']), /img-src 'self' data: https:\/\/\*\.tile\.example\.org;/);
    assert.match(res.body, /data-tile-url="https:\/\/\{s\}\.tile\.example\.org\/\{z\}/);
    assert.match(res.body, /data-attribution="© Example contributors"/);
    const plain = await t.app.inject({ url: '/console/estate/rollout', headers: as(viewer) });
    assert.match(String(plain.headers['content-security-policy']), /img-src 'self' data:;/, 'no tile server: images only from Weft');
  });
});
