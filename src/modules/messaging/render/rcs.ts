// RCS (rich text messages): plain text, as a text message is prepared, plus optional suggested
// replies and actions shown as buttons. Limits follow the RCS Business Messaging rules: up to
// 3,072 characters of text, up to 11 suggestions of up to 25 characters each.

import { fill, mergeMissing, type Personalisation } from './placeholders.js';
import { normaliseMultipleNewlines, normaliseWhitespaceAndNewlines, removeWhitespaceBeforePunctuation } from './text.js';

export const RCS_MAX_TEXT = 3072;
export const RCS_MAX_SUGGESTIONS = 11;
export const RCS_MAX_SUGGESTION_TEXT = 25;

export type RcsSuggestion = { type: 'reply'; text: string; postbackData?: string } | { type: 'openUrl'; text: string; url: string } | { type: 'dial'; text: string; phoneNumber: string };

export interface RcsOptions {
  /** Buttons under the message; a plain string is a suggested reply. */
  suggestions?: readonly (RcsSuggestion | string)[];
}

export interface RenderedRcs {
  text: string;
  /** Suggestions with their placeholders filled; replies get postback data from their text when none was given. */
  suggestions: RcsSuggestion[];
  missing: string[];
  errors: string[];
}

/** Renders an RCS message. Placeholders in suggestion texts and URLs are filled too. */
export function renderRcs(body: string, personalisation?: Personalisation, opts: RcsOptions = {}): RenderedRcs {
  const filled = fill(body, personalisation, { lists: 'prose' });
  const missingLists: string[][] = [filled.missing];
  const sub = (s: string) => {
    const f = fill(s, personalisation);
    missingLists.push(f.missing);
    return f.text.trim();
  };
  const text = normaliseMultipleNewlines(normaliseWhitespaceAndNewlines(removeWhitespaceBeforePunctuation(filled.text))).trim();
  const errors: string[] = [];
  if (!text) errors.push('The message is empty.');
  if (text.length > RCS_MAX_TEXT)
    errors.push(`RCS messages cannot be longer than ${RCS_MAX_TEXT.toLocaleString('en-GB')} characters. Your message is ${text.length.toLocaleString('en-GB')} characters long.`);
  const input = opts.suggestions ?? [];
  if (input.length > RCS_MAX_SUGGESTIONS) errors.push(`An RCS message can have at most ${RCS_MAX_SUGGESTIONS} suggestions. This one has ${input.length}.`);
  const suggestions = input.map((given): RcsSuggestion => {
    const s: RcsSuggestion = typeof given === 'string' ? { type: 'reply', text: given } : given;
    const label = sub(s.text);
    if (!label) errors.push('Each suggestion needs some text.');
    else if ([...label].length > RCS_MAX_SUGGESTION_TEXT) errors.push(`Suggestion “${label}” is longer than ${RCS_MAX_SUGGESTION_TEXT} characters.`);
    if (s.type === 'openUrl') {
      const url = sub(s.url);
      if (!/^https:\/\/\S+$/i.test(url)) errors.push(`Suggestion “${label}” must link to a web address starting https://.`);
      return { type: 'openUrl', text: label, url };
    }
    if (s.type === 'dial') {
      const phoneNumber = sub(s.phoneNumber).replace(/[\s()-]/g, '');
      if (!/^\+?\d{3,15}$/.test(phoneNumber)) errors.push(`Suggestion “${label}” must have a phone number to call.`);
      return { type: 'dial', text: label, phoneNumber };
    }
    return { type: 'reply', text: label, postbackData: s.postbackData ?? label };
  });
  return { text, suggestions, missing: mergeMissing(...missingLists), errors };
}
