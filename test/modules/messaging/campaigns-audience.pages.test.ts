/**
 * The console's campaign to subscribed residents, as a browser without JavaScript uses it: the
 * form (topic, areas, places, a template per channel), its errors in the GOV.UK way, the values
 * the chosen templates need asked for once they are known, then the draft's page saying who it
 * is for, and starting it. Only staff who may send campaigns reach it.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { squareWards } from '../../geo-fixtures.js';

const system = systemActor('test');
const WARD = squareWards([{ name: 'Northtown', code: 'N1', box: [-2.5, 52.33, -2.45, 52.36] }]);

forEachDialect('campaign to subscribed residents, in the console', (dialect) => {
  let t: TestApp;
  let comms: Browser;
  let viewer: Browser;
  let serviceId: string;
  let sms: string;
  let email: string;
  let ward: string;
  let school: string;
  const PATH = '/console/messaging/campaigns/new-audience';
  const get = (b: Browser, url: string) => t.app.inject({ url, headers: { cookie: b.cookie } });
  /** A form as a browser sends it: urlencoded, a checkbox's name repeated for each box ticked. */
  const post = (b: Browser, url: string, fields: [string, string][]) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { cookie: b.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams([...fields, ['_csrf', b.csrf]]).toString(),
    });

  before(async () => {
    t = await testApp(dialect);
    [comms, viewer] = await Promise.all([t.signInAs(['comms']), t.signInAs(['viewer'])]);
    const m = t.services.messaging;
    serviceId = (await m.createService(system, { name: 'Schools' })).id;
    sms = (await m.createTemplate(system, serviceId, { name: 'Closed (text)', type: 'sms', body: '((school)) is closed today: ((reason)).' })).id;
    email = (await m.createTemplate(system, serviceId, { name: 'Closed (email)', type: 'email', subject: 'Closed', body: 'Dear ((name)), ((school)) is closed.' })).id;
    await t.services.estate.importAreas(system, WARD);
    ward = (await t.services.estate.listAreas())[0].id;
    school = (await t.services.estate.createSite(system, { type: 'school', name: 'Northtown Primary', address: 'School Lane', lat: 52.345, lon: -2.475 })).id;
    for (const [name, mobile] of [
      ['Anwen', '07700900301'],
      ['Bob', '07700900302'],
    ]) {
      const r = await t.services.residents.create(system, { name, mobile, location: { lat: 52.34, lon: -2.48 }, postcode: 'WR1 1AA' });
      await t.services.residents.subscribe(system, r.id, { topic: 'school-closures', kind: 'home' });
    }
  });

  test('the form lists the topics, areas, places and each channel’s templates', async () => {
    const res = await get(comms, `${PATH}?serviceId=${serviceId}`);
    assert.equal(res.statusCode, 200);
    for (const text of ['School closures', 'Northtown', 'Northtown Primary', 'Closed (text)', 'Closed (email)', 'Text message template', 'Email template']) assert.ok(res.body.includes(text), text);
    const list = await get(comms, '/console/messaging/campaigns');
    assert.match(list.body, /href="\/console\/messaging\/campaigns\/new-audience"/);
  });

  test('errors come back in the GOV.UK way; the values the templates need are asked for once they are chosen', async () => {
    const empty = await post(comms, PATH, [['serviceId', serviceId]]);
    assert.equal(empty.statusCode, 400);
    for (const message of ['Enter a name for the campaign', 'Choose the topic residents subscribed to', 'Choose at least one area or place', 'Choose a template for at least one channel'])
      assert.ok(empty.body.includes(message), message);
    assert.match(empty.body, /href="#areas"/);

    const needsValues = await post(comms, PATH, [
      ['serviceId', serviceId],
      ['name', 'Snow'],
      ['topic', 'school-closures'],
      ['areas', ward],
      ['template-sms', sms],
      ['template-email', email],
    ]);
    assert.equal(needsValues.statusCode, 400);
    assert.match(needsValues.body, /Enter the school every message gives/);
    assert.match(needsValues.body, /Enter the reason every message gives/);
    assert.match(needsValues.body, /id="value-school"/);
    assert.doesNotMatch(needsValues.body, /id="value-name"/, 'each resident’s own name fills ((name))');
    assert.equal((await t.services.db.k.selectFrom('campaigns').select('id').execute()).length, 0, 'nothing saved');
  });

  test('a complete form saves a draft that says who it is for; started, it sends by preference', async () => {
    const made = await post(comms, PATH, [
      ['serviceId', serviceId],
      ['name', 'Snow'],
      ['topic', 'school-closures'],
      ['areas', ward],
      ['places', school],
      ['template-sms', sms],
      ['template-email', email],
      ['value-school', 'Northtown Primary'],
      ['value-reason', 'snow'],
      ['urgent', 'yes'],
    ]);
    assert.equal(made.statusCode, 303, made.body);
    const page = await get(comms, made.headers.location as string);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /2 residents subscribed to School closures in Northtown and at Northtown Primary\./);
    assert.match(page.body, /Northtown Primary is closed today: snow\./, 'the text message previewed with the values');
    const id = (made.headers.location as string).split('/').pop() as string;
    const started = await post(comms, `/console/messaging/campaigns/${id}/start`, [['when', 'now']]);
    assert.equal(started.statusCode, 303);
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) break;
    }
    const c = await t.services.campaigns.get(id);
    assert.deepEqual([c.status, c.progress.delivered, c.urgent], ['sent', 2, true]);
  });

  test('staff who may not send campaigns are refused', async () => {
    assert.equal((await get(viewer, `${PATH}?serviceId=${serviceId}`)).statusCode, 403);
    assert.equal((await post(viewer, PATH, [['serviceId', serviceId]])).statusCode, 403);
  });
});
