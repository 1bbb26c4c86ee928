import { Type } from '@sinclair/typebox';
import { originOf as origin } from '../../platform/audit/origin.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldError } from '../../platform/errors.js';
import { keepRawJson } from '../../platform/web/raw-json.js';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import { messagingErrors } from './messaging.errors.js';
import type { MessagingService } from './messaging.service.js';
import { createdBody, notifyTime } from './notify.mapping.js';
import type { NotifySending } from './notify.service.js';
import { canonicalUuid, checkBody, checkUuid } from './notify.validation.js';
import { payLinkText } from './payments.messages.js';
import { chooseLanguage, formatDate, formatMoney, type Language, languageSwitch, pageLanguage } from '../../platform/web/i18n.js';
import { type Followed, MAX_AFTER_DAYS, MAX_AMOUNT_PENCE, MAX_REMINDERS, type PayAccountInput, type Payments, type PaySendRequest } from './payments.js';

const TAGS = ['Notify-compatible messaging'];
const STAFF_TAGS = ['messaging'];
const api = { permission: 'notify:api', csrf: false as const };
const manage = { permission: 'messaging:manage' };
const read = { permission: 'messages:read' };
/**
 * Residents follow short links from their messages with no account: the code itself is the
 * only thing that opens them, and it is random (12 characters, about 71 bits).
 */
const link = { public: true, page: 'portal' as const };
/** GOV.UK Pay calls its webhook with no session or key: each message is signed (Pay-Signature). */
const signed = { public: true, csrf: false as const, rateLimit: { max: 60_000, timeWindow: '1 minute' } };
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
const PAGE = 'modules/messaging/views/pay-link.njk';
const SUMMARY_DAYS = 90;

const Payment = Type.Object(
  {
    amount_pence: Type.Integer({ minimum: 1, maximum: MAX_AMOUNT_PENCE, description: 'what to pay, in pence (GOV.UK Pay’s limit is £100,000)' }),
    reference: Type.String({ minLength: 1, maxLength: 255, description: 'your reference for the payment, such as the penalty charge notice number; GOV.UK Pay keeps it with the payment' }),
    description: Type.String({ minLength: 1, maxLength: 255, description: 'what the payment is for, shown to the resident on GOV.UK Pay’s pages' }),
    return_url: Type.Optional(Type.String({ description: 'where GOV.UK Pay sends the resident afterwards; by default Weft’s own page saying whether it was paid' })),
  },
  { additionalProperties: false },
);
const Reminder = Type.Object(
  {
    template_id: Type.String({ format: 'uuid', description: 'a template of the same type with ((pay_link))' }),
    after_days: Type.Integer({ minimum: 1, maximum: MAX_AFTER_DAYS, description: 'days after the first message' }),
  },
  { additionalProperties: false },
);
const payFields = {
  template_id: Type.String({ format: 'uuid', description: 'a template with a ((pay_link)) placeholder' }),
  personalisation: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'the template’s other placeholders; Weft fills ((pay_link))' })),
  reference: Type.Optional(Type.String({ description: 'your id for the message, as in Notify' })),
  language: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('cy')], { description: 'cy: the template’s Welsh variant and GOV.UK Pay’s Welsh pages' })),
  payment: Payment,
  reminders: Type.Optional(Type.Array(Reminder, { maxItems: MAX_REMINDERS, description: 'messages sent later unless the link has been paid by then' })),
  track_links: Type.Optional(Type.Boolean({ description: 'make every other web address in the messages a tracked short link too' })),
};
const PostPayEmail = Type.Object({ email_address: Type.String(), ...payFields });
const PostPaySms = Type.Object({ phone_number: Type.String(), ...payFields });

const PayAccountBody = Type.Object(
  {
    baseUrl: Type.String({ maxLength: 500, description: 'GOV.UK Pay’s API address: https://publicapi.payments.service.gov.uk' }),
    apiKey: Type.String({ maxLength: 500, description: 'the API key made for this service in GOV.UK Pay’s admin tool; sealed at rest, never shown again' }),
    webhookSigningSecret: Type.Optional(
      Type.Union([Type.String({ maxLength: 500 }), Type.Null()], { description: 'the signing secret of the Pay webhook pointed at webhookUrl; null removes it; left out: kept' }),
    ),
  },
  { additionalProperties: false },
);

