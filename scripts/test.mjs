#!/usr/bin/env node
// `npm test`: installs what the tests need (Chromium), finds out whether PostgreSQL is
// reachable, then runs every test under test/ with node:test on each available dialect.
//   WEFT_TEST_DIALECTS=sqlite      run the database tests on one dialect only
//   WEFT_TEST_REQUIRE_POSTGRES=1   fail, rather than skip, when PostgreSQL is not reachable (CI)
//   npm test -- test/platform/db   run only the tests under the given paths
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const PG_URL = process.env.WEFT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CHROMIUM = '/usr/bin/chromium';

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  console.log('Chromium is not installed: installing it with apt-get (needed for the browser tests)…');
  const run = (args) => spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  run(['update', '-q']);
  const r = run(['install', '-y', '-q', '--no-install-recommends', 'chromium', 'fonts-liberation']);
  if (r.status !== 0 || !existsSync(CHROMIUM)) {
    console.error('Could not install Chromium with apt-get. Install the Debian package "chromium" and run the tests again.');
    process.exit(1);
  }
}

/**
 * Drops what test files made on PostgreSQL, from this run or an earlier one: schemas and databases
 * named t_ followed by hex, and the migrated templates the databases are copied from (test/helpers.ts),
 * so each run migrates a template afresh.
 */
async function dropTestSchemas() {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    const { rows } = await client.query(`select nspname from pg_namespace where nspname ~ '^t_[0-9a-f]{12}$'`);
    for (const { nspname } of rows) await client.query(`DROP SCHEMA ${nspname} CASCADE`);
    const dbs = await client.query(`select datname from pg_database where datname ~ '^(t_[0-9a-f]{12}|weft_tmpl_[0-9a-f]{12}|weft_build_[0-9a-f]{12})$'`);
    for (const { datname } of dbs.rows) await client.query(`DROP DATABASE ${datname} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function postgresReachable() {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function testFiles(paths) {
  const out = [];
  const walk = (p) => {
    if (statSync(p).isDirectory()) for (const f of readdirSync(p).sort()) walk(join(p, f));
    else if (p.endsWith('.test.ts')) out.push(p);
  };
  for (const p of paths) walk(p);
  return out;
}

ensureChromium();
let dialects = (process.env.WEFT_TEST_DIALECTS ?? 'sqlite,postgres').split(',');
if (dialects.includes('postgres') && !(await postgresReachable())) {
  if (process.env.WEFT_TEST_REQUIRE_POSTGRES === '1') {
    console.error(`PostgreSQL is not reachable at ${PG_URL}, and WEFT_TEST_REQUIRE_POSTGRES=1: failing.`);
    process.exit(1);
  }
  console.log(`\n*** PostgreSQL is not reachable at ${PG_URL}: SKIPPING the PostgreSQL suite. Only SQLite is tested. ***\n`);
  dialects = dialects.filter((d) => d !== 'postgres');
}
console.log(`Database suites: ${dialects.join(', ')}`);
const usePostgres = dialects.includes('postgres');
if (usePostgres) await dropTestSchemas();

mkdirSync('.tmp', { recursive: true });
// SQLite templates (test/helpers.ts) are built afresh each run too, and axe's checked page shapes (test/e2e/browser.ts) start empty.
rmSync(join(tmpdir(), 'weft-test-templates'), { recursive: true, force: true });
const axeShapes = join(process.cwd(), '.tmp', 'axe-shapes');
rmSync(axeShapes, { recursive: true, force: true });
const countsFile = join('.tmp', 'test-counts.json');
const args = [
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=2',
  '--test-timeout=180000',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  '--test-reporter=./scripts/count-reporter.mjs',
  `--test-reporter-destination=${countsFile}`,
  ...testFiles(process.argv.slice(2).length ? process.argv.slice(2) : ['test']),
];
const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, WEFT_TEST_DIALECTS: dialects.join(','), WEFT_TEST_KEEP_SCHEMAS: '1', WEFT_TEST_AXE_SHAPES: axeShapes } });
child.on('exit', async (code) => {
  if (usePostgres) await dropTestSchemas().catch((err) => console.error(`Could not drop the test schemas: ${err.message}`));
  try {
    const counts = JSON.parse(readFileSync(countsFile, 'utf8'));
    console.log('\nBy suite:');
    for (const [suite, c] of Object.entries(counts.suites)) console.log(`  ${suite.padEnd(10)} ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
    const files = Object.entries(counts.fileMs ?? {}).sort((a, b) => b[1] - a[1]);
    const total = files.reduce((sum, [, ms]) => sum + ms, 0);
    console.log(`\nSlowest files by test time (of ${files.length}, ${Math.round(total / 1000)} s in all, start-up not counted):`);
    for (const [file, ms] of files.slice(0, 12)) console.log(`  ${String(Math.round(ms / 1000)).padStart(4)} s  ${file}`);
    console.log(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  } catch {
    console.log('(no test counts were recorded)');
  }
  process.exit(code ?? 1);
});
