import type { FastifyInstance, FastifyRequest } from 'fastify';
import { registerErrorFormat } from '../../platform/error-handler.js';
import type { AppError } from '../../platform/errors.js';
import { messagingErrors, NOTIFY_ERROR_NAMES, NOTIFY_MESSAGES } from './messaging.errors.js';
import type { NotificationsTable } from './messaging.repository.js';
import { type Channel, PostEmail, PostLetter, PostResident, PostSms, PostVoice, STATUSES } from './messaging.schema.js';
import type { MessagingService } from './messaging.service.js';
import { createdBody, notificationBody, publicStatus, receivedTextBody, statusesFor, templateBody } from './notify.mapping.js';
import type { NotifySending } from './notify.service.js';
import type { ResidentSending } from './resident-sending.js';
import { canonicalUuid, checkBody, checkEnum, checkUuid, type FieldRule } from './notify.validation.js';
import { renderLetterPdf } from './render/index.js';

const TAGS = ['Notify-compatible messaging'];
const PAGE = 250;
const api = { permission: 'notify:api', csrf: false as const };
const NOTIFY_TYPES = ['sms', 'email', 'letter'];
const FILTER_STATUSES = [
  'cancelled',
  'created',
  'sending',
  'sent',
  'delivered',
  'pending',
  'failed',
  'technical-failure',
  'temporary-failure',
  'permanent-failure',
  'pending-virus-check',
  'validation-failed',
  'virus-scan-failed',
  'returned-letter',
  'accepted',
  'received',
];

/** Notify's error body: one item per problem, named as Notify names them; anything unexpected is a 500 "Internal server error". */
export function notifyErrorBody(err: AppError) {
  const name = NOTIFY_ERROR_NAMES[err.code] ?? fallbackName(err);
  const message = err.status >= 500 ? 'Internal server error' : NOTIFY_ERROR_NAMES[err.code] ? err.message : fallbackMessage(err);
  const items = err.code === 'NOTIFY_VALIDATION' && err.fields.length ? err.fields.map((f) => ({ error: name, message: f.message })) : [{ error: name, message }];
  return { contentType: 'application/json', body: { status_code: err.status, errors: items } };
}

function fallbackName(err: AppError): string {
  if (err.status === 404) return 'NoResultFound';
  if (err.status === 429) return 'RateLimitError';
  if (err.status === 401 || err.status === 403) return 'AuthError';
  if (err.status >= 500) return 'Exception';
  return 'BadRequestError';
}

function fallbackMessage(err: AppError): string {
  if (err.code === 'MALFORMED_JSON') return 'Invalid JSON supplied in POST data';
  if (err.status === 404) return 'No result found';
  return err.message;
}

const SEND_RULES: Record<string, Record<string, FieldRule>> = {
  email: {
    template_id: { type: 'uuid', required: true },
    email_address: { type: 'string', required: true },
    personalisation: { type: 'object' },
    reference: { type: 'string' },
    email_reply_to_id: { type: 'uuid' },
    one_click_unsubscribe_url: { type: 'https_url' },
    sanitise_content_for: { type: 'array' },
  },
  sms: {
    template_id: { type: 'uuid', required: true },
    phone_number: { type: 'string', required: true },
    personalisation: { type: 'object' },
    reference: { type: 'string' },
    sms_sender_id: { type: 'uuid' },
  },
  voice: { template_id: { type: 'uuid', required: true }, phone_number: { type: 'string', required: true }, personalisation: { type: 'object' }, reference: { type: 'string' } },
  rcs: { template_id: { type: 'uuid', required: true }, phone_number: { type: 'string', required: true }, personalisation: { type: 'object' }, reference: { type: 'string' } },
  letter: { template_id: { type: 'uuid', required: true }, personalisation: { type: 'object', required: true }, reference: { type: 'string' } },
};

const SEND_SCHEMAS = { email: PostEmail, sms: PostSms, letter: PostLetter, voice: PostVoice, rcs: PostVoice };
const SUMMARIES: Record<string, string> = {
  email: 'Send an email (as GOV.UK Notify)',
  sms: 'Send a text message (as GOV.UK Notify)',
  letter: 'Send a letter (as GOV.UK Notify); a body with `content` is a precompiled PDF letter',
  voice: 'Send a voice call: the template is read out, with its keypad menu (Weft’s extension)',
  rcs: 'Send an RCS message with suggested replies (Weft’s extension)',
};

