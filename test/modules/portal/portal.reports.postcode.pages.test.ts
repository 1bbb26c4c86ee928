/**
 * "Report a problem" somewhere else by postcode, as a browser without JavaScript sends the form
 * (multipart, no map): a postcode in the council's postcode list places the report at the
 * postcode's centre, so it is routed by area; one not in the list, with nothing else to say where,
 * is an error on the postcode field in English and in Welsh, and nothing is stored. The map's
 * point, when there is one, still wins; a description keeps a postcode the list lacks, unplaced.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { type Catalogue, catalogue, IN_CASTLE, system } from '../requests/fixtures.js';
import { englishLeftOn, lastSecret, summaryErrors, Visitor } from './portal-helpers.js';

let n = 0;
const email = () => `postcode-${++n}-${Date.now()}@example.com`;

/** A form as the browser sends it with a file input left empty: multipart. */
async function multipart(fields: Record<string, string>) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('photo', new Blob([], { type: 'application/octet-stream' }), '');
  const request = new Request('http://x/', { method: 'POST', body: form });
  return { payload: Buffer.from(await request.arrayBuffer()), contentType: String(request.headers.get('content-type')) };
}

/** OX2 6AA's centre is in Meadow Ward, OX1 4AB's in Castle Ward (see the fixtures' wards). */
const MEADOW_CENTRE = { lat: 51.752345, lon: -1.158765 };
const CASTLE_CENTRE = { lat: 51.748123, lon: -1.256789 };

