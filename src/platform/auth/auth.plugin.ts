import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { AuditService } from '../audit/audit.service.js';
import { platformErrors } from '../errors.js';
import { type Actor, ANONYMOUS, can } from './actor.js';
import type { AuthService } from './auth.service.js';
import { isPermission } from './roles.js';

export const SESSION_COOKIE = 'weft_session';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the permission a caller must hold, or a list meaning "any of these"; every route declares this or `public` */
    permission?: string | readonly string[];
    /** true for the few routes anyone may call (see PUBLIC_PREFIXES for third-party ones) */
    public?: boolean;
    /** pages redirect to sign-in instead of answering 401 */
    page?: 'console' | 'portal';
    /** false for routes whose callers authenticate each request themselves */
    csrf?: false;
  }
  interface FastifyInstance {
    /** every route registered, with who may call it */
    weftRoutes: RegisteredRoute[];
  }
  interface FastifyRequest {
    actor: Actor;
    /** set when the handler wrote its own audit row, so the catch-all does not add another */
    audited: boolean;
  }
}

/**
 * Routes registered by third-party plugins that cannot carry our route config.
 * Everything here is public by design: static assets and the API description.
 */
export const PUBLIC_PREFIXES = ['/assets/', '/api/docs'];

export function isPublicRoute(url: string, config: { public?: boolean } | undefined): boolean {
  return config?.public === true || PUBLIC_PREFIXES.some((p) => url === p.replace(/\/$/, '') || url.startsWith(p));
}

export interface RegisteredRoute {
  method: string;
  url: string;
  /** one permission, or a list of which the caller needs any one */
  permission?: string | readonly string[];
  public: boolean;
  page?: 'console' | 'portal';
}

/** Refuses to register a route that has not said who may call it, and lists every route for the tests. */
export function requirePermissionOnEveryRoute(app: FastifyInstance): void {
  const routes: RegisteredRoute[] = [];
  app.decorate('weftRoutes', routes);
  app.addHook('onRoute', (route: RouteOptions) => {
    const config = route.config as { permission?: string | readonly string[]; public?: boolean; page?: 'console' | 'portal' } | undefined;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, permission: config?.permission, public: isPublicRoute(route.url, config), page: config?.page });
    if (isPublicRoute(route.url, config)) return;
    const names = permissionNames(config?.permission);
    if (!names.length) throw new Error(`Route ${route.method} ${route.url} must declare config.permission or config.public`);
    for (const name of names) if (!isPermission(name)) throw new Error(`Route ${route.method} ${route.url} names unknown permission ${name}`);
  });
}

/** A route's permission as a list: the caller needs any one of them. */
export function permissionNames(permission: string | readonly string[] | undefined): string[] {
  return permission === undefined ? [] : [permission].flat().filter((p) => typeof p === 'string' && p !== '');
}

/** "a", "a or b", "a, b or c" */
function anyOf(names: string[]): string {
  return names.length < 2 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/**
 * Resolves a bearer token of another kind than an API key to an actor, keyed by the
 * token's prefix (devices: `wdev_`, LoRaWAN integrations: `wint_`). Modules supply
 * these through the composition root; undefined means the token is not valid.
 */
export type BearerResolvers = Record<string, (token: string) => Promise<Actor | undefined>>;

/**
 * Address spaces that authenticate the way their own standard does (GOV.UK Notify's JWTs under
 * /v2/), keyed by URL prefix: the authenticator identifies every caller of a route there, or
 * throws the standard's own error. Permissions are then checked as everywhere else.
 */
export type PathAuthenticators = Record<string, (request: FastifyRequest) => Promise<Actor>>;

export interface AuthHookOptions {
  auth: AuthService;
  audit: AuditService;
  bearer?: BearerResolvers;
  paths?: PathAuthenticators;
}

/** Identifies the caller on every request, then enforces the route's permission. */
export function installAuthHooks(app: FastifyInstance, options: AuthHookOptions): void {
  app.decorateRequest('actor', null as unknown as Actor);
  app.decorateRequest('audited', false);

  app.addHook('onRequest', async (request, reply) => {
    request.actor = ANONYMOUS;
    request.audited = false;
    const config = request.routeOptions.config ?? {};
    const route = request.routeOptions.url;
    const own = route && Object.entries(options.paths ?? {}).find(([prefix]) => route.startsWith(prefix))?.[1];
    if (own) request.actor = await own(request);
    const credentials = own ? 'ok' : await identify(request, reply, options);
    // Unknown URLs fall through to the 404 handler, which is public.
    if (!route || isPublicRoute(route, config)) return;
    if (credentials === 'invalid' && !config.page) throw platformErrors.AUTH_INVALID();
    if (request.actor.type === 'anonymous') {
      if (config.page) return redirectToSignIn(request, reply, config.page);
      throw platformErrors.AUTH_REQUIRED();
    }
    const names = permissionNames(config.permission);
    if (!names.some((name) => can(request.actor, name))) {
      const permission = anyOf(names);
      await options.audit.record({
        actor: request.actor,
        action: 'auth.forbidden',
        outcome: 'denied',
        summary: `Refused ${request.method} ${request.url.split('?')[0]}: needs ${permission}`,
        ip: request.ip,
        requestId: request.id,
      });
      throw platformErrors.FORBIDDEN(`You need the ${permission} permission to do this.`);
    }
  });
}

async function identify(request: FastifyRequest, reply: FastifyReply, options: AuthHookOptions): Promise<'none' | 'ok' | 'invalid'> {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) {
    const token = header.slice('Bearer '.length).trim();
    const resolve = token.startsWith('weft_') ? (t: string) => options.auth.actorForKey(t) : bearerResolver(options.bearer, token);
    if (resolve) {
      const actor = await resolve(token);
      if (!actor) return 'invalid';
      request.actor = actor;
      return 'ok';
    }
  }
  const token = request.cookies[SESSION_COOKIE];
  if (!token) return 'none';
  const actor = await options.auth.actorForSession(token);
  if (!actor) {
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return 'invalid';
  }
  request.actor = actor;
  return 'ok';
}

function bearerResolver(resolvers: BearerResolvers | undefined, token: string) {
  const prefix = Object.keys(resolvers ?? {}).find((p) => token.startsWith(p));
  return prefix ? resolvers?.[prefix] : undefined;
}

function redirectToSignIn(request: FastifyRequest, reply: FastifyReply, page: 'console' | 'portal') {
  const target = page === 'console' ? '/console/sign-in' : '/sign-in';
  const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
  return reply.redirect(`${target}${next}`, 303);
}

export function setSessionCookie(reply: FastifyReply, token: string, secure: boolean, hours: number): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: hours * 3600 });
}

/** Only same-site paths may be a post-sign-in destination (no open redirects). */
export function safeNext(next: unknown, fallback: string): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : fallback;
}
