/**
 * Bin collections: rounds by area on a weekday every one to four weeks; a day moved for a bank
 * holiday; what is collected on a day; and the evening-before reminder to the residents subscribed
 * to bin collections in the round's areas, on their channel, in their language, once per round
 * and day however often the job runs.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { addDays, londonDay } from '../../../src/platform/dates.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { squareWards } from '../../geo-fixtures.js';

const system = systemActor('test');
const WARDS = squareWards([
  { name: 'Northtown', code: 'N1', box: [-2.5, 52.33, -2.45, 52.36] },
  { name: 'Southvale', code: 'S1', box: [-2.5, 52.3, -2.45, 52.33] },
]);

forEachDialect('bin collections', (dialect) => {
  let t: TestApp;
  let key: string;
  let reader: string;
  const areas: Record<string, string> = {};
  let roundId: string;
  const today = londonDay(new Date());
  const tomorrow = addDays(today, 1);
  const call = (method: string, url: string, payload?: unknown, as = key) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${as}` }, payload: payload as object });

  before(async () => {
    t = await testApp(dialect);
    key = await t.key(['waste:manage', 'waste:read']);
    reader = await t.key(['waste:read']);
    await t.services.estate.importAreas(system, WARDS);
    for (const a of await t.services.estate.listAreas()) areas[a.name] = a.id;
    const r = t.services.residents;
    const north = { location: { lat: 52.34, lon: -2.48 }, postcode: 'WR1 1AA' };
    const south = { location: { lat: 52.31, lon: -2.48 }, postcode: 'WR2 2BB' };
    const a = await r.create(system, { name: 'Alys', email: 'alys@example.com', language: 'cy', ...north });
    const b = await r.create(system, { name: 'Ben', mobile: '07700900601', ...north });
    const c = await r.create(system, { name: 'Cai', email: 'cai@example.com', ...south });
    for (const id of [a.id, b.id, c.id]) await r.subscribe(system, id, { topic: 'bin-collections', kind: 'home' });
  });

  test('a round is added, collects on its days, and a bank-holiday day moves', async () => {
    const made = await call('POST', '/api/v1/waste/rounds', {
      name: 'Northtown recycling',
      bin: 'Recycling (blue bin)',
      binCy: 'Ailgylchu (bin glas)',
      areaIds: [areas.Northtown],
      firstDay: addDays(tomorrow, -14),
      everyWeeks: 2,
    });
    assert.equal(made.statusCode, 201, made.body);
    roundId = made.json().id;
    const on = async (day: string) => (await call('GET', `/api/v1/waste/collections?day=${day}`, undefined, reader)).json().collections;
    assert.equal((await on(tomorrow)).length, 1);
    assert.equal((await on(addDays(tomorrow, 7))).length, 0, 'fortnightly');
    const moved = await call('POST', `/api/v1/waste/rounds/${roundId}/changes`, { usualDay: addDays(tomorrow, 14), movedTo: addDays(tomorrow, 15), reason: 'Christmas Day' });
    assert.equal(moved.statusCode, 201, moved.body);
    assert.equal((await on(addDays(tomorrow, 14))).length, 0);
    assert.deepEqual(
      (await on(addDays(tomorrow, 15))).map((c: { usualDay: string; reason: string }) => [c.usualDay, c.reason]),
      [[addDays(tomorrow, 14), 'Christmas Day']],
    );
    const next = (await call('GET', `/api/v1/waste/rounds/${roundId}`, undefined, reader)).json().next;
    assert.deepEqual(
      next.slice(0, 2).map((c: { day: string }) => c.day),
      [tomorrow, addDays(tomorrow, 15)],
    );
    const notMoved = await call('DELETE', `/api/v1/waste/rounds/${roundId}/changes/${addDays(tomorrow, 28)}`);
    assert.equal(notMoved.json().code, 'COLLECTION_CHANGE_NOT_FOUND');
    assert.equal((await call('GET', '/api/v1/waste/rounds/0193a000-0000-7000-8000-000000000000', undefined, reader)).json().code, 'ROUND_NOT_FOUND');
    await call('POST', `/api/v1/waste/rounds/${roundId}/changes`, { usualDay: addDays(tomorrow, 28), movedTo: addDays(tomorrow, 29) });
    const putBack = await call('DELETE', `/api/v1/waste/rounds/${roundId}/changes/${addDays(tomorrow, 28)}`);
    assert.equal(putBack.statusCode, 200, putBack.body);
    assert.equal(putBack.json().changes.length, 1);
    const bad = await call('POST', `/api/v1/waste/rounds/${roundId}/changes`, { usualDay: addDays(tomorrow, 7), movedTo: addDays(tomorrow, 8) });
    assert.equal(bad.json().code, 'COLLECTION_CHANGE_INVALID');
    assert.equal((await call('POST', '/api/v1/waste/rounds', { name: 'x', bin: 'y', areaIds: ['0193a000-0000-7000-8000-000000000000'], firstDay: today, everyWeeks: 1 })).json().code, 'ROUND_INVALID');
    assert.equal((await call('POST', '/api/v1/waste/rounds', { name: 'x', bin: 'y', areaIds: [areas.Northtown], firstDay: today, everyWeeks: 1 }, reader)).statusCode, 403);
  });

  test('the evening before, subscribers in the round’s areas are reminded on their channel, in their language; once', async () => {
    const made = await t.services.waste.remind(tomorrow);
    assert.equal(made.length, 1);
    assert.equal(made[0].residents, 2, 'Northtown’s two subscribers, not Southvale’s');
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) break;
    }
    const notes = await t.services.db.k
      .selectFrom('notifications')
      .select(['type', 'language', 'subject', 'body', 'status'])
      .where('campaign_id', '=', made[0].campaignId as string)
      .orderBy('type')
      .execute();
    assert.deepEqual(
      notes.map((n) => [n.type, n.language]),
      [
        ['email', 'cy'],
        ['sms', 'en'],
      ],
    );
    assert.match(notes[0].subject ?? '', /^Casglu biniau ar \d+ \w+ \d{4}: Ailgylchu \(bin glas\)$/);
    assert.match(notes[1].body, /^Reminder: Recycling \(blue bin\) is collected on \d+ \w+ \d{4}\. Please put it out by 7am\.$/);
    assert.deepEqual(await t.services.waste.remind(tomorrow), [], 'a second run makes nothing');
    const campaigns = await t.services.db.k.selectFrom('campaigns').select('id').execute();
    assert.equal(campaigns.length, 1);
  });

  test('a moved day is reminded the evening before the day it moved to, saying why', async () => {
    const moved = addDays(tomorrow, 15);
    const made = await t.services.waste.remind(moved);
    assert.equal(made.length, 1);
    await t.services.jobs.runOnce();
    const email = await t.services.db.k
      .selectFrom('notifications')
      .select('body')
      .where('campaign_id', '=', made[0].campaignId as string)
      .where('type', '=', 'email')
      .executeTakeFirstOrThrow();
    assert.match(email.body, /Mae’r diwrnod wedi newid yr wythnos hon: Christmas Day\./);
  });
});
