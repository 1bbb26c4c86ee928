import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Actor } from '../../platform/auth/actor.js';
import { messagingErrors, NOTIFY_MESSAGES } from './messaging.errors.js';
import { canonicalUuid } from './notify.validation.js';

/**
 * GOV.UK Notify's API authentication, checked the way Notify checks it: the bearer token is a
 * JWT signed with HS256 by the secret half of one of the service's API keys, whose `iss` is the
 * service id and whose `iat` is within 30 seconds of the server's clock. Messages are Notify's.
 */
export const CLOCK_SKEW_SECONDS = 30;

export interface KeyForAuth {
  id: string;
  name: string;
  keyType: KeyType;
  secret: string;
  revoked: boolean;
}

export type KeyType = 'normal' | 'team' | 'test';

export interface ServiceForAuth {
  id: string;
  name: string;
  keys: KeyForAuth[];
}

// Python's uuid.UUID() takes a UUID with or without hyphens, so Notify does.
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

const fail = (message: string) => messagingErrors.NOTIFY_AUTH_INVALID(message);

interface Jwt {
  header: { alg?: unknown; typ?: unknown };
  claims: { iss?: unknown; iat?: unknown };
  signed: string;
  signature: Buffer;
}

function decode(token: string): Jwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object') return undefined;
    return { header, claims, signed: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return undefined;
  }
}

function signedBy(jwt: Jwt, secret: string): boolean {
  const expected = createHmac('sha256', secret).update(jwt.signed).digest();
  return expected.length === jwt.signature.length && timingSafeEqual(expected, jwt.signature);
}

export const GENERAL_TOKEN_ERROR = 'Invalid token: make sure your API token matches the example at https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header';

/**
 * The Authorization header's token, or Notify's 401: the header must be there and use the
 * bearer scheme (in any case, as Notify compares it).
 */
export function bearerToken(header: string | undefined): string {
  if (!header) throw messagingErrors.NOTIFY_AUTH_REQUIRED(NOTIFY_MESSAGES.noToken);
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') throw messagingErrors.NOTIFY_AUTH_REQUIRED('Unauthorized: authentication bearer scheme must be used');
  return header.slice(7);
}

/** The service a token claims to come from (its unverified `iss`), or a Notify AuthError. */
export function tokenIssuer(token: string): string {
  const jwt = decode(token);
  if (!jwt) throw fail(GENERAL_TOKEN_ERROR);
  if (jwt.claims.iss === undefined) throw fail('Invalid token: iss field not provided');
  if (typeof jwt.claims.iss !== 'string' || !UUID.test(jwt.claims.iss)) throw fail('Invalid token: service id is not the right data type');
  return canonicalUuid(jwt.claims.iss);
}

/**
 * Finds the key that signed the token and checks its claims, in Notify's order; throws
 * Notify's AuthError otherwise. `service` is undefined when no service has the token's `iss`.
 */
export function verifyToken(token: string, service: ServiceForAuth | undefined, nowMs = Date.now()): KeyForAuth {
  if (!service) throw fail('Invalid token: service not found');
  if (!service.keys.length) throw fail('Invalid token: service has no API keys');
  const jwt = decode(token) as Jwt;
  // PyJWT refuses another algorithm before it looks at the signature.
  if (jwt.header.alg !== 'HS256') throw fail('Invalid token: algorithm used is not HS256');
  const now = Math.floor(nowMs / 1000);
  for (const key of service.keys) {
    if (!signedBy(jwt, key.secret)) continue;
    const { iat, exp } = jwt.claims as { iat?: unknown; exp?: unknown };
    // A token without iat is, to Notify, not this key's: it goes on to the next.
    if (iat === undefined) continue;
    if (!Number.isInteger(iat) || Math.abs(now - (iat as number)) > CLOCK_SKEW_SECONDS) throw fail('Error: Your system clock must be accurate to within 30 seconds');
    if (exp !== undefined && (typeof exp !== 'number' || exp + CLOCK_SKEW_SECONDS < now)) throw fail(GENERAL_TOKEN_ERROR);
    if (key.revoked) throw fail('Invalid token: API key revoked');
    return key;
  }
  throw fail('Invalid token: API key not found');
}

/** The actor a verified key acts as on /v2/. */
export function serviceActor(service: ServiceForAuth, key: KeyForAuth): Actor {
  return {
    type: 'service',
    id: key.id,
    label: `${service.name} / ${key.name}`,
    permissions: new Set(['notify:api']),
    roles: [],
    keyType: key.keyType,
    serviceId: service.id,
  };
}

/** Splits a whole Notify API key, `{name}-{service id}-{secret}`, as Notify's clients do. */
export function splitApiKey(key: string): { serviceId: string; secret: string } {
  return { serviceId: key.slice(-73, -37), secret: key.slice(-36) };
}

/** Signs a token as Notify's clients do, for Weft's own relay to Notify and for tests. */
export function signToken(serviceId: string, secret: string, iat = Math.round(Date.now() / 1000)): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const signed = `${part({ typ: 'JWT', alg: 'HS256' })}.${part({ iss: serviceId, iat })}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}
