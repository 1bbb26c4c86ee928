import { defineMessages, type Language } from '../../platform/web/i18n.js';

/**
 * The words a resident agrees to, in English and Welsh. A wording is never changed once used: a
 * new one gets a new id (messages-2), and CURRENT_WORDING points at it, so each consent keeps the
 * id of the words it was given on (and the words themselves, as shown).
 */
const en = {
  'messages-1': 'Send me messages about {topic} on the channels I choose, until I withdraw this.',
  'marketing-1': 'Send me news from the council about events, consultations and new services, as well as the topics I choose.',
  'surveys-1': 'Ask me now and then what I think of the council’s services.',
  purposeMessages: 'Messages about {topic}',
  purposeMarketing: 'Council news and events',
  purposeSurveys: 'Surveys about council services',
};

const cy: Record<keyof typeof en, string> = {
  'messages-1': 'Anfonwch negeseuon ataf am {topic} ar y sianeli rwy’n eu dewis, nes i mi dynnu hyn yn ôl.',
  'marketing-1': 'Anfonwch newyddion y cyngor ataf am ddigwyddiadau, ymgynghoriadau a gwasanaethau newydd, yn ogystal â’r pynciau rwy’n eu dewis.',
  'surveys-1': 'Gofynnwch i mi o bryd i’w gilydd beth rwy’n ei feddwl o wasanaethau’r cyngor.',
  purposeMessages: 'Negeseuon am {topic}',
  purposeMarketing: 'Newyddion a digwyddiadau’r cyngor',
  purposeSurveys: 'Arolygon am wasanaethau’r cyngor',
};

type WordingId = keyof typeof en;
const text = defineMessages<WordingId>('residents.consents', { en, cy });

/** Purposes a resident may agree to besides messages about a topic (`messages:<topic>`). Weft records them; nothing in Weft sends on them by itself. */
export const NAMED_PURPOSES = ['marketing', 'surveys'] as const;
export type NamedPurpose = (typeof NAMED_PURPOSES)[number];

/** The wording each kind of purpose is given on now. */
const CURRENT_WORDING: Record<'messages' | NamedPurpose, WordingId> = { messages: 'messages-1', marketing: 'marketing-1', surveys: 'surveys-1' };
const PURPOSE_NAMES: Record<'messages' | NamedPurpose, WordingId> = { messages: 'purposeMessages', marketing: 'purposeMarketing', surveys: 'purposeSurveys' };

export const MESSAGES_PREFIX = 'messages:';
export const topicPurpose = (topic: string) => `${MESSAGES_PREFIX}${topic}`;
/** The topic of a messages:<topic> purpose, or null for a named purpose. */
export const topicOf = (purpose: string): string | null => (purpose.startsWith(MESSAGES_PREFIX) ? purpose.slice(MESSAGES_PREFIX.length) : null);

const kindOf = (purpose: string): 'messages' | NamedPurpose => (topicOf(purpose) === null ? (purpose as NamedPurpose) : 'messages');

/** The version id of the words a purpose is given on now. */
export const currentWording = (purpose: string): WordingId => CURRENT_WORDING[kindOf(purpose)];

/** The words of a wording version in a language; `topic` is the topic's name in that language. */
export function wordingText(version: string, lang: Language, topic: string): string {
  if (!(version in en)) return version;
  return text(lang, version as WordingId, { topic });
}

/** What a purpose is, in a few words: "Messages about Bin collections". */
export function purposeName(purpose: string, lang: Language, topic: string): string {
  return text(lang, PURPOSE_NAMES[kindOf(purpose)], { topic });
}
