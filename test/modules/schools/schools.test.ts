/**
 * School closures: an officer closes schools on a day; a durable job makes a campaign for each
 * school to its subscribers, urgent, and starts it; every subscriber is told on their channel in
 * their language, quiet hours or not. By API and in the console without JavaScript.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { londonDay } from '../../../src/platform/dates.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');

/** Quiet hours that hold now, UK time. */
function quietNow() {
  const at = (ms: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(Date.now() + ms));
  return { quietFrom: at(-3_600_000), quietTo: at(7_200_000) };
}

forEachDialect('school closures', (dialect) => {
  let t: TestApp;
  let key: string;
  let reader: string;
  let officer: Browser;
  const schools: Record<string, string> = {};
  const people: Record<string, string> = {};
  const call = (method: string, url: string, payload?: unknown, as = key) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${as}` }, payload: payload as object });
  const drain = async () => {
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) return;
    }
  };
  const today = () => londonDay(new Date());

  before(async () => {
    t = await testApp(dialect);
    key = await t.key(['schools:close', 'schools:read']);
    reader = await t.key(['schools:read']);
    officer = await t.signInAs(['comms']);
    const site = async (name: string, type: 'school' | 'library' = 'school') => (await t.services.estate.createSite(system, { type, name, address: `${name} Lane`, lat: 52.3, lon: -2.4 })).id;
    schools.oak = await site('Oak Primary');
    schools.ash = await site('Ash Academy');
    schools.empty = await site('Elm Infants');
    schools.library = await site('Town Library', 'library');
    const r = t.services.residents;
    people.welsh = (await r.create(system, { name: 'Elin', mobile: '07700900401', language: 'cy', ...quietNow() })).id;
    people.email = (await r.create(system, { name: 'Tom', email: 'tom@example.com' })).id;
    people.both = (await r.create(system, { name: 'Priya', email: 'priya@example.com' })).id;
    await r.subscribe(system, people.welsh, { topic: 'school-closures', kind: 'site', siteId: schools.oak });
    await r.subscribe(system, people.email, { topic: 'school-closures', kind: 'site', siteId: schools.ash });
    await r.subscribe(system, people.both, { topic: 'school-closures', kind: 'site', siteId: schools.oak });
    await r.subscribe(system, people.both, { topic: 'school-closures', kind: 'site', siteId: schools.ash });
  });

  test('closing schools tells each school’s subscribers at once, in their language, quiet hours or not', async () => {
    const res = await call('POST', '/api/v1/schools/closures', {
      siteIds: [schools.oak, schools.ash, schools.empty],
      closedOn: today(),
      reason: 'the heating has failed',
      reasonCy: 'mae’r gwres wedi torri',
    });
    assert.equal(res.statusCode, 201, res.body);
    const closure = res.json();
    assert.equal(closure.status, 'announcing');
    await drain();
    const done = (await call('GET', `/api/v1/schools/closures/${closure.id}`, undefined, reader)).json();
    assert.equal(done.status, 'announced');
    assert.deepEqual(
      done.schools.map((s: { name: string; subscribers: number }) => [s.name, s.subscribers]),
      [
        ['Oak Primary', 2],
        ['Ash Academy', 2],
        ['Elm Infants', 0],
      ],
    );
    assert.deepEqual([done.progress.residents, done.progress.made, done.progress.skipped, done.progress.byStatus.delivered], [4, 4, 0, 4]);
    const notes = await t.services.db.k.selectFrom('notifications').select(['resident_id', 'type', 'body', 'language']).where('resident_id', '=', people.welsh).execute();
    assert.equal(notes.length, 1);
    assert.equal(notes[0].type, 'sms');
    assert.match(notes[0].body, /^Mae Oak Primary ar gau ar \d+ \w+ \d{4}: mae'r gwres wedi torri\./, 'Welsh (the apostrophe made plain for SMS), and sent in quiet hours');
    const priya = await t.services.db.k.selectFrom('notifications').select('subject').where('resident_id', '=', people.both).orderBy('subject').execute();
    assert.deepEqual(
      priya.map((n) => n.subject?.replace(/ on .*/, '')),
      ['Ash Academy is closed', 'Oak Primary is closed'],
      'one message for each of her schools',
    );
    await drain();
    assert.equal((await t.services.db.k.selectFrom('campaigns').select('id').execute()).length, 2, 'the job run again makes nothing twice');
  });

  test('bad closures are refused with each field named; nothing is saved', async () => {
    const cases: [object, string][] = [
      [{ siteIds: [schools.library], closedOn: today(), reason: 'x' }, 'siteIds'],
      [{ siteIds: [schools.oak], closedOn: '2020-01-01', reason: 'x' }, 'closedOn'],
      [{ siteIds: [schools.oak], closedOn: '2031-02-30', reason: 'x' }, 'closedOn'],
      [{ siteIds: [schools.oak], closedOn: today(), reason: ' ' }, 'reason'],
    ];
    const before = (await t.services.schools.list()).length;
    for (const [body, field] of cases) {
      const res = await call('POST', '/api/v1/schools/closures', body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().code, 'CLOSURE_INVALID');
      assert.equal(res.json().errors[0].field, field);
    }
    assert.equal((await t.services.schools.list()).length, before);
    assert.equal((await call('POST', '/api/v1/schools/closures', { siteIds: [schools.oak], closedOn: today(), reason: 'x' }, reader)).statusCode, 403);
    assert.equal((await call('GET', '/api/v1/schools/closures/0193a000-0000-7000-8000-000000000000', undefined, reader)).json().code, 'CLOSURE_NOT_FOUND');
  });

  test('in the console without JavaScript: find schools keeping the ticks, then close them and follow the telling', async () => {
    const form = (fields: [string, string][]) =>
      t.app.inject({
        method: 'POST',
        url: '/console/schools/closures/new',
        headers: { cookie: officer.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams([...fields, ['_csrf', officer.csrf]]).toString(),
      });
    const [year, month, day] = today().split('-');
    const date: [string, string][] = [
      ['closedOn-day', day],
      ['closedOn-month', month],
      ['closedOn-year', year],
    ];
    const found = await form([['q', 'oak'], ['action', 'find'], ...date]);
    assert.equal(found.statusCode, 200);
    assert.match(found.body, /Oak Primary/);
    assert.doesNotMatch(found.body, /Ash Academy/);
    const again = await form([['q', 'ash'], ['school', schools.oak], ['action', 'find'], ...date]);
    assert.match(again.body, new RegExp(`value="${schools.oak}" checked`), 'the tick is kept');
    assert.match(again.body, /Ash Academy/);
    const missing = await form([['action', 'close'], ...date]);
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /Choose at least one school/);
    assert.match(missing.body, /Enter the reason the schools are closed/);
    const closed = await form([['school', schools.ash], ['reason', 'snow'], ['action', 'close'], ...date]);
    assert.equal(closed.statusCode, 303, closed.body);
    const page = await t.app.inject({ url: closed.headers.location as string, headers: { cookie: officer.cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Finding subscribers|residents subscribed/);
    await drain();
    const after = await t.app.inject({ url: closed.headers.location as string, headers: { cookie: officer.cookie } });
    assert.match(after.body, /2 residents subscribed: 2 messages made\./);
    const viewer = await t.signInAs(['viewer']);
    assert.equal((await t.app.inject({ url: '/console/schools/closures/new', headers: { cookie: viewer.cookie } })).statusCode, 403);
    assert.equal((await t.app.inject({ url: '/console/schools/closures', headers: { cookie: viewer.cookie } })).statusCode, 200);
  });
});
