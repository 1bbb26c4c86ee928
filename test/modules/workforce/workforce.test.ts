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
import { addDays, londonDay } from '../../../src/platform/dates.js';
import { londonInstant } from '../../../src/modules/workforce/hours.js';
import { type Browser, PASSWORD, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];

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
  const tomorrow = () => addDays(londonDay(new Date()), 1);
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
    code(await call('POST', '/api/v1/hubs', { siteId: school.id }), 400, 'HUB_INVALID');
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
    await bad({ day: addDays(londonDay(new Date()), 200) }, 'day');
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
    await call('PATCH', `/api/v1/hubs/${hubId}`, { openDays: EVERY_DAY.filter((d) => d !== weekday) });
    const shut = await call('POST', '/api/v1/hub-bookings', { spaceId: desks[6], day }, alice);
    code(shut, 409, 'HUB_CLOSED');
    assert.match(shut.json().detail, /does not open on \w+days/);
    await call('PATCH', `/api/v1/hubs/${hubId}`, { openDays: EVERY_DAY });
  });

  test('check in, check out (the rest of the time is free again), cancel; each only when it makes sense', async () => {
    const ws = t.services.workforce;
    const day = addDays(londonDay(new Date()), 3);
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
    const day = addDays(londonDay(new Date()), 4);
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
    const day = addDays(londonDay(new Date()), 6);
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
      .where('reference', '=', `hub-closure-${res.json().id}`)
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
    assert.equal((await t.services.db.k.selectFrom('notifications').select('id').where('reference', '=', `hub-closure-${res.json().id}`).execute()).length, 2, 'told once');
    const cancelled = (await call('GET', '/api/v1/hub-bookings', undefined, bob))
      .json()
      .bookings.filter((b: { cancelReason: string | null }) => b.cancelReason === 'Hub closed: the heating has failed');
    assert.equal(cancelled.length, 2);
    assert.equal((await call('GET', `/api/v1/hub-bookings/${outside.json().id}`, undefined, bob)).json().status, 'booked', 'a day after the closure is untouched');
    assert.equal((await call('GET', `/api/v1/hubs/${hubId}/closures`, undefined, reader)).json().closures.length, 1);
  });

  test('occupancy per day: booked, checked in, no-shows, capacity', async () => {
    const day = addDays(londonDay(new Date()), 4);
    const res = await call('GET', `/api/v1/hubs/${hubId}/occupancy?from=${day}&to=${addDays(day, 2)}`, undefined, reader);
    assert.equal(res.statusCode, 200, res.body);
    const [d] = res.json().days;
    assert.deepEqual([d.day, d.open, d.spaces, d.seats, d.booked, d.noShows], [day, true, 13, 20, 2, 1]);
    assert.equal(res.json().days[2].open, false, 'closed for the heating');
    code(await call('GET', `/api/v1/hubs/${hubId}/occupancy?from=${day}&to=${addDays(day, -1)}`, undefined, reader), 400, 'HUB_BOOKING_INVALID');
  });

  test('many people racing over HTTP for the last desks: exactly one booking a desk', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const day = addDays(londonDay(new Date()), 12);
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
});
