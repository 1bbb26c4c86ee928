/**
 * Open311 GeoReport v2 and mySociety's servicerequestupdates, over real HTTP (fetch against the
 * listening app), each answer read as FixMyStreet reads it: XML through a real XML parser, JSON as JSON.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { requestsErrors } from '../../../src/modules/requests/requests.errors.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';
import { type Catalogue, catalogue, IN_CASTLE, IN_MEADOW, pothole, system } from './fixtures.js';

// Elements that may repeat are always arrays, as FixMyStreet's XML::Simple reading with ForceArray gives them.
const xml = new XMLParser({ isArray: (name) => ['service', 'request', 'attribute', 'value', 'error', 'request_update', 'endpoint', 'format'].includes(name), parseTagValue: false });
const W3C = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/;
/** The description Open311 gives for one of our codes (the spec's errors carry the HTTP status as their code). */
const said = (code: keyof typeof requestsErrors) => requestsErrors[code]().message;

forEachDialect('Open311 GeoReport v2 over HTTP, in JSON and XML', (dialect) => {
  let t: TestApp;
  let c: Catalogue;
  let base: string;
  let key: string;
  let weakKey: string;

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };
  const post = async (path: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one);
    const res = await fetch(`${base}${path}`, { method: 'POST', body, headers });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };
  const errorOf = (r: { type: string; text: string }) => (r.type.startsWith('text/xml') ? xml.parse(r.text).errors.error[0] : JSON.parse(r.text)[0]);

  before(async () => {
    t = await testApp(dialect, { WEFT_PUBLIC_URL: 'https://www.wealdmoor.example' });
    c = await catalogue(t);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/open311/v2`;
    key = await t.key(['open311:submit']);
    weakKey = await t.key(['requests:read']);
  });

  test('discovery, the service list and a service definition, in both formats', async () => {
    const d = await get('/discovery.xml');
    assert.equal(d.status, 200);
    assert.match(d.type, /^text\/xml; charset=utf-8/);
    assert.ok(d.text.startsWith('<?xml version="1.0" encoding="utf-8"?>'));
    const endpoint = xml.parse(d.text).discovery.endpoints.endpoint[0];
    assert.equal(endpoint.specification, 'http://wiki.open311.org/GeoReport_v2');
    assert.equal(endpoint.url, 'https://www.wealdmoor.example/open311/v2');
    assert.deepEqual(endpoint.formats.format, ['text/xml', 'application/json']);

    const services = xml.parse((await get('/services.xml')).text).services.service;
    const potholes = services.find((s: { service_code: string }) => s.service_code === 'potholes');
    assert.deepEqual(potholes, {
      service_code: 'potholes',
      service_name: 'Potholes',
      description: 'A hole in a road or pavement',
      metadata: 'true',
      type: 'realtime',
      keywords: 'hole, road',
      group: 'Roads',
    });
    const json = await get('/services.json');
    assert.match(json.type, /^application\/json; charset=utf-8/);
    assert.deepEqual(
      JSON.parse(json.text).find((s: { service_code: string }) => s.service_code === 'fly-tipping'),
      { service_code: 'fly-tipping', service_name: 'Fly-tipping', description: '', metadata: false, type: 'realtime', keywords: '', group: 'Street cleaning' },
    );

    const def = xml.parse((await get('/services/potholes.xml')).text).service_definition;
    assert.equal(def.service_code, 'potholes');
    const [depth, width] = def.attributes.attribute;
    assert.deepEqual(depth, {
      variable: 'true',
      code: 'depth',
      datatype: 'singlevaluelist',
      required: 'true',
      datatype_description: '',
      order: '1',
      description: 'How deep is it?',
      values: {
        value: [
          { key: 'shallow', name: 'Less than 5cm' },
          { key: 'deep', name: '5cm or more' },
        ],
      },
    });
    assert.equal(width.order, '2');
    const defJson = JSON.parse((await get('/services/potholes.json')).text);
    assert.equal(defJson.attributes[0].required, true);
    assert.equal(defJson.attributes[1].datatype_description, null);

    const missing = await get('/services/nope.json');
    assert.equal(missing.status, 404);
    assert.deepEqual(errorOf(missing), { code: 404, description: said('CATEGORY_NOT_FOUND') });
  });

  test('POST requests with the api_key form field (or a bearer) creates a request; the reply is the spec’s', async () => {
    const form = {
      api_key: key,
      jurisdiction_id: 'wealdmoor.example',
      service_code: 'potholes',
      lat: String(IN_MEADOW.lat),
      long: String(IN_MEADOW.lon),
      description: 'Hole by the bus stop',
      email: 'reporter@example.com',
      first_name: 'Rae',
      last_name: 'Porter',
      phone: '01632 960000',
      'attribute[depth]': 'deep',
      'attribute[width]': '40',
      media_url: 'https://photos.example/1.jpg',
    };
    const created = await post('/requests.xml', form);
    assert.equal(created.status, 200, created.text);
    const [reply] = xml.parse(created.text).service_requests.request;
    assert.match(reply.service_request_id, /^[0-9A-Z]{8}$/);
    assert.equal(reply.service_notice, 'We aim to deal with reports of potholes within 48 hours.');
    assert.equal(reply.token, undefined, 'a realtime service returns an id, not a token');
    const { request } = await t.services.requests.detail(reply.service_request_id);
    assert.equal(request.teamId, c.contractor.id, 'routed by its ward');
    assert.deepEqual(request.attributes, { depth: 'deep', width: '40' });
    assert.equal(request.reporter.email, 'reporter@example.com');
    assert.equal(request.source, 'open311');

    const bearer = await post('/requests.json', { service_code: 'fly-tipping', address_string: '4 Mill Lane, Wealdmoor' }, { authorization: `Bearer ${key}` });
    assert.equal(bearer.status, 200, bearer.text);
    assert.match(JSON.parse(bearer.text)[0].service_request_id, /^[0-9A-Z]{8}$/);
    const audit = await t.services.audit.search({ targetId: request.id, limit: 5 } as never);
    assert.equal(audit[0].actor_type, 'key');
  });

  test('POST requests is refused in the spec’s format: 403 without a good key, 400 for bad fields, 404 for unknown codes', async () => {
    const ok = { service_code: 'potholes', lat: '51.75', long: '-1.25', 'attribute[depth]': 'deep' };
    const cases: [Record<string, string>, number, string | RegExp, 'json' | 'xml'][] = [
      [ok, 403, /api_key was not provided/, 'xml'],
      [{ ...ok, api_key: 'weft_live_nonsense' }, 403, /Invalid api_key/, 'json'],
      [{ ...ok, api_key: weakKey }, 403, /open311:submit/, 'xml'],
      [{ api_key: key, lat: '51.75', long: '-1.25' }, 400, /service_code was not provided/, 'json'],
      [{ ...ok, api_key: key, service_code: 'nope' }, 404, said('CATEGORY_NOT_FOUND'), 'xml'],
      [{ ...ok, api_key: key, jurisdiction_id: 'elsewhere.example' }, 404, /jurisdiction_id elsewhere.example was not found/, 'json'],
      [{ api_key: key, service_code: 'potholes', 'attribute[depth]': 'deep' }, 400, said('LOCATION_REQUIRED'), 'xml'],
      [{ ...ok, api_key: key, 'attribute[depth]': 'bottomless' }, 400, /attribute\[depth\]: Choose one of shallow, deep/, 'json'],
      [{ ...ok, api_key: key, lat: 'north' }, 400, /lat must be a number/, 'xml'],
      [{ ...ok, api_key: key, email: 'not-an-email' }, 400, /email is not an email address/, 'json'],
      [{ ...ok, api_key: key, media_url: 'javascript:alert(1)' }, 400, /media_url must be an http/, 'xml'],
    ];
    const before = await t.services.requests.count({});
    for (const [form, status, description, format] of cases) {
      const res = await post(`/requests.${format}`, form);
      assert.equal(res.status, status, `${JSON.stringify(form)} → ${res.text}`);
      const error = errorOf(res);
      assert.equal(Number(error.code), status);
      if (typeof description === 'string') assert.equal(error.description, description);
      else assert.match(error.description, description);
    }
    assert.equal(await t.services.requests.count({}), before, 'nothing was written');
    const denied = await t.services.audit.search({ outcome: 'denied', limit: 10 } as never);
    assert.ok(
      denied.some((e) => e.summary.includes('open311:submit')),
      'a key without the permission is audited',
    );
    const badFormat = await get('/services.csv');
    assert.equal(badFormat.status, 404);
    assert.equal(errorOf(badFormat).description, said('GEOREPORT_BAD_FORMAT'));
    assert.equal(errorOf(await get('/services.json?jurisdiction_id=elsewhere.example')).description, 'The jurisdiction_id elsewhere.example was not found: this endpoint serves wealdmoor.example.');
    assert.ok(said('GEOREPORT_JURISDICTION_NOT_FOUND') && said('GEOREPORT_BAD_REQUEST') && said('GEOREPORT_API_KEY_INVALID'));
  });

  test('GET requests filters by id, service, status and date, newest first, with the spec’s fields and no reporter', async () => {
    const r = t.services.requests;
    const officer = { ...system, type: 'user' as const, id: null };
    const a = await r.submit(system, pothole(IN_CASTLE, { reporterEmail: 'private@example.com', reporterName: 'Pat Private', reporterPhone: '07700900999' }), { source: 'staff' });
    const b = await r.submit(system, { category: 'fly-tipping', description: 'Fridge & <cooker>', ...IN_CASTLE }, { source: 'staff' });
    await r.addUpdate(officer, b.id, { status: 'fixed', message: 'Cleared away.', public: true });
    await r.addUpdate(officer, a.id, { message: 'Internal: the reporter rang twice', public: false });

    const all = xml.parse((await get('/requests.xml')).text).service_requests.request as Record<string, string>[];
    assert.ok(all.length >= 2);
    const times = all.map((x) => Date.parse(x.requested_datetime));
    assert.deepEqual(
      times,
      [...times].sort((p, q) => q - p),
      'newest first',
    );
    const got = all.find((x) => x.service_request_id === b.reference) as Record<string, string>;
    assert.equal(got.status, 'closed');
    assert.equal(got.status_notes, 'Cleared away.');
    assert.equal(got.description, 'Fridge & <cooker>', 'escaped and read back');
    assert.equal(got.service_name, 'Fly-tipping');
    assert.equal(got.agency_responsible, 'Street cleansing');
    for (const f of ['requested_datetime', 'updated_datetime', 'expected_datetime']) assert.match(got[f], W3C, f);
    assert.equal(got.lat, String(IN_CASTLE.lat));
    assert.equal(got.long, String(IN_CASTLE.lon));
    assert.deepEqual(Object.keys(got).sort(), [
      'address',
      'address_id',
      'agency_responsible',
      'description',
      'expected_datetime',
      'lat',
      'long',
      'media_url',
      'requested_datetime',
      'service_code',
      'service_name',
      'service_notice',
      'service_request_id',
      'status',
      'status_notes',
      'updated_datetime',
      'zipcode',
    ]);

    for (const format of ['json', 'xml']) {
      const text = (await get(`/requests.${format}?extensions=true`)).text + (await get(`/requests/${a.reference}.${format}`)).text;
      for (const secret of ['private@example.com', 'Pat Private', '07700900999', 'rang twice', a.token]) assert.ok(!text.includes(secret), `${format} shows no ${secret}`);
    }

    const byService = JSON.parse((await get('/requests.json?service_code=fly-tipping')).text);
    assert.ok(byService.length >= 1 && byService.every((x: { service_code: string }) => x.service_code === 'fly-tipping'));
    const open = JSON.parse((await get('/requests.json?status=open')).text);
    assert.ok(open.length >= 1 && open.every((x: { status: string }) => x.status === 'open'));
    assert.ok(!open.some((x: { service_request_id: string }) => x.service_request_id === b.reference));
    const ids = JSON.parse((await get(`/requests.json?service_request_id=${a.reference},${b.reference}&status=open`)).text);
    assert.deepEqual(ids.map((x: { service_request_id: string }) => x.service_request_id).sort(), [a.reference, b.reference].sort(), 'ids override the other arguments');
    const past = JSON.parse((await get('/requests.json?start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00%2B01:00')).text);
    assert.deepEqual(past, []);
    const extended = JSON.parse((await get(`/requests/${b.reference}.json?extensions=true`)).text)[0];
    assert.deepEqual(extended.extended_attributes, { status: 'fixed', duplicate_of: null, fixmystreet_id: null });

    for (const [query, text] of [
      ['start_date=2020-01-01T00:00:00Z&end_date=2020-06-01T00:00:00Z', /may not span more than 90 days/],
      ['start_date=yesterday', /start_date must be a W3C date-time/],
      ['status=pending', /status must be open or closed/],
    ] as const) {
      const res = await get(`/requests.xml?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(errorOf(res).description, text);
    }
    const one = await get('/requests/ZZZZZZZZ.xml');
    assert.equal(one.status, 404);
    assert.equal(errorOf(one).description, said('REQUEST_NOT_FOUND'));

    const token = xml.parse((await get(`/tokens/${a.token}.xml`)).text).service_requests.request[0];
    assert.deepEqual(token, { service_request_id: a.reference, token: a.token });
    const noToken = await get('/tokens/nothing-here.json');
    assert.equal(noToken.status, 404);
    assert.equal(errorOf(noToken).description, said('GEOREPORT_TOKEN_NOT_FOUND'));
  });

  test('FixMyStreet’s flow: a report with its id, staff updates fetched as servicerequestupdates, its users’ updates posted back once', async () => {
    const sent = await post('/requests.xml', {
      api_key: key,
      service_code: 'potholes',
      lat: '51.75',
      long: '-1.25',
      'attribute[depth]': 'shallow',
      'attribute[fixmystreet_id]': '98765',
      description: 'title: Hole\n\ndetail: Small hole\n\nSubmitted via FixMyStreet',
    });
    assert.equal(sent.status, 200, sent.text);
    const reference = xml.parse(sent.text).service_requests.request[0].service_request_id;
    const { request } = await t.services.requests.detail(reference);
    assert.equal(request.externalId, '98765');
    assert.equal(request.source, 'fixmystreet');

    const staff = { ...system, type: 'user' as const, id: null, label: 'officer@test.example' };
    const start = new Date(Date.now() - 60_000).toISOString();
    await t.services.requests.addUpdate(staff, reference, { status: 'in_progress', message: 'Booked for Tuesday.', public: true });
    await t.services.requests.addUpdate(staff, reference, { message: 'Internal: use the big van', public: false });
    const end = new Date(Date.now() + 60_000).toISOString();
    const fetched = xml.parse((await get(`/servicerequestupdates.xml?start_date=${encodeURIComponent(start)}&end_date=${encodeURIComponent(end)}&api_key=${key}`)).text);
    const mine = (fetched.service_request_updates.request_update as Record<string, string>[]).filter((u) => u.service_request_id === reference);
    assert.equal(mine.length, 1, 'internal notes are not sent');
    assert.equal(mine[0].status, 'in_progress');
    assert.equal(mine[0].description, 'Booked for Tuesday.');
    assert.equal(mine[0].fixmystreet_id, '98765');
    assert.equal(mine[0].media_url, '');
    assert.match(mine[0].updated_datetime, W3C);
    assert.match(mine[0].update_id, /^[0-9a-f-]{36}$/);

    const update = {
      api_key: key,
      service_request_id: reference,
      service_request_id_ext: '98765',
      update_id: '555',
      updated_datetime: new Date().toISOString().slice(0, 19) + 'Z',
      status: 'FIXED',
      description: 'It has been filled, thanks!',
      first_name: 'Fay',
      last_name: 'Ems',
      email: 'fay@example.com',
      public_anonymity_required: 'FALSE',
    };
    const posted = await post('/servicerequestupdates.xml', update);
    assert.equal(posted.status, 200, posted.text);
    const updateId = xml.parse(posted.text).service_request_updates.request_update[0].update_id;
    const again = await post('/servicerequestupdates.json', update);
    assert.equal(JSON.parse(again.text)[0].update_id, updateId, 'the same update posted twice is one update');
    const after = await t.services.requests.detail(reference);
    assert.equal(after.request.status, 'fixed', 'a FixMyStreet user marking it fixed closes it');
    assert.equal(after.updates.filter((u) => u.source === 'fixmystreet').length, 1);
    assert.ok(!JSON.stringify(after.updates).includes('fay@example.com'), 'no FixMyStreet user’s details are kept');
    const reopen = await post('/servicerequestupdates.json', { ...update, update_id: '556', status: 'OPEN', description: 'It is back.' });
    assert.equal(reopen.status, 200, reopen.text);
    assert.equal((await t.services.requests.detail(reference)).request.status, 'open');

    const missing = await post('/servicerequestupdates.xml', { api_key: key, service_request_id: reference });
    assert.equal(missing.status, 400);
    assert.match(errorOf(missing).description, /status, updated_datetime, description, update_id were not provided/);
    const noKey = await post('/servicerequestupdates.json', { ...update, api_key: '' });
    assert.equal(noKey.status, 403);
    const unknown = await post('/servicerequestupdates.json', { ...update, service_request_id: 'ZZZZZZZZ' });
    assert.equal(unknown.status, 404);
  });
});
