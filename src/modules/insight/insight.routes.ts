import type { FastifyInstance } from 'fastify';
import { ProblemResponses } from '../../platform/web/openapi.js';
import { SentimentRequest, SentimentResponse } from './insight.schema.js';
import type { InsightService } from './insight.service.js';

const TAGS = ['insight'];

/** Sentiment, services and places of texts residents wrote. */
export function insightRoutes(deps: { insight: InsightService }) {
  const { insight } = deps;
  return async function routes(app: FastifyInstance) {
    app.post(
      '/api/v1/insight/sentiment',
      {
        config: { permission: 'insight:read' },
        schema: {
          tags: TAGS,
          summary: 'Score texts: per text a sentiment score (-1 to 1) and label, the council services it is about and the areas it names. Nothing is stored',
          body: SentimentRequest,
          response: { ...ProblemResponses, 200: SentimentResponse },
        },
      },
      async (request) => {
        request.audited = true; // a read: nothing is stored, so there is no write to audit
        return { results: await insight.analyse((request.body as SentimentRequest).texts) };
      },
    );
  };
}
