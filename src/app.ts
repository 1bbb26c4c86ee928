import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import sjson from 'secure-json-parse';
import { contextRoutes } from './modules/context/index.js';
import { devPayRoutes } from './modules/devpay/index.js';
import { estateRoutes } from './modules/estate/index.js';
import { lorawanRoutes } from './modules/lorawan/index.js';
import { bearerToken, campaignRoutes, inboundCallbackRoutes, messagingPages, messagingRoutes, notifyRoutes, paymentsRoutes, printRoutes, receiptsRoutes } from './modules/messaging/index.js';
import { portalAuthenticators, portalPages } from './modules/portal/index.js';
import { requestsRoutes } from './modules/requests/index.js';
import { escalationApi, loneWorkerApi, loneWorkerPages, rulesApi } from './modules/rules/index.js';
import { residentsPages, residentsRoutes } from './modules/residents/index.js';
import { schoolsPages, schoolsRoutes } from './modules/schools/index.js';
import { librariesRoutes } from './modules/libraries/index.js';
import { parkingPages, parkingRoutes } from './modules/parking/index.js';
import { wasteRoutes } from './modules/waste/index.js';
import { staffRoutes } from './modules/staff/index.js';
import { telemetryRoutes } from './modules/telemetry/index.js';
import { workforcePages, workforceRoutes } from './modules/workforce/index.js';
import { insightRoutes } from './modules/insight/index.js';
import { auditRoutes } from './platform/audit/audit.routes.js';
import { type BearerResolvers, installAuthHooks, requirePermissionOnEveryRoute } from './platform/auth/auth.plugin.js';
import { authRoutes } from './platform/auth/auth.routes.js';
import { installErrorHandler } from './platform/error-handler.js';
import { platformErrors } from './platform/errors.js';
import { newId } from './platform/ids.js';
import { opsRoutes } from './platform/ops/ops.routes.js';
import { parseMultipart } from './platform/web/forms.js';
import { consoleNav, installWeb } from './platform/web/web.js';
import type { Services } from './services.js';

consoleNav.unshift({ href: '/console', text: 'Home', permission: 'console:access' });
consoleNav.push({ href: '/console/audit', text: 'Audit log', permission: 'audit:read' });

export interface AppOptions {
  /** the process's pino logger; without it the app makes its own, or logs nothing when `quiet` */
  loggerInstance?: FastifyBaseLogger;
  quiet?: boolean;
}

/** Builds the HTTP application with every plugin and route registered. It never listens. */
export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: options.quiet ? false : { level: config.logLevel } }),
    bodyLimit: config.bodyLimit,
    genReqId: () => newId(),
    requestIdHeader: false,
    trustProxy: false,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  installBodyParsers(app);
  installValidators(app);
  installErrorHandler(app);
  requirePermissionOnEveryRoute(app);

  await app.register(cookie, { secret: config.secret });
  await app.register(formbody, { bodyLimit: config.bodyLimit });
  installAuthHooks(app, {
    auth: services.auth,
    audit: services.audit,
    bearer: bearerResolvers(services),
    // GOV.UK Notify's clients sign a JWT per request with a messaging service's key.
    // Residents' portal pages know only the resident's own session.
    paths: { '/v2/': (request) => services.messaging.actorForToken(bearerToken(request.headers.authorization)), ...portalAuthenticators(services.portal) },
  });
  await installWeb(app, { config, organisationName: () => services.organisation.name() });
  await app.register(rateLimit, {
    global: true,
    max: config.keyRateLimit,
    timeWindow: '1 minute',
    hook: 'preHandler',
    keyGenerator: (request) => (request.actor && request.actor.type !== 'anonymous' ? `${request.actor.type}:${request.actor.id}` : `ip:${request.ip}`),
    // /v2/ counts Notify's own limits per service and key type (modules/messaging/notify.service.ts).
    allowList: (request) => request.url.startsWith('/assets/') || request.url.startsWith('/v2/') || request.url === '/healthz' || request.url === '/readyz',
    errorResponseBuilder: (_request, context) => {
      const err = platformErrors.RATE_LIMITED(`Too many requests: the limit is ${context.max} a minute. Try again in ${Math.ceil(context.ttl / 1000)} seconds.`);
      Object.assign(err.headers, { 'retry-after': String(Math.ceil(context.ttl / 1000)) });
      return err;
    },
  });
  await installOpenApi(app, services);
  installAuditCatchAll(app, services);

  await app.register(fp(opsRoutes({ db: services.db, queueDepth: () => services.jobs.depth() })));
  await app.register(authRoutes({ auth: services.auth, secureCookies: config.secureCookies, sessionHours: config.sessionHours }));
  await app.register(auditRoutes({ audit: services.audit }));
  await app.register(staffRoutes({ staff: services.staff }));
  const { estate, telemetry } = services;
  await app.register(estateRoutes({ estate, config }));
  await app.register(telemetryRoutes({ telemetry, estate, config }));
  await app.register(lorawanRoutes({ lorawan: services.lorawan, estate, publicUrl: config.publicUrl }));
  await app.register(contextRoutes({ context: services.context, publicUrl: config.publicUrl }));
  await app.register(notifyRoutes({ messaging: services.messaging, sending: services.notify, residentSending: services.residentSending, publicUrl: config.publicUrl }));
  await app.register(residentsRoutes({ residents: services.residents }));
  await app.register(schoolsRoutes({ schools: services.schools }));
  await app.register(librariesRoutes({ libraries: services.libraries }));
  await app.register(wasteRoutes({ waste: services.waste }));
  await app.register(schoolsPages({ schools: services.schools, estate: services.estate }));
  await app.register(residentsPages({ residents: services.residents, messaging: services.messaging }));
  await app.register(
    messagingPages({
      messaging: services.messaging,
      delivery: services.delivery,
      campaigns: services.campaigns,
      print: services.print,
      residents: services.residents,
      estate: services.estate,
      config,
    }),
  );
  await app.register(receiptsRoutes({ receipts: services.receipts }));
  await app.register(messagingRoutes({ messaging: services.messaging, delivery: services.delivery }));
  await app.register(campaignRoutes({ campaigns: services.campaigns, importBodyLimit: config.importBodyLimit }));
  await app.register(printRoutes({ print: services.print }));
  await app.register(inboundCallbackRoutes({ messaging: services.messaging }));
  await app.register(paymentsRoutes({ payments: services.payments, messaging: services.messaging, sending: services.notify, publicUrl: config.publicUrl }));
  await app.register(parkingRoutes({ parking: services.parking, bodyLimit: config.importBodyLimit }));
  await app.register(parkingPages({ parking: services.parking, bodyLimit: config.importBodyLimit }));
  await app.register(workforceRoutes({ workforce: services.workforce }));
  await app.register(workforcePages({ workforce: services.workforce, publicUrl: config.publicUrl }));
  await app.register(insightRoutes({ insight: services.insight }));
  // The development GOV.UK Pay: its routes exist only when WEFT_DEV_PAY is on.
  if (services.devPay) await app.register(devPayRoutes({ devPay: services.devPay }));
  await app.register(
    portalPages({
      portal: services.portal,
      residents: services.residents,
      requests: services.requests,
      postcodes: services.estate,
      secureCookies: config.secureCookies,
      map: { tileUrl: config.mapTileUrl, attribution: config.mapAttribution },
    }),
  );
  await app.register(
    rulesApi({
      rules: services.rules,
      events: services.events,
      estate: services.estate,
      staff: services.staff,
      teams: () => services.requests.listTeams(),
      map: { tileUrl: config.mapTileUrl, attribution: config.mapAttribution },
    }),
  );
  await app.register(escalationApi({ escalation: services.escalation, actions: services.alarmActions }));
  await app.register(loneWorkerApi(services.loneWorker));
  await app.register(loneWorkerPages(services.loneWorker));
  await app.register(requestsRoutes({ requests: services.requests, auth: services.auth, audit: services.audit, config, organisationName: () => services.organisation.name() }));
  await app.register(shellRoutes);

  return app;
}

