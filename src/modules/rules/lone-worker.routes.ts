import type { FastifyInstance } from 'fastify';
import { originOf as origin } from '../../platform/audit/origin.js';
import { ProblemResponses } from '../../platform/web/openapi.js';
import { VisitParams, VisitStart } from './lone-worker.schema.js';
import type { LoneWorkerService } from './lone-worker.service.js';

const TAGS = ['visits'];
const visits = { permission: 'visits:start' };
const NotFound = { 404: ProblemResponses[400] };
type Id = { id: string };

/** Lone-worker visits, for the worker whose they are (a signed-in member of staff). */
export function loneWorkerApi(loneWorker: LoneWorkerService) {
  return async (app: FastifyInstance) => {
    app.post(
      '/api/v1/visits',
      {
        config: visits,
        schema: {
          tags: TAGS,
          summary: 'Start a lone-worker visit: your team is alerted if you have not checked out by its end plus the grace',
          body: VisitStart,
          response: { ...ProblemResponses },
        },
      },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await loneWorker.start(request.actor, request.body as VisitStart, origin(request)));
      },
    );

    app.get('/api/v1/visits', { config: visits, schema: { tags: TAGS, summary: 'Your visit in progress, if any, and your recent visits' } }, async (request) => loneWorker.mine(request.actor));

    app.get('/api/v1/visits/:id', { config: visits, schema: { tags: TAGS, summary: 'One of your visits', params: VisitParams, response: { ...NotFound, ...ProblemResponses } } }, async (request) =>
      loneWorker.get(request.actor, (request.params as Id).id),
    );

    app.post(
      '/api/v1/visits/:id/check-out',
      { config: visits, schema: { tags: TAGS, summary: 'Check out: you are safe. An alarm raised for the visit is cleared.', params: VisitParams, response: { ...NotFound, ...ProblemResponses } } },
      async (request) => {
        request.audited = true;
        return loneWorker.checkOut(request.actor, (request.params as Id).id, origin(request));
      },
    );
  };
}
