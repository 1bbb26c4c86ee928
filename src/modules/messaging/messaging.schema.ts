import { type Static, Type } from '@sinclair/typebox';

/** The channels Weft sends on. Notify has the first three; voice and RCS are Weft's. */
export const CHANNELS = ['email', 'sms', 'letter', 'voice', 'rcs'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Notify's statuses, plus letters' own. */
export const STATUSES = ['created', 'sending', 'pending', 'sent', 'delivered', 'permanent-failure', 'temporary-failure', 'technical-failure', 'accepted', 'received', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];
/** Notify's `status=failed` filter means every failure. */
export const FAILED_STATUSES: Status[] = ['permanent-failure', 'temporary-failure', 'technical-failure'];
export const FINAL_STATUSES = new Set<string>(['delivered', 'permanent-failure', 'temporary-failure', 'technical-failure', 'received', 'cancelled']);

export const KEY_TYPES = ['normal', 'team', 'test'] as const;

const Uuid = Type.String({ format: 'uuid' });
const Personalisation = Type.Record(Type.String(), Type.Unknown(), { description: 'Values for the template’s ((placeholders)); a list becomes bullets' });

// ---- /v2 request bodies (documented here; checked by notify.validation.ts with Notify's messages)

export const PostEmail = Type.Object({
  template_id: Uuid,
  email_address: Type.String(),
  personalisation: Type.Optional(Personalisation),
  reference: Type.Optional(Type.String()),
  email_reply_to_id: Type.Optional(Uuid),
  one_click_unsubscribe_url: Type.Optional(Type.String()),
  scheduled_for: Type.Optional(Type.String()),
});
export const PostSms = Type.Object({
  template_id: Uuid,
  phone_number: Type.String(),
  personalisation: Type.Optional(Personalisation),
  reference: Type.Optional(Type.String()),
  sms_sender_id: Type.Optional(Uuid),
  scheduled_for: Type.Optional(Type.String()),
});
export const PostLetter = Type.Object({
  template_id: Uuid,
  personalisation: Personalisation,
  reference: Type.Optional(Type.String()),
});
export const PostVoice = Type.Object({
  template_id: Uuid,
  phone_number: Type.String(),
  personalisation: Type.Optional(Personalisation),
  reference: Type.Optional(Type.String()),
});

export const PostResident = Type.Object({
  resident_id: Uuid,
  template_ids: Type.Record(Type.Union(CHANNELS.map((c) => Type.Literal(c))), Uuid, { description: 'a template for each channel the message may go on' }),
  topic: Type.Optional(Type.String({ description: 'the topic the resident’s channel preferences are looked up by' })),
  personalisation: Type.Optional(Personalisation),
  reference: Type.Optional(Type.String()),
  urgent: Type.Optional(Type.Boolean({ description: 'urgent messages ignore quiet hours' })),
});

// ---- staff API (/api/v1/messaging)

export const ServiceCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 120 }),
  smsSender: Type.Optional(Type.String({ minLength: 3, maxLength: 11, pattern: '^[A-Za-z0-9 ]+$', description: 'what recipients see the text come from (11 characters at most)' })),
  emailFrom: Type.Optional(Type.String({ format: 'email' })),
  emailReplyTo: Type.Optional(Type.String({ format: 'email' })),
  teamMembers: Type.Optional(Type.Array(Type.String(), { description: 'email addresses and mobile numbers a team key may send to' })),
  rateLimitPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
  dailyLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
  confidential: Type.Optional(Type.Boolean({ description: 'its messages carry secrets (sign-in links, codes): staff see their recipients and statuses, never their text' })),
});
export type ServiceCreate = Static<typeof ServiceCreate>;

export const KeyCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 80, pattern: '^[A-Za-z0-9 _.-]+$' }),
  keyType: Type.Union(KEY_TYPES.map((k) => Type.Literal(k))),
});
export type KeyCreate = Static<typeof KeyCreate>;

export const TemplateInput = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  type: Type.Union(CHANNELS.map((c) => Type.Literal(c))),
  subject: Type.Optional(Type.String({ maxLength: 1000 })),
  body: Type.String({ minLength: 1, maxLength: 100_000 }),
  subjectCy: Type.Optional(Type.String({ maxLength: 1000 })),
  bodyCy: Type.Optional(Type.String({ maxLength: 100_000 })),
  menu: Type.Optional(Type.Array(Type.Object({ key: Type.String({ pattern: '^[0-9*#]$' }), label: Type.String({ minLength: 1, maxLength: 200 }) }), { maxItems: 9 })),
  suggestions: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 25 }), { maxItems: 11 })),
  postage: Type.Optional(Type.Union(['first', 'second', 'economy', 'europe', 'rest-of-world'].map((p) => Type.Literal(p)))),
});
export type TemplateInput = Static<typeof TemplateInput>;

export interface ServiceView {
  id: string;
  name: string;
  smsSender: string;
  emailFrom: string;
  emailReplyTo: string | null;
  teamMembers: string[];
  rateLimitPerMinute: number;
  dailyLimit: number;
  callbackUrl: string | null;
  confidential: boolean;
  createdAt: Date;
}

export interface KeyView {
  id: string;
  name: string;
  keyType: string;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

export const PROVIDER_KINDS = ['smtp', 'twilio', 'notify', 'webhook', 'print', 'inbox'] as const;

export const ProviderInput = Type.Object({
  channel: Type.Union(CHANNELS.map((c) => Type.Literal(c))),
  kind: Type.Union(PROVIDER_KINDS.map((k) => Type.Literal(k))),
  name: Type.String({ minLength: 1, maxLength: 80 }),
  priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 99, description: 'lower goes first; the next is tried when one fails' })),
  settings: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'host, port, base URL, account id…' })),
  secrets: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'passwords and tokens: sealed at rest and never shown again' })),
  enabled: Type.Optional(Type.Boolean()),
});
export type ProviderInput = Static<typeof ProviderInput>;

export interface ProviderView {
  id: string;
  channel: string;
  kind: string;
  name: string;
  priority: number;
  settings: Record<string, unknown>;
  hasSecrets: boolean;
  enabled: boolean;
  createdAt: Date;
}
