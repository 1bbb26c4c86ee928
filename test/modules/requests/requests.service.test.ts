import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { AppError } from '../../../src/platform/errors.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { type Catalogue, catalogue, IN_CASTLE, IN_MEADOW, NOWHERE, pothole, system } from './fixtures.js';

const HOUR = 3_600_000;

/** Runs fn and returns the AppError's code it threw. */
async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  assert.fail('expected an error');
}

forEachDialect('requests service: routing, lifecycle, duplicates, reporters told', (dialect) => {
  let t: TestApp;
  let c: Catalogue;
  const officer = { ...system, type: 'user' as const, id: '01900000-0000-7000-8000-00000000000a', label: 'officer@test.example' };

  before(async () => {
    t = await testApp(dialect);
    c = await catalogue(t);
  });

  test('a request is placed in its ward and routed to that ward’s team, else the default; due by the target', async () => {
    const r = t.services.requests;
    const before = Date.now();
    const castle = await r.submit(system, pothole(IN_CASTLE), { source: 'staff' });
    const meadow = await r.submit(system, pothole(IN_MEADOW), { source: 'staff' });
    const outside = await r.submit(system, pothole(NOWHERE), { source: 'staff' });
    const addressOnly = await r.submit(system, { category: 'fly-tipping', description: 'Mattress', address: '4 Mill Lane' }, { source: 'staff' });
    assert.equal(castle.area_id, c.castle);
    assert.equal(castle.team_id, c.highways.id, 'no rule for Castle Ward: the default team');
    assert.equal(meadow.area_id, c.meadow);
    assert.equal(meadow.team_id, c.contractor.id, 'Meadow Ward’s rule');
    assert.equal(outside.area_id, null);
    assert.equal(outside.team_id, c.highways.id);
    assert.equal(addressOnly.team_id, c.cleansing.id);
    assert.equal(castle.due_at.getTime() - castle.created_at.getTime(), 48 * HOUR);
    assert.equal(addressOnly.due_at.getTime() - addressOnly.created_at.getTime(), 120 * HOUR);
    assert.ok(castle.created_at.getTime() >= before - 5);
    assert.match(castle.reference, /^[0-9A-HJKMNP-TV-Z]{8}$/);
    const audit = await t.services.audit.search({ targetId: castle.id, limit: 5 } as never);
    assert.deepEqual(
      audit.map((e) => e.action),
      ['requests.create'],
    );
  });

  test('bad reports are refused with their codes and change nothing', async () => {
    const r = t.services.requests;
    const before = await r.count({});
    assert.equal(await codeOf(() => r.submit(system, { ...pothole(), category: 'nope' }, { source: 'staff' })), 'CATEGORY_NOT_FOUND');
    assert.equal(await codeOf(() => r.submit(system, { ...pothole(), lat: undefined }, { source: 'staff' })), 'LOCATION_REQUIRED');
    assert.equal(await codeOf(() => r.submit(system, { category: 'potholes', description: 'x', attributes: { depth: 'deep' } }, { source: 'staff' })), 'LOCATION_REQUIRED');
    assert.equal(await codeOf(() => r.submit(system, pothole(IN_CASTLE, { attributes: {} }), { source: 'staff' })), 'ATTRIBUTES_INVALID');
    assert.equal(await codeOf(() => r.submit(system, pothole(IN_CASTLE, { attributes: { depth: 'bottomless' } }), { source: 'staff' })), 'ATTRIBUTES_INVALID');
    assert.equal(await codeOf(() => r.submit(system, pothole(IN_CASTLE, { attributes: { depth: 'deep', width: 'wide' } }), { source: 'staff' })), 'ATTRIBUTES_INVALID');
    await r.createCategory(system, { code: 'retired', name: 'Retired', group: 'Old', targetHours: 1, enabled: false });
    assert.equal(await codeOf(() => r.submit(system, { category: 'retired', description: 'x', ...IN_CASTLE }, { source: 'staff' })), 'CATEGORY_DISABLED');
    assert.equal(await r.count({}), before);
  });

  test('categories and teams: codes and names are unique, rules name real teams and areas', async () => {
    const r = t.services.requests;
    assert.equal(await codeOf(() => r.createTeam(system, { name: 'Highways' })), 'TEAM_NAME_TAKEN');
    assert.equal(await codeOf(() => r.createCategory(system, { code: 'potholes', name: 'Again', group: 'Roads', targetHours: 1 })), 'CATEGORY_CODE_TAKEN');
    const ghost = '01900000-0000-7000-8000-000000000001';
    assert.equal(await codeOf(() => r.createCategory(system, { code: 'graffiti', name: 'Graffiti', group: 'Street', targetHours: 1, defaultTeamId: ghost })), 'TEAM_NOT_FOUND');
    assert.equal(
      await codeOf(() => r.createCategory(system, { code: 'graffiti', name: 'Graffiti', group: 'Street', targetHours: 1, routes: [{ areaId: ghost, teamId: c.highways.id }] })),
      'ROUTE_AREA_NOT_FOUND',
    );
    const lists = [{ code: 'a', description: 'A', datatype: 'singlevaluelist' as const, required: true }];
    assert.equal(await codeOf(() => r.createCategory(system, { code: 'graffiti', name: 'Graffiti', group: 'Street', targetHours: 1, attributes: lists })), 'ATTRIBUTES_INVALID');
    const changed = await r.updateCategory(system, 'fly-tipping', { targetHours: 72, routes: [{ areaId: c.castle, teamId: c.highways.id }] });
    assert.equal(changed.targetHours, 72);
    const routed = await r.submit(system, { category: 'fly-tipping', description: 'Sofa', ...IN_CASTLE }, { source: 'staff' });
    assert.equal(routed.team_id, c.highways.id);
    await r.updateCategory(system, 'fly-tipping', { targetHours: 120, routes: [] });
  });

  test('the lifecycle: each change is an update row and an audit row; closed requests may only be reopened', async () => {
    const r = t.services.requests;
    const row = await r.submit(system, pothole(), { source: 'staff' });
    assert.equal(await codeOf(() => r.addUpdate(officer, row.id, { message: '  ', public: true })), 'MESSAGE_REQUIRED');
    assert.equal(await codeOf(() => r.addUpdate(officer, row.id, { status: 'acknowledged', message: '', public: false })), 'MESSAGE_REQUIRED');
    await r.addUpdate(officer, row.id, { status: 'acknowledged', message: 'We have your report.', public: true });
    await r.addUpdate(officer, row.id, { message: 'Gang 4 next week', public: false });
    await r.addUpdate(officer, row.reference, { status: 'in_progress', message: '', public: true });
    assert.equal(await codeOf(() => r.addUpdate(officer, row.id, { status: 'acknowledged', message: 'back', public: true })), 'TRANSITION_INVALID');
    await r.addUpdate(officer, row.id, { status: 'fixed', message: 'Filled.', public: true });
    assert.equal(await codeOf(() => r.addUpdate(officer, row.id, { status: 'in_progress', message: 'again', public: true })), 'TRANSITION_INVALID');
    const { request, updates } = await r.detail(row.id);
    assert.equal(request.status, 'fixed');
    assert.ok(request.acknowledgedAt && request.closedAt);
    assert.equal(request.statusNotes, 'Filled.');
    assert.deepEqual(
      updates.map((u) => [u.public, u.fromStatus, u.status]),
      [
        [true, 'open', 'acknowledged'],
        [false, null, null],
        [true, 'acknowledged', 'in_progress'],
        [true, 'in_progress', 'fixed'],
      ],
    );
    const reopened = await r.addUpdate(officer, row.id, { status: 'open', message: 'It has sunk again.', public: true });
    assert.equal(reopened.status, 'open');
    assert.equal((await r.detail(row.id)).request.closedAt, null);
    const audit = await t.services.audit.search({ targetId: row.id, limit: 20 } as never);
    assert.deepEqual(audit.map((e) => e.action).sort(), [
      'requests.create',
      'requests.internal_note',
      'requests.status_change',
      'requests.status_change',
      'requests.status_change',
      'requests.status_change',
    ]);
    const publicView = await r.get(row.reference);
    assert.equal(publicView.updates.length, 4, 'the internal note is not public');
    assert.ok(publicView.updates.every((u) => u.author === 'Council'));
    assert.ok(!JSON.stringify(publicView).includes('Gang 4'));
    assert.equal(await codeOf(() => r.get('ZZZZZZZZ')), 'REQUEST_NOT_FOUND');
  });

  test('merging a duplicate closes it with a public update pointing at the original, and notes it on the original', async () => {
    const r = t.services.requests;
    const original = await r.submit(system, pothole(), { source: 'staff' });
    const dup = await r.submit(system, pothole(), { source: 'staff' });
    assert.equal(await codeOf(() => r.merge(officer, dup.id, dup.reference, undefined)), 'MERGE_INVALID');
    assert.equal(await codeOf(() => r.merge(officer, dup.id, 'ZZZZZZZZ', undefined)), 'REQUEST_NOT_FOUND');
    await r.merge(officer, dup.id, original.reference, undefined);
    const merged = await r.get(dup.id);
    assert.equal(merged.status, 'duplicate');
    assert.equal(merged.duplicateOf, original.reference);
    assert.match(merged.updates[0].message, new RegExp(original.reference));
    const into = await r.detail(original.id);
    assert.match(into.updates[0].message, new RegExp(`${dup.reference} was merged`));
    assert.equal(into.updates[0].public, false);
    const third = await r.submit(system, pothole(), { source: 'staff' });
    assert.equal(await codeOf(() => r.merge(officer, third.id, dup.reference, undefined)), 'MERGE_INVALID', 'not into a duplicate');
    assert.equal(await codeOf(() => r.merge(officer, dup.id, third.reference, undefined)), 'MERGE_INVALID', 'a closed request is not merged again');
  });

  test('the reporter is told of each public update on their channel, in their language; internal notes tell nobody', async () => {
    const r = t.services.requests;
    const resident = await t.services.residents.create(system, { name: 'Nia Evans', mobile: '07700900123', language: 'cy', preferences: { '*': ['sms', 'email'] } });
    const mine = await r.create({ ...pothole(), description: 'Twll mawr' }, resident.id);
    assert.equal(mine.status, 'open');
    assert.deepEqual(
      (await r.listForResident(resident.id)).map((x) => x.reference),
      [mine.reference],
    );
    assert.ok(!('reporter' in mine), 'the public view has no reporter');
    await r.addUpdate(officer, mine.id, { status: 'acknowledged', message: 'Diolch, rydym wedi’i gael.', public: true });
    await r.addUpdate(officer, mine.id, { message: 'internal only', public: false });
    while ((await t.services.jobs.runOnce()) > 0);
    const texts = await t.services.messaging.findNotifications({ reference: `request-${mine.reference}`, limit: 10 });
    assert.equal(texts.length, 1, 'one message: the internal note sent nothing');
    assert.equal(texts[0].type, 'sms');
    assert.equal(texts[0].resident_id, resident.id);
    assert.match(texts[0].body, /Tyllau yn y ffordd/);
    assert.match(texts[0].body, /Wedi.i gydnabod/, 'the status in Welsh (texts get a plain apostrophe)');

    const byEmail = await r.submit(system, pothole(IN_CASTLE, { reporterEmail: 'Someone@Example.com', reporterName: 'Sam Someone' }), { source: 'staff' });
    await r.merge(officer, byEmail.id, mine.reference, undefined);
    while ((await t.services.jobs.runOnce()) > 0);
    const emails = await t.services.messaging.findNotifications({ reference: `request-${byEmail.reference}`, limit: 10 });
    assert.equal(emails.length, 1);
    assert.equal(emails[0].recipient, 'someone@example.com');
    assert.match(emails[0].body, new RegExp(`already been reported as ${mine.reference}`));

    const fromFms = await r.submit(system, pothole(IN_CASTLE, { reporterEmail: 'fms-user@example.com' }), { source: 'fixmystreet', externalId: '1234' });
    await r.addUpdate(officer, fromFms.id, { status: 'in_progress', message: 'On it', public: true });
    while ((await t.services.jobs.runOnce()) > 0);
    assert.equal((await t.services.messaging.findNotifications({ reference: `request-${fromFms.reference}`, limit: 10 })).length, 0, 'FixMyStreet tells its own users');
    const services = await t.services.messaging.listServices();
    assert.equal(services.filter((s) => s.name === 'Service requests').length, 1, 'the messaging service is made once');
  });
});
