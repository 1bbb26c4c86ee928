// Text messages as GOV.UK Notify prepares and counts them: notifications_utils/template.py
// (SMSMessageTemplate, get_sms_fragment_count, count_extended_gsm_chars) and sanitise_text.py
// (SanitiseSMS), as changed in 2026 by notifications-utils #1371, #1442 and #1443: characters
// outside GSM 03.38 are no longer replaced with "?" but sent, and make the message UCS-2.

import { fill, type Personalisation } from './placeholders.js';
import { normaliseMultipleNewlines, normaliseWhitespaceAndNewlines, removeWhitespaceBeforePunctuation } from './text.js';

/** Notify's limit, not counting the service name prefix: 153 × 6. */
export const SMS_CHAR_COUNT_LIMIT = 918;

/** GSM 03.38 extension table characters Notify knows: each takes two septets. */
export const GSM_EXTENDED_CHARACTERS = new Set('^{}\\[~]|€');

/** GSM 03.38 basic character set (with the extension characters). */
export const GSM_CHARACTERS = new Set([
  ...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?',
  ...'¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ...GSM_EXTENDED_CHARACTERS,
]);

/**
 * Characters Notify replaces in every text message because the replacement does not change the
 * meaning and may keep the message in GSM-7 (SanitiseText.REPLACEMENT_CHARACTERS).
 */
export const SMS_REPLACEMENT_CHARACTERS: Readonly<Record<string, string>> = {
  '\u2011': '-', // non-breaking hyphen
  '\u2013': '-', // en dash
  '\u2014': '-', // em dash
  '\u2212': '-', // minus sign
  '\u2026': '...', // horizontal ellipsis
  '\u2018': "'", // left single quotation mark
  '\u2019': "'", // right single quotation mark
  '\u201a': "'", // single low-9 quotation mark
  '\u201c': '"', // left double quotation mark
  '\u201d': '"', // right double quotation mark
  '\u201e': '"', // double low-9 quotation mark
  '\u180e': '', // Mongolian vowel separator
  '\u200b': '', // zero width space
  '\u200c': '', // zero width non-joiner
  '\u2060': '', // word joiner
  '\ufeff': '', // zero width no-break space
  '\u2028': '', // line separator
  '\u2029': '', // paragraph separator
  '\u00a0': ' ', // no-break space
  '\u202f': ' ', // narrow no-break space
  '\t': ' ',
};

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsOptions {
  /** The service name Notify puts before the message ("Service name: message"), when the service asks for it. */
  prefix?: string;
}

export interface RenderedSms {
  /** The text as sent. */
  text: string;
  encoding: SmsEncoding;
  /**
   * What the network counts, prefix included: septets in GSM-7 (an extension character is 2),
   * UTF-16 code units in UCS-2 (an emoji is usually 2).
   */
  characters: number;
  fragments: number;
  /** Notify's count for its limit: characters of the message without the prefix. */
  contentLength: number;
  tooLong: boolean;
  /** Notify's error message when the message is too long. */
  tooLongMessage?: string;
  empty: boolean;
  /** Characters that made the message UCS-2, each once. */
  nonGsmCharacters: string[];
  missing: string[];
}

/** Notify's SMS downgrades (smart quotes, dashes, ellipsis, odd spaces), applied to every message. */
const charClass = (chars: Iterable<string>) => [...chars].map((c) => `\\u{${c.codePointAt(0)?.toString(16)}}`).join('');
const REPLACEABLE = new RegExp(`[${charClass(Object.keys(SMS_REPLACEMENT_CHARACTERS))}]`, 'u');
const REPLACEABLE_ALL = new RegExp(REPLACEABLE.source, 'gu');
const ALL_GSM = new RegExp(`^[${charClass(GSM_CHARACTERS)}]*$`, 'u');
const SURROGATE = /[\uD800-\uDFFF]/;
const EXTENDED_ALL = new RegExp(`[${charClass(GSM_EXTENDED_CHARACTERS)}]`, 'gu');

