import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { originOf as origin } from '../../platform/audit/origin.js';
import { can } from '../../platform/auth/actor.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import type { EventBus } from '../../platform/events/index.js';
import { errorFor, errorList, serveAssets } from '../../platform/web/web.js';
import { SITE_TYPE_NAMES } from '../estate/estate.schema.js';
import type { EstateService, Profile } from '../estate/index.js';
import type { StaffService } from '../staff/index.js';
import { alarmsPages, subnav } from './alarms.pages.js';
import { DAQI_POLLUTANTS, daqiBand, type Pollutant } from './daqi.js';
import { metricName, ruleSentence } from './describe.js';
import { BAND_ROWS, CONDITION_TYPES, type FormChoices, type FormValues, formField, isConditionType, list, OPS, readRuleForm, SEVERITY_NAMES, TYPE_NAMES, text, valuesOf } from './rules.forms.js';
import { type ConditionType, IdParams, type RuleCreate, type RuleView, SEVERITIES, WINDOWS } from './rules.schema.js';
import type { RulesService, TrialResult } from './rules.service.js';

const VIEWS = 'modules/rules/views';
const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), 'public');
const readPage = { permission: 'rules:read', page: 'console' as const };
const managePage = { permission: 'rules:manage', page: 'console' as const };
const TRIAL_SHOWN = 5;

/** What the console's rules, alarms, air quality and car park pages need. */
export interface RulesPagesDeps {
  rules: RulesService;
  events: EventBus;
  estate: EstateService;
  staff: Pick<StaffService, 'listUsers'>;
  /** the council's teams (alarms are routed to one) */
  teams: () => Promise<{ id: string; name: string }[]>;
  map: { tileUrl?: string; attribution?: string };
}

export function rulesPages(deps: RulesPagesDeps) {
  return async (app: FastifyInstance) => {
    await serveAssets(app, { prefix: '/assets/rules/', root: PUBLIC, files: ['rules.css', 'alarms-live.mjs', 'air-quality-map.mjs'] });
    await app.register(alarmsPages(deps));
    await app.register(ruleListPage(deps));
    await app.register(ruleFormPages(deps));
    await app.register(airQualityPages(deps));
    await app.register(carParksPage(deps));
  };
}

// ---------------------------------------------------------------- rules

function ruleListPage({ rules }: RulesPagesDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/rules', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const [all, names] = await Promise.all([rules.list(), rules.names()]);
      return reply.page(`${VIEWS}/rules.njk`, {
        pageTitle: 'Rules',
        subnav: subnav(request.actor, '/console/rules'),
        items: all.map((r) => ({ ...r, sentence: ruleSentence(r, names) })),
        canManage: can(request.actor, 'rules:manage'),
      });
    });
  };
}

/** What the rule form offers, for the page and for checking what was sent. */
async function formLists({ rules, estate, teams }: RulesPagesDeps) {
  const [profiles, areas, teamList] = await Promise.all([estate.listProfiles(), estate.listAreas(), teams()]);
  const choices: FormChoices = {
    profiles: new Set(profiles.map((p) => p.key)),
    siteTypes: new Set(Object.keys(SITE_TYPE_NAMES)),
    areaIds: new Set(areas.map((a) => a.id)),
    teamIds: new Set(teamList.map((t) => t.id)),
  };
  return { profiles, areas, teams: teamList, choices, names: await rules.names() };
}
type Lists = Awaited<ReturnType<typeof formLists>>;

/** The measurements a condition type can watch: events and states for events, states for car parks, measures otherwise. */
function metricItems(profiles: Profile[], type: ConditionType, chosen: string) {
  const kinds = type === 'event' ? ['event', 'state'] : type === 'occupancy' ? ['state'] : type === 'no_data' ? ['measure', 'state', 'event'] : ['measure'];
  const seen = new Map<string, string>();
  for (const p of profiles) for (const m of p.metrics) if (kinds.includes(m.kind) && !seen.has(m.name)) seen.set(m.name, `${metricName(m.name)}${m.unit ? ` (${m.unit})` : ''}`);
  if (chosen && !seen.has(chosen)) seen.set(chosen, metricName(chosen));
  const first = type === 'no_data' ? 'Any reading' : type === 'occupancy' ? 'occupied (the default)' : 'Choose a measurement';
  return [{ value: '', text: first }, ...[...seen].sort((a, b) => a[1].localeCompare(b[1])).map(([value, label]) => ({ value, text: label, selected: value === chosen }))];
}

