/**
 * The demo county's postcode list: residents' postcodes follow where they live (neighbours share
 * one), and the list made from the sites' and residents' postcodes, loaded through the estate's
 * import, places every one of them in the ward it belongs to.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { planEstate } from '../../../demo/estate.js';
import { distanceKm, pointInWard, postcodeAt, type Ward, wardsGeoJson, wealdmoorGeography } from '../../../demo/geography.js';
import { loadPostcodes, type PostcodePlace, postcodeCentres } from '../../../demo/postcodes.js';
import { Random } from '../../../demo/random.js';
import { postcodeKey } from '../../../src/modules/estate/mapping.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const geo = wealdmoorGeography();

/** Homes as the demo places residents (round their town centre), each with the postcode of where it is. */
function homes(count: number): (PostcodePlace & { ward: Ward })[] {
  const rng = new Random('postcode test');
  return Array.from({ length: count }, (_, i) => {
    const ward = geo.wards[i % geo.wards.length];
    const at = pointInWard(rng, ward, 1.5);
    return { postcode: postcodeAt(ward.town, at, 'WR'), ...at, ward };
  });
}

test('a resident’s postcode is where they live: a real-looking postcode of their town’s district, shared only with neighbours', () => {
  const all = homes(4000);
  for (const h of all) {
    assert.equal(postcodeKey(h.postcode), h.postcode, 'written as Weft writes postcodes');
    assert.equal(h.postcode.split(' ')[0], h.ward.town.district.replace('WM', 'WR'));
  }
  const centres = new Map(postcodeCentres(all).map((c) => [c.postcode, c]));
  assert.ok(centres.size > 1000, `${centres.size} postcodes`);
  // A postcode is a 150 m square (the few homes over 4.5 km from the town centre share the edge squares):
  // everyone in it is within its diagonal of its centre.
  const near = all.filter((h) => distanceKm(h, h.ward.town) < 4.4);
  assert.ok(near.length > 3900);
  for (const h of near) assert.ok(distanceKm(h, centres.get(h.postcode) as PostcodePlace) < 0.22, h.postcode);
});

forEachDialect('the demo county’s postcode list', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await testApp(dialect);
    await t.services.estate.importAreas(systemActor('test'), wardsGeoJson(geo));
  });

  test('loaded through the estate’s import, it places every site’s and resident’s postcode in their own ward', async () => {
    const sites = planEstate('wealdmoor', geo).sites;
    const residents = homes(500);
    const places = [...sites, ...residents].map((p) => ({ postcode: p.postcode, lat: p.lat, lon: p.lon }));
    const loaded = await loadPostcodes(t.services.estate, systemActor('weft demo'), places);
    const distinct = new Set(places.map((p) => p.postcode)).size;
    assert.deepEqual(loaded, { count: distinct, skipped: 0, inAreas: distinct });
    const wardId = new Map((await t.services.estate.listAreas()).map((a) => [a.code, a.id]));
    for (const s of sites) assert.equal((await t.services.estate.lookupPostcode(s.postcode))?.areaId, wardId.get(s.wardCode), s.postcode);
    for (const r of residents) assert.equal((await t.services.estate.lookupPostcode(r.postcode.toLowerCase()))?.areaId, wardId.get(r.ward.code), r.postcode);
  });
});