/** The exact bytes of each JSON body in this plugin: GOV.UK Pay signs the body as sent. */

/**
 * Pay links (Weft's extension of the Notify-compatible API), the short links residents follow,
 * GOV.UK Pay's webhook, each messaging service's Pay account, and pay-link figures.
 */
export function paymentsRoutes(deps: { payments: Payments; messaging: MessagingService; sending: NotifySending; publicUrl: string }) {
  const { payments, messaging, sending } = deps;
  const base = deps.publicUrl.replace(/\/$/, '');
  return async function routes(app: FastifyInstance) {
    // Signatures cover the exact bytes: JSON is also kept as received.
    const rawBody = keepRawJson(app);

    // ---- sending (Notify's envelope and words for errors, as the rest of /v2/)

    for (const channel of ['email', 'sms'] as const) {
      app.post(
        `/v2/pay-links/${channel}`,
        {
          config: api,
          schema: {
            tags: TAGS,
            summary: `Send ${channel === 'email' ? 'an email' : 'a text message'} with a link to pay through GOV.UK Pay, and reminders that stop when it is paid (Weft’s extension)`,
            description:
              'The body is Notify’s send body with `payment` (and optionally `reminders`, `language`, `track_links`). The template’s ((pay_link)) becomes a short link, /l/{code}, that leads to GOV.UK Pay. Answers Notify’s 201 body with `pay_link` and `reminders`.',
            body: channel === 'email' ? PostPayEmail : PostPaySms,
          },
          attachValidation: true,
          preValidation: async (request) => {
            const auth = await messaging.serviceForAuth(request.actor.serviceId as string);
            if (!auth) throw messagingErrors.NOTIFY_AUTH_INVALID('Invalid token: service not found');
            sending.checkRateLimit(request.actor, auth.row);
          },
        },
        async (request, reply) => {
          const sent = await payments.send(request.actor, parseSend(channel, request.body));
          return reply.status(201).send({
            ...createdBody(sent.row, base, { fromEmail: sent.service.email_from, fromNumber: sent.service.sms_sender }),
            pay_link: {
              id: sent.payLink.id,
              url: sent.url,
              status: sent.payLink.status,
              amount_pence: sent.payLink.amount_pence,
              reference: sent.payLink.reference,
              description: sent.payLink.description,
              payment_id: sent.paymentId,
              uri: `${base}/v2/pay-links/${sent.payLink.id}`,
            },
            reminders: sent.reminders.map((r) => ({ id: r.id, template_id: r.template_id, scheduled_for: notifyTime(r.scheduled_for_at) })),
          });
        },
      );
    }

    app.get<{ Params: { id: string } }>(
      '/v2/pay-links/:id',
      { config: api, schema: { tags: TAGS, summary: 'A pay link: paid or not, its clicks and its reminders (Weft’s extension)' } },
      async (request) => payments.payLink(request.actor.serviceId as string, checkUuid('pay_link_id', request.params.id)),
    );

    // ---- short links, as residents follow them

    // No cookie is set, and the request is not logged at info level: nothing records who followed which link.
    const quiet = { logLevel: 'warn' as const, onSend: forgetCookies, schema: { hide: true } };

    app.get<{ Params: { code: string } }>('/l/:code', { config: link, ...quiet }, async (request, reply) => show(request, reply, await payments.follow(request.params.code)));

    app.get<{ Params: { code: string } }>('/l/:code/return', { config: link, ...quiet }, async (request, reply) => show(request, reply, await payments.returned(request.params.code)));

    // ---- GOV.UK Pay's webhook

    app.post(
      '/api/v1/messaging/services/:id/pay/webhook',
      {
        config: signed,
        schema: {
          tags: STAFF_TAGS,
          security: [],
          summary: 'GOV.UK Pay’s webhook for the service’s Pay account (signed with Pay-Signature)',
          description:
            'Give this URL to GOV.UK Pay as the webhook’s callback URL, subscribed to card_payment_succeeded (and, if you like, card_payment_failed and card_payment_expired), and set its signing secret on the service’s Pay account in Weft. Answers 200 to every signed message, including payments Weft did not make.',
          params: IdParams,
          body: Type.Object({}, { additionalProperties: true, description: 'Pay’s webhook message: id, created_date, resource_id, api_version, resource_type, event_type, resource' }),
          response: { 200: Type.Object({ received: Type.Boolean(), outcome: Type.String() }), 400: Problem, 403: Problem },
        },
        attachValidation: true,
      },
      async (request) => {
        const outcome = await payments.webhook((request.params as { id: string }).id, rawBody(request), request.headers['pay-signature'] as string | undefined, request.body);
        return { received: true, ...outcome };
      },
    );

    // ---- a service's Pay account (staff)

    const accountSchema = (summary: string, extra: object = {}) => ({ tags: STAFF_TAGS, summary, params: IdParams, response: { ...ProblemResponses, 404: Problem }, ...extra });
    const removeSchema = { ...accountSchema('Remove the service’s GOV.UK Pay account: no more pay links can be sent'), response: { 204: Type.Null(), ...ProblemResponses, 404: Problem } };

    app.get('/api/v1/messaging/services/:id/pay', { config: manage, schema: accountSchema('The service’s GOV.UK Pay account: whether it is set, and the webhook URL to give Pay') }, async (request) =>
      payments.getAccount((request.params as { id: string }).id),
    );

    app.put(
      '/api/v1/messaging/services/:id/pay',
      { config: manage, schema: accountSchema('Set the service’s GOV.UK Pay account (its API key and webhook signing secret are sealed)', { body: PayAccountBody }) },
      async (request) => {
        request.audited = true;
        return payments.setAccount(request.actor, (request.params as { id: string }).id, request.body as PayAccountInput, origin(request));
      },
    );

    app.delete('/api/v1/messaging/services/:id/pay', { config: manage, schema: removeSchema }, async (request, reply) => {
      request.audited = true;
      await payments.removeAccount(request.actor, (request.params as { id: string }).id, origin(request));
      return reply.status(204).send();
    });

    // ---- figures

    app.get(
      '/api/v1/messaging/payments/summary',
      {
        config: read,
        schema: {
          tags: STAFF_TAGS,
          summary: 'Pay-link conversions per messaging service: sent, clicked, paid, and days from sending to paying',
          querystring: Type.Object(
            {
              since: Type.Optional(Type.String({ format: 'date-time', description: `pay links sent from this instant; default ${SUMMARY_DAYS} days ago` })),
              serviceId: Type.Optional(Type.String({ maxLength: 40 })),
            },
            { additionalProperties: false },
          ),
          response: { ...ProblemResponses, 404: Problem },
        },
      },
      async (request) => {
        const q = request.query as { since?: string; serviceId?: string };
        const since = q.since ? new Date(q.since) : new Date(Date.now() - SUMMARY_DAYS * 86_400_000);
        return payments.summary(since, q.serviceId);
      },
    );
  };
}

