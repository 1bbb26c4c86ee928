/**
 * Who a message on a topic reaches: residents subscribed at home, in an area, within a radius of
 * home or at a site, matched against a campaign's areas and sites; each once, in id order, a page at
 * a time; counted the same way. Homes placed in the estate's areas and kept there when they move.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { distanceMetres, distanceToGeometry } from '../../../src/modules/estate/geo.js';
import { mergeSorted } from '../../../src/modules/residents/audience.service.js';
import type { Audience } from '../../../src/modules/residents/index.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { AppError } from '../../../src/platform/errors.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { square } from '../../geo-fixtures.js';

const system = systemActor('test');

/** Three wards about 3.4 km across: West and Middle touch; East lies 6.8 km beyond a gap. */
const WARDS = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { name: 'West', code: 'W1' }, geometry: { type: 'Polygon', coordinates: square(-2.5, 52.3, -2.45, 52.33) } },
    { type: 'Feature', properties: { name: 'Middle', code: 'W2' }, geometry: { type: 'Polygon', coordinates: square(-2.45, 52.3, -2.4, 52.33) } },
    { type: 'Feature', properties: { name: 'East', code: 'W3' }, geometry: { type: 'Polygon', coordinates: square(-2.3, 52.3, -2.25, 52.33) } },
  ],
};

const code = (err: unknown) => (err instanceof AppError ? err.code : String(err));

