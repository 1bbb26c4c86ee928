import type { EstateService } from '../estate/index.js';
import { insightErrors } from './insight.errors.js';
import { MAX_TEXT_LENGTH, MAX_TEXTS, type TextInsight } from './insight.schema.js';
import { analyse } from './sentiment.js';
import { PlaceMatcher, type TopicConfig, TopicMatcher } from './topics.js';

/**
 * What residents feel and what they talk about: each text's sentiment, the services it is about and
 * the estate's areas it names. Scoring runs in this process, with no outside service.
 */
export class InsightService {
  private readonly topics: TopicMatcher;
  private places?: { key: string; matcher: PlaceMatcher };

  constructor(
    private readonly estate: Pick<EstateService, 'listAreas'>,
    topics?: TopicConfig,
  ) {
    this.topics = new TopicMatcher(topics);
  }

  async analyse(texts: string[]): Promise<TextInsight[]> {
    if (!texts.length) throw insightErrors.INSIGHT_NO_TEXTS();
    if (texts.length > MAX_TEXTS) throw insightErrors.INSIGHT_TOO_MANY_TEXTS(undefined, [{ field: 'texts', message: `${texts.length} texts: send at most ${MAX_TEXTS}` }]);
    const long = texts.flatMap((t, i) => (t.length > MAX_TEXT_LENGTH ? [{ field: `texts/${i}`, message: `${t.length} characters: at most ${MAX_TEXT_LENGTH}` }] : []));
    if (long.length) throw insightErrors.INSIGHT_TEXT_TOO_LONG(undefined, long);
    const places = await this.placeMatcher();
    return texts.map((text) => ({ ...analyse(text), services: this.topics.topics(text), places: places.find(text) }));
  }

  /** The estate's area names, matched; rebuilt only when the areas change (the estate caches its list). */
  private async placeMatcher(): Promise<PlaceMatcher> {
    const names = (await this.estate.listAreas()).map((a) => a.name);
    const key = names.join('\n');
    if (this.places?.key !== key) this.places = { key, matcher: new PlaceMatcher(names) };
    return this.places.matcher;
  }
}
