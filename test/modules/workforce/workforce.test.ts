/**
 * Hybrid-working hubs by API: hubs on estate sites with desks and rooms, bookings for a day or a
 * slot with no double bookings (even when many race for one desk over HTTP), check-in and out,
 * cancelling, no-shows released by the job, closures that cancel bookings and email everyone
 * booked, occupancy; and every error code the module has.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { addDays, londonDay, londonInstant } from '../../../src/platform/dates.js';
import { HUB_CLOSED_TEMPLATE, HUBS_SERVICE } from '../../../src/modules/workforce/index.js';
import { type Browser, PASSWORD, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];
// The service's clock is held at 10:00 (London) tomorrow: every test passes at any hour of the real day.
const TODAY = addDays(londonDay(new Date()), 1);
const NOW = londonInstant(TODAY, 10 * 60);
const at = (day: string, hhmm: string) => londonInstant(day, Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)));

forEachDialect('hybrid-working hubs', (dialect) => {
  let t: TestApp;
  let manager: string;
  let reader: string;
  let booker: string;
  let alice: Browser;
  let bob: Browser;
  let hubId: string;
  const desks: string[] = [];
  let room: string;
  const tomorrow = () => addDays(TODAY, 1);
  const call = (method: string, url: string, payload?: unknown, as: string | Browser = manager) =>
    t.app.inject({
      method: method as 'GET',
      url,
      headers: typeof as === 'string' ? { authorization: `Bearer ${as}` } : { cookie: as.cookie, 'x-csrf-token': as.csrf },
      payload: payload as object,
    });
  const code = (res: { statusCode: number; json: () => { code: string } }, status: number, expected: string) => {
    assert.equal(res.statusCode, status, JSON.stringify(res.json()));
    assert.equal(res.json().code, expected);
  };

  before(async () => {
    t = await testApp(dialect);
    t.services.workforce.clock = () => NOW;
    manager = await t.key(['hubs:manage', 'hubs:book', 'hubs:read']);
    reader = await t.key(['hubs:read']);
    booker = await t.key(['hubs:book', 'hubs:read']);
    alice = await t.signInAs(['service'], `alice-${dialect}@council.example`);
    bob = await t.signInAs(['comms'], `bob-${dialect}@council.example`);
    const site = await t.services.estate.createSite(system, {
      type: 'library',
      name: 'Moorchester Library',
      address: '1 High Street',
      lat: 52.3,
      lon: -2.4,
      connectivity: { technology: 'full_fibre', status: 'live', downMbps: 900, upMbps: 110 },
    });
    const res = await call('POST', '/api/v1/hubs', { siteId: site.id, opens: '08:00', closes: '18:00', openDays: EVERY_DAY, graceMinutes: 30, notes: 'Ask at the desk' });
    assert.equal(res.statusCode, 201, res.body);
    hubId = res.json().id;
    for (let i = 1; i <= 12; i++) {
      const d = await call('POST', `/api/v1/hubs/${hubId}/spaces`, { name: `Desk ${i}`, kind: 'desk', equipment: ['two screens'], accessibility: i === 1 ? 'height-adjustable' : null });
      assert.equal(d.statusCode, 201, d.body);
      desks.push(d.json().id);
    }
    room = (await call('POST', `/api/v1/hubs/${hubId}/spaces`, { name: 'Meeting room', kind: 'meeting_room', capacity: 8, equipment: ['video conferencing'] })).json().id;
  });

  test('a hub shows its site, its Wi-Fi from the estate, its hours and spaces', async () => {
    const hub = (await call('GET', `/api/v1/hubs/${hubId}`, undefined, reader)).json();
    assert.equal(hub.name, 'Moorchester Library');
    assert.deepEqual(hub.connectivity, { technology: 'full_fibre', status: 'live', downMbps: 900, upMbps: 110 });
    assert.deepEqual([hub.opens, hub.closes, hub.openDays, hub.graceMinutes], ['08:00', '18:00', EVERY_DAY, 30]);
    assert.equal(hub.spaces.length, 13);
    assert.deepEqual(hub.spaces.find((s: { id: string }) => s.id === room).capacity, 8);
    assert.equal((await call('GET', '/api/v1/hubs', undefined, reader)).json().hubs.length, 1);
  });

  test('hub and space errors: each code, and nothing saved', async () => {
    const school = await t.services.estate.createSite(system, { type: 'school', name: 'Oak Primary', address: 'Oak Lane' });
    const site = (await call('GET', `/api/v1/hubs/${hubId}`)).json().siteId;
    const notHub = await call('POST', '/api/v1/hubs', { siteId: school.id });
    code(notHub, 400, 'HUB_INVALID');
    assert.equal(notHub.json().errors[0].message, 'Choose a library, council building or NHS site');
    const bad = await call('POST', '/api/v1/hubs', { siteId: site, opens: '09:15', closes: '08:00' });
    code(bad, 400, 'HUB_INVALID');
    assert.deepEqual(
      bad.json().errors.map((e: { field: string }) => e.field),
      ['opens', 'closes'],
    );
    code(await call('POST', '/api/v1/hubs', { siteId: site }), 409, 'HUB_SITE_TAKEN');
    code(await call('GET', '/api/v1/hubs/0193a000-0000-7000-8000-000000000000'), 404, 'HUB_NOT_FOUND');
    code(await call('POST', `/api/v1/hubs/${hubId}/spaces`, { name: 'Desk 1', kind: 'desk' }), 409, 'HUB_SPACE_NAME_TAKEN');
    code(await call('POST', `/api/v1/hubs/${hubId}/spaces`, { name: 'Big desk', kind: 'desk', capacity: 2 }), 400, 'HUB_SPACE_INVALID');
    code(await call('PATCH', `/api/v1/hubs/${hubId}/spaces/0193a000-0000-7000-8000-000000000000`, { name: 'X' }), 404, 'HUB_SPACE_NOT_FOUND');
    assert.equal((await call('POST', '/api/v1/hubs', { siteId: school.id }, reader)).statusCode, 403);
    assert.equal((await call('GET', `/api/v1/hubs/${hubId}`)).json().spaces.length, 13);
    // The estate failing is not the client's mistake: it is not answered as a bad site.
    const estate = t.services.estate;
    const getSite = estate.getSite;
    estate.getSite = async () => {
      throw new Error('the database is down');
    };
    try {
      await assert.rejects(t.services.workforce.createHub(system, { siteId: school.id }), /the database is down/);
    } finally {
      estate.getSite = getSite;
    }
  });

  test('booking a whole day or a slot; a space and a person are never booked twice at once', async () => {
    const day = tomorrow();
    const whole = await call('POST', '/api/v1/hub-bookings', { spaceId: desks[0], day }, alice);
    assert.equal(whole.statusCode, 201, whole.body);
    assert.deepEqual([whole.json().start, whole.json().end, whole.json().wholeDay, whole.json().status, whole.json().who], ['08:00', '18:00', true, 'booked', alice.email]);
    code(await call('POST', '/api/v1/hub-bookings', { spaceId: desks[0], day, start: '13:00', end: '14:00' }, bob), 409, 'HUB_SPACE_TAKEN');
    code(await call('POST', '/api/v1/hub-bookings', { spaceId: desks[1], day, start: '09:00', end: '10:00' }, alice), 409, 'HUB_BOOKING_CLASH');
    const morning = await call('POST', '/api/v1/hub-bookings', { spaceId: desks[1], day, start: '08:00', end: '13:00' }, bob);
    assert.equal(morning.statusCode, 201, morning.body);
    // Back to back is not a clash.
    const meeting = await call('POST', '/api/v1/hub-bookings', { spaceId: room, day, start: '13:00', end: '14:30' }, bob);
    assert.equal(meeting.statusCode, 201, meeting.body);
    const avail = (await call('GET', `/api/v1/hubs/${hubId}/availability?day=${day}`, undefined, reader)).json();
    const d2 = avail.spaces.find((s: { id: string }) => s.id === desks[1]);
    assert.deepEqual(d2.busy, [{ start: '08:00', end: '13:00' }]);
    assert.deepEqual(d2.free, [{ start: '13:00', end: '18:00' }]);
    assert.equal(d2.freeAllDay, false);
    assert.equal(avail.freeDesks, 11);
    const mine = (await call('GET', '/api/v1/hub-bookings', undefined, bob)).json().bookings;
    assert.deepEqual(
      mine.map((b: { spaceName: string }) => b.spaceName),
      ['Desk 2', 'Meeting room'],
    );
  });

  test('booking errors: bad times, closed days, who it is for, whose it is', async () => {
    const day = tomorrow();
    const bad = async (body: object, field: string) => {
      const res = await call('POST', '/api/v1/hub-bookings', { spaceId: desks[5], day, ...body }, alice);
      code(res, 400, 'HUB_BOOKING_INVALID');
      assert.equal(res.json().errors[0].field, field, res.body);
    };
    await bad({ start: '07:00', end: '09:00' }, 'start');
    await bad({ start: '17:00', end: '19:00' }, 'end');
    await bad({ start: '09:15', end: '10:00' }, 'start');
    await bad({ start: '10:00', end: '10:00' }, 'end');
    await bad({ start: '10:00' }, 'end');
    await bad({ day: '2020-01-01' }, 'day');
    await bad({ day: '2031-02-30' }, 'day');
    await bad({ day: addDays(TODAY, 200) }, 'day');
    code(await call('POST', '/api/v1/hub-bookings', { spaceId: '0193a000-0000-7000-8000-000000000000', day }, alice), 404, 'HUB_SPACE_NOT_FOUND');
    code(await call('POST', '/api/v1/hub-bookings', { spaceId: desks[5], day }, booker), 400, 'HUB_BOOKING_PERSON_REQUIRED');
    code(await call('POST', '/api/v1/hub-bookings', { spaceId: desks[5], day, userId: alice.userId }, bob), 403, 'HUB_BOOK_FOR_OTHERS_FORBIDDEN');
    const forBob = await call('POST', '/api/v1/hub-bookings', { spaceId: desks[5], day: addDays(day, 1), userId: bob.userId });
    assert.equal(forBob.statusCode, 201, forBob.body);
    assert.equal(forBob.json().who, bob.email);
    code(await call('POST', `/api/v1/hub-bookings/${forBob.json().id}/cancel`, {}, alice), 403, 'HUB_BOOKING_NOT_YOURS');
    code(await call('GET', '/api/v1/hub-bookings/0193a000-0000-7000-8000-000000000000', undefined, alice), 404, 'HUB_BOOKING_NOT_FOUND');
    // A hub that does not open on a day.
    const weekday = new Date(`${day}T12:00:00Z`).getUTCDay() || 7;
    const offices = await t.services.estate.createSite(system, { type: 'nhs_site', name: 'Riverside Health Centre', address: '2 River Road' });
    const other = (await call('POST', '/api/v1/hubs', { siteId: offices.id, openDays: EVERY_DAY.filter((d) => d !== weekday) })).json();
    const desk = (await call('POST', `/api/v1/hubs/${other.id}/spaces`, { name: 'Desk 1', kind: 'desk' })).json();
    const shut = await call('POST', '/api/v1/hub-bookings', { spaceId: desk.id, day }, alice);
    code(shut, 409, 'HUB_CLOSED');
    assert.match(shut.json().detail, /does not open on \w+days/);
    assert.equal((await call('PATCH', `/api/v1/hubs/${other.id}`, { graceMinutes: 20 })).statusCode, 200);
  });

  test('check in, check out (the rest of the time is free again), cancel; each only when it makes sense', async () => {
    const ws = t.services.workforce;
    const day = addDays(TODAY, 3);
    const userActor = { type: 'user' as const, id: alice.userId, label: alice.email, permissions: new Set(['hubs:book']), roles: ['service'] };
    const at = (hhmm: string) => londonInstant(day, Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)));
    const b = await ws.book(userActor, { spaceId: desks[2], day, start: '09:00', end: '17:00' }, {}, at('07:00'));
    await assert.rejects(ws.checkIn(userActor, b.id, {}, at('08:00')), { code: 'HUB_CHECK_IN_NOT_NOW' });
    await assert.rejects(ws.checkOut(userActor, b.id, {}, at('08:45')), { code: 'HUB_BOOKING_STATE' });
    const inside = await ws.checkIn(userActor, b.id, {}, at('08:45'));
    assert.equal(inside.status, 'checked_in');
    await assert.rejects(ws.checkIn(userActor, b.id, {}, at('09:00')), { code: 'HUB_BOOKING_STATE' });
    const out = await ws.checkOut(userActor, b.id, {}, at('12:10'));
    assert.equal(out.status, 'checked_out');
    const free = (await ws.availability(hubId, day, at('07:00'))).spaces.find((s) => s.id === desks[2]);
    assert.deepEqual(free?.busy, [{ start: '09:00', end: '12:30' }], 'the half hours after checking out are free again');
    await assert.rejects(ws.cancel(userActor, b.id, {}, {}, at('12:20')), { code: 'HUB_BOOKING_STATE' });

    // Over HTTP: cancel frees the space for someone else.
    const mine = await call('POST', '/api/v1/hub-bookings', { spaceId: desks[3], day: addDays(day, 2) }, alice);
    assert.equal(mine.statusCode, 201, mine.body);
    const cancelled = await call('POST', `/api/v1/hub-bookings/${mine.json().id}/cancel`, { reason: 'working from home' }, alice);
    assert.equal(cancelled.json().status, 'cancelled');
    assert.equal(cancelled.json().cancelReason, 'working from home');
    code(await call('POST', `/api/v1/hub-bookings/${mine.json().id}/cancel`, {}, alice), 409, 'HUB_BOOKING_STATE');
    code(await call('POST', `/api/v1/hub-bookings/${mine.json().id}/check-in`, {}, alice), 409, 'HUB_BOOKING_STATE');
    assert.equal((await call('POST', '/api/v1/hub-bookings', { spaceId: desks[3], day: addDays(day, 2) }, bob)).statusCode, 201);
    const audit = await t.services.db.k.selectFrom('audit_events').select('action').where('action', 'like', 'hubs.%').execute();
    for (const action of ['hubs.create', 'hubs.space_add', 'hubs.book', 'hubs.cancel', 'hubs.check_in', 'hubs.check_out', 'hubs.update'])
      assert.ok(
        audit.some((a) => a.action === action),
        action,
      );
  });

  test('no-shows: the job releases a booking not checked in within the hub’s grace period, and not before', async () => {
    const ws = t.services.workforce;
    const day = addDays(TODAY, 4);
    const actor = { type: 'user' as const, id: bob.userId, label: bob.email, permissions: new Set(['hubs:book']), roles: ['comms'] };
    const at = (m: number) => londonInstant(day, m);
    const b = await ws.book(actor, { spaceId: desks[4], day, start: '10:00', end: '12:00' }, {}, at(8 * 60));
    await ws.releaseNoShows(at(10 * 60 + 29));
    assert.equal((await ws.getBooking(actor, b.id)).status, 'booked');
    assert.ok((await ws.releaseNoShows(at(10 * 60 + 30))) >= 1);
    const released = await ws.getBooking(actor, b.id);
    assert.equal(released.status, 'released');
    await assert.rejects(ws.checkIn(actor, b.id, {}, at(10 * 60 + 31)), { code: 'HUB_BOOKING_STATE' });
    // Released: someone else may have the desk now.
    const again = await ws.book({ ...actor, id: alice.userId, label: alice.email }, { spaceId: desks[4], day, start: '10:30', end: '12:00' }, {}, at(10 * 60 + 31));
    assert.equal(again.status, 'booked');
    // The job is registered and scheduled like the platform's own.
    const { scheduleRecurringJobs } = await import('../../../src/services.js');
    await scheduleRecurringJobs(t.services);
    const schedules = await t.services.db.k.selectFrom('job_schedules').select('name').execute();
    assert.ok(schedules.some((s) => s.name === 'workforce.release_no_shows'));
  });

  test('closing a hub cancels the bookings then and emails everyone booked the reason, once', async () => {
    const day = addDays(TODAY, 6);
    for (const [who, desk] of [
      [alice, desks[7]],
      [bob, desks[8]],
    ] as const)
      assert.equal((await call('POST', '/api/v1/hub-bookings', { spaceId: desk, day }, who)).statusCode, 201);
    await call('POST', '/api/v1/hub-bookings', { spaceId: desks[8], day: addDays(day, 1) }, bob);
    const outside = await call('POST', '/api/v1/hub-bookings', { spaceId: desks[9], day: addDays(day, 2) }, bob);
    code(await call('POST', `/api/v1/hubs/${hubId}/closures`, { from: day, to: addDays(day, -1), reason: 'x' }), 400, 'HUB_CLOSURE_INVALID');
    code(await call('POST', `/api/v1/hubs/${hubId}/closures`, { from: '2020-01-01', reason: 'x' }), 400, 'HUB_CLOSURE_INVALID');
    code(await call('POST', `/api/v1/hubs/${hubId}/closures`, { from: day, reason: '  ' }), 400, 'HUB_CLOSURE_INVALID');
    const res = await call('POST', `/api/v1/hubs/${hubId}/closures`, { from: day, to: addDays(day, 1), reason: 'the heating has failed' });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().cancelled, 3);
    code(await call('POST', '/api/v1/hub-bookings', { spaceId: desks[10], day }, alice), 409, 'HUB_CLOSED');
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) break;
    }
    const mail = await t.services.db.k
      .selectFrom('notifications')
      .select(['recipient', 'subject', 'body', 'status'])
      .where('reference', 'like', `hub-closure-${res.json().id}:%`)
      .orderBy('recipient')
      .execute();
    assert.deepEqual(
      mail.map((m) => m.recipient),
      [alice.email, bob.email],
      'one email each, all their days in it',
    );
    assert.match(mail[1].body, /the heating has failed/);
    assert.equal((mail[1].body.match(/Desk 9/g) ?? []).length, 2);
    assert.match(mail[0].subject ?? '', /Moorchester Library is closed/);
    await t.services.workforce.tellClosure(res.json().id);
    assert.equal((await t.services.db.k.selectFrom('notifications').select('id').where('reference', 'like', `hub-closure-${res.json().id}:%`).execute()).length, 2, 'told once');
    const cancelled = (await call('GET', '/api/v1/hub-bookings', undefined, bob))
      .json()
      .bookings.filter((b: { cancelReason: string | null }) => b.cancelReason === 'Hub closed: the heating has failed');
    assert.equal(cancelled.length, 2);
    assert.equal((await call('GET', `/api/v1/hub-bookings/${outside.json().id}`, undefined, bob)).json().status, 'booked', 'a day after the closure is untouched');
    const closures = (await call('GET', `/api/v1/hubs/${hubId}/closures`, undefined, reader)).json().closures;
    assert.equal(closures.length, 1);
    assert.equal(closures[0].createdBy, undefined, 'a reader is not shown who closed it');
    assert.ok((await call('GET', `/api/v1/hubs/${hubId}/closures`)).json().closures[0].createdBy, 'a manager is');
  });

  test('occupancy per day: booked, checked in, no-shows, capacity', async () => {
    const ws = t.services.workforce;
    const day = addDays(TODAY, 20);
    const [a, b] = [alice, bob].map((p) => ({ type: 'user' as const, id: p.userId, label: p.email, permissions: new Set(['hubs:book']), roles: ['service'] }));
    const came = await ws.book(a, { spaceId: desks[0], day, start: '09:00', end: '10:00' }, {}, at(day, '07:00'));
    await ws.book(b, { spaceId: desks[1], day, start: '09:00', end: '10:00' }, {}, at(day, '07:00'));
    await ws.checkIn(a, came.id, {}, at(day, '08:50'));
    await ws.releaseNoShows(at(day, '09:31'));
    await ws.closeHub(system, hubId, { from: addDays(day, 2), reason: 'a training day' }, {}, at(day, '07:00'));
    const res = await call('GET', `/api/v1/hubs/${hubId}/occupancy?from=${day}&to=${addDays(day, 2)}`, undefined, reader);
    assert.equal(res.statusCode, 200, res.body);
    const [d] = res.json().days;
    assert.deepEqual([d.day, d.open, d.spaces, d.seats, d.booked, d.checkedIn, d.noShows], [day, true, 13, 20, 2, 1, 1]);
    assert.equal(res.json().days[2].open, false, 'closed for the training day');
    code(await call('GET', `/api/v1/hubs/${hubId}/occupancy?from=${day}&to=${addDays(day, -1)}`, undefined, reader), 400, 'HUB_BOOKING_INVALID');
  });

  test('many people racing over HTTP for the last desks: exactly one booking a desk', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const day = addDays(TODAY, 12);
    const users = await Promise.all(
      Array.from({ length: 24 }, (_, i) => t.services.staff.createUser(system, { email: `racer-${i}-${dialect}@council.example`, name: `Racer ${i}`, roles: ['service'], password: PASSWORD })),
    );
    const last = [desks[10], desks[11]];
    const results = await Promise.all(
      users.map((u, i) =>
        fetch(`${base}/api/v1/hub-bookings`, {
          method: 'POST',
          headers: { authorization: `Bearer ${manager}`, 'content-type': 'application/json' },
          body: JSON.stringify({ spaceId: last[i % 2], day, userId: u.id }),
        }).then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } })),
      ),
    );
    const won = results.filter((r) => r.status === 201);
    assert.equal(won.length, 2, JSON.stringify(results.filter((r) => r.status !== 201 && r.status !== 409)));
    assert.ok(results.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body.code === 'HUB_SPACE_TAKEN'));
    const rows = await t.services.db.k.selectFrom('hub_bookings').select('space_id').where('day', '=', day).where('status', '=', 'booked').execute();
    assert.deepEqual(rows.map((r) => r.space_id).sort(), [...last].sort());
  });
  const person = (p: Browser) => ({ type: 'user' as const, id: p.userId, label: p.email, permissions: new Set(['hubs:book']), roles: ['service'] });
  const untoldOf = (closureId: string) => t.services.db.k.selectFrom('hub_bookings').select('id').where('closure_id', '=', closureId).where('told_at', 'is', null).execute();
  const drain = async () => {
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) break;
    }
  };

  test('a closure from 11:00 today leaves this morning’s finished bookings as they were', async () => {
    const ws = t.services.workforce;
    const day = addDays(TODAY, 30);
    const early = await ws.book(person(alice), { spaceId: desks[0], day, start: '08:00', end: '10:00' }, {}, at(day, '07:00'));
    await ws.checkIn(person(alice), early.id, {}, at(day, '08:00'));
    const later = await ws.book(person(bob), { spaceId: desks[1], day, start: '09:00', end: '13:00' }, {}, at(day, '07:00'));
    await ws.checkIn(person(bob), later.id, {}, at(day, '09:00'));
    const closure = await ws.closeHub(system, hubId, { from: day, reason: 'a power cut' }, {}, at(day, '11:00'));
    assert.equal(closure.cancelled, 1);
    assert.equal((await ws.getBooking(person(alice), early.id)).status, 'checked_in', 'over before the closure: not cancelled');
    assert.equal((await ws.getBooking(person(bob), later.id)).status, 'cancelled');
    assert.deepEqual(
      (await untoldOf(closure.id)).map((b) => b.id),
      [later.id],
      'only bob is to be told',
    );
  });

  test('a closure counts and releases only the bookings it cancelled itself', async () => {
    const ws = t.services.workforce;
    const day = addDays(TODAY, 31);
    const kept = await ws.book(person(alice), { spaceId: desks[0], day, start: '09:00', end: '10:00' }, {}, at(day, '07:00'));
    const gone = await ws.book(person(bob), { spaceId: desks[1], day, start: '09:00', end: '10:00' }, {}, at(day, '07:00'));
    // Bob cancels between the closure's read of the live bookings and its update: it reads him, it does not change him.
    await ws.cancel(person(bob), gone.id, {}, {}, at(day, '07:05'));
    const read = ws.repo.liveBookingsBetween;
    ws.repo.liveBookingsBetween = async (...args: Parameters<typeof read>) => [...(await read.apply(ws.repo, args)), { id: gone.id }];
    try {
      const closure = await ws.closeHub(system, hubId, { from: day, reason: 'a flood' }, {}, at(day, '07:10'));
      assert.equal(closure.cancelled, 1);
      assert.deepEqual(
        (await untoldOf(closure.id)).map((b) => b.id),
        [kept.id],
      );
      assert.equal((await ws.getBooking(person(bob), gone.id)).cancelReason, 'Cancelled by the person who booked');
    } finally {
      ws.repo.liveBookingsBetween = read;
    }
  });

  test('a booking checks the hub and space as they are once it holds the hub, not as read before', async () => {
    const ws = t.services.workforce;
    const day = addDays(TODAY, 32);
    const lock = ws.repo.lockHub;
    for (const change of ['hub', 'space'] as const) {
      // Taken out of use by a manager between the booking's first read and its lock.
      ws.repo.lockHub = async (...args: Parameters<typeof lock>) => {
        const [id, ex] = args;
        if (change === 'hub') await ws.repo.updateHub(id, { is_active: false }, ex);
        else await ws.repo.updateSpace(desks[2], { is_active: false }, ex);
        return lock.apply(ws.repo, args);
      };
      try {
        await assert.rejects(ws.book(person(alice), { spaceId: desks[2], day, start: '09:00', end: '10:00' }, {}, at(day, '07:00')), { code: 'HUB_CLOSED' }, change);
      } finally {
        ws.repo.lockHub = lock;
      }
    }
    assert.equal((await ws.getHub(hubId)).isActive, true, 'the refused booking changed nothing');
    assert.equal((await ws.hubBookings(hubId, day)).length, 0);
  });

  test('a hub or space is not taken out of use, nor its days or hours narrowed, while bookings to come need it', async () => {
    const ws = t.services.workforce;
    const day = addDays(TODAY, 33);
    const weekday = new Date(`${day}T12:00:00Z`).getUTCDay() || 7;
    await ws.book(person(alice), { spaceId: desks[3], day }, {}, at(day, '07:00'));
    for (const change of [{ isActive: false }, { openDays: EVERY_DAY.filter((d) => d !== weekday) }, { opens: '09:00' }, { closes: '17:30' }]) {
      const res = await call('PATCH', `/api/v1/hubs/${hubId}`, change);
      code(res, 409, 'HUB_BOOKINGS_AFFECTED');
      assert.match(res.json().detail, /^Close the hub for those days first: \d+ bookings? (is|are) affected\.$/, JSON.stringify(change));
    }
    const space = await call('PATCH', `/api/v1/hubs/${hubId}/spaces/${desks[3]}`, { isActive: false });
    code(space, 409, 'HUB_BOOKINGS_AFFECTED');
    assert.match(space.json().detail, /1 booking is affected/);
    const hub = await ws.getHub(hubId);
    assert.deepEqual([hub.isActive, hub.openDays, hub.opens, hub.closes], [true, EVERY_DAY, '08:00', '18:00'], 'nothing changed');
    assert.equal(hub.spaces.find((s) => s.id === desks[3])?.isActive, true);
    // What strands nothing is allowed: a space with no bookings, or hours that still cover them.
    const spare = (await call('POST', `/api/v1/hubs/${hubId}/spaces`, { name: 'Spare desk', kind: 'desk' })).json().id;
    const off = await call('PATCH', `/api/v1/hubs/${hubId}/spaces/${spare}`, { isActive: false });
    assert.equal(off.statusCode, 200, off.body);
    assert.equal((await call('PATCH', `/api/v1/hubs/${hubId}`, { notes: 'Ring the bell' })).statusCode, 200);
    // Once the booking has ended it no longer holds the hub back.
    const after = await ws.updateHub(system, hubId, { closes: '17:30' }, {}, at(addDays(day, 1), '07:00'));
    assert.equal(after.closes, '17:30');
    await ws.updateHub(system, hubId, { closes: '18:00' }, {}, at(addDays(day, 1), '07:00'));

    // A booking left at a hub taken out of use some other way cannot be checked in to.
    const next = await ws.book(person(alice), { spaceId: desks[3], day: addDays(day, 1), start: '09:00', end: '10:00' }, {}, at(day, '07:00'));
    await t.services.db.transaction((trx) => ws.repo.updateHub(hubId, { is_active: false }, trx));
    try {
      await assert.rejects(ws.checkIn(person(alice), next.id, {}, at(addDays(day, 1), '09:00')), { code: 'HUB_CLOSED' });
    } finally {
      await t.services.db.transaction((trx) => ws.repo.updateHub(hubId, { is_active: true }, trx));
    }
    await t.services.db.transaction((trx) => ws.repo.updateSpace(desks[3], { is_active: false }, trx));
    try {
      await assert.rejects(ws.checkIn(person(alice), next.id, {}, at(addDays(day, 1), '09:00')), { code: 'HUB_CLOSED' });
    } finally {
      await t.services.db.transaction((trx) => ws.repo.updateSpace(desks[3], { is_active: true }, trx));
    }
    assert.equal((await ws.checkIn(person(alice), next.id, {}, at(addDays(day, 1), '09:00'))).status, 'checked_in');
  });

  test('a booking that has ended cannot be cancelled', async () => {
    const ws = t.services.workforce;
    const day = addDays(TODAY, 34);
    const b = await ws.book(person(bob), { spaceId: desks[4], day, start: '09:00', end: '10:00' }, {}, at(day, '07:00'));
    await assert.rejects(ws.cancel(person(bob), b.id, {}, {}, at(day, '10:00')), (err: { code: string; message: string }) => {
      assert.equal(err.code, 'HUB_BOOKING_STATE');
      assert.match(err.message, /The booking has ended/);
      return true;
    });
    assert.equal((await ws.getBooking(person(bob), b.id)).status, 'booked');
    assert.equal((await ws.cancel(person(bob), b.id, {}, {}, at(day, '09:59'))).status, 'cancelled', 'until its end it can be');
  });

  test('a whole day booked today starts at the current half hour, not at opening time gone by', async () => {
    const ws = t.services.workforce;
    const day = addDays(TODAY, 35);
    await ws.book(person(bob), { spaceId: desks[5], day, start: '08:00', end: '11:00' }, {}, at(day, '07:00'));
    const rest = await ws.book(person(alice), { spaceId: desks[5], day }, {}, at(day, '11:10'));
    assert.deepEqual([rest.start, rest.end, rest.wholeDay], ['11:00', '18:00', true]);
    assert.equal(rest.startsAt.getTime(), at(day, '11:00').getTime());
    const early = await ws.book(person(alice), { spaceId: desks[6], day: addDays(day, 1) }, {}, at(addDays(day, 1), '06:40'));
    assert.equal(early.start, '08:00', 'before opening, from opening');
  });

  test('bookings on the days the clocks change fall at the right instants', async () => {
    const ws = t.services.workforce;
    // 28 March 2027: the clocks go forward at 01:00 UTC, so 09:00 in London is 08:00 UTC.
    const spring = await ws.book(person(alice), { spaceId: desks[7], day: '2027-03-28', start: '09:00', end: '10:00' }, {}, new Date('2027-03-20T12:00:00Z'));
    assert.equal(spring.startsAt.toISOString(), '2027-03-28T08:00:00.000Z');
    assert.equal(spring.endsAt.toISOString(), '2027-03-28T09:00:00.000Z');
    const springDay = await ws.book(person(bob), { spaceId: desks[8], day: '2027-03-28' }, {}, new Date('2027-03-20T12:00:00Z'));
    assert.equal(springDay.startsAt.toISOString(), '2027-03-28T07:00:00.000Z');
    assert.equal(springDay.endsAt.toISOString(), '2027-03-28T17:00:00.000Z');
    // 25 October 2026: the clocks go back at 01:00 UTC, so 09:00 in London is 09:00 UTC.
    const autumn = await ws.book(person(alice), { spaceId: desks[7], day: '2026-10-25', start: '09:00', end: '10:00' }, {}, new Date('2026-10-20T12:00:00Z'));
    assert.equal(autumn.startsAt.toISOString(), '2026-10-25T09:00:00.000Z');
    assert.equal(autumn.endsAt.toISOString(), '2026-10-25T10:00:00.000Z');
    // And on the day itself, a booking made at 08:30 UTC (08:30 GMT) is today's.
    const sameDay = await ws.book(person(bob), { spaceId: desks[8], day: '2026-10-25' }, {}, new Date('2026-10-25T08:30:00Z'));
    assert.equal(sameDay.startsAt.toISOString(), '2026-10-25T08:30:00.000Z');
  });

  test('closure emails: the daily limit counts, a lost template is made again, and nothing is sent twice', async () => {
    const ws = t.services.workforce;
    const { service, templates } = await t.services.messaging.ensureService(system, HUBS_SERVICE, [HUB_CLOSED_TEMPLATE]);
    const close = async (offset: number) => {
      const day = addDays(TODAY, offset);
      await ws.book(person(alice), { spaceId: desks[9], day, start: '09:00', end: '10:00' }, {}, at(day, '07:00'));
      return ws.closeHub(system, hubId, { from: day, reason: 'a burst pipe' }, {}, at(day, '07:30'));
    };
    const sentFor = async (closureId: string) =>
      (await t.services.db.k.selectFrom('notifications').select(['reference', 'template_id']).where('reference', 'like', `hub-closure-${closureId}%`).execute()).length;

    // The service's daily limit reached: nobody is marked told, the job tries again later.
    const limited = await close(40);
    const limit = (await t.services.db.k.selectFrom('message_services').select('daily_limit').where('id', '=', service.id).executeTakeFirstOrThrow()).daily_limit;
    await t.services.db.k.updateTable('message_services').set({ daily_limit: 0 }).where('id', '=', service.id).execute();
    try {
      await assert.rejects(ws.tellClosure(limited.id), { code: 'NOTIFY_DAILY_LIMIT' });
      assert.equal((await untoldOf(limited.id)).length, 1);
      assert.equal(await sentFor(limited.id), 0);
    } finally {
      await t.services.db.k.updateTable('message_services').set({ daily_limit: limit }).where('id', '=', service.id).execute();
    }
    await ws.tellClosure(limited.id);
    assert.equal(await sentFor(limited.id), 1);

    // The template deleted after the job set itself up: the send fails, the job's retry makes the template anew.
    await t.services.messaging.archiveTemplate(system, templates.get(HUB_CLOSED_TEMPLATE.name)?.id as string);
    const archived = await close(41);
    await assert.rejects(ws.tellClosure(archived.id), { code: 'NOTIFY_BAD_REQUEST' });
    assert.equal((await untoldOf(archived.id)).length, 1, 'not marked told: the email was not sent');
    await ws.tellClosure(archived.id);
    assert.equal(await sentFor(archived.id), 1);
    assert.equal((await untoldOf(archived.id)).length, 0);

    // Sent, then the run died before marking it told: the retry finds the email by its reference.
    const crashed = await close(42);
    const { templates: now } = await t.services.messaging.ensureService(system, HUBS_SERVICE, [HUB_CLOSED_TEMPLATE]);
    await t.services.notify.send(
      { ...systemActor('weft hubs'), serviceId: service.id, keyType: 'normal' },
      {
        channel: 'email',
        templateId: now.get(HUB_CLOSED_TEMPLATE.name)?.id as string,
        to: alice.email,
        personalisation: { name: 'Alice', hub: 'Moorchester Library', dates: 'soon', reason: 'a burst pipe', bookings: '* Desk 10', link: 'x' },
        reference: `hub-closure-${crashed.id}:${alice.userId}`,
      },
    );
    await ws.tellClosure(crashed.id);
    assert.equal(await sentFor(crashed.id), 1, 'not sent twice');
    assert.equal((await untoldOf(crashed.id)).length, 0);
    await drain();
  });
});
