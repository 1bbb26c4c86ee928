import type { TemplateRow } from './messaging.repository.js';
import { renderEmail, renderRcs, renderSms, renderVoice } from './render/index.js';

/** A template filled in for one recipient: what is stored and what providers are given. */
export interface Rendered {
  subject?: string;
  /** the plain text (email: the text part; voice: the speech) */
  body: string;
  html?: string;
  /** SMS fragments; 1 for other channels (letters: sheets, later) */
  billableUnits: number;
  postage?: string;
  /** placeholders the personalisation did not give, in the template's order */
  missing: string[];
  /** Notify's refusal of the filled message (too long, empty), when there is one */
  problem?: string;
}

/** The template's text in the recipient's language: Welsh when asked for and written, else English. */
export function variant(t: TemplateRow, language: 'en' | 'cy'): { subject: string | null; body: string } {
  if (language === 'cy' && t.body_cy) return { subject: t.subject_cy ?? t.subject, body: t.body_cy };
  return { subject: t.subject, body: t.body };
}

/**
 * A template filled in for a recipient. With `html: false` an email or letter comes without its
 * HTML: what is stored needs only the subject and text, and the HTML is made again when it is sent.
 */
export function renderFor(t: TemplateRow, personalisation: Record<string, unknown>, language: 'en' | 'cy', service: { name: string }, address?: string[], options: { html?: boolean } = {}): Rendered {
  const v = variant(t, language);
  switch (t.type) {
    case 'email': {
      const r = renderEmail({ subject: v.subject ?? '', body: v.body }, personalisation, { serviceName: service.name, html: options.html });
      return { subject: r.subject, body: r.text, html: options.html === false ? undefined : r.html, billableUnits: 1, missing: r.missing };
    }
    case 'sms': {
      const r = renderSms(v.body, personalisation, {});
      return { body: r.text, billableUnits: r.fragments, missing: r.missing, problem: r.tooLong ? r.tooLongMessage : r.empty ? 'Your message is empty.' : undefined };
    }
    case 'voice': {
      const r = renderVoice(v.body, personalisation, { menu: t.options_json.menu });
      return { body: r.speech, billableUnits: 1, missing: r.missing };
    }
    case 'rcs': {
      const r = renderRcs(v.body, personalisation, { suggestions: t.options_json.suggestions });
      return { body: r.text, billableUnits: 1, missing: r.missing };
    }
    default: {
      const r = renderEmail({ subject: v.subject ?? '', body: v.body }, personalisation, { html: options.html !== false && !address });
      return { subject: r.subject, body: r.text, billableUnits: 1, postage: t.options_json.postage ?? 'second', missing: r.missing, html: address || options.html === false ? undefined : r.html };
    }
  }
}
