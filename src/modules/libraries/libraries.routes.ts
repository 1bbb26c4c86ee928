import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import { CardLink, ReservationReady } from './libraries.schema.js';
import type { LibrariesService } from './libraries.service.js';

const TAGS = ['libraries'];
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
const CardParams = Type.Object({ id: Type.String({ maxLength: 40 }), card: Type.String({ maxLength: 40 }) }, { additionalProperties: false });

/** The library system's events, and residents' library cards. */
export function librariesRoutes(deps: { libraries: LibrariesService }) {
  const { libraries } = deps;
  return async function routes(app: FastifyInstance) {
    app.post(
      '/api/v1/libraries/events/reservation-ready',
      {
        config: { permission: 'libraries:events' },
        schema: {
          tags: TAGS,
          summary: 'A reservation is ready to collect: the borrower (by library card) is told on the channel they prefer, in their language. Posting the same eventId again sends nothing more',
          body: ReservationReady,
          response: { ...ProblemResponses, 404: Problem },
        },
      },
      async (request, reply) => {
        request.audited = true; // the message is the record; the event id keeps it once
        const result = await libraries.reservationReady(request.actor, request.body as ReservationReady);
        return reply.status(result.duplicate ? 200 : 201).send(result);
      },
    );

    app.get(
      '/api/v1/residents/:id/library-cards',
      { config: { permission: 'residents:read' }, schema: { tags: TAGS, summary: 'A resident’s library cards', params: IdParams, response: { ...ProblemResponses, 404: Problem } } },
      async (request) => ({ cards: await libraries.cards((request.params as { id: string }).id) }),
    );

    app.post(
      '/api/v1/residents/:id/library-cards',
      {
        config: { permission: 'residents:manage' },
        schema: { tags: TAGS, summary: 'Link a library card to a resident', params: IdParams, body: CardLink, response: { ...ProblemResponses, 404: Problem, 409: Problem } },
      },
      async (request, reply) => {
        request.audited = true;
        const cards = await libraries.linkCard(request.actor, (request.params as { id: string }).id, (request.body as CardLink).cardNumber, originOf(request));
        return reply.status(201).send({ cards });
      },
    );

    app.delete(
      '/api/v1/residents/:id/library-cards/:card',
      { config: { permission: 'residents:manage' }, schema: { tags: TAGS, summary: 'Remove a library card from a resident', params: CardParams, response: { ...ProblemResponses, 404: Problem } } },
      async (request) => {
        request.audited = true;
        const p = request.params as { id: string; card: string };
        return { cards: await libraries.unlinkCard(request.actor, p.id, p.card, originOf(request)) };
      },
    );
  };
}