const checked = (v: FormValues, field: string, value: string) => list(v, field).includes(value);

/** The form's items: selects, radios and checkboxes with what is chosen marked. */
function formItems(type: ConditionType, v: FormValues, l: Lists) {
  const radios = (field: string, items: { value: string; text: string; hint?: { text: string } }[]) => items.map((i) => ({ ...i, checked: text(v, field) === i.value }));
  const options = (field: string, items: { value: string; text: string }[]) => items.map((i) => ({ ...i, selected: text(v, field) === i.value }));
  const severities = SEVERITIES.map((s) => ({ value: s, text: SEVERITY_NAMES[s] }));
  return {
    metricItems: metricItems(l.profiles, type, text(v, 'metric')),
    opItems: options('op', OPS),
    windowItems: radios(
      'window',
      Object.keys(WINDOWS).map((w) => ({ value: w, text: { '15m': '15 minutes', '1h': '1 hour', '8h': '8 hours', '24h': '24 hours' }[w] as string })),
    ),
    bandRows: BAND_ROWS.map((n) => ({ n, severityItems: [{ value: '', text: 'Choose' }, ...options(`band${n}Severity`, severities)] })),
    atLeastItems: options(
      'atLeast',
      Array.from({ length: 10 }, (_, i) => ({ value: String(i + 1), text: `${i + 1} (${daqiBand(i + 1)})` })),
    ),
    perItems: radios('per', [
      { value: 'area', text: 'Each area', hint: { text: 'One alarm per area, when its worst monitor reaches the level' } },
      { value: 'device', text: 'Each monitor' },
    ]),
    severityItems: radios('severity', severities),
    profileItems: l.profiles.map((p) => ({ value: p.key, text: p.name, checked: checked(v, 'profiles', p.key) })),
    siteTypeItems: Object.entries(SITE_TYPE_NAMES).map(([value, label]) => ({ value, text: label, checked: checked(v, 'siteTypes', value) })),
    areaItems: l.areas.map((a) => ({ value: a.id, text: a.name, checked: checked(v, 'areaIds', a.id) })),
    siteIdItems: list(v, 'siteIds').map((id) => ({ value: id, text: l.names.sites?.get(id) ?? id, checked: true })),
    deviceIdItems: list(v, 'deviceIds').map((id) => ({ value: id, text: l.names.devices?.get(id) ?? id, checked: true })),
    teamItems: [
      { value: '', text: 'No team' },
      ...options(
        'teamId',
        l.teams.map((t) => ({ value: t.id, text: t.name })),
      ),
    ],
    enabledItems: radios('enabled', [
      { value: 'yes', text: 'Yes, start checking readings when it is saved' },
      { value: 'no', text: 'No, save it turned off' },
    ]),
  };
}

const FIELDS = [
  'name',
  'description',
  'metric',
  'op',
  'value',
  'clearValue',
  'forMinutes',
  'window',
  'atLeast',
  'per',
  'hoursFrom',
  'hoursTo',
  'freeBelow',
  'freePercentBelow',
  'rise',
  'perMinutes',
  'profiles',
  'siteTypes',
  'areaIds',
  'severity',
  'teamId',
  ...BAND_ROWS.flatMap((n) => [`band${n}Above`, `band${n}Severity`, `band${n}Label`]),
];

interface FormState {
  type: ConditionType;
  values: FormValues;
  errors?: FieldError[];
  preview?: string;
  trial?: TrialResult;
}

