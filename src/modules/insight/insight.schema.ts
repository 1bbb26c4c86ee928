import { type Static, Type } from '@sinclair/typebox';

export const MAX_TEXTS = 1000;
export const MAX_TEXT_LENGTH = 5000;

export const SentimentRequest = Type.Object(
  {
    texts: Type.Array(Type.String({ description: `one short text (feedback, an SMS reply, a post), at most ${MAX_TEXT_LENGTH.toLocaleString('en-GB')} characters` }), {
      description: `the texts to score, at least one and at most ${MAX_TEXTS.toLocaleString('en-GB')}; answered in the same order`,
    }),
  },
  { additionalProperties: false },
);
export type SentimentRequest = Static<typeof SentimentRequest>;

export const TextInsight = Type.Object({
  score: Type.Number({ minimum: -1, maximum: 1, description: 'from -1 (most negative) to 1 (most positive)' }),
  label: Type.Union([Type.Literal('positive'), Type.Literal('neutral'), Type.Literal('negative')]),
  services: Type.Array(Type.String(), { description: 'the council services the text is about (bins, parking, libraries, …)' }),
  places: Type.Array(Type.String(), { description: 'the estate’s areas (wards, neighbourhoods) the text names' }),
});
export type TextInsight = Static<typeof TextInsight>;

export const SentimentResponse = Type.Object({ results: Type.Array(TextInsight) });
export type SentimentResponse = Static<typeof SentimentResponse>;