export function smsEncode(text: string): string {
  // Most messages have nothing to replace: one scan instead of a string built a character at a time.
  return REPLACEABLE.test(text) ? text.replace(REPLACEABLE_ALL, (ch) => SMS_REPLACEMENT_CHARACTERS[ch] ?? ch) : text;
}

/** Characters GSM-7 cannot carry, once each, in order (by code point, so an emoji is one entry). */
export function nonGsmCharacters(text: string): string[] {
  if (ALL_GSM.test(text)) return [];
  const out = new Set<string>();
  for (const ch of text) if (!GSM_CHARACTERS.has(ch)) out.add(ch);
  return [...out];
}

/** Septets (GSM-7) or UTF-16 code units (UCS-2) the text takes. */
export function smsCharacterCount(text: string, encoding: SmsEncoding = nonGsmCharacters(text).length ? 'UCS-2' : 'GSM-7'): number {
  if (encoding === 'UCS-2') return text.length;
  // Text without surrogate pairs: its length is its characters, each extended one taking two septets.
  if (!SURROGATE.test(text)) return text.length + (text.match(EXTENDED_ALL)?.length ?? 0);
  let count = 0;
  for (const ch of text) count += GSM_EXTENDED_CHARACTERS.has(ch) ? 2 : 1;
  return count;
}

/** 160 / 153 characters a part in GSM-7, 70 / 67 in UCS-2 (the rest of a part carries the joining header). */
export function smsFragmentCount(characters: number, encoding: SmsEncoding): number {
  if (encoding === 'UCS-2') return characters <= 70 ? 1 : Math.ceil(characters / 67);
  return characters <= 160 ? 1 : Math.ceil(characters / 153);
}

/** The cost of a message in pence, for a price per part in pence (which may have fractions). */
export function smsCostPence(fragments: number, pencePerFragment: number): number {
  return Math.round(fragments * pencePerFragment * 10_000) / 10_000;
}

/** Notify's error message for a text message over the limit. */
export function smsTooLongMessage(contentLength: number): string {
  return `Your message is too long. Text messages cannot be longer than ${SMS_CHAR_COUNT_LIMIT} characters. Your message is ${contentLength} characters long.`;
}

function cleanPrefix(prefix: string | undefined): string {
  // Accept "Service name" or "Service name: ".
  return (prefix ?? '').trim().replace(/:$/, '').trim();
}

/** Fills and normalises a text message as Notify does, before its character replacements. */
export function smsText(body: string, personalisation: Personalisation | undefined, prefix?: string): { text: string; missing: string[] } {
  const filled = fill(body, personalisation, { lists: 'prose' });
  const name = cleanPrefix(prefix);
  let text = name ? `${name}: ${filled.text}` : filled.text;
  text = removeWhitespaceBeforePunctuation(text);
  text = normaliseMultipleNewlines(normaliseWhitespaceAndNewlines(text)).trim();
  return { text: smsEncode(text), missing: filled.missing };
}

/** Renders a text message and counts it the way Notify bills it. */
export function renderSms(body: string, personalisation?: Personalisation, opts: SmsOptions = {}): RenderedSms {
  const { text, missing } = smsText(body, personalisation, opts.prefix);
  const nonGsm = nonGsmCharacters(text);
  const encoding: SmsEncoding = nonGsm.length ? 'UCS-2' : 'GSM-7';
  const characters = smsCharacterCount(text, encoding);
  const name = cleanPrefix(opts.prefix);
  const contentLength = Math.max(text.length - (name ? name.length + 2 : 0), 0);
  const tooLong = contentLength > SMS_CHAR_COUNT_LIMIT;
  return {
    text,
    encoding,
    characters,
    fragments: smsFragmentCount(characters, encoding),
    contentLength,
    tooLong,
    tooLongMessage: tooLong ? smsTooLongMessage(contentLength) : undefined,
    empty: contentLength === 0,
    nonGsmCharacters: nonGsm,
    missing,
  };
}
