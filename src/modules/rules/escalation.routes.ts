import type { FastifyInstance } from 'fastify';
import { originOf as origin } from '../../platform/audit/origin.js';
import { can } from '../../platform/auth/actor.js';
import { ProblemResponses } from '../../platform/web/openapi.js';
import type { AlarmActions } from './actions.js';
import { DeliveryQuery, PolicyInput, PolicyParams, RotaInput, SecretInput, SecretParams, TeamParams } from './escalation.schema.js';
import type { EscalationService } from './escalation.service.js';

const TAGS = ['alarms'];
const read = { permission: 'alarms:read' };
const manage = { permission: 'rules:manage' };
const NotFound = { 404: ProblemResponses[400] };
type Id = { id: string };
type Team = { teamId: string };
type Name = { name: string };

/** Escalation policies, on-call rotas, webhook secrets and the webhook delivery log. */
export function escalationApi(deps: { escalation: EscalationService; actions: AlarmActions }) {
  const { escalation, actions } = deps;
  return async (app: FastifyInstance) => {
    app.get('/api/v1/escalation-policies', { config: read, schema: { tags: TAGS, summary: 'Every escalation policy' } }, async () => ({ items: await escalation.listPolicies() }));

    app.post(
      '/api/v1/escalation-policies',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'Create an escalation policy: steps of who is told on which channel so many minutes after an alarm is raised without acknowledgement',
          body: PolicyInput,
          response: { ...ProblemResponses },
        },
      },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await escalation.createPolicy(request.actor, request.body as PolicyInput, origin(request)));
      },
    );

    app.get(
      '/api/v1/escalation-policies/:id',
      { config: read, schema: { tags: TAGS, summary: 'One escalation policy', params: PolicyParams, response: { ...NotFound, ...ProblemResponses } } },
      async (request) => escalation.getPolicy((request.params as Id).id),
    );

    app.put(
      '/api/v1/escalation-policies/:id',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'Change an escalation policy (alarms already raised follow the new steps)',
          params: PolicyParams,
          body: PolicyInput,
          response: { ...NotFound, ...ProblemResponses },
        },
      },
      async (request) => {
        request.audited = true;
        return escalation.updatePolicy(request.actor, (request.params as Id).id, request.body as PolicyInput, origin(request));
      },
    );

    app.delete(
      '/api/v1/escalation-policies/:id',
      { config: manage, schema: { tags: TAGS, summary: 'Delete an escalation policy no rule uses', params: PolicyParams, response: { ...NotFound, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        await escalation.deletePolicy(request.actor, (request.params as Id).id, origin(request));
        return reply.status(204).send();
      },
    );

    app.get('/api/v1/oncall', { config: read, schema: { tags: TAGS, summary: 'Every team’s on-call rota: who is on call now and the shifts to come' } }, async (request) => ({
      items: await escalation.listRotas(can(request.actor, 'rules:manage')),
    }));

    app.get(
      '/api/v1/oncall/:teamId',
      {
        config: read,
        schema: { tags: TAGS, summary: 'A team’s on-call rota (on-call mobiles only for those who may change rotas)', params: TeamParams, response: { ...NotFound, ...ProblemResponses } },
      },
      async (request) => escalation.getRota((request.params as Team).teamId, can(request.actor, 'rules:manage')),
    );

    app.put(
      '/api/v1/oncall/:teamId',
      {
        config: manage,
        schema: { tags: TAGS, summary: 'Set a team’s on-call rota: its shifts, replaced whole (they may not overlap)', params: TeamParams, body: RotaInput, response: { ...ProblemResponses } },
      },
      async (request) => {
        request.audited = true;
        return escalation.putRota(request.actor, (request.params as Team).teamId, request.body as RotaInput, origin(request));
      },
    );

    app.delete(
      '/api/v1/oncall/:teamId',
      { config: manage, schema: { tags: TAGS, summary: 'Delete a team’s on-call rota', params: TeamParams, response: { ...NotFound, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        await escalation.deleteRota(request.actor, (request.params as Team).teamId, origin(request));
        return reply.status(204).send();
      },
    );

    app.get(
      '/api/v1/webhook-secrets',
      { config: { permission: 'rules:read' }, schema: { tags: TAGS, summary: 'The names of the secrets that sign rules’ webhooks (never the secrets)' } },
      async () => ({
        items: await actions.listSecrets(),
      }),
    );

    app.put(
      '/api/v1/webhook-secrets/:name',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'Set a webhook secret (a rule’s webhook action names it as secretRef); made for you when not given, and shown in this answer only',
          params: SecretParams,
          body: SecretInput,
          response: { ...ProblemResponses },
        },
      },
      async (request) => {
        request.audited = true;
        return actions.putSecret(request.actor, (request.params as Name).name, (request.body as { secret?: string } | undefined)?.secret, origin(request));
      },
    );

    app.delete(
      '/api/v1/webhook-secrets/:name',
      { config: manage, schema: { tags: TAGS, summary: 'Delete a webhook secret', params: SecretParams, response: { ...NotFound, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        await actions.deleteSecret(request.actor, (request.params as Name).name, origin(request));
        return reply.status(204).send();
      },
    );

    app.get(
      '/api/v1/webhook-deliveries',
      { config: read, schema: { tags: TAGS, summary: 'Rules’ webhook attempts, newest first: status code or error, by alarm or rule', querystring: DeliveryQuery } },
      async (request) => ({ items: await actions.deliveries(request.query as DeliveryQuery) }),
    );
  };
}