/** A refusal of the service as the form's errors; anything else is not the form's to show. */
function serviceErrors(err: unknown): FieldError[] {
  if (!(err instanceof AppError) || err.status >= 500 || err.status === 404) throw err;
  return err.fields.length ? err.fields.map((f) => ({ field: formField(f.field), message: f.message })) : [{ field: 'name', message: err.message }];
}

const typeItems = (chosen?: string) => CONDITION_TYPES.map((t) => ({ value: t.value, text: t.text, hint: { text: t.hint }, checked: t.value === chosen }));

function ruleFormPages(deps: RulesPagesDeps) {
  const { rules } = deps;
  return async (app: FastifyInstance) => {
    /** Step one: what the rule watches for (its fields depend on it). */
    const typeStep = (request: FastifyRequest, reply: FastifyReply, action: string, rule: RuleView | null, error?: string) =>
      reply.page(
        `${VIEWS}/rule-type.njk`,
        {
          pageTitle: rule ? `Change what ${rule.name} watches for` : 'New rule',
          subnav: subnav(request.actor, '/console/rules'),
          action,
          rule,
          typeItems: typeItems(rule?.condition.type),
          errors: error ? [{ text: error, href: '#type' }] : undefined,
          typeError: error ? { text: error } : undefined,
        },
        error ? 400 : 200,
      );

    /** Step two: the rule's fields for its type, with a preview or a trial when asked for. */
    const form = async (request: FastifyRequest, reply: FastifyReply, rule: RuleView | null, s: FormState, flash?: string) => {
      const l = await formLists(deps);
      const errors = s.errors ?? [];
      const versions = rule ? await rules.versions(rule.id) : [];
      return reply.page(
        `${VIEWS}/${rule ? 'rule' : 'rule-new'}.njk`,
        {
          pageTitle: rule ? `Rule: ${rule.name}` : `New rule: ${(TYPE_NAMES[s.type] ?? s.type).toLowerCase()}`,
          subnav: subnav(request.actor, '/console/rules'),
          rule,
          // The lone-worker rule is made and kept by its own module: turned on and off here, not changed.
          editable: isConditionType(s.type),
          sentence: rule ? await rules.sentence(rule) : null,
          canManage: can(request.actor, 'rules:manage'),
          versions: await Promise.all(versions.map(async (v) => ({ ...v, sentence: await rules.sentence(v.rule).catch(() => '') }))),
          type: s.type,
          typeName: TYPE_NAMES[s.type] ?? s.type,
          action: rule ? `/console/rules/${rule.id}` : '/console/rules/new',
          changeTypeHref: rule ? `/console/rules/${rule.id}?type=choose` : '/console/rules/new',
          values: s.values,
          ...formItems(s.type, s.values, l),
          preview: s.preview,
          trial: s.trial ? { ...s.trial, shown: s.trial.alarms.slice(0, TRIAL_SHOWN) } : undefined,
          errors: errorList(errors),
          fieldErrors: Object.fromEntries(FIELDS.map((f) => [f, errorFor(errors, f)])),
          flash,
        },
        errors.length ? 400 : 200,
      );
    };

    /** Preview, trial or save: what the form's buttons do. */
    const submitted = async (request: FastifyRequest, reply: FastifyReply, rule: RuleView | null) => {
      const body = (request.body ?? {}) as FormValues;
      const type = text(body, 'type');
      if (!isConditionType(type)) return typeStep(request, reply, request.url.split('?')[0], rule, 'Choose what the rule watches for');
      const { input, errors } = readRuleForm(type, body, (await formLists(deps)).choices);
      const state: FormState = { type, values: body, errors };
      if (errors.length) return form(request, reply, rule, state);
      // Actions and an escalation policy are set through the API; a change made here keeps them.
      const full: RuleCreate = rule ? { ...input, actions: rule.actions, escalationPolicyId: rule.escalationPolicyId, enabled: rule.enabled } : input;
      const action = text(body, 'action');
      try {
        if (action === 'preview') return form(request, reply, rule, { ...state, preview: await rules.sentence(full) });
        if (action === 'trial') return form(request, reply, rule, { ...state, preview: await rules.sentence(full), trial: await rules.trial(full, 24) });
        request.audited = true;
        const saved = rule ? await rules.update(request.actor, rule.id, full, origin(request)) : await rules.create(request.actor, full, origin(request));
        return reply.redirect(`/console/rules/${saved.id}?saved=${rule ? 'changed' : 'created'}`, 303);
      } catch (err) {
        return form(request, reply, rule, { ...state, errors: serviceErrors(err) });
      }
    };

    app.get('/console/rules/new', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      if (!('type' in query) && !('step' in query)) return typeStep(request, reply, '/console/rules/new', null);
      if (!isConditionType(query.type)) return typeStep(request, reply, '/console/rules/new', null, 'Choose what the rule watches for');
      return form(request, reply, null, { type: query.type, values: { enabled: 'yes', severity: 'major', op: '>', window: '1h', per: 'area', atLeast: '7' } });
    });

    app.post('/console/rules/new', { config: managePage, schema: { hide: true } }, async (request, reply) => submitted(request, reply, null));

    app.get('/console/rules/:id', { config: readPage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const rule = await rules.get((request.params as { id: string }).id);
      const query = request.query as { type?: string; step?: string; saved?: string };
      const canManage = can(request.actor, 'rules:manage');
      if (canManage && query.type === 'choose') return typeStep(request, reply, `/console/rules/${rule.id}`, rule);
      if (canManage && query.step === 'type' && !isConditionType(query.type)) return typeStep(request, reply, `/console/rules/${rule.id}`, rule, 'Choose what the rule watches for');
      const type = canManage && isConditionType(query.type) ? query.type : rule.condition.type;
      const values = valuesOf(rule);
      const flash = { created: 'Rule saved. It is version 1.', changed: `Rule changed: this is version ${rule.version}.`, enabled: 'Rule turned on.', disabled: 'Rule turned off.' }[query.saved ?? ''];
      return form(request, reply, rule, { type, values: type === rule.condition.type ? values : { ...values, ...conditionCleared() } }, flash);
    });

    app.post('/console/rules/:id', { config: managePage, schema: { hide: true, params: IdParams } }, async (request, reply) =>
      submitted(request, reply, await rules.get((request.params as { id: string }).id)),
    );

    for (const [verb, enabled] of [
      ['enable', true],
      ['disable', false],
    ] as const)
      app.post(`/console/rules/:id/${verb}`, { config: managePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
        request.audited = true;
        const rule = await rules.setEnabled(request.actor, (request.params as { id: string }).id, enabled, origin(request));
        return reply.redirect(`/console/rules/${rule.id}?saved=${enabled ? 'enabled' : 'disabled'}`, 303);
      });
  };
}

