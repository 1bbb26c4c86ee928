import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { program } from '../src/cli.js';
import { freePort, TEST_SECRET } from './helpers.js';

const CLI = ['--import', 'tsx', 'src/cli.ts'];

function weft(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [...CLI, ...args], { env: { PATH: process.env.PATH, WEFT_LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Starts a long-running weft command and resolves once its output matches. */
function startUntil(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, [...CLI, ...args], { env: { PATH: process.env.PATH, WEFT_LOG_LEVEL: 'warn', ...env } });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; output so far:\n${out}`)), 60_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, out: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

test('every command has --help', () => {
  // One real process proves the bin runs; every command's help is then checked in this process.
  const r = weft(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /Usage: weft/);
  const walk = (command: Command, path: string[]): void => {
    assert.match(command.helpInformation(), /Usage: weft/, path.join(' '));
    assert.ok(path.length === 0 || command.description(), `${path.join(' ')} has a description`);
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program(), []);
});

test('a bad setting stops start-up with one clear line', () => {
  const r = weft(['start'], { WEFT_PORT: 'lots' });
  assert.equal(r.code, 1);
  assert.equal(r.err.trim().split('\n').length, 1);
  assert.match(r.err, /^weft: WEFT_PORT has a bad value/);
});

test('an unreachable database stops start-up with a clear message and a non-zero exit', () => {
  const r = weft(['start'], { WEFT_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', WEFT_DATA_DIR: mkdtempSync(join(tmpdir(), 'weft-')), WEFT_PORT: '0' });
  assert.equal(r.code, 1);
  assert.match(r.err, /^weft: Cannot reach the database \(postgres:\/\/nobody@127\.0\.0\.1:1\/none\)/);
});

test('weft start refuses a port that is taken, naming it', async () => {
  const blocker = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const port = (blocker.address() as { port: number }).port;
  const r = weft(['start'], { WEFT_PORT: String(port), WEFT_DATA_DIR: mkdtempSync(join(tmpdir(), 'weft-')) });
  blocker.close();
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`^weft: Port ${port} on 127.0.0.1 is already in use`));
});

test('migrate up, status and down; user create and key create', () => {
  const d = mkdtempSync(join(tmpdir(), 'weft-'));
  const env = { WEFT_DATA_DIR: d, WEFT_DATABASE_URL: `sqlite:${join(d, 'w.db')}`, WEFT_SECRET: TEST_SECRET };
  assert.match(weft(['migrate', 'status'], env).out, /^pending {2}\d{8}T\d{4}_platform/m);
  assert.match(weft(['migrate', 'up'], env).out, /applied \d{8}T\d{4}_platform/);
  assert.match(weft(['migrate', 'status'], env).out, /^applied {2}\d{8}T\d{4}_platform/m);
  assert.match(weft(['migrate', 'down'], env).out, /undone/);
  const user = weft(['user', 'create', '--email', 'ops@test.example', '--name', 'Ops Person', '--role', 'admin'], { ...env, WEFT_NEW_PASSWORD: 'a-long-enough-password' });
  assert.equal(user.code, 0, user.err);
  assert.deepEqual(JSON.parse(user.out).roles, ['admin']);
  const weak = weft(['user', 'create', '--email', 'x@test.example', '--name', 'X', '--role', 'viewer', '--password', 'short'], env);
  assert.equal(weak.code, 1);
  assert.match(weak.err, /PASSWORD_TOO_WEAK/);
  const key = weft(['key', 'create', '--name', 'Prometheus', '--scope', 'metrics:read'], env);
  assert.equal(key.code, 0, key.err);
  assert.match(JSON.parse(key.out).key, /^weft_live_/);
  const badScope = weft(['key', 'create', '--name', 'x', '--scope', 'root:everything'], env);
  assert.equal(badScope.code, 1);
  assert.match(badScope.err, /not a permission Weft knows/);
});

test('weft demo starts even with port 1883 taken, prints the addresses and sign-in details, and stops cleanly on SIGTERM', async () => {
  const taken = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => taken.once('listening', r));
  const mqttPort = (taken.address() as { port: number }).port;
  const port = await freePort();
  const d = mkdtempSync(join(tmpdir(), 'weft-demo-'));
  const { child, out } = await startUntil(['demo', '--data', d, '--residents', '500'], { WEFT_PORT: String(port), WEFT_MQTT_PORT: String(mqttPort) }, /Press Ctrl\+C to stop/);
  try {
    const text = out();
    assert.match(text, new RegExp(`Staff console: +http://127\\.0\\.0\\.1:${port}/console`));
    const broker = /MQTT broker: +mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(text);
    assert.ok(broker && Number(broker[1]) !== mqttPort, 'a free MQTT port was chosen');
    assert.match(text, /admin@wealdmoor\.example/);
    const password = /password: (\S+)\)/.exec(text)?.[1];
    assert.ok(password);
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(res.status, 200);
    // Sign in over real HTTP with the details the demo printed.
    const page = await fetch(`http://127.0.0.1:${port}/console/sign-in`);
    const html = await page.text();
    assert.match(html, /Wealdmoor County Council/);
    const anchor = page.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const signIn = await fetch(`http://127.0.0.1:${port}/console/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: anchor, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: 'admin@wealdmoor.example', password, _csrf: csrf }),
    });
    assert.equal(signIn.status, 303);
    const session = signIn.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const home = await fetch(`http://127.0.0.1:${port}/console`, { headers: { cookie: `${anchor}; ${session}` } });
    assert.equal(home.status, 200);
    assert.match(await home.text(), /Welcome, admin@wealdmoor\.example/);
  } finally {
    taken.close();
    child.kill('SIGTERM');
  }
  assert.equal(await exited(child), 0);
});
