import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import { originOf as origin } from '../../platform/audit/origin.js';
import { type Actor, can } from '../../platform/auth/actor.js';
import type { AuthService } from '../../platform/auth/auth.service.js';
import { ProblemResponses } from '../../platform/web/openapi.js';
import { serveAssets } from '../../platform/web/web.js';
import { OPEN311_PREFIX, open311Routes } from './open311.routes.js';
import { requestsPages } from './requests.pages.js';
import {
  CategoryCreate,
  CategoryUpdate,
  CLOSED_STATUSES,
  CodeParams,
  IdParams,
  ListQuery,
  MergeBody,
  OPEN_STATUSES,
  PHOTO_PATH,
  RequestCreate,
  type RequestFilter,
  type RequestView,
  TeamCreate,
  UpdateCreate,
  type UpdateView,
} from './requests.schema.js';
import type { RequestsService } from './requests.service.js';

export interface RequestsRouteDeps {
  requests: RequestsService;
  auth: AuthService;
  audit: AuditService;
  config: Pick<Config, 'publicUrl' | 'mapTileUrl' | 'mapAttribution'>;
  organisationName: () => string;
}

const TAGS = ['requests'];
const read = { permission: 'requests:read' };
const manage = { permission: 'requests:manage' };
const configure = { permission: 'requests:configure' };
const NotFound = { 404: ProblemResponses[400] };
const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), 'public');

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A request for the staff API: times as ISO 8601 UTC. */
export function requestToApi(r: RequestView) {
  return { ...r, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt), dueAt: iso(r.dueAt), closedAt: iso(r.closedAt), acknowledgedAt: iso(r.acknowledgedAt) };
}
const updateToApi = (u: UpdateView) => ({ ...u, createdAt: iso(u.createdAt) });

/** Without requests:manage, reporters are not shown (viewers see no personal data). */
export function redacted(r: RequestView, actor: Actor): RequestView {
  return can(actor, 'requests:manage') ? r : { ...r, reporter: { residentId: null, name: null, email: null, phone: null } };
}

/** Query parameters (API or the console's filter form) → the service's filter. */
export function filterOf(q: ListQuery): RequestFilter {
  const statuses = q.status === 'open_all' ? OPEN_STATUSES : q.status === 'closed_all' ? CLOSED_STATUSES : q.status ? [q.status] : undefined;
  return { teamId: q.team, category: q.category, statuses, areaId: q.area, overdue: q.overdue, q: q.q?.trim() || undefined, limit: q.limit ?? 100, after: q.after?.toLowerCase() };
}

export function requestsRoutes(deps: RequestsRouteDeps) {
  return async (app: FastifyInstance) => {
    await serveAssets(app, { prefix: '/assets/requests/', root: PUBLIC, files: ['requests-map.mjs', 'report-map.mjs', 'requests.css'] });
    await app.register(photoRoutes(deps));
    await app.register(staffApi(deps));
    await app.register(catalogueApi(deps));
    await app.register(open311Routes({ ...deps, publicUrl: deps.config.publicUrl }), { prefix: OPEN311_PREFIX });
    await app.register(requestsPages(deps));
  };
}

/**
 * Photos sent with reports, for anyone with the address: a request's media_url (which Open311
 * shows) points here. The type was checked from the bytes when it was sent.
 */
function photoRoutes({ requests }: RequestsRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get(`${PHOTO_PATH}:name`, { config: { public: true }, schema: { hide: true, params: Type.Object({ name: Type.String({ maxLength: 60 }) }) } }, async (request, reply) => {
      const photo = await requests.photo((request.params as { name: string }).name);
      return reply.type(photo.contentType).header('cache-control', 'public, max-age=86400').header('content-disposition', 'inline').send(photo.bytes);
    });
  };
}

