import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { originOf as origin } from '../../platform/audit/origin.js';
import { type Actor, can } from '../../platform/auth/actor.js';
import { permissionsOf } from '../../platform/auth/roles.js';
import { AppError, type FieldError, platformErrors } from '../../platform/errors.js';
import { eventStreamsFor } from '../../platform/web/sse.js';
import { errorFor, errorList } from '../../platform/web/web.js';
import { ALARM_CHANGED, type AlarmChanged } from './alarms.service.js';
import type { RulesPagesDeps } from './rules.pages.js';
import { SEVERITY_NAMES, TYPE_NAMES } from './rules.forms.js';
import { metricName } from './describe.js';
import { type AlarmEventView, AlarmQuery, type AlarmView, type ConditionType, IdParams, SEVERITIES } from './rules.schema.js';

const VIEWS = 'modules/rules/views';
const readPage = { permission: 'alarms:read', page: 'console' as const };
const managePage = { permission: 'alarms:manage', page: 'console' as const };
const BOARD_SIZE = 100;
const NOTE_MAX = 2000;

const STATUS_ITEMS = [
  { value: 'open', text: 'Open (active or acknowledged)' },
  { value: 'active', text: 'Active' },
  { value: 'acknowledged', text: 'Acknowledged' },
  { value: 'cleared', text: 'Cleared' },
];
const KIND_NAMES: Record<string, string> = {
  raised: 'Raised',
  acknowledged: 'Acknowledged',
  assigned: 'Assigned',
  comment: 'Comment',
  cleared: 'Cleared',
  escalated: 'Escalated',
  action: 'Action taken',
  notified: 'Told',
};
const SAVED: Record<string, string> = { acknowledge: 'Alarm acknowledged.', assign: 'Assignment saved.', comment: 'Comment added.', clear: 'Alarm cleared.' };
const PICK_SOMEONE = 'Choose someone from the list, or No one';
const HIDDEN_NAME = 'A resident’s home';
const HIDDEN_TEXT = 'Hidden: alarms from residents’ homes need the homes:read permission.';

export function alarmsPages(deps: RulesPagesDeps) {
  return async (app: FastifyInstance) => {
    await app.register(boardPage(deps));
    await app.register(alarmStream(deps));
    await app.register(alarmPage(deps));
  };
}

/**
 * Alarms from residents' homes name the resident (their devices do): staff without homes:read
 * see that there is one, not whose. Telecare homes are the only personal sites.
 */
export async function homesHidden(deps: RulesPagesDeps, actor: Actor): Promise<(a: AlarmView) => boolean> {
  if (deps.estate.maySeeHomes(actor)) return () => false;
  const homes = new Set<string>();
  for (const d of await deps.rules.directory.all()) {
    if (d.siteType !== 'home') continue;
    homes.add(d.id);
    if (d.siteId) homes.add(d.siteId);
  }
  return (a) => (a.deviceId !== null && homes.has(a.deviceId)) || (a.siteId !== null && homes.has(a.siteId));
}

/** An alarm as someone sees it: a home's hidden from those who may not see homes. */
export function shownAlarm(a: AlarmView, hidden: boolean) {
  return hidden ? { ...a, subjectName: HIDDEN_NAME, message: HIDDEN_TEXT, hidden } : { ...a, hidden };
}

/** The board's filters from its GET form: empty fields ignored, a bad one makes the board say so. */
function boardQuery(request: FastifyRequest) {
  const given = request.query as Record<string, unknown>;
  const raw = Object.fromEntries(Object.entries(given).filter(([k, v]) => typeof v === 'string' && v !== '' && k !== 'limit')) as Record<string, string>;
  // With no status chosen at all, the board shows what is still open.
  if (!('status' in given)) raw.status = 'open';
  const converted = Value.Convert(AlarmQuery, { ...raw });
  const valid = Value.Check(AlarmQuery, converted);
  return { query: valid ? (converted as AlarmQuery) : { status: 'open' as const }, raw, invalid: !valid };
}

const select = (list: { value: string; text: string }[], chosen: string | undefined, any = 'Any') => [{ value: '', text: any }, ...list.map((o) => ({ ...o, selected: o.value === chosen }))];

async function names(deps: RulesPagesDeps) {
  const [areas, teams, users] = await Promise.all([deps.estate.listAreas(), deps.teams(), deps.staff.listUsers()]);
  return {
    areas: new Map(areas.map((a) => [a.id, a.name])),
    teams: new Map(teams.map((t) => [t.id, t.name])),
    users: new Map(users.map((u) => [u.id, u.name])),
    assignable: users.filter((u) => u.is_active && permissionsOf(u.roles).has('alarms:manage')),
  };
}

