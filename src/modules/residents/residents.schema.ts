import { type Static, Type } from '@sinclair/typebox';

export const CONTACT_CHANNELS = ['email', 'sms', 'voice', 'rcs', 'letter'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

/** Topic codes: lower-case letters, digits and hyphens, like bin-collections. */
export const TOPIC_PATTERN = '^[a-z0-9-]{1,60}$';
const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });
const Time = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, UK time' });
const Channels = Type.Array(Type.Union(CONTACT_CHANNELS.map((c) => Type.Literal(c))), { minItems: 1, maxItems: 5, uniqueItems: true });

export const ResidentInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.Optional(Type.Union([Type.String({ maxLength: 320 }), Type.Null()])),
    mobile: Type.Optional(Type.Union([Type.String({ maxLength: 30 }), Type.Null()])),
    landline: Type.Optional(Type.Union([Type.String({ maxLength: 30 }), Type.Null()])),
    address: Type.Optional(Type.Union([Type.Array(Type.String({ maxLength: 200 }), { minItems: 3, maxItems: 7 }), Type.Null()])),
    language: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('cy')])),
    largePrint: Type.Optional(Type.Boolean()),
    prefersVoice: Type.Optional(Type.Boolean()),
    quietFrom: Type.Optional(Type.Union([Time, Type.Null()])),
    quietTo: Type.Optional(Type.Union([Time, Type.Null()])),
    /** channels in the order the resident wants them tried, per topic; '*' for any other topic */
    preferences: Type.Optional(Type.Record(Type.String({ pattern: '^(\\*|[a-z0-9-]{1,60})$' }), Channels)),
    /** UK postcode of their home; stored upper case with one space (left as it is when not given) */
    postcode: Type.Optional(Type.Union([Type.String({ maxLength: 10 }), Type.Null()])),
    /** their home as a point (WGS84, in the UK), from the caller: Weft does no geocoding (left as it is when not given) */
    location: Type.Optional(Type.Union([Type.Object({ lat: Type.Number(), lon: Type.Number() }, { additionalProperties: false }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type ResidentInput = Static<typeof ResidentInput>;

export interface ResidentView {
  id: string;
  name: string;
  email: string | null;
  /** normalised, 447… */
  mobile: string | null;
  landline: string | null;
  address: string[] | null;
  language: 'en' | 'cy';
  largePrint: boolean;
  prefersVoice: boolean;
  quietFrom: string | null;
  quietTo: string | null;
  preferences: Record<string, ContactChannel[]>;
  postcode: string | null;
  location: { lat: number; lon: number } | null;
  /** the area (ward) their home lies in, from the estate's areas when the home was last set */
  areaId: string | null;
  /** topics they withdrew their consent to messages about (and have not given again): nothing is sent to them on these */
  withdrawnTopics: string[];
  /** when their personal data was erased; null for everyone else */
  erasedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

// ---------------------------------------------------------------- topics

const topicFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  /** the name in Welsh */
  nameCy: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  description: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
  /** whether residents may subscribe to it; default true */
  enabled: Type.Optional(Type.Boolean()),
};
export const TopicInput = Type.Object(
  { code: Type.String({ pattern: TOPIC_PATTERN, description: 'never changes: lower-case letters, digits and hyphens' }), ...topicFields },
  { additionalProperties: false },
);
export type TopicInput = Static<typeof TopicInput>;
/** Fields left out are left as they are. */
export const TopicUpdate = Type.Object({ ...topicFields, name: Type.Optional(topicFields.name) }, { additionalProperties: false });
export type TopicUpdate = Static<typeof TopicUpdate>;

export interface TopicView {
  code: string;
  name: string;
  nameCy: string | null;
  description: string | null;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

// ---------------------------------------------------------------- subscriptions

/** home: the area their home lies in; area: a named area; radius: within radiusMetres of home; site: one place of the estate. */
export const SUBSCRIPTION_KINDS = ['home', 'area', 'radius', 'site'] as const;
export type SubscriptionKind = (typeof SUBSCRIPTION_KINDS)[number];
export const RADIUS_LIMITS = { min: 100, max: 20_000 } as const;

export const SubscriptionInput = Type.Object(
  {
    topic: Type.String({ pattern: TOPIC_PATTERN }),
    kind: Type.Union(SUBSCRIPTION_KINDS.map((k) => Type.Literal(k))),
    /** kind area: the area (ward) */
    areaId: Type.Optional(Uuid),
    /** kind site: the site (a school, a library, …) */
    siteId: Type.Optional(Uuid),
    /** kind radius: metres from home */
    radiusMetres: Type.Optional(Type.Integer({ minimum: RADIUS_LIMITS.min, maximum: RADIUS_LIMITS.max })),
  },
  { additionalProperties: false },
);
export type SubscriptionInput = Static<typeof SubscriptionInput>;

export interface SubscriptionView {
  id: string;
  topic: string;
  kind: SubscriptionKind;
  /** area: the named area; home: the area the home lies in (null when it lies in none) */
  areaId: string | null;
  areaName: string | null;
  siteId: string | null;
  /** null when the site has gone from the estate */
  siteName: string | null;
  radiusMetres: number | null;
  createdAt: Date;
}

/** A place of the estate a resident may subscribe to, with its distance from their home when known. */
export interface SiteChoice {
  id: string;
  name: string;
  type: string;
  metres: number | null;
}

/** Who a message on a topic goes to: subscribers in any of the areas or at any of the sites. */
export interface Audience {
  topic: string;
  areaIds?: string[];
  siteIds?: string[];
}

// ---------------------------------------------------------------- consents

/** Staff or a council system recording a consent a resident gave them. */
export const ConsentInput = Type.Object(
  {
    /** marketing or surveys, or messages:<topic> for one of the council's topics */
    purpose: Type.String({ minLength: 1, maxLength: 80 }),
  },
  { additionalProperties: false },
);
export type ConsentInput = Static<typeof ConsentInput>;

export interface ConsentView {
  id: string;
  /** messages:<topic>, marketing or surveys */
  purpose: string;
  /** the topic of a messages:<topic> purpose */
  topic: string | null;
  /** the id of the words agreed to (messages-1, …) */
  wordingVersion: string;
  /** the words as the resident was shown them */
  wording: string;
  language: 'en' | 'cy';
  /** where: portal:/account/…, staff:console or api */
  source: string;
  givenAt: Date;
  withdrawnAt: Date | null;
  withdrawnSource: string | null;
}

// ---------------------------------------------------------------- subject access and erasure

/** What a resident's record is looked up by in other modules: their id, and the contact points messages and sign-ins were sent to. */
export interface ResidentKey {
  id: string;
  email: string | null;
  mobile: string | null;
}

/** One thing in a resident's contact history, newest first on the console's page. */
export interface ContactEntry {
  at: Date;
  kind: 'message' | 'request' | 'consent' | 'sign-in';
  /** what happened, in a few words: "Email: Your bin day has changed" */
  title: string;
  /** more, when there is any (a message's text only for staff who may read messages) */
  detail: string | null;
  status: string | null;
  /** a console page with more */
  href: string | null;
}

/** A module's share of a subject access export: a plain-English summary, and its records. */
export type HeldData = { summary: string[] } & Record<string, unknown>;

/**
 * A module that holds data about residents (messaging, requests, libraries, the portal),
 * registered with the residents service (src/services.ts) so export and erasure reach it without
 * the residents module knowing its tables. `erase` runs in a transaction of its own and can run
 * again (a crash half-way is mended by erasing again); it answers how many rows of each kind changed.
 */
export interface ResidentDataHolder {
  name: string;
  export(resident: ResidentKey): Promise<HeldData>;
  erase(resident: ResidentKey): Promise<Record<string, number>>;
  /** entries for the console's contact history, newest first */
  history?(resident: ResidentKey, limit: number): Promise<ContactEntry[]>;
}

/** What erasure did, by module and kind of row. */
export interface ErasureReport {
  residentId: string;
  erasedAt: Date;
  changed: Record<string, Record<string, number>>;
}
