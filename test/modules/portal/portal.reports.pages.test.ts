/**
 * "Report a problem" and "Your reports" in the residents' portal, as a browser without
 * JavaScript uses them: the category, then where, the category's questions, a description and
 * a photo (multipart, as the form sends it), in English and Welsh; the photo kept in the
 * database and served at the request's media_url; and the tests that try: a file that is not a
 * JPEG or PNG, another resident's report, no session, no CSRF token. Somewhere else by postcode:
 * one in the council's list places the report at its centre (routed by area); one not in it, with
 * nothing else to say where, is an error on the field in English and Welsh and nothing is stored;
 * the map's point still wins, and a description keeps a postcode the list lacks, unplaced.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { type Catalogue, catalogue, IN_CASTLE, IN_MEADOW, pothole, system } from '../requests/fixtures.js';
import { englishLeftOn, heading, lastSecret, summaryErrors, Visitor, visibleText } from './portal-helpers.js';

/** A 1×1 PNG, and the first bytes of a JPEG: the type is read from these, never from the name. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 1)]);

let n = 0;
const email = () => `report-${++n}-${Date.now()}@example.com`;

/** OX2 6AA's centre is in Meadow Ward, OX1 4AB's in Castle Ward. */
const MEADOW_CENTRE = { lat: 51.752345, lon: -1.158765 };
const CASTLE_CENTRE = { lat: 51.748123, lon: -1.256789 };

/** The portal's and the layout's English left on a Welsh page; staff's own English is marked lang="en" and allowed. */
const englishLeft = (html: string) => englishLeftOn(html, { namespaces: ['portal', 'platform'], markedEnglish: true });

/** A form as the browser sends it with a file input: multipart, the photo with the name and type the browser gives it. */
async function multipart(fields: Record<string, string>, photo?: { name: string; type: string; bytes: Buffer }) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (photo) form.append('photo', new Blob([new Uint8Array(photo.bytes)], { type: photo.type }), photo.name);
  else form.append('photo', new Blob([], { type: 'application/octet-stream' }), '');
  const request = new Request('http://x/', { method: 'POST', body: form });
  return { payload: Buffer.from(await request.arrayBuffer()), contentType: String(request.headers.get('content-type')) };
}

