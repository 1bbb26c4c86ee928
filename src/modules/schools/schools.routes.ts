import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import { ClosureInput } from './schools.schema.js';
import type { SchoolsService } from './schools.service.js';

const TAGS = ['schools'];
const read = { permission: 'schools:read' };
const close = { permission: 'schools:close' };
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });

/** School closures by API: close schools on a day (subscribers are told at once), and follow how the telling goes. */
export function schoolsRoutes(deps: { schools: SchoolsService }) {
  const { schools } = deps;
  return async function routes(app: FastifyInstance) {
    app.post(
      '/api/v1/schools/closures',
      {
        config: close,
        schema: {
          tags: TAGS,
          summary: 'Close schools on a day: every resident subscribed to them is told at once on their channel (urgent: quiet hours do not hold it)',
          body: ClosureInput,
          response: { ...ProblemResponses },
        },
      },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await schools.close(request.actor, request.body as ClosureInput, originOf(request)));
      },
    );

    app.get('/api/v1/schools/closures', { config: read, schema: { tags: TAGS, summary: 'School closures, newest first', response: { ...ProblemResponses } } }, async () => ({
      closures: await schools.list(),
    }));

    app.get(
      '/api/v1/schools/closures/:id',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'A closure and how the telling goes: residents, messages by status, those reached on no channel',
          params: IdParams,
          response: { ...ProblemResponses, 404: Problem },
        },
      },
      async (request) => schools.get((request.params as { id: string }).id),
    );
  };
}
