import { Type } from '@sinclair/typebox';
import { originOf as origin } from '../../platform/audit/origin.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import type { Download, PrintBatches } from './print.js';

const TAGS = ['messaging'];
const manage = { permission: 'messaging:manage' };
const read = { permission: 'messages:read' };
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
const NotFound = { 404: Problem };

/** A batch file as an attachment, never cached: it is personal data. */
function attachment(reply: FastifyReply, type: string, file: Download) {
  return reply.type(type).header('content-disposition', `attachment; filename="${file.filename}"`).header('cache-control', 'no-store').send(file.body);
}

/**
 * The daily letter print batches (print.ts): the list, each batch's manifest and letters
 * (downloads are audited), and the print room's word that a batch has gone out.
 */
export function printRoutes(deps: { print: PrintBatches }) {
  const { print } = deps;
  return async function routes(app: FastifyInstance) {
    app.get(
      '/api/v1/messaging/print-batches',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'Letter print batches, newest first',
          querystring: Type.Object(
            {
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
              olderThan: Type.Optional(Type.String({ format: 'uuid', description: 'the last id of the previous page' })),
            },
            { additionalProperties: false },
          ),
          response: { ...ProblemResponses },
        },
      },
      async (request) => {
        const q = request.query as { limit?: number; olderThan?: string };
        return { batches: await print.list(q.limit, q.olderThan) };
      },
    );

    app.get(
      '/api/v1/messaging/print-batches/:id',
      { config: read, schema: { tags: TAGS, summary: 'One print batch and its files', params: IdParams, response: { ...ProblemResponses, ...NotFound } } },
      async (request) => print.get((request.params as { id: string }).id),
    );

    app.get(
      '/api/v1/messaging/print-batches/:id/manifest.csv',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'The batch’s manifest: a row a letter (id, reference, postage, pages, sheets, first address line, postcode, file, first page). Audited',
          params: IdParams,
          response: { ...ProblemResponses, ...NotFound },
        },
      },
      async (request, reply) => attachment(reply, 'text/csv; charset=utf-8', await print.manifest(request.actor, (request.params as { id: string }).id, origin(request))),
    );

    app.get(
      '/api/v1/messaging/print-batches/:id/letters.pdf',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'A postage class’s letters as one PDF, each letter starting on a new sheet for double-sided printing. Audited',
          params: IdParams,
          querystring: Type.Object(
            { postage: Type.Optional(Type.String({ maxLength: 40, description: 'first, second, economy, europe or rest-of-world: needed when the batch has more than one' })) },
            { additionalProperties: false },
          ),
          response: { ...ProblemResponses, ...NotFound },
        },
      },
      async (request, reply) => {
        const { postage } = request.query as { postage?: string };
        return attachment(reply, 'application/pdf', await print.letters(request.actor, (request.params as { id: string }).id, postage, origin(request)));
      },
    );

    app.post(
      '/api/v1/messaging/print-batches/:id/dispatched',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'The print room has sent the batch: its letters become delivered (received, in Notify’s words). Once only',
          params: IdParams,
          response: { ...ProblemResponses, ...NotFound, 409: Problem },
        },
      },
      async (request) => {
        request.audited = true;
        return print.dispatched(request.actor, (request.params as { id: string }).id, origin(request));
      },
    );
  };
}
