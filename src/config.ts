import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** The process roles `weft start --role` accepts. */
export const PROCESS_ROLES = ['api', 'ingest', 'worker'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

/**
 * Every setting Weft reads, keyed by its environment variable. One entry here is
 * the whole story of a setting: its type, default and what it is for (the README
 * configuration table is written from these descriptions).
 */
const settings = {
  WEFT_DATABASE_URL: Type.String({
    default: 'sqlite:./data/weft.db',
    pattern: '^(sqlite:|postgres://|postgresql://)',
    description: 'sqlite:<file> for the embedded database, postgres://… for PostgreSQL (add ?schema=name to use a schema other than public)',
  }),
  WEFT_PORT: Type.Integer({ default: 3000, minimum: 0, maximum: 65535, description: 'HTTP port' }),
  WEFT_HOST: Type.String({ default: '127.0.0.1', minLength: 1, description: 'address the HTTP server binds to' }),
  WEFT_PUBLIC_URL: Type.String({ default: '', pattern: '^(https?://.+)?$', description: 'the address people use to reach Weft; defaults to http://HOST:PORT' }),
  WEFT_SECRET: Type.String({ default: '', description: 'at least 32 characters; signs cookies and peppers stored key hashes. Generated into the data folder when absent' }),
  WEFT_DATA_DIR: Type.String({ default: './data', minLength: 1, description: 'folder for the SQLite file, the generated secret and uploads' }),
  WEFT_MQTT_PORT: Type.Integer({ default: 1883, minimum: 0, maximum: 65535, description: 'port of the embedded MQTT broker' }),
  WEFT_MQTT_URL: Type.String({ default: '', pattern: '^(mqtts?://.+)?$', description: 'an external MQTT broker (mqtt://host:port); when set, the embedded broker is not started' }),
  WEFT_MQTT_CLIENT_ID: Type.String({
    default: '',
    pattern: '^[A-Za-z0-9._-]{0,64}$',
    description: 'client id this process uses with the external broker, so the broker keeps its session across restarts; defaults to weft-<host name>. Give each ingest process on one host its own',
  }),
  WEFT_ROLES: Type.String({
    default: 'api,ingest,worker',
    pattern: '^(api|ingest|worker)(,(api|ingest|worker))*$',
    description: 'which parts this process runs: api, ingest, worker (comma-separated)',
  }),
  WEFT_LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'log level' },
  ),
  WEFT_BODY_LIMIT: Type.Integer({ default: 1_048_576, minimum: 1024, description: 'largest request body accepted, in bytes' }),
  WEFT_SESSION_HOURS: Type.Integer({ default: 12, minimum: 1, maximum: 720, description: 'how long a staff session lasts without activity' }),
  WEFT_KEY_RATE_LIMIT: Type.Integer({ default: 600, minimum: 1, description: 'requests per minute allowed for one API key (or one address without a key)' }),
  WEFT_SIGN_IN_ATTEMPTS: Type.Integer({ default: 5, minimum: 1, description: 'failed sign-ins allowed per account and address in 15 minutes' }),
  WEFT_JOB_CONCURRENCY: Type.Integer({ default: 4, minimum: 1, maximum: 64, description: 'jobs one worker process runs at once' }),
  WEFT_JOB_VISIBILITY_SECONDS: Type.Integer({ default: 300, minimum: 1, description: 'how long a job stays claimed before another worker may take it' }),
  WEFT_SHUTDOWN_SECONDS: Type.Integer({ default: 20, minimum: 1, description: 'how long SIGTERM waits for requests and jobs to finish' }),
  WEFT_IMPORT_BODY_LIMIT: Type.Integer({ default: 134_217_728, minimum: 1024, description: 'largest uploaded file (estate imports, campaign recipient lists), in bytes' }),
  WEFT_MAP_TILE_URL: Type.String({
    default: '',
    pattern: '^(https?://[^\\s]+\\{z\\}[^\\s]*)?$',
    description: 'map tiles for console maps, as https://…/{z}/{x}/{y}.png; empty: maps draw areas and markers on a blank background (works offline)',
  }),
  WEFT_MAP_ATTRIBUTION: Type.String({ default: '', maxLength: 300, description: 'the credit line the tile provider asks for, shown on maps (plain text)' }),
  WEFT_DEV_PAY: Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Boolean()], {
    default: 'false',
    description:
      'true or false; true turns on a development GOV.UK Pay inside Weft (/dev-pay/) whose payment page takes no money: for development and the demo only (weft demo turns it on), never in live use',
  }),
};

export const ConfigSchema = Type.Object(settings, { additionalProperties: false });
type RawConfig = Static<typeof ConfigSchema>;

