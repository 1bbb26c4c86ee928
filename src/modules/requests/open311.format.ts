/**
 * Open311 GeoReport v2's two formats from one value, by the Spark convention the spec uses:
 * JSON is the value without its root wrapper; XML wraps each array in its own element with one
 * child per item, named in the singular (services → service, service_requests → request).
 * XML 1.0 with the declaration and no namespace; nulls are empty elements.
 */

import { londonOffsetMinutes } from '../../platform/dates.js';
import { remember } from '../../platform/remember.js';

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
  if (typeof value !== 'object') return `<${name}>${leaf(value)}</${name}>`;
  let out = `<${name}>`;
  if (Array.isArray(value)) {
    const child = singular(name);
    for (const item of value) out += element(child, item);
  } else {
    // A request's fields are mostly text, numbers and nulls: written here without a call each.
    for (const key in value) {
      const v = value[key];
      if (v === null || v === undefined || v === '') out += `<${key}></${key}>`;
      else if (typeof v !== 'object') out += `<${key}>${leaf(v)}</${key}>`;
      else out += element(key, v);
    }
  }
  return `${out}</${name}>`;
}

const leaf = (v: string | number | boolean) => (typeof v === 'string' ? escapeXml(v) : String(v));

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

const DAY = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
/** "2026-07-01T" for each day asked for (a page of a thousand requests covers a few days). */
const dayPrefix = remember((day: number) => new Date(day * DAY).toISOString().slice(0, 11), 10_000);

/**
 * A W3C date-time in London time with its offset, to the second: 2026-07-01T09:30:00+01:00.
 * The day's part is remembered and the time of day is arithmetic, so a page's three thousand
 * dates cost little (toISOString for each was a tenth of the answer's time).
 */
export function w3cDate(at: Date | null): string | null {
  if (!at) return null;
  const ms = Math.floor(at.getTime() / 1000) * 1000;
  const minutes = londonOffsetMinutes(ms);
  const local = ms + minutes * 60_000;
  const day = Math.floor(local / DAY);
  const prefix = dayPrefix(day);
  const seconds = (local - day * DAY) / 1000;
  return `${prefix}${TWO_DIGITS[Math.floor(seconds / 3600)]}:${TWO_DIGITS[Math.floor(seconds / 60) % 60]}:${TWO_DIGITS[seconds % 60]}${minutes ? '+01:00' : '+00:00'}`;
}

const W3C = /^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d))?$/i;

/** Parses a W3C date or date-time (a date alone is midnight UTC); undefined when it is not one. */
export function parseW3c(text: string): Date | undefined {
  if (!W3C.test(text)) return undefined;
  const at = new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
