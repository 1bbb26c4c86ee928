/**
 * Which council service a text is about, from keywords and phrases (configurable; defaults below),
 * and which of the council's places it names. Matching is on whole words, case-insensitive; a
 * keyword ending in `*` matches any ending ("pothole*" finds "potholes"); one starting with `-` is
 * a phrase that does not count for the topic ("-car park" under parks: a car park is not a park).
 */
export type TopicConfig = Record<string, string[]>;

export const DEFAULT_TOPICS: TopicConfig = {
  bins: [
    'bin*',
    'wheelie bin*',
    'bin day',
    'bin men',
    'bin crew*',
    'bin lorr*',
    'refuse',
    'recycling',
    'garden waste',
    'food waste',
    'food caddy',
    'caddy',
    'rubbish collection*',
    'collection day',
    'missed collection*',
    'bulky waste',
    'bulky collection*',
    'tip',
    'recycling centre',
    'household waste',
  ],
  parking: [
    'parking',
    'park and ride',
    'car park*',
    'parked',
    'permit*',
    'pcn*',
    'penalty charge*',
    'traffic warden*',
    'warden*',
    'pay and display',
    'double yellow*',
    'yellow line*',
    'blue badge*',
    'dropped kerb*',
    'ev charg*',
  ],
  libraries: ['librar*', 'librarian*', 'library card*', 'rhyme time', 'borrowbox', 'mobile library', 'ebook*', 'e-book*', 'audiobook*'],
  schools: [
    'school*',
    'pupil*',
    'admission*',
    'ehcp*',
    'send team',
    'send transport',
    'sen kids',
    'special educational needs',
    'school place*',
    'school transport',
    'school bus*',
    'free school meals',
    'nursery',
    'nurseries',
    'inset day*',
    'term dates',
    'lollipop',
    'crossing patrol',
  ],
  roads: [
    'road*',
    'pothole*',
    'pavement*',
    'footpath*',
    'resurfac*',
    'roadworks',
    'traffic light*',
    'gritt*',
    'junction*',
    'cycle lane*',
    'highways',
    'drain*',
    'road closure*',
    'speed limit*',
    'zebra crossing*',
    'roundabout*',
    'kerb*',
  ],
  'council-tax': [
    'council tax',
    'single person discount',
    'council tax support',
    'council tax reduction',
    'arrears',
    'summons',
    'band a',
    'band b',
    'band c',
    'band d',
    'band e',
    'band f',
    'bailiff*',
  ],
  'air-quality': ['air quality', 'pollution', 'polluted', 'clean air zone', 'caz', 'fumes', 'idling', 'emissions', 'no2', 'pm2.5', 'pm10', 'smoke', 'smoky', 'wood burner*', 'bonfire*', 'asthma'],
  care: [
    'care',
    'carer*',
    'social care',
    'social worker*',
    'care home*',
    'care package*',
    'home care',
    'telecare',
    'reablement',
    'occupational therap*',
    'direct payment*',
    'respite',
    'day centre',
    'dementia',
    'falls team',
  ],
  housing: [
    'housing',
    'council house*',
    'council flat*',
    'tenant*',
    'tenancy',
    'repairs',
    'damp',
    'mould',
    'homeless*',
    'temporary accommodation',
    'housing register',
    'housing officer*',
    'rent',
    'landlord*',
    'boiler*',
    'estate office',
  ],
  planning: [
    'planning',
    'planning permission',
    'planning application*',
    'extension',
    'local plan',
    'conservation area*',
    'enforcement',
    'development*',
    'developer*',
    'building regulations',
    'listed building*',
  ],
  parks: [
    'park',
    'parks',
    '-car park*',
    '-park and ride',
    '-parking',
    'play park*',
    'play area*',
    'playground*',
    'allotment*',
    'ranger*',
    'cemeter*',
    'green space*',
    'playing field*',
    'skate park',
    'bandstand',
    'splash pad',
    'paddling pool',
    'nature reserve',
  ],
  'street-lighting': ['street light*', 'streetlight*', 'street lamp*', 'lamp post*', 'lamppost*', 'led lights', 'lighting'],
  leisure: ['leisure centre*', 'sports centre*', 'gym', 'swimming', 'swim', 'pool', 'lifeguard*', 'membership', 'fitness class*', 'sauna'],
  'environmental-health': ['environmental health', 'noise', 'noisy', 'pest control', 'rats', 'mice', 'wasps', 'food hygiene', 'dog warden', 'stray dog*', 'barking'],
  transport: ['bus', 'buses', 'bus stop*', 'bus shelter*', 'bus pass*', 'bus route*', 'timetable*', 'dial a ride', 'dial-a-ride', 'community transport', 'train', 'trains', 'train station'],
  'street-cleaning': ['fly-tip*', 'flytip*', 'fly tip*', 'litter*', 'graffiti', 'street clean*', 'sweeper*', 'dumped', 'dumping', 'dog poo', 'dog mess', 'dog fouling', 'chewing gum'],
  contact: ['website', 'online form', 'call centre', 'contact centre', 'customer service*', 'on hold', 'phone line*', 'helpline', 'webchat', 'chatbot', 'my account', 'one stop shop'],
};

