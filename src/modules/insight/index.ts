import { definePermissions } from '../../platform/auth/roles.js';

definePermissions({
  'insight:read': { description: 'Score the sentiment of texts and see what residents say about services', roles: ['comms', 'service'] },
});

export { insightRoutes } from './insight.routes.js';
export type { SentimentRequest, TextInsight } from './insight.schema.js';
export { InsightService } from './insight.service.js';
export { analyse, type Sentiment, type SentimentLabel, scoreText } from './sentiment.js';
export { DEFAULT_TOPICS, PlaceMatcher, placesIn, type TopicConfig, TopicMatcher, topicsOf } from './topics.js';
