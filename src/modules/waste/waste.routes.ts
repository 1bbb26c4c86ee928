import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import { ChangeInput, RoundInput } from './waste.schema.js';
import type { WasteService } from './waste.service.js';

const TAGS = ['waste'];
const read = { permission: 'waste:read' };
const manage = { permission: 'waste:manage' };
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
const DayParams = Type.Object({ id: Type.String({ maxLength: 40 }), day: Type.String({ maxLength: 10 }) }, { additionalProperties: false });
const NotFound = { 404: Problem };

/** Bin collection rounds, days moved for bank holidays, and what is collected on a day. */
export function wasteRoutes(deps: { waste: WasteService }) {
  const { waste } = deps;
  return async function routes(app: FastifyInstance) {
    app.get('/api/v1/waste/rounds', { config: read, schema: { tags: TAGS, summary: 'Collection rounds with their moved days', response: { ...ProblemResponses } } }, async () => ({
      rounds: await waste.rounds(),
    }));

    app.post('/api/v1/waste/rounds', { config: manage, schema: { tags: TAGS, summary: 'Add a collection round', body: RoundInput, response: { ...ProblemResponses } } }, async (request, reply) => {
      request.audited = true;
      return reply.status(201).send(await waste.createRound(request.actor, request.body as RoundInput, originOf(request)));
    });

    app.get(
      '/api/v1/waste/rounds/:id',
      { config: read, schema: { tags: TAGS, summary: 'A collection round and its next collections', params: IdParams, response: { ...ProblemResponses, ...NotFound } } },
      async (request) => {
        const round = await waste.round((request.params as { id: string }).id);
        return { ...round, next: await waste.upcoming(round.id, new Date().toISOString().slice(0, 10)) };
      },
    );

    app.put(
      '/api/v1/waste/rounds/:id',
      { config: manage, schema: { tags: TAGS, summary: 'Change a collection round', params: IdParams, body: RoundInput, response: { ...ProblemResponses, ...NotFound } } },
      async (request) => {
        request.audited = true;
        return waste.updateRound(request.actor, (request.params as { id: string }).id, request.body as RoundInput, originOf(request));
      },
    );

    app.post(
      '/api/v1/waste/rounds/:id/changes',
      { config: manage, schema: { tags: TAGS, summary: 'Move one collection day (a bank holiday)', params: IdParams, body: ChangeInput, response: { ...ProblemResponses, ...NotFound } } },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await waste.moveCollection(request.actor, (request.params as { id: string }).id, request.body as ChangeInput, originOf(request)));
      },
    );

    app.delete(
      '/api/v1/waste/rounds/:id/changes/:day',
      { config: manage, schema: { tags: TAGS, summary: 'Put a moved collection day back', params: DayParams, response: { ...ProblemResponses, ...NotFound } } },
      async (request) => {
        request.audited = true;
        const p = request.params as { id: string; day: string };
        return waste.unmoveCollection(request.actor, p.id, p.day, originOf(request));
      },
    );

    app.get(
      '/api/v1/waste/collections',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'What is collected on a day, moves applied',
          querystring: Type.Object({ day: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }) }, { additionalProperties: false }),
          response: { ...ProblemResponses },
        },
      },
      async (request) => ({ collections: await waste.collectionsOn((request.query as { day: string }).day) }),
    );
  };
}
