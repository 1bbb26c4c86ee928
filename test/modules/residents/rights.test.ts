/**
 * Subject access and erasure, through the real app on each dialect: the export holds every kind
 * of data Weft keeps about a resident (confidential message text left out, staff unnamed);
 * erasure leaves no trace of their contact points or name in any table (but the opt-out list),
 * keeps counts, can be run again to finish one cut short, and is refused to staff without the
 * permission and to residents. Both audited.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { sql } from 'kysely';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { newId } from '../../../src/platform/ids.js';
import type { ResidentView } from '../../../src/modules/residents/index.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { catalogue, IN_CASTLE, pothole, system } from '../requests/fixtures.js';
import { lastSecret } from '../portal/portal-helpers.js';

const officer = { ...systemActor('test'), type: 'user' as const, id: '01900000-0000-7000-8000-00000000000b', label: 'officer@test.example' };

/** Every row of every table of this database (this schema on PostgreSQL), by table. */
async function everyRow(t: TestApp): Promise<Map<string, string>> {
  const db = t.services.db;
  const schema = db.dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(db.k)).rows[0].s : undefined;
  const out = new Map<string, string>();
  for (const table of await db.k.introspection.getTables()) {
    if (schema && table.schema !== schema) continue;
    out.set(
      table.name,
      JSON.stringify(
        await db.k
          .selectFrom(table.name as never)
          .selectAll()
          .execute(),
      ),
    );
  }
  return out;
}

