import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ESTATE_COUNTS, planEstate } from '../../demo/estate.js';
import { wardsGeoJson, wealdmoorGeography } from '../../demo/geography.js';
import { Random } from '../../demo/random.js';
import { POSTCODE_PATTERN } from '../../src/modules/estate/estate.schema.js';
import { pointInGeometry, type PolygonGeometry } from '../../src/modules/estate/geo.js';

describe('the Wealdmoor geography', () => {
  const geo = wealdmoorGeography();
  const fc = wardsGeoJson(geo);

  test('has twenty wards, each a closed, counter-clockwise ring inside the county’s box', () => {
    assert.equal(fc.type, 'FeatureCollection');
    assert.equal(fc.features.length, 20);
    for (const f of fc.features) {
      const ring = f.geometry.coordinates[0];
      assert.ok(ring.length >= 4, `${f.properties.name} has a ring`);
      assert.deepEqual(ring[0], ring[ring.length - 1], `${f.properties.name} is closed`);
      let twiceArea = 0;
      for (let i = 0; i < ring.length - 1; i++) twiceArea += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
      assert.ok(twiceArea > 0, `${f.properties.name} winds counter-clockwise (RFC 7946)`);
      for (const [lon, lat] of ring) {
        assert.ok(lat >= 52 && lat <= 52.6 && lon >= -2.9 && lon <= -2, `${f.properties.name}: ${lat}, ${lon} is in the county`);
      }
      assert.match(f.properties.postcodeDistrict, /^WM\d{1,2}$/);
    }
    assert.equal(new Set(fc.features.map((f) => f.properties.name)).size, 20);
    assert.equal(new Set(fc.features.map((f) => f.properties.code)).size, 20);
  });

  test('wards do not overlap and leave no gaps inside the county', () => {
    const rng = new Random('overlap');
    const outline: PolygonGeometry = { type: 'Polygon', coordinates: [geo.outline] };
    let inside = 0;
    for (let i = 0; i < 5000; i++) {
      const lat = rng.between(52, 52.6);
      const lon = rng.between(-2.9, -2);
      const hits = fc.features.filter((f) => pointInGeometry(lon, lat, f.geometry)).length;
      const inCounty = pointInGeometry(lon, lat, outline);
      if (inCounty) inside++;
      assert.equal(hits, inCounty ? 1 : 0, `${lat}, ${lon} lies in ${hits} wards`);
    }
    assert.ok(inside > 2000);
  });

  test('is the same on every run, and different for another seed', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(wardsGeoJson(wealdmoorGeography()))), JSON.parse(JSON.stringify(fc)));
    assert.notDeepEqual(wardsGeoJson(wealdmoorGeography('elsewhere')).features[0].geometry, fc.features[0].geometry);
  });
});

describe('the Wealdmoor estate plan', () => {
  const geo = wealdmoorGeography();
  const plan = planEstate('wealdmoor', geo);
  const fc = wardsGeoJson(geo);

  test('has the issue’s numbers of each kind of site, and 1,500 sensed bays', () => {
    const count = (type: string) => plan.sites.filter((s) => s.type === type).length;
    for (const type of ['school', 'council_building', 'nhs_site', 'library', 'park', 'car_park', 'street_hub', 'home'] as const) assert.equal(count(type), ESTATE_COUNTS[type], type);
    const devices = (profile: string) => plan.devices.filter((d) => d.profile === profile).length;
    assert.equal(devices('parking-bay'), 1500);
    assert.equal(devices('air-quality'), 30);
    assert.equal(devices('telecare-hub'), 200);
    assert.equal(devices('pir-motion'), 200);
    for (const p of ['fall-detector', 'pendant', 'door-contact', 'bin-fill', 'energy-meter']) assert.ok(devices(p) > 10, p);
    assert.equal(devices('people-counter'), 40);
  });

  test('places every site inside exactly one ward, its own, by the estate’s own geometry', () => {
    for (const site of plan.sites) {
      const hits = fc.features.filter((f) => pointInGeometry(site.lon, site.lat, f.geometry));
      assert.equal(hits.length, 1, `${site.name} lies in ${hits.length} wards`);
      assert.equal(hits[0].properties.code, site.wardCode, site.name);
    }
  });

  test('has valid postcodes, unique site names, serials and DevEUIs, and a mix of rollout states', () => {
    const postcode = new RegExp(POSTCODE_PATTERN);
    for (const s of plan.sites) assert.match(s.postcode, postcode);
    const nonHomes = plan.sites.filter((s) => s.type !== 'home');
    assert.equal(new Set(nonHomes.map((s) => s.name)).size, nonHomes.length);
    assert.equal(new Set(plan.devices.map((d) => d.serial)).size, plan.devices.length);
    const euis = plan.devices.flatMap((d) => (d.externalId ? [d.externalId] : []));
    assert.equal(new Set(euis).size, euis.length);
    const schools = plan.sites.filter((s) => s.type === 'school');
    const share = (pred: (s: (typeof schools)[number]) => boolean) => schools.filter(pred).length / schools.length;
    assert.ok(share((s) => s.connectivity?.technology === 'full_fibre' && s.connectivity.status === 'live') > 0.6, 'most schools are on live full fibre');
    for (const status of ['planned', 'ordered', 'installed', 'fault']) assert.ok(share((s) => s.connectivity?.status === status) > 0, `some schools are ${status}`);
    assert.ok(share((s) => s.connectivity?.technology === 'fttc') > 0, 'some schools are still on FTTC');
    const nhs = plan.sites.filter((s) => s.type === 'nhs_site');
    assert.ok(nhs.filter((s) => s.connectivity?.technology === 'full_fibre' && s.connectivity.status === 'live').length / nhs.length > 0.6);
  });

  test('is the same on every run apart from ids', () => {
    const again = planEstate('wealdmoor', geo);
    const strip = (p: typeof plan) => p.sites.map((s) => [s.name, s.lat, s.lon, s.postcode, s.connectivity?.status]);
    assert.deepEqual(strip(again), strip(plan));
    assert.deepEqual(
      again.devices.map((d) => [d.serial, d.name, d.lat, d.sim.scale]),
      plan.devices.map((d) => [d.serial, d.name, d.lat, d.sim.scale]),
    );
  });
});
