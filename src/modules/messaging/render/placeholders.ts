// Placeholders, optional content and lists, as GOV.UK Notify's notifications_utils/field.py
// and insensitive_dict.py do them.

import { remember } from '../../../platform/remember.js';
import { escapeHtml, formattedList } from './text.js';

/** `((name))` or `((flag??text))`; the body cannot contain brackets, so placeholders never nest. */
const PLACEHOLDER = /\(\(([^()]+)\)\)/g;

export type Personalisation = Readonly<Record<string, unknown>>;

/** How an array value is written into the message. */
export type ListStyle =
  /** a Markdown list on its own lines (email, letter: Notify's `markdown_lists`) */
  | 'markdown'
  /** "a, b and c" (text message: what Notify does) */
  | 'prose'
  /** "• a" lines */
  | 'bullets';

export interface FillOptions {
  /** Escape the template and the values for HTML (Notify's `html='escape'`). Default false. */
  html?: boolean;
  /** Default 'prose'. */
  lists?: ListStyle;
}

export interface Filled {
  text: string;
  /** Placeholders with no value (undefined or null), in the order they first appear. */
  missing: string[];
}

/**
 * The key Notify compares placeholder names by: case, spaces, hyphens and underscores do not
 * matter, so `((First name))` is filled by `first_name`.
 */
export const placeholderKey: (name: string) => string = remember((name: string) => name.replace(/[ _-]/g, '').toLowerCase());

function nameOf(body: string): string {
  const at = body.indexOf('??');
  return at === -1 ? body : body.slice(0, at);
}

/** The placeholder names used in the text(s), in order of first use, each once (compared as Notify does). */
export function placeholders(text: string | readonly string[]): string[] {
  const seen = new Map<string, string>();
  for (const part of typeof text === 'string' ? [text] : text) {
    for (const match of part.matchAll(PLACEHOLDER)) {
      const name = nameOf(match[1]);
      const key = placeholderKey(name);
      if (!seen.has(key)) seen.set(key, name);
    }
  }
  return [...seen.values()];
}

/** Personalisation looked up the way Notify does (later keys that normalise the same win). */
export function personalisationLookup(personalisation: Personalisation | undefined): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const [key, value] of Object.entries(personalisation ?? {})) values.set(placeholderKey(key), value);
  return values;
}

/** Notify's `str2bool`: what makes optional content show. */
export function isTruthy(value: unknown): boolean {
  // A list or object is never a yes (Notify compares its Python string form, like "['yes']").
  if (value === undefined || value === null || typeof value === 'object') return false;
  return ['yes', 'y', 'true', 't', '1', 'include', 'show'].includes(String(value).toLowerCase());
}

const OBSCURE_WHITESPACE = /\u180e|\u200b|\u200c|\u200d|\u2060|\ufeff|\u00a0/g;

function listItems(values: readonly unknown[]): string[] {
  return values
    .filter((v) => v !== undefined && v !== null)
    .map((v) => String(v).replace(OBSCURE_WHITESPACE, '').trim())
    .filter(Boolean);
}

function formatList(items: string[], style: ListStyle): string {
  if (items.length === 0) return '';
  if (style === 'markdown') return `\n\n${items.map((i) => `* ${i}`).join('\n')}`;
  if (style === 'bullets') return `\n${items.map((i) => `• ${i}`).join('\n')}`;
  return formattedList(items);
}

/** A template text cut at its placeholders: the text before each one, and the placeholder. */
interface Part {
  before: string;
  /** the placeholder as written, `((…))` */
  written: string;
  name: string;
  key: string;
  /** the text of `((flag??text))` */
  optional?: string;
}

/** Cut once per text (a campaign fills one template many times). */
const cut = remember((text: string): { parts: Part[]; after: string } => {
  const parts: Part[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const at = match.index ?? 0;
    const body = match[1];
    const name = nameOf(body);
    const flag = body.indexOf('??');
    parts.push({ before: text.slice(last, at), written: match[0], name, key: placeholderKey(name), ...(flag === -1 ? {} : { optional: body.slice(flag + 2) }) });
    last = at + match[0].length;
  }
  return { parts, after: text.slice(last) };
});

/**
 * Fills the placeholders of `text`. Optional content `((flag??text))` shows its text when the flag's
 * value is one of yes, y, true, t, 1, include or show (any case). Arrays become lists. A missing
 * value leaves the placeholder as written and is reported in `missing`.
 */
export function fill(text: string, personalisation: Personalisation | undefined, opts: FillOptions = {}): Filled {
  const values = personalisationLookup(personalisation);
  const style = opts.lists ?? 'prose';
  const sanitise = opts.html ? escapeHtml : (s: string) => s;
  const missing = new Map<string, string>();
  // Notify escapes the whole template before replacing, so template text is escaped too.
  const { parts, after } = cut(text);
  let out = '';
  for (const part of parts) {
    out += sanitise(part.before);
    const value = values.get(part.key);
    if (value === undefined || value === null) {
      if (!missing.has(part.key)) missing.set(part.key, part.name);
      out += sanitise(part.written);
    } else if (part.optional !== undefined) out += isTruthy(value) ? sanitise(part.optional) : '';
    else out += sanitise(Array.isArray(value) ? formatList(listItems(value), style) : String(value));
  }
  out += sanitise(after);
  return { text: out, missing: [...missing.values()] };
}

/** The message Notify's API gives when personalisation is missing. */
export function missingPersonalisationMessage(names: readonly string[]): string {
  return `Missing personalisation: ${names.join(', ')}`;
}

/** Joins missing lists from several fields (subject first, then body), each name once. */
export function mergeMissing(...lists: readonly (readonly string[])[]): string[] {
  const seen = new Map<string, string>();
  for (const list of lists) for (const name of list) if (!seen.has(placeholderKey(name))) seen.set(placeholderKey(name), name);
  return [...seen.values()];
}