function boardPage(deps: RulesPagesDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/alarms', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const { query, raw, invalid } = boardQuery(request);
      const [items, n, hidden] = await Promise.all([deps.rules.alarms.list({ ...query, limit: BOARD_SIZE }), names(deps), homesHidden(deps, request.actor)]);
      return reply.page(`${VIEWS}/board.njk`, {
        pageTitle: 'Alarms',
        subnav: subnav(request.actor, '/console/alarms'),
        items: items.map((a) => ({
          ...shownAlarm(a, hidden(a)),
          areaName: a.areaId ? (n.areas.get(a.areaId) ?? null) : null,
          assigneeName: a.assigneeId ? (n.users.get(a.assigneeId) ?? 'Someone') : null,
        })),
        full: items.length === BOARD_SIZE,
        invalid,
        statusItems: select(STATUS_ITEMS, raw.status, 'Any status'),
        severityItems: select(
          SEVERITIES.map((s) => ({ value: s, text: SEVERITY_NAMES[s] })),
          raw.severity,
        ),
        teamItems: select(
          [...n.teams].map(([value, text]) => ({ value, text })),
          raw.team,
        ),
        areaItems: select(
          [...n.areas].map(([value, text]) => ({ value, text })),
          raw.area,
        ),
        typeItems: select(
          Object.entries(TYPE_NAMES).map(([value, text]) => ({ value, text })),
          raw.type,
        ),
      });
    });
  };
}

/** The sub-navigation of the rules pages: only what the person may open. */
export function subnav(actor: Actor, current: string) {
  return [
    { href: '/console/alarms', text: 'Alarms', permission: 'alarms:read' },
    { href: '/console/rules', text: 'Rules', permission: 'rules:read' },
    { href: '/console/air-quality', text: 'Air quality', permission: 'rules:read' },
    { href: '/console/car-parks', text: 'Car parks', permission: 'rules:read' },
  ]
    .filter((i) => can(actor, i.permission))
    .map((i) => ({ href: i.href, text: i.text, current: i.href === current }));
}

/**
 * Every change of any alarm as Server-Sent Events (event "alarm": id, kind, status, severity),
 * from this process and, on PostgreSQL, from every other. The board's script refreshes its table.
 */
function alarmStream({ events }: RulesPagesDeps) {
  return async (app: FastifyInstance) => {
    const streams = eventStreamsFor(app);
    app.get('/console/alarms/events', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      streams.open(request, reply, (send) => events.on(ALARM_CHANGED, (p: AlarmChanged) => send('alarm', { id: p.id, kind: p.kind, status: p.status, severity: p.severity })));
    });
  };
}

/** Who did something in an alarm's history, in words. */
function actorName(e: AlarmEventView, users: Map<string, string>): string {
  if (e.actorType === 'user') return (e.actorId && users.get(e.actorId)) || 'A member of staff';
  if (e.actorType === 'key') return 'A system, with an API key';
  return 'Weft';
}

/** What the alarm's value means, by what raised it. */
const VALUE_LABELS: Partial<Record<ConditionType, string>> = {
  daqi: 'Index when raised',
  occupancy: 'Free spaces when raised',
  no_data: 'Minutes without data',
  rate_of_change: 'Rise when raised',
};

/** Where to look at what raised the alarm, as far as the person may. */
function dataLinks(actor: Actor, a: AlarmView, type: ConditionType | undefined) {
  const links: { href: string; text: string }[] = [];
  if (type === 'daqi' && can(actor, 'rules:read')) links.push({ href: '/console/air-quality', text: 'Air quality today' });
  if (type === 'occupancy' && can(actor, 'rules:read')) links.push({ href: '/console/car-parks', text: 'Car parks now' });
  if (a.deviceId && can(actor, 'telemetry:read'))
    links.push({ href: `/console/telemetry/devices/${a.deviceId}${a.metric && a.metric !== '*' ? `?metric=${encodeURIComponent(a.metric)}` : ''}`, text: 'The device’s readings' });
  if (a.deviceId && can(actor, 'estate:read')) links.push({ href: `/console/estate/devices/${a.deviceId}`, text: 'The device in the estate' });
  if (a.siteId && can(actor, 'estate:read')) links.push({ href: `/console/estate/sites/${a.siteId}`, text: 'The site' });
  return links;
}

function formError(err: unknown, field: string): FieldError[] {
  if (!(err instanceof AppError) || err.status >= 500 || err.status === 404) throw err;
  if (err.fields.length) return err.fields;
  return [{ field, message: err.code === 'ALARM_NOTE_REQUIRED' ? 'Enter a comment' : err.message }];
}