/** Strips the cookies other hooks set (the CSRF anchor): a short link gives its follower nothing to be known by. */
async function forgetCookies(_request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  reply.removeHeader('set-cookie');
  return payload;
}

const TITLES = { paid: 'paidTitle', processing: 'processingTitle', 'not-taken': 'notTakenTitle', 'too-many': 'tooManyTitle' } as const;

/**
 * Where following a link leads, or its page in the link's language (or the one its switch asks
 * for with ?lang=: these routes set no cookie to remember it).
 */
function show(request: FastifyRequest, reply: FastifyReply, f: Followed) {
  if ('redirect' in f)
    // The referrer would carry the code, which stands for the resident, to whoever runs the target.
    return reply.status(302).header('location', f.redirect).header('referrer-policy', 'no-referrer').header('cache-control', 'no-store').send();
  const p = f.payLink;
  const lang = chooseLanguage(request, reply, { stored: p.language });
  const path = request.url.split('?')[0];
  const withLang = (l: Language) => (l === p.language ? `/l/${p.code}` : `/l/${p.code}?lang=${l}`);
  if (f.page === 'too-many') for (const [k, v] of Object.entries(f.refusal.headers)) reply.header(k, v);
  return reply.page(
    PAGE,
    {
      ...pageLanguage(lang),
      languageSwitch: languageSwitch(lang, (l) => `${path}?lang=${l}`),
      pageTitle: payLinkText(lang, TITLES[f.page]),
      state: f.page,
      limit: f.page === 'too-many' ? f.limit : undefined,
      amount: formatMoney(lang, p.paid_amount_pence ?? p.amount_pence),
      description: p.description,
      paidOn: p.paid_at ? formatDate(lang, p.paid_at) : '',
      tryAgainUrl: withLang(lang),
    },
    f.page === 'too-many' ? f.refusal.status : 200,
  );
}

