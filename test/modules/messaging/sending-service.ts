import type { AddressInfo } from 'node:net';
import { signToken, splitApiKey } from '../../../src/modules/messaging/notify.auth.js';
import type { ServiceCreate } from '../../../src/modules/messaging/messaging.schema.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import type { Dialect } from '../../../src/platform/db/dialect.js';
import { type TestApp, testApp } from '../../app-helpers.js';

/**
 * What a council system posting to /v2/ sees: a listening Weft, one messaging service, a key of
 * the given type, and a fresh Notify-style token for each request.
 */
export async function sendingService(dialect: Dialect, service: ServiceCreate, keyType: 'normal' | 'team' | 'test' = 'normal') {
  const t: TestApp = await testApp(dialect);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  const admin = systemActor('test');
  const serviceId = (await t.services.messaging.createService(admin, service)).id;
  const { apiKey } = await t.services.messaging.createKey(admin, serviceId, { name: keyType, keyType });
  const { secret } = splitApiKey(apiKey);
  return { t, base, serviceId, apiKey, token: () => signToken(serviceId, secret) };
}