forEachDialect('residents’ rights: subject access and erasure', (dialect) => {
  let t: TestApp;
  let exporter: string;
  let eraser: string;
  let staff: string;
  let admin: Browser;
  let care: Browser;
  let gwen: ResidentView;
  let sessionToken: string;
  const traces = ['gwen.price@example.com', '447700900601', '07700900601', 'Gwen Price', 'Orchard Row', '+441632960601', '01632 960601'];
  const call = (key: string, method: string, url: string, payload?: unknown) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}` }, payload: payload as object });
  const drain = async () => {
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) return;
    }
  };

  /** A resident with something in every module: messages (one confidential), pay link, letter, texts, opt-out, requests, library card, portal session, consents. */
  async function everything(name: string, email: string, mobile: string) {
    const r = t.services.residents;
    const person = await r.create(system, {
      name,
      email,
      mobile,
      landline: '01632 960601',
      address: [name, '7 Orchard Row', 'Castleton', 'WR1 1AA'],
      postcode: 'WR1 1AA',
      location: IN_CASTLE,
      preferences: { 'library-reservations': ['email', 'sms'], '*': ['email'] },
    });
    await r.subscribe(system, person.id, { topic: 'bin-collections', kind: 'home' });
    await r.giveConsent(system, person.id, 'marketing', { source: 'api' });
    const normalised = person.mobile as string;
    // Signed in to the portal: a confidential sign-in message to their email, a request row, a session.
    await t.services.portal.requestSignIn(email, 'en', null, { ip: '192.0.2.7' });
    const { token } = await lastSecret(t.services, email);
    const signedIn = await t.services.portal.confirmLink(token as string, { ip: '192.0.2.7' });
    assert.equal(signedIn.kind, 'session');
    // A library card and a reservation told by their preference.
    await t.services.libraries.linkCard(system, person.id, `L${mobile.slice(-6)}`);
    await t.services.libraries.reservationReady(system, {
      eventId: `ev-${mobile.slice(-4)}`,
      cardNumber: `L${mobile.slice(-6)}`,
      title: 'Middlemarch',
      branch: 'Castleton Library',
      collectBy: '2027-01-09',
    });
    // Problems reported: one from the portal, one by email over another channel with no resident named.
    const mine = await t.services.requests.create(pothole(IN_CASTLE), person.id);
    await t.services.requests.submit(system, { ...pothole(IN_CASTLE), reporterName: name, reporterEmail: email, reporterPhone: '01632 960601' }, { source: 'staff' });
    await t.services.requests.addUpdate(officer, mine.reference, { status: 'acknowledged', message: 'Thank you: we have your report.', public: true });
    // A photo with the portal's report: it may show them, so erasure deletes it.
    await t.services.db.k
      .insertInto('request_photos')
      .values({
        id: crypto.randomUUID(),
        request_id: (await t.services.requests.find(mine.reference))?.id as string,
        content_type: 'image/png',
        bytes: Buffer.from('photo of gwen'),
        created_at: new Date(),
      })
      .execute();
    await drain();
    // A pay link and a precompiled letter on one of their messages, a text from them, and their STOP.
    const [message] = await t.services.messaging.notificationsForResident(person.id, 1);
    const now = new Date();
    await t.services.db.k
      .insertInto('pay_links')
      .values({
        id: newId(),
        service_id: message.service_id,
        code: `pay${mobile.slice(-4)}`,
        notification_id: message.id,
        amount_pence: 7000,
        reference: 'PCN0001',
        description: 'Parking charge',
        language: 'en',
        return_url: null,
        status: 'unpaid',
        paid_amount_pence: null,
        paid_payment_id: null,
        paid_at: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await t.services.db.k
      .insertInto('letter_files')
      .values({ notification_id: message.id, pdf: Buffer.from('%PDF-1.4 test'), created_at: now })
      .execute();
    await t.services.messaging.repo.insertReceivedText({
      id: newId(),
      service_id: message.service_id,
      user_number: normalised,
      notify_number: '447700900000',
      content: `This is ${name}`,
      provider: 'test',
      provider_ref: null,
      created_at: now,
    });
    await t.services.messaging.repo.insertOptOut({ normalised_to: normalised, keyword: 'STOP', created_at: now });
    return { person: await r.get(person.id), token: signedIn.kind === 'session' ? signedIn.token : '' };
  }

  before(async () => {
    t = await testApp(dialect);
    await catalogue(t);
    exporter = await t.key(['residents:export', 'residents:read']);
    eraser = await t.key(['residents:erase']);
    staff = await t.key(['residents:read', 'residents:manage']);
    [admin, care] = await Promise.all([t.signInAs(['admin']), t.signInAs(['care'])]);
    ({ person: gwen, token: sessionToken } = await everything('Gwen Price', 'gwen.price@example.com', '07700900601'));
  });

  test('the export holds each kind of data, confidential text left out and staff unnamed, with a summary to read; audited', async () => {
    const res = await call(exporter, 'GET', `/api/v1/residents/${gwen.id}/export`);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-disposition']), new RegExp(`attachment; filename="resident-${gwen.id}.json"`));
    const x = res.json();
    assert.equal(x.format, 'weft-subject-access/1');
    assert.deepEqual([x.resident.name, x.resident.email, x.resident.mobile, x.resident.postcode], ['Gwen Price', 'gwen.price@example.com', '447700900601', 'WR1 1AA']);
    assert.deepEqual(x.resident.preferences['library-reservations'], ['email', 'sms']);
    assert.deepEqual(
      x.subscriptions.map((s: { topic: string }) => s.topic),
      ['bin-collections'],
    );
    assert.deepEqual(x.consents.map((c: { purpose: string }) => c.purpose).sort(), ['marketing', 'messages:bin-collections', 'messages:library-reservations']);
    const notes = x.messaging.notifications as { from: string; text: string | null; textWithheld: boolean; byPreference: boolean }[];
    const signIn = notes.find((n) => n.textWithheld);
    assert.ok(signIn && signIn.text === null && !signIn.byPreference, 'the sign-in message is listed, its text left out');
    assert.ok(
      notes.some((n) => n.byPreference && n.text?.includes('Middlemarch')),
      'the library’s message, with its text',
    );
    assert.ok(
      notes.some((n) => n.byPreference && /Thank you: we have your report/.test(n.text ?? '')),
      'the reporter told of the update',
    );
    assert.deepEqual(
      x.messaging.payLinks.map((p: { reference: string }) => p.reference),
      ['PCN0001'],
    );
    assert.equal(x.messaging.receivedTexts[0].text, 'This is Gwen Price');
    assert.deepEqual(
      x.messaging.optOuts.map((o: { number: string }) => o.number),
      ['447700900601'],
    );
    assert.equal(x.requests.requests.length, 2, 'the portal report and the one from her email');
    assert.ok(x.requests.requests.some((q: { publicUpdates: { message: string }[] }) => q.publicUpdates.some((u) => u.message === 'Thank you: we have your report.')));
    assert.deepEqual(
      x.libraries.cards.map((c: { cardNumber: string }) => c.cardNumber),
      ['L900601'],
    );
    assert.equal(x.libraries.events.length, 1);
    assert.equal(x.portal.sessions.length, 1);
    assert.equal(x.portal.sessions[0].ip, '192.0.2.7');
    assert.ok(!JSON.stringify(x.portal).includes('hash'), 'no token or secret hashes');
    assert.equal(x.portal.signInRequests[0].to, 'gwen.price@example.com');
    const actions = x.audit.map((a: { action: string }) => a.action);
    for (const action of ['residents.create', 'residents.subscribe', 'residents.consent_give', 'portal.sign_in', 'libraries.card_link']) assert.ok(actions.includes(action), action);
    assert.equal(x.audit.find((a: { action: string }) => a.action === 'portal.sign_in').by, 'you');
    assert.ok(!res.body.includes('officer@test.example') && !res.body.includes(admin.email), 'staff are not named');
    const summary = (x.summary as string[]).join('\n');
    for (const words of [
      /Name: Gwen Price\. Email: gwen\.price@example\.com\. Mobile: 07700 ?900601/,
      /Subscriptions: Bin collections where they live/,
      /Consents: 3, 3 in force/,
      /Messages sent to them: \d+/,
      /1 carried a sign-in link or code/,
      /Problems they reported: 2/,
      /Library cards: L900601/,
      /Portal sessions open now: 1/,
    ])
      assert.match(summary, words);
    const audited = await t.services.audit.search({ targetId: gwen.id, action: 'residents.export', limit: 5 });
    assert.equal(audited.length, 1);
    assert.deepEqual(audited[0].changes_json, { modules: ['residents', 'messaging', 'requests', 'libraries', 'portal', 'parking'] });
  });

  test('staff without the permission, and residents, can neither export nor erase; the console offers the buttons to those who may', async () => {
    assert.equal((await call(staff, 'GET', `/api/v1/residents/${gwen.id}/export`)).statusCode, 403);
    assert.equal((await call(staff, 'POST', `/api/v1/residents/${gwen.id}/erase`)).statusCode, 403);
    assert.equal((await call(exporter, 'POST', `/api/v1/residents/${gwen.id}/erase`)).statusCode, 403);
    const asResident = { cookie: `weft_resident=${sessionToken}` };
    assert.equal((await t.app.inject({ url: '/account', headers: asResident })).statusCode, 200, 'the session is a real one');
    const residentExport = await t.app.inject({ url: `/api/v1/residents/${gwen.id}/export`, headers: asResident });
    assert.ok([401, 403].includes(residentExport.statusCode), String(residentExport.statusCode));
    const residentErase = await t.app.inject({ method: 'POST', url: `/api/v1/residents/${gwen.id}/erase`, headers: asResident });
    assert.ok([401, 403].includes(residentErase.statusCode), String(residentErase.statusCode));
    assert.equal((await t.services.residents.get(gwen.id)).erasedAt, null);

    const page = (b: Browser, url: string) => t.app.inject({ url, headers: { cookie: b.cookie } });
    const forCare = await page(care, `/console/residents/${gwen.id}`);
    assert.equal(forCare.statusCode, 200);
    assert.doesNotMatch(forCare.body, /\/export"|\/erase"/);
    assert.match(forCare.body, /href="\/console\/residents\/[^"]+\/history"/);
    assert.equal((await page(care, `/console/residents/${gwen.id}/export`)).statusCode, 403);
    assert.equal((await page(care, `/console/residents/${gwen.id}/erase`)).statusCode, 403);
    const forAdmin = await page(admin, `/console/residents/${gwen.id}`);
    assert.match(forAdmin.body, /\/export"/);
    assert.match(forAdmin.body, /\/erase"/);
    const download = await page(admin, `/console/residents/${gwen.id}/export`);
    assert.equal(download.statusCode, 200);
    assert.match(String(download.headers['content-disposition']), /^attachment/);
    assert.equal(JSON.parse(download.body).resident.email, 'gwen.price@example.com');
  });

  test('the console’s contact history lists messages, requests, consents and signing in; message text only for those who read messages', async () => {
    const history = await t.app.inject({ url: `/console/residents/${gwen.id}/history`, headers: { cookie: care.cookie } });
    assert.equal(history.statusCode, 200);
    for (const words of ['Email from Libraries', 'Reported Potholes', 'Consent given: Council news and events', 'Signed in to the portal']) assert.ok(history.body.includes(words), words);
    assert.doesNotMatch(history.body, /Your reserved item is ready to collect/, 'care staff do not read messages');
    const forAdmin = await t.app.inject({ url: `/console/residents/${gwen.id}/history`, headers: { cookie: admin.cookie } });
    assert.match(forAdmin.body, /Your reserved item is ready to collect/);
    assert.match(forAdmin.body, /\/withdraw"/);
    assert.ok((await t.services.audit.search({ actorId: care.userId, action: 'residents.view', limit: 10 })).length >= 1, 'a look at the history is a look at the record');
  });

  test('the console asks for confirmation before erasing', async () => {
    const form = await t.app.inject({ url: `/console/residents/${gwen.id}/erase`, headers: { cookie: admin.cookie } });
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /This cannot be undone/);
    const unconfirmed = await t.app.inject({ method: 'POST', url: `/console/residents/${gwen.id}/erase`, headers: { cookie: admin.cookie }, payload: { _csrf: admin.csrf } });
    assert.equal(unconfirmed.statusCode, 400);
    assert.match(unconfirmed.body, /href="#confirm"/);
    assert.equal((await t.services.residents.get(gwen.id)).erasedAt, null);
  });

  test('erasure removes their personal data from every table but keeps counts; audited, and the audit log names no contact point', async () => {
    const before = await everyRow(t);
    assert.ok([...before.values()].some((rows) => rows.includes('gwen.price@example.com')));
    const countPhotos = async () => (await t.services.db.k.selectFrom('request_photos').select('id').execute()).length;
    const photosBefore = await countPhotos();
    const since = new Date(Date.now() - 86_400_000);
    const [messageCounts, requestCounts, auditBefore] = await Promise.all([
      t.services.messaging.countByChannelAndStatus(since),
      t.services.requests.countByStatus({}),
      t.services.db.k.selectFrom('audit_events').select('id').execute(),
    ]);

    const erased = await t.app.inject({ method: 'POST', url: `/console/residents/${gwen.id}/erase`, headers: { cookie: admin.cookie }, payload: { _csrf: admin.csrf, confirm: 'yes' } });
    assert.equal(erased.statusCode, 303, erased.body);
    const page = await t.app.inject({ url: String(erased.headers.location), headers: { cookie: admin.cookie } });
    assert.match(page.body, /Their personal data has been erased/);

    const after = await everyRow(t);
    assert.equal((await countPhotos()) + 1, photosBefore, 'the photo of their report is deleted');
    const holding = [...after].filter(([, rows]) => traces.some((x) => rows.includes(x))).map(([table]) => table);
    assert.deepEqual(holding, ['opt_outs'], 'only the opt-out list keeps her number, so a number that said STOP is never texted');
    const row = await t.services.db.k.selectFrom('residents').selectAll().where('id', '=', gwen.id).executeTakeFirstOrThrow();
    assert.deepEqual(
      [row.name, row.email, row.mobile, row.landline, row.address_json, row.postcode, row.latitude, row.longitude, row.area_id, row.quiet_from],
      ['Erased resident', null, null, null, null, null, null, null, null, null],
    );
    assert.ok(row.erased_at);
    const count = async (table: 'resident_subscriptions' | 'resident_channel_preferences' | 'library_cards' | 'portal_sessions') =>
      (await t.services.db.k.selectFrom(table).select('resident_id').where('resident_id', '=', gwen.id).execute()).length;
    assert.deepEqual([await count('resident_subscriptions'), await count('resident_channel_preferences'), await count('library_cards'), await count('portal_sessions')], [0, 0, 0, 0]);
    const consents = await t.services.db.k.selectFrom('resident_consents').selectAll().where('resident_id', '=', gwen.id).execute();
    assert.ok(consents.length === 3 && consents.every((c) => c.withdrawn_at), 'consents are withdrawn; they name no one');
    assert.equal((await t.services.db.k.selectFrom('notifications').select('id').where('resident_id', '=', gwen.id).execute()).length, 0);
    assert.equal((await t.services.db.k.selectFrom('letter_files').selectAll().execute()).length, 0);
    const requests = await t.services.db.k.selectFrom('requests').select(['reporter_resident_id', 'reporter_name', 'reporter_email', 'reporter_phone']).execute();
    assert.equal(requests.length, 2, 'her reports stay');
    assert.ok(requests.every((q) => !q.reporter_resident_id && !q.reporter_name && !q.reporter_email && !q.reporter_phone));
    assert.equal((await t.services.db.k.selectFrom('pay_links').selectAll().execute()).length, 1, 'the pay link stays in the council’s accounts');

    assert.deepEqual(await t.services.messaging.countByChannelAndStatus(since), messageCounts, 'messages by channel and status add up as before');
    assert.deepEqual(await t.services.requests.countByStatus({}), requestCounts);
    const audit = await t.services.db.k.selectFrom('audit_events').selectAll().execute();
    const kept = new Set(audit.map((a) => a.id));
    assert.ok(
      auditBefore.every((a) => kept.has(a.id)),
      'nothing removed from the audit log',
    );
    const erasures = audit.filter((a) => a.action === 'residents.erase');
    assert.equal(erasures.length, 1);
    assert.equal(erasures[0].actor_id, admin.userId);
    const changes = erasures[0].changes_json as Record<string, Record<string, number>>;
    assert.deepEqual(changes.residents, { resident: 1, subscriptions: 1, preferences: 2, consentsWithdrawn: 3 });
    assert.equal(changes.portal.sessions, 1);

    // Erased, the record cannot be changed; erasing again changes nothing more.
    const changed = await call(staff, 'PUT', `/api/v1/residents/${gwen.id}`, { name: 'Gwen Price', email: 'gwen.price@example.com' });
    assert.deepEqual([changed.statusCode, changed.json().code], [409, 'RESIDENT_ERASED']);
    const subscribed = await call(staff, 'POST', `/api/v1/residents/${gwen.id}/subscriptions`, {
      topic: 'roadworks',
      kind: 'area',
      areaId: row.area_id ?? (await t.services.estate.listAreas())[0].id,
    });
    assert.equal(subscribed.json().code, 'RESIDENT_ERASED');
    assert.equal((await call(staff, 'POST', `/api/v1/residents/${gwen.id}/consents`, { purpose: 'surveys' })).json().code, 'RESIDENT_ERASED');
    const again = await call(eraser, 'POST', `/api/v1/residents/${gwen.id}/erase`);
    assert.equal(again.statusCode, 200, again.body);
    assert.deepEqual(again.json().changed.messaging, { cancelled: 0, notifications: 0, letterFiles: 0, receivedTexts: 0 });
    assert.deepEqual(again.json().changed.requests, { requests: 0, updates: 0 });
    const signedOut = await t.app.inject({ url: '/account', headers: { cookie: `weft_resident=${sessionToken}` } });
    assert.equal(signedOut.statusCode, 303, 'she is signed out');
  });

  test('an erasure cut short is finished by running it again; a message not yet sent is cancelled', async () => {
    const { person: rhod } = await everything('Rhodri Price', 'rhodri@example.com', '07700900602');
    const key = { id: rhod.id, email: rhod.email, mobile: rhod.mobile };
    // A message waiting for its time, to be cancelled rather than sent with no one to go to.
    const library = await t.services.db.k.selectFrom('notifications').select(['service_id', 'template_id']).where('reference', '=', 'ev-0602').executeTakeFirstOrThrow();
    const sender = { ...system, serviceId: library.service_id, keyType: 'normal' };
    const template = library.template_id;
    await t.services.db.k.updateTable('residents').set({ quiet_from: '00:00', quiet_to: '23:59' }).where('id', '=', rhod.id).execute();
    const waiting = await t.services.residentSending.send(sender, {
      residentId: rhod.id,
      templates: { email: template },
      topic: 'library-reservations',
      personalisation: { title: 'Emma', branch: 'Castleton Library', collect_by: 'soon', collect_by_cy: 'cyn bo hir' },
    });
    assert.equal(waiting.status, 'created');
    // The crash: messaging and requests done, the rest not.
    await t.services.messaging.forgetResident(key);
    await t.services.requests.forgetResident(key);
    assert.equal((await t.services.residents.get(rhod.id)).email, 'rhodri@example.com');
    const res = await call(eraser, 'POST', `/api/v1/residents/${rhod.id}/erase`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().changed.messaging.notifications, 0, 'done before');
    assert.equal(res.json().changed.portal.sessions, 1, 'finished now');
    const rows = await everyRow(t);
    const holding = [...rows].filter(([, text]) => ['rhodri@example.com', '447700900602', 'Rhodri Price'].some((x) => text.includes(x))).map(([table]) => table);
    assert.deepEqual(holding, ['opt_outs']);
    const cancelled = await t.services.db.k.selectFrom('notifications').select(['status', 'recipient', 'next_attempt_at']).where('id', '=', waiting.id).executeTakeFirstOrThrow();
    assert.deepEqual(cancelled, { status: 'cancelled', recipient: '', next_attempt_at: null });
    const unknown = await call(eraser, 'POST', '/api/v1/residents/01900000-0000-7000-8000-000000000000/erase');
    assert.deepEqual([unknown.statusCode, unknown.json().code], [404, 'RESIDENT_NOT_FOUND']);
  });
});
