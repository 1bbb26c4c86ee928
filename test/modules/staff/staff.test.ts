import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { sql } from 'kysely';
import { csrfFrom, signIn, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const json = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
const newUser = (email: string) => ({ email, name: 'Jo Bloggs', roles: ['officer'], password: 'a-long-enough-password' });

forEachDialect('staff accounts and API keys', (dialect) => {
  let t: TestApp;
  let admin: string;
  const countUsers = async () => Number((await sql<{ n: number }>`select count(*) as n from users`.execute(t.services.db.k)).rows[0].n);

  before(async () => {
    t = await testApp(dialect, { WEFT_KEY_RATE_LIMIT: '1000' });
    admin = await t.key(['users:manage', 'keys:manage', 'audit:read']);
  });

  test('creates a staff account by API, audited with who, what and where', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/users', headers: json(admin), payload: newUser('jo@test.example') });
    assert.equal(res.statusCode, 201);
    const user = res.json();
    assert.equal(user.email, 'jo@test.example');
    assert.deepEqual(user.roles, ['officer']);
    assert.equal(user.password, undefined);
    const [row] = await t.services.audit.search({ targetId: user.id, limit: 5 });
    assert.equal(row.action, 'staff.user_create');
    assert.equal(row.actor_type, 'key');
    assert.equal(row.ip, '127.0.0.1');
    assert.ok(row.request_id);
    assert.doesNotMatch(JSON.stringify(row.changes_json), /a-long-enough-password/);
  });

  test('stores passwords only as scrypt hashes', async () => {
    const rows = (await sql<{ password_hash: string }>`select password_hash from users`.execute(t.services.db.k)).rows;
    assert.ok(rows.length > 0);
    for (const r of rows) {
      assert.match(r.password_hash, /^scrypt\$32768\$8\$1\$/);
      assert.ok(!r.password_hash.includes('a-long-enough-password'));
    }
  });

  test('bad input is refused with a code naming the field, and nothing is written', async () => {
    const before = await countUsers();
    const cases: [unknown, string, string, string?][] = [
      [{ ...newUser('x@test.example'), isAdmin: true }, 'VALIDATION_FAILED', 'isAdmin'],
      [{ ...newUser('y@test.example'), roles: 'officer' }, 'VALIDATION_FAILED', 'roles'],
      [{ ...newUser('z@test.example'), roles: ['wizard'] }, 'VALIDATION_FAILED', 'roles/0'],
      [{ name: 'No Email', roles: ['officer'], password: 'a-long-enough-password' }, 'VALIDATION_FAILED', 'email'],
      [newUser('jo@test.example'), 'EMAIL_TAKEN', ''],
      [{ ...newUser('w@test.example'), password: 'passwordpassword' }, 'PASSWORD_TOO_WEAK', ''],
    ];
    for (const [payload, code, field] of cases) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/users', headers: json(admin), payload: payload as object });
      const body = res.json();
      assert.equal(body.code, code, JSON.stringify(body));
      if (field)
        assert.ok(
          body.errors.some((e: { field: string }) => e.field === field),
          `${field} named in ${JSON.stringify(body.errors)}`,
        );
    }
    const malformed = await t.app.inject({ method: 'POST', url: '/api/v1/users', headers: json(admin), payload: '{"email": ' });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().code, 'MALFORMED_JSON');
    const huge = await t.app.inject({ method: 'POST', url: '/api/v1/users', headers: json(admin), payload: JSON.stringify({ ...newUser('h@test.example'), name: 'x'.repeat(2_000_000) }) });
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json().code, 'BODY_TOO_LARGE');
    const text = await t.app.inject({ method: 'POST', url: '/api/v1/users', headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/plain' }, payload: 'hello' });
    assert.equal(text.statusCode, 415);
    assert.equal(text.json().code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.equal(await countUsers(), before);
  });

  test('changes roles and deactivates; the last admin cannot be removed; unknown ids are 404', async () => {
    const created = (await t.app.inject({ method: 'POST', url: '/api/v1/users', headers: json(admin), payload: newUser('kim@test.example') })).json();
    const patched = await t.app.inject({ method: 'PATCH', url: `/api/v1/users/${created.id}`, headers: json(admin), payload: { roles: ['care', 'viewer'], isActive: false } });
    assert.equal(patched.statusCode, 200);
    assert.deepEqual(patched.json().roles, ['care', 'viewer']);
    assert.equal(patched.json().isActive, false);
    const [change] = await t.services.audit.search({ targetId: created.id, action: 'staff.user_update', limit: 1 });
    assert.deepEqual((change.changes_json as Record<string, unknown>).isActive, [true, false]);

    const onlyAdmin = await t.signInAs(['admin'], 'boss@test.example');
    const demote = await t.app.inject({ method: 'PATCH', url: `/api/v1/users/${onlyAdmin.userId}`, headers: json(admin), payload: { roles: ['viewer'] } });
    assert.equal(demote.statusCode, 409);
    assert.equal(demote.json().code, 'LAST_ADMIN');
    const missing = await t.app.inject({ method: 'GET', url: '/api/v1/users/01900000-0000-7000-8000-000000000000', headers: json(admin) });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'USER_NOT_FOUND');
  });

  test('a deactivated person cannot sign in and loses their sessions', async () => {
    const person = await t.signInAs(['officer']);
    const before = await t.app.inject({ url: '/console', headers: { cookie: person.cookie } });
    assert.equal(before.statusCode, 200);
    await t.app.inject({ method: 'PATCH', url: `/api/v1/users/${person.userId}`, headers: json(admin), payload: { isActive: false } });
    const after = await t.app.inject({ url: '/console', headers: { cookie: person.cookie } });
    assert.equal(after.statusCode, 303);
    await assert.rejects(signIn(t.app, person.email, 'correct-horse-battery-staple'), /sign-in failed: 401/);
  });

  test('API keys: shown once, stored only as a hash, scoped, expiring and revocable', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/keys', headers: json(admin), payload: { name: 'Parking back office', type: 'team', scopes: ['audit:read'] } });
    assert.equal(res.statusCode, 201);
    const { key, id, prefix } = res.json();
    assert.match(key, /^weft_team_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    assert.ok(key.includes(prefix));
    const dump = JSON.stringify((await sql`select * from api_keys`.execute(t.services.db.k)).rows);
    // The secret is all after the prefix (it may itself hold an underscore).
    const secret = key.slice(key.indexOf(prefix) + prefix.length + 1);
    assert.equal(secret.length, 43);
    assert.ok(!dump.includes(secret), 'the secret is not stored');
    const listed = (await t.app.inject({ url: '/api/v1/keys', headers: json(admin) })).json();
    assert.ok(listed.every((k: Record<string, unknown>) => k.key === undefined));

    assert.equal((await t.app.inject({ url: '/api/v1/audit', headers: json(key) })).statusCode, 200);
    assert.equal((await t.app.inject({ url: '/api/v1/users', headers: json(key) })).statusCode, 403);

    const revoked = await t.app.inject({ method: 'POST', url: `/api/v1/keys/${id}/revoke`, headers: json(admin) });
    assert.equal(revoked.statusCode, 200);
    assert.ok(revoked.json().revokedAt);
    const after = await t.app.inject({ url: '/api/v1/audit', headers: json(key) });
    assert.equal(after.statusCode, 401);
    assert.equal(after.json().code, 'AUTH_INVALID');
    const missing = await t.app.inject({ method: 'POST', url: '/api/v1/keys/01900000-0000-7000-8000-000000000000/revoke', headers: json(admin) });
    assert.equal(missing.json().code, 'KEY_NOT_FOUND');
  });

  test('a key cannot be given more than its maker holds, nor a bad expiry; expired keys stop working', async () => {
    const narrow = await t.key(['keys:manage']);
    const wide = await t.app.inject({ method: 'POST', url: '/api/v1/keys', headers: json(narrow), payload: { name: 'x', type: 'live', scopes: ['users:manage'] } });
    assert.equal(wide.statusCode, 400);
    assert.equal(wide.json().code, 'KEY_SCOPE_NOT_HELD');
    const past = await t.app.inject({ method: 'POST', url: '/api/v1/keys', headers: json(admin), payload: { name: 'x', type: 'live', scopes: ['audit:read'], expiresAt: '2020-01-01T00:00:00Z' } });
    assert.equal(past.json().code, 'KEY_EXPIRY_INVALID');
    const soon = await t.app.inject({
      method: 'POST',
      url: '/api/v1/keys',
      headers: json(admin),
      payload: { name: 'x', type: 'live', scopes: ['audit:read'], expiresAt: new Date(Date.now() + 60_000).toISOString() },
    });
    const { key, id } = soon.json();
    assert.equal((await t.app.inject({ url: '/api/v1/audit', headers: json(key) })).statusCode, 200);
    await t.services.db.k
      .updateTable('api_keys')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', id)
      .execute();
    assert.equal((await t.app.inject({ url: '/api/v1/audit', headers: json(key) })).statusCode, 401);
  });

  test('console forms create accounts and need a valid CSRF token', async () => {
    const boss = await t.signInAs(['admin']);
    const form = await t.app.inject({ url: '/console/users/new', headers: { cookie: boss.cookie } });
    const token = csrfFrom(form.body);
    const payload = { name: 'Sam Page', email: 'sam@test.example', roles: ['comms', 'viewer'], password: 'a-long-enough-password' };
    const forged = await t.app.inject({ method: 'POST', url: '/console/users/new', headers: { cookie: boss.cookie }, payload: { ...payload, _csrf: 'forged' } });
    assert.equal(forged.statusCode, 403);
    assert.match(forged.body, /form has expired/);
    const bad = await t.app.inject({ method: 'POST', url: '/console/users/new', headers: { cookie: boss.cookie }, payload: { ...payload, email: 'not-an-email', _csrf: token } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /There is a problem/);
    assert.match(bad.body, /href="#email"/);
    const ok = await t.app.inject({ method: 'POST', url: '/console/users/new', headers: { cookie: boss.cookie }, payload: { ...payload, _csrf: token } });
    assert.equal(ok.statusCode, 303);
    const page = await t.app.inject({ url: String(ok.headers.location), headers: { cookie: boss.cookie } });
    assert.match(page.body, /Staff account created/);
    // A cookie-authenticated API write needs the token too.
    const noToken = await t.app.inject({ method: 'POST', url: '/api/v1/keys', headers: { cookie: boss.cookie }, payload: { name: 'x', type: 'live', scopes: ['audit:read'] } });
    assert.equal(noToken.json().code, 'CSRF_INVALID');
  });

  test('an audit row for every write, including ones a handler did not record itself', async () => {
    const boss = await t.signInAs(['admin']);
    const keysPage = await t.app.inject({ url: '/console/keys/new', headers: { cookie: boss.cookie } });
    const created = await t.app.inject({
      method: 'POST',
      url: '/console/keys/new',
      headers: { cookie: boss.cookie },
      payload: { name: 'Library system', type: 'live', scopes: 'audit:read', _csrf: csrfFrom(keysPage.body) },
    });
    assert.equal(created.statusCode, 200);
    assert.match(created.body, /weft_live_/);
    const rows = await t.services.audit.search({ actorId: boss.userId, limit: 10 });
    assert.ok(rows.some((r) => r.action === 'staff.key_create' && r.summary.includes('Library system')));
  });
});
