import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const NGSI = 'https://uri.etsi.org/ngsi-ld/errors/';
const CORE = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld';
// Real places in Oxford, [longitude, latitude].
const CARFAX = [-1.25777, 51.75202];
const RAILWAY_STATION = [-1.27013, 51.75346];
const WESTGATE = [-1.2603, 51.7508];
const CENTRAL_LIBRARY = [-1.2585, 51.7518];
const CHERWELL_SCHOOL = [-1.2635, 51.7795];
/** Roughly the city centre inside the old walls. */
const CENTRE = [
  [
    [-1.2655, 51.7475],
    [-1.247, 51.7475],
    [-1.247, 51.758],
    [-1.2655, 51.758],
    [-1.2655, 51.7475],
  ],
];

forEachDialect('NGSI-LD context API', (dialect) => {
  let t: TestApp;
  let reader: string;
  let carer: string;
  let writer: string;
  let ingester: string;
  const ids: Record<string, string> = {};
  const T0 = Date.now();
  const minutesAgo = (m: number) => new Date(T0 - m * 60_000);

  const get = (url: string, key = reader, headers: Record<string, string> = {}) => t.app.inject({ url, headers: { authorization: `Bearer ${key}`, ...headers } });
  const send = (method: 'POST' | 'PATCH' | 'DELETE', url: string, key: string, payload?: unknown, contentType = 'application/json') =>
    t.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}`, ...(payload !== undefined ? { 'content-type': contentType } : {}) },
      payload: payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  const entityUrl = (id: string) => `/ngsi-ld/v1/entities/${encodeURIComponent(id)}`;
  const problem = (res: { statusCode: number; json: () => any }, status: number, type: string, code: string) => {
    assert.equal(res.statusCode, status, JSON.stringify(res.json()));
    const body = res.json();
    assert.equal(body.type, `${NGSI}${type}`);
    assert.equal(body.code, code);
    assert.equal(typeof body.title, 'string');
    assert.equal(typeof body.detail, 'string');
    return body;
  };

  before(async () => {
    t = await testApp(dialect);
    reader = await t.key(['telemetry:read']);
    carer = await t.key(['telemetry:read', 'homes:read']);
    writer = await t.key(['estate:manage', 'telemetry:read']);
    ingester = await t.key(['telemetry:ingest', 'telemetry:read']);
    const { estate, telemetry } = t.services;
    const sys = systemActor('test');
    const site = async (key: string, type: string, name: string, [lon, lat]: number[], extra: Record<string, unknown> = {}) => {
      ids[key] = (await estate.createSite(sys, { type, name, address: `${name}, Oxford`, postcode: 'OX1 1AA', lat, lon, ...extra } as never)).id;
    };
    await site('westgate', 'car_park', 'Westgate car park', WESTGATE);
    await site('library', 'library', 'Central Library', CENTRAL_LIBRARY, { uprn: '100120812345' });
    await site('school', 'school', 'Cherwell School', CHERWELL_SCHOOL);
    await site('home', 'home', '12 Acacia Avenue', [-1.24, 51.74]);
    const device = async (key: string, profile: string, siteKey: string | null, position?: number[]) => {
      const { device } = await estate.createDevice(sys, {
        name: key,
        serial: `SN-${key}`,
        profile,
        siteId: siteKey ? ids[siteKey] : null,
        ...(position ? { lon: position[0], lat: position[1] } : {}),
      });
      ids[key] = device.id;
      return (await estate.deviceAuth(device.id)) as NonNullable<Awaited<ReturnType<typeof estate.deviceAuth>>>;
    };
    const aq1 = await device('aq-carfax', 'air-quality', null, CARFAX);
    const aq2 = await device('aq-station', 'air-quality', null, RAILWAY_STATION);
    const bay1 = await device('bay-1', 'parking-bay', 'westgate');
    const bay2 = await device('bay-2', 'parking-bay', 'westgate');
    await device('bay-3', 'parking-bay', 'westgate');
    const hub = await device('hub', 'telecare-hub', 'home');
    await telemetry.ingest(
      aq1,
      [
        ...[50, 40, 30, 20].map((m, i) => ({ metric: 'no2', value: 30 + i * 5, at: minutesAgo(m) })),
        { metric: 'pm2_5', value: 12, at: minutesAgo(20) },
        { metric: 'humidity', value: 60, at: minutesAgo(20) },
        { metric: 'temperature', value: 11.5, at: minutesAgo(20) },
      ],
      'simulator',
    );
    await telemetry.ingest(aq2, [{ metric: 'no2', value: 20, at: minutesAgo(10) }], 'simulator');
    await telemetry.ingest(bay1, [{ metric: 'occupied', value: 1, at: minutesAgo(5) }], 'simulator');
    await telemetry.ingest(bay2, [{ metric: 'occupied', value: 0, at: minutesAgo(5) }], 'simulator');
    await telemetry.ingest(hub, [{ metric: 'heartbeat', value: 1, at: minutesAgo(5) }], 'simulator');
    await estate.flush();
  });

  // ---- authorisation and errors ----

  test('no key: 401 as NGSI-LD problem details, keeping Weft’s code', async () => {
    const res = await t.app.inject({ url: '/ngsi-ld/v1/entities?type=Device' });
    problem(res, 401, 'AccessDenied', 'AUTH_REQUIRED');
    assert.match(String(res.headers['content-type']), /application\/problem\+json/);
  });

  test('a key without telemetry:read is refused; writes need their own permissions', async () => {
    const other = await t.key(['estate:read']);
    problem(await get('/ngsi-ld/v1/entities?type=Device', other), 403, 'AccessDenied', 'FORBIDDEN');
    problem(await send('POST', '/ngsi-ld/v1/entities', reader, { id: 'urn:ngsi-ld:Thing:1', type: 'Thing' }), 403, 'AccessDenied', 'FORBIDDEN');
    problem(await send('PATCH', `${entityUrl(`urn:ngsi-ld:Device:${ids['aq-carfax']}`)}/attrs`, reader, { no2: 1 }), 403, 'AccessDenied', 'FORBIDDEN');
  });

  test('an unknown address under /ngsi-ld is ResourceNotFound', async () => {
    problem(await get('/ngsi-ld/v1/subscriptions'), 404, 'ResourceNotFound', 'NOT_FOUND');
  });

  test('a query needs at least one of type, id, idPattern, q, attrs or a geo-query', async () => {
    problem(await get('/ngsi-ld/v1/entities'), 400, 'BadRequestData', 'NGSI_PARAMETER_INVALID');
  });

  test('a bad q is InvalidRequest and says where', async () => {
    const body = problem(await get('/ngsi-ld/v1/entities?type=AirQualityObserved&q=no2>>4'), 400, 'InvalidRequest', 'NGSI_QUERY_INVALID');
    assert.match(body.detail, /position 5/);
    problem(await get(`/ngsi-ld/v1/entities?type=Building&q=${encodeURIComponent('name==Library')}`), 400, 'InvalidRequest', 'NGSI_QUERY_INVALID');
    problem(await get(`/ngsi-ld/v1/entities?type=Building&q=${encodeURIComponent('name~=(a+)+$')}`), 400, 'InvalidRequest', 'NGSI_QUERY_INVALID');
  });

  test('bad geo-queries, limits and parameters are BadRequestData', async () => {
    problem(await get('/ngsi-ld/v1/entities?type=Device&georel=near;maxDistance==100&geometry=Point'), 400, 'BadRequestData', 'NGSI_GEOQUERY_INVALID');
    problem(await get(`/ngsi-ld/v1/entities?type=Device&georel=near&geometry=Point&coordinates=${encodeURIComponent('[-1.25,51.75]')}`), 400, 'BadRequestData', 'NGSI_GEOQUERY_INVALID');
    problem(await get('/ngsi-ld/v1/entities?type=Device&limit=1001'), 400, 'BadRequestData', 'VALIDATION_FAILED');
    problem(await get('/ngsi-ld/v1/entities?type=Device&limit=0'), 400, 'BadRequestData', 'NGSI_PARAMETER_INVALID');
    problem(await get('/ngsi-ld/v1/entities?type=Device&options=fast'), 400, 'BadRequestData', 'NGSI_PARAMETER_INVALID');
    problem(await get('/ngsi-ld/v1/entities?type=Device&colour=red'), 400, 'BadRequestData', 'VALIDATION_FAILED');
    problem(await get('/ngsi-ld/v1/entities?type=Device', reader, { accept: 'text/csv' }), 406, 'NotAcceptable', 'NGSI_NOT_ACCEPTABLE');
  });

  // ---- reading entities ----

  test('AirQualityObserved: one per monitor, latest values under Smart Data Models names, @context in a Link header', async () => {
    const res = await get('/ngsi-ld/v1/entities?type=AirQualityObserved');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.match(String(res.headers.link), /<http[^>]+\/ngsi-ld\/v1\/jsonldContexts\/weft>; rel="http:\/\/www.w3.org\/ns\/json-ld#context"; type="application\/ld\+json"/);
    const list = res.json();
    assert.equal(list.length, 2);
    const carfax = list.find((e: any) => e.id === `urn:ngsi-ld:AirQualityObserved:${ids['aq-carfax']}`);
    assert.equal(carfax.type, 'AirQualityObserved');
    assert.deepEqual(carfax.no2, { type: 'Property', value: 45, observedAt: minutesAgo(20).toISOString(), unitCode: 'GQ' });
    assert.equal(carfax.pm25.value, 12);
    assert.equal(carfax.relativeHumidity.value, 0.6, 'relativeHumidity is a fraction');
    assert.equal(carfax.temperature.unitCode, 'CEL');
    assert.equal(carfax.dateObserved.value['@type'], 'DateTime');
    assert.deepEqual(carfax.refDevice, { type: 'Relationship', object: `urn:ngsi-ld:Device:${ids['aq-carfax']}` });
    assert.deepEqual(carfax.location, { type: 'GeoProperty', value: { type: 'Point', coordinates: CARFAX } });
    assert.equal(carfax['@context'], undefined);
  });

  test('application/ld+json puts @context in the body and no Link header', async () => {
    const res = await get('/ngsi-ld/v1/entities?type=AirQualityObserved', reader, { accept: 'application/ld+json' });
    assert.match(String(res.headers['content-type']), /^application\/ld\+json/);
    assert.equal(res.headers.link, undefined);
    for (const e of res.json()) assert.match(e['@context'], /\/ngsi-ld\/v1\/jsonldContexts\/weft$/);
    const ctx = await t.app.inject({ url: '/ngsi-ld/v1/jsonldContexts/weft' });
    assert.equal(ctx.statusCode, 200, 'the context document is public');
    assert.equal(ctx.json()['@context'].at(-1), CORE);
  });

  test('keyValues and concise', async () => {
    const kv = (await get(`/ngsi-ld/v1/entities?type=AirQualityObserved&options=keyValues&q=${encodeURIComponent('no2>40')}`)).json();
    assert.deepEqual(
      { no2: kv[0].no2, refDevice: kv[0].refDevice, location: kv[0].location },
      { no2: 45, refDevice: `urn:ngsi-ld:Device:${ids['aq-carfax']}`, location: { type: 'Point', coordinates: CARFAX } },
    );
    const concise = (await get(`/ngsi-ld/v1/entities?type=AirQualityObserved&options=concise&q=${encodeURIComponent('no2>40')}`)).json();
    assert.equal(concise[0].no2.value, 45);
    assert.equal(concise[0].no2.type, undefined);
    assert.equal(concise[0].name, 'aq-carfax');
  });

  test('q filters on latest values, ; and | and parentheses', async () => {
    const names = async (q: string, type = 'AirQualityObserved') => (await get(`/ngsi-ld/v1/entities?type=${type}&options=keyValues&q=${encodeURIComponent(q)}`)).json().map((e: any) => e.name);
    assert.deepEqual(await names('no2>40'), ['aq-carfax']);
    assert.deepEqual((await names('no2>=20')).sort(), ['aq-carfax', 'aq-station']);
    assert.deepEqual(await names('no2>40;pm25<10'), []);
    assert.deepEqual((await names('(no2>40;pm25<20)|no2==20')).sort(), ['aq-carfax', 'aq-station']);
    assert.deepEqual(await names('relativeHumidity==0.5..0.7'), ['aq-carfax']);
    assert.deepEqual(await names('pm25'), ['aq-carfax'], 'existence');
    assert.deepEqual(await names('name~="(?i)STATION$"'), ['aq-station']);
    assert.deepEqual(await names(`refDevice==urn:ngsi-ld:Device:${ids['aq-station']}`), ['aq-station']);
    assert.deepEqual(await names('status=="free"', 'ParkingSpot'), ['bay-2']);
  });

  test('ParkingSpot and OffStreetParking from the bays’ latest readings', async () => {
    const spots = (await get('/ngsi-ld/v1/entities?type=ParkingSpot&options=keyValues')).json();
    assert.equal(spots.length, 3);
    const byName = Object.fromEntries(spots.map((s: any) => [s.name, s]));
    assert.equal(byName['bay-1'].status, 'occupied');
    assert.equal(byName['bay-2'].status, 'free');
    assert.equal(byName['bay-3'].status, 'unknown');
    assert.deepEqual(byName['bay-1'].category, ['offStreet']);
    assert.equal(byName['bay-1'].refParkingSite, `urn:ngsi-ld:OffStreetParking:${ids.westgate}`);
    assert.deepEqual(byName['bay-1'].location, { type: 'Point', coordinates: WESTGATE }, 'a bay without its own position is at its site');

    const park = (await get(`/ngsi-ld/v1/entities?type=OffStreetParking&q=${encodeURIComponent('availableSpotNumber>=1')}`)).json();
    assert.equal(park.length, 1);
    assert.equal(park[0].id, `urn:ngsi-ld:OffStreetParking:${ids.westgate}`);
    assert.equal(park[0].totalSpotNumber.value, 3);
    assert.equal(park[0].availableSpotNumber.value, 1);
    assert.equal(park[0].occupiedSpotNumber.value, 1);
    assert.deepEqual(park[0].address.value, { type: 'PostalAddress', streetAddress: 'Westgate car park, Oxford', postalCode: 'OX1 1AA', addressCountry: 'GB' });
    assert.deepEqual((await get(`/ngsi-ld/v1/entities?type=OffStreetParking&q=${encodeURIComponent('availableSpotNumber>1')}`)).json(), []);
  });

  test('Device and Building entities', async () => {
    const device = (await get(entityUrl(`urn:ngsi-ld:Device:${ids['aq-carfax']}`))).json();
    assert.equal(device.type, 'Device');
    assert.deepEqual(device.controlledProperty.value, ['airPollution', 'temperature', 'humidity']);
    assert.equal(device.serialNumber.value, 'SN-aq-carfax');
    assert.equal(device.deviceState.value, 'active');
    assert.equal(device.refDeviceModel.object, 'urn:ngsi-ld:DeviceModel:air-quality');
    assert.equal(device.no2.value, 45);
    assert.equal(device.dateLastValueReported.value['@type'], 'DateTime');
    const bay = (await get(entityUrl(`urn:ngsi-ld:Device:${ids['bay-1']}`))).json();
    assert.equal(bay.controlledAsset.object, `urn:ngsi-ld:OffStreetParking:${ids.westgate}`);

    const library = (await get(entityUrl(`urn:ngsi-ld:Building:${ids.library}`), reader, { accept: 'application/ld+json' })).json();
    assert.deepEqual(library.category.value, ['public']);
    assert.equal(library.uprn.value, '100120812345');
    assert.match(library['@context'], /jsonldContexts\/weft$/);
    const school = (await get(entityUrl(`urn:ngsi-ld:Building:${ids.school}`))).json();
    assert.deepEqual(school.category.value, ['school']);
  });

  test('get by id: unknown, malformed, or of the wrong type is ResourceNotFound', async () => {
    problem(await get(entityUrl('urn:ngsi-ld:Device:01900000-0000-7000-8000-000000000000')), 404, 'ResourceNotFound', 'NGSI_ENTITY_NOT_FOUND');
    problem(await get(entityUrl('not-a-uri')), 404, 'ResourceNotFound', 'NGSI_ENTITY_NOT_FOUND');
    problem(await get(entityUrl(`urn:ngsi-ld:Building:${ids.westgate}`)), 404, 'ResourceNotFound', 'NGSI_ENTITY_NOT_FOUND');
    problem(await get(entityUrl(`urn:ngsi-ld:AirQualityObserved:${ids['bay-1']}`)), 404, 'ResourceNotFound', 'NGSI_ENTITY_NOT_FOUND');
  });

  test('attrs, pick and omit', async () => {
    const list = (await get('/ngsi-ld/v1/entities?type=AirQualityObserved&attrs=pm25')).json();
    assert.equal(list.length, 1, 'entities with none of the attrs are left out');
    assert.deepEqual(Object.keys(list[0]).sort(), ['id', 'pm25', 'type']);
    const picked = (await get(`${entityUrl(`urn:ngsi-ld:Device:${ids['aq-carfax']}`)}?pick=id,no2`)).json();
    assert.deepEqual(Object.keys(picked).sort(), ['id', 'no2']);
    const omitted = (await get(`${entityUrl(`urn:ngsi-ld:Device:${ids['aq-carfax']}`)}?omit=no2,location`)).json();
    assert.equal(omitted.no2, undefined);
    assert.equal(omitted.location, undefined);
    assert.ok(omitted.serialNumber);
  });

  test('georel near with maxDistance and minDistance, within a polygon, and GeoJSON out', async () => {
    const at = encodeURIComponent(JSON.stringify(CARFAX));
    const near = (await get(`/ngsi-ld/v1/entities?type=AirQualityObserved&georel=near;maxDistance==400&geometry=Point&coordinates=${at}&options=keyValues`)).json();
    assert.deepEqual(
      near.map((e: any) => e.name),
      ['aq-carfax'],
    );
    const far = (await get(`/ngsi-ld/v1/entities?type=AirQualityObserved&georel=near;minDistance==400&geometry=Point&coordinates=${at}&options=keyValues`)).json();
    assert.deepEqual(
      far.map((e: any) => e.name),
      ['aq-station'],
    );
    const both = (await get(`/ngsi-ld/v1/entities?type=AirQualityObserved&georel=near;maxDistance==1000&geometry=Point&coordinates=${at}`)).json();
    assert.equal(both.length, 2);

    const poly = encodeURIComponent(JSON.stringify(CENTRE));
    const within = (await get(`/ngsi-ld/v1/entities?type=Building,OffStreetParking&georel=within&geometry=Polygon&coordinates=${poly}&options=keyValues`)).json();
    assert.deepEqual(within.map((e: any) => e.name).sort(), ['Central Library', 'Westgate car park'], 'the school is north of the centre');

    const geo = await get(`/ngsi-ld/v1/entities?type=Building&georel=within&geometry=Polygon&coordinates=${poly}`, reader, { accept: 'application/geo+json' });
    assert.match(String(geo.headers['content-type']), /application\/geo\+json/);
    const fc = geo.json();
    assert.equal(fc.type, 'FeatureCollection');
    assert.deepEqual(fc.features[0].geometry, { type: 'Point', coordinates: CENTRAL_LIBRARY });
    assert.equal(fc.features[0].properties.type, 'Building');
  });

  test('pagination: limit, offset, count and the NGSILD-Results-Count header', async () => {
    const all = (await get('/ngsi-ld/v1/entities?type=Device&limit=1000&count=true')).json().map((e: any) => e.id);
    assert.equal(all.length, 5, 'five devices outside homes');
    assert.deepEqual([...all].sort(), all, 'sorted by id');
    const page1 = await get('/ngsi-ld/v1/entities?type=Device&limit=2&count=true');
    assert.equal(page1.headers['ngsild-results-count'], '5');
    const page3 = await get('/ngsi-ld/v1/entities?type=Device&limit=2&offset=4&count=true');
    assert.deepEqual(
      [...page1.json(), ...page3.json()].map((e: any) => e.id),
      [all[0], all[1], all[4]],
    );
    assert.equal((await get('/ngsi-ld/v1/entities?type=Device&limit=2')).headers['ngsild-results-count'], undefined);
    const countOnly = await get('/ngsi-ld/v1/entities?type=Device,Building&limit=0&count=true');
    assert.deepEqual(countOnly.json(), []);
    assert.equal(countOnly.headers['ngsild-results-count'], '7', 'five devices, a library and a school');
    const byIds = (await get(`/ngsi-ld/v1/entities?id=${encodeURIComponent(`urn:ngsi-ld:Device:${ids['bay-2']},urn:ngsi-ld:Building:${ids.school}`)}`)).json();
    assert.deepEqual(byIds.map((e: any) => e.type).sort(), ['Building', 'Device']);
    const pattern = (await get(`/ngsi-ld/v1/entities?type=ParkingSpot&idPattern=${encodeURIComponent(`^urn:ngsi-ld:ParkingSpot:${ids['bay-3']}$`)}`)).json();
    assert.equal(pattern.length, 1);
  });

  test('residents’ homes and their devices are hidden without homes:read', async () => {
    const hub = `urn:ngsi-ld:Device:${ids.hub}`;
    const home = `urn:ngsi-ld:Building:${ids.home}`;
    problem(await get(entityUrl(hub)), 404, 'ResourceNotFound', 'NGSI_ENTITY_NOT_FOUND');
    problem(await get(entityUrl(home)), 404, 'ResourceNotFound', 'NGSI_ENTITY_NOT_FOUND');
    const buildings = (await get('/ngsi-ld/v1/entities?type=Building&options=keyValues')).json();
    assert.ok(!buildings.some((b: any) => b.id === home));
    assert.ok(!(await get('/ngsi-ld/v1/entities?type=Device&limit=100')).json().some((d: any) => d.id === hub));
    problem(await get(`/ngsi-ld/v1/temporal/entities/${encodeURIComponent(hub)}`), 404, 'ResourceNotFound', 'NGSI_ENTITY_NOT_FOUND');

    assert.equal((await get(entityUrl(hub), carer)).json().heartbeat.value, 1);
    assert.deepEqual((await get(entityUrl(home), carer)).json().category.value, ['house']);
    assert.equal((await get('/ngsi-ld/v1/entities?type=Device&limit=100&count=true', carer)).headers['ngsild-results-count'], '6');
  });

  test('the types there are, with counts', async () => {
    const list = (await get('/ngsi-ld/v1/types')).json();
    assert.equal(list.type, 'EntityTypeList');
    assert.deepEqual(list.typeList, ['AirQualityObserved', 'Building', 'Device', 'OffStreetParking', 'ParkingSpot']);
    const details = (await get('/ngsi-ld/v1/types?details=true')).json();
    const counts = Object.fromEntries(details.map((d: any) => [d.typeName, d.entityCount]));
    assert.deepEqual(counts, { AirQualityObserved: 2, Building: 2, Device: 5, OffStreetParking: 1, ParkingSpot: 3 });
    const one = (await get('/ngsi-ld/v1/types/ParkingSpot')).json();
    assert.equal(one.entityCount, 3);
    assert.ok(one.attributeDetails.some((a: any) => a.attributeName === 'status'));
  });

  // ---- writing ----

  test('create a Device by NGSI-LD: a Weft device with credentials; updates to its attributes become readings', async () => {
    const id = 'urn:ngsi-ld:Device:aq-iffley-road';
    const res = await send(
      'POST',
      '/ngsi-ld/v1/entities',
      writer,
      {
        id,
        type: 'Device',
        '@context': ['https://smartdatamodels.org/context.jsonld', CORE],
        name: { type: 'Property', value: 'Iffley Road monitor' },
        serialNumber: { type: 'Property', value: 'IFF-001' },
        controlledProperty: { type: 'Property', value: ['airPollution', 'temperature', 'humidity'] },
        location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [-1.2367, 51.7468] } },
        no2: { type: 'Property', value: 22.5, observedAt: minutesAgo(3).toISOString() },
      },
      'application/ld+json',
    );
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers.location, `/ngsi-ld/v1/entities/${encodeURIComponent(id)}`);
    const created = res.json();
    assert.match(created.weftDevice.credentials.token, /^wdev_/);
    assert.equal(created.weftDevice.readings.accepted, 1);
    const deviceId = created.weftDevice.id;
    const device = await t.services.estate.getDevice(deviceId);
    assert.equal(device.profileKey, 'air-quality');
    assert.equal(device.serial, 'IFF-001');

    const entity = (await get(entityUrl(id))).json();
    assert.equal(entity.id, id, 'the device keeps the id it was created with');
    assert.equal(entity.no2.value, 22.5);

    const observedAt = minutesAgo(1).toISOString();
    const patch = await send('PATCH', `${entityUrl(id)}/attrs`, ingester, { no2: { type: 'Property', value: 31.5, observedAt }, relativeHumidity: { type: 'Property', value: 0.72 } });
    assert.equal(patch.statusCode, 204, patch.body);
    const latest = await t.services.telemetry.latest([deviceId]);
    const no2 = latest.find((r) => r.metric === 'no2');
    assert.equal(no2?.value, 31.5);
    assert.equal(no2?.at.toISOString(), observedAt);
    assert.equal(latest.find((r) => r.metric === 'humidity')?.value, 72, 'relativeHumidity 0.72 is stored as 72 %');

    const one = await send('PATCH', `${entityUrl(`urn:ngsi-ld:AirQualityObserved:${deviceId}`)}/attrs/pm25`, ingester, { value: 9 });
    assert.equal(one.statusCode, 204, one.body);
    assert.equal((await t.services.telemetry.latest([deviceId], ['pm2_5']))[0].value, 9);
    const audit = await t.services.audit.search({ action: 'context.readings', limit: 10 });
    assert.ok(audit.length >= 2, 'a key’s readings through NGSI-LD are audited');

    problem(
      await send('POST', '/ngsi-ld/v1/entities', writer, { id, type: 'Device', refDeviceModel: { type: 'Relationship', object: 'urn:ngsi-ld:DeviceModel:air-quality' } }),
      409,
      'AlreadyExists',
      'NGSI_ENTITY_EXISTS',
    );
  });

  test('creating a Device whose kind is unknown is refused', async () => {
    const body = problem(
      await send('POST', '/ngsi-ld/v1/entities', writer, { id: 'urn:ngsi-ld:Device:mystery', type: 'Device', controlledProperty: { type: 'Property', value: ['smoke'] } }),
      400,
      'BadRequestData',
      'NGSI_DEVICE_PROFILE_UNKNOWN',
    );
    assert.match(body.detail, /urn:ngsi-ld:DeviceModel:parking-bay/);
  });

  test('a Device created with a Weft id in its URN needs no alias; ParkingSpot status updates become occupied readings', async () => {
    const weftId = '01900000-0000-7000-8000-0000000000aa';
    const res = await send('POST', '/ngsi-ld/v1/entities', writer, {
      id: `urn:ngsi-ld:Device:${weftId}`,
      type: 'Device',
      refDeviceModel: { type: 'Relationship', object: 'urn:ngsi-ld:DeviceModel:parking-bay' },
      controlledAsset: { type: 'Relationship', object: `urn:ngsi-ld:OffStreetParking:${ids.westgate}` },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().weftDevice.id, weftId);
    const spot = `urn:ngsi-ld:ParkingSpot:${weftId}`;
    assert.equal((await send('PATCH', `${entityUrl(spot)}/attrs`, ingester, { status: { type: 'Property', value: 'occupied' } })).statusCode, 204);
    assert.equal((await t.services.telemetry.latest([weftId], ['occupied']))[0].value, 1);
    assert.equal((await get(`${entityUrl(spot)}?options=keyValues`)).json().status, 'occupied');
    const bad = await send('PATCH', `${entityUrl(spot)}/attrs`, ingester, { status: { type: 'Property', value: 'sideways' } });
    assert.equal(bad.statusCode, 207);
    assert.deepEqual(bad.json().updated, []);
    assert.match(bad.json().notUpdated[0].reason, /free" or "occupied/);
  });

  test('updates that cannot become readings are reported; out-of-range values are quarantined', async () => {
    const url = `${entityUrl(`urn:ngsi-ld:Device:${ids['aq-station']}`)}/attrs`;
    const res = await send('PATCH', url, ingester, { no2: { type: 'Property', value: 99_999 }, pm10: { type: 'Property', value: 'high' }, colour: { type: 'Property', value: 'red' }, o3: 50 });
    assert.equal(res.statusCode, 207, res.body);
    const body = res.json();
    assert.deepEqual(body.updated, ['o3']);
    assert.deepEqual(body.notUpdated.map((n: any) => n.attributeName).sort(), ['colour', 'no2', 'pm10']);
    assert.match(body.notUpdated.find((n: any) => n.attributeName === 'no2').reason, /quarantined/);
    problem(await send('PATCH', `${url}/colour`, ingester, { value: 1 }), 404, 'ResourceNotFound', 'NGSI_ATTRIBUTE_NOT_FOUND');
    problem(await send('PATCH', `${entityUrl(`urn:ngsi-ld:Building:${ids.library}`)}/attrs`, ingester, { name: 'x' }), 422, 'OperationNotSupported', 'NGSI_OPERATION_NOT_SUPPORTED');
    problem(await send('PATCH', url, ingester, { no2: { type: 'Property', value: 1, observedAt: 'soon' } }), 400, 'BadRequestData', 'NGSI_ENTITY_INVALID');
    problem(await send('PATCH', `${entityUrl(`urn:ngsi-ld:Device:${ids.hub}`)}/attrs`, ingester, { heartbeat: 1 }), 404, 'ResourceNotFound', 'NGSI_ENTITY_NOT_FOUND');
  });

  test('a device’s own token may update only its own entities', async () => {
    const { credentials } = await t.services.estate.rotateCredentials(systemActor('test'), ids['aq-carfax']);
    const own = await send('PATCH', `${entityUrl(`urn:ngsi-ld:Device:${ids['aq-carfax']}`)}/attrs`, credentials.token, { so2: 4 });
    assert.equal(own.statusCode, 204, own.body);
    problem(await send('PATCH', `${entityUrl(`urn:ngsi-ld:Device:${ids['aq-station']}`)}/attrs`, credentials.token, { so2: 4 }), 403, 'AccessDenied', 'FORBIDDEN');
  });

  test('other entity types are stored: create, read, update, append, delete (JSON-LD and JSON with a Link header)', async () => {
    const id = 'urn:ngsi-ld:WeatherObserved:carfax-roof';
    const created = await send(
      'POST',
      '/ngsi-ld/v1/entities',
      writer,
      {
        '@context': 'https://raw.githubusercontent.com/smart-data-models/dataModel.Weather/master/context.jsonld',
        id,
        type: 'WeatherObserved',
        temperature: { type: 'Property', value: 9.5, unitCode: 'CEL' },
        windSpeed: 3.2,
        location: { type: 'Point', coordinates: CARFAX },
      },
      'application/ld+json',
    );
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.body, '');
    problem(await send('POST', '/ngsi-ld/v1/entities', writer, { id, type: 'WeatherObserved' }), 409, 'AlreadyExists', 'NGSI_ENTITY_EXISTS');
    problem(await send('POST', '/ngsi-ld/v1/entities', writer, { '@context': CORE, id: 'urn:ngsi-ld:WeatherObserved:x', type: 'WeatherObserved' }), 400, 'BadRequestData', 'NGSI_ENTITY_INVALID');
    problem(await send('POST', '/ngsi-ld/v1/entities', writer, { id: 'urn:ngsi-ld:X:1', type: 'X', t: { type: 'Relationship', object: 'nowhere' } }), 400, 'BadRequestData', 'NGSI_ENTITY_INVALID');
    problem(await send('POST', '/ngsi-ld/v1/entities', writer, '{"id": ', 'application/json'), 400, 'InvalidRequest', 'MALFORMED_JSON');
    problem(await send('PATCH', `${entityUrl(id)}/attrs`, ingester, { windSpeed: 1 }, 'application/merge-patch+json'), 415, 'UnsupportedMediaType', 'UNSUPPORTED_MEDIA_TYPE');

    const got = (await get(entityUrl(id))).json();
    assert.deepEqual(got.windSpeed, { type: 'Property', value: 3.2 });
    assert.deepEqual(got.location, { type: 'GeoProperty', value: { type: 'Point', coordinates: CARFAX } });
    assert.ok((await get(`${entityUrl(id)}?options=sysAttrs`)).json().createdAt);

    const found = (await get(`/ngsi-ld/v1/entities?type=WeatherObserved&georel=near;maxDistance==50&geometry=Point&coordinates=${encodeURIComponent(JSON.stringify(CARFAX))}`)).json();
    assert.equal(found.length, 1);
    assert.equal((await get(`/ngsi-ld/v1/entities?type=WeatherObserved&q=${encodeURIComponent('temperature<9')}`)).json().length, 0);

    const patch = await send('PATCH', `${entityUrl(id)}/attrs`, ingester, { temperature: { type: 'Property', value: 8.1, unitCode: 'CEL' }, pressure: 1013 });
    assert.equal(patch.statusCode, 207);
    assert.deepEqual(patch.json(), { updated: ['temperature'], notUpdated: [{ attributeName: 'pressure', reason: 'The entity has no attribute pressure: append it with POST instead.' }] });
    assert.equal((await send('POST', `${entityUrl(id)}/attrs`, ingester, { pressure: 1013 })).statusCode, 204);
    const noOverwrite = await send('POST', `${entityUrl(id)}/attrs?options=noOverwrite`, ingester, { pressure: 990, humidity: 0.8 });
    assert.equal(noOverwrite.statusCode, 207);
    assert.deepEqual(noOverwrite.json().updated, ['humidity']);
    assert.equal((await send('PATCH', `${entityUrl(id)}/attrs/temperature`, ingester, { value: 7 })).statusCode, 204);
    const after = (await get(entityUrl(id))).json();
    assert.deepEqual(after.temperature, { type: 'Property', value: 7, unitCode: 'CEL' }, 'a partial update keeps the unit');
    assert.equal(after.pressure.value, 1013);
    assert.equal((await get(`/ngsi-ld/v1/entities?type=WeatherObserved&q=${encodeURIComponent('temperature<9')}`)).json().length, 1);

    assert.equal((await send('DELETE', `${entityUrl(id)}/attrs/pressure`, writer)).statusCode, 204);
    problem(await send('DELETE', `${entityUrl(id)}/attrs/pressure`, writer), 404, 'ResourceNotFound', 'NGSI_ATTRIBUTE_NOT_FOUND');
    problem(await send('DELETE', entityUrl(`urn:ngsi-ld:Building:${ids.library}`), writer), 422, 'OperationNotSupported', 'NGSI_OPERATION_NOT_SUPPORTED');
    assert.equal((await send('DELETE', entityUrl(id), writer)).statusCode, 204);
    problem(await get(entityUrl(id)), 404, 'ResourceNotFound', 'NGSI_ENTITY_NOT_FOUND');
    const trail = await t.services.audit.search({ targetId: id, limit: 20 });
    assert.deepEqual(trail.map((e) => e.action).sort(), [
      'context.entity_create',
      'context.entity_delete',
      'context.entity_update',
      'context.entity_update',
      'context.entity_update',
      'context.entity_update',
      'context.entity_update',
    ]);
  });

  // ---- temporal ----

  test('temporal: raw instances between two times, lastN, temporalValues and aggregates', async () => {
    const id = encodeURIComponent(`urn:ngsi-ld:AirQualityObserved:${ids['aq-carfax']}`);
    const from = encodeURIComponent(minutesAgo(60).toISOString());
    const to = encodeURIComponent(minutesAgo(0).toISOString());
    const res = await get(`/ngsi-ld/v1/temporal/entities/${id}?attrs=no2&timerel=between&timeAt=${from}&endTimeAt=${to}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers.link), /jsonldContexts\/weft/);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['id', 'no2', 'type']);
    assert.deepEqual(
      body.no2.map((i: any) => i.value),
      [30, 35, 40, 45],
    );
    assert.equal(body.no2[0].type, 'Property');
    assert.equal(body.no2[0].unitCode, 'GQ');

    const last = (await get(`/ngsi-ld/v1/temporal/entities/${id}?attrs=no2&lastN=2`)).json();
    assert.deepEqual(
      last.no2.map((i: any) => i.value),
      [40, 45],
    );
    const simple = (await get(`/ngsi-ld/v1/temporal/entities/${id}?attrs=no2&timerel=after&timeAt=${from}&options=temporalValues`)).json();
    assert.equal(simple.no2.type, 'Property');
    assert.equal(simple.no2.values.length, 4);
    assert.equal(simple.no2.values[3][0], 45);

    const agg = (
      await get(`/ngsi-ld/v1/temporal/entities/${id}?attrs=no2,relativeHumidity&timerel=between&timeAt=${from}&endTimeAt=${to}&options=aggregatedValues&aggrMethods=avg,max,totalCount`)
    ).json();
    assert.equal(agg.no2.avg[0][0], 37.5);
    assert.equal(agg.no2.max[0][0], 45);
    assert.equal(agg.no2.totalCount[0][0], 4);
    assert.equal(agg.relativeHumidity.avg[0][0], 0.6);

    const spot = (await get(`/ngsi-ld/v1/temporal/entities/${encodeURIComponent(`urn:ngsi-ld:ParkingSpot:${ids['bay-1']}`)}?lastN=5`)).json();
    assert.deepEqual(
      spot.status.map((i: any) => i.value),
      ['occupied'],
    );

    const ld = await get(`/ngsi-ld/v1/temporal/entities/${id}?lastN=1`, reader, { accept: 'application/ld+json' });
    assert.match(ld.json()['@context'], /jsonldContexts\/weft$/);

    problem(await get(`/ngsi-ld/v1/temporal/entities/${id}?timerel=between&timeAt=${from}`), 400, 'BadRequestData', 'NGSI_PARAMETER_INVALID');
    problem(await get(`/ngsi-ld/v1/temporal/entities/${id}?timerel=after&timeAt=yesterday`), 400, 'BadRequestData', 'NGSI_PARAMETER_INVALID');
    problem(await get(`/ngsi-ld/v1/temporal/entities/${id}?aggrMethods=median&timerel=after&timeAt=${from}`), 400, 'BadRequestData', 'NGSI_PARAMETER_INVALID');
    problem(await get(`/ngsi-ld/v1/temporal/entities/${id}?aggrMethods=avg`), 400, 'BadRequestData', 'NGSI_PARAMETER_INVALID');
    problem(await get(`/ngsi-ld/v1/temporal/entities/${encodeURIComponent('urn:ngsi-ld:Device:nothing')}`), 404, 'ResourceNotFound', 'NGSI_ENTITY_NOT_FOUND');
  });
});
