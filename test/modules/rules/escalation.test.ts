/**
 * Escalation with a moved clock: a policy's first step runs as the alarm is raised (a text to the
 * team's on-call mobile), the next after its minutes without acknowledgement, the last once; an
 * acknowledgement stops it (and a step queued before it sends nothing); a critical alarm's last
 * step repeats until someone acknowledges; two workers on PostgreSQL never take one step twice.
 * The policies' and rotas' API refuses what makes no sense, and hides on-call mobiles from readers.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { AlarmsService, EscalationService, type RuleView } from '../../../src/modules/rules/index.js';
import { RulesRepository } from '../../../src/modules/rules/rules.repository.js';
import { AuditService } from '../../../src/platform/audit/audit.service.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { openDb } from '../../../src/platform/db/database.js';
import { JobQueue } from '../../../src/platform/jobs/index.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { atEnd, forEachDialect } from '../../helpers.js';

const system = systemActor('test');
const MINUTE = 60_000;
const quiet = { info() {}, warn() {}, error() {} };

forEachDialect('escalation and on-call', (dialect) => {
  let t: TestApp;
  let officer: string;
  let reader: string;
  let deviceId: string;
  let teamId: string;
  let carer: string;
  let coordinator: string;
  let policyId: string;
  const call = (method: string, url: string, payload?: unknown, key = officer) =>
    t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}` }, payload: payload as object });
  const drain = async () => {
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) return;
    }
  };
  let n = 0;
  const rule = async (severity: 'major' | 'critical'): Promise<RuleView> => {
    const res = await call('POST', '/api/v1/rules', {
      name: `Fall ${++n}`,
      severity,
      scope: { deviceIds: [deviceId] },
      condition: { type: 'event', metric: 'fall' },
      teamId,
      escalationPolicyId: policyId,
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json();
  };
  const raise = async (r: RuleView) => {
    const alarm = await t.services.rules.alarms.raise({
      rule: r,
      subjectType: 'device',
      subjectId: deviceId,
      subjectName: 'Pendant, 4 Elm Close',
      deviceId,
      metric: 'fall',
      value: 1,
      message: 'A fall was detected.',
      at: new Date(),
    });
    assert.ok(alarm);
    return alarm;
  };
  const at = (alarm: { raisedAt: Date }, minutes: number) => new Date(alarm.raisedAt.getTime() + minutes * MINUTE);
  const state = async (id: string) => {
    const { alarm, history } = await t.services.rules.alarms.get(id);
    return { step: alarm.escalationStep, next: alarm.nextEscalationAt, kinds: history.map((h) => h.kind), notes: history.map((h) => h.note ?? '') };
  };
  const sentTo = async (alarmId: string) =>
    (await t.services.db.k.selectFrom('notifications').select(['recipient', 'type', 'provider']).where('reference', '=', `alarm-${alarmId}`).orderBy('created_at').execute()).map(
      (r) => `${r.type}:${r.recipient}`,
    );

  before(async () => {
    t = await testApp(dialect);
    officer = await t.key(['rules:read', 'rules:manage', 'alarms:read', 'alarms:manage']);
    reader = await t.key(['alarms:read']);
    deviceId = (await t.services.estate.createDevice(system, { name: 'Pendant, 4 Elm Close', serial: 'PD-ESC-1', profile: 'air-quality', lat: 52.3, lon: -2.4 })).device.id;
    teamId = (await t.services.requests.createTeam(system, { name: 'Care', email: 'care-team@council.example' })).id;
    const user = (email: string, name: string) => t.services.staff.createUser(system, { email, name, roles: ['care'], password: 'correct-horse-battery-staple' });
    carer = (await user('carys.carer@council.example', 'Carys Carer')).id;
    coordinator = (await user('cai.coordinator@council.example', 'Cai Coordinator')).id;
    const now = Date.now();
    const rota = await call('PUT', `/api/v1/oncall/${teamId}`, {
      shifts: [
        { userId: carer, startsAt: new Date(now - 8 * 3_600_000).toISOString(), endsAt: new Date(now + 8 * 3_600_000).toISOString(), phone: '07700 900123' },
        { userId: coordinator, startsAt: new Date(now + 8 * 3_600_000).toISOString(), endsAt: new Date(now + 20 * 3_600_000).toISOString() },
      ],
    });
    assert.equal(rota.statusCode, 200, rota.body);
    const policy = await call('POST', '/api/v1/escalation-policies', {
      name: 'Telecare falls',
      steps: [
        { afterMinutes: 0, notify: { onCall: teamId }, channel: 'sms' },
        { afterMinutes: 10, notify: { userId: coordinator }, channel: 'email' },
        { afterMinutes: 20, notify: { alarmTeam: 'all' }, channel: 'email' },
      ],
      repeatMinutes: 5,
    });
    assert.equal(policy.statusCode, 201, policy.body);
    policyId = policy.json().id;
  });

  test('step 1 runs as the alarm is raised, step 2 after 10 minutes, step 3 after 20, and then no more', async () => {
    const alarm = await raise(await rule('major'));
    assert.equal(alarm.escalationStep, 1);
    assert.deepEqual(alarm.nextEscalationAt, at(alarm, 10));
    await drain();
    assert.deepEqual(await sentTo(alarm.id), ['sms:07700900123']);
    const first = await state(alarm.id);
    assert.deepEqual(first.kinds, ['raised', 'escalated', 'notified']);
    assert.equal(first.notes[2], 'Told Carys Carer (on call for Care) by text.');

    const escalation = t.services.escalation;
    assert.equal(await escalation.runDue(new Date(at(alarm, 10).getTime() - 1000)), 0, 'not before its time');
    assert.equal(await escalation.runDue(at(alarm, 10)), 1);
    assert.equal(await escalation.runDue(at(alarm, 10)), 0, 'a step is taken once');
    await drain();
    assert.deepEqual(await state(alarm.id).then((s) => [s.step, s.next]), [2, at(alarm, 20)]);
    assert.deepEqual(await sentTo(alarm.id), ['sms:07700900123', 'email:cai.coordinator@council.example']);

    assert.equal(await escalation.runDue(at(alarm, 25)), 1);
    await drain();
    assert.deepEqual(await state(alarm.id).then((s) => [s.step, s.next]), [3, null], 'a major alarm stops after the last step');
    assert.equal((await sentTo(alarm.id)).at(-1), 'email:care-team@council.example');
    assert.equal(await escalation.runDue(at(alarm, 120)), 0);
    const mail = await t.services.db.k
      .selectFrom('notifications')
      .select('body')
      .where('reference', '=', `alarm-${alarm.id}`)
      .where('recipient', '=', 'care-team@council.example')
      .executeTakeFirstOrThrow();
    assert.match(mail.body, /Not acknowledged within 20 minutes: escalation step 3 of 3\./);
  });

  test('acknowledging stops escalation, and a step queued just before it sends nothing', async () => {
    const alarm = await raise(await rule('major'));
    await t.services.rules.alarms.acknowledge(system, alarm.id, 'On my way');
    await drain();
    assert.deepEqual(await sentTo(alarm.id), [], 'acknowledged before the first message went: nothing is sent');
    assert.equal(await t.services.escalation.runDue(at(alarm, 60)), 0);
    assert.deepEqual(await state(alarm.id).then((s) => [s.step, s.next]), [1, null]);

    const other = await raise(await rule('major'));
    await drain();
    assert.equal(await t.services.escalation.runDue(at(other, 10)), 1);
    await t.services.rules.alarms.acknowledge(system, other.id, undefined);
    assert.equal(await t.services.escalation.runDue(at(other, 30)), 0);
    assert.equal((await state(other.id)).step, 2);
  });

  test('a critical alarm repeats its last step every 5 minutes until a person acknowledges', async () => {
    const alarm = await raise(await rule('critical'));
    const escalation = t.services.escalation;
    assert.equal(await escalation.runDue(at(alarm, 10)), 1);
    assert.equal(await escalation.runDue(at(alarm, 20)), 1);
    assert.deepEqual((await state(alarm.id)).next, at(alarm, 25), 'the last step comes round again');
    assert.equal(await escalation.runDue(at(alarm, 25)), 1);
    assert.equal(await escalation.runDue(at(alarm, 30)), 1);
    await drain();
    const s = await state(alarm.id);
    assert.equal(s.step, 5);
    assert.match(s.notes.filter((_, i) => s.kinds[i] === 'escalated').at(-1) as string, /^Step 3 of 3 again \(critical, not acknowledged\)/);
    assert.equal((await sentTo(alarm.id)).filter((r) => r === 'email:care-team@council.example').length, 3);
    await t.services.rules.alarms.acknowledge(system, alarm.id, 'With her now');
    assert.equal(await escalation.runDue(at(alarm, 90)), 0);
    assert.equal((await state(alarm.id)).step, 5);
  });

  test('two workers on PostgreSQL never take the same step twice', { skip: dialect !== 'postgres' && 'SQLite runs one worker' }, async () => {
    const db2 = openDb({ databaseUrl: t.url });
    atEnd(() => db2.close());
    const repo2 = new RulesRepository(db2);
    const jobs2 = new JobQueue(db2, { log: quiet });
    const alarms2 = new AlarmsService(db2, repo2, new AuditService(db2), t.services.events, jobs2);
    const s = t.services;
    const other = new EscalationService({
      db: db2,
      rulesRepo: repo2,
      alarms: alarms2,
      audit: new AuditService(db2),
      jobs: jobs2,
      staffAlerts: undefined as never,
      staff: s.staff,
      teams: () => s.requests.listTeams(),
      log: quiet,
    });
    const r = await rule('critical');
    const raised = [];
    for (let i = 0; i < 30; i++) {
      const alarm = await s.rules.alarms.raise({ rule: r, subjectType: 'device', subjectId: `pendant-${i}`, subjectName: `Pendant ${i}`, message: 'A fall was detected.', at: new Date() });
      assert.ok(alarm);
      raised.push(alarm);
    }
    const latest = raised.at(-1) as (typeof raised)[number];
    let expected = 1;
    for (const minutes of [10, 20, 40, 60]) {
      const taken = await Promise.all([s.escalation.runDue(at(latest, minutes)), other.runDue(at(latest, minutes))]);
      expected++;
      assert.equal(taken[0] + taken[1], 30, `at ${minutes} minutes each alarm is taken once (${taken.join(' + ')})`);
    }
    const steps = await s.db.k
      .selectFrom('alarm_events')
      .select(['alarm_id', (e) => e.fn.countAll<number>().as('n')])
      .where('kind', '=', 'escalated')
      .where(
        'alarm_id',
        'in',
        raised.map((a) => a.id),
      )
      .groupBy('alarm_id')
      .execute();
    assert.deepEqual([...new Set(steps.map((x) => Number(x.n)))], [expected]);
    for (const a of raised) assert.equal((await state(a.id)).step, expected);
  });

  test('policies and rotas: bad input is refused with the fields named; readers see no mobiles; a policy in use stays', async () => {
    const bad = await call('POST', '/api/v1/escalation-policies', {
      name: 'Muddled',
      steps: [
        { afterMinutes: 5, notify: { teamId, userId: carer }, channel: 'email' },
        { afterMinutes: 5, notify: { onCall: '7f0c4f9e-2d1b-4c1a-9a57-0a5b0f3c9d11' }, channel: 'sms' },
      ],
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'ESCALATION_POLICY_INVALID');
    assert.deepEqual(
      bad.json().errors.map((e: { field: string }) => e.field),
      ['steps.0.notify', 'steps.1.afterMinutes', 'steps.1.notify'],
    );
    const same = await call('POST', '/api/v1/escalation-policies', { name: 'Telecare falls', steps: [{ afterMinutes: 0, notify: { teamId }, channel: 'email' }] });
    assert.equal(same.json().code, 'ESCALATION_POLICY_NAME_TAKEN');
    assert.equal((await call('DELETE', `/api/v1/escalation-policies/${policyId}`)).json().code, 'ESCALATION_POLICY_IN_USE');
    assert.equal((await call('GET', '/api/v1/escalation-policies/7f0c4f9e-2d1b-4c1a-9a57-0a5b0f3c9d11', undefined, reader)).json().code, 'ESCALATION_POLICY_NOT_FOUND');
    const spare = (await call('POST', '/api/v1/escalation-policies', { name: 'Spare', steps: [{ afterMinutes: 0, notify: { teamId }, channel: 'email' }] })).json();
    assert.equal(
      (await call('PUT', `/api/v1/escalation-policies/${spare.id}`, { name: 'Spare', steps: [{ afterMinutes: 0, notify: { alarmTeam: 'on_call' }, channel: 'sms' }] })).json().steps[0].channel,
      'sms',
    );
    assert.equal((await call('DELETE', `/api/v1/escalation-policies/${spare.id}`)).statusCode, 204);
    assert.equal((await call('POST', '/api/v1/escalation-policies', { name: 'x', steps: [] }, reader)).statusCode, 403);

    const now = Date.now();
    const iso = (h: number) => new Date(now + h * 3_600_000).toISOString();
    const rota = await call('PUT', `/api/v1/oncall/${teamId}`, {
      shifts: [
        { userId: carer, startsAt: iso(0), endsAt: iso(8), phone: '01632 960000' },
        { userId: coordinator, startsAt: iso(4), endsAt: iso(12) },
        { userId: carer, startsAt: iso(14), endsAt: iso(13) },
      ],
    });
    assert.equal(rota.json().code, 'ONCALL_ROTA_INVALID');
    assert.deepEqual(
      rota.json().errors.map((e: { field: string }) => e.field),
      ['shifts.0.phone', 'shifts.2.endsAt', 'shifts.1.startsAt'],
    );
    assert.equal((await call('GET', '/api/v1/oncall/7f0c4f9e-2d1b-4c1a-9a57-0a5b0f3c9d11', undefined, reader)).json().code, 'ONCALL_ROTA_NOT_FOUND');
    const seen = (await call('GET', `/api/v1/oncall/${teamId}`, undefined, reader)).json();
    assert.equal(seen.onCallNow.userName, 'Carys Carer');
    assert.equal(seen.onCallNow.hasPhone, true);
    assert.equal(seen.onCallNow.phone, undefined, 'a reader sees that there is a mobile, not the number');
    assert.equal((await call('GET', `/api/v1/oncall/${teamId}`)).json().onCallNow.phone, '07700900123');
    assert.equal((await call('GET', '/api/v1/oncall', undefined, reader)).json().items.length, 1);
    assert.equal((await call('PUT', `/api/v1/oncall/${teamId}`, { shifts: [] }, reader)).statusCode, 403);
  });
});
