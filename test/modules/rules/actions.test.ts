/**
 * Rules' actions when an alarm is raised, each run by the durable `rules.action` job: a signed
 * webhook (checked by a local HTTP server, tried again after a 500, every attempt in the delivery
 * log), staff told by email through the built-in "Alarms" service (to the development inbox),
 * residents told once per episode (one campaign per alarm, none again for the rule and area within
 * 12 hours), and one service request per alarm, even when the job runs again.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { AlarmActions, type RuleView, StaffAlerts } from '../../../src/modules/rules/index.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { squareWards } from '../../geo-fixtures.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');
const WARDS = squareWards([
  { name: 'Northtown', code: 'N1', box: [-2.5, 52.33, -2.45, 52.36] },
  { name: 'Southtown', code: 'S1', box: [-2.5, 52.3, -2.45, 52.33] },
]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A webhook receiver: answers each request with the next status in `answers` (then 200), keeping what it got. */
function receiver() {
  const got: { headers: IncomingMessage['headers']; body: string }[] = [];
  const answers: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.statusCode = answers.shift() ?? 200;
      res.end('ok');
    });
  });
  return { server, got, answers, url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/alarms` };
}

forEachDialect('alarm actions', (dialect) => {
  let t: TestApp;
  let officer: string;
  let deviceId: string;
  let northId: string;
  const hooks = receiver();
  const call = (method: string, url: string, payload?: unknown) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${officer}` }, payload: payload as object });
  const drain = async () => {
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) return;
    }
  };
  const rule = async (name: string, actions: unknown[], extra: Record<string, unknown> = {}): Promise<RuleView> => {
    const res = await call('POST', '/api/v1/rules', {
      name,
      severity: 'major',
      scope: { deviceIds: [deviceId] },
      condition: { type: 'threshold', metric: 'no2', op: '>', value: 200 },
      actions,
      ...extra,
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json();
  };
  const raise = async (r: RuleView, subject: { type?: 'device' | 'area'; id?: string } = {}) => {
    const alarm = await t.services.rules.alarms.raise({
      rule: r,
      subjectType: subject.type ?? 'device',
      subjectId: subject.id ?? deviceId,
      subjectName: subject.type === 'area' ? 'Northtown' : 'Air quality, High Street',
      deviceId: subject.type === 'area' ? null : deviceId,
      areaId: subject.type === 'area' ? subject.id : null,
      metric: 'no2',
      value: 7,
      message: 'NO2 is 250.',
      at: new Date(),
    });
    assert.ok(alarm, 'the alarm is raised');
    return alarm;
  };
  const history = async (alarmId: string) => (await t.services.rules.alarms.get(alarmId)).history;

  before(async () => {
    t = await testApp(dialect);
    officer = await t.key(['rules:read', 'rules:manage', 'alarms:read', 'alarms:manage']);
    await t.services.estate.importAreas(system, WARDS);
    northId = (await t.services.estate.listAreas()).find((a) => a.name === 'Northtown')?.id as string;
    deviceId = (await t.services.estate.createDevice(system, { name: 'Air quality, High Street', serial: 'AQ-ACT-1', profile: 'air-quality', lat: 52.345, lon: -2.475 })).device.id;
    await new Promise<void>((resolve) => hooks.server.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => hooks.server.close(() => resolve())));

  test('a webhook is signed with the named secret, tried again after a 500, and every attempt is in the delivery log', async () => {
    const set = await call('PUT', '/api/v1/webhook-secrets/air-quality-hooks', {});
    assert.equal(set.statusCode, 200, set.body);
    const secret = set.json().secret as string;
    assert.ok(secret.length >= 32);
    assert.deepEqual(
      (await call('GET', '/api/v1/webhook-secrets')).json().items.map((s: { name: string; secret?: string }) => [s.name, s.secret]),
      [['air-quality-hooks', undefined]],
      'the secret is never shown again',
    );
    const r = await rule('NO2 webhook', [{ type: 'webhook', url: hooks.url(), secretRef: 'air-quality-hooks' }]);
    hooks.answers.push(500);
    const alarm = await raise(r);
    for (let i = 0; i < 60 && hooks.got.length < 2; i++) {
      await t.services.jobs.runOnce();
      await sleep(100);
    }
    assert.equal(hooks.got.length, 2, 'one failure, then one success');
    for (const { headers, body } of hooks.got) {
      const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      assert.equal(headers['x-weft-signature'], expected, 'the receiver verifies the signature over the exact body');
      assert.notEqual(headers['x-weft-signature'], `sha256=${createHmac('sha256', 'another secret').update(body).digest('hex')}`);
      assert.equal(headers['content-type'], 'application/json');
    }
    assert.equal(hooks.got[0].body, hooks.got[1].body, 'a retry sends the same body');
    const sent = JSON.parse(hooks.got[0].body);
    assert.equal(sent.event, 'alarm.raised');
    assert.equal(sent.alarm.id, alarm.id);
    assert.equal(sent.rule.name, 'NO2 webhook');

    const log = (await call('GET', `/api/v1/webhook-deliveries?alarm=${alarm.id}`)).json().items;
    assert.deepEqual(
      log.map((d: { attempt: number; statusCode: number; url: string }) => [d.attempt, d.statusCode, d.url]),
      [
        [2, 200, hooks.url()],
        [1, 500, hooks.url()],
      ],
    );
    assert.ok((await history(alarm.id)).some((h) => h.kind === 'action' && /answered 200 \(attempt 2\)/.test(h.note ?? '')));
  });

  test('a webhook a receiver refuses with a 4xx is not tried again; a missing secret is logged; secrets need rules:manage', async () => {
    const before = hooks.got.length;
    hooks.answers.push(410);
    const gone = await raise(await rule('NO2 webhook gone', [{ type: 'webhook', url: hooks.url() }]));
    await drain();
    assert.equal(hooks.got.length, before + 1);
    assert.equal(hooks.got.at(-1)?.headers['x-weft-signature'], undefined, 'no secretRef: not signed');
    assert.equal((await call('GET', `/api/v1/webhook-deliveries?alarm=${gone.id}`)).json().items.length, 1);

    // A rule cannot name a secret that is not there; one deleted after the rule was saved is logged when the webhook runs.
    const refused = await call('POST', '/api/v1/rules', {
      name: 'NO2 webhook no secret',
      severity: 'major',
      scope: { deviceIds: [deviceId] },
      condition: { type: 'threshold', metric: 'no2', op: '>', value: 200 },
      actions: [{ type: 'webhook', url: hooks.url(), secretRef: 'nobody-set-this' }],
      escalationPolicyId: '00000000-0000-4000-8000-000000000001',
    });
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().code, 'RULE_INVALID');
    assert.deepEqual(
      refused
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
      ['actions.0.secretRef', 'escalationPolicyId'],
    );
    assert.equal((await call('PUT', '/api/v1/webhook-secrets/nobody-set-this', {})).statusCode, 200);
    const saved = await rule('NO2 webhook no secret', [{ type: 'webhook', url: hooks.url(), secretRef: 'nobody-set-this' }]);
    assert.equal((await call('DELETE', '/api/v1/webhook-secrets/nobody-set-this')).statusCode, 204);
    const missing = await raise(saved);
    await t.services.jobs.runOnce();
    const [attempt] = (await call('GET', `/api/v1/webhook-deliveries?alarm=${missing.id}`)).json().items;
    assert.equal(attempt.statusCode, null);
    assert.match(attempt.error, /no webhook secret named nobody-set-this/);
    assert.equal(hooks.got.length, before + 1, 'nothing unsigned is sent in its place');

    const reader = await t.key(['rules:read', 'alarms:read']);
    const asReader = (method: string, url: string) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${reader}` }, payload: {} });
    assert.equal((await asReader('PUT', '/api/v1/webhook-secrets/x')).statusCode, 403);
    assert.equal((await asReader('DELETE', '/api/v1/webhook-secrets/air-quality-hooks')).statusCode, 403);
    assert.equal((await call('DELETE', '/api/v1/webhook-secrets/never-made')).json().code, 'WEBHOOK_SECRET_NOT_FOUND');
    assert.equal((await call('DELETE', '/api/v1/webhook-secrets/air-quality-hooks')).statusCode, 204);
  });

  test('notify_staff emails the member of staff, the team’s on-call person and the team, through the development inbox', async () => {
    const team = await t.services.requests.createTeam(system, { name: 'Air quality team', email: 'air-team@council.example' });
    const user = await t.services.staff.createUser(system, { email: 'nia.officer@council.example', name: 'Nia Officer', roles: ['officer'], password: 'correct-horse-battery-staple' });
    const onCall = await t.services.staff.createUser(system, { email: 'owen.oncall@council.example', name: 'Owen Oncall', roles: ['officer'], password: 'correct-horse-battery-staple' });
    const now = Date.now();
    const rota = await call('PUT', `/api/v1/oncall/${team.id}`, {
      shifts: [{ userId: onCall.id, startsAt: new Date(now - 3_600_000).toISOString(), endsAt: new Date(now + 3_600_000).toISOString() }],
    });
    assert.equal(rota.statusCode, 200, rota.body);
    const r = await rule('NO2 tell staff', [
      { type: 'notify_staff', userId: user.id },
      { type: 'notify_staff', teamId: team.id, onCall: true },
      { type: 'notify_staff', teamId: team.id },
    ]);
    const alarm = await raise(r);
    await drain();
    const sent = await t.services.db.k.selectFrom('notifications').selectAll().where('reference', '=', `alarm-${alarm.id}`).execute();
    assert.deepEqual(sent.map((n) => n.recipient).sort(), ['air-team@council.example', 'nia.officer@council.example', 'owen.oncall@council.example']);
    for (const n of sent) {
      assert.equal(n.type, 'email');
      assert.equal(n.provider, 'inbox');
      assert.equal(n.status, 'delivered');
      assert.equal(n.subject, 'Major alarm: NO2 tell staff');
      assert.match(n.body, /NO2 is 250\./);
      assert.match(n.body, new RegExp(`/console/alarms/${alarm.id}`));
    }
    const notes = (await history(alarm.id)).filter((h) => h.kind === 'action').map((h) => h.note);
    assert.ok(notes.includes('Told Owen Oncall (on call for Air quality team) by email.'), notes.join(' | '));
    // Run again (at least once means it can be): nobody is told twice.
    await t.services.alarmActions.run({ alarmId: alarm.id, index: 0 });
    assert.equal((await t.services.db.k.selectFrom('notifications').select('id').where('reference', '=', `alarm-${alarm.id}`).execute()).length, 3);
  });

  test('notify_residents sends one campaign per episode, and none again for the rule and area within 12 hours', async () => {
    const m = t.services.messaging;
    const serviceId = (await m.createService(system, { name: 'Air quality alerts' })).id;
    const email = (
      await m.createTemplate(system, serviceId, {
        name: 'Air quality (email)',
        type: 'email',
        subject: 'Air quality is ((band)) in ((area))',
        body: 'Dear ((name)), the index is ((index)): ((message))',
      })
    ).id;
    const r1 = await t.services.residents.create(system, { name: 'Rhian', email: 'rhian@example.com' });
    const r2 = await t.services.residents.create(system, { name: 'Sam South', email: 'sam.south@example.com' });
    await t.services.residents.subscribe(system, r1.id, { topic: 'air-quality', kind: 'area', areaId: northId });
    await t.services.residents.subscribe(system, r2.id, { topic: 'air-quality', kind: 'area', areaId: (await t.services.estate.listAreas()).find((a) => a.name === 'Southtown')?.id as string });
    const r = await rule('DAQI high in an area', [{ type: 'notify_residents', topic: 'air-quality', serviceId, templates: { email } }], {
      scope: {},
      condition: { type: 'daqi', atLeast: 7, per: 'area' },
    });
    const campaigns = async () => (await t.services.campaigns.list(serviceId)).length;

    const first = await raise(r, { type: 'area', id: northId });
    await drain();
    assert.equal(await campaigns(), 1);
    const sent = await t.services.db.k.selectFrom('notifications').selectAll().where('service_id', '=', serviceId).execute();
    assert.deepEqual(
      sent.map((n) => [n.recipient, n.subject, n.body.trim()]),
      [['rhian@example.com', 'Air quality is High in Northtown', 'Dear Rhian, the index is 7: NO2 is 250.']],
    );
    await t.services.alarmActions.run({ alarmId: first.id, index: 0 });
    assert.equal(await campaigns(), 1, 'the same episode sends once, however often the job runs');

    await t.services.rules.alarms.clear(system, first.id, 'Cleaner air');
    const second = await raise(r, { type: 'area', id: northId });
    await drain();
    assert.equal(await campaigns(), 1, 'a second episode within 12 hours tells nobody again');
    assert.ok((await history(second.id)).some((h) => /were not told again: this rule told them within 12 hours/.test(h.note ?? '')));

    // Thirteen hours on, the next episode is told.
    await t.services.rules.alarms.clear(system, second.id, 'Cleaner air');
    const third = await raise(r, { type: 'area', id: northId });
    const later = new Date(Date.now() + 13 * 3_600_000);
    const s = t.services;
    const staffAlerts = new StaffAlerts({ db: s.db, messaging: s.messaging, notify: s.notify, staff: s.staff, teams: () => s.requests.listTeams(), publicUrl: 'http://weft.test', log: console });
    const movedOn = new AlarmActions({
      db: s.db,
      rulesRepo: s.rules.repo,
      audit: s.audit,
      estate: s.estate,
      campaigns: s.campaigns,
      requests: s.requests,
      staffAlerts,
      secret: s.config.secret,
      log: console,
      now: () => later,
    });
    await movedOn.run({ alarmId: third.id, index: 0 });
    assert.equal(await campaigns(), 2);
  });

  test('service_request raises one request per alarm at the device’s position, even when the job runs again', async () => {
    const team = await t.services.requests.createTeam(system, { name: 'Highways' });
    await t.services.requests.createCategory(system, { code: 'air-pollution', name: 'Air pollution', group: 'Environment', targetHours: 48, defaultTeamId: team.id });
    const r = await rule('NO2 request', [{ type: 'service_request', category: 'air-pollution' }]);
    const alarm = await raise(r);
    await drain();
    const made = async () => (await t.services.requests.list({ category: 'air-pollution' })).filter((q) => q.description.includes(alarm.id));
    const [request] = await made();
    assert.ok(request, 'a request is raised');
    assert.equal(request.lat, 52.345);
    assert.equal(request.lon, -2.475);
    assert.equal(request.areaName, 'Northtown');
    assert.match(request.description, /^NO2 is 250\./);
    await t.services.alarmActions.run({ alarmId: alarm.id, index: 0 });
    // As if the worker died after making the request and before recording it: found, not made again.
    await t.services.db.k.deleteFrom('alarm_actions').where('alarm_id', '=', alarm.id).execute();
    await t.services.alarmActions.run({ alarmId: alarm.id, index: 0 });
    assert.equal((await made()).length, 1);
    const unknown = await raise(await rule('NO2 request, no such category', [{ type: 'service_request', category: 'no-such-thing' }]));
    await drain();
    assert.ok((await history(unknown.id)).some((h) => /No service request was raised/.test(h.note ?? '')));
  });
});
