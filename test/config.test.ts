import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, SETTING_DESCRIPTIONS } from '../src/config.js';

const dir = () => mkdtempSync(join(tmpdir(), 'weft-config-'));
const load = (env: Record<string, string>, file = '/nonexistent') => loadConfig({ WEFT_DATA_DIR: dir(), ...env }, { file });

test('defaults: SQLite in ./data, port 3000, every role, and a frozen object', () => {
  const c = loadConfig({ WEFT_DATA_DIR: dir() }, { file: '/nonexistent' });
  assert.equal(c.databaseUrl, 'sqlite:./data/weft.db');
  assert.equal(c.dialect, 'sqlite');
  assert.equal(c.port, 3000);
  assert.equal(c.mqttPort, 1883);
  assert.deepEqual([...c.roles].sort(), ['api', 'ingest', 'worker']);
  assert.equal(c.publicUrl, 'http://127.0.0.1:3000');
  assert.ok(Object.isFrozen(c));
  assert.throws(() => {
    (c as { port: number }).port = 1;
  });
});

test('the README configuration table lists every setting with its default', () => {
  const readme = readFileSync('README.md', 'utf8');
  for (const [name, s] of Object.entries(SETTING_DESCRIPTIONS)) {
    const shown = s.default === '' ? '(none)' : `\`${s.default}\``;
    assert.ok(readme.includes(`| \`${name}\` | ${shown} |`), `${name} is missing from README.md, or its default there is not ${shown}`);
  }
});

test('a postgres:// URL selects PostgreSQL', () => {
  assert.equal(load({ WEFT_DATABASE_URL: 'postgres://u@h:5432/db' }).dialect, 'postgres');
});

test('a bad or unknown WEFT_ value stops start-up with one line naming the variable', () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ WEFT_PORT: 'eighty' }, /^WEFT_PORT has a bad value/],
    [{ WEFT_PORT: '70000' }, /^WEFT_PORT/],
    [{ WEFT_DATABASE_URL: 'mysql://x' }, /^WEFT_DATABASE_URL/],
    [{ WEFT_ROLES: 'api,cooking' }, /^WEFT_ROLES/],
    [{ WEFT_PUBLIC_URL: 'ftp://x' }, /^WEFT_PUBLIC_URL/],
    [{ WEFT_SECRET: 'short' }, /^WEFT_SECRET is too short/],
    [{ WEFT_PROT: '3000' }, /^WEFT_PROT is not a Weft setting/],
  ];
  for (const [env, message] of cases) {
    assert.throws(
      () => load(env),
      (err: Error) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n'),
      JSON.stringify(env),
    );
  }
});

test('the secret is generated once into the data folder, readable only by its owner', () => {
  const d = dir();
  const a = loadConfig({ WEFT_DATA_DIR: d }, { file: '/nonexistent' });
  const b = loadConfig({ WEFT_DATA_DIR: d }, { file: '/nonexistent' });
  assert.equal(a.secret, b.secret);
  assert.ok(a.secret.length >= 32);
  assert.equal(statSync(join(d, 'secret')).mode & 0o777, 0o600);
  assert.equal(readFileSync(join(d, 'secret'), 'utf8').trim(), a.secret);
});

test('weft.config.json is read, and the environment wins over it', () => {
  const d = dir();
  const file = join(d, 'weft.config.json');
  writeFileSync(file, JSON.stringify({ WEFT_PORT: 4000, WEFT_HOST: '0.0.0.0' }));
  const c = loadConfig({ WEFT_DATA_DIR: d, WEFT_PORT: '4001' }, { file });
  assert.equal(c.port, 4001);
  assert.equal(c.host, '0.0.0.0');
  writeFileSync(file, JSON.stringify({ WEFT_NOPE: 1 }));
  assert.throws(() => loadConfig({ WEFT_DATA_DIR: d }, { file }), /WEFT_NOPE in .* is not a Weft setting/);
});