/** The send body, checked in Notify's words (one ValidationError per problem). */
function parseSend(channel: 'email' | 'sms', body: unknown): PaySendRequest {
  const to = channel === 'email' ? 'email_address' : 'phone_number';
  const b = checkBody(body ?? {}, {
    template_id: { type: 'uuid', required: true },
    [to]: { type: 'string', required: true },
    personalisation: { type: 'object' },
    reference: { type: 'string' },
    language: { type: 'string' },
    payment: { type: 'object', required: true },
    reminders: { type: 'array' },
    track_links: { type: 'boolean' },
  });
  const errors: FieldError[] = [];
  const add = (field: string, message: string) => errors.push({ field, message: `${field} ${message}` });
  if (b.language !== undefined && b.language !== 'en' && b.language !== 'cy') add('language', `${b.language} is not one of [en, cy]`);
  const p = b.payment as Record<string, unknown>;
  const extra = Object.keys(p).filter((k) => !['amount_pence', 'reference', 'description', 'return_url'].includes(k));
  if (extra.length) add('payment', `Additional properties are not allowed (${extra.join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  const amount = p.amount_pence;
  if (amount === undefined) add('payment.amount_pence', 'is a required property');
  else if (typeof amount !== 'number' || !Number.isInteger(amount) || amount < 1 || amount > MAX_AMOUNT_PENCE)
    add('payment.amount_pence', `must be a whole number of pence from 1 to ${MAX_AMOUNT_PENCE}`);
  for (const k of ['reference', 'description']) {
    const v = p[k];
    if (v === undefined) add(`payment.${k}`, 'is a required property');
    else if (typeof v !== 'string' || !v.trim()) add(`payment.${k}`, 'must be text');
    else if (v.length > 255) add(`payment.${k}`, 'must be 255 characters or fewer');
  }
  if (p.return_url !== undefined && (typeof p.return_url !== 'string' || !/^https?:\/\/\S+$/.test(p.return_url) || p.return_url.length > 2000)) add('payment.return_url', 'is not a valid url');
  const reminders = (b.reminders as unknown[] | undefined) ?? [];
  if (reminders.length > MAX_REMINDERS) add('reminders', `has ${reminders.length} items: send at most ${MAX_REMINDERS}`);
  for (const [i, r] of reminders.entries()) {
    const at = `reminders[${i}]`;
    if (!r || typeof r !== 'object' || Array.isArray(r)) {
      add(at, 'is not of type object');
      continue;
    }
    const x = r as Record<string, unknown>;
    const unexpected = Object.keys(x).filter((k) => k !== 'template_id' && k !== 'after_days');
    if (unexpected.length) add(at, `Additional properties are not allowed (${unexpected.join(', ')} ${unexpected.length === 1 ? 'was' : 'were'} unexpected)`);
    if (typeof x.template_id !== 'string' || !/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(x.template_id)) add(`${at}.template_id`, 'is not a valid UUID');
    if (typeof x.after_days !== 'number' || !Number.isInteger(x.after_days) || x.after_days < 1 || x.after_days > MAX_AFTER_DAYS)
      add(`${at}.after_days`, `must be a whole number of days from 1 to ${MAX_AFTER_DAYS}`);
  }
  const personalisation = (b.personalisation as Record<string, unknown>) ?? {};
  if (errors.length) throw messagingErrors.NOTIFY_VALIDATION(errors[0].message, errors);
  return {
    channel,
    templateId: canonicalUuid(String(b.template_id)),
    to: String(b[to]),
    personalisation,
    reference: (b.reference as string) ?? null,
    language: (b.language as 'en' | 'cy') ?? 'en',
    payment: {
      amountPence: amount as number,
      reference: (p.reference as string).trim(),
      description: (p.description as string).trim(),
      returnUrl: p.return_url as string | undefined,
    },
    reminders: reminders.map((r) => {
      const x = r as { template_id: string; after_days: number };
      return { templateId: canonicalUuid(x.template_id), afterDays: x.after_days };
    }),
    trackLinks: b.track_links === true,
  };
}
