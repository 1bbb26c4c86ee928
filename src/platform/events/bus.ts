import { randomBytes } from 'node:crypto';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import type { Db } from '../db/database.js';

export interface EventBus {
  /** Delivers to this process's handlers (awaited), and on PostgreSQL to every other process's. */
  emit(name: string, payload: unknown): Promise<void>;
  /** Returns a function that removes the handler. */
  on(name: string, handler: (payload: any) => void | Promise<void>): () => void;
  close(): Promise<void>;
}

/** pino's, Fastify's or any logger with these methods; called pino-style as (object, message). */
export interface EventLog {
  warn: (...args: any[]) => unknown;
  error: (...args: any[]) => unknown;
}

export const CHANNEL = 'weft_events';
/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more; keep a margin for the envelope. */
export const MAX_EVENT_BYTES = 7900;

type Handler = (payload: any) => void | Promise<void>;

interface Envelope {
  origin: string;
  name: string;
  payload: unknown;
  /** The schema the sender works in, so deployments sharing one database do not hear each other. */
  scope?: string;
}

/**
 * The in-process bus. Payloads travel as JSON even locally, so a handler sees the same value
 * on SQLite as it would from another process on PostgreSQL, and a payload too big for NOTIFY
 * fails on a laptop, not first in production.
 */
class LocalBus implements EventBus {
  private readonly handlers = new Map<string, Set<Handler>>();

  constructor(protected readonly log: EventLog) {}

  on(name: string, handler: Handler): () => void {
    let set = this.handlers.get(name);
    if (!set) {
      set = new Set();
      this.handlers.set(name, set);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(name) === set) this.handlers.delete(name);
    };
  }

  async emit(name: string, payload: unknown): Promise<void> {
    const json = encode(name, payload);
    await this.deliver(name, json);
  }

  /** Runs every handler for the event; one that throws or rejects is logged and does not stop the others. */
  protected async deliver(name: string, payloadJson: string): Promise<void> {
    const set = this.handlers.get(name);
    if (!set || set.size === 0) return;
    await Promise.all(
      [...set].map(async (handler) => {
        try {
          await handler(JSON.parse(payloadJson));
        } catch (err) {
          this.log.error({ event: name, err }, 'event handler failed');
        }
      }),
    );
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}

function encode(name: string, payload: unknown): string {
  if (typeof name !== 'string' || name === '') throw new Error('An event needs a name.');
  const json = JSON.stringify(payload ?? null);
  // Measured with the envelope and a worst-case origin and scope, as NOTIFY will carry it.
  const size = Buffer.byteLength(json) + Buffer.byteLength(name) + 160;
  if (size > MAX_EVENT_BYTES) {
    throw new Error(`Event "${name}" is about ${size} bytes; events are limited to ${MAX_EVENT_BYTES} bytes. Send an id in the event and let handlers read the rest.`);
  }
  return json;
}

/**
 * On PostgreSQL: local delivery as above, plus NOTIFY to other processes over a dedicated
 * LISTEN connection (a pooled connection cannot listen). Events are not durable: any sent while
 * the listener reconnects are lost. Durable work goes through jobs.
 */
class PgBus extends LocalBus {
  readonly origin = randomBytes(8).toString('hex');
  private client?: pg.Client;
  private scope = '';
  private closed = false;
  private reconnectTimer?: NodeJS.Timeout;
  private reconnectDelay = 100;

  constructor(
    private readonly db: Db,
    log: EventLog,
  ) {
    super(log);
  }

  async connect(): Promise<void> {
    const client = new pg.Client({ ...this.db.pgConfig, application_name: `weft-events ${this.origin}`, keepAlive: true });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    client.on('notification', (msg) => {
      if (msg.channel === CHANNEL && msg.payload) void this.receive(msg.payload);
    });
    await client.connect();
    try {
      const res = await client.query<{ scope: string }>('select current_schema() as scope');
      this.scope = res.rows[0]?.scope ?? '';
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.reconnectDelay = 100;
  }

  override async emit(name: string, payload: unknown): Promise<void> {
    const json = encode(name, payload);
    try {
      const envelope = `{"origin":${JSON.stringify(this.origin)},"scope":${JSON.stringify(this.scope)},"name":${JSON.stringify(name)},"payload":${json}}`;
      // Through the pool, not the listener, so an emit does not wait for a reconnect.
      await this.db.k.executeQuery(CompiledQuery.raw('select pg_notify($1, $2)', [CHANNEL, envelope]));
    } catch (err) {
      this.log.error({ event: name, err }, 'could not send event to other processes');
    }
    await this.deliver(name, json);
  }

  private async receive(text: string): Promise<void> {
    let msg: Envelope;
    try {
      msg = JSON.parse(text) as Envelope;
    } catch {
      this.log.warn('ignored a malformed event notification');
      return;
    }
    // Our own events were delivered to our handlers when we emitted them.
    if (msg.origin === this.origin || (msg.scope ?? '') !== this.scope || typeof msg.name !== 'string') return;
    await this.deliver(msg.name, JSON.stringify(msg.payload ?? null));
  }

  private lost(client: pg.Client, err?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => {});
    if (this.closed) return;
    this.log.warn({ err }, 'event listener lost its database connection; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = undefined;
      try {
        await this.connect();
        this.log.warn('event listener reconnected');
      } catch (err) {
        this.reconnectDelay = Math.min(this.reconnectDelay * 2, 5000);
        this.log.error({ err }, 'event listener could not reconnect; trying again');
        this.scheduleReconnect();
      }
    }, this.reconnectDelay);
  }

  /** True while the LISTEN connection is up. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  override async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
    await super.close();
  }
}

export async function createEventBus(db: Db, log: EventLog = pino({ name: 'events' })): Promise<EventBus> {
  if (db.dialect !== 'postgres') return new LocalBus(log);
  if (!db.pgConfig) throw new Error('The event bus needs the PostgreSQL connection settings (db.pgConfig).');
  const bus = new PgBus(db, log);
  await bus.connect();
  return bus;
}