async function all(pages: AsyncGenerator<string[]>): Promise<string[][]> {
  const out: string[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

test('distanceToGeometry: 0 inside, metres to the nearest edge outside', () => {
  const geometry = { type: 'Polygon' as const, coordinates: square(-2.45, 52.3, -2.4, 52.33) };
  assert.equal(distanceToGeometry(52.315, -2.42, geometry), 0);
  // 0.01 degrees of longitude east of the edge at 52.315 N is about 680 m.
  const east = distanceToGeometry(52.315, -2.39, geometry);
  assert.ok(east > 670 && east < 690, `${east}`);
  // Beyond a corner, the distance is to the corner.
  const corner = distanceToGeometry(52.34, -2.39, geometry);
  assert.ok(Math.abs(corner - distanceMetres(52.34, -2.39, 52.33, -2.4)) < 1, `${corner}`);
});

test('mergeSorted: ranges of any length and a sorted list become pages of ids each once, in order', async () => {
  const id = (n: number) => n.toString(16).padStart(8, '0');
  const ranges = [Array.from({ length: 3000 }, (_, i) => id(i * 3)), Array.from({ length: 2500 }, (_, i) => id(i * 2)), [], [id(1), id(5), id(9_999_999)]];
  const extra = [id(0), id(7), id(8), id(20_000)];
  const fetches = ranges.map((rows) => async (after: string | null, limit: number) => rows.filter((r) => after === null || r > after).slice(0, limit));
  const expected = [...new Set([...ranges.flat(), ...extra])].sort();
  for (const size of [1, 7, 1000, 100_000]) {
    const pages = await all(mergeSorted(fetches, extra, size));
    assert.deepEqual(pages.flat(), expected, `page size ${size}`);
    assert.ok(pages.slice(0, -1).every((p) => p.length === size));
  }
  assert.deepEqual(await all(mergeSorted([], [], 10)), []);
});

forEachDialect('residents: the audience of a topic', (dialect) => {
  let t: TestApp;
  const areas: Record<string, string> = {};
  const sites: Record<string, string> = {};
  const people: Record<string, string> = {};
  const ids = async (audience: Audience, pageSize?: number) => (await all(t.services.residents.audienceIds(audience, pageSize))).flat();
  const resident = async (name: string, lat?: number, lon?: number) =>
    (await t.services.residents.create(system, { name, ...(lat === undefined ? {} : { location: { lat, lon: lon as number }, postcode: 'wr1 1aa' }) })).id;
  const subscribe = (who: string, input: Parameters<typeof t.services.residents.subscribe>[2]) => t.services.residents.subscribe(system, people[who], input);
  const sorted = (...names: string[]) => names.map((n) => people[n]).sort();

  before(async () => {
    t = await testApp(dialect);
    await t.services.estate.importAreas(system, WARDS);
    for (const a of await t.services.estate.listAreas()) areas[a.name] = a.id;
    const site = async (name: string, type: 'school' | 'library', lat: number, lon: number) => (await t.services.estate.createSite(system, { type, name, address: `${name} Road`, lat, lon })).id;
    sites.westSchool = await site('West School', 'school', 52.315, -2.475);
    sites.middleLibrary = await site('Middle Library', 'library', 52.315, -2.425);
    sites.eastSchool = await site('East School', 'school', 52.315, -2.275);

    people.westHome = await resident('West Home', 52.31, -2.49);
    people.eastFollowsMiddle = await resident('East follows Middle', 52.31, -2.26);
    people.schoolParent = await resident('School parent');
    people.nearMiddle = await resident('Near Middle', 52.315, -2.39);
    people.farFromMiddle = await resident('Far from Middle', 52.315, -2.39);
    people.nearEastSchool = await resident('Near East School', 52.315, -2.27);
    people.otherTopic = await resident('Other topic', 52.31, -2.49);
    people.everything = await resident('Everything', 52.32, -2.46);
    people.radiusAtHome = await resident('Radius at home', 52.3155, -2.4245);

    await subscribe('westHome', { topic: 'bin-collections', kind: 'home' });
    await subscribe('eastFollowsMiddle', { topic: 'bin-collections', kind: 'area', areaId: areas.Middle });
    await subscribe('schoolParent', { topic: 'bin-collections', kind: 'site', siteId: sites.westSchool });
    await subscribe('nearMiddle', { topic: 'bin-collections', kind: 'radius', radiusMetres: 1000 });
    await subscribe('farFromMiddle', { topic: 'bin-collections', kind: 'radius', radiusMetres: 500 });
    await subscribe('nearEastSchool', { topic: 'bin-collections', kind: 'radius', radiusMetres: 2000 });
    await subscribe('otherTopic', { topic: 'parking', kind: 'home' });
    await subscribe('radiusAtHome', { topic: 'bin-collections', kind: 'radius', radiusMetres: 100 });
    for (const input of [
      { kind: 'home' as const },
      { kind: 'area' as const, areaId: areas.West },
      { kind: 'site' as const, siteId: sites.westSchool },
      { kind: 'radius' as const, radiusMetres: 20_000 },
    ])
      await subscribe('everything', { topic: 'bin-collections', ...input });
  });

  test('a home is placed in the ward it lies in; the postcode is kept upper case with one space', async () => {
    const r = await t.services.residents.get(people.westHome);
    assert.deepEqual([r.areaId, r.postcode, r.location], [areas.West, 'WR1 1AA', { lat: 52.31, lon: -2.49 }]);
    assert.equal((await t.services.residents.get(people.nearMiddle)).areaId, null, 'between the wards');
  });

  test('each kind of subscription matches an area campaign, and each resident comes once', async () => {
    const topic = 'bin-collections';
    // West: the home in West, the site in West, the radius reaching it from Middle, and everything once.
    assert.deepEqual(await ids({ topic, areaIds: [areas.West] }), sorted('westHome', 'schoolParent', 'everything'));
    // Middle: the named area, the radius of 1 km from 680 m away (not that of 500 m), the radius from a home inside it, and 20 km from West.
    assert.deepEqual(await ids({ topic, areaIds: [areas.Middle] }), sorted('eastFollowsMiddle', 'nearMiddle', 'everything', 'radiusAtHome'));
    assert.deepEqual(await ids({ topic, areaIds: [areas.East] }), sorted('nearEastSchool', 'everything'));
    assert.deepEqual(await ids({ topic: 'parking', areaIds: [areas.West] }), sorted('otherTopic'));
    assert.deepEqual(await ids({ topic: 'council-news', areaIds: [areas.West, areas.Middle, areas.East] }), []);
  });

  test('a site campaign: subscribers at the site and radii that reach it', async () => {
    const topic = 'bin-collections';
    assert.deepEqual(await ids({ topic, siteIds: [sites.westSchool] }), sorted('schoolParent', 'everything'));
    assert.deepEqual(await ids({ topic, siteIds: [sites.eastSchool] }), sorted('nearEastSchool', 'everything'));
    assert.deepEqual(await ids({ topic, siteIds: [sites.middleLibrary.toUpperCase()] }), sorted('radiusAtHome', 'everything'), 'ids in any case');
    const both = await ids({ topic, areaIds: [areas.Middle], siteIds: [sites.westSchool, sites.eastSchool] });
    assert.deepEqual(both, sorted('eastFollowsMiddle', 'nearMiddle', 'everything', 'radiusAtHome', 'schoolParent', 'nearEastSchool'));
  });

  test('the count is what the pages give; pages are of the size asked for', async () => {
    const topic = 'bin-collections';
    for (const audience of [
      { topic, areaIds: [areas.West] },
      { topic, areaIds: [areas.Middle, areas.East] },
      { topic, siteIds: [sites.eastSchool, sites.middleLibrary] },
      { topic, areaIds: [areas.West, areas.Middle, areas.East], siteIds: [sites.eastSchool] },
    ]) {
      const pages = await all(t.services.residents.audienceIds(audience, 2));
      assert.ok(pages.slice(0, -1).every((p) => p.length === 2));
      assert.equal(await t.services.residents.countAudience(audience), pages.flat().length, JSON.stringify(audience));
    }
  });

  test('a home that moves takes its home subscriptions with it', async () => {
    const topic = 'bin-collections';
    const westHome = await t.services.residents.get(people.westHome);
    await t.services.residents.update(system, westHome.id, { name: westHome.name, location: { lat: 52.31, lon: -2.41 } });
    assert.equal((await t.services.residents.get(westHome.id)).areaId, areas.Middle);
    assert.ok((await ids({ topic, areaIds: [areas.Middle] })).includes(westHome.id));
    assert.ok(!(await ids({ topic, areaIds: [areas.West] })).includes(westHome.id));
    const [home] = (await t.services.residents.subscriptions(westHome.id)).filter((s) => s.kind === 'home');
    assert.deepEqual([home.areaId, home.areaName], [areas.Middle, 'Middle']);
    // A change that leaves the home alone leaves the home as it was.
    await t.services.residents.update(system, westHome.id, { name: 'West Home, moved' });
    assert.equal((await t.services.residents.get(westHome.id)).areaId, areas.Middle);
    await t.services.residents.update(system, westHome.id, { name: westHome.name, location: { lat: 52.31, lon: -2.49 } });
  });

  test('areas imported again: replaceHomes puts homes and home subscriptions in the areas as they are now', async () => {
    const moved = { ...WARDS, features: WARDS.features.map((f) => (f.properties.code === 'W1' ? { ...f, geometry: { type: 'Polygon', coordinates: square(-2.5, 52.3, -2.48, 52.33) } } : f)) };
    await t.services.estate.importAreas(system, moved);
    assert.equal((await t.services.residents.get(people.westHome)).areaId, areas.West, 'the import moves no resident');
    assert.equal(await t.services.residents.replaceHomes(), 1, 'Everything, at -2.46, is in no ward now');
    assert.equal((await t.services.residents.get(people.everything)).areaId, null);
    assert.ok((await ids({ topic: 'bin-collections', areaIds: [areas.West] })).includes(people.westHome));
    const home = (await t.services.residents.subscriptions(people.everything)).find((s) => s.kind === 'home');
    assert.equal(home?.areaId, null, 'the home subscription went with the home');
    assert.equal(await t.services.residents.replaceHomes(), 0);
    await t.services.estate.importAreas(system, WARDS);
    assert.equal(await t.services.residents.replaceHomes(), 1);
  });

  test('many residents page through in order, once each, across many fetches', async () => {
    const topic = 'council-news';
    const made: string[] = [];
    for (let i = 0; i < 600; i++) {
      const id = await resident(`Reader ${i}`, 52.31, -2.43);
      made.push(id);
      if (i % 3 === 0) await t.services.residents.subscribe(system, id, { topic, kind: 'home' });
      if (i % 2 === 0) await t.services.residents.subscribe(system, id, { topic, kind: 'area', areaId: areas.Middle });
      if (i % 5 === 0) await t.services.residents.subscribe(system, id, { topic, kind: 'site', siteId: sites.middleLibrary });
    }
    const expected = made.filter((_, i) => i % 3 === 0 || i % 2 === 0 || i % 5 === 0).sort();
    const audience = { topic, areaIds: [areas.Middle], siteIds: [sites.middleLibrary] };
    const pages = await all(t.services.residents.audienceIds(audience, 97));
    assert.deepEqual(pages.flat(), expected);
    assert.deepEqual(
      pages.map((p) => p.length),
      [...Array(Math.floor(expected.length / 97)).fill(97), expected.length % 97].filter(Boolean),
    );
    assert.equal(await t.services.residents.countAudience(audience), expected.length);
    assert.equal(await t.services.residents.countAudience({ topic, areaIds: [areas.West] }), 0);
  });

  test('an audience must name an area or a site, by id, on a topic that exists', async () => {
    const refused = async (audience: Audience) => {
      try {
        await ids(audience);
        return 'none';
      } catch (err) {
        return code(err);
      }
    };
    assert.equal(await refused({ topic: 'bin-collections' }), 'AUDIENCE_EMPTY');
    assert.equal(await refused({ topic: 'bin-collections', areaIds: [], siteIds: [] }), 'AUDIENCE_EMPTY');
    assert.equal(await refused({ topic: 'bin-collections', areaIds: ['West'] }), 'AUDIENCE_INVALID');
    assert.equal(await refused({ topic: 'no-such-topic', areaIds: [areas.West] }), 'TOPIC_NOT_FOUND');
    await assert.rejects(t.services.residents.countAudience({ topic: 'bin-collections' }), (err) => code(err) === 'AUDIENCE_EMPTY');
    // An area the estate no longer has matches nothing.
    assert.deepEqual(await ids({ topic: 'bin-collections', areaIds: ['01900000-0000-7000-8000-000000000000'] }), []);
  });
});
