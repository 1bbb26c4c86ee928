/**
 * Hubs in the console without JavaScript: a manager adds a hub and its desks, closes it for a
 * day; staff see a day's free desks, book from the list, check in from the desk's QR code page,
 * check out and cancel. Forms need their CSRF token; errors come back in the GOV.UK way.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { addDays, londonDay, londonInstant } from '../../../src/platform/dates.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');
// The hubs' clock is held at 10:00 (London) tomorrow, so the pages behave the same at any real hour.
const TODAY = addDays(londonDay(new Date()), 1);
const NOW = londonInstant(TODAY, 10 * 60);

forEachDialect('hubs in the console', (dialect) => {
  let t: TestApp;
  let officer: Browser;
  let staff: Browser;
  let viewer: Browser;
  let siteId: string;
  let hubId: string;
  const form = (as: Browser, url: string, fields: [string, string][], csrf = true) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { cookie: as.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams([...fields, ...(csrf ? [['_csrf', as.csrf] as [string, string]] : [])]).toString(),
    });
  const page = (as: Browser, url: string) => t.app.inject({ url, headers: { cookie: as.cookie } });

  before(async () => {
    t = await testApp(dialect);
    t.services.workforce.clock = () => NOW;
    officer = await t.signInAs(['officer']);
    staff = await t.signInAs(['care']);
    viewer = await t.signInAs(['viewer']);
    siteId = (
      await t.services.estate.createSite(system, {
        type: 'council_building',
        name: 'Eastgate Community Centre',
        address: '4 East Gate',
        connectivity: { technology: '5g', status: 'live', downMbps: 300 },
      })
    ).id;
  });

  test('a manager adds a hub and its desks through the forms; errors are shown field by field', async () => {
    const blank = await form(officer, '/console/hubs/new', [
      ['siteId', ''],
      ['opens', '8'],
      ['closes', '23:30'],
      ['graceMinutes', '2'],
    ]);
    assert.equal(blank.statusCode, 400);
    for (const m of ['Choose a site from the estate', 'Choose the days it opens', 'Enter the grace period in minutes, from 5 to 240', 'Enter the opening time like 08:30'])
      assert.ok(blank.body.includes(m), m);
    const days = ['1', '2', '3', '4', '5', '6', '7'].map((d) => ['openDays', d] as [string, string]);
    const made = await form(officer, '/console/hubs/new', [['siteId', siteId], ['opens', '00:00'], ['closes', '23:30'], ['graceMinutes', '30'], ['notes', 'Side door'], ...days]);
    assert.equal(made.statusCode, 303, made.body);
    hubId = (made.headers.location as string).split('/')[3].split('?')[0];
    const again = await form(officer, '/console/hubs/new', [['siteId', siteId], ['opens', '08:00'], ['closes', '18:00'], ['graceMinutes', '30'], ...days]);
    assert.equal(again.statusCode, 409);
    assert.match(again.body, /That site is a hub already/);
    for (const name of ['Desk A', 'Desk B']) {
      const res = await form(officer, `/console/hubs/${hubId}/spaces/new`, [
        ['name', name],
        ['kind', 'desk'],
        ['capacity', '1'],
        ['equipment', 'two screens, dock'],
        ['accessibility', 'step-free'],
      ]);
      assert.equal(res.statusCode, 303, res.body);
    }
    const dup = await form(officer, `/console/hubs/${hubId}/spaces/new`, [
      ['name', 'Desk A'],
      ['kind', 'desk'],
    ]);
    assert.equal(dup.statusCode, 409);
    const noName = await form(officer, `/console/hubs/${hubId}/spaces/new`, [['kind', 'sofa']]);
    assert.equal(noName.statusCode, 400);
    assert.match(noName.body, /Enter the space’s name[\s\S]*Choose what kind of space it is/);
    const hubPage = await page(staff, `/console/hubs/${hubId}`);
    assert.equal(hubPage.statusCode, 200);
    assert.match(hubPage.body, /Eastgate Community Centre/);
    assert.match(hubPage.body, /5g \(live\), 300 Mbps down/i);
    assert.match(hubPage.body, /two screens, dock\. step-free/);
    assert.doesNotMatch(hubPage.body, /Close the hub/, 'only managers see the managing links');
    const list = await page(viewer, '/console/hubs');
    assert.match(list.body, /Eastgate Community Centre/);
    assert.equal((await page(viewer, `/console/hubs/${hubId}/spaces/new`)).statusCode, 403);
  });

  test('booking from the list, then check in by the desk’s QR code, check out, and cancel another', async () => {
    const hub = await t.services.workforce.getHub(hubId);
    const [deskA, deskB] = hub.spaces;
    const tomorrow = addDays(TODAY, 1);
    const dayPage = await page(staff, `/console/hubs/${hubId}?day=${tomorrow}`);
    assert.match(dayPage.body, /2 desks free to book/);
    assert.match(dayPage.body, /All day \(00:00 to 23:30\)/);
    assert.equal(
      (
        await form(
          staff,
          '/console/hubs/bookings',
          [
            ['hubId', hubId],
            ['spaceId', deskA.id],
            ['day', tomorrow],
            ['slot', '00:00-23:30'],
          ],
          false,
        )
      ).statusCode,
      403,
      'no CSRF token, no booking',
    );
    const booked = await form(staff, '/console/hubs/bookings', [
      ['hubId', hubId],
      ['spaceId', deskA.id],
      ['day', tomorrow],
      ['slot', '00:00-23:30'],
    ]);
    assert.equal(booked.statusCode, 303, booked.body);
    const bookingUrl = (booked.headers.location as string).split('?')[0];
    const shown = await page(staff, booked.headers.location as string);
    assert.match(shown.body, /Booked\. Check in when you arrive/);
    const taken = await form(officer, '/console/hubs/bookings', [
      ['hubId', hubId],
      ['spaceId', deskA.id],
      ['day', tomorrow],
      ['slot', '09:00-13:00'],
    ]);
    assert.equal(taken.statusCode, 409);
    assert.match(taken.body, /Someone else has booked that space/);
    const tooSoon = await form(staff, `${bookingUrl}/check-in`, []);
    assert.equal(tooSoon.statusCode, 409);
    assert.match(tooSoon.body, /You can check in from 30 minutes before/);
    const cancelled = await form(staff, `${bookingUrl}/cancel`, []);
    assert.equal(cancelled.statusCode, 303);
    assert.match((await page(staff, cancelled.headers.location as string)).body, /Booking cancelled\./);
    assert.equal((await page(officer, bookingUrl)).statusCode, 200, 'a manager sees anyone’s booking');
    assert.equal((await page(viewer, bookingUrl)).statusCode, 403);

    // The QR code's page: no booking today yet.
    const qr = await page(staff, `/console/hubs/check-in/${deskB.id}`);
    assert.equal(qr.statusCode, 404);
    assert.match(qr.body, /You have no booking of Desk B at Eastgate Community Centre today/);
    await assert.rejects(t.services.workforce.bookingForQr({ type: 'user', id: staff.userId, label: staff.email, permissions: new Set(), roles: [] }, deskB.id), { code: 'HUB_NO_BOOKING_TODAY' });
    const today = await form(staff, '/console/hubs/bookings', [
      ['hubId', hubId],
      ['spaceId', deskB.id],
      ['day', TODAY],
      ['slot', '10:00-23:30'],
    ]);
    assert.equal(today.statusCode, 303, today.body);
    const scan = await page(staff, `/console/hubs/check-in/${deskB.id}`);
    assert.equal(scan.statusCode, 200);
    const action = /action="(\/console\/hubs\/bookings\/[^"]+\/check-in)"/.exec(scan.body)?.[1];
    assert.ok(action, 'the page has a check-in button');
    const inside = await form(staff, action, []);
    assert.equal(inside.statusCode, 303);
    assert.match((await page(staff, inside.headers.location as string)).body, /You are checked in\./);
    const out = await form(staff, action.replace('check-in', 'check-out'), []);
    assert.match((await page(staff, out.headers.location as string)).body, /You are checked out\./);
    // A booking that has ended offers no cancelling.
    const ended = await t.services.workforce.book(
      { type: 'user', id: staff.userId, label: staff.email, permissions: new Set(['hubs:book']), roles: ['care'] },
      { spaceId: deskA.id, day: TODAY, start: '08:00', end: '09:00' },
      {},
      londonInstant(TODAY, 7 * 60),
    );
    const endedPage = await page(staff, `/console/hubs/bookings/${ended.id}`);
    assert.equal(endedPage.statusCode, 200);
    assert.doesNotMatch(endedPage.body, /Cancel booking/);
    const mine = await page(staff, '/console/hubs/bookings');
    assert.match(mine.body, /Past and cancelled/);
  });

  test('the QR codes page draws an SVG code per desk holding its check-in address', async () => {
    const res = await page(officer, `/console/hubs/${hubId}/qr-codes`);
    assert.equal(res.statusCode, 200);
    assert.equal((res.body.match(/<svg /g) ?? []).length, 2);
    assert.match(res.body, /aria-label="QR code to check in to Desk A"/);
    assert.match(res.body, /\/console\/hubs\/check-in\/[0-9a-f-]{36}/);
    const hub = await t.services.workforce.getHub(hubId);
    const svg = await page(officer, `/console/hubs/check-in/${hub.spaces[0].id}/qr.svg`);
    assert.equal(svg.headers['content-type'], 'image/svg+xml');
    assert.match(svg.body, /^<svg [\s\S]*<path d="M/);
  });

  test('closing the hub from the console cancels bookings; occupancy and the day’s bookings show it', async () => {
    const day = addDays(TODAY, 2);
    const hub = await t.services.workforce.getHub(hubId);
    assert.equal(
      (
        await form(staff, '/console/hubs/bookings', [
          ['hubId', hubId],
          ['spaceId', hub.spaces[0].id],
          ['day', day],
          ['slot', '09:00-13:00'],
        ])
      ).statusCode,
      303,
    );
    const list = await page(officer, `/console/hubs/${hubId}/bookings?day=${day}`);
    assert.match(list.body, new RegExp(staff.email));
    const bad = await form(officer, `/console/hubs/${hubId}/close`, [
      ['from', 'soon'],
      ['reason', ''],
    ]);
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /Enter the first day it is closed[\s\S]*Enter the reason the hub is closed/);
    const closed = await form(officer, `/console/hubs/${hubId}/close`, [
      ['from', day],
      ['to', day],
      ['reason', 'a burst pipe'],
    ]);
    assert.equal(closed.statusCode, 303, closed.body);
    const after = await page(staff, closed.headers.location as string);
    assert.match(after.body, /Closed: a burst pipe/);
    assert.match(after.body, /Hub closed\. Everyone whose booking was cancelled is being emailed\./);
    const occupancy = await page(viewer, `/console/hubs/${hubId}/occupancy`);
    assert.equal(occupancy.statusCode, 200);
    assert.match(occupancy.body, /Closed: 1 cancelled/);
    const audit = await t.services.db.k.selectFrom('audit_events').select(['action', 'actor_label']).where('action', '=', 'hubs.close').execute();
    assert.deepEqual(audit, [{ action: 'hubs.close', actor_label: officer.email }]);
  });
});
