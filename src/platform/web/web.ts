import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import nunjucks from 'nunjucks';
import type { Config } from '../../config.js';
import { type Actor, can } from '../auth/actor.js';
import { platformErrors } from '../errors.js';
import { safeEqual, randomToken } from '../auth/secrets.js';
import { addTranslations } from './i18n.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const GOVUK = join(dirname(createRequire(import.meta.url).resolve('govuk-frontend/package.json')), 'dist');

export const CSRF_COOKIE = 'weft_csrf';
export const CSRF_FIELD = '_csrf';

export interface NavItem {
  href: string;
  text: string;
  /** shown only to staff who hold it */
  permission: string;
}

/** The console's navigation. Each module adds its entries from its index.ts. */
export const consoleNav: NavItem[] = [];

const londonTime = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'medium', timeStyle: 'short' });
const londonDate = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'long' });

/** Templates are named from src/: "platform/web/views/layout.njk", "modules/staff/views/users.njk". */
export function createViewEngine(): nunjucks.Environment {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader([SRC, GOVUK], { noCache: false }), { autoescape: true, throwOnUndefined: false });
  env.addFilter('londonTime', (d: Date | null | undefined) => (d ? londonTime.format(new Date(d)) : ''));
  env.addFilter('londonDate', (d: Date | null | undefined) => (d ? londonDate.format(new Date(d)) : ''));
  addTranslations(env);
  return env;
}

export interface PageContext {
  pageTitle: string;
  errors?: { text: string; href: string }[];
  [key: string]: unknown;
}

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a console or portal page with the shared layout context. */
    page(template: string, context: PageContext, status?: number): FastifyReply;
  }
  interface FastifyRequest {
    csrfToken(): string;
    flash?: string;
  }
}

export interface WebOptions {
  config: Pick<Config, 'secret' | 'secureCookies'> & Partial<Pick<Config, 'mapTileUrl'>>;
  organisationName: () => string;
}

/**
 * Serves a module's static files (its own scripts and styles, or a library's from
 * node_modules) under /assets/<name>/: only the files named, so nothing else in those
 * folders is reachable.
 */
export async function serveAssets(app: FastifyInstance, options: { prefix: string; root: string | string[]; files: string[]; maxAge?: string }): Promise<void> {
  const files = new Set(options.files.map((f) => `/${f}`));
  await app.register(fastifyStatic, { root: options.root, prefix: options.prefix, decorateReply: false, allowedPath: (p) => files.has(p), maxAge: options.maxAge ?? '1h' });
}

/**
 * Helmet's security headers, worked out once: they are the same for every response (no
 * per-request nonces), and building Helmet afresh for each request cost about a tenth of an
 * API request's time.
 */
function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = { setHeader: (name: string, value: unknown) => (headers[name] = String(value)), removeHeader() {} };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => {});
  return headers;
}

