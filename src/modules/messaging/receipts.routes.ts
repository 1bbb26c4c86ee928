import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { keepRawJson } from '../../platform/web/raw-json.js';
import { Problem } from '../../platform/web/openapi.js';
import type { NotificationsTable } from './messaging.repository.js';
import type { ReceiptsService, TwilioHookRequest } from './receipts.service.js';
import { SIGNATURE_HEADER } from './providers/webhook.js';

const TAGS = ['messaging: provider webhooks'];
/**
 * Providers call these without a session or key: each request is authenticated by its
 * signature (Twilio, the signed webhook) or bearer token (Notify), checked by the service
 * against the provider's own secret before anything is read. A busy provider sends far more
 * than an API client's allowance a minute.
 */
const signed = { public: true, csrf: false as const, rateLimit: { max: 60_000, timeWindow: '1 minute' } };
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
const FormParams = Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]), { description: 'Twilio’s form-encoded parameters, as it sends them' });
const Errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };
const TwiML = { 200: Type.String({ description: 'TwiML (text/xml)' }) };
const Receipt = Type.Object({ id: Type.String(), status: Type.String() }, { description: 'The notification as it now is' });

export const WebhookReceipt = Type.Object(
  {
    id: Type.Optional(Type.String({ description: 'Weft’s notification id, as sent to you' })),
    reference: Type.Optional(Type.String({ description: 'your id for the message, as you answered it' })),
    status: Type.String({ description: 'sending, pending, sent, delivered, permanent-failure, temporary-failure, technical-failure, received (letters) or cancelled' }),
    reason: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'why it failed, in words a member of staff can act on' })),
  },
  { additionalProperties: true },
);

// Every route here sets attachValidation: the signature is checked (by the service) before the body's shape,
// so strangers learn nothing about it; the service then checks the fields it reads.

/** The exact bytes of a JSON body, which signatures are computed over. */

const receiptView = (n: NotificationsTable) => ({ id: n.id, status: n.status });

/** Webhooks that providers call back: delivery receipts, inbound texts, keys pressed on calls. */
export function receiptsRoutes(deps: { receipts: ReceiptsService }) {
  const { receipts } = deps;
  return async function routes(app: FastifyInstance) {
    // Signatures cover the exact bytes: JSON is also kept as received.
    const rawBody = keepRawJson(app);

    const twilioRequest = (request: FastifyRequest): TwilioHookRequest => ({
      providerId: (request.params as { id: string }).id,
      path: request.url,
      params: (request.body ?? {}) as Record<string, string | string[]>,
      signature: request.headers['x-twilio-signature'] as string | undefined,
    });

    app.post(
      '/api/v1/messaging/providers/:id/twilio/status',
      {
        config: signed,
        schema: {
          tags: TAGS,
          security: [],
          summary: 'Twilio status callback for texts, RCS and calls (signed with X-Twilio-Signature)',
          description: 'Weft gives this URL as each message’s and call’s StatusCallback, with `?n=<notification id>`. Answers 204.',
          params: IdParams,
          body: FormParams,
          response: { 204: Type.Null(), ...Errors },
        },
        attachValidation: true,
      },
      async (request, reply) => {
        await receipts.twilioStatus(twilioRequest(request));
        return reply.status(204).send();
      },
    );

    app.post(
      '/api/v1/messaging/providers/:id/twilio/inbound',
      {
        config: signed,
        schema: {
          tags: TAGS,
          security: [],
          summary: 'Twilio incoming message webhook: replies, STOP and START (signed with X-Twilio-Signature)',
          description: 'Set this as the number’s “A message comes in” webhook (HTTP POST). Answers empty TwiML.',
          params: IdParams,
          body: FormParams,
          response: { ...TwiML, ...Errors },
        },
        attachValidation: true,
      },
      async (request, reply) => reply.type('text/xml; charset=utf-8').send(await receipts.twilioInbound(twilioRequest(request))),
    );

    app.post(
      '/api/v1/messaging/providers/:id/twilio/gather',
      {
        config: signed,
        schema: {
          tags: TAGS,
          security: [],
          summary: 'Twilio Gather action: the key pressed during a voice call (signed with X-Twilio-Signature)',
          description: 'Weft puts this URL, with `?n=<notification id>`, in each call’s TwiML. Answers TwiML.',
          params: IdParams,
          body: FormParams,
          response: { ...TwiML, ...Errors },
        },
        attachValidation: true,
      },
      async (request, reply) => reply.type('text/xml; charset=utf-8').send(await receipts.twilioGather(twilioRequest(request))),
    );

    app.post(
      '/api/v1/messaging/providers/:id/notify/callback',
      {
        config: signed,
        schema: {
          tags: TAGS,
          security: [],
          summary: 'GOV.UK Notify delivery-status callback for a Notify relay provider (Authorization: Bearer <callback token>)',
          description: 'Set this as the callback URL of the Notify service the relay sends through, with the provider’s callbackToken as its bearer token.',
          params: IdParams,
          body: Type.Object(
            {},
            { additionalProperties: true, description: 'Notify’s callback body: id, reference, to, status, created_at, completed_at, sent_at, notification_type, template_id, template_version' },
          ),
          response: { 200: Receipt, ...Errors },
        },
        attachValidation: true,
      },
      async (request) => receiptView(await receipts.notifyCallback((request.params as { id: string }).id, request.headers.authorization, request.body)),
    );

    app.post(
      '/api/v1/messaging/providers/:id/webhook/receipts',
      {
        config: signed,
        schema: {
          tags: TAGS,
          security: [],
          summary: 'A signed webhook supplier’s delivery receipt (signed with Weft-Signature)',
          description: 'See README-providers.md in the messaging module: `Weft-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.',
          params: IdParams,
          body: WebhookReceipt,
          response: { 200: Receipt, ...Errors },
        },
        attachValidation: true,
      },
      async (request) => {
        const raw = rawBody(request);
        return receiptView(await receipts.webhookReceipt((request.params as { id: string }).id, raw, request.headers[SIGNATURE_HEADER] as string | undefined, request.body));
      },
    );
  };
}
