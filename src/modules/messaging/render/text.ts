// Small text helpers shared by every channel. Behaviour follows GOV.UK Notify's
// notifications_utils/formatters.py (see README.md in this folder).

const ZERO_WIDTH = /[\u180e\u200b\u200c\u2060\ufeff]/g;
const NEWLINES = /\r\n|\r|\u2028|\u2029/g;
/** Whitespace normaliseWhitespace would change: at an end, doubled, not a plain space, or zero-width. */
const UNTIDY_SPACE = /^\s|\s$|\s\s|[^\S ]|[\u180e\u200b\u200c\u2060\ufeff]/;

// Quick tests that let the passes below return text they would not change without building a copy (most text, for every recipient).
const SPACE_BEFORE_PUNCTUATION = /[ \t][,.]/;
const DASH = /[-\u2013\u2014]/;
const GOV_UK = /gov\.uk/i;
const SINGLE_SMART_QUOTE = /[\u2018\u2019]/;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Every line break style becomes `\n` (Notify splits lines the way Python's `splitlines` does). */
export function normaliseNewlines(value: string): string {
  return value.replace(NEWLINES, '\n');
}

/** One line: zero-width characters removed, any run of whitespace (including no-break spaces) one space, trimmed. */
export function normaliseWhitespace(value: string): string {
  // Already one line of single spaces (most lines): nothing to do.
  if (!UNTIDY_SPACE.test(value)) return value;
  return value.replace(ZERO_WIDTH, '').split(/\s+/).filter(Boolean).join(' ');
}

/** Each line normalised; empty lines kept. */
export function normaliseWhitespaceAndNewlines(value: string): string {
  return normaliseNewlines(value).split('\n').map(normaliseWhitespace).join('\n');
}

/** Three or more line breaks in a row become two (one empty line). */
export function normaliseMultipleNewlines(value: string): string {
  return value.replace(/\n{3,}/g, '\n\n');
}

/** `hello , world .` becomes `hello, world.` (spaces and tabs before a comma or full stop go). */
export function removeWhitespaceBeforePunctuation(value: string): string {
  if (!SPACE_BEFORE_PUNCTUATION.test(value)) return value;
  return value.replace(/[ \t]+([,.])/g, '$1');
}

/** A hyphen or dash with spaces either side becomes a spaced en dash. */
export function replaceHyphensWithEnDashes(value: string): string {
  if (!DASH.test(value)) return value;
  return value.replace(/\s+[-\u2013\u2014]{1,3}\s+/g, ' \u2013 ');
}

/** Stops mail clients turning a bare "GOV.UK" into a link by putting a zero-width space after the dot. */
export function unlinkGovukEscaped(value: string): string {
  if (!GOV_UK.test(value)) return value;
  return value.replace(/(^|\s)(#|\*|\^)?(GOV)\.(UK)(?!\/|\?|#)/gi, '$1$2$3.\u200b$4');
}

const OPENING_CONTEXT = /[\s([{\u2018\u201c\u2013\u2014-]/;

/**
 * Straight quotes become typographic ones, as smartypants does for Notify: an apostrophe inside a
 * word closes; a quote at the start or after a space or opening bracket opens. `previous` is the
 * character before `value` (so a quote after a link is judged by the link's last character).
 */
export function makeQuotesSmart(value: string, previous = ''): string {
  let out = '';
  let prev = previous;
  for (const ch of value) {
    if (ch === '"') {
      out += prev === '' || OPENING_CONTEXT.test(prev) ? '\u201c' : '\u201d';
    } else if (ch === "'") {
      out += prev === '' || OPENING_CONTEXT.test(prev) ? '\u2018' : '\u2019';
    } else {
      out += ch;
    }
    prev = ch;
  }
  return out;
}

/** Smart quotes inside anything that looks like an email address go back to straight apostrophes. */
export function removeSmartQuotesFromEmailAddresses(value: string): string {
  if (!value.includes('@') || !SINGLE_SMART_QUOTE.test(value)) return value;
  return value.replace(/(^|\s)\S+@\S+(?=\s|$)/g, (match) => match.replace(/[\u2018\u2019]/g, "'"));
}

/** Notify's `do_nice_typography` for one run of text. */
export function niceTypography(value: string, previous = '', smartQuotes = true): string {
  let out = removeWhitespaceBeforePunctuation(value);
  if (smartQuotes) out = removeSmartQuotesFromEmailAddresses(makeQuotesSmart(out, previous));
  return replaceHyphensWithEnDashes(out);
}

/**
 * "a", "a and b", "a, b and c": how Notify writes a list of values into a text message
 * (`unescaped_formatted_list` with no quotes around the items).
 */
export function formattedList(items: readonly string[], conjunction = 'and'): string {
  if (items.length === 0) return '';
  if (items.length === 1) return items[0];
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

/** Typographic characters a speech engine or a plain channel reads badly, made plain. */
export function plainPunctuation(value: string): string {
  return value
    .replace(/[\u2018\u2019\u201a]/g, "'")
    .replace(/[\u201c\u201d\u201e]/g, '"')
    .replace(/\u2026/g, '...')
    .replace(/[\u2011\u2212]/g, '-');
}
