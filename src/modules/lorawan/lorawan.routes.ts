import type { FastifyInstance, FastifyReply } from 'fastify';
import { originOf as origin } from '../../platform/audit/origin.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import { readForm } from '../../platform/web/forms.js';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import { errorFor, errorList } from '../../platform/web/web.js';
import type { EstateService } from '../estate/index.js';
import type { IntegrationRow } from './lorawan.repository.js';
import { ChirpstackQuery, CreatedIntegration, IdParams, Integration, IntegrationCreate, KIND_NAMES, UplinkResult, WebhookBody } from './lorawan.schema.js';
import type { LorawanService } from './lorawan.service.js';

const VIEWS = 'modules/lorawan/views';
export const TTS_PATH = '/api/v1/lorawan/tts/uplink';
export const CHIRPSTACK_PATH = '/api/v1/lorawan/chirpstack';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function lorawanRoutes(deps: { lorawan: LorawanService; estate: EstateService; publicUrl: string }) {
  const { lorawan, estate, publicUrl } = deps;
  const webhookUrl = (kind: string) => `${publicUrl}${kind === 'tts' ? TTS_PATH : CHIRPSTACK_PATH}`;
  const toApi = (row: IntegrationRow) => ({
    id: row.id,
    name: row.name,
    kind: row.kind,
    tokenPrefix: row.token_prefix,
    defaultProfileId: row.default_profile_id,
    webhookUrl: webhookUrl(row.kind),
    createdAt: row.created_at.toISOString(),
    revokedAt: iso(row.revoked_at),
  });

  return async (app: FastifyInstance) => {
    // ---- Webhooks from network servers ----
    // A busy LoRaWAN application sends far more than an API client's per-minute allowance.
    const ingest = { permission: 'telemetry:ingest', rateLimit: { max: 60_000, timeWindow: '1 minute' } };
    const webhookResponses = {
      200: UplinkResult,
      204: { type: 'null', description: 'Accepted; nothing to store (not an uplink, or an uplink without application data)' },
      ...ProblemResponses,
      404: Problem,
    };

    app.post(
      TTS_PATH,
      {
        config: ingest,
        schema: {
          tags: ['lorawan'],
          summary: 'The Things Stack v3 webhook: uplink messages',
          description:
            'In the webhook: format JSON, base URL …/api/v1/lorawan/tts, uplink message path /uplink, and the header `Authorization: Bearer wint_…`. Other message types sent here are accepted with 204.',
          body: WebhookBody,
          response: webhookResponses,
        },
      },
      async (request, reply) => {
        const result = await lorawan.ttsMessage(request.actor, request.body, origin(request));
        return result ? result : reply.status(204).send();
      },
    );

    app.post(
      CHIRPSTACK_PATH,
      {
        config: ingest,
        schema: {
          tags: ['lorawan'],
          summary: 'ChirpStack v4 HTTP integration: events (?event=up, join, status, …)',
          description:
            'Set this as the HTTP integration’s event endpoint, payload encoding JSON, with the header `Authorization: Bearer wint_…`. `up` stores readings; `status` records the battery level; other events are accepted with 204.',
          querystring: ChirpstackQuery,
          body: WebhookBody,
          response: webhookResponses,
        },
      },
      async (request, reply) => {
        const { event } = request.query as { event?: string };
        const result = await lorawan.chirpstackEvent(request.actor, event, request.body, origin(request));
        return result ? result : reply.status(204).send();
      },
    );

    // ---- Managing integrations ----
    const manage = { permission: 'estate:manage' };

    app.get(
      '/api/v1/lorawan/integrations',
      { config: manage, schema: { tags: ['lorawan'], summary: 'List LoRaWAN integrations (never their tokens)', response: { 200: { type: 'array', items: Integration }, ...ProblemResponses } } },
      async () => (await lorawan.listIntegrations()).map(toApi),
    );

    app.post(
      '/api/v1/lorawan/integrations',
      {
        config: manage,
        schema: {
          tags: ['lorawan'],
          summary: 'Create a LoRaWAN integration; its whole token is in this response only',
          body: IntegrationCreate,
          response: { 201: CreatedIntegration, ...ProblemResponses, 404: Problem },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const { row, token } = await lorawan.createIntegration(request.actor, request.body as IntegrationCreate, origin(request));
        return reply
          .status(201)
          .header('cache-control', 'no-store')
          .send({ ...toApi(row), token });
      },
    );

    app.post(
      '/api/v1/lorawan/integrations/:id/revoke',
      { config: manage, schema: { tags: ['lorawan'], summary: 'Revoke an integration’s token at once', params: IdParams, response: { 200: Integration, ...ProblemResponses, 404: Problem } } },
      async (request) => {
        request.audited = true;
        return toApi(await lorawan.revokeIntegration(request.actor, (request.params as { id: string }).id, origin(request)));
      },
    );

    // ---- Console pages ----
    const page = { permission: 'estate:manage', page: 'console' as const };

    app.get('/console/lorawan', { config: page, schema: { hide: true } }, async (_request, reply) => {
      const profiles = new Map((await estate.listProfiles()).map((p) => [p.id, p.name]));
      const integrations = (await lorawan.listIntegrations()).map((row) => ({
        ...row,
        kindName: KIND_NAMES[row.kind as 'tts'],
        profileName: row.default_profile_id ? profiles.get(row.default_profile_id) : undefined,
      }));
      return reply.page(`${VIEWS}/integrations.njk`, {
        pageTitle: 'LoRaWAN integrations',
        integrations,
        stats: [
          { name: KIND_NAMES.tts, ...lorawan.stats.tts },
          { name: KIND_NAMES.chirpstack, ...lorawan.stats.chirpstack },
        ],
      });
    });

    const showNew = async (reply: FastifyReply, values: Record<string, unknown>, fields: FieldError[]) => {
      const profiles = await estate.listProfiles();
      return reply.page(
        `${VIEWS}/integration-new.njk`,
        {
          pageTitle: 'Add a LoRaWAN integration',
          values,
          profileItems: [{ value: '', text: 'None: refuse uplinks from unregistered devices' }, ...profiles.map((p) => ({ value: p.key, text: p.name, selected: values.defaultProfile === p.key }))],
          errors: errorList(fields),
          fieldErrors: Object.fromEntries(['name', 'kind', 'defaultProfile'].map((f) => [f, errorFor(fields, f)])),
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/lorawan/new', { config: page, schema: { hide: true } }, async (_request, reply) => showNew(reply, {}, []));

    app.post('/console/lorawan/new', { config: page, schema: { hide: true } }, async (request, reply) => {
      const body = { ...(request.body as Record<string, unknown>) };
      if (body.defaultProfile === '') body.defaultProfile = null;
      const { value, errors } = readForm(IntegrationCreate, body);
      if (errors.length) return showNew(reply, body, errors);
      try {
        request.audited = true;
        const { row, token } = await lorawan.createIntegration(request.actor, value, origin(request));
        return reply.page(`${VIEWS}/integration-created.njk`, { pageTitle: 'LoRaWAN integration created', row, token, kindName: KIND_NAMES[row.kind as 'tts'], webhookUrl: webhookUrl(row.kind) });
      } catch (err) {
        if (err instanceof AppError && err.status < 500) return showNew(reply, body, err.fields.length ? err.fields : [{ field: 'defaultProfile', message: err.message }]);
        throw err;
      }
    });

    app.post('/console/lorawan/:id/revoke', { config: page, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      request.audited = true;
      await lorawan.revokeIntegration(request.actor, (request.params as { id: string }).id, origin(request));
      return reply.redirect('/console/lorawan', 303);
    });
  };
}
