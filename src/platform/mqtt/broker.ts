import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateHandler, type Client, type PublishPacket, type Subscription } from 'aedes';
import { randomToken, safeEqual } from '../auth/secrets.js';

/**
 * Set on a PUBLISH packet by authorizePublish to say Weft has taken the message in
 * (device telemetry): the broker acknowledges it as usual but does not route it to
 * subscribers, which saves topic matching on the ingest hot path.
 */
export const CONSUMED = Symbol('weft.mqtt.consumed');

/**
 * What the module that owns devices (telemetry) plugs into the broker: who may
 * connect, publish and subscribe, and what happens to a publish. The broker itself
 * knows nothing about devices.
 */
export interface BrokerHooks {
  authenticate: AuthenticateHandler;
  /** called for every publish from a device; call back (after any commit) to acknowledge, or with an error to disconnect it */
  authorizePublish(client: Client, packet: PublishPacket, callback: (error?: Error | null) => void): void;
  /** call back with the subscription to grant it, or null to refuse it (SUBACK 0x80) */
  authorizeSubscribe(client: Client, subscription: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void): void;
  /** called when the broker stops, after it stops accepting connections and before clients are disconnected */
  drain?(): Promise<void>;
}

/**
 * The embedded MQTT broker for a single-process Weft (pilot, laptop, demo). At
 * scale Weft connects to an external broker instead (WEFT_MQTT_URL).
 *
 * Nobody connects without credentials: Weft's own client uses a random
 * per-process password, and device credentials are checked by the hooks the
 * telemetry module installs with setHooks(). Without hooks, only Weft's own
 * client gets in.
 */
export class EmbeddedBroker {
  readonly internalUser = 'weft-internal';
  readonly internalPassword = randomToken();
  private hooks: BrokerHooks | undefined;
  private readonly internal = new WeakSet<Client>();
  private server?: Server;
  private broker?: Aedes;
  port = 0;

  /** Installs device authentication and authorisation (the telemetry module's). */
  setHooks(hooks: BrokerHooks): void {
    this.hooks = hooks;
  }

  /** Kept for callers that only authenticate; publishes and subscriptions stay refused. */
  setAuthenticator(handler: AuthenticateHandler): void {
    this.hooks = { authenticate: handler, authorizePublish: (_c, _p, cb) => cb(new Error('Not authorised')), authorizeSubscribe: (_c, _s, cb) => cb(null, null) };
  }

  async start(port: number, host = '127.0.0.1'): Promise<number> {
    this.broker = await Aedes.createBroker({
      connectTimeout: 10_000,
      drainTimeout: 30_000,
      // Device ids (UUIDs) are longer than MQTT 3.1's 23 characters.
      maxClientsIdLength: 64,
      authenticate: (client, username, password, done) => {
        if (username === this.internalUser && password && safeEqual(password.toString(), this.internalPassword)) {
          this.internal.add(client);
          return done(null, true);
        }
        if (this.hooks) return this.hooks.authenticate(client, username, password, done);
        const err = Object.assign(new Error('Not authorised'), { returnCode: 5 as const });
        return done(err, false);
      },
      authorizePublish: (client, packet, callback) => {
        // A null client is a stored will published after its client went away: wills were checked when set.
        if (!client || this.internal.has(client)) return callback(null);
        if (!this.hooks) return callback(new Error('Not authorised'));
        this.hooks.authorizePublish(client, packet, callback);
      },
      authorizeSubscribe: (client, subscription, callback) => {
        if (this.internal.has(client)) return callback(null, subscription);
        if (!this.hooks) return callback(null, null);
        this.hooks.authorizeSubscribe(client, subscription, callback);
      },
    });
    const route = this.broker.publish.bind(this.broker) as unknown as (packet: PublishPacket, client: Client | null, done?: (err?: Error) => void) => void;
    // aedes routes every accepted publish through broker.publish; consumed ones stop here.
    (this.broker as unknown as { publish: typeof route }).publish = (packet, client, done) => {
      if ((packet as PublishPacket & { [CONSUMED]?: boolean })[CONSUMED]) return void (typeof client === 'function' ? (client as () => void)() : done?.());
      route(packet, client, done);
    };
    this.server = createServer(this.broker.handle as never);
    // Telemetry is small and frequent: send acknowledgements at once (no Nagle delay).
    this.server.on('connection', (socket) => socket.setNoDelay(true));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, host, () => resolve());
    });
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    return this.port;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Stops accepting connections, lets the hooks finish (commit and acknowledge) what they hold, then disconnects everyone. */
  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.server?.listening ? this.server.close(() => resolve()) : resolve()));
    await this.hooks?.drain?.();
    await new Promise<void>((resolve) => (this.broker && !this.broker.closed ? this.broker.close(() => resolve()) : resolve()));
    await closed;
  }
}
