import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FieldError } from '../../platform/errors.js';
import { type ConditionType, type Op, RuleCreate, type RuleView, SEVERITIES, type Severity, WINDOWS } from './rules.schema.js';
import { ruleProblems } from './rules.service.js';

/**
 * The rule form (console, no JavaScript needed): its flat fields to a RuleCreate and back, with
 * errors named by the form's own field ids so the GOV.UK error summary links to them.
 */

export type FormValues = Record<string, string | string[]>;

export const CONDITION_TYPES: { value: ConditionType; text: string; hint: string }[] = [
  { value: 'threshold', text: 'A reading passes a value', hint: 'For example, NO2 above 200 for 15 minutes, clearing at 180' },
  { value: 'rolling_mean', text: 'An average passes a value or enters a band', hint: 'The mean over 15 minutes, 1 hour, 8 hours or 24 hours' },
  { value: 'daqi', text: 'The Daily Air Quality Index reaches a level', hint: 'Defra’s index from 1 to 10, for each monitor or each area' },
  { value: 'no_data', text: 'Nothing arrives for a time', hint: 'A hub’s heartbeat is missing; no movement at home by 10:00' },
  { value: 'event', text: 'A device reports an event', hint: 'A fall, a pendant pressed, a door opened at night' },
  { value: 'occupancy', text: 'A car park is nearly full', hint: 'Free spaces fall below a number or a percentage' },
  { value: 'rate_of_change', text: 'A reading rises quickly', hint: 'It rises by more than an amount within some minutes' },
];
/** Every condition type's name: those above, and the lone-worker rule, which its own module makes and keeps (not made with this form). */
export const TYPE_NAMES: Record<string, string> = { ...Object.fromEntries(CONDITION_TYPES.map((t) => [t.value, t.text])), lone_worker: 'A lone worker misses their check-out' };

export const isConditionType = (v: unknown): v is ConditionType => CONDITION_TYPES.some((t) => t.value === v);

export const OPS: { value: Op; text: string }[] = [
  { value: '>', text: 'above' },
  { value: '>=', text: 'at or above' },
  { value: '<', text: 'below' },
  { value: '<=', text: 'at or below' },
];
export const SEVERITY_NAMES: Record<Severity, string> = { critical: 'Critical', major: 'Major', minor: 'Minor', warning: 'Warning' };
export const BAND_ROWS = [1, 2, 3];
const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// TypeBox's own checker knows only the formats it is told; ajv's uuid, for the rule's ids.
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => UUID.test(v));

/** What the form may choose from: anything else sent is refused with the field's error. */
export interface FormChoices {
  profiles: Set<string>;
  siteTypes: Set<string>;
  areaIds: Set<string>;
  teamIds: Set<string>;
}

export const text = (v: FormValues, k: string): string => {
  const x = v[k];
  return (Array.isArray(x) ? (x[0] ?? '') : (x ?? '')).trim();
};
export const list = (v: FormValues, k: string): string[] => {
  const x = v[k];
  return (Array.isArray(x) ? x : x ? [x] : []).map((s) => s.trim()).filter(Boolean);
};

/** Reads numbers, naming the field in each error. */
class Reader {
  readonly errors: FieldError[] = [];
  constructor(readonly v: FormValues) {}

  error(field: string, message: string): void {
    if (!this.errors.some((e) => e.field === field)) this.errors.push({ field, message });
  }

  number(field: string, what: string, o: { required?: boolean; integer?: boolean; min?: number; max?: number; example: string }): number | undefined {
    const raw = text(this.v, field);
    if (!raw) {
      if (o.required) this.error(field, `Enter ${what}, like ${o.example}`);
      return undefined;
    }
    const n = Number(raw.replace(/,/g, ''));
    const range = o.min !== undefined && o.max !== undefined ? ` from ${o.min} to ${o.max}` : o.min !== undefined ? ` of ${o.min} or more` : '';
    if (!Number.isFinite(n) || (o.integer && !Number.isInteger(n))) this.error(field, `Enter ${what} as ${o.integer ? 'a whole number' : 'a number'}${range}, like ${o.example}`);
    else if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) this.error(field, `Enter ${what}${range}`);
    else return n;
    return undefined;
  }

  choice<T extends string>(field: string, allowed: readonly T[], message: string, required = true): T | undefined {
    const raw = text(this.v, field);
    if (!raw && !required) return undefined;
    if (allowed.includes(raw as T)) return raw as T;
    this.error(field, message);
    return undefined;
  }

  metric(field = 'metric', required = true): string | undefined {
    const raw = text(this.v, field);
    if (!raw) {
      if (required) this.error(field, 'Choose the measurement the rule watches');
      return undefined;
    }
    if (/^[A-Za-z0-9_.:-]{1,100}$/.test(raw)) return raw;
    this.error(field, 'Choose one of the measurements listed');
    return undefined;
  }

  hours(): { from: string; to: string } | undefined {
    const from = text(this.v, 'hoursFrom');
    const to = text(this.v, 'hoursTo');
    if (!from && !to) return undefined;
    if (!CLOCK.test(from)) this.error('hoursFrom', 'Enter the time the hours start as HH:MM, like 06:00, or leave both times empty');
    else if (!CLOCK.test(to)) this.error('hoursTo', 'Enter the time the hours end as HH:MM, like 10:00, or leave both times empty');
    else return { from, to };
    return undefined;
  }
}