/** A new condition type starts with its own fields empty. */
function conditionCleared(): FormValues {
  const keys = [
    'metric',
    'value',
    'clearValue',
    'forMinutes',
    'hoursFrom',
    'hoursTo',
    'freeBelow',
    'freePercentBelow',
    'rise',
    'perMinutes',
    ...BAND_ROWS.flatMap((n) => [`band${n}Above`, `band${n}Severity`, `band${n}Label`]),
  ];
  return { ...Object.fromEntries(keys.map((k) => [k, ''])), op: '>', window: '1h', per: 'area', atLeast: '7' };
}

// ---------------------------------------------------------------- air quality

const BAND_KEYS: Record<string, string> = { Low: 'low', Moderate: 'moderate', High: 'high', 'Very High': 'very-high' };
const POLLUTANTS = new Map(DAQI_POLLUTANTS.map((p) => [p.pollutant, p]));
const pollutantWords = (p: Pollutant) => {
  const spec = POLLUTANTS.get(p);
  return spec ? `${spec.name} (${spec.averaging})` : p;
};

/** Today's index by area and by monitor, with the names and places the map and the tables show. */
async function airQuality({ rules, estate }: RulesPagesDeps) {
  const { devices, areas } = await rules.daqi();
  const [areaList, monitors] = await Promise.all([estate.listAreas(), devices.size ? estate.listDevices({ ids: [...devices.keys()], limit: devices.size }) : Promise.resolve([])]);
  const areaNames = new Map(areaList.map((a) => [a.id, a.name]));
  const monitorRows = monitors
    .map((d) => {
      const r = devices.get(d.id);
      if (!r) return undefined;
      return {
        id: d.id,
        name: d.name,
        areaId: d.areaId,
        areaName: d.areaId ? (areaNames.get(d.areaId) ?? null) : null,
        lat: d.lat,
        lon: d.lon,
        index: r.index,
        band: r.band,
        bandKey: BAND_KEYS[r.band],
        pollutant: pollutantWords(r.pollutant),
      };
    })
    .filter((m) => m !== undefined)
    .sort((a, b) => b.index - a.index || a.name.localeCompare(b.name));
  const areaRows = areaList
    .map((a) => {
      const r = areas.get(a.id);
      const count = monitorRows.filter((m) => m.areaId === a.id).length;
      if (!r) return { id: a.id, name: a.name, index: null, band: null, bandKey: 'none', pollutant: null, monitors: count };
      const band = daqiBand(r.index);
      return { id: a.id, name: a.name, index: r.index, band, bandKey: BAND_KEYS[band], pollutant: pollutantWords(r.pollutant), monitors: count };
    })
    .sort((a, b) => (b.index ?? 0) - (a.index ?? 0) || a.name.localeCompare(b.name));
  return { areaRows, monitorRows };
}

