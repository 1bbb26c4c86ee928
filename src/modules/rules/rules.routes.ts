import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { originOf as origin } from '../../platform/audit/origin.js';
import { ProblemResponses } from '../../platform/web/openapi.js';
import { daqiBand } from './daqi.js';
import { AlarmAssign, AlarmNote, AlarmQuery, IdParams, RuleCreate, TestQuery } from './rules.schema.js';
import { homesHidden, shownAlarm } from './alarms.pages.js';
import { carParksApi } from './car-parks.routes.js';
import { type RulesPagesDeps, rulesPages } from './rules.pages.js';

const TAGS = ['rules'];
const ALARM_TAGS = ['alarms'];
const readRules = { permission: 'rules:read' };
const manageRules = { permission: 'rules:manage' };
const readAlarms = { permission: 'alarms:read' };
const workAlarms = { permission: 'alarms:manage' };
const NotFound = { 404: ProblemResponses[400] };
type Id = { id: string };

export function rulesApi(deps: RulesPagesDeps) {
  const { rules } = deps;
  return async (app: FastifyInstance) => {
    await app.register(rulesPages(deps));
    await app.register(carParksApi(rules));
    app.get('/api/v1/rules', { config: readRules, schema: { tags: TAGS, summary: 'Every rule, enabled or not, with its sentence in plain English' } }, async () => {
      const names = await rules.names();
      const { ruleSentence } = await import('./describe.js');
      return { items: (await rules.list()).map((r) => ({ ...r, sentence: ruleSentence(r, names) })) };
    });

    app.post(
      '/api/v1/rules',
      { config: manageRules, schema: { tags: TAGS, summary: 'Create a rule (validated; version 1)', body: RuleCreate, response: { ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        const rule = await rules.create(request.actor, request.body as RuleCreate, origin(request));
        return reply.status(201).send({ ...rule, sentence: await rules.sentence(rule) });
      },
    );

    app.post(
      '/api/v1/rules/trial',
      {
        config: readRules,
        schema: {
          tags: TAGS,
          summary: 'Try a rule on the stored readings of the last hours (default 24): how often it would have fired; nothing is raised or sent',
          body: RuleCreate,
          querystring: TestQuery,
          response: { ...ProblemResponses },
        },
      },
      async (request) => {
        const input = request.body as RuleCreate;
        return { ...(await rules.trial(input, (request.query as { hours?: number }).hours ?? 24)), sentence: await rules.sentence(input) };
      },
    );

    app.get('/api/v1/rules/:id', { config: readRules, schema: { tags: TAGS, summary: 'One rule', params: IdParams, response: { ...NotFound, ...ProblemResponses } } }, async (request) => {
      const rule = await rules.get((request.params as Id).id);
      return { ...rule, sentence: await rules.sentence(rule) };
    });

    app.put(
      '/api/v1/rules/:id',
      { config: manageRules, schema: { tags: TAGS, summary: 'Change a rule: a new version', params: IdParams, body: RuleCreate, response: { ...NotFound, ...ProblemResponses } } },
      async (request) => {
        request.audited = true;
        const rule = await rules.update(request.actor, (request.params as Id).id, request.body as RuleCreate, origin(request));
        return { ...rule, sentence: await rules.sentence(rule) };
      },
    );

    app.get(
      '/api/v1/rules/:id/versions',
      { config: readRules, schema: { tags: TAGS, summary: 'Every version of a rule, newest first', params: IdParams, response: { ...NotFound, ...ProblemResponses } } },
      async (request) => ({
        items: await rules.versions((request.params as Id).id),
      }),
    );

    for (const [verb, enabled] of [
      ['enable', true],
      ['disable', false],
    ] as const) {
      app.post(
        `/api/v1/rules/:id/${verb}`,
        { config: manageRules, schema: { tags: TAGS, summary: `${verb === 'enable' ? 'Enable' : 'Disable'} a rule`, params: IdParams, response: { ...NotFound, ...ProblemResponses } } },
        async (request) => {
          request.audited = true;
          return rules.setEnabled(request.actor, (request.params as Id).id, enabled, origin(request));
        },
      );
    }

    app.get(
      '/api/v1/alarms',
      {
        config: readAlarms,
        schema: { tags: ALARM_TAGS, summary: 'Alarms, newest first (filters: status — open for active and acknowledged — severity, team, area, type, rule)', querystring: AlarmQuery },
      },
      async (request) => {
        const hidden = await homesHidden(deps, request.actor);
        return { items: (await rules.alarms.list(request.query as AlarmQuery)).map((a) => shownAlarm(a, hidden(a))) };
      },
    );

    app.get(
      '/api/v1/alarms/:id',
      { config: readAlarms, schema: { tags: ALARM_TAGS, summary: 'One alarm with its history', params: IdParams, response: { ...NotFound, ...ProblemResponses } } },
      async (request) => {
        const { alarm, history } = await rules.alarms.get((request.params as Id).id);
        const hidden = (await homesHidden(deps, request.actor))(alarm);
        return { ...shownAlarm(alarm, hidden), history: hidden ? history.map((e) => ({ ...e, note: null })) : history };
      },
    );

    const change = (verb: 'acknowledge' | 'comment' | 'clear', summary: string) =>
      app.post(
        `/api/v1/alarms/:id/${verb}`,
        { config: workAlarms, schema: { tags: ALARM_TAGS, summary, params: IdParams, body: AlarmNote, response: { ...NotFound, ...ProblemResponses } } },
        async (request) => {
          request.audited = true;
          const { note } = (request.body ?? {}) as { note?: string };
          return rules.alarms[verb](request.actor, (request.params as Id).id, note, origin(request));
        },
      );
    change('acknowledge', 'Acknowledge an active alarm: escalation stops');
    change('comment', 'Add a note to an alarm');
    change('clear', 'Clear an alarm by hand');

    app.post(
      '/api/v1/alarms/:id/assign',
      {
        config: workAlarms,
        schema: { tags: ALARM_TAGS, summary: 'Assign an alarm to a member of staff, or unassign it', params: IdParams, body: AlarmAssign, response: { ...NotFound, ...ProblemResponses } },
      },
      async (request) => {
        request.audited = true;
        const body = request.body as { assigneeId: string | null; note?: string };
        return rules.alarms.assign(request.actor, (request.params as Id).id, body.assigneeId, body.note, origin(request));
      },
    );

    app.get(
      '/api/v1/air-quality',
      {
        config: { permission: 'rules:read' },
        schema: {
          tags: TAGS,
          summary: 'Today’s Daily Air Quality Index by area and by monitor, from the readings this Weft has checked',
          querystring: Type.Object({}, { additionalProperties: false }),
        },
      },
      async () => {
        const { devices, areas } = await rules.daqi();
        const names = await rules.directory.areas();
        return {
          areas: [...areas].map(([id, r]) => ({ areaId: id, areaName: names.get(id) ?? null, index: r.index, band: daqiBand(r.index), pollutant: r.pollutant })),
          devices: [...devices].map(([id, r]) => ({ deviceId: id, index: r.index, band: r.band, pollutant: r.pollutant, pollutants: r.pollutants })),
        };
      },
    );
  };
}
