import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { COUNTY, DEMO_PASSWORD, DEMO_STAFF, loadCounty } from '../demo/county.js';
import { ConfigError, type Config, loadConfig, PROCESS_ROLES, type ProcessRole } from './config.js';
import { systemActor } from './platform/auth/actor.js';
import { STAFF_ROLES } from './platform/auth/roles.js';
import type { Db } from './platform/db/database.js';
import { migrateDown, migrateUp, migrationStatus } from './platform/db/migrator.js';
import { AppError } from './platform/errors.js';
import { describeDb, openReachableDb, portInUse, StartupError, start } from './server.js';
import { createServices, type Services } from './services.js';
import { keyToApi, userToApi } from './modules/staff/staff.routes.js';

const quietLog = { info() {}, warn() {}, error: (...a: unknown[]) => console.error(...a) };

/** Opens the configured database for one command, with a plain message when it cannot be reached. */
async function withDb<T>(fn: (db: Db) => Promise<T>, config: Readonly<Config> = loadConfig()): Promise<T> {
  const db = await openReachableDb(config.databaseUrl);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function withServices<T>(config: Readonly<Config>, fn: (s: Services) => Promise<T>): Promise<T> {
  return withDb(async (db) => {
    await migrateUp(db);
    const services = await createServices(config, db, quietLog);
    try {
      return await fn(services);
    } finally {
      await services.jobs.stop(0);
      await services.events.close();
    }
  }, config);
}

export function program(): Command {
  const cli = new Command('weft').description('Weft: the digital fabric for local public services').showHelpAfterError();

  cli
    .command('start')
    .description('Run Weft: migrate the database, then serve the API and pages, take device data and work jobs')
    .addOption(new Option('--role <roles...>', 'run only some parts (several processes can share one PostgreSQL)').choices([...PROCESS_ROLES]))
    .action(async (opts: { role?: ProcessRole[] }) => {
      const config = loadConfig();
      const running = await start(config, { roles: opts.role ? new Set(opts.role) : undefined });
      const parts = [...(opts.role ?? config.roles)].join(', ');
      console.log(`Weft is running (${parts}).`);
      if (running.url) console.log(`  Console: ${running.url}/console\n  Portal:  ${running.url}/`);
      if (running.mqttUrl) console.log(`  MQTT:    ${running.mqttUrl}`);
    });

  cli
    .command('demo')
    .description('Start Weft on a fresh data folder with the fictional Wealdmoor county loaded')
    .option('--data <folder>', 'data folder to create afresh', './data/demo')
    .action(async (opts: { data: string }) => {
      const dataDir = resolve(opts.data);
      rmSync(dataDir, { recursive: true, force: true });
      const base = loadConfig(process.env, { overrides: { WEFT_DATA_DIR: dataDir, WEFT_DATABASE_URL: process.env.WEFT_DATABASE_URL ?? `sqlite:${join(dataDir, 'weft.db')}` } });
      let port = base.port;
      while (await portInUse(port, base.host)) port++;
      const config = port === base.port ? base : loadConfig(process.env, { overrides: { WEFT_DATA_DIR: dataDir, WEFT_DATABASE_URL: base.databaseUrl, WEFT_PORT: String(port) } });
      const running = await start(config, { anyFreeMqttPort: true, beforeListen: loadCounty });
      console.log(
        [
          '',
          `Weft demo: ${COUNTY.name} (fictional)`,
          `  Staff console:     ${running.url}/console`,
          `  Residents' portal: ${running.url}/`,
          `  API documentation: ${running.url}/api/docs`,
          `  MQTT broker:       ${running.mqttUrl}`,
          `  Database:          ${describeDb(config.databaseUrl)}`,
          '',
          `Sign in to the console with any of these (password: ${DEMO_PASSWORD}):`,
          ...DEMO_STAFF.map((s) => `  ${s.email.padEnd(28)} ${s.roles.join(', ')}`),
          '',
          'Press Ctrl+C to stop.',
        ].join('\n'),
      );
    });

  const migrate = cli.command('migrate').description('Change the database schema');
  migrate
    .command('up')
    .description('Apply every migration not yet applied')
    .action(() =>
      withDb(async (db) => {
        const { results } = await migrateUp(db);
        console.log(results?.length ? results.map((r) => `applied ${r.migrationName}`).join('\n') : 'The database is up to date.');
      }),
    );
  migrate
    .command('down')
    .description('Undo the most recent migration')
    .action(() =>
      withDb(async (db) => {
        const { results } = await migrateDown(db);
        console.log(results?.length ? results.map((r) => `undone ${r.migrationName}`).join('\n') : 'There is nothing to undo.');
      }),
    );
  migrate
    .command('status')
    .description('List migrations and whether each is applied')
    .action(() =>
      withDb(async (db) => {
        for (const m of await migrationStatus(db)) console.log(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}${m.executedAt ? `  ${m.executedAt.toISOString()}` : ''}`);
      }),
    );

  cli
    .command('user')
    .description('Manage staff accounts')
    .command('create')
    .description('Create a staff account')
    .requiredOption('--email <email>', 'their email address')
    .requiredOption('--name <name>', 'their full name')
    .addOption(new Option('--role <roles...>', 'one or more roles').choices([...STAFF_ROLES]).makeOptionMandatory())
    .option('--password <password>', 'first password (or set WEFT_NEW_PASSWORD); at least 12 characters')
    .action(async (opts: { email: string; name: string; role: string[]; password?: string }) => {
      const password = opts.password ?? process.env.WEFT_NEW_PASSWORD;
      if (!password) throw new StartupError('Give a first password with --password, or in the environment variable WEFT_NEW_PASSWORD.');
      delete process.env.WEFT_NEW_PASSWORD;
      const user = await withServices(loadConfig(), (s) => s.staff.createUser(systemActor('weft cli'), { email: opts.email, name: opts.name, roles: opts.role as never, password }));
      console.log(JSON.stringify(userToApi(user), null, 2));
    });

  cli
    .command('key')
    .description('Manage API keys')
    .command('create')
    .description('Create an API key; it is printed once')
    .requiredOption('--name <name>', 'what will use it')
    .addOption(new Option('--type <type>', 'key type').choices(['live', 'team', 'test']).default('live'))
    .requiredOption('--scope <permissions...>', 'permissions the key holds, e.g. audit:read metrics:read')
    .option('--expires <date>', 'expiry, as an ISO 8601 date or instant')
    .action(async (opts: { name: string; type: string; scope: string[]; expires?: string }) => {
      const admin: ReturnType<typeof systemActor> = { ...systemActor('weft cli'), permissions: new Set(opts.scope) };
      const expiresAt = opts.expires ? new Date(opts.expires).toISOString() : undefined;
      const { row, key } = await withServices(loadConfig(), (s) => s.staff.createKey(admin, { name: opts.name, type: opts.type as never, scopes: opts.scope, expiresAt }));
      console.log(JSON.stringify({ ...keyToApi(row), key }, null, 2));
      console.error('Keep the key safe: it will not be shown again.');
    });

  return cli;
}

/** Known failures print one plain line and exit 1; anything else also gets its stack. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StartupError) console.error(`weft: ${err.message}`);
    else if (err instanceof AppError) console.error(`weft: ${[err.message, ...err.fields.map((f) => `${f.field}: ${f.message}`)].join(' ')} (${err.code})`);
    else console.error('weft: failed:', err);
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli.ts')) {
  void main();
}