forEachDialect('residents’ portal: report a problem and your reports', (dialect) => {
  let t: TestApp;
  let c: Catalogue;

  before(async () => {
    t = await testApp(dialect);
    c = await catalogue(t);
  });

  /** A resident (living in Castle Ward unless told otherwise) signed in through the pages in a language. */
  const resident = async (lang: 'en' | 'cy' = 'en', overrides: Record<string, unknown> = { location: IN_CASTLE, postcode: 'OX1 1AA' }) => {
    const r = await t.services.residents.create(system, { name: 'Pat Resident', email: email(), language: lang, ...overrides });
    const v = new Visitor(t.app);
    await v.get(`/?lang=${lang}`);
    await v.submit('/sign-in', { contact: r.email as string });
    const { path } = await lastSecret(t.services, r.email as string);
    await v.get(path as string);
    await v.post(path as string);
    assert.ok(v.cookies.has('weft_resident'), 'signed in');
    return { r, v };
  };

  /** Posts the report form as the browser does: multipart, with the page's CSRF token unless told not to. */
  const send = async (v: Visitor, code: string, fields: Record<string, string>, photo?: { name: string; type: string; bytes: Buffer }, csrf = true) => {
    await v.get(`/report/${code}`);
    const { payload, contentType } = await multipart(csrf ? { _csrf: v.csrf, ...fields } : fields, photo);
    return t.app.inject({ method: 'POST', url: `/report/${code}`, remoteAddress: v.remoteAddress, headers: { cookie: v.cookie, 'content-type': contentType }, payload });
  };

  const count = async () =>
    Number(
      (
        await t.services.db.k
          .selectFrom('requests')
          .select((e) => e.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  describe('signed out', () => {
    test('every page sends a visitor to sign in, and back here after it; a staff session is no credential here', async () => {
      const v = new Visitor(t.app);
      for (const path of ['/report', '/report/potholes', '/reports', '/reports/ABCDEFGH', '/report/sent/ABCDEFGH']) {
        const res = await v.get(path);
        assert.equal(res.statusCode, 303, path);
        assert.equal(res.headers.location, `/sign-in?next=${encodeURIComponent(path)}`);
      }
      const staff = await t.signInAs(['service']);
      const res = await t.app.inject({ url: '/report', headers: { cookie: staff.cookie } });
      assert.equal(res.statusCode, 303);
    });
  });

  describe('reporting', () => {
    test('the first question lists the categories by group, in Welsh where they have a Welsh name, and asks again when none is chosen', async () => {
      for (const lang of ['en', 'cy'] as const) {
        const { v } = await resident(lang);
        const page = await v.get('/report');
        assert.equal(page.statusCode, 200);
        assert.equal(heading(page.body), lang === 'en' ? 'What is the problem?' : 'Beth yw’r broblem?');
        assert.match(page.body, /<h2 class="govuk-heading-s[^"]*"[^>]*>Roads<\/h2>/);
        assert.match(page.body, lang === 'en' ? /for="category">Potholes</ : /for="category">Tyllau yn y ffordd</);
        // Fly-tipping has no Welsh name: it is marked as English on a Welsh page.
        assert.match(page.body, lang === 'en' ? /for="category-fly-tipping">Fly-tipping</ : /for="category-fly-tipping" lang="en">Fly-tipping</);
        const none = await v.post('/report', {});
        assert.equal(none.statusCode, 400);
        assert.deepEqual(summaryErrors(none.body), [lang === 'en' ? '#category Choose what the problem is' : '#category Dewiswch beth yw’r broblem']);
        if (lang === 'cy') assert.deepEqual(englishLeft(none.body), []);
        const chosen = await v.post('/report', { category: 'potholes' });
        assert.equal(chosen.statusCode, 303);
        assert.equal(chosen.headers.location, '/report/potholes');
      }
      const { v } = await resident();
      assert.equal((await v.get('/report/no-such-thing')).statusCode, 404);
    });

    test('the form asks again with every mistake in the summary, in English and in Welsh, keeping what was typed; nothing is written', async () => {
      const before = await count();
      for (const lang of ['en', 'cy'] as const) {
        const { v } = await resident(lang);
        const page = await v.get('/report/potholes');
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /enctype="multipart\/form-data"/);
        assert.match(page.body, /name="where" type="radio" value="home"/);
        assert.match(page.body, /OX1 1AA, (In|Yn) Castle Ward/);
        if (lang === 'cy') assert.deepEqual(englishLeft(page.body), []);

        const empty = await send(v, 'potholes', {});
        assert.equal(empty.statusCode, 400);
        assert.deepEqual(
          summaryErrors(empty.body),
          lang === 'en'
            ? ['#where Choose where the problem is', '#attr-depth Answer the question: How deep is it?', '#description Describe the problem']
            : ['#where Dewiswch ble mae’r broblem', '#attr-depth Atebwch y cwestiwn: How deep is it?', '#description Disgrifiwch y broblem'],
        );
        assert.match(empty.body, /<title>(Error|Gwall): /);
        if (lang === 'cy') assert.deepEqual(englishLeft(empty.body), []);

        const wrong = await send(
          v,
          'potholes',
          { where: 'elsewhere', postcode: 'NOT A CODE', 'attr-depth': 'deep', 'attr-width': 'wide', description: 'x'.repeat(2001) },
          { name: 'hole.png', type: 'image/png', bytes: PNG },
        );
        assert.equal(wrong.statusCode, 400);
        assert.deepEqual(
          summaryErrors(wrong.body).map((e) => e.split(' ')[0]),
          ['#place', '#postcode', '#attr-width', '#description'],
        );
        assert.match(summaryErrors(wrong.body)[0], lang === 'en' ? /Tell us where the problem is/ : /Dywedwch wrthym ble mae’r broblem/);
        assert.match(wrong.body, /value="NOT A CODE"/, 'what they typed is kept');
        assert.match(wrong.body, /value="deep" checked/);
        assert.match(wrong.body, lang === 'en' ? /If you chose a photo, choose it again/ : /Os gwnaethoch ddewis llun, dewiswch ef eto/);
        // The question is staff's English, quoted in the Welsh error (where it is not marked as English).
        if (lang === 'cy') assert.deepEqual(englishLeft(wrong.body.replaceAll('How wide, in centimetres?', '')), []);

        const offMap = await send(v, 'potholes', { where: 'elsewhere', lat: '40.1', lon: '-2', 'attr-depth': 'deep', description: 'A hole' });
        assert.deepEqual(summaryErrors(offMap.body), [lang === 'en' ? '#place Choose the place on the map again' : '#place Dewiswch y lle ar y map eto']);
      }
      assert.equal(await count(), before, 'nothing was written');
    });

    test('a report at home with a PNG photo: placed and routed, confirmed with its reference, the photo served with its type at the request’s media_url', async () => {
      const { r, v } = await resident('cy');
      const sent = await send(
        v,
        'potholes',
        { where: 'home', place: 'Outside number 4', 'attr-depth': 'deep', 'attr-width': '30', description: 'A deep hole by the kerb' },
        { name: 'hole.png', type: 'image/png', bytes: PNG },
      );
      assert.equal(sent.statusCode, 303, sent.body.slice(0, 500));
      const reference = String(sent.headers.location).split('/').at(-1) as string;
      assert.match(String(sent.headers.location), /^\/report\/sent\/[0-9A-Z]{8}$/);

      const done = await v.get(String(sent.headers.location));
      assert.equal(done.statusCode, 200);
      assert.match(done.body, /govuk-panel--confirmation/);
      assert.match(done.body, new RegExp(`<strong>${reference}</strong>`));
      assert.equal(heading(done.body), 'Adroddiad wedi’i anfon');
      assert.deepEqual(englishLeft(done.body), []);

      const row = await t.services.db.k.selectFrom('requests').selectAll().where('reference', '=', reference).executeTakeFirstOrThrow();
      assert.deepEqual(
        [row.source, row.reporter_resident_id, row.lat, row.lon, row.postcode, row.address, row.area_id, row.team_id, row.language, row.attributes_json],
        ['portal', r.id, IN_CASTLE.lat, IN_CASTLE.lon, 'OX1 1AA', 'Outside number 4', c.castle, c.highways.id, 'cy', { depth: 'deep', width: '30' }],
      );
      const photo = new URL(row.media_url as string);
      assert.equal(`${photo.protocol}//${photo.host}`, t.services.config.publicUrl);
      assert.match(photo.pathname, /^\/request-photos\/[0-9a-f-]{36}\.png$/);
      const served = await t.app.inject({ url: photo.pathname });
      assert.equal(served.statusCode, 200);
      assert.equal(served.headers['content-type'], 'image/png');
      assert.ok(served.rawPayload.equals(PNG), 'the same bytes');
      const stored = await t.services.db.k.selectFrom('request_photos').select(['request_id', 'content_type']).executeTakeFirstOrThrow();
      assert.deepEqual(stored, { request_id: row.id, content_type: 'image/png' });

      const open311 = await t.app.inject({ url: `/open311/v2/requests/${reference}.json` });
      assert.equal(open311.json()[0].media_url, row.media_url);
      const audit = await t.services.audit.search({ action: 'requests.create', targetId: row.id, limit: 5 });
      assert.deepEqual(
        audit.map((e) => [e.actor_type, e.actor_id]),
        [['resident', r.id]],
      );
    });

    test('a JPEG is kept as a JPEG; a place chosen on the map is placed there; a description and a postcode alone are kept unplaced', async () => {
      const { v } = await resident('en', {});
      const form = await v.get('/report/fly-tipping');
      assert.ok(!/name="where"/.test(form.body), 'no home to choose: the question is not asked');
      assert.match(form.body, /href="\/account\/home"/);
      const onMap = await send(
        v,
        'potholes',
        { lat: String(IN_MEADOW.lat), lon: String(IN_MEADOW.lon), 'attr-depth': 'shallow', description: 'Cracked' },
        { name: 'photo', type: 'application/octet-stream', bytes: JPEG },
      );
      assert.equal(onMap.statusCode, 303, onMap.body.slice(0, 500));
      const placed = await t.services.db.k
        .selectFrom('requests')
        .selectAll()
        .where('reference', '=', String(onMap.headers.location).split('/').at(-1) as string)
        .executeTakeFirstOrThrow();
      assert.deepEqual([placed.area_id, placed.team_id], [c.meadow, c.contractor.id]);
      assert.match(placed.media_url as string, /\.jpg$/);
      const jpeg = await t.app.inject({ url: new URL(placed.media_url as string).pathname });
      assert.equal(jpeg.headers['content-type'], 'image/jpeg');

      const described = await send(v, 'fly-tipping', { place: 'Behind the library car park', postcode: 'ox11aa', description: 'Bags of rubbish' });
      assert.equal(described.statusCode, 303);
      const unplaced = await t.services.db.k
        .selectFrom('requests')
        .selectAll()
        .where('reference', '=', String(described.headers.location).split('/').at(-1) as string)
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [unplaced.lat, unplaced.area_id, unplaced.team_id, unplaced.address, unplaced.postcode, unplaced.media_url],
        [null, null, c.cleansing.id, 'Behind the library car park', 'OX1 1AA', null],
      );
    });

    test('a file that is not a JPEG or PNG, or one over 5 MB, is refused on the form and nothing is written; a body too large for any photo gets its own page', async () => {
      const photos = async () =>
        Number(
          (
            await t.services.db.k
              .selectFrom('request_photos')
              .select((e) => e.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = [await count(), await photos()];
      const { v } = await resident();
      const fields = { where: 'home', 'attr-depth': 'deep', description: 'A hole' };
      const gif = await send(v, 'potholes', fields, { name: 'hole.png', type: 'image/png', bytes: Buffer.from('GIF89a not really a png') });
      assert.equal(gif.statusCode, 400);
      assert.deepEqual(summaryErrors(gif.body), ['#photo The selected file must be a JPEG or PNG']);
      const big = Buffer.concat([PNG.subarray(0, 8), Buffer.alloc(5 * 1024 * 1024 + 1 - 8)]);
      const large = await send(v, 'potholes', fields, { name: 'big.png', type: 'image/png', bytes: big });
      assert.equal(large.statusCode, 400);
      assert.deepEqual(summaryErrors(large.body), ['#photo The selected file must be 5 MB or smaller']);
      const huge = await send(v, 'potholes', fields, { name: 'huge.png', type: 'image/png', bytes: Buffer.concat([big, big]) });
      assert.equal(huge.statusCode, 413);
      assert.match(huge.body, /What you sent is too large/);
      assert.deepEqual([await count(), await photos()], before);
    });

    test('the service itself refuses a photo that is not a JPEG or PNG or is too large, and a photo address that is not one', async () => {
      const r = t.services.requests;
      await assert.rejects(r.submit(system, pothole(), { source: 'staff', photo: { bytes: Buffer.from('%PDF-1.7') } }), { code: 'PHOTO_INVALID' });
      await assert.rejects(r.submit(system, pothole(), { source: 'staff', photo: { bytes: Buffer.concat([JPEG, Buffer.alloc(5 * 1024 * 1024)]) } }), { code: 'PHOTO_TOO_LARGE' });
      for (const url of ['/request-photos/01900000-0000-7000-8000-000000000000.png', '/request-photos/nonsense', '/request-photos/..%2Fetc.png']) {
        const res = await t.app.inject({ url });
        assert.equal(res.statusCode, 404, url);
        assert.equal(res.json().code, 'PHOTO_NOT_FOUND');
      }
      const made = await r.submit(system, pothole(), { source: 'staff', photo: { bytes: PNG } });
      const wrongType = new URL(made.media_url as string).pathname.replace(/\.png$/, '.jpg');
      assert.equal((await t.app.inject({ url: wrongType })).statusCode, 404);
    });

    test('a form without its CSRF token is refused and writes nothing', async () => {
      const before = await count();
      const { v } = await resident('cy');
      const forged = await send(v, 'potholes', { where: 'home', 'attr-depth': 'deep', description: 'A hole' }, undefined, false);
      assert.equal(forged.statusCode, 403);
      assert.match(forged.body, /Mae’r ffurflen wedi dod i ben/);
      const chooser = await v.post('/report', { category: 'potholes' }, { csrf: false });
      assert.equal(chooser.statusCode, 403);
      assert.equal(await count(), before);
    });
  });

  describe('your reports', () => {
    test('a resident sees only their own reports, newest first, with their status, and each one’s public updates but never an internal note', async () => {
      const mine = await resident('en');
      const theirs = await resident('en');
      const first = await t.services.requests.create({ category: 'fly-tipping', description: 'Old sofa', address: 'Mill Lane' }, mine.r.id);
      // Ids are time-ordered to the millisecond: the second is a moment later.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await t.services.requests.create(pothole(IN_CASTLE), mine.r.id);
      const other = await t.services.requests.create({ category: 'fly-tipping', description: 'Not mine', address: 'High Street' }, theirs.r.id);
      await t.services.requests.addUpdate(system, first.reference, { status: 'in_progress', message: 'A crew is on the way.', public: true });
      await t.services.requests.addUpdate(system, first.reference, { message: 'The caller is a councillor.', public: false });

      const list = await mine.v.get('/reports');
      assert.equal(list.statusCode, 200);
      assert.equal(heading(list.body), 'Your reports');
      assert.ok(list.body.indexOf(second.reference) < list.body.indexOf(first.reference), 'newest first');
      assert.ok(!list.body.includes(other.reference), 'not another resident’s');
      assert.match(list.body, /govuk-tag--yellow">\s*In progress/);
      assert.match(list.body, /href="\/report"/);

      const page = await mine.v.get(`/reports/${first.reference}`);
      assert.equal(page.statusCode, 200);
      assert.equal(heading(page.body), `Report ${first.reference}`);
      assert.match(page.body, /A crew is on the way\./);
      assert.match(page.body, /Status changed to In progress/);
      assert.ok(!page.body.includes('councillor'), 'no internal note');
      assert.match(page.body, /Mill Lane/);

      const cy = await mine.v.get(`/reports/${first.reference}?lang=cy`);
      assert.match(cy.body, /Statws wedi newid i Ar y gweill/);
      assert.deepEqual(englishLeft(cy.body), []);
      const cyList = await mine.v.get('/reports');
      assert.match(cyList.body, /Tyllau yn y ffordd/);
      assert.deepEqual(englishLeft(cyList.body), []);

      const empty = await theirs.v.get('/reports');
      assert.ok(empty.body.includes(other.reference));
      assert.ok(!empty.body.includes(first.reference));
    });

    test('another resident’s reference is "Page not found", exactly as one that does not exist', async () => {
      const owner = await resident();
      const stranger = await resident();
      const report = await t.services.requests.create(pothole(IN_CASTLE), owner.r.id);
      const theirs = await stranger.v.get(`/reports/${report.reference}`);
      const madeUp = await stranger.v.get('/reports/ZZZZZZZZ');
      const nonsense = await stranger.v.get('/reports/not-a-reference');
      const sent = await stranger.v.get(`/report/sent/${report.reference}`);
      for (const res of [theirs, madeUp, nonsense, sent]) {
        assert.equal(res.statusCode, 404);
        assert.equal(heading(res.body), 'Page not found');
        assert.ok(!res.body.includes(report.description));
      }
      assert.equal(visibleText(theirs.body), visibleText(madeUp.body));
      assert.equal((await owner.v.get(`/reports/${report.reference}`)).statusCode, 200);
    });

    test('the menu links to reporting and to your reports', async () => {
      const { v } = await resident();
      const account = await v.get('/account');
      assert.match(account.body, /href="\/report"[^>]*>Report a problem</);
      assert.match(account.body, /href="\/reports"[^>]*>Your reports</);
      const reports = await v.get('/reports');
      assert.match(reports.body, /href="\/reports" aria-current="page"/);
    });
  });

  /** The request a report made, from the page it was sent to. */
  const stored = (res: { headers: Record<string, unknown> }) =>
    t.services.db.k
      .selectFrom('requests')
      .selectAll()
      .where('reference', '=', String(res.headers.location).split('/').at(-1) as string)
      .executeTakeFirstOrThrow();

  describe('somewhere else by postcode, without a map', () => {
    // The council's postcode list: OX2 6AA's centre is in Meadow Ward, OX1 4AB's in Castle Ward (see the fixtures' wards).
    before(() => t.services.estate.importPostcodes(system, `pcds,lat,long\nOX2 6AA,${MEADOW_CENTRE.lat},${MEADOW_CENTRE.lon}\nOX1 4AB,${CASTLE_CENTRE.lat},${CASTLE_CENTRE.lon}\n`));

    test('a postcode in the list places the report at its centre, routed by the area it is in, the postcode kept', async () => {
      for (const lang of ['en', 'cy'] as const) {
        const { v } = await resident(lang);
        const res = await send(v, 'potholes', { where: 'elsewhere', postcode: 'ox26aa', 'attr-depth': 'deep', description: 'A hole by the bus stop' });
        assert.equal(res.statusCode, 303, res.body.slice(0, 800));
        const row = await stored(res);
        assert.deepEqual(
          [row.lat, row.lon, row.postcode, row.address, row.area_id, row.team_id],
          [MEADOW_CENTRE.lat, MEADOW_CENTRE.lon, 'OX2 6AA', null, c.meadow, c.contractor.id],
          'placed at OX2 6AA’s centre, in Meadow Ward, so it goes to the Meadow contractor',
        );
      }
      // A resident with no home saved has no "where" question: the postcode alone is enough.
      const { v: homeless } = await resident('en', {});
      const res = await send(homeless, 'fly-tipping', { postcode: 'OX1 4AB', place: 'Behind the shops', description: 'Bags of rubbish' });
      assert.equal(res.statusCode, 303, res.body.slice(0, 800));
      const row = await stored(res);
      assert.deepEqual([row.lat, row.lon, row.postcode, row.address, row.area_id], [CASTLE_CENTRE.lat, CASTLE_CENTRE.lon, 'OX1 4AB', 'Behind the shops', c.castle]);
    });

    test('a postcode not in the list, with nothing else to say where, is an error on the postcode field, in English and in Welsh; nothing is stored', async () => {
      const before = await count();
      for (const lang of ['en', 'cy'] as const) {
        const { v } = await resident(lang);
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
        if (lang === 'cy') assert.deepEqual(englishLeft(res.body), []);
      }
      assert.equal(await count(), before, 'nothing was stored');
    });

    test('the map’s point wins over a postcode; a description keeps a postcode the list lacks, unplaced, as before', async () => {
      const { v } = await resident('en', {});
      const onMap = await send(v, 'potholes', { lat: String(IN_CASTLE.lat), lon: String(IN_CASTLE.lon), postcode: 'OX2 6AA', 'attr-depth': 'deep', description: 'A hole' });
      assert.equal(onMap.statusCode, 303, onMap.body.slice(0, 800));
      const placed = await stored(onMap);
      assert.deepEqual([placed.lat, placed.lon, placed.postcode, placed.area_id], [IN_CASTLE.lat, IN_CASTLE.lon, 'OX2 6AA', c.castle]);

      const described = await send(v, 'fly-tipping', { place: 'The lane by the new estate', postcode: 'OX9 9ZZ', description: 'A sofa' });
      assert.equal(described.statusCode, 303, described.body.slice(0, 800));
      const unplaced = await stored(described);
      assert.deepEqual([unplaced.lat, unplaced.postcode, unplaced.area_id, unplaced.team_id], [null, 'OX9 9ZZ', null, c.cleansing.id]);

      // At home, the home is where it is: a postcode typed there is kept but places nothing.
      const { v: home } = await resident('en');
      const atHome = await send(home, 'potholes', { where: 'home', postcode: 'OX2 6AA', 'attr-depth': 'deep', description: 'A hole' });
      assert.equal(atHome.statusCode, 303);
      const homeRow = await stored(atHome);
      assert.deepEqual([homeRow.lat, homeRow.lon, homeRow.postcode], [IN_CASTLE.lat, IN_CASTLE.lon, 'OX2 6AA']);
    });

    test('the form says what the postcode is for, in English and in Welsh', async () => {
      const en = await (await resident('en')).v.get('/report/potholes');
      assert.match(en.body, /<div id="postcode-hint" class="govuk-hint">\s*We use the postcode to find roughly where the problem is\.\s*<\/div>/);
      const cy = await (await resident('cy')).v.get('/report/potholes');
      assert.match(cy.body, /Rydym yn defnyddio’r cod post i ddod o hyd i ble mae’r broblem, yn fras\./);
    });
  });
});