const omitUndefined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as T;

function condition(type: ConditionType, r: Reader): RuleCreate['condition'] | undefined {
  const op = () =>
    r.choice(
      'op',
      OPS.map((o) => o.value),
      'Choose how the reading is compared',
    );
  const forMinutes = () => r.number('forMinutes', 'how many minutes it must hold', { integer: true, min: 0, max: 1440, example: '15' });
  switch (type) {
    case 'threshold':
      return {
        type,
        metric: r.metric() ?? '',
        op: op() ?? '>',
        value: r.number('value', 'the value that raises the alarm', { required: true, example: '200' }) ?? 0,
        ...omitUndefined({ clearValue: r.number('clearValue', 'the value at which it clears', { example: '180' }), forMinutes: forMinutes() }),
      };
    case 'rolling_mean': {
      const bands = readBands(r);
      const value = r.number('value', 'the value the mean is compared with', { example: '40' });
      return {
        type,
        metric: r.metric() ?? '',
        window: r.choice('window', Object.keys(WINDOWS) as (keyof typeof WINDOWS)[], 'Choose the period the mean is taken over') ?? '1h',
        ...omitUndefined({ op: value !== undefined ? op() : undefined, value, clearValue: r.number('clearValue', 'the value at which it clears', { example: '35' }), forMinutes: forMinutes() }),
        ...(bands.length ? { bands } : {}),
      };
    }
    case 'daqi':
      return {
        type,
        atLeast: r.number('atLeast', 'the index that raises the alarm', { required: true, integer: true, min: 1, max: 10, example: '7' }) ?? 7,
        per: r.choice('per', ['area', 'device'] as const, 'Choose whether it is for each area or each monitor') ?? 'area',
      };
    case 'no_data':
      return {
        type,
        ...omitUndefined({ metric: r.metric('metric', false) }),
        forMinutes: r.number('forMinutes', 'how many minutes of silence raise the alarm', { required: true, integer: true, min: 1, max: 10080, example: '60' }) ?? 60,
        ...omitUndefined({ hours: r.hours() }),
      };
    case 'event':
      return { type, metric: r.metric() ?? '', ...omitUndefined({ value: r.number('value', 'the value of the event', { example: '1' }), hours: r.hours() }) };
    case 'occupancy':
      return omitUndefined({
        type,
        metric: r.metric('metric', false),
        freeBelow: r.number('freeBelow', 'the number of free spaces', { integer: true, min: 0, max: 100000, example: '10' }),
        freePercentBelow: r.number('freePercentBelow', 'the percentage of free spaces', { min: 0, max: 100, example: '5' }),
      });
    case 'rate_of_change':
      return {
        type,
        metric: r.metric() ?? '',
        rise: r.number('rise', 'the rise that raises the alarm', { required: true, min: 0, example: '50' }) ?? 1,
        perMinutes: r.number('perMinutes', 'the minutes the rise happens within', { required: true, integer: true, min: 1, max: 1440, example: '10' }) ?? 10,
      };
  }
}

function readBands(r: Reader) {
  const bands: { above: number; severity: Severity; label?: string }[] = [];
  for (const n of BAND_ROWS) {
    const label = text(r.v, `band${n}Label`);
    const above = r.number(`band${n}Above`, 'the value the band starts above', { required: !!label || !!text(r.v, `band${n}Severity`), example: '50' });
    if (above === undefined) continue;
    const severity = r.choice(`band${n}Severity`, SEVERITIES, 'Choose the severity of this band');
    if (label.length > 60) r.error(`band${n}Label`, 'Enter a band name of 60 characters or fewer');
    bands.push({ above, severity: severity ?? 'warning', ...(label ? { label } : {}) });
  }
  return bands;
}

