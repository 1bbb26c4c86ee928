import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { type Db, openDb } from '../src/platform/db/database.js';
import type { Dialect } from '../src/platform/db/dialect.js';
import { migrateUp } from '../src/platform/db/migrator.js';

const cleanups: (() => Promise<void>)[] = [];

/** Runs fn when the test file ends (last registered, first run). */
export function atEnd(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

// Registered at import, at the top level, so it runs once when the whole file is done.
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** The PostgreSQL server the tests use; each test file gets a schema of its own in it. */
export const TEST_PG_URL = process.env.WEFT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Dialects to run database tests on: WEFT_TEST_DIALECTS=sqlite,postgres (set by scripts/test.mjs). */
export function dialects(): Dialect[] {
  return (process.env.WEFT_TEST_DIALECTS ?? 'sqlite').split(',').filter(Boolean) as Dialect[];
}

/** Runs a describe block once per dialect, named "[sqlite] …" and "[postgres] …". */
export function forEachDialect(title: string, fn: (dialect: Dialect) => void): void {
  for (const dialect of dialects()) describe(`[${dialect}] ${title}`, () => fn(dialect));
}

export interface TestDatabase {
  url: string;
  dataDir: string;
  db: Db;
}

/**
 * A fresh, migrated database: a copy of a SQLite file, or a new PostgreSQL database copied from a
 * template (its tables in a schema of their own, deliberately not `public`, so nothing can lean on
 * the default). The template is migrated once per set of migrations and shared by every test file,
 * so a file pays for a copy, not for every migration. `migrate: false` gives an empty one (a
 * temporary SQLite file, or a new schema in the test database) for the migrator's own tests.
 * Removed after the file's tests.
 */
export async function freshDatabase(dialect: Dialect, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-test-'));
  const migrate = options.migrate !== false;
  let url: string;
  let drop: (() => Promise<void>) | undefined;
  if (dialect === 'sqlite') {
    const file = join(dataDir, 'weft.db');
    if (migrate) copyFileSync(await sqliteTemplate(), file);
    url = `sqlite:${file}`;
  } else if (migrate) {
    const name = `t_${randomBytes(6).toString('hex')}`;
    await cloneDatabase(await pgTemplate(), name);
    url = `${pgUrlFor(name)}?schema=${TEMPLATE_SCHEMA}`;
    drop = () => withPgClient((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {});
  } else {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    await withPgClient(async (c) => c.query(`CREATE SCHEMA ${schema}`));
    url = `${TEST_PG_URL}?schema=${schema}`;
    // Under scripts/test.mjs, schemas are dropped before and after the whole run instead:
    // dropping one while another file migrates races with Kysely's catalogue scan.
    if (process.env.WEFT_TEST_KEEP_SCHEMAS !== '1') drop = () => withPgClient((c) => c.query(`DROP SCHEMA ${schema} CASCADE`)).then(() => {});
  }
  const db = openDb({ databaseUrl: url });
  atEnd(async () => {
    await db.close();
    await drop?.();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { url, dataDir, db };
}

/** The schema a template (and so each copy) keeps its tables in. */
const TEMPLATE_SCHEMA = 'weft';

/** A name for this set of migrations: templates built from other migrations are never used. */
const migrationsHash = (() => {
  let hash: string | undefined;
  return () => {
    if (hash) return hash;
    const h = createHash('sha256');
    const dirs = ['src/migrations', 'src/platform/db'].map((d) => join(dirname(fileURLToPath(import.meta.url)), '..', d));
    for (const dir of dirs) for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
    hash = h.digest('hex').slice(0, 12);
    return hash;
  };
})();

let sqliteBuilt: Promise<string> | undefined;

/** A migrated SQLite file for this set of migrations, built once (a rename makes it appear whole). */
function sqliteTemplate(): Promise<string> {
  sqliteBuilt ??= (async () => {
    const dir = join(tmpdir(), 'weft-test-templates');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${migrationsHash()}.db`);
    if (existsSync(file)) return file;
    const building = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    const db = openDb({ databaseUrl: `sqlite:${building}` });
    await migrateUp(db);
    // One file, no write-ahead log beside it, so a byte copy is the whole database.
    db.driver.sqlite?.pragma('journal_mode = DELETE');
    await db.close();
    renameSync(building, file);
    return file;
  })();
  return sqliteBuilt;
}

let pgBuilt: Promise<string> | undefined;

/** A migrated PostgreSQL database for this set of migrations, built once by whichever file asks first. */
function pgTemplate(): Promise<string> {
  pgBuilt ??= (async () => {
    const name = `weft_tmpl_${migrationsHash()}`;
    const exists = await withPgClient((c) => c.query('select 1 from pg_database where datname = $1', [name]));
    if (exists.rowCount) return name;
    const building = `weft_build_${randomBytes(6).toString('hex')}`;
    await withPgClient((c) => c.query(`CREATE DATABASE ${building}`));
    const db = openDb({ databaseUrl: `${pgUrlFor(building)}?schema=${TEMPLATE_SCHEMA}` });
    try {
      await sql.raw(`CREATE SCHEMA ${TEMPLATE_SCHEMA}`).execute(db.k);
      await migrateUp(db);
    } finally {
      await db.close();
    }
    await withPgClient(async (c) => {
      try {
        await retryWhileBusy(() => c.query(`ALTER DATABASE ${building} RENAME TO ${name}`));
      } catch (err) {
        // Another file built it first: theirs is used, this one goes.
        if ((err as { code?: string }).code !== '42P04') throw err;
        await c.query(`DROP DATABASE ${building} WITH (FORCE)`);
      }
    });
    return name;
  })();
  return pgBuilt;
}

function cloneDatabase(template: string, name: string): Promise<unknown> {
  return withPgClient((c) => retryWhileBusy(() => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`)));
}

/** Retries a statement that needs a database nobody is connected to, while a closing connection lingers. */
async function retryWhileBusy<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 50 || (err as { code?: string }).code !== '55006') throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function pgUrlFor(database: string): string {
  const u = new URL(TEST_PG_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

async function withPgClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A logger that keeps what it is given, for tests that check what was logged. */
export function logRecorder() {
  const lines: { level: string; args: unknown[] }[] = [];
  const at =
    (level: string) =>
    (...args: unknown[]) =>
      void lines.push({ level, args });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
}

/** A test-only secret: long enough for config validation, never used outside tests. */
export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123';

/** A port nothing is listening on now, for a server that must know its own address before it starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