forEachDialect('residents’ portal: where a problem is, by postcode', (dialect) => {
  let t: TestApp;
  let c: Catalogue;

  before(async () => {
    t = await testApp(dialect);
    c = await catalogue(t);
    await t.services.estate.importPostcodes(system, `pcds,lat,long\nOX2 6AA,${MEADOW_CENTRE.lat},${MEADOW_CENTRE.lon}\nOX1 4AB,${CASTLE_CENTRE.lat},${CASTLE_CENTRE.lon}\n`);
  });

  /** A resident signed in through the pages, living in Castle Ward unless told otherwise. */
  const resident = async (lang: 'en' | 'cy', overrides: Record<string, unknown> = { location: IN_CASTLE, postcode: 'OX1 1AA' }) => {
    const r = await t.services.residents.create(system, { name: 'Sam Resident', email: email(), language: lang, ...overrides });
    const v = new Visitor(t.app);
    await v.get(`/?lang=${lang}`);
    await v.submit('/sign-in', { contact: r.email as string });
    const { path } = await lastSecret(t.services, r.email as string);
    await v.get(path as string);
    await v.post(path as string);
    assert.ok(v.cookies.has('weft_resident'), 'signed in');
    return v;
  };

  const send = async (v: Visitor, code: string, fields: Record<string, string>) => {
    await v.get(`/report/${code}`);
    const { payload, contentType } = await multipart({ _csrf: v.csrf, ...fields });
    return t.app.inject({ method: 'POST', url: `/report/${code}`, remoteAddress: v.remoteAddress, headers: { cookie: v.cookie, 'content-type': contentType }, payload });
  };

  const sent = (res: { headers: Record<string, unknown> }) =>
    t.services.db.k
      .selectFrom('requests')
      .selectAll()
      .where('reference', '=', String(res.headers.location).split('/').at(-1) as string)
      .executeTakeFirstOrThrow();

  const count = async () =>
    Number(
      (
        await t.services.db.k
          .selectFrom('requests')
          .select((e) => e.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  describe('somewhere else, without a map', () => {
    test('a postcode in the list places the report at its centre, routed by the area it is in, the postcode kept', async () => {
      for (const lang of ['en', 'cy'] as const) {
        const v = await resident(lang);
        const res = await send(v, 'potholes', { where: 'elsewhere', postcode: 'ox26aa', 'attr-depth': 'deep', description: 'A hole by the bus stop' });
        assert.equal(res.statusCode, 303, res.body.slice(0, 800));
        const row = await sent(res);
        assert.deepEqual(
          [row.lat, row.lon, row.postcode, row.address, row.area_id, row.team_id],
          [MEADOW_CENTRE.lat, MEADOW_CENTRE.lon, 'OX2 6AA', null, c.meadow, c.contractor.id],
          'placed at OX2 6AA’s centre, in Meadow Ward, so it goes to the Meadow contractor',
        );
      }
      // A resident with no home saved has no "where" question: the postcode alone is enough.
      const homeless = await resident('en', {});
      const res = await send(homeless, 'fly-tipping', { postcode: 'OX1 4AB', place: 'Behind the shops', description: 'Bags of rubbish' });
      assert.equal(res.statusCode, 303, res.body.slice(0, 800));
      const row = await sent(res);
      assert.deepEqual([row.lat, row.lon, row.postcode, row.address, row.area_id], [CASTLE_CENTRE.lat, CASTLE_CENTRE.lon, 'OX1 4AB', 'Behind the shops', c.castle]);
    });

    test('a postcode not in the list, with nothing else to say where, is an error on the postcode field, in English and in Welsh; nothing is stored', async () => {
      const before = await count();
      for (const lang of ['en', 'cy'] as const) {
        const v = await resident(lang);
        const res = await send(v, 'potholes', { where: 'elsewhere', postcode: 'ox9 9zz', 'attr-depth': 'deep', description: 'A hole' });
        assert.equal(res.statusCode, 400);
        assert.deepEqual(summaryErrors(res.body), [
          lang === 'en'
            ? '#postcode We could not find that postcode. Check it, or tell us where the problem is, such as the street and a landmark'
            : '#postcode Ni allem ddod o hyd i’r cod post hwnnw. Gwiriwch ef, neu dywedwch wrthym ble mae’r broblem, fel y stryd a thirnod',
        ]);
        assert.match(res.body, /<p id="postcode-error" class="govuk-error-message">/, 'the message is on the field');
        assert.match(res.body, /id="postcode" name="postcode" type="text"[^>]* value="ox9 9zz"/, 'what they typed is kept');
        assert.match(res.body, /value="elsewhere" checked/);
        if (lang === 'cy') assert.deepEqual(englishLeftOn(res.body, { namespaces: ['portal', 'platform'], markedEnglish: true }), []);
      }
      assert.equal(await count(), before, 'nothing was stored');
    });

    test('the map’s point wins over a postcode; a description keeps a postcode the list lacks, unplaced, as before', async () => {
      const v = await resident('en', {});
      const onMap = await send(v, 'potholes', { lat: String(IN_CASTLE.lat), lon: String(IN_CASTLE.lon), postcode: 'OX2 6AA', 'attr-depth': 'deep', description: 'A hole' });
      assert.equal(onMap.statusCode, 303, onMap.body.slice(0, 800));
      const placed = await sent(onMap);
      assert.deepEqual([placed.lat, placed.lon, placed.postcode, placed.area_id], [IN_CASTLE.lat, IN_CASTLE.lon, 'OX2 6AA', c.castle]);

      const described = await send(v, 'fly-tipping', { place: 'The lane by the new estate', postcode: 'OX9 9ZZ', description: 'A sofa' });
      assert.equal(described.statusCode, 303, described.body.slice(0, 800));
      const unplaced = await sent(described);
      assert.deepEqual([unplaced.lat, unplaced.postcode, unplaced.area_id, unplaced.team_id], [null, 'OX9 9ZZ', null, c.cleansing.id]);

      // At home, the home is where it is: a postcode typed there is kept but places nothing.
      const home = await resident('en');
      const atHome = await send(home, 'potholes', { where: 'home', postcode: 'OX2 6AA', 'attr-depth': 'deep', description: 'A hole' });
      assert.equal(atHome.statusCode, 303);
      const homeRow = await sent(atHome);
      assert.deepEqual([homeRow.lat, homeRow.lon, homeRow.postcode], [IN_CASTLE.lat, IN_CASTLE.lon, 'OX2 6AA']);
    });

    test('the form says what the postcode is for, in English and in Welsh', async () => {
      const en = await (await resident('en')).get('/report/potholes');
      assert.match(en.body, /<div id="postcode-hint" class="govuk-hint">\s*We use the postcode to find roughly where the problem is\.\s*<\/div>/);
      const cy = await (await resident('cy')).get('/report/potholes');
      assert.match(cy.body, /Rydym yn defnyddio’r cod post i ddod o hyd i ble mae’r broblem, yn fras\./);
    });
  });
});
