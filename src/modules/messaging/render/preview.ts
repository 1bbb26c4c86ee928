// One entry point that renders any template type for a preview or a send.

import { addressLinesFromPersonalisation } from './address.js';
import { type EmailOptions, type RenderedEmail, renderEmail } from './email.js';
import { type LetterOptions, type RenderedLetter, renderLetter } from './letter.js';
import type { Personalisation } from './placeholders.js';
import { type RcsSuggestion, type RenderedRcs, renderRcs } from './rcs.js';
import { type RenderedSms, renderSms } from './sms.js';
import { type RenderedVoice, renderVoice, type VoiceMenuOption } from './voice.js';

export type TemplateType = 'email' | 'sms' | 'letter' | 'voice' | 'rcs';

export type PreviewTemplate =
  | { type: 'email'; subject: string; body: string }
  | { type: 'sms'; body: string }
  | { type: 'letter'; subject: string; body: string }
  | { type: 'voice'; body: string; menu?: readonly VoiceMenuOption[] }
  | { type: 'rcs'; body: string; suggestions?: readonly (RcsSuggestion | string)[] };

export interface PreviewOptions {
  serviceName?: string;
  /** Text messages: the service name prefix, when the service uses one. */
  smsPrefix?: string;
  unsubscribeUrl?: string;
  language?: 'en' | 'cy';
  /** Letters: the date printed (default now), logo and contact block. */
  date?: Date;
  logo?: LetterOptions['logo'];
  contactBlock?: string;
  /** Letters: the address lines; by default read from the personalisation (address_line_1 … and postcode). */
  address?: readonly string[];
}

export type Preview =
  | ({ type: 'email' } & RenderedEmail)
  | ({ type: 'sms' } & RenderedSms)
  | ({ type: 'letter' } & RenderedLetter)
  | ({ type: 'voice' } & RenderedVoice)
  | ({ type: 'rcs' } & RenderedRcs);

/** Renders a template of any type with the given personalisation. */
export async function preview(template: PreviewTemplate, personalisation?: Personalisation, opts: PreviewOptions = {}): Promise<Preview> {
  switch (template.type) {
    case 'email': {
      const emailOpts: EmailOptions = { serviceName: opts.serviceName, unsubscribeUrl: opts.unsubscribeUrl, language: opts.language };
      return { type: 'email', ...renderEmail(template, personalisation, emailOpts) };
    }
    case 'sms':
      return { type: 'sms', ...renderSms(template.body, personalisation, { prefix: opts.smsPrefix }) };
    case 'voice':
      return { type: 'voice', ...renderVoice(template.body, personalisation, { menu: template.menu, language: opts.language }) };
    case 'rcs':
      return { type: 'rcs', ...renderRcs(template.body, personalisation, { suggestions: template.suggestions }) };
    case 'letter': {
      const address = opts.address ?? addressLinesFromPersonalisation(personalisation);
      const letter = await renderLetter(template, personalisation, address, {
        serviceName: opts.serviceName ?? '',
        date: opts.date ?? new Date(),
        logo: opts.logo,
        contactBlock: opts.contactBlock,
        language: opts.language,
      });
      return { type: 'letter', ...letter };
    }
  }
}
