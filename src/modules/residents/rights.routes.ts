import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import { ConsentInput } from './residents.schema.js';
import type { ResidentsService } from './residents.service.js';

const TAGS = ['residents'];
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
const ConsentParams = Type.Object({ id: Type.String({ maxLength: 40 }), consentId: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
/** Consents given or withdrawn through the API say so. */
const origin = (request: Parameters<typeof originOf>[0]) => ({ ...originOf(request), source: 'api' });
const idOf = (request: { params: unknown }) => (request.params as { id: string }).id;

/** A resident's consents, subject access export and erasure; each audited. */
export function rightsRoutes(residents: ResidentsService) {
  return async function routes(app: FastifyInstance) {
    app.get(
      '/api/v1/residents/:id/consents',
      {
        config: { permission: 'residents:read' },
        schema: { tags: TAGS, summary: 'What the resident agreed to, when, on which words and through which page, newest first', params: IdParams, response: { ...ProblemResponses, 404: Problem } },
      },
      async (request) => {
        request.audited = true;
        const resident = await residents.view(request.actor, idOf(request), originOf(request));
        return { consents: await residents.consentsOf(resident.id) };
      },
    );

    app.post(
      '/api/v1/residents/:id/consents',
      {
        config: { permission: 'residents:manage' },
        schema: {
          tags: TAGS,
          summary: 'Record a consent the resident gave (marketing, surveys, or messages:<topic>); one in force already is answered as it is',
          params: IdParams,
          body: ConsentInput,
          response: { ...ProblemResponses, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const consent = await residents.giveConsent(request.actor, idOf(request), (request.body as ConsentInput).purpose, origin(request));
        return reply.status(201).send(consent);
      },
    );

    app.post(
      '/api/v1/residents/:id/consents/:consentId/withdraw',
      {
        config: { permission: 'residents:manage' },
        schema: {
          tags: TAGS,
          summary: 'Withdraw a consent: for messages about a topic, the resident’s subscriptions to it and channel order for it go too',
          params: ConsentParams,
          response: { ...ProblemResponses, 404: Problem, 409: Problem },
        },
      },
      async (request) => {
        request.audited = true;
        const { id, consentId } = request.params as { id: string; consentId: string };
        return residents.withdrawConsent(request.actor, id, consentId, origin(request));
      },
    );

    app.get(
      '/api/v1/residents/:id/export',
      {
        config: { permission: 'residents:export' },
        schema: {
          tags: TAGS,
          summary: 'Everything Weft holds about the resident (subject access), as JSON with a plain-English summary in "summary"',
          params: IdParams,
          response: { ...ProblemResponses, 404: Problem },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const data = await residents.exportResident(request.actor, idOf(request), originOf(request));
        return reply.header('content-disposition', `attachment; filename="resident-${data.residentId}.json"`).header('cache-control', 'no-store').send(data);
      },
    );

    app.post(
      '/api/v1/residents/:id/erase',
      {
        config: { permission: 'residents:erase' },
        schema: {
          tags: TAGS,
          summary: 'Erase the resident’s personal data everywhere (the record stays, anonymised, for counts); running it again finishes one cut short',
          params: IdParams,
          response: { ...ProblemResponses, 404: Problem },
        },
      },
      async (request) => {
        request.audited = true;
        return residents.erase(request.actor, idOf(request), originOf(request));
      },
    );
  };
}
