/**
 * The demo county's hubs: 12 libraries and council buildings with 300 desks and some rooms, and a
 * month of bookings made through the service (past days checked in, out, or released as no-shows).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadEstate } from '../../../demo/estate.js';
import { HUB_DESKS, loadHubs, type LoadedHubs } from '../../../demo/hubs.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { addDays, londonDay } from '../../../src/platform/dates.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

forEachDialect('the demo county’s hubs', (dialect) => {
  let t: TestApp;
  let loaded: LoadedHubs;
  const today = londonDay(new Date());

  before(async () => {
    t = await testApp(dialect);
    const actor = systemActor('weft demo');
    await loadEstate(t.services.estate, actor, 'wealdmoor');
    loaded = await loadHubs(t.services, actor, 'wealdmoor', today);
  });

  test('12 hubs, 300 desks and some rooms, with a month of bookings past and future', async () => {
    assert.deepEqual([loaded.hubs, loaded.desks, HUB_DESKS.length], [12, 300, 12]);
    assert.ok(loaded.rooms >= 12);
    const hubs = await t.services.workforce.listHubs();
    assert.equal(hubs.length, 12);
    assert.equal(hubs.flatMap((h) => h.spaces).filter((s) => s.kind === 'desk').length, 300);
    const rows = await t.services.db.k.selectFrom('hub_bookings').select(['day', 'status']).execute();
    assert.equal(rows.length, loaded.bookings);
    assert.ok(rows.some((r) => r.day < today) && rows.some((r) => r.day > addDays(today, 7)), 'past and future');
    for (const status of ['checked_out', 'checked_in', 'released', 'booked'])
      assert.ok(
        rows.some((r) => r.status === status),
        status,
      );
    assert.ok(!rows.some((r) => r.day < today && r.status === 'booked'), 'no past booking left waiting');
    const [first] = hubs;
    const week = await t.services.workforce.hubOccupancy(first.id, addDays(today, -7), today);
    assert.ok(week.some((d) => d.checkedIn > 0));
  });
});
