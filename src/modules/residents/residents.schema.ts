import { type Static, Type } from '@sinclair/typebox';

export const CONTACT_CHANNELS = ['email', 'sms', 'voice', 'rcs', 'letter'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

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
  createdAt: Date;
  updatedAt: Date;
}
