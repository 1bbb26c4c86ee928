import { Type } from '@sinclair/typebox';
import { originOf as origin } from '../../platform/audit/origin.js';
import type { FastifyInstance } from 'fastify';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import type { CampaignInput, Campaigns } from './campaigns.service.js';
import type { Delivery } from './delivery.js';
import type { TemplateRow } from './messaging.repository.js';
import { KeyCreate, ProviderInput, ServiceCreate, TemplateInput } from './messaging.schema.js';
import type { MessagingService } from './messaging.service.js';
import { placeholders } from './render/index.js';

const TAGS = ['messaging'];
const manage = { permission: 'messaging:manage' };
const read = { permission: 'messages:read' };
const templatesManage = { permission: 'templates:manage' };
const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
const KeyParams = Type.Object({ id: Type.String({ maxLength: 40 }), keyId: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
const Loose = Type.Object({}, { additionalProperties: true });
const NotFound = { 404: Problem };

/** A template as Weft's own API shows it (the /v2 API shows Notify's shape). */
export function templateView(t: TemplateRow) {
  return {
    id: t.id,
    serviceId: t.service_id,
    name: t.name,
    type: t.type,
    version: t.version,
    subject: t.subject,
    body: t.body,
    subjectCy: t.subject_cy,
    bodyCy: t.body_cy,
    menu: t.options_json.menu,
    suggestions: t.options_json.suggestions,
    postage: t.options_json.postage,
    placeholders: placeholders([t.subject ?? '', t.body]),
    createdBy: t.created_by,
    updatedAt: t.version_created_at.toISOString(),
  };
}

/**
 * Weft's own messaging API for staff and council systems: sending services and their keys,
 * delivery-status callbacks, templates with versions and previews, and delivery providers.
 * Sending itself is the Notify-compatible API at /v2/.
 */
export function messagingRoutes(deps: { messaging: MessagingService; delivery: Delivery }) {
  const { messaging, delivery } = deps;
  return async function routes(app: FastifyInstance) {
    app.get('/api/v1/messaging/services', { config: read, schema: { tags: TAGS, summary: 'Messaging services', response: { ...ProblemResponses } } }, async () => ({
      services: await messaging.listServices(),
    }));

    app.post(
      '/api/v1/messaging/services',
      {
        config: manage,
        schema: { tags: TAGS, summary: 'Create a messaging service (Notify’s “service”: a sender with its own keys and limits)', body: ServiceCreate, response: { ...ProblemResponses } },
      },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await messaging.createService(request.actor, request.body as ServiceCreate, origin(request)));
      },
    );

    app.get(
      '/api/v1/messaging/services/:id',
      { config: read, schema: { tags: TAGS, summary: 'One messaging service', params: IdParams, response: { ...ProblemResponses, ...NotFound } } },
      async (request) => messaging.getService((request.params as { id: string }).id),
    );

    app.put(
      '/api/v1/messaging/services/:id/callback',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'Set (or, with url null, turn off) the delivery-status callback: Notify’s body, POSTed with the bearer token',
          params: IdParams,
          body: Type.Object({ url: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]), bearerToken: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
          response: { ...ProblemResponses, ...NotFound },
        },
      },
      async (request) => {
        request.audited = true;
        return messaging.setCallback(request.actor, (request.params as { id: string }).id, request.body as { url: string | null; bearerToken?: string }, origin(request));
      },
    );

    app.get(
      '/api/v1/messaging/services/:id/keys',
      { config: manage, schema: { tags: TAGS, summary: 'A service’s API keys (never their secrets)', params: IdParams, response: { ...ProblemResponses, ...NotFound } } },
      async (request) => ({
        keys: await messaging.listKeys((request.params as { id: string }).id),
      }),
    );

    app.post(
      '/api/v1/messaging/services/:id/keys',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'Create an API key in Notify’s format; the whole key is in this answer only',
          params: IdParams,
          body: KeyCreate,
          response: { ...ProblemResponses, ...NotFound },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const created = await messaging.createKey(request.actor, (request.params as { id: string }).id, request.body as KeyCreate, origin(request));
        return reply
          .status(201)
          .header('cache-control', 'no-store')
          .send({ ...created.key, apiKey: created.apiKey });
      },
    );

    app.delete(
      '/api/v1/messaging/services/:id/keys/:keyId',
      { config: manage, schema: { tags: TAGS, summary: 'Revoke an API key at once', params: KeyParams, response: { ...ProblemResponses, ...NotFound } } },
      async (request, reply) => {
        request.audited = true;
        const p = request.params as { id: string; keyId: string };
        await messaging.revokeKey(request.actor, p.id, p.keyId, origin(request));
        return reply.status(204).send();
      },
    );

    app.get(
      '/api/v1/messaging/services/:id/templates',
      { config: read, schema: { tags: TAGS, summary: 'A service’s templates', params: IdParams, response: { ...ProblemResponses, ...NotFound } } },
      async (request) => {
        const service = await messaging.getService((request.params as { id: string }).id);
        return { templates: (await messaging.listTemplates(service.id)).map(templateView) };
      },
    );

    app.post(
      '/api/v1/messaging/services/:id/templates',
      {
        config: templatesManage,
        schema: {
          tags: TAGS,
          summary: 'Create a template (email, sms, letter, voice or rcs), with an optional Welsh version',
          params: IdParams,
          body: TemplateInput,
          response: { ...ProblemResponses, ...NotFound },
        },
      },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(templateView(await messaging.createTemplate(request.actor, (request.params as { id: string }).id, request.body as TemplateInput, origin(request))));
      },
    );

    app.get(
      '/api/v1/messaging/templates/:id',
      { config: read, schema: { tags: TAGS, summary: 'A template, current version', params: IdParams, response: { ...ProblemResponses, ...NotFound } } },
      async (request) => templateView(await messaging.getTemplate((request.params as { id: string }).id)),
    );

    app.put(
      '/api/v1/messaging/templates/:id',
      {
        config: templatesManage,
        schema: { tags: TAGS, summary: 'Save a new version of a template; sent messages keep theirs', params: IdParams, body: TemplateInput, response: { ...ProblemResponses, ...NotFound } },
      },
      async (request) => {
        request.audited = true;
        return templateView(await messaging.updateTemplate(request.actor, (request.params as { id: string }).id, request.body as TemplateInput, origin(request)));
      },
    );

    app.get(
      '/api/v1/messaging/templates/:id/versions',
      { config: read, schema: { tags: TAGS, summary: 'Every version of a template, newest first', params: IdParams, response: { ...ProblemResponses, ...NotFound } } },
      async (request) => {
        const t = await messaging.getTemplate((request.params as { id: string }).id);
        return {
          versions: (await messaging.repo.templateVersions(t.id)).map((v) => ({
            version: v.version,
            name: v.name,
            subject: v.subject,
            body: v.body,
            createdBy: v.created_by,
            createdAt: v.created_at.toISOString(),
          })),
        };
      },
    );

    app.post(
      '/api/v1/messaging/templates/:id/preview',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'A template filled in: subject, text, HTML for email, SMS fragments and encoding, speech for voice; missing placeholders listed',
          params: IdParams,
          body: Type.Object({ personalisation: Type.Optional(Loose), language: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('cy')])) }, { additionalProperties: false }),
          response: { ...ProblemResponses, ...NotFound },
        },
      },
      async (request) => {
        const t = await messaging.getTemplate((request.params as { id: string }).id);
        const body = request.body as { personalisation?: Record<string, unknown>; language?: 'en' | 'cy' };
        const service = await messaging.getService(t.service_id);
        const r = messaging.render(t, body.personalisation ?? {}, body.language ?? 'en', service);
        return { type: t.type, version: t.version, subject: r.subject ?? null, body: r.body, html: r.html ?? null, billableUnits: r.billableUnits, missing: r.missing, problem: r.problem ?? null };
      },
    );

    app.get(
      '/api/v1/messaging/providers',
      { config: manage, schema: { tags: TAGS, summary: 'Delivery providers with their health since this process started', response: { ...ProblemResponses } } },
      async () => ({
        providers: (await messaging.listProviders()).map((p) => ({ ...p, health: delivery.health.get(p.id) ?? null })),
      }),
    );

    app.post(
      '/api/v1/messaging/providers',
      { config: manage, schema: { tags: TAGS, summary: 'Add a delivery provider; its secrets are sealed and never shown again', body: ProviderInput, response: { ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await messaging.createProvider(request.actor, request.body as ProviderInput, origin(request)));
      },
    );

    app.delete(
      '/api/v1/messaging/providers/:id',
      { config: manage, schema: { tags: TAGS, summary: 'Remove a provider', params: IdParams, response: { ...ProblemResponses, ...NotFound } } },
      async (request, reply) => {
        request.audited = true;
        await messaging.deleteProvider(request.actor, (request.params as { id: string }).id, origin(request));
        return reply.status(204).send();
      },
    );

    for (const [action, enabled] of [
      ['enable', true],
      ['disable', false],
    ] as const) {
      app.post(
        `/api/v1/messaging/providers/:id/${action}`,
        { config: manage, schema: { tags: TAGS, summary: `${enabled ? 'Enable' : 'Disable'} a provider`, params: IdParams, response: { ...ProblemResponses, ...NotFound } } },
        async (request, reply) => {
          request.audited = true;
          await messaging.setProviderEnabled(request.actor, (request.params as { id: string }).id, enabled, origin(request));
          return reply.status(204).send();
        },
      );
    }
  };
}

