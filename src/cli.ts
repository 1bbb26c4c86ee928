import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { COUNTY, DEMO_PASSWORD, DEMO_SEED, DEMO_STAFF, type LoadedCounty, loadCounty } from '../demo/county.js';
import { enableLiveRules } from '../demo/rules.js';
import { type DevicesFile, readDevicesFile, Simulator } from '../demo/simulator.js';
import { ConfigError, type Config, loadConfig, PROCESS_ROLES, type ProcessRole } from './config.js';
import { systemActor } from './platform/auth/actor.js';
import { STAFF_ROLES } from './platform/auth/roles.js';
import type { Db } from './platform/db/database.js';
import { migrateDown, migrateUp, migrationStatus } from './platform/db/migrator.js';
import { AppError } from './platform/errors.js';
import { describeDb, openReachableDb, portInUse, StartupError, start } from './server.js';
import { createServices, type Services } from './services.js';
import { keyToApi, userToApi } from './modules/staff/staff.routes.js';

/** A commander parser for a number of at least `min`. */
const atLeast = (min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`Give a number of at least ${min}.`);
  return n;
};

/** A path relative to the working directory when it is inside it. */
const shortPath = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
};

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
    .description('Start Weft on a fresh data folder with the fictional Wealdmoor county loaded, and simulated devices sending readings')
    .option('--data <folder>', 'data folder to create afresh', './data/demo')
    .option('--speed <n>', 'how many times faster than real time the simulated devices live', atLeast(0.001), 1)
    .option('--backfill-hours <n>', 'hours of history the simulator sends first, so charts have data at once', atLeast(0), 24)
    .option('--residents <n>', 'how many fictional residents the county has', atLeast(0), 20_000)
    .option('--no-simulate', 'load the county but start no simulated devices')
    .action(async (opts: { data: string; speed: number; backfillHours: number; residents: number; simulate: boolean }) => {
      const dataDir = resolve(opts.data);
      rmSync(dataDir, { recursive: true, force: true });
      // The development GOV.UK Pay is on unless WEFT_DEV_PAY says otherwise: the demo reaches nothing outside the machine.
      const devPay = process.env.WEFT_DEV_PAY ?? 'true';
      const base = loadConfig(process.env, {
        overrides: { WEFT_DATA_DIR: dataDir, WEFT_DATABASE_URL: process.env.WEFT_DATABASE_URL ?? `sqlite:${join(dataDir, 'weft.db')}`, WEFT_DEV_PAY: devPay },
      });
      let port = base.port;
      while (await portInUse(port, base.host)) port++;
      const config = port === base.port ? base : loadConfig(process.env, { overrides: { WEFT_DATA_DIR: dataDir, WEFT_DATABASE_URL: base.databaseUrl, WEFT_PORT: String(port), WEFT_DEV_PAY: devPay } });
      let county: LoadedCounty = {};
      const running = await start(config, {
        anyFreeMqttPort: true,
        beforeListen: async (s) => {
          county = await loadCounty(s, { residents: opts.residents });
        },
      });
      const lines = [
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
      ];
      if (county.estate && county.devicesFile) {
        const n = (x: number) => x.toLocaleString('en-GB');
        lines.push(
          `Estate: ${n(county.estate.sites)} sites and ${n(county.estate.devices)} devices in 20 wards, loaded in ${(county.estate.ms / 1000).toFixed(1)} s; device credentials in ${shortPath(county.devicesFile)}.`,
        );
        if (opts.simulate && running.url) {
          const sim = new Simulator({
            url: running.url,
            mqttUrl: running.mqttUrl,
            devices: county.estate.simDevices,
            seed: DEMO_SEED,
            speed: opts.speed,
            backfillHours: opts.backfillHours,
            log: (line) => console.log(line),
          });
          sim.start();
          // "No data" and car-park rules go live once the day's history is in (until then homes look silent).
          void sim
            .backfilled()
            .then(() => (sim.stats.backfill.done ? enableLiveRules(running.services, systemActor('weft demo')) : undefined))
            .catch(() => {});
          // Stop the devices before the server, so none is cut off mid-message.
          const stopServer = running.stop;
          running.stop = async () => {
            await sim.stop();
            await stopServer();
          };
          const history = opts.backfillHours ? `, first sending ${n(opts.backfillHours)} hours of history` : '';
          lines.push(
            `Simulator: ${n(county.estate.devices)} devices sending readings over MQTT and HTTP at ${n(opts.speed)}× real time${history}; ${sim.stats.silent} of them fall silent, to show offline detection.`,
          );
        }
        lines.push('');
      }
      if (county.messaging && running.url) {
        const mm = county.messaging;
        lines.push(
          `Messaging: ${mm.services} services, ${mm.templates} templates, ${mm.residents} residents; ${mm.sent} messages sent to the development inbox (${running.url}/console/messaging/inbox): no provider is set up, so nothing leaves this machine.`,
          `  GOV.UK Notify's clients work against ${running.url} with this demo API key (Wealdmoor Libraries):`,
          `  ${mm.librariesKey}`,
          `  e.g. new NotifyClient('${running.url}', key).sendSms('${mm.librariesBookReadyTemplate}', '07700 900123', { personalisation: { name: 'Sam', title: 'Middlemarch', library: 'Northtown Library', date: 'Saturday' } })`,
          '',
        );
      }
      if (county.parkingPay && running.url) {
        const pay = county.parkingPay;
        lines.push(
          'devPay' in pay
            ? `Parking fines: upload demo/penalty-notices.csv at ${running.url}/console/parking (as service@wealdmoor.example). Pay links lead to Weft's development GOV.UK Pay (${pay.devPay}), whose payment page takes no money and asks for no card details.`
            : `Parking fines: the development GOV.UK Pay could not be set as the Parking service's Pay account: ${pay.problem}`,
          '',
        );
      }
      lines.push('Press Ctrl+C to stop.');
      console.log(lines.join('\n'));
    });

  cli
    .command('simulate')
    .description('Run the simulated devices of `weft demo` against any Weft (by its HTTP address and MQTT broker)')
    .option('--url <url>', 'Weft’s address', 'http://127.0.0.1:3000')
    .option('--mqtt <url>', 'its MQTT broker, e.g. mqtt://127.0.0.1:1883; without it every device sends over HTTP')
    .option('--devices <file>', 'the devices and their credentials, as weft demo writes them', './data/demo/devices.json')
    .option('--speed <n>', 'how many times faster than real time the devices live', atLeast(0.001), 1)
    .option('--backfill-hours <n>', 'hours of history to send first', atLeast(0), 0)
    .option('--seed <seed>', 'seed for the readings (default: the one in the devices file)')
    .action(async (opts: { url: string; mqtt?: string; devices: string; speed: number; backfillHours: number; seed?: string }) => {
      let file: DevicesFile;
      try {
        file = readDevicesFile(opts.devices);
      } catch (err) {
        throw new StartupError(`Cannot read the devices file ${opts.devices} (${(err as Error).message}). Run weft demo first, or give --devices.`);
      }
      const url = opts.url.replace(/\/+$/, '');
      const sim = new Simulator({
        url,
        mqttUrl: opts.mqtt,
        devices: file.devices,
        seed: opts.seed ?? file.seed,
        speed: opts.speed,
        backfillHours: opts.backfillHours,
        log: (line) => console.log(line),
      });
      sim.start();
      console.log(
        `Simulator: ${file.devices.length.toLocaleString('en-GB')} devices sending to ${url}${opts.mqtt ? ` and ${opts.mqtt}` : ' (all over HTTP)'} at ${opts.speed}× real time. Press Ctrl+C to stop.`,
      );
      const report = () => {
        const s = sim.stats;
        const n = (x: number) => x.toLocaleString('en-GB');
        console.log(
          `Simulator: ${n(s.mqtt.readings + s.http.readings)} readings sent (MQTT ${n(s.mqtt.readings)} in ${n(s.mqtt.messages)} messages over ${n(s.mqtt.connections)} connections, HTTP ${n(s.http.readings)} in ${n(s.http.requests)} requests); ${n(s.mqtt.errors + s.http.errors)} failed${s.lastError ? `; last: ${s.lastError}` : ''}.`,
        );
      };
      const every = setInterval(report, 30_000);
      for (const signal of ['SIGINT', 'SIGTERM'] as const)
        process.once(signal, () => {
          clearInterval(every);
          void sim.stop().then(() => {
            report();
            process.exit(0);
          });
        });
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

  cli
    .command('import')
    .description(
      'Import sites or devices from a CSV file, areas from a GeoJSON file, or the council’s postcode list from a CSV file (the ONS Postcode Directory, or any with postcode, lat and long columns): every row is checked first, and nothing is written unless all pass',
    )
    .addArgument(new Argument('<kind>', 'what the file holds').choices(['sites', 'devices', 'areas', 'postcodes']))
    .argument('<file>', 'the CSV file (GeoJSON for areas)')
    .option('--credentials <file>', 'devices: write their new credentials (CSV) to this file, readable only by you, instead of printing them')
    .action(async (kind: 'sites' | 'devices' | 'areas' | 'postcodes', file: string, opts: { credentials?: string }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new StartupError(`Cannot read ${file}: ${(err as Error).message}`);
      }
      const actor = systemActor('weft cli');
      await withServices(loadConfig(), async (s) => {
        if (kind === 'areas') {
          let geojson: unknown;
          try {
            geojson = JSON.parse(text);
          } catch {
            throw new StartupError(`${file} is not valid JSON.`);
          }
          const r = await s.estate.importAreas(actor, geojson);
          console.error(`Imported ${r.created + r.updated} areas (${r.created} new, ${r.updated} changed); ${r.placed.sites} sites and ${r.placed.devices} devices moved area.`);
        } else if (kind === 'postcodes') {
          const r = await s.estate.importPostcodes(actor, text);
          const n = (x: number) => x.toLocaleString('en-GB');
          const skipped = r.skipped ? `; ${n(r.skipped)} without a grid reference were left out` : '';
          console.error(`Imported ${n(r.count)} postcodes, ${n(r.inAreas)} of them in the council’s areas${skipped}.`);
        } else if (kind === 'sites') {
          console.error(`Imported ${(await s.estate.importSites(actor, text)).count} sites.`);
        } else {
          const r = await s.estate.importDevices(actor, text);
          if (opts.credentials) writeFileSync(opts.credentials, r.credentialsCsv, { mode: 0o600 });
          else process.stdout.write(r.credentialsCsv);
          console.error(`Imported ${r.count} devices. Their credentials ${opts.credentials ? `are in ${opts.credentials}` : 'are above'}: keep them safe, they will not be shown again.`);
        }
      });
    });

  return cli;
}

/** Known failures print one plain line and exit 1; anything else also gets its stack. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StartupError) console.error(`weft: ${err.message}`);
    else if (err instanceof AppError && err.code === 'IMPORT_INVALID') console.error([`weft: ${err.message}`, ...err.fields.map((f) => `  ${f.message}`)].join('\n'));
    else if (err instanceof AppError) console.error(`weft: ${[err.message, ...err.fields.map((f) => `${f.field}: ${f.message}`)].join(' ')} (${err.code})`);
    else console.error('weft: failed:', err);
    process.exit(1);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli.ts')) {
  void main();
}
