import { createServer, type Server } from 'node:net';
import { Aedes, type AuthenticateHandler } from 'aedes';
import { randomToken, safeEqual } from '../auth/secrets.js';

/**
 * The embedded MQTT broker for a single-process Weft (pilot, laptop, demo). At
 * scale Weft connects to an external broker instead (WEFT_MQTT_URL).
 *
 * Nobody connects without credentials: Weft's own client uses a random
 * per-process password, and device credentials are checked by the authenticator
 * the telemetry module installs with setAuthenticator().
 */
export class EmbeddedBroker {
  readonly internalUser = 'weft-internal';
  readonly internalPassword = randomToken();
  private deviceAuth: AuthenticateHandler | undefined;
  private server?: Server;
  private broker?: Aedes;
  port = 0;

  setAuthenticator(handler: AuthenticateHandler): void {
    this.deviceAuth = handler;
  }

  async start(port: number, host = '127.0.0.1'): Promise<number> {
    this.broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        if (username === this.internalUser && password && safeEqual(password.toString(), this.internalPassword)) return done(null, true);
        if (this.deviceAuth) return this.deviceAuth(client, username, password, done);
        const err = Object.assign(new Error('Not authorised'), { returnCode: 5 as const });
        return done(err, false);
      },
    });
    this.server = createServer(this.broker.handle as never);
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

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.broker ? this.broker.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