export interface Config {
  databaseUrl: string;
  dialect: 'sqlite' | 'postgres';
  port: number;
  host: string;
  publicUrl: string;
  secret: string;
  dataDir: string;
  mqttPort: number;
  mqttUrl: string;
  mqttClientId: string;
  roles: ReadonlySet<ProcessRole>;
  logLevel: string;
  bodyLimit: number;
  sessionHours: number;
  keyRateLimit: number;
  signInAttempts: number;
  jobConcurrency: number;
  jobVisibilitySeconds: number;
  shutdownSeconds: number;
  importBodyLimit: number;
  mapTileUrl: string;
  mapAttribution: string;
  /** the development GOV.UK Pay is on (modules/devpay): development and the demo only */
  devPay: boolean;
  /** cookies get the Secure flag when Weft is reached over https */
  secureCookies: boolean;
}

export class ConfigError extends Error {}

export const SETTING_DESCRIPTIONS: Record<string, { default: unknown; description: string }> = Object.fromEntries(
  Object.entries(settings).map(([name, s]) => [name, { default: s.default, description: s.description ?? '' }]),
);

/**
 * Reads the environment (and ./weft.config.json, whose keys are the same variable
 * names) once, validates it and returns a frozen object. Any bad or unknown WEFT_*
 * value throws a ConfigError whose message is one line naming the variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { file?: string; overrides?: Partial<Record<keyof typeof settings, string>> } = {}): Readonly<Config> {
  const raw: Record<string, unknown> = { ...readConfigFile(options.file ?? 'weft.config.json') };
  for (const [name, value] of Object.entries({ ...env, ...options.overrides })) {
    if (!name.startsWith('WEFT_') || value === undefined) continue;
    if (name.startsWith('WEFT_TEST_')) continue; // the test runner's own switches
    if (!(name in settings)) throw new ConfigError(`${name} is not a Weft setting. Remove it, or see the configuration table in README.md.`);
    raw[name] = value;
  }
  const parsed = parseSettings(raw);
  return Object.freeze(finish(parsed));
}

function readConfigFile(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  try {
    const data = JSON.parse(readFileSync(file, 'utf8'));
    for (const name of Object.keys(data)) {
      if (!(name in settings)) throw new ConfigError(`${name} in ${file} is not a Weft setting.`);
    }
    return data;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function parseSettings(raw: Record<string, unknown>): RawConfig {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(settings)) {
    let value = raw[name] ?? schema.default;
    if (schema.type === 'integer' && typeof value === 'string') {
      value = /^-?\d+$/.test(value.trim()) ? Number(value) : value;
    }
    if (!Value.Check(schema, value)) {
      throw new ConfigError(`${name} has a bad value (${JSON.stringify(raw[name])}): expected ${schema.description}.`);
    }
    out[name] = value;
  }
  return out as RawConfig;
}

function finish(c: RawConfig): Config {
  const dialect = c.WEFT_DATABASE_URL.startsWith('sqlite:') ? 'sqlite' : 'postgres';
  const dataDir = resolve(c.WEFT_DATA_DIR);
  const publicUrl = (c.WEFT_PUBLIC_URL || `http://${c.WEFT_HOST === '0.0.0.0' ? 'localhost' : c.WEFT_HOST}:${c.WEFT_PORT}`).replace(/\/$/, '');
  if (c.WEFT_SECRET && c.WEFT_SECRET.length < 32) throw new ConfigError('WEFT_SECRET is too short: use at least 32 characters.');
  return {
    databaseUrl: c.WEFT_DATABASE_URL,
    dialect,
    port: c.WEFT_PORT,
    host: c.WEFT_HOST,
    publicUrl,
    secret: c.WEFT_SECRET || loadOrCreateSecret(dataDir),
    dataDir,
    mqttPort: c.WEFT_MQTT_PORT,
    mqttUrl: c.WEFT_MQTT_URL,
    mqttClientId: c.WEFT_MQTT_CLIENT_ID,
    roles: new Set(c.WEFT_ROLES.split(',') as ProcessRole[]),
    logLevel: c.WEFT_LOG_LEVEL,
    bodyLimit: c.WEFT_BODY_LIMIT,
    sessionHours: c.WEFT_SESSION_HOURS,
    keyRateLimit: c.WEFT_KEY_RATE_LIMIT,
    signInAttempts: c.WEFT_SIGN_IN_ATTEMPTS,
    jobConcurrency: c.WEFT_JOB_CONCURRENCY,
    jobVisibilitySeconds: c.WEFT_JOB_VISIBILITY_SECONDS,
    shutdownSeconds: c.WEFT_SHUTDOWN_SECONDS,
    importBodyLimit: c.WEFT_IMPORT_BODY_LIMIT,
    mapTileUrl: c.WEFT_MAP_TILE_URL,
    mapAttribution: c.WEFT_MAP_ATTRIBUTION,
    devPay: c.WEFT_DEV_PAY === true || c.WEFT_DEV_PAY === 'true',
    secureCookies: publicUrl.startsWith('https://'),
  };
}

/** The secret lives in the data folder, readable only by its owner, and is never logged. */
function loadOrCreateSecret(dataDir: string): string {
  const file = join(dataDir, 'secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** Where the SQLite file lives, resolved against the working folder. */
export function sqliteFile(config: Pick<Config, 'databaseUrl'>): string {
  return resolve(config.databaseUrl.slice('sqlite:'.length));
}
