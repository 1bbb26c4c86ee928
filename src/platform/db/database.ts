import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Transaction, sql } from 'kysely';
import pg from 'pg';
import { sqliteFile } from '../../config.js';
import { type Dialect, wrapSqlite } from './dialect.js';
import type { Tables } from './tables.js';

export type Executor = Kysely<Tables> | Transaction<Tables>;

/** The database as every repository sees it: a Kysely instance and which dialect it speaks. */
export interface Db {
  readonly k: Kysely<Tables>;
  readonly dialect: Dialect;
  /** Connection settings for a dedicated PostgreSQL client (LISTEN/NOTIFY). */
  readonly pgConfig?: pg.ClientConfig;
  /** PostgreSQL: the schema Weft's tables live in */
  readonly schema?: string;
  /**
   * The driver underneath Kysely, for bulk paths that a query builder would slow down
   * (telemetry's batch ingest). Only repositories may use it. On SQLite, run raw statements
   * inside `db.k.connection().execute(…)` so they hold Kysely's single-connection lock and
   * never land inside someone else's open transaction.
   */
  readonly driver: { sqlite: BetterSqlite3.Database; pool?: undefined } | { sqlite?: undefined; pool: pg.Pool };
  transaction<T>(fn: (trx: Transaction<Tables>) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DbOptions {
  databaseUrl: string;
  /** PostgreSQL pool size */
  poolSize?: number;
}

export function openDb(options: DbOptions): Db {
  return options.databaseUrl.startsWith('sqlite:') ? openSqlite(options.databaseUrl) : openPostgres(options);
}

function openSqlite(url: string): Db {
  const file = sqliteFile({ databaseUrl: url });
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('synchronous = NORMAL');
  const k = new Kysely<Tables>({ dialect: new SqliteDialect({ database: wrapSqlite(raw) as never }) });
  return makeDb(k, 'sqlite', { sqlite: raw });
}

/** Parses postgres://…?schema=name: the schema becomes the connection's search_path. */
export function pgClientConfig(url: string): pg.ClientConfig {
  const u = new URL(url);
  const schema = u.searchParams.get('schema');
  u.searchParams.delete('schema');
  const config: pg.ClientConfig = { connectionString: u.toString() };
  if (schema) {
    if (!/^[a-z_][a-z0-9_]*$/i.test(schema)) throw new Error('The schema in WEFT_DATABASE_URL may only hold letters, digits and underscores.');
    config.options = `-c search_path=${schema}`;
  }
  return config;
}

function openPostgres(options: DbOptions): Db {
  const pgConfig = pgClientConfig(options.databaseUrl);
  const pool = new pg.Pool({ ...pgConfig, max: options.poolSize ?? 10, connectionTimeoutMillis: 5000 });
  // An idle client that loses its connection must not crash the process.
  pool.on('error', () => {});
  const k = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  const schema = new URL(options.databaseUrl).searchParams.get('schema') ?? 'public';
  return makeDb(k, 'postgres', { pool }, pgConfig, schema);
}

function makeDb(k: Kysely<Tables>, dialect: Dialect, driver: Db['driver'], pgConfig?: pg.ClientConfig, schema?: string): Db {
  let closed = false;
  return {
    k,
    dialect,
    driver,
    pgConfig,
    schema,
    transaction: (fn) => k.transaction().execute(fn),
    ping: async () => {
      await sql`select 1`.execute(k);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await k.destroy();
    },
  };
}
