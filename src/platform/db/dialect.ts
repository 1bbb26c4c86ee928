import type BetterSqlite3 from 'better-sqlite3';
import { type Kysely, type RawBuilder, type SelectQueryBuilder, type SqlBool, sql } from 'kysely';
import pg from 'pg';

/**
 * Everything that differs between SQLite and PostgreSQL lives in this file:
 * column types for migrations, value conversion, locking and error codes.
 */
export type Dialect = 'sqlite' | 'postgres';

/** Column types for migrations, per dialect. */
export function columnTypes(dialect: Dialect) {
  const pgsql = dialect === 'postgres';
  return {
    id: pgsql ? 'uuid' : 'text',
    time: pgsql ? 'timestamptz' : 'integer',
    json: pgsql ? 'jsonb' : 'text',
    bool: pgsql ? 'boolean' : 'integer',
    real: pgsql ? 'double precision' : 'real',
    bigint: 'bigint',
  } as const;
}
export type ColumnTypes = ReturnType<typeof columnTypes>;

/** JSON for a `_json` column: the same text on both dialects. */
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? null);
}

// PostgreSQL returns int8 (counts, sums) as strings; every count Weft keeps fits a double.
pg.types.setTypeParser(20, (v) => Number(v));

const TIMESTAMPTZ = 1184;
/** pg's own timestamptz parser, for the values readTimestamptz does not read itself. */
export const pgTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date;
const digits = (v: string, from: number, to: number) => {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
};

/**
 * A timestamptz as PostgreSQL writes it ("2026-07-01 09:30:15.123456+00", "… +05:30"), read by
 * position: pg's own parser (a regular expression a value) was the largest cost of reading a
 * page of a thousand rows. Anything else (BC, infinity, a year before 100 or after 9999, an
 * offset with seconds) goes to pg's parser, so the answers are the same.
 */
export function readTimestamptz(v: string): Date {
  const n = v.length;
  if (n < 22 || v[4] !== '-' || v[7] !== '-' || v[10] !== ' ' || v[13] !== ':' || v[16] !== ':') return pgTimestamptz(v);
  let i = 19;
  let ms = 0;
  if (v[19] === '.') {
    i = 20;
    while (i < n && v.charCodeAt(i) >= 48 && v.charCodeAt(i) <= 57) i++;
    ms = digits(`${v.slice(20, Math.min(i, 23))}00`, 0, 3);
  }
  const sign = v[i] === '+' ? 1 : v[i] === '-' ? -1 : 0;
  const hasMinutes = n === i + 6 && v[i + 3] === ':';
  if (!sign || (n !== i + 3 && !hasMinutes)) return pgTimestamptz(v);
  const offset = sign * (digits(v, i + 1, i + 3) * 60 + (hasMinutes ? digits(v, i + 4, i + 6) : 0));
  const year = digits(v, 0, 4);
  if (!(year >= 100)) return pgTimestamptz(v);
  const utc = Date.UTC(year, digits(v, 5, 7) - 1, digits(v, 8, 10), digits(v, 11, 13), digits(v, 14, 16), digits(v, 17, 19), ms) - offset * 60_000;
  return Number.isNaN(utc) ? pgTimestamptz(v) : new Date(utc);
}
pg.types.setTypeParser(TIMESTAMPTZ, readTimestamptz);

/**
 * SQLite has no Date, boolean or JSON types. This wraps better-sqlite3 so the rest of
 * Weft sees the same values as on PostgreSQL: Date and boolean parameters are bound
 * as integers, and result columns are converted by name (see tables.ts).
 */
export function wrapSqlite(db: BetterSqlite3.Database) {
  // Kysely prepares every query it runs; SQLite's parse and plan cost more than most queries do,
  // and the same shapes recur, so prepared statements are kept by their text (least recently
  // used dropped first). A statement still being iterated is busy: that one call prepares anew.
  const cache = new Map<string, BetterSqlite3.Statement>();
  const prepared = (text: string): BetterSqlite3.Statement => {
    let stmt = cache.get(text);
    if (stmt && !stmt.busy) {
      cache.delete(text);
      cache.set(text, stmt);
      return stmt;
    }
    stmt = db.prepare(text);
    if (!cache.has(text)) {
      cache.set(text, stmt);
      if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    }
    return stmt;
  };
  return {
    close: () => db.close(),
    prepare(text: string) {
      const stmt = prepared(text);
      return {
        reader: stmt.reader,
        all: (params: ReadonlyArray<unknown>) => (stmt.all(...toSqliteParams(params)) as Record<string, unknown>[]).map(fromSqliteRow),
        run: (params: ReadonlyArray<unknown>) => stmt.run(...toSqliteParams(params)),
        iterate: (params: ReadonlyArray<unknown>) => mapIterator(stmt.iterate(...toSqliteParams(params)) as IterableIterator<Record<string, unknown>>),
      };
    },
  };
}

const STATEMENT_CACHE_SIZE = 500;

function* mapIterator(it: IterableIterator<Record<string, unknown>>) {
  for (const row of it) yield fromSqliteRow(row);
}

function toSqliteParams(params: ReadonlyArray<unknown>): unknown[] {
  return params.map((p) => (p instanceof Date ? p.getTime() : typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

function fromSqliteRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const key in row) {
    const v = row[key];
    if (v === null || v === undefined) continue;
    if (key.endsWith('_at') && typeof v === 'number') row[key] = new Date(v);
    else if (key.startsWith('is_') && typeof v === 'number') row[key] = v === 1;
    else if (key.endsWith('_json') && typeof v === 'string') row[key] = JSON.parse(v);
  }
  return row;
}

/** Row locks for work queues: FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one writer and needs none. */
export function skipLocked<QB extends SelectQueryBuilder<any, any, any>>(dialect: Dialect, qb: QB): QB {
  return dialect === 'postgres' ? (qb.forUpdate().skipLocked() as QB) : qb;
}

/** True when an error is a unique-constraint violation, on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * `column IN (values)` for long lists (a page of residents, a campaign's numbers): on PostgreSQL one
 * array parameter (`= any($1)`), so a list of any length is one short statement with one plan rather
 * than thousands of parameters to bind and plan; on SQLite the usual IN, which it answers from the index.
 */
export function inList(dialect: Dialect, column: string, values: readonly string[]): RawBuilder<SqlBool> {
  return dialect === 'postgres' ? sql<SqlBool>`${sql.ref(column)} = any(${values})` : sql<SqlBool>`${sql.ref(column)} in (${sql.join(values)})`;
}

/** Case-insensitive "contains" for search boxes. */
export function ilike(dialect: Dialect) {
  return dialect === 'postgres' ? ('ilike' as const) : ('like' as const);
}

/** Statements that make a table append-only (used by the audit log). */
export async function makeAppendOnly(db: Kysely<any>, dialect: Dialect, table: string): Promise<void> {
  if (dialect === 'postgres') {
    await sql
      .raw(
        `CREATE OR REPLACE FUNCTION weft_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$`,
      )
      .execute(db);
    await sql.raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION weft_append_only()`).execute(db);
  } else {
    for (const op of ['UPDATE', 'DELETE']) {
      await sql.raw(`CREATE TRIGGER ${table}_no_${op.toLowerCase()} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END`).execute(db);
    }
  }
}
