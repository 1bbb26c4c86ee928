import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { migrateDown, migrateUp } from '../../../src/platform/db/migrator.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

forEachDialect('operations', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await testApp(dialect, { WEFT_KEY_RATE_LIMIT: '5' });
  });

  test('healthz and readyz answer without credentials; readyz is 503 while migrations are pending', async () => {
    assert.deepEqual((await t.app.inject({ url: '/healthz' })).json(), { status: 'ok' });
    assert.deepEqual((await t.app.inject({ url: '/readyz' })).json(), { status: 'ready' });
    await migrateDown(t.services.db).catch(() => {});
    const res = await t.app.inject({ url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().code, 'UNAVAILABLE');
    await migrateUp(t.services.db);
    assert.equal((await t.app.inject({ url: '/readyz' })).statusCode, 200);
  });

  test('metrics need metrics:read and show request counts, latencies and queue depth', async () => {
    const key = await t.key(['metrics:read']);
    const res = await t.app.inject({ url: '/metrics', headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /weft_http_requests_total\{method="GET",route="\/healthz",status="200"\}/);
    assert.match(res.body, /weft_http_request_duration_seconds_bucket/);
    assert.match(res.body, /weft_jobs\{status="pending"\} \d+/);
  });

  test('each key is rate limited on its own', async () => {
    const a = await t.key(['audit:read']);
    const b = await t.key(['audit:read']);
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await t.app.inject({ url: '/api/v1/audit', headers: { authorization: `Bearer ${a}` } })).statusCode);
    assert.deepEqual(codes, [200, 200, 200, 200, 200, 429]);
    const limited = await t.app.inject({ url: '/api/v1/audit', headers: { authorization: `Bearer ${a}` } });
    assert.equal(limited.json().code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal((await t.app.inject({ url: '/api/v1/audit', headers: { authorization: `Bearer ${b}` } })).statusCode, 200);
  });

  test('unknown addresses are 404 problems for APIs and GOV.UK pages for browsers', async () => {
    const api = await t.app.inject({ url: '/api/v1/nothing-here' });
    assert.equal(api.statusCode, 404);
    assert.equal(api.json().code, 'NOT_FOUND');
    const page = await t.app.inject({ url: '/console/nothing-here', headers: { accept: 'text/html' } });
    assert.equal(page.statusCode, 404);
    assert.match(page.body, /Page not found/);
  });

  test('the OpenAPI description is generated from the schemas', async () => {
    const doc = (await t.app.inject({ url: '/api/openapi.json' })).json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/v1/users'].post.requestBody);
    assert.ok(doc.paths['/api/v1/audit'].get.parameters.some((p: { name: string }) => p.name === 'q'));
    assert.equal(doc.paths['/console/users'], undefined, 'pages are not in the API description');
    const docs = await t.app.inject({ url: '/api/docs/' });
    assert.equal(docs.statusCode, 200);
  });

  test('a failure on our side is a 500 with a request id and no internals', async () => {
    const key = await t.key(['audit:read']);
    await t.services.db.close();
    const res = await t.app.inject({ url: '/api/v1/audit', headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.statusCode, 500);
    const body = res.json();
    assert.equal(body.code, 'INTERNAL');
    assert.equal(body.requestId, res.headers['x-request-id']);
    assert.doesNotMatch(res.body, /destroyed|kysely|sqlite|stack|\.ts/i);
  });
});