function staffApi({ requests }: RequestsRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get(
      '/api/v1/requests',
      {
        config: read,
        schema: { tags: TAGS, summary: 'List service requests, newest first (filters: team, category, status, area, overdue, q)', querystring: ListQuery, response: { ...ProblemResponses } },
      },
      async (request) => {
        const filter = filterOf(request.query as ListQuery);
        const items = await requests.list(filter);
        return { items: items.map((r) => requestToApi(redacted(r, request.actor))), next: items.length === filter.limit ? items[items.length - 1].id : null };
      },
    );

    app.get(
      '/api/v1/requests.geojson',
      { config: read, schema: { tags: TAGS, summary: 'Service requests with a position, as GeoJSON points (the console’s map)', querystring: ListQuery } },
      async (request, reply) => {
        const filter = { ...filterOf(request.query as ListQuery), limit: Math.min((request.query as ListQuery).limit ?? 500, 500) };
        const items = await requests.list(filter);
        return reply.type('application/geo+json').send({
          type: 'FeatureCollection',
          features: items
            .filter((r) => r.lat !== null && r.lon !== null)
            .map((r) => ({
              type: 'Feature',
              id: r.id,
              geometry: { type: 'Point', coordinates: [r.lon, r.lat] },
              properties: { id: r.id, reference: r.reference, category: r.categoryName, status: r.status, overdue: r.overdue },
            })),
        });
      },
    );

    app.post(
      '/api/v1/requests',
      { config: manage, schema: { tags: TAGS, summary: 'Record a request on someone’s behalf (a phone call, a visit)', body: RequestCreate, response: { ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        const row = await requests.submit(request.actor, request.body as RequestCreate, { source: 'staff', origin: origin(request) });
        return reply.status(201).send(requestToApi((await requests.detail(row.id)).request));
      },
    );

    app.get(
      '/api/v1/requests/:id',
      { config: read, schema: { tags: TAGS, summary: 'One request (by id or reference) with its history', params: IdParams, response: { ...NotFound, ...ProblemResponses } } },
      async (request) => {
        const { request: r, updates } = await requests.detail((request.params as { id: string }).id);
        return { ...requestToApi(redacted(r, request.actor)), updates: updates.map(updateToApi) };
      },
    );

    app.post(
      '/api/v1/requests/:id/updates',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'Change the status, add a public update (the reporter is told) or an internal note',
          params: IdParams,
          body: UpdateCreate,
          response: { ...NotFound, ...ProblemResponses },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const update = await requests.addUpdate(request.actor, (request.params as { id: string }).id, request.body as UpdateCreate, origin(request));
        return reply.status(201).send(updateToApi(update));
      },
    );

    app.post(
      '/api/v1/requests/:id/merge',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'Close a request as a duplicate of another, telling its reporter where to follow it',
          params: IdParams,
          body: MergeBody,
          response: { ...NotFound, ...ProblemResponses },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const body = request.body as MergeBody;
        const update = await requests.merge(request.actor, (request.params as { id: string }).id, body.into, body.message, origin(request));
        return reply.status(201).send(updateToApi(update));
      },
    );
  };
}

function catalogueApi({ requests }: RequestsRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get('/api/v1/request-categories', { config: read, schema: { tags: TAGS, summary: 'Categories (Open311 services) with their questions and routing' } }, async () => ({
      items: await requests.listCategories(),
    }));

    app.post(
      '/api/v1/request-categories',
      { config: configure, schema: { tags: TAGS, summary: 'Add a category', body: CategoryCreate, response: { ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await requests.createCategory(request.actor, request.body as CategoryCreate, origin(request)));
      },
    );

    app.patch(
      '/api/v1/request-categories/:code',
      {
        config: configure,
        schema: { tags: TAGS, summary: 'Change a category (routes, when given, replace the old ones)', params: CodeParams, body: CategoryUpdate, response: { ...NotFound, ...ProblemResponses } },
      },
      async (request) => {
        request.audited = true;
        return requests.updateCategory(request.actor, (request.params as { code: string }).code, request.body as CategoryUpdate, origin(request));
      },
    );

    app.get('/api/v1/request-teams', { config: read, schema: { tags: TAGS, summary: 'Teams requests are routed to' } }, async () => ({ items: await requests.listTeams() }));

    app.post(
      '/api/v1/request-teams',
      {
        config: configure,
        schema: {
          tags: TAGS,
          summary: 'Add a team',
          body: TeamCreate,
          response: { 201: Type.Object({ id: Type.String(), name: Type.String(), email: Type.Union([Type.String(), Type.Null()]) }), ...ProblemResponses },
        },
      },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await requests.createTeam(request.actor, request.body as TeamCreate, origin(request)));
      },
    );
  };
}