export interface NotifyRoutesOptions {
  messaging: MessagingService;
  sending: NotifySending;
  residentSending: ResidentSending;
  publicUrl: string;
}

/**
 * GOV.UK Notify's API at /v2/, so Notify's clients work unchanged with Weft's base URL. Bodies,
 * statuses and errors follow notifications-api; voice and RCS are Weft's additions.
 */
export function notifyRoutes({ messaging, sending, residentSending, publicUrl }: NotifyRoutesOptions) {
  registerErrorFormat('/v2/', notifyErrorBody);
  const base = publicUrl.replace(/\/$/, '');
  return async function routes(app: FastifyInstance) {
    const serviceOf = async (request: FastifyRequest) => {
      const auth = await messaging.serviceForAuth(request.actor.serviceId as string);
      if (!auth) throw messagingErrors.NOTIFY_AUTH_INVALID('Invalid token: service not found');
      return auth.row;
    };

    for (const channel of ['email', 'sms', 'letter', 'voice', 'rcs'] as Channel[]) {
      app.post(
        `/v2/notifications/${channel}`,
        {
          config: api,
          // A precompiled letter is a PDF of up to 5 MB, base64-encoded in the JSON.
          bodyLimit: channel === 'letter' ? 8 * 1024 * 1024 : undefined,
          // The body is documented here and checked by checkBody, in Notify's words.
          schema: { tags: TAGS, summary: SUMMARIES[channel], body: SEND_SCHEMAS[channel], response: {} },
          attachValidation: true,
          // Notify checks its limits before it reads the body.
          preValidation: async (request) => {
            const service = await serviceOf(request);
            sending.checkRateLimit(request.actor, service);
            if (request.actor.keyType !== 'test') await sending.checkDailyLimit(service, channel);
          },
        },
        async (request, reply) => {
          if (channel === 'letter' && request.body && typeof request.body === 'object' && 'content' in request.body) return sendPrecompiled(request, reply);
          const body = checkBody(request.body ?? {}, SEND_RULES[channel]);
          const sent = await sending.send(request.actor, {
            channel,
            templateId: canonicalUuid(String(body.template_id)),
            to: (body.email_address ?? body.phone_number) as string | undefined,
            personalisation: (body.personalisation as Record<string, unknown>) ?? {},
            reference: (body.reference as string) ?? null,
            senderId: ((body.email_reply_to_id ?? body.sms_sender_id) as string | undefined)?.toLowerCase(),
            unsubscribeUrl: body.one_click_unsubscribe_url as string | undefined,
          });
          return reply.status(201).send(createdBody(sent.row, base, { fromEmail: sent.service.email_from, fromNumber: sent.row.reply_to ?? sent.service.sms_sender }));
        },
      );
    }

    app.post(
      '/v2/notifications/resident',
      {
        config: api,
        schema: {
          tags: TAGS,
          summary:
            'Send to a resident on the channel they prefer for the topic, in their language, outside their quiet hours unless urgent, falling back to their next channel if it fails (Weft’s extension)',
          body: PostResident,
        },
        attachValidation: true,
        preValidation: async (request) => sending.checkRateLimit(request.actor, await serviceOf(request)),
      },
      async (request, reply) => {
        const body = checkBody(request.body ?? {}, {
          resident_id: { type: 'uuid', required: true },
          template_ids: { type: 'object', required: true },
          topic: { type: 'string' },
          personalisation: { type: 'object' },
          reference: { type: 'string' },
          urgent: { type: 'boolean' },
        });
        const templates = body.template_ids as Record<string, unknown>;
        for (const [channel, id] of Object.entries(templates)) {
          checkEnum('template_ids', channel, ['email', 'sms', 'letter', 'voice', 'rcs']);
          checkUuid(`template_ids.${channel}`, String(id));
        }
        const row = await residentSending.send(request.actor, {
          residentId: String(body.resident_id).toLowerCase(),
          templates: templates as Partial<Record<Channel, string>>,
          topic: body.topic as string | undefined,
          personalisation: (body.personalisation as Record<string, unknown>) ?? {},
          reference: (body.reference as string) ?? null,
          urgent: body.urgent === true,
        });
        const service = await serviceOf(request);
        return reply.status(201).send({
          ...createdBody(row, base, { fromEmail: service.email_from, fromNumber: service.sms_sender }),
          channel: row.type,
          fallback: (row.fallback_json ?? []).map((f) => f.channel),
        });
      },
    );

    async function sendPrecompiled(request: FastifyRequest, reply: import('fastify').FastifyReply) {
      const body = checkBody(request.body, { reference: { type: 'string', required: true }, content: { type: 'string', required: true }, postage: { type: 'string' } });
      if (body.postage !== undefined && body.postage !== 'first' && body.postage !== 'second')
        throw messagingErrors.NOTIFY_VALIDATION('postage invalid. It must be either first or second.', [{ field: 'postage', message: 'postage invalid. It must be either first or second.' }]);
      if (request.actor.keyType === 'team') throw messagingErrors.NOTIFY_LETTER_REFUSED(NOTIFY_MESSAGES.teamLetters);
      const pdf = Buffer.from(String(body.content), 'base64');
      if (!/^[A-Za-z0-9+/=\s]*$/.test(String(body.content)) || !pdf.length) throw messagingErrors.NOTIFY_BAD_REQUEST('Cannot decode letter content (invalid base64 encoding)');
      if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') throw messagingErrors.NOTIFY_BAD_REQUEST('Letter content is not a valid PDF');
      const row = await messaging.queuePrecompiledLetter(request.actor, String(body.reference), pdf, (body.postage as string) ?? 'second');
      return reply.status(201).send({ id: row.id, reference: row.reference, postage: row.postage });
    }

    const found = async (request: FastifyRequest, id: string): Promise<NotificationsTable> => {
      const row = await messaging.getNotification(request.actor.serviceId as string, checkUuid('notification_id', id));
      if (!row) throw messagingErrors.NOTIFY_NOT_FOUND(NOTIFY_MESSAGES.notFound);
      return (await messaging.shown([row]))[0];
    };

    app.get<{ Params: { id: string } }>('/v2/notifications/:id', { config: api, schema: { tags: TAGS, summary: 'One notification and its status' } }, async (request) =>
      notificationBody(await found(request, request.params.id), base),
    );

    app.get<{ Params: { id: string } }>('/v2/notifications/:id/pdf', { config: api, schema: { tags: TAGS, summary: 'A letter as the PDF sent to print' } }, async (request, reply) => {
      const row = await found(request, request.params.id);
      if (row.type !== 'letter') throw messagingErrors.NOTIFY_BAD_REQUEST('Notification is not a letter');
      if (row.status === 'technical-failure') throw messagingErrors.NOTIFY_BAD_REQUEST('PDF not available for letters in status technical-failure');
      const pdf = await letterPdf(row);
      return reply.type('application/pdf').send(pdf);
    });

    async function letterPdf(row: NotificationsTable): Promise<Buffer> {
      const file = await messaging.repo.letterFile(row.id);
      if (file) return file;
      const template = await messaging.getTemplate(row.template_id, row.template_version);
      const service = await messaging.getService(row.service_id);
      const cy = row.language === 'cy' && template.body_cy;
      return renderLetterPdf(
        { subject: (cy ? template.subject_cy : template.subject) ?? '', body: cy ? (template.body_cy as string) : template.body },
        row.personalisation_json,
        row.address_json ?? [],
        { serviceName: service.name, date: row.created_at, language: row.language as 'en' | 'cy' },
      );
    }

    app.get<{ Querystring: Record<string, string | string[]> }>(
      '/v2/notifications',
      { config: api, schema: { tags: TAGS, summary: 'Notifications sent with keys of the calling key’s type, newest first, 250 a page' } },
      async (request) => {
        const q = request.query;
        const type = one(q.template_type);
        if (type !== undefined) checkEnum('template_type', type, NOTIFY_TYPES);
        const statuses = [q.status ?? []].flat();
        for (const s of statuses) checkEnum('status', s, FILTER_STATUSES);
        const olderThan = one(q.older_than);
        const rows = await messaging.repo.listNotifications({
          serviceId: request.actor.serviceId as string,
          type,
          statuses: statuses.flatMap((s) => statusesFor(s, type)),
          reference: one(q.reference),
          olderThanId: olderThan === undefined ? undefined : checkUuid('older_than', olderThan),
          keyType: request.actor.keyType,
          // As Notify: notifications from campaigns (its spreadsheet jobs) only when asked for.
          includeCampaigns: !!one(q.include_jobs),
          limit: PAGE,
        });
        const query = new URLSearchParams();
        for (const [k, v] of Object.entries(q)) for (const value of [v].flat()) if (k !== 'older_than') query.append(k, value);
        const current = `${base}/v2/notifications${request.url.includes('?') ? `?${request.url.split('?')[1]}` : ''}`;
        const links: Record<string, string> = { current };
        if (rows.length) {
          query.append('older_than', rows[rows.length - 1].id);
          links.next = `${base}/v2/notifications?${query}`;
        }
        return { notifications: (await messaging.shown(rows)).map((r) => notificationBody(r, base)), links };
      },
    );

    const template = async (request: FastifyRequest, id: string, version?: number) => {
      const t = await messaging.repo.findTemplate(checkUuid('id', id), version);
      if (!t || t.service_id !== request.actor.serviceId) throw messagingErrors.NOTIFY_NOT_FOUND(NOTIFY_MESSAGES.notFound);
      return t;
    };

    app.get<{ Params: { id: string } }>('/v2/template/:id', { config: api, schema: { tags: TAGS, summary: 'A template, latest version' } }, async (request) =>
      templateBody(await template(request, request.params.id)),
    );

    app.get<{ Params: { id: string; version: string } }>('/v2/template/:id/version/:version', { config: api, schema: { tags: TAGS, summary: 'A template at a version' } }, async (request) => {
      const v = Number(request.params.version);
      if (!Number.isInteger(v) || v < 1) throw messagingErrors.NOTIFY_VALIDATION('version is not a valid integer', [{ field: 'version', message: 'version is not a valid integer' }]);
      return templateBody(await template(request, request.params.id, v));
    });

    app.get<{ Querystring: Record<string, string> }>('/v2/templates', { config: api, schema: { tags: TAGS, summary: 'The service’s templates, optionally of one type' } }, async (request) => {
      const extra = Object.keys(request.query).filter((k) => k !== 'type');
      if (extra.length) throw messagingErrors.NOTIFY_VALIDATION(`Additional properties are not allowed (${extra.join(', ')} was unexpected)`);
      const type = one(request.query.type);
      // Weft's voice and RCS templates can be listed too; the refusal names Notify's types, as Notify does.
      if (type !== undefined && !['voice', 'rcs'].includes(type)) checkEnum('type', type, NOTIFY_TYPES);
      const rows = await messaging.listTemplates(request.actor.serviceId as string, type);
      return { templates: rows.sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type.localeCompare(b.type))).map(templateBody) };
    });

    app.post<{ Params: { id: string } }>('/v2/template/:id/preview', { config: api, schema: { tags: TAGS, summary: 'A template filled in with personalisation' } }, async (request) => {
      const t = await template(request, request.params.id);
      const body = checkBody(request.body ?? {}, { personalisation: { type: 'object' } });
      const personalisation = (body.personalisation as Record<string, unknown>) ?? {};
      const service = await serviceOf(request);
      const r = messaging.render(t, personalisation, 'en', { name: service.name });
      if (r.missing.length) throw messagingErrors.NOTIFY_BAD_REQUEST(`Missing personalisation: ${r.missing.join(', ')}`);
      return {
        id: t.id,
        type: t.type,
        version: t.version,
        body: r.body,
        html: t.type === 'email' ? (r.html ?? null) : null,
        subject: r.subject ?? null,
        postage: t.type === 'letter' ? (r.postage ?? 'second') : null,
      };
    });

    app.get<{ Querystring: Record<string, string> }>(
      '/v2/received-text-messages',
      { config: api, schema: { tags: TAGS, summary: 'Text messages residents sent to the service, newest first' } },
      async (request) => {
        const extra = Object.keys(request.query).filter((k) => k !== 'older_than');
        if (extra.length) throw messagingErrors.NOTIFY_VALIDATION(`Additional properties are not allowed (${extra.join(', ')} was unexpected)`);
        const older = request.query.older_than === undefined ? undefined : checkUuid('older_than', request.query.older_than);
        const rows = await messaging.repo.listReceivedTexts(request.actor.serviceId as string, older, PAGE);
        const links: Record<string, string> = { current: `${base}/v2/received-text-messages` };
        if (rows.length) links.next = `${base}/v2/received-text-messages?older_than=${rows[rows.length - 1].id}`;
        return { received_text_messages: rows.map(receivedTextBody), links };
      },
    );
  };
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export { publicStatus, STATUSES };