/** Bearer tokens other than API keys, by prefix: each module that issues one resolves it. */
function bearerResolvers(services: Services): BearerResolvers {
  return {
    wdev_: (t) => services.estate.actorForDeviceToken(t),
    wint_: (t) => services.lorawan.actorForToken(t),
  };
}

/**
 * JSON bodies are parsed with prototype-poisoning protection; an empty body with a JSON
 * content type is no body (clients often send the header on bodiless POSTs). Other
 * content types than JSON and forms are refused with 415.
 */
function installBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/geo+json', 'application/ld+json'], { parseAs: 'string' }, (_request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
    try {
      done(null, sjson.parse(body as string, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(platformErrors.MALFORMED_JSON(), undefined);
    }
  });
  // CSV bodies (estate imports) arrive as text; routes that take them raise their own bodyLimit.
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  // File uploads from pages (estate imports): fields as strings, files as { filename, content }.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (request, body, done) => {
    parseMultipart(body as Buffer, String(request.headers['content-type'])).then(
      (fields) => done(null, fields),
      () => done(platformErrors.VALIDATION_FAILED('The form upload could not be read. Choose the file again and resubmit.'), undefined),
    );
  });
}

/** Bodies are checked strictly (no type coercion, unknown fields refused); query strings and params are coerced from text. */
function installValidators(app: FastifyInstance): void {
  const common = { allErrors: true, useDefaults: true, removeAdditional: false, strict: false } as const;
  const bodyAjv = addFormats.default(new Ajv.default({ ...common, coerceTypes: false }));
  const textAjv = addFormats.default(new Ajv.default({ ...common, coerceTypes: 'array' }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
}

async function installOpenApi(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Weft API', version: '1', description: 'The platform API of Weft. Errors are RFC 9457 problem details with a stable `code`; see docs/errors.md.' },
      servers: [{ url: services.config.publicUrl }],
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key: weft_<type>_<prefix>_<secret>' } } },
      security: [{ apiKey: [] }],
    },
  });
  app.get('/api/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  // Swagger UI styles its widgets inline; only this third-party page is allowed inline styles.
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    staticCSP: true,
    transformStaticCSP: (header) => header.replace(/style-src [^;]*/, "style-src 'self' 'unsafe-inline'"),
    uiConfig: { url: '/api/openapi.json' } as never,
  });
}

/**
 * The safety net behind "every write is audited": a successful write by a person or
 * a key that its handler did not record itself still leaves a row.
 */
function installAuditCatchAll(app: FastifyInstance, services: Services): void {
  app.addHook('onResponse', async (request, reply) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(request.method) || request.audited || reply.statusCode >= 400) return;
    const actor = request.actor;
    if (!actor || (actor.type !== 'user' && actor.type !== 'key')) return;
    try {
      await services.audit.record({ actor, action: 'http.write', summary: `${request.method} ${request.routeOptions.url ?? request.url}`, ip: request.ip, requestId: request.id });
    } catch (err) {
      request.log.error({ err }, 'audit catch-all failed');
    }
  });
}

async function shellRoutes(app: FastifyInstance): Promise<void> {
  app.get('/console', { config: { permission: 'console:access', page: 'console' }, schema: { hide: true } }, async (request, reply) => {
    const sections = consoleNav.filter((n) => n.href !== '/console' && request.actor.permissions.has(n.permission));
    return reply.page('platform/web/views/console-home.njk', { pageTitle: 'Home', sections });
  });
}
