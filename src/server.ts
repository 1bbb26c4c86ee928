import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import type { Config, ProcessRole } from './config.js';
import { type Db, openDb } from './platform/db/database.js';
import { migrateUp } from './platform/db/migrator.js';
import { EmbeddedBroker } from './platform/mqtt/broker.js';
import { embeddedIngest, ExternalSubscriber } from './modules/telemetry/mqtt.js';
import { createServices, scheduleRecurringJobs, type Services } from './services.js';

export class StartupError extends Error {}

export interface Running {
  services: Services;
  app?: FastifyInstance;
  broker?: EmbeddedBroker;
  /** with WEFT_MQTT_URL: Weft's subscription to the external broker (ingest role) */
  subscriber?: ExternalSubscriber;
  url?: string;
  mqttUrl?: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  roles?: ReadonlySet<ProcessRole>;
  /** when the configured MQTT port is taken, use a free one instead of failing (the demo) */
  anyFreeMqttPort?: boolean;
  /** run before the HTTP server opens, with migrations done (the demo loads its county here) */
  beforeListen?: (services: Services) => Promise<void>;
}

/** True when something already listens on host:port. */
export function portInUse(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, host, () => probe.close(() => resolve(false)));
  });
}

/**
 * Starts the parts of Weft this process runs (api, ingest, worker): opens and
 * migrates the database, then listens. Stops gracefully on SIGTERM and SIGINT.
 */
export async function start(config: Readonly<Config>, options: StartOptions = {}): Promise<Running> {
  const roles = options.roles ?? config.roles;
  const log = pino({ level: config.logLevel, base: { pid: process.pid, roles: [...roles].join(',') }, redact: ['req.headers.authorization', 'req.headers.cookie'] });

  if (roles.has('api') && (await portInUse(config.port, config.host))) {
    throw new StartupError(`Port ${config.port} on ${config.host} is already in use. Stop the other program or set WEFT_PORT.`);
  }

  const db = await openReachableDb(config.databaseUrl);
  await migrateUp(db);
  const services = await createServices(config, db, log);
  await options.beforeListen?.(services);

  const running: Running = { services, stop: async () => {} };
  // Rules are checked where readings are stored: the API (HTTP, LoRaWAN, NGSI-LD) and MQTT ingest.
  if (roles.has('api') || roles.has('ingest')) await services.rules.start();
  const mqttIngest = { estate: services.estate, telemetry: services.telemetry, log: log.child({ part: 'mqtt' }), batch: { concurrency: db.dialect === 'postgres' ? 4 : 1 } };
  if (roles.has('ingest') && !config.mqttUrl) {
    running.broker = new EmbeddedBroker();
    running.broker.setHooks(embeddedIngest(mqttIngest).hooks);
    let port = config.mqttPort;
    if (await portInUse(port, config.host)) {
      if (!options.anyFreeMqttPort) throw new StartupError(`MQTT port ${port} is already in use. Set WEFT_MQTT_PORT, or WEFT_MQTT_URL to use that broker.`);
      port = 0;
    }
    await running.broker.start(port, config.host);
    running.mqttUrl = `mqtt://${config.host}:${running.broker.port}`;
  } else if (config.mqttUrl) {
    running.mqttUrl = config.mqttUrl;
    if (roles.has('ingest')) {
      running.subscriber = new ExternalSubscriber({ ...mqttIngest, url: config.mqttUrl, clientId: config.mqttClientId });
      try {
        await running.subscriber.start();
      } catch (err) {
        await services.close(0);
        throw new StartupError(`Cannot subscribe to the MQTT broker at WEFT_MQTT_URL: ${(err as Error).message}`);
      }
    }
  }
  if (roles.has('worker')) {
    await scheduleRecurringJobs(services);
    services.jobs.start();
    services.delivery.start();
  }
  if (roles.has('api')) {
    running.app = await buildApp(services, { loggerInstance: log });
    await running.app.listen({ port: config.port, host: config.host });
    running.url = config.publicUrl;
  }

  let stopping: Promise<void> | undefined;
  running.stop = () => {
    stopping ??= (async () => {
      const graceMs = config.shutdownSeconds * 1000;
      log.info('shutting down: no new requests or jobs; waiting for those in flight');
      await running.app?.close(); // stops accepting, lets in-flight requests finish
      await running.broker?.stop(); // commits and acknowledges what it holds first
      await running.subscriber?.stop();
      await services.close(graceMs); // finishes or releases running jobs, then closes the database
      log.info('stopped');
    })();
    return stopping;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      running.stop().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  return running;
}

/** Opens the database and checks it answers; a StartupError with a plain message when it does not. */
export async function openReachableDb(databaseUrl: string): Promise<Db> {
  const db = openDb({ databaseUrl });
  try {
    await db.ping();
  } catch (err) {
    await db.close().catch(() => {});
    throw new StartupError(`Cannot reach the database (${describeDb(databaseUrl)}): ${(err as Error).message}`);
  }
  return db;
}

/** The database address without its password, for messages. */
export function describeDb(url: string): string {
  if (url.startsWith('sqlite:')) return url;
  const u = new URL(url);
  u.password = '';
  return u.toString();
}
