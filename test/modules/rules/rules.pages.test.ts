/**
 * The rules and alarms console: the alarm board with its filters and live stream, an alarm's page
 * and its forms (CSRF, errors in the GOV.UK style, then the change and its history), the rule form
 * without JavaScript (type first, errors, preview, a trial on the last 24 hours, save, a new
 * version, on and off), the air quality page and its map data, car parks and their API; each page
 * for those who may see it and refused to those who may not.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import type { RuleCreate } from '../../../src/modules/rules/index.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { squareWards } from '../../geo-fixtures.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');
const HOUR = 3_600_000;

forEachDialect('rules and alarms console pages', (dialect) => {
  let t: TestApp;
  let officer: Browser;
  let carer: Browser;
  let viewer: Browser;
  let comms: Browser;
  let northtown: string;
  let trialton: string;
  let n = 0;
  const as = (b: Browser) => ({ cookie: b.cookie });
  const get = (b: Browser, url: string) => t.app.inject({ url, headers: as(b) });
  /** Posts a form as a browser does (urlencoded, repeated names for ticked boxes), with the CSRF token unless told not to. */
  const post = (b: Browser, url: string, form: Record<string, string | string[]>, csrf = true) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
    if (csrf) body.append('_csrf', b.csrf);
    return t.app.inject({ method: 'POST', url, headers: { ...as(b), 'content-type': 'application/x-www-form-urlencoded' }, payload: body.toString() });
  };
  async function device(profile: string, at: { lat: number; lon: number } | { siteId: string }) {
    return (await t.services.estate.createDevice(system, { name: `${profile} ${++n}`, serial: `P-${n}-${Date.now()}`, profile, ...at })).device.id;
  }
  async function send(deviceId: string, metric: string, value: number, when = new Date()) {
    const auth = await t.services.estate.deviceAuth(deviceId);
    await t.services.telemetry.ingest(auth as never, [{ metric, value, at: when }], 'http');
    await t.services.rules.idle();
  }
  const rule = (input: Partial<RuleCreate> & Pick<RuleCreate, 'scope' | 'condition'>) => t.services.rules.create(system, { name: `Rule ${++n}`, severity: 'major', ...input });
  /** A device with an alarm open on it: NO2 above 400. */
  async function raisedAlarm(name = `NO2 very high ${++n}`) {
    const d = await device('air-quality', { lat: 51.5, lon: -1.5 });
    const r = await rule({ name, severity: 'critical', scope: { deviceIds: [d] }, condition: { type: 'threshold', metric: 'no2', op: '>', value: 400 } });
    await send(d, 'no2', 450);
    const [alarm] = await t.services.rules.alarms.list({ rule: r.id, limit: 5 });
    assert.ok(alarm, 'the reading raised an alarm');
    return { alarm, rule: r, deviceId: d };
  }

  before(async () => {
    t = await testApp(dialect);
    await t.services.estate.importAreas(
      system,
      squareWards([
        { name: 'Northtown', code: 'E05000001', box: [-2, 51, -1, 52] },
        { name: 'Trialton', code: 'E05000002', box: [0, 51, 1, 52] },
      ]),
    );
    const areas = new Map((await t.services.estate.listAreas()).map((a) => [a.name, a.id]));
    northtown = areas.get('Northtown') as string;
    trialton = areas.get('Trialton') as string;
    [officer, carer, viewer, comms] = await Promise.all([t.signInAs(['officer']), t.signInAs(['care']), t.signInAs(['viewer']), t.signInAs(['comms'])]);
    await t.services.rules.start();
  });

  test('each page opens for those with its permission and is refused to others', async () => {
    const { alarm, rule: r } = await raisedAlarm();
    for (const url of ['/console/alarms', `/console/alarms/${alarm.id}`, '/console/rules', '/console/rules/new', `/console/rules/${r.id}`, '/console/air-quality', '/console/car-parks']) {
      const res = await get(officer, url);
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 300)}`);
      assert.ok(!/ style="/.test(res.body), `${url}: no inline style`);
    }
    assert.equal((await get(officer, '/console/air-quality/map.json')).statusCode, 200);
    // Comms hold rules:read (air quality, car parks, rules) but not alarms:read.
    for (const url of ['/console/alarms', `/console/alarms/${alarm.id}`]) assert.equal((await get(comms, url)).statusCode, 403, url);
    assert.equal((await get(comms, '/console/air-quality')).statusCode, 200);
    // Viewers see everything and change nothing: no forms, and their posts are refused.
    const page = await get(viewer, `/console/alarms/${alarm.id}`);
    assert.equal(page.statusCode, 200);
    assert.ok(!page.body.includes('Acknowledge</button>') && !page.body.includes('action="/console/alarms/'), 'no forms for a viewer');
    assert.equal((await post(viewer, `/console/alarms/${alarm.id}/acknowledge`, { ackNote: '' })).statusCode, 403);
    assert.equal((await get(viewer, '/console/rules/new')).statusCode, 403);
    assert.equal((await post(viewer, `/console/rules/${r.id}/disable`, {})).statusCode, 403);
    const rulePage = await get(viewer, `/console/rules/${r.id}`);
    assert.equal(rulePage.statusCode, 200);
    assert.ok(!rulePage.body.includes('Save as version'), 'no change form for a viewer');
    assert.equal((await get(carer, '/console/rules/new')).statusCode, 403);
    const nav = await get(viewer, '/console');
    assert.match(nav.body, /href="\/console\/alarms"/, 'the console navigation has Alarms');
    assert.equal((await get(officer, '/console/alarms/7f0c4f9e-2d1b-4c1a-9a57-0a5b0f3c9d11')).statusCode, 404);
  });

  test('the board shows open alarms by default and filters by status, severity, area and type', async () => {
    const { alarm, rule: r } = await raisedAlarm('Board NO2');
    const board = await get(carer, '/console/alarms');
    assert.match(board.body, new RegExp(`href="/console/alarms/${alarm.id}">Board NO2</a>`));
    assert.match(board.body, /govuk-tag--red">\s*Critical/);
    assert.match(board.body, /data-events-url="\/console\/alarms\/events"/);
    assert.match(board.body, /<select class="govuk-select" id="status" name="status">[\s\S]*?<option value="open" selected>/);
    const has = async (query: string) => (await get(carer, `/console/alarms?${query}`)).body.includes(`/console/alarms/${alarm.id}"`);
    assert.equal(await has('severity=critical'), true);
    assert.equal(await has('severity=minor'), false);
    assert.equal(await has('type=threshold'), true);
    assert.equal(await has('type=daqi'), false);
    assert.equal(await has(`area=${northtown}`), true);
    assert.equal(await has(`area=${trialton}`), false);
    assert.equal(await has('status=cleared'), false);
    await t.services.rules.alarms.clear(system, alarm.id, 'done');
    assert.equal(await has(''), false, 'a cleared alarm leaves the default (open) board');
    assert.equal(await has('status=cleared'), true);
    assert.equal(await has('status='), true, 'any status');
    const bad = await get(carer, '/console/alarms?team=nonsense');
    assert.match(bad.body, /Some of the filters were not valid/);
    assert.ok(r);
  });

  test('an alarm is acknowledged, assigned, commented on and cleared through its forms; each needs the CSRF token', async () => {
    const { alarm, deviceId } = await raisedAlarm('Forms NO2');
    const url = `/console/alarms/${alarm.id}`;
    const page = await get(carer, url);
    assert.match(page.body, /Forms NO2/);
    assert.match(page.body, /NO2 is 450, above 400/);
    assert.match(page.body, new RegExp(`href="/console/telemetry/devices/${deviceId}\\?metric=no2"`), 'a link to the data that raised it');
    assert.match(page.body, /Raise a critical alarm when NO2 is above 400 on air-quality \d+\./);

    const noCsrf = await post(carer, `${url}/acknowledge`, { ackNote: 'On it' }, false);
    assert.equal(noCsrf.statusCode, 403);
    assert.equal((await t.services.rules.alarms.get(alarm.id)).alarm.status, 'active', 'nothing changed without the token');

    const empty = await post(carer, `${url}/comment`, { commentNote: '  ' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /govuk-error-summary/);
    assert.match(empty.body, /href="#commentNote">Enter a comment/);

    const ack = await post(carer, `${url}/acknowledge`, { ackNote: 'Looking into it' });
    assert.equal(ack.statusCode, 303, ack.body.slice(0, 300));
    const afterAck = await get(carer, String(ack.headers.location));
    assert.match(afterAck.body, /Alarm acknowledged\./);
    assert.match(afterAck.body, /Looking into it/);
    const again = await post(carer, `${url}/acknowledge`, { ackNote: '' });
    assert.equal(again.statusCode, 400, 'acknowledged twice');
    assert.match(again.body, /Only an active alarm can be acknowledged/);

    const nobody = await post(carer, `${url}/assign`, { assigneeId: '7f0c4f9e-2d1b-4c1a-9a57-0a5b0f3c9d11', assignNote: '' });
    assert.equal(nobody.statusCode, 400);
    assert.match(nobody.body, /href="#assigneeId"/);
    assert.equal((await post(carer, `${url}/assign`, { assigneeId: carer.userId, assignNote: 'Nearest' })).statusCode, 303);
    assert.equal((await post(carer, `${url}/comment`, { commentNote: 'Queue on the bypass' })).statusCode, 303);
    assert.equal((await post(carer, `${url}/clear`, { clearNote: 'Back to normal' })).statusCode, 303);

    const { alarm: done, history } = await t.services.rules.alarms.get(alarm.id);
    assert.equal(done.status, 'cleared');
    assert.equal(done.assigneeId, carer.userId);
    assert.deepEqual(
      history.map((h) => [h.kind, h.kind === 'raised' ? null : h.note]),
      [
        ['raised', null],
        ['acknowledged', 'Looking into it'],
        ['assigned', 'Assigned to Test care: Nearest'],
        ['comment', 'Queue on the bypass'],
        ['cleared', 'Back to normal'],
      ],
    );
    const audit = await t.services.audit.search({ targetId: alarm.id, limit: 10 } as never);
    assert.equal(audit.length, 4, 'each change by a person is audited');
    const final = await get(carer, `${url}?saved=clear`);
    assert.match(final.body, /Alarm cleared\./);
    assert.ok(!final.body.includes(`${url}/clear`), 'a cleared alarm offers no clear form');
  });

  test('an alarm from a resident’s home names them only to staff who may see homes', async () => {
    const home = (await t.services.estate.createSite(system, { type: 'home', name: 'Telecare: Ada Lovelace', address: '1 Test Row, Northtown', lat: 51.5, lon: -1.5 })).id;
    const detector = (await t.services.estate.createDevice(system, { name: 'Fall detector, Ada Lovelace', serial: `FALL-${++n}`, profile: 'fall-detector', siteId: home })).device.id;
    const r = await rule({ name: 'Fall', severity: 'critical', scope: { deviceIds: [detector] }, condition: { type: 'event', metric: 'fall' } });
    await send(detector, 'fall', 1);
    const [alarm] = await t.services.rules.alarms.list({ rule: r.id, limit: 1 });
    for (const url of ['/console/alarms', `/console/alarms/${alarm.id}`]) {
      const hidden = await get(viewer, url);
      assert.equal(hidden.statusCode, 200);
      assert.ok(!hidden.body.includes('Ada Lovelace'), `${url}: a viewer does not see who`);
      assert.match(hidden.body, /A resident’s home/);
      const shown = await get(carer, url);
      assert.match(shown.body, /Fall detector, Ada Lovelace/, `${url}: the care team does`);
    }
    assert.ok(!(await get(viewer, `/console/alarms/${alarm.id}`)).body.includes(`/console/telemetry/devices/${detector}`), 'nor a link to the home’s data');
  });

  test('the live stream sends an event when an alarm is raised', async () => {
    assert.equal((await get(comms, '/console/alarms/events')).statusCode, 403, 'the stream needs alarms:read');
    if (!t.app.server.listening) await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const received: string[] = [];
    const req = httpRequest({ host: '127.0.0.1', port, path: '/console/alarms/events', headers: { cookie: viewer.cookie, accept: 'text/event-stream' } });
    const opened = new Promise<{ status: number; type: string }>((resolve, reject) => {
      req.on('response', (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => received.push(chunk));
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']) });
      });
      req.on('error', reject);
    });
    req.end();
    try {
      const head = await opened;
      assert.equal(head.status, 200);
      assert.match(head.type, /^text\/event-stream/);
      const { alarm } = await raisedAlarm('Live NO2');
      const deadline = Date.now() + 5000;
      const wanted = `"id":"${alarm.id}","kind":"raised"`;
      while (!received.join('').includes(wanted) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const stream = received.join('');
      assert.match(stream, /^retry: 5000/);
      assert.ok(stream.includes(`event: alarm\ndata: {${wanted},"status":"active","severity":"critical"}\n\n`), stream);
    } finally {
      req.destroy();
    }
  });

  test('a rule is made through the form without JavaScript: the type first, errors, preview, a trial, then saved; a change is a new version', async () => {
    const monitor = await device('air-quality', { lat: 51.5, lon: 0.5 });
    const now = Date.now();
    for (const [hoursAgo, value] of [
      [3, 250],
      [2.8, 100],
      [2.6, 260],
    ] as const)
      await send(monitor, 'no2', value, new Date(now - hoursAgo * HOUR));

    const first = await get(officer, '/console/rules/new');
    assert.match(first.body, /What should the rule watch for\?/);
    const noType = await get(officer, '/console/rules/new?step=type');
    assert.equal(noType.statusCode, 400);
    assert.match(noType.body, /href="#type">Choose what the rule watches for/);
    const form = await get(officer, '/console/rules/new?step=type&type=threshold');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /name="metric"/);
    assert.match(form.body, new RegExp(`name="areaIds" type="checkbox" value="${trialton}"`));

    const fields = {
      type: 'threshold',
      name: 'NO2 high in Trialton',
      metric: 'no2',
      op: '>',
      value: '200',
      clearValue: '',
      forMinutes: '',
      profiles: 'air-quality',
      areaIds: trialton,
      severity: 'major',
      teamId: '',
      enabled: 'yes',
    };
    const before = (await t.services.rules.list()).length;
    const wrong = await post(officer, '/console/rules/new', { ...fields, name: '', value: 'lots', action: 'save' });
    assert.equal(wrong.statusCode, 400);
    for (const f of ['name', 'value']) assert.match(wrong.body, new RegExp(`href="#${f}"`));
    assert.match(wrong.body, /Enter the value that raises the alarm as a number/);
    const flapping = await post(officer, '/console/rules/new', { ...fields, clearValue: '250', action: 'preview' });
    assert.equal(flapping.statusCode, 400);
    assert.match(flapping.body, /href="#clearValue">The clear value must be at or below the value that raises the alarm/);
    assert.equal((await t.services.rules.list()).length, before, 'nothing saved');

    const preview = await post(officer, '/console/rules/new', { ...fields, action: 'preview' });
    assert.equal(preview.statusCode, 200);
    assert.match(preview.body, /Raise a major alarm when NO2 is above 200 on any air-quality monitor in Trialton\./);
    const trial = await post(officer, '/console/rules/new', { ...fields, action: 'trial' });
    assert.equal(trial.statusCode, 200, trial.body.slice(0, 500));
    assert.match(trial.body, /it would have fired <strong>2 times<\/strong>/);
    assert.match(trial.body, /NO2 is 250, above 200/);
    assert.equal((await t.services.rules.list()).length, before, 'a trial saves nothing');

    const noCsrf = await post(officer, '/console/rules/new', { ...fields, action: 'save' }, false);
    assert.equal(noCsrf.statusCode, 403);
    const saved = await post(officer, '/console/rules/new', { ...fields, action: 'save' });
    assert.equal(saved.statusCode, 303, saved.body.slice(0, 500));
    const id = String(saved.headers.location).match(/\/console\/rules\/([0-9a-f-]+)\?saved=created/)?.[1] as string;
    const made = await t.services.rules.get(id);
    assert.deepEqual(
      [made.version, made.enabled, made.scope, made.condition],
      [1, true, { profiles: ['air-quality'], areaIds: [trialton] }, { type: 'threshold', metric: 'no2', op: '>', value: 200 }],
    );

    const page = await get(officer, String(saved.headers.location));
    assert.match(page.body, /Rule saved\./);
    assert.match(page.body, /Save as version 2/);
    const changed = await post(officer, `/console/rules/${id}`, { ...fields, value: '220', forMinutes: '15', action: 'save' });
    assert.equal(changed.statusCode, 303);
    const v2 = await get(officer, String(changed.headers.location));
    assert.match(v2.body, /Rule changed: this is version 2\./);
    assert.match(v2.body, /NO2 is above 220 for 15 minutes on any air-quality monitor in Trialton/);
    assert.equal((await t.services.rules.versions(id)).length, 2);

    assert.equal((await post(officer, `/console/rules/${id}/disable`, {})).statusCode, 303);
    assert.equal((await t.services.rules.get(id)).enabled, false);
    const list = await get(officer, '/console/rules');
    assert.match(list.body, new RegExp(`href="/console/rules/${id}">NO2 high in Trialton</a>`));
    assert.match(list.body, /govuk-tag--grey">\s*Off/);

    const choose = await get(officer, `/console/rules/${id}?type=choose`);
    assert.match(choose.body, /What should the rule watch for\?/);
    const asDaqi = await get(officer, `/console/rules/${id}?step=type&type=daqi`);
    assert.match(asDaqi.body, /name="atLeast"/);
    const daqi = await post(officer, `/console/rules/${id}`, { ...fields, type: 'daqi', atLeast: '7', per: 'area', action: 'save' });
    assert.equal(daqi.statusCode, 303);
    assert.deepEqual((await t.services.rules.get(id)).condition, { type: 'daqi', atLeast: 7, per: 'area' });
    const audit = await t.services.audit.search({ targetId: id, limit: 10 } as never);
    assert.deepEqual(audit.map((a) => a.action).sort(), ['rules.create', 'rules.disable', 'rules.update', 'rules.update']);
  });

  test('every kind of condition has its own form, and each previews its sentence', async () => {
    const common = { name: 'Every kind', severity: 'minor', teamId: '', enabled: 'no', action: 'preview' };
    const cases: [string, Record<string, string>, string][] = [
      ['threshold', { metric: 'no2', op: '>=', value: '200', clearValue: '180', forMinutes: '15' }, 'NO2 is at or above 200 for 15 minutes (clears at 180)'],
      [
        'rolling_mean',
        { metric: 'pm10', window: '24h', op: '>', value: '', band1Above: '50', band1Severity: 'minor', band2Above: '100', band2Severity: 'major', band2Label: 'Very high' },
        'PM10 24-hour mean enters a band (above 50: minor; above 100: major)',
      ],
      ['daqi', { atLeast: '7', per: 'device' }, 'the Daily Air Quality Index of a monitor is 7 or more'],
      ['no_data', { metric: '', forMinutes: '60', hoursFrom: '06:00', hoursTo: '10:00' }, 'no data arrives for an hour between 06:00 and 10:00'],
      ['event', { metric: 'fall', value: '', hoursFrom: '', hoursTo: '' }, 'fall happens'],
      ['occupancy', { metric: '', freeBelow: '', freePercentBelow: '5' }, 'free spaces fall below 5%'],
      ['rate_of_change', { metric: 'no2', rise: '50', perMinutes: '10' }, 'NO2 rises by more than 50 within 10 minutes'],
    ];
    for (const [type, fields, words] of cases) {
      const form = await get(officer, `/console/rules/new?type=${type}`);
      assert.equal(form.statusCode, 200, type);
      for (const name of Object.keys(fields).filter((f) => f !== 'value' || type !== 'event')) assert.match(form.body, new RegExp(`name="${name}"`), `${type} asks for ${name}`);
      const res = await post(officer, '/console/rules/new', { ...common, type, ...fields });
      assert.equal(res.statusCode, 200, `${type}: ${res.body.match(/govuk-error-summary[\s\S]*?<\/ul>/)?.[0]}`);
      assert.ok(res.body.includes(`Raise a minor alarm when ${words} on any device.`), `${type}: ${res.body.match(/Raise a [^<]*/)?.[0]}`);
    }
    const both = await post(officer, '/console/rules/new', { ...common, type: 'occupancy', freeBelow: '10', freePercentBelow: '5' });
    assert.equal(both.statusCode, 400);
    assert.match(both.body, /href="#freeBelow">Give free spaces below a number, or below a percentage/);
    const badHours = await post(officer, '/console/rules/new', { ...common, type: 'no_data', forMinutes: '60', hoursFrom: '6am', hoursTo: '' });
    assert.match(badHours.body, /href="#hoursFrom">Enter the time the hours start as HH:MM/);
  });

  test('the air quality page and its map show today’s index by area and by monitor', async () => {
    // The only monitor in Trialton: the area's index is its index.
    const monitor = await device('air-quality', { lat: 51.4, lon: 0.4 });
    await rule({ scope: { deviceIds: [monitor] }, condition: { type: 'daqi', atLeast: 10, per: 'area' } });
    await send(monitor, 'no2', 300);
    const page = await get(comms, '/console/air-quality');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<th scope="row" class="govuk-table__header">Trialton<\/th>\s*<td[^>]*>5<\/td>\s*<td[^>]*><strong class="govuk-tag govuk-tag--yellow">\s*Moderate/);
    assert.match(page.body, /Nitrogen dioxide \(hourly mean\)/);
    assert.match(page.body, new RegExp(`air-quality ${n - 1}</th>`), 'the monitor is listed');
    assert.match(page.body, /id="air-quality-map"[^>]*data-url="\/console\/air-quality\/map.json"/);
    const map = (await get(comms, '/console/air-quality/map.json')).json();
    const area = map.areas.features.find((f: { properties: { name: string } }) => f.properties.name === 'Trialton');
    assert.deepEqual([area.properties.index, area.properties.bandKey], [5, 'moderate']);
    const point = map.monitors.features.find((f: { properties: { id: string } }) => f.properties.id === monitor);
    assert.deepEqual(point.geometry.coordinates, [0.4, 51.4]);
    assert.equal(point.properties.index, 5);
  });

  test('car parks: bays, occupied, free and % free from the bays’ latest readings, on the page and through the API', async () => {
    const site = (await t.services.estate.createSite(system, { type: 'car_park', name: 'Castle Street car park', address: 'Castle Street, Northtown', lat: 51.45, lon: -1.45 })).id;
    const bays = [await device('parking-bay', { siteId: site }), await device('parking-bay', { siteId: site }), await device('parking-bay', { siteId: site })];
    await send(bays[0], 'occupied', 1);
    await send(bays[1], 'occupied', 1);
    await send(bays[1], 'occupied', 0, new Date(Date.now() + 1000));
    const page = await get(viewer, '/console/car-parks');
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      new RegExp(`href="/console/estate/sites/${site}">Castle Street car park</a></th>\\s*<td[^>]*>Northtown</td>${[3, 1, 1, 1, 33.3].map((x) => `\\s*<td[^>]*>${x}</td>`).join('')}`),
    );
    const key = await t.key(['rules:read']);
    const api = await t.app.inject({ url: '/api/v1/car-parks', headers: { authorization: `Bearer ${key}` } });
    assert.equal(api.statusCode, 200);
    const item = api.json().items.find((c: { siteId: string }) => c.siteId === site);
    assert.deepEqual(
      { ...item, updatedAt: typeof item.updatedAt },
      {
        siteId: site,
        name: 'Castle Street car park',
        areaId: northtown,
        areaName: 'Northtown',
        lat: 51.45,
        lon: -1.45,
        bays: 3,
        occupied: 1,
        free: 1,
        noReading: 1,
        percentFree: 33.3,
        updatedAt: 'string',
      },
    );
    const doc = (await t.app.inject({ url: '/api/openapi.json' })).json();
    assert.ok(doc.paths['/api/v1/car-parks'].get.responses['200'], 'described in OpenAPI with its schema');
    const none = await t.key(['estate:read']);
    assert.equal((await t.app.inject({ url: '/api/v1/car-parks', headers: { authorization: `Bearer ${none}` } })).statusCode, 403);
  });
});
