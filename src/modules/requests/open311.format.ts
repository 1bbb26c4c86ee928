/**
 * Open311 GeoReport v2's two formats from one value, by the Spark convention the spec uses:
 * JSON is the value without its root wrapper; XML wraps each array in its own element with one
 * child per item, named in the singular (services → service, service_requests → request).
 * XML 1.0 with the declaration and no namespace; nulls are empty elements.
 */
export type Open311Format = 'json' | 'xml';
type Value = string | number | boolean | null | undefined | Value[] | { [key: string]: Value };

export const CONTENT_TYPES: Record<Open311Format, string> = { json: 'application/json; charset=utf-8', xml: 'text/xml; charset=utf-8' };

const SINGULAR: Record<string, string> = {
  service_requests: 'request',
  service_request_updates: 'request_update',
  services: 'service',
  attributes: 'attribute',
  values: 'value',
  errors: 'error',
  endpoints: 'endpoint',
  formats: 'format',
};
const singular = (name: string) => SINGULAR[name] ?? name.replace(/s$/, '');

/** The body of a response: `root` names the XML root (for arrays, the wrapper of the items). */
export function render(format: Open311Format, root: string, value: Value): string {
  if (format === 'json') return JSON.stringify(value);
  return `<?xml version="1.0" encoding="utf-8"?>\n${element(root, value)}`;
}

function element(name: string, value: Value): string {
  if (value === null || value === undefined || value === '') return `<${name}></${name}>`;
  let out = `<${name}>`;
  if (Array.isArray(value)) {
    const child = singular(name);
    for (const item of value) out += element(child, item);
  } else if (typeof value === 'object') {
    for (const key in value) out += element(key, value[key]);
  } else out += escapeXml(String(value));
  return `${out}</${name}>`;
}

// Characters XML 1.0 does not allow at all (most control characters, lone surrogates, U+FFFE/F),
// and the five with entities. Most text has none of them: one test, and it is returned as it is.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the control characters XML 1.0 forbids
const ATTENTION = /[&<>"'\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const SPECIAL = /[&<>"']/g;
const ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  if (!ATTENTION.test(text)) return text;
  return text.replace(INVALID, '').replace(SPECIAL, (c) => ENTITY[c]);
}

/** Errors as the spec gives them: `[{code, description}]`, or `<errors><error>…`. */
export function renderErrors(format: Open311Format, errors: { code: number; description: string }[]): string {
  return render(format, 'errors', errors);
}

// ---------------------------------------------------------------- dates

const summerByYear = new Map<number, [number, number]>();

/** The instant (UTC ms) of 01:00 UTC on the last Sunday of a month: when UK clocks change. */
function lastSundayOneAm(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0));
  return Date.UTC(year, month, last.getUTCDate() - last.getUTCDay(), 1);
}

/**
 * London's offset from UTC in minutes: British Summer Time (+60) from 01:00 UTC on the last Sunday
 * of March to 01:00 UTC on the last Sunday of October, the rule in force since 1996; else 0.
 * Worked out, not asked of Intl: a thousand requests have three thousand dates.
 */
export function londonOffsetMinutes(ms: number): number {
  const year = new Date(ms).getUTCFullYear();
  let summer = summerByYear.get(year);
  if (!summer) {
    summer = [lastSundayOneAm(year, 2), lastSundayOneAm(year, 9)];
    summerByYear.set(year, summer);
  }
  return ms >= summer[0] && ms < summer[1] ? 60 : 0;
}

/** A W3C date-time in London time with its offset, to the second: 2026-07-01T09:30:00+01:00. */
export function w3cDate(at: Date | null): string | null {
  if (!at) return null;
  const ms = Math.floor(at.getTime() / 1000) * 1000;
  const minutes = londonOffsetMinutes(ms);
  return `${new Date(ms + minutes * 60_000).toISOString().slice(0, 19)}${minutes ? '+01:00' : '+00:00'}`;
}

const W3C = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d))?$/i;

/** Parses a W3C date or date-time (a date alone is midnight UTC); undefined when it is not one. */
export function parseW3c(text: string): Date | undefined {
  if (!W3C.test(text)) return undefined;
  const at = new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