const Uuids = (description: string) => Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 500, uniqueItems: true, description }));
const CampaignCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    ratePerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    templateId: Type.Optional(Type.String({ format: 'uuid', description: 'a file campaign’s template' })),
    csv: Type.Optional(
      Type.String({ minLength: 1, description: 'a file campaign’s recipients: a header row with ‘email address’ or ‘phone number’ (or address lines for letters) and a column per placeholder' }),
    ),
    audience: Type.Optional(
      Type.Object(
        {
          topic: Type.String({ minLength: 1, maxLength: 60, description: 'a topic code, like school-closures' }),
          areaIds: Uuids('areas (wards): residents subscribed to the topic there, for their home, by radius or at a place in it'),
          siteIds: Uuids('places (a school, a library): residents subscribed to them, or whose radius reaches them'),
        },
        { additionalProperties: false, description: 'instead of a file: residents subscribed to a topic, each sent on the channel they prefer, in their language' },
      ),
    ),
    templates: Type.Optional(
      Type.Object(Object.fromEntries(['email', 'sms', 'voice', 'rcs', 'letter'].map((c) => [c, Type.Optional(Type.String({ format: 'uuid' }))])), {
        additionalProperties: false,
        description: 'an audience campaign’s template for each channel it may go on',
      }),
    ),
    personalisation: Type.Optional(
      Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 2000 }), { description: 'values every message of an audience campaign shares; ((name)) is each resident’s' }),
    ),
    urgent: Type.Optional(Type.Boolean({ description: 'an audience campaign that is urgent is not held by residents’ quiet hours' })),
  },
  { additionalProperties: false },
);

