import type { Condition, Op, Scope, Severity } from './rules.schema.js';

/** Plain-English words for a rule: the console's preview and each alarm's message use them. */

const OP_WORDS: Record<Op, string> = { '>': 'above', '>=': 'at or above', '<': 'below', '<=': 'at or below' };
const WINDOW_WORDS: Record<string, string> = { '15m': '15-minute', '1h': '1-hour', '8h': '8-hour', '24h': '24-hour' };

export interface ScopeNames {
  profiles?: Map<string, string>;
  areas?: Map<string, string>;
  sites?: Map<string, string>;
  devices?: Map<string, string>;
}

export function metricName(metric: string): string {
  const known: Record<string, string> = { no2: 'NO2', pm2_5: 'PM2.5', pm10: 'PM10', o3: 'ozone', so2: 'SO2', fill_level: 'fill level' };
  return known[metric] ?? metric.replace(/_/g, ' ');
}

function minutesWords(m: number): string {
  if (m % 1440 === 0) return m === 1440 ? '24 hours' : `${m / 1440} days`;
  if (m % 60 === 0) return m === 60 ? 'an hour' : `${m / 60} hours`;
  return m === 1 ? 'a minute' : `${m} minutes`;
}

function list(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

const named = (ids: string[] | undefined, map: Map<string, string> | undefined) => (ids ?? []).map((id) => map?.get(id) ?? id);

/** "at any street hub in Northtown", "on any pendant", "at any device". */
export function scopeWords(scope: Scope, names: ScopeNames = {}): string {
  const parts: string[] = [];
  if (scope.deviceIds?.length) parts.push(`on ${list(named(scope.deviceIds, names.devices))}`);
  else if (scope.siteIds?.length) parts.push(`at ${list(named(scope.siteIds, names.sites))}`);
  else if (scope.siteTypes?.length) parts.push(`at any ${list(scope.siteTypes.map((t) => t.replace(/_/g, ' ')))}`);
  else if (scope.profiles?.length) parts.push(`on any ${list(named(scope.profiles, names.profiles).map((p) => p.toLowerCase()))}`);
  else parts.push('on any device');
  if (scope.areaIds?.length) parts.push(`in ${list(named(scope.areaIds, names.areas))}`);
  return parts.join(' ');
}

function hoursWords(h: { from: string; to: string } | undefined): string {
  return h ? ` between ${h.from} and ${h.to}` : '';
}

/** What the condition watches for, as a phrase: "NO2 1-hour mean is above 200 for 15 minutes". */
export function conditionWords(c: Condition): string {
  switch (c.type) {
    case 'threshold':
      return `${metricName(c.metric)} is ${OP_WORDS[c.op]} ${c.value}${c.forMinutes ? ` for ${minutesWords(c.forMinutes)}` : ''}${c.clearValue !== undefined ? ` (clears at ${c.clearValue})` : ''}`;
    case 'rolling_mean': {
      const head = `${metricName(c.metric)} ${WINDOW_WORDS[c.window]} mean`;
      if (c.bands?.length) return `${head} enters a band (${c.bands.map((b) => `above ${b.above}: ${b.severity}`).join('; ')})${c.forMinutes ? ` for ${minutesWords(c.forMinutes)}` : ''}`;
      return `${head} is ${OP_WORDS[c.op ?? '>']} ${c.value}${c.forMinutes ? ` for ${minutesWords(c.forMinutes)}` : ''}`;
    }
    case 'daqi':
      return `the Daily Air Quality Index ${c.per === 'device' ? 'of a monitor' : 'of an area'} is ${c.atLeast} or more`;
    case 'no_data':
      return `no ${c.metric ? metricName(c.metric) : 'data'} arrives for ${minutesWords(c.forMinutes)}${hoursWords(c.hours)}`;
    case 'event':
      return `${metricName(c.metric)}${c.value !== undefined && c.value !== 1 ? ` is ${c.value}` : ' happens'}${hoursWords(c.hours)}`;
    case 'occupancy':
      return `free spaces fall below ${c.freeBelow !== undefined ? c.freeBelow : `${c.freePercentBelow}%`}`;
    case 'rate_of_change':
      return `${metricName(c.metric)} rises by more than ${c.rise} within ${minutesWords(c.perMinutes)}`;
    case 'lone_worker':
      return `a lone worker has not checked out ${c.graceMinutes === 0 ? 'by the time' : `${minutesWords(c.graceMinutes ?? 10)} after`} their visit was due to end`;
  }
}

const ARTICLE: Record<Severity, string> = { critical: 'a critical', major: 'a major', minor: 'a minor', warning: 'a warning' };

/** The whole rule in a sentence, for the rule form's preview and the rule list. */
export function ruleSentence(rule: { condition: Condition; severity: Severity; scope: Scope }, names: ScopeNames = {}): string {
  const alarm = rule.severity === 'warning' ? 'Raise a warning' : `Raise ${ARTICLE[rule.severity]} alarm`;
  if (rule.condition.type === 'lone_worker') return `${alarm} to their team when ${conditionWords(rule.condition)}.`;
  return `${alarm} when ${conditionWords(rule.condition)} ${scopeWords(rule.scope, names)}.`;
}
