import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import { platformErrors } from '../../platform/errors.js';
import type { UploadedFile } from '../../platform/web/forms.js';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import { Batch, BatchSummary, CsvBody, DEFAULT_FOLLOW_UP_DAYS, MAX_FOLLOW_UP_DAYS, ParkingSetup, UploadQuery } from './parking.schema.js';
import type { ParkingService } from './parking.service.js';

const TAGS = ['parking'];
const manage = { permission: 'parking:manage' };
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
const MultipartBody = Type.Object(
  {
    file: Type.Unknown({ description: 'the CSV file, as a file part' }),
    followUpDays: Type.Optional(Type.String({ pattern: '^\\d{1,2}$' })),
  },
  { additionalProperties: false },
);

/**
 * Parking fines by API: set up the Parking messaging service, upload a file of penalty charge
 * notices (sent at once, each with a pay link and one follow-up), and follow a batch.
 */
export function parkingRoutes(deps: { parking: ParkingService; bodyLimit: number }) {
  const { parking, bodyLimit } = deps;
  return async function routes(app: FastifyInstance) {
    app.get(
      '/api/v1/parking/setup',
      {
        config: manage,
        schema: { tags: TAGS, summary: 'Whether the Parking messaging service is set up and has the GOV.UK Pay account notices need', response: { 200: ParkingSetup, ...ProblemResponses } },
      },
      async () => parking.setup(),
    );

    app.post(
      '/api/v1/parking/setup',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'Make the Parking messaging service and its templates (text and email, English and Welsh), if not made yet',
          description: 'An administrator then sets its GOV.UK Pay account: PUT payAccountUrl with baseUrl, apiKey and webhookSigningSecret.',
          response: { 200: ParkingSetup, ...ProblemResponses },
        },
      },
      async (request) => {
        request.audited = true; // messaging audits the service and templates it makes
        return parking.setUp(request.actor);
      },
    );

    app.post(
      '/api/v1/parking/batches',
      {
        config: manage,
        bodyLimit,
        schema: {
          tags: TAGS,
          summary: 'Upload penalty charge notices: each keeper is sent a text (or an email) with a pay link, and one follow-up unless they pay',
          description:
            'Every row is checked first; a file with any problem, or with a notice sent before (409 PARKING_PCN_DUPLICATE), is refused whole and nothing is sent. The notices are then sent by a background job: follow the batch with GET /api/v1/parking/batches/{id}.',
          querystring: UploadQuery,
          body: Type.Union([CsvBody, MultipartBody]),
          consumes: ['text/csv', 'multipart/form-data'],
          response: { 201: Batch, ...ProblemResponses, 409: Problem },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const query = request.query as UploadQuery;
        const { text, fileName, followUpDays } = uploaded(request);
        const batch = await parking.upload(request.actor, text, { followUpDays: followUpDays ?? query.followUpDays, fileName: query.fileName ?? fileName }, originOf(request));
        return reply.status(201).header('location', `/api/v1/parking/batches/${batch.id}`).send(batch);
      },
    );

    app.get(
      '/api/v1/parking/batches',
      {
        config: manage,
        schema: { tags: TAGS, summary: 'Batches of penalty charge notices, newest first', response: { 200: Type.Object({ batches: Type.Array(BatchSummary) }), ...ProblemResponses } },
      },
      async () => ({ batches: await parking.list() }),
    );

    app.get(
      '/api/v1/parking/batches/:id',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'A batch: how many notices are paid, clicked (link followed, not paid) and outstanding, the money, and every notice with its follow-up',
          params: IdParams,
          response: { 200: Batch, ...ProblemResponses, 404: Problem },
        },
      },
      async (request) => parking.batch((request.params as { id: string }).id),
    );

    app.post(
      '/api/v1/parking/batches/:id/retry',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'Send the notices of a batch that failed (or that a stopped job left) again',
          params: IdParams,
          response: { 200: Batch, ...ProblemResponses, 404: Problem, 409: Problem },
        },
      },
      async (request) => {
        request.audited = true;
        return parking.retry(request.actor, (request.params as { id: string }).id, originOf(request));
      },
    );
  };
}

/** The file from a text/csv body or a multipart form (field `file`). */
function uploaded(request: FastifyRequest): { text: string; fileName?: string; followUpDays?: number } {
  const body = request.body;
  if (typeof body === 'string') return { text: body };
  const part = body && typeof body === 'object' ? (body as { file?: Partial<UploadedFile> }).file : undefined;
  if (part && typeof part === 'object' && typeof part.content === 'string') {
    const form = body as { file: UploadedFile; followUpDays?: string };
    const days = form.followUpDays === undefined ? undefined : Number(form.followUpDays);
    if (days !== undefined && !(days >= 1 && days <= MAX_FOLLOW_UP_DAYS))
      throw platformErrors.VALIDATION_FAILED(undefined, [{ field: 'followUpDays', message: `Enter a number of days from 1 to ${MAX_FOLLOW_UP_DAYS} (${DEFAULT_FOLLOW_UP_DAYS} if left out)` }]);
    return { text: form.file.content, fileName: form.file.filename || undefined, followUpDays: days };
  }
  throw platformErrors.UNSUPPORTED_MEDIA_TYPE('Send the file as text/csv, or as multipart/form-data with the file in “file”.');
}
