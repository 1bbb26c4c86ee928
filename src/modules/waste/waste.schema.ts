import { type Static, Type } from '@sinclair/typebox';

const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD, UK' });

export const RoundInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    bin: Type.String({ minLength: 1, maxLength: 80, description: 'what residents put out, as they say it: “Recycling (blue bin)”' }),
    binCy: Type.Optional(Type.Union([Type.String({ maxLength: 80 }), Type.Null()], { description: 'the same in Welsh' })),
    areaIds: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 200, uniqueItems: true, description: 'the areas (wards) the round serves' }),
    firstDay: { ...Day, description: 'a collection day; the round comes every everyWeeks weeks from it' },
    everyWeeks: Type.Integer({ minimum: 1, maximum: 4 }),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type RoundInput = Static<typeof RoundInput>;

export const ChangeInput = Type.Object(
  {
    usualDay: { ...Day, description: 'the collection day that moves' },
    movedTo: { ...Day, description: 'the day it moves to (within a week either side)' },
    reason: Type.Optional(Type.String({ maxLength: 120, description: 'like “Christmas Day”' })),
  },
  { additionalProperties: false },
);
export type ChangeInput = Static<typeof ChangeInput>;

export interface RoundView {
  id: string;
  name: string;
  bin: string;
  binCy: string | null;
  areaIds: string[];
  firstDay: string;
  everyWeeks: number;
  enabled: boolean;
  changes: { usualDay: string; movedTo: string; reason: string | null }[];
  createdAt: Date;
  updatedAt: Date;
}

export interface Collection {
  roundId: string;
  round: string;
  bin: string;
  /** the day it is collected */
  day: string;
  /** the day it would have been, when moved */
  usualDay: string;
  reason: string | null;
}
