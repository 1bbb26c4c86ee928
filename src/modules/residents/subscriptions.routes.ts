import { Type } from '@sinclair/typebox';
import { originOf as origin } from '../../platform/audit/origin.js';
import type { FastifyInstance } from 'fastify';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import { SubscriptionInput, TOPIC_PATTERN, TopicInput, TopicUpdate } from './residents.schema.js';
import type { ResidentsService } from './residents.service.js';

const TAGS = ['residents'];
const CodeParams = Type.Object({ code: Type.String({ pattern: TOPIC_PATTERN }) }, { additionalProperties: false });
const ResidentParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
const SubscriptionParams = Type.Object({ id: Type.String({ maxLength: 40 }), subscriptionId: Type.String({ maxLength: 40 }) }, { additionalProperties: false });

/** Topics (staff configure them) and residents' subscriptions; every change audited. */
export function subscriptionsRoutes(residents: ResidentsService) {
  return async function routes(app: FastifyInstance) {
    const readTopics = { permission: ['residents:read', 'topics:manage'] };
    const manageTopics = { permission: 'topics:manage' };

    app.get('/api/v1/topics', { config: readTopics, schema: { tags: TAGS, summary: 'The topics residents subscribe to', response: { ...ProblemResponses } } }, async () => ({
      topics: await residents.topics.list(),
    }));

    app.post('/api/v1/topics', { config: manageTopics, schema: { tags: TAGS, summary: 'Add a topic', body: TopicInput, response: { ...ProblemResponses, 409: Problem } } }, async (request, reply) => {
      request.audited = true;
      return reply.status(201).send(await residents.topics.create(request.actor, request.body as TopicInput, origin(request)));
    });

    app.put(
      '/api/v1/topics/:code',
      {
        config: manageTopics,
        schema: { tags: TAGS, summary: 'Change a topic, or turn it off or on (topics are never deleted)', params: CodeParams, body: TopicUpdate, response: { ...ProblemResponses, 404: Problem } },
      },
      async (request) => {
        request.audited = true;
        return residents.topics.update(request.actor, (request.params as { code: string }).code, request.body as TopicUpdate, origin(request));
      },
    );

    app.get(
      '/api/v1/residents/:id/subscriptions',
      { config: { permission: 'residents:read' }, schema: { tags: TAGS, summary: 'A resident’s subscriptions', params: ResidentParams, response: { ...ProblemResponses, 404: Problem } } },
      async (request) => {
        request.audited = true;
        return { subscriptions: await residents.viewSubscriptions(request.actor, (request.params as { id: string }).id, origin(request)) };
      },
    );

    app.post(
      '/api/v1/residents/:id/subscriptions',
      {
        config: { permission: 'residents:manage' },
        schema: {
          tags: TAGS,
          summary: 'Subscribe a resident to a topic: at home, in an area, within a radius of home, or at a site',
          params: ResidentParams,
          body: SubscriptionInput,
          response: { ...ProblemResponses, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const subscription = await residents.subscribe(request.actor, (request.params as { id: string }).id, request.body as SubscriptionInput, { ...origin(request), source: 'api' });
        return reply.status(201).send(subscription);
      },
    );

    app.delete(
      '/api/v1/residents/:id/subscriptions/:subscriptionId',
      {
        config: { permission: 'residents:manage' },
        schema: { tags: TAGS, summary: 'Remove one of a resident’s subscriptions', params: SubscriptionParams, response: { ...ProblemResponses, 404: Problem } },
      },
      async (request, reply) => {
        request.audited = true;
        const p = request.params as { id: string; subscriptionId: string };
        await residents.unsubscribe(request.actor, p.id, p.subscriptionId, origin(request));
        return reply.status(204).send();
      },
    );
  };
}