/** Campaigns: check a file, start (now or later), pause, resume, cancel, follow progress. */
export function campaignRoutes(deps: { campaigns: Campaigns; importBodyLimit: number }) {
  const { campaigns } = deps;
  const send = { permission: 'messages:send' };
  return async function routes(app: FastifyInstance) {
    app.post(
      '/api/v1/messaging/services/:id/campaigns',
      {
        config: send,
        bodyLimit: deps.importBodyLimit,
        schema: {
          tags: TAGS,
          summary: 'Check a recipient file against a template, or find an audience of subscribed residents, and save it as a draft campaign (nothing is sent until it is started)',
          params: IdParams,
          body: CampaignCreate,
          response: { ...ProblemResponses, ...NotFound },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const view = await campaigns.create(request.actor, (request.params as { id: string }).id, request.body as CampaignInput, origin(request));
        return reply.status(201).send(view);
      },
    );

    app.get(
      '/api/v1/messaging/campaigns',
      {
        config: read,
        schema: { tags: TAGS, summary: 'Campaigns, newest first', querystring: Type.Object({ serviceId: Type.Optional(Type.String({ format: 'uuid' })) }), response: { ...ProblemResponses } },
      },
      async (request) => ({
        campaigns: await campaigns.list((request.query as { serviceId?: string }).serviceId),
      }),
    );

    app.get(
      '/api/v1/messaging/campaigns/:id',
      { config: read, schema: { tags: TAGS, summary: 'A campaign and its progress: notifications by status', params: IdParams, response: { ...ProblemResponses, ...NotFound } } },
      async (request) => campaigns.get((request.params as { id: string }).id),
    );

    app.post(
      '/api/v1/messaging/campaigns/:id/start',
      {
        config: send,
        schema: {
          tags: TAGS,
          summary: 'Start a draft now, or at scheduledFor',
          params: IdParams,
          body: Type.Optional(Type.Object({ scheduledFor: Type.Optional(Type.String({ format: 'date-time' })) }, { additionalProperties: false })),
          response: { ...ProblemResponses, ...NotFound },
        },
      },
      async (request) => {
        request.audited = true;
        const at = (request.body as { scheduledFor?: string } | undefined)?.scheduledFor;
        return campaigns.start(request.actor, (request.params as { id: string }).id, at ? new Date(at) : null, origin(request));
      },
    );

    for (const action of ['pause', 'resume', 'cancel'] as const) {
      app.post(
        `/api/v1/messaging/campaigns/:id/${action}`,
        { config: send, schema: { tags: TAGS, summary: `${action[0].toUpperCase()}${action.slice(1)} a campaign`, params: IdParams, response: { ...ProblemResponses, ...NotFound } } },
        async (request) => {
          request.audited = true;
          return campaigns[action](request.actor, (request.params as { id: string }).id, origin(request));
        },
      );
    }
  };
}