interface Matcher {
  topic: string;
  pattern: RegExp;
  /** phrases blanked out before the topic's own keywords are looked for */
  except?: RegExp;
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function termPattern(term: string): string {
  const t = term.trim().toLowerCase();
  const open = t.endsWith('*');
  const body = (open ? t.slice(0, -1) : t).split(/\s+/).map(literal).join('[\\s-]+');
  return open ? `${body}[\\p{L}\\p{N}'-]*` : body;
}

/** Finds the topics a text is about. Build once per configuration; `topics(text)` is then cheap. */
export class TopicMatcher {
  private readonly matchers: Matcher[];

  constructor(config: TopicConfig = DEFAULT_TOPICS) {
    const words = (list: string[], flags: string) => new RegExp(`(?<![\\p{L}\\p{N}])(?:${list.map(termPattern).join('|')})(?![\\p{L}\\p{N}])`, flags);
    this.matchers = [];
    for (const [topic, terms] of Object.entries(config)) {
      const wanted = terms.filter((t) => t.trim() && !t.trim().startsWith('-'));
      const unwanted = terms
        .map((t) => t.trim())
        .filter((t) => t.startsWith('-') && t.length > 1)
        .map((t) => t.slice(1));
      if (wanted.length) this.matchers.push({ topic, pattern: words(wanted, 'iu'), except: unwanted.length ? words(unwanted, 'giu') : undefined });
    }
  }

  /** The topics (services) the text names, in the configuration's order. */
  topics(text: string): string[] {
    const found: string[] = [];
    for (const m of this.matchers) if (m.pattern.test(m.except ? text.replace(m.except, ' ') : text)) found.push(m.topic);
    return found;
  }
}

const defaultMatcher = new TopicMatcher();

/** The services a text is about, by the default keywords or by a configuration of your own. */
export function topicsOf(text: string, config?: TopicConfig): string[] {
  return (config ? new TopicMatcher(config) : defaultMatcher).topics(text);
}

/**
 * Which of the given place names (the council's areas: wards, towns, neighbourhoods) a text names,
 * matched whole-word and case-insensitively, each name once, in the order given. Build once per
 * list of names.
 */
export class PlaceMatcher {
  private readonly places: { name: string; pattern: RegExp }[];

  constructor(names: readonly string[]) {
    const seen = new Set<string>();
    this.places = [];
    for (const name of names) {
      const key = name.trim().toLowerCase().replaceAll('’', "'");
      if (!key || seen.has(key)) continue;
      seen.add(key);
      this.places.push({ name, pattern: new RegExp(`(?<![\\p{L}\\p{N}])${termPattern(key.replace(/\*+$/, ''))}(?![\\p{L}\\p{N}])`, 'iu') });
    }
  }

  find(text: string): string[] {
    const plain = text.includes('’') ? text.replaceAll('’', "'") : text;
    return this.places.filter((p) => p.pattern.test(plain)).map((p) => p.name);
  }
}

/** The places of `names` that the text mentions. */
export function placesIn(text: string, names: readonly string[]): string[] {
  return new PlaceMatcher(names).find(text);
}
