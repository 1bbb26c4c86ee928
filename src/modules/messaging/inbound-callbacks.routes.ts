import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import type { MessagingService } from './messaging.service.js';

const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });

/** Setting a messaging service's received-text callback (inbound-callbacks.ts). */
export function inboundCallbackRoutes(deps: { messaging: MessagingService }) {
  const { messaging } = deps;
  return async function routes(app: FastifyInstance) {
    app.put(
      '/api/v1/messaging/services/:id/inbound-callback',
      {
        config: { permission: 'messaging:manage' },
        schema: {
          tags: ['messaging'],
          summary: 'Set (or, with url null, turn off) the received-text callback: each text residents send, in Notify’s body, POSTed with the bearer token',
          params: IdParams,
          body: Type.Object({ url: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]), bearerToken: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
          response: { ...ProblemResponses, 404: Problem },
        },
      },
      async (request) => {
        request.audited = true;
        return messaging.setInboundCallback(request.actor, (request.params as { id: string }).id, request.body as { url: string | null; bearerToken?: string }, {
          ip: request.ip,
          requestId: request.id,
        });
      },
    );
  };
}