type Id = { id: string };

function alarmPage(deps: RulesPagesDeps) {
  const { rules } = deps;
  return async (app: FastifyInstance) => {
    const show = async (request: FastifyRequest, reply: FastifyReply, fields: FieldError[] = [], values: Record<string, string> = {}, flash?: string) => {
      const { alarm, history } = await rules.alarms.get((request.params as Id).id);
      const [n, hiddenOf] = await Promise.all([names(deps), homesHidden(deps, request.actor)]);
      const hidden = hiddenOf(alarm);
      const body = (await rules.versions(alarm.ruleId).catch(() => [])).find((v) => v.version === alarm.ruleVersion)?.rule;
      const type = body?.condition.type;
      return reply.page(
        `${VIEWS}/alarm.njk`,
        {
          pageTitle: `Alarm: ${alarm.ruleName}`,
          subnav: subnav(request.actor, ''),
          a: shownAlarm(alarm, hidden),
          sentence: body ? await rules.sentence(body) : null,
          areaName: alarm.areaId ? (n.areas.get(alarm.areaId) ?? null) : null,
          teamName: alarm.teamId ? (n.teams.get(alarm.teamId) ?? null) : null,
          assigneeName: alarm.assigneeId ? (n.users.get(alarm.assigneeId) ?? 'Someone no longer on the staff list') : null,
          links: hidden ? [] : dataLinks(request.actor, alarm, type),
          measurement: alarm.metric && alarm.metric !== '*' && type !== 'daqi' && type !== 'occupancy' ? metricName(alarm.metric) : null,
          valueLabel: (type && VALUE_LABELS[type]) ?? 'Value when raised',
          history: history.map((e) => ({ ...e, kindName: KIND_NAMES[e.kind] ?? e.kind, who: actorName(e, n.users), note: hidden ? null : e.note })),
          canRules: can(request.actor, 'rules:read'),
          canManage: can(request.actor, 'alarms:manage'),
          assigneeItems: [{ value: '', text: 'No one' }, ...n.assignable.map((u) => ({ value: u.id, text: u.name, selected: u.id === (values.assigneeId ?? alarm.assigneeId) }))],
          values,
          errors: errorList(fields),
          fieldErrors: Object.fromEntries(['ackNote', 'assigneeId', 'assignNote', 'commentNote', 'clearNote'].map((f) => [f, errorFor(fields, f)])),
          flash,
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/alarms/:id', { config: readPage, schema: { hide: true, params: IdParams } }, async (request, reply) =>
      show(request, reply, [], {}, SAVED[(request.query as { saved?: string }).saved ?? '']),
    );

    const act = (verb: string, field: string, run: (request: FastifyRequest, note: string | undefined, body: Record<string, unknown>) => Promise<unknown>) =>
      app.post(`/console/alarms/:id/${verb}`, { config: managePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
        const body = (request.body ?? {}) as Record<string, unknown>;
        const note = typeof body[field] === 'string' ? (body[field] as string).trim() : '';
        const values = { [field]: note, ...(typeof body.assigneeId === 'string' ? { assigneeId: body.assigneeId } : {}) };
        if (note.length > NOTE_MAX) return show(request, reply, [{ field, message: 'Enter a note of 2,000 characters or fewer' }], values);
        try {
          request.audited = true;
          await run(request, note || undefined, body);
        } catch (err) {
          return show(request, reply, formError(err, field), values);
        }
        return reply.redirect(`/console/alarms/${(request.params as Id).id}?saved=${verb}`, 303);
      });

    act('acknowledge', 'ackNote', (request, note) => rules.alarms.acknowledge(request.actor, (request.params as Id).id, note, origin(request)));
    act('comment', 'commentNote', (request, note) => rules.alarms.comment(request.actor, (request.params as Id).id, note, origin(request)));
    act('clear', 'clearNote', (request, note) => rules.alarms.clear(request.actor, (request.params as Id).id, note, origin(request)));
    act('assign', 'assignNote', async (request, note, body) => {
      const chosen = typeof body.assigneeId === 'string' ? body.assigneeId : '';
      const person = (await names(deps)).assignable.find((u) => u.id === chosen);
      if (chosen && !person) throw platformErrors.VALIDATION_FAILED(PICK_SOMEONE, [{ field: 'assigneeId', message: PICK_SOMEONE }]);
      const words = person ? `Assigned to ${person.name}` : 'Unassigned';
      return rules.alarms.assign(request.actor, (request.params as Id).id, person?.id ?? null, note ? `${words}: ${note}` : words, origin(request));
    });
  };
}