function scope(r: Reader, choices: FormChoices): RuleCreate['scope'] {
  const chosen = (field: string, allowed: Set<string>, message: string) => {
    const values = list(r.v, field);
    if (values.some((x) => !allowed.has(x))) r.error(field, message);
    return values.length ? values.filter((x) => allowed.has(x)) : undefined;
  };
  const ids = (field: string) => {
    const values = list(r.v, field).filter((x) => UUID.test(x));
    return values.length ? values : undefined;
  };
  return omitUndefined({
    profiles: chosen('profiles', choices.profiles, 'Choose kinds of device from the list'),
    siteTypes: chosen('siteTypes', choices.siteTypes, 'Choose kinds of site from the list'),
    areaIds: chosen('areaIds', choices.areaIds, 'Choose areas from the list'),
    siteIds: ids('siteIds'),
    deviceIds: ids('deviceIds'),
  });
}

/** The rule the form describes, or what is wrong with it (each error against its field). */
export function readRuleForm(type: ConditionType, v: FormValues, choices: FormChoices): { input: RuleCreate; errors: FieldError[] } {
  const r = new Reader(v);
  const name = text(v, 'name');
  if (!name) r.error('name', 'Enter a name for the rule');
  else if (name.length > 200) r.error('name', 'Enter a name of 200 characters or fewer');
  const description = text(v, 'description');
  if (description.length > 2000) r.error('description', 'Enter a description of 2,000 characters or fewer');
  const cond = condition(type, r);
  const teamId = text(v, 'teamId');
  if (teamId && !choices.teamIds.has(teamId)) r.error('teamId', 'Choose a team from the list');
  const input: RuleCreate = {
    name,
    ...(description ? { description } : {}),
    scope: scope(r, choices),
    condition: cond as RuleCreate['condition'],
    severity: r.choice('severity', SEVERITIES, 'Choose how severe the alarm is') ?? 'warning',
    teamId: teamId && choices.teamIds.has(teamId) ? teamId : null,
    enabled: text(v, 'enabled') !== 'no',
  };
  if (r.errors.length) return { input, errors: r.errors };
  // The schema is the API's: a form that passed the checks above passes it, but it is the contract.
  const schemaErrors = [...Value.Errors(RuleCreate, input)].map((e) => ({ field: formField(e.path.slice(1).replace(/\//g, '.')), message: 'Check this answer' }));
  return { input, errors: [...schemaErrors.slice(0, 1), ...ruleProblems(input).map((p) => ({ field: formField(p.field), message: p.message }))] };
}

/** A field as the API names it (condition.clearValue, scope.profiles.0) as the form's field id. */
export function formField(apiField: string): string {
  const [head, key = ''] = apiField.split('.');
  if (head === 'condition') return key === 'bands' ? 'band1Above' : key === 'hours' ? 'hoursFrom' : key || 'metric';
  if (head === 'scope') return key || 'profiles';
  return head || 'name';
}

/** The form's values for a saved rule (to change it). */
export function valuesOf(rule: Pick<RuleView, 'name' | 'description' | 'scope' | 'condition' | 'severity' | 'teamId' | 'enabled'>): FormValues {
  const c = rule.condition as Record<string, unknown>;
  const str = (x: unknown) => (x === undefined || x === null ? '' : String(x));
  const values: FormValues = {
    name: rule.name,
    description: rule.description ?? '',
    severity: rule.severity,
    teamId: rule.teamId ?? '',
    enabled: rule.enabled ? 'yes' : 'no',
    profiles: rule.scope.profiles ?? [],
    siteTypes: rule.scope.siteTypes ?? [],
    areaIds: rule.scope.areaIds ?? [],
    siteIds: rule.scope.siteIds ?? [],
    deviceIds: rule.scope.deviceIds ?? [],
  };
  for (const k of ['metric', 'op', 'value', 'clearValue', 'forMinutes', 'window', 'atLeast', 'per', 'freeBelow', 'freePercentBelow', 'rise', 'perMinutes']) values[k] = str(c[k]);
  if (rule.condition.type === 'daqi') values.per = rule.condition.per ?? 'area';
  const hours = c.hours as { from: string; to: string } | undefined;
  values.hoursFrom = hours?.from ?? '';
  values.hoursTo = hours?.to ?? '';
  const bands = (c.bands as { above: number; severity: string; label?: string }[] | undefined) ?? [];
  for (const n of BAND_ROWS) {
    const b = bands[n - 1];
    values[`band${n}Above`] = str(b?.above);
    values[`band${n}Severity`] = b?.severity ?? '';
    values[`band${n}Label`] = b?.label ?? '';
  }
  return values;
}
