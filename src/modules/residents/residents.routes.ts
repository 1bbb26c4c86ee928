import { Type } from '@sinclair/typebox';
import { originOf as origin } from '../../platform/audit/origin.js';
import type { FastifyInstance } from 'fastify';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import { ResidentInput } from './residents.schema.js';
import type { ResidentsService } from './residents.service.js';
import { rightsRoutes } from './rights.routes.js';
import { subscriptionsRoutes } from './subscriptions.routes.js';

const TAGS = ['residents'];
const read = { permission: 'residents:read' };
const manage = { permission: 'residents:manage' };
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });

/** Staff and council systems adding and finding residents; every look and change is audited. */
export function residentsRoutes(deps: { residents: ResidentsService }) {
  const { residents } = deps;
  return async function routes(app: FastifyInstance) {
    app.get(
      '/api/v1/residents',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'Find residents by name, email or mobile',
          querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })) }),
          response: { ...ProblemResponses },
        },
      },
      async (request) => {
        request.audited = true;
        const q = request.query as { q?: string; limit?: number };
        return { residents: await residents.search(request.actor, q.q, q.limit, origin(request)) };
      },
    );

    app.post(
      '/api/v1/residents',
      { config: manage, schema: { tags: TAGS, summary: 'Add a resident on their behalf', body: ResidentInput, response: { ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await residents.create(request.actor, request.body as ResidentInput, { ...origin(request), source: 'api' }));
      },
    );

    app.get(
      '/api/v1/residents/:id',
      { config: read, schema: { tags: TAGS, summary: 'A resident’s details, preferences and home', params: IdParams, response: { ...ProblemResponses, 404: Problem } } },
      async (request) => {
        request.audited = true;
        return residents.view(request.actor, (request.params as { id: string }).id, origin(request));
      },
    );

    app.put(
      '/api/v1/residents/:id',
      { config: manage, schema: { tags: TAGS, summary: 'Change a resident’s details and preferences', params: IdParams, body: ResidentInput, response: { ...ProblemResponses, 404: Problem } } },
      async (request) => {
        request.audited = true;
        return residents.update(request.actor, (request.params as { id: string }).id, request.body as ResidentInput, { ...origin(request), source: 'api' });
      },
    );

    await subscriptionsRoutes(residents)(app);
    await rightsRoutes(residents)(app);
  };
}
