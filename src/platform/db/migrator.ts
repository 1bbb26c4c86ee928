import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Kysely, type Migration, type MigrationResultSet, Migrator } from 'kysely';
import { type ColumnTypes, columnTypes } from './dialect.js';
import type { Db } from './database.js';

/** A migration file exports up and down, each given the database and its column types. */
export interface WeftMigration {
  up(db: Kysely<any>, t: ColumnTypes): Promise<void>;
  down(db: Kysely<any>, t: ColumnTypes): Promise<void>;
}

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');
const NAME = /^\d{8}T\d{4}_[a-z0-9_]+\.ts$/;

async function loadMigrations(db: Db): Promise<Record<string, Migration>> {
  const t = columnTypes(db.dialect);
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => NAME.test(f)).sort();
  const out: Record<string, Migration> = {};
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(MIGRATIONS_DIR, file)).href)) as WeftMigration;
    out[file.replace(/\.ts$/, '')] = { up: (k) => mod.up(k, t), down: (k) => mod.down(k, t) };
  }
  return out;
}

function migrator(db: Db): Migrator {
  return new Migrator({
    db: db.k,
    provider: { getMigrations: () => loadMigrations(db) },
    migrationTableName: 'weft_migrations',
    migrationLockTableName: 'weft_migrations_lock',
    // Named explicitly: Kysely otherwise finds a same-named table in any schema of the database.
    migrationTableSchema: db.schema,
  });
}

function check(result: MigrationResultSet): MigrationResultSet {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const err = new Error(`Migration ${failed?.migrationName ?? ''} failed: ${(result.error as Error).message}`);
    (err as Error & { cause: unknown }).cause = result.error;
    throw err;
  }
  return result;
}

export async function migrateUp(db: Db) {
  return check(await migrator(db).migrateToLatest());
}

export async function migrateDown(db: Db) {
  return check(await migrator(db).migrateDown());
}

export interface MigrationStatus {
  name: string;
  executedAt: Date | null;
}

export async function migrationStatus(db: Db): Promise<MigrationStatus[]> {
  const list = await migrator(db).getMigrations();
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}

/** True when every migration on disk has been applied. */
export async function migrationsCurrent(db: Db): Promise<boolean> {
  return (await migrationStatus(db)).every((m) => m.executedAt !== null);
}