function airQualityPages(deps: RulesPagesDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/air-quality', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const { areaRows, monitorRows } = await airQuality(deps);
      return reply.page(`${VIEWS}/air-quality.njk`, {
        pageTitle: 'Air quality',
        subnav: subnav(request.actor, '/console/air-quality'),
        areaRows,
        monitorRows,
        withIndex: areaRows.filter((a) => a.index !== null).length,
        map: { tileUrl: deps.map.tileUrl ?? '', attribution: deps.map.attribution ?? '', dataUrl: '/console/air-quality/map.json' },
        bands: DAQI_BANDS,
      });
    });

    // The map's data, for the page's script: areas' outlines with their index, and the monitors.
    app.get('/console/air-quality/map.json', { config: { permission: 'rules:read' }, schema: { hide: true } }, async () => {
      const [{ areaRows, monitorRows }, outlines] = await Promise.all([airQuality(deps), deps.estate.imports.areasGeoJson()]);
      const byArea = new Map(areaRows.map((a) => [a.id, a]));
      return {
        areas: {
          type: 'FeatureCollection',
          features: outlines.features.map((f) => {
            const a = byArea.get(f.properties.id);
            return { ...f, properties: { id: f.properties.id, name: f.properties.name, index: a?.index ?? null, band: a?.band ?? null, bandKey: a?.bandKey ?? 'none' } };
          }),
        },
        monitors: {
          type: 'FeatureCollection',
          features: monitorRows
            .filter((m) => m.lat !== null && m.lon !== null)
            .map((m) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [m.lon, m.lat] }, properties: { id: m.id, name: m.name, index: m.index, band: m.band, bandKey: m.bandKey } })),
        },
      };
    });
  };
}

const DAQI_BANDS = [
  { key: 'low', name: 'Low', range: '1 to 3' },
  { key: 'moderate', name: 'Moderate', range: '4 to 6' },
  { key: 'high', name: 'High', range: '7 to 9' },
  { key: 'very-high', name: 'Very High', range: '10' },
  { key: 'none', name: 'No readings', range: '' },
];

// ---------------------------------------------------------------- car parks

function carParksPage({ rules }: RulesPagesDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/car-parks', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const items = await rules.carParks();
      const total = items.reduce((t, c) => ({ bays: t.bays + c.bays, free: t.free + c.free }), { bays: 0, free: 0 });
      return reply.page(`${VIEWS}/car-parks.njk`, {
        pageTitle: 'Car parks',
        subnav: subnav(request.actor, '/console/car-parks'),
        items,
        total,
        canEstate: can(request.actor, 'estate:read'),
      });
    });
  };
}
