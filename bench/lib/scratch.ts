import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Db, openDb } from '../../src/platform/db/database.js';
import type { Dialect } from '../../src/platform/db/dialect.js';
import { migrateUp } from '../../src/platform/db/migrator.js';

/** The PostgreSQL a benchmark uses: its option, WEFT_BENCH_PG_URL, WEFT_TEST_PG_URL, or the local test database. */
export function benchPgUrl(option?: string): string {
  return option ?? process.env.WEFT_BENCH_PG_URL ?? process.env.WEFT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export interface ScratchDatabase {
  url: string;
  /** a fresh folder: the SQLite file, and whatever else the benchmark writes */
  dataDir: string;
  db: Db;
  /** closes the database (if still open), drops the schema and removes the folder */
  cleanup(): Promise<void>;
}

/**
 * A migrated, empty database for one benchmark run: a SQLite file in a temporary folder, or
 * a temporary schema of PostgreSQL that cleanup() drops.
 */
export async function scratchDatabase(dialect: Dialect, pgUrl: string): Promise<ScratchDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const admin = async (text: string) => {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  let url = `sqlite:${join(dataDir, 'bench.db')}`;
  if (dialect === 'postgres') {
    await admin(`CREATE SCHEMA ${schema}`);
    url = `${pgUrl}${pgUrl.includes('?') ? '&' : '?'}schema=${schema}`;
  }
  const db = openDb({ databaseUrl: url });
  const cleanup = async () => {
    await db.close();
    if (dialect === 'postgres') await admin(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await migrateUp(db);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { url, dataDir, db, cleanup };
}
