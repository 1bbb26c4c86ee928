import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe } from 'node:test';
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
 * A fresh, migrated database: a temporary SQLite file, or a new PostgreSQL schema
 * (deliberately not `public`, so nothing can lean on the default). Removed after the file's tests.
 */
export async function freshDatabase(dialect: Dialect, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-test-'));
  let url: string;
  let dropSchema: (() => Promise<void>) | undefined;
  if (dialect === 'sqlite') {
    url = `sqlite:${join(dataDir, 'weft.db')}`;
  } else {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    await withPgClient(async (c) => c.query(`CREATE SCHEMA ${schema}`));
    url = `${TEST_PG_URL}?schema=${schema}`;
    // Under scripts/test.mjs, schemas are dropped before and after the whole run instead:
    // dropping one while another file migrates races with Kysely's catalogue scan.
    if (process.env.WEFT_TEST_KEEP_SCHEMAS !== '1')
      dropSchema = async () => {
        await withPgClient(async (c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
      };
  }
  const db = openDb({ databaseUrl: url });
  if (options.migrate !== false) await migrateRetryingRace(db);
  atEnd(async () => {
    await db.close();
    await dropSchema?.();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { url, dataDir, db };
}

/**
 * Kysely's migrator first scans the tables of every schema in the database; on PostgreSQL a parallel
 * worker of that scan can trip over a table another test file is creating or dropping in its own
 * schema at that instant ("relation … does not exist", before any migration runs). Tried again then.
 */
async function migrateRetryingRace(db: Db): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateUp(db);
      return;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; where?: string } }).cause;
      if (attempt >= 3 || cause?.code !== '42P01' || !cause.where?.includes('parallel worker')) throw err;
    }
  }
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
