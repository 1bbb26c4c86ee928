/**
 * Lone-worker visits: a missed check-out raises a critical alarm to the worker's team through the
 * built-in rule and escalates (a text to the team's on-call mobile at once, the team's inbox after
 * 10 minutes); checking out clears it. A visit checked out in time raises nothing. The visits page
 * works without JavaScript (forms with CSRF, errors in the GOV.UK way), and only for care staff.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { VISIT_DEADLINE_JOB } from '../../../src/modules/rules/index.js';
import { type Actor, systemActor } from '../../../src/platform/auth/actor.js';
import { type Browser, csrfFrom, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');
const MINUTE = 60_000;

forEachDialect('lone-worker visits', (dialect) => {
  let t: TestApp;
  let worker: Browser;
  let teamId: string;
  let officer: string;
  const asWorker = (): Actor => ({ type: 'user', id: worker.userId, label: worker.email, permissions: new Set(['visits:start']), roles: ['care'] });
  const api = (method: string, url: string, payload?: unknown, who: Browser = worker) =>
    t.app.inject({ method: method as 'GET', url, headers: { cookie: who.cookie, 'x-csrf-token': who.csrf }, payload: payload as object });
  const form = (url: string, fields: Record<string, string>, who: Browser = worker) =>
    t.app.inject({ method: 'POST', url, headers: { cookie: who.cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() });
  const drain = async () => {
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) return;
    }
  };
  const alarmsOfVisit = async (visitId: string) => (await t.services.rules.alarms.list({ type: 'lone_worker', limit: 500 })).filter((a) => a.subjectId === visitId);

  before(async () => {
    t = await testApp(dialect);
    officer = await t.key(['rules:read', 'alarms:read']);
    teamId = (await t.services.requests.createTeam(system, { name: 'Community care', email: 'community-care@council.example' })).id;
    worker = await t.signInAs(['care'], 'wyn.worker@council.example');
    const onCall = await t.services.staff.createUser(system, { email: 'olwen.oncall@council.example', name: 'Olwen Oncall', roles: ['care'], password: 'correct-horse-battery-staple' });
    const now = Date.now();
    await t.services.escalation.putRota(system, teamId, {
      shifts: [{ userId: onCall.id, startsAt: new Date(now - 3_600_000).toISOString(), endsAt: new Date(now + 12 * 3_600_000).toISOString(), phone: '07700 900456' }],
    });
  });

  test('a missed check-out raises a critical alarm to the team, escalates, and checking out clears it', async () => {
    const started = new Date(Date.now() - 30 * MINUTE);
    const visit = await t.services.loneWorker.start(asWorker(), { place: '12 Oak Road, flat 3', expectedMinutes: 15, teamId }, {}, started);
    assert.equal(visit.deadlineAt.getTime(), started.getTime() + 25 * MINUTE, 'the end plus 10 minutes’ grace');
    await drain();
    const [alarm] = await alarmsOfVisit(visit.id);
    assert.ok(alarm, 'the deadline job raised an alarm');
    assert.equal(alarm.severity, 'critical');
    assert.equal(alarm.teamId, teamId, 'to the worker’s team');
    assert.equal(alarm.subjectType, 'visit');
    assert.match(alarm.message, /^Test care has not checked out of a visit to 12 Oak Road, flat 3\. It was due to end at \d\d:\d\d\.$/);
    assert.equal(alarm.escalationStep, 1);
    const sent = async () =>
      (await t.services.db.k.selectFrom('notifications').select(['type', 'recipient']).where('reference', '=', `alarm-${alarm.id}`).orderBy('created_at').execute()).map(
        (n) => `${n.type}:${n.recipient}`,
      );
    assert.deepEqual(await sent(), ['sms:07700900456'], 'the on-call person is texted at once');
    assert.equal((await api('GET', `/api/v1/visits/${visit.id}`)).json().status, 'alarm');

    assert.equal(await t.services.escalation.runDue(new Date(alarm.raisedAt.getTime() + 10 * MINUTE)), 1);
    await drain();
    assert.deepEqual(await sent(), ['sms:07700900456', 'email:community-care@council.example'], 'then all of the team');

    const page = await t.app.inject({ url: '/console/visits', headers: { cookie: worker.cookie } });
    assert.match(page.body, /You did not check out in time, so Community care has been alerted\. If you are safe, check out now\./);

    const out = await api('POST', `/api/v1/visits/${visit.id}/check-out`);
    assert.equal(out.statusCode, 200, out.body);
    assert.equal(out.json().status, 'checked_out');
    const { alarm: after, history } = await t.services.rules.alarms.get(alarm.id);
    assert.equal(after.status, 'cleared');
    assert.match(history.at(-1)?.note ?? '', /^Test care checked out at \d\d:\d\d: safe\.$/);
    assert.equal(await t.services.escalation.runDue(new Date(alarm.raisedAt.getTime() + 60 * MINUTE)), 0, 'a cleared alarm escalates no further');

    const rules = (await t.app.inject({ url: '/api/v1/rules', headers: { authorization: `Bearer ${officer}` } })).json().items;
    const builtIn = rules.find((r: { condition: { type: string } }) => r.condition.type === 'lone_worker');
    assert.equal(builtIn.sentence, 'Raise a critical alarm to their team when a lone worker has not checked out 10 minutes after their visit was due to end.');
  });

  test('a visit checked out in time raises nothing; the API refuses what cannot be', async () => {
    const res = await api('POST', '/api/v1/visits', { place: 'Riverside Court, 7', expectedMinutes: 30, teamId });
    assert.equal(res.statusCode, 201, res.body);
    const visit = res.json();
    const job = await t.services.db.k
      .selectFrom('jobs')
      .select(['run_at', 'status'])
      .where('name', '=', VISIT_DEADLINE_JOB)
      .where('idempotency_key', '=', `visit-deadline:${visit.id}`)
      .executeTakeFirstOrThrow();
    assert.equal(job.run_at.getTime(), new Date(visit.deadlineAt).getTime(), 'a durable job waits for the deadline');
    assert.equal((await api('POST', '/api/v1/visits', { place: 'Elsewhere', expectedMinutes: 30, teamId })).json().code, 'VISIT_IN_PROGRESS');

    assert.equal((await api('POST', `/api/v1/visits/${visit.id}/check-out`)).json().status, 'checked_out');
    assert.equal((await api('POST', `/api/v1/visits/${visit.id}/check-out`)).json().code, 'VISIT_CHECKED_OUT');
    await t.services.loneWorker.checkDeadline(visit.id, new Date(new Date(visit.deadlineAt).getTime() + MINUTE));
    assert.deepEqual(await alarmsOfVisit(visit.id), [], 'checked out in time: no alarm at the deadline');

    const bad = await api('POST', '/api/v1/visits', { place: '   ', expectedMinutes: 30, teamId: '7f0c4f9e-2d1b-4c1a-9a57-0a5b0f3c9d11' });
    assert.equal(bad.json().code, 'VISIT_INVALID');
    assert.deepEqual(
      bad.json().errors.map((e: { field: string }) => e.field),
      ['place', 'teamId'],
    );
    const colleague = await t.signInAs(['care']);
    assert.equal((await api('GET', `/api/v1/visits/${visit.id}`, undefined, colleague)).json().code, 'VISIT_NOT_FOUND', 'a visit is seen by its worker only');
    const key = await t.key(['visits:start']);
    const byKey = await t.app.inject({ method: 'POST', url: '/api/v1/visits', headers: { authorization: `Bearer ${key}` }, payload: { place: 'x', expectedMinutes: 30, teamId } });
    assert.equal(byKey.json().code, 'VISITS_STAFF_ONLY');
    const viewer = await t.signInAs(['viewer']);
    assert.equal((await api('GET', '/api/v1/visits', undefined, viewer)).statusCode, 403);
  });

  test('the visits page works without JavaScript: errors, start, and “I’m safe – check out”', async () => {
    const page = await t.app.inject({ url: '/console/visits', headers: { cookie: worker.cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1 class="govuk-heading-l">Start a visit<\/h1>/);
    assert.match(page.body, /Community care/);
    const csrf = csrfFrom(page.body);

    const empty = await form('/console/visits', { _csrf: csrf, place: '', expectedMinutes: 'soon' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /govuk-error-summary/);
    assert.match(empty.body, /Enter where the visit is/);
    assert.match(empty.body, /Enter a whole number of minutes from 5 to 720/);
    assert.match(empty.body, /Choose your team/);
    assert.equal((await form('/console/visits', { place: 'No token', expectedMinutes: '20', teamId })).statusCode, 403, 'no CSRF token, no visit');

    const started = await form('/console/visits', { _csrf: csrf, place: '3 Mill Lane', expectedMinutes: '20', teamId });
    assert.equal(started.statusCode, 303, started.body);
    assert.equal(started.headers.location, '/console/visits?done=started');
    const onVisit = await t.app.inject({ url: '/console/visits?done=started', headers: { cookie: worker.cookie } });
    assert.match(onVisit.body, /Your visit has started/);
    assert.match(onVisit.body, /3 Mill Lane/);
    const action = /action="(\/console\/visits\/[0-9a-f-]+\/check-out)"/.exec(onVisit.body)?.[1] as string;
    assert.ok(action, onVisit.body);
    assert.match(onVisit.body, /I’m safe – check out/);

    const out = await form(action, { _csrf: csrfFrom(onVisit.body) });
    assert.equal(out.statusCode, 303);
    const done = await t.app.inject({ url: out.headers.location as string, headers: { cookie: worker.cookie } });
    assert.match(done.body, /You have checked out/);
    assert.match(done.body, /Start a visit/);
    assert.match(done.body, /3 Mill Lane/, 'in the recent visits');

    const viewer = await t.signInAs(['viewer']);
    assert.equal((await t.app.inject({ url: '/console/visits', headers: { cookie: viewer.cookie } })).statusCode, 403);
  });
});