/** Installs the page machinery on the root instance: security headers, assets, views, CSRF. */
export async function installWeb(app: FastifyInstance, options: WebOptions): Promise<void> {
  const views = createViewEngine();

  const headers = securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', ...tileSources(options.config.mapTileUrl)],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    crossOriginEmbedderPolicy: false,
    hsts: options.config.secureCookies,
  });
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });

  // GOV.UK Frontend's fonts, images and compiled CSS and JS, served from the npm package; nothing else in it.
  await app.register(fastifyStatic, {
    root: [join(GOVUK, 'govuk', 'assets'), join(GOVUK, 'govuk')],
    prefix: '/assets/',
    decorateReply: false,
    allowedPath: (p) => /^\/(fonts|images)\/[\w.-]+$|^\/manifest\.json$|^\/govuk-frontend\.min\.(css|js)(\.map)?$/.test(p),
    maxAge: '1d',
  });
  await app.register(fastifyStatic, { root: join(SRC, 'platform', 'web', 'public'), prefix: '/assets/weft/', decorateReply: false, maxAge: '1h' });

  const csrfFor = (request: FastifyRequest): string => {
    const anchor = request.cookies[CSRF_COOKIE] ?? '';
    return createHmac('sha256', options.config.secret)
      .update(`${anchor}|${request.actor?.sessionHash ?? ''}`)
      .digest('base64url');
  };

  app.decorateRequest('csrfToken', function csrfToken(this: FastifyRequest) {
    return csrfFor(this);
  });

  // Every visitor gets a random CSRF anchor cookie; forms carry an HMAC of it (and of the session).
  // Requests with their own credentials (API keys, Notify JWTs) need none: no cookie for them.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.cookies[CSRF_COOKIE] && !request.headers.authorization) {
      const anchor = randomToken(18);
      request.cookies[CSRF_COOKIE] = anchor;
      reply.setCookie(CSRF_COOKIE, anchor, { path: '/', httpOnly: true, sameSite: 'lax', secure: options.config.secureCookies });
    }
  });

  app.addHook('preValidation', async (request) => {
    if (!needsCsrfCheck(request)) return;
    const body = request.body as Record<string, unknown> | undefined;
    const sent = (request.headers['x-csrf-token'] as string | undefined) ?? (typeof body?.[CSRF_FIELD] === 'string' ? (body[CSRF_FIELD] as string) : '');
    if (!sent || !safeEqual(sent, csrfFor(request))) throw platformErrors.CSRF_INVALID();
    if (body && typeof body === 'object') delete body[CSRF_FIELD];
  });

  app.decorateReply('page', function page(this: FastifyReply, template: string, context: PageContext, status = 200) {
    const request = this.request;
    const actor = request.actor;
    const isConsole = request.url.startsWith('/console');
    const csrfToken = request.csrfToken();
    const html = views.render(template, {
      serviceName: isConsole ? 'Weft console' : 'Council services',
      organisationName: options.organisationName(),
      homeUrl: isConsole ? '/console' : '/',
      navigation: isConsole && actor?.type === 'user' ? consoleNavFor(actor, request.url) : undefined,
      navEnd: isConsole && actor?.type === 'user' ? signOutSlot(csrfToken) : undefined,
      footerLinks: [
        { href: '/api/docs', text: 'API documentation' },
        { href: isConsole ? '/' : '/console', text: isConsole ? 'Residents’ portal' : 'Staff sign in' },
      ],
      csrfField: CSRF_FIELD,
      csrfToken,
      actor,
      currentPath: request.url,
      ...context,
    });
    return this.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
  });
}

/** The CSP source for a map tile URL such as https://{s}.tile.example.org/{z}/{x}/{y}.png. */
function tileSources(url: string | undefined): string[] {
  const m = url ? /^(https?:\/\/[^/]+)/.exec(url) : null;
  return m ? [m[1].replace(/\{[a-z]\}/g, '*')] : [];
}

function needsCsrfCheck(request: FastifyRequest): boolean {
  if (['GET', 'HEAD', 'OPTIONS'].includes(request.method)) return false;
  if (request.routeOptions.config?.csrf === false) return false;
  // Requests carrying their own credentials (API keys, Notify JWTs) are not sent by a browser on its own.
  if (request.headers.authorization) return false;
  return true;
}

function consoleNavFor(actor: Actor, url: string) {
  const path = url.split('?')[0];
  return consoleNav
    .filter((item) => can(actor, item.permission))
    .map((item) => ({ href: item.href, text: item.text, current: path === item.href, active: item.href !== '/console' && path.startsWith(item.href) }));
}

function signOutSlot(token: string): string {
  return `<form method="post" action="/console/sign-out" class="govuk-!-margin-top-2 govuk-!-margin-bottom-2"><input type="hidden" name="${CSRF_FIELD}" value="${token}"><button type="submit" class="govuk-button govuk-button--secondary govuk-!-margin-bottom-0">Sign out</button></form>`;
}

/** The GOV.UK error summary list from field errors: each links to its field by id. */
export function errorList(fields: { field: string; message: string }[]) {
  return fields.map((f) => ({ text: f.message, href: `#${f.field}` }));
}

export function errorFor(fields: { field: string; message: string }[], name: string): { text: string } | undefined {
  const f = fields.find((x) => x.field === name);
  return f ? { text: f.message } : undefined;
}
