import { EMOJI, EMOTICONS } from './emoji.js';
import { BOOSTERS, CONTRAST, LEXICON, NEGATED_LEXICON, NEGATORS, OPENER_LEADS, PHRASE_INDEX, REPEAT_CUES, SARCASTIC_OPENERS, SUBORDINATE } from './lexicon.js';

/**
 * Sentiment of a short text about a council service, scored inside Weft with no outside service:
 * a lexicon of words, phrases, emoji and emoticons, with rules for negation, boosters and
 * downtoners, capitals, "!" and "?!", contrast ("but"), questions, politeness and two kinds of
 * sarcasm. The method, its figures and its limits are in this folder's README.
 */
export type SentimentLabel = 'positive' | 'neutral' | 'negative';

export interface Sentiment {
  /** from -1 (most negative) to 1 (most positive), three decimals */
  score: number;
  label: SentimentLabel;
}

/** A score at or beyond this (either way) is positive or negative; between is neutral. Chosen on the tune split. */
export const THRESHOLD = 0.1;
/** How far the sum of valences is squashed into (-1, 1): sum / sqrt(sum² + ALPHA). VADER's constant. */
const ALPHA = 15;
const NEGATION_SCALE = -0.6;
const NEGATION_WINDOW = 3;
/** "Nobody from the council has visited": a negated subject reaches further. */
const LONG_NEGATION_WINDOW = 6;
const LONG_NEGATORS = new Set(['nobody', "nobody's", 'noone', 'no-one', "no-one's", 'nothing', "nothing's", 'none']);
/** Emoji that turn praise beside them into sarcasm. */
const EYE_ROLL = new Set(['🙄', '🙃', '😒', '🤦', '🤦‍♂️', '🤦‍♀️', '🤡']);
const CAPS_SCALE = 1.3;
const EXCLAMATION = 0.3;
const BEFORE_CONTRAST = 0.5;
const AFTER_CONTRAST = 1.5;
const SUBORDINATE_SCALE = 0.5;
const QUESTION_POSITIVE = 0.15;
const QUESTION_NEGATIVE = 0.6;
const POLITE_IN_REQUEST = 0.15;
const INCREDULOUS = 0.6;

enum Kind {
  Word = 0,
  Emoji = 1,
  Bang = 2,
  Stop = 3,
  Comma = 4,
  Other = 5,
}

interface Token {
  kind: Kind;
  /** lower case, apostrophes straightened; for punctuation the characters themselves */
  lower: string;
  caps: boolean;
  valence: number;
}

// Emoticons first (so ":D" is not a word), then words (letters, inner apostrophes and hyphens) and
// numbers (with their separators, so "10:30" is not an emoticon), runs of ! and ?, stops, commas, emoji.
const TOKEN =
  /(>:-?\(|:'-?\(|[:;=]-?[)(\][DPpSs|/\\@]{1,2}(?![\p{L}\d])|[xX]D(?![\p{L}\d])|<\/3|<3+|\^_?\^|-[_.]-|D:(?=\s|$))|(\p{L}[\p{L}\p{M}'’-]*\p{L}|\p{L}|\d+(?:[.,:]\d+)*)|([!?]+)|(\.+|;|…|:(?=\s))|(,)|(\p{Extended_Pictographic}\uFE0F?[\u{1F3FB}-\u{1F3FF}]?(?:\u200D\p{Extended_Pictographic}\uFE0F?)*)|(\S)/gu;
const URL = /\b(?:https?:\/\/|www\.)\S+/gi;
const LOWER = /\p{Ll}/u;

export function tokenize(text: string): Token[] {
  const source = text.includes('://') || text.includes('www.') ? text.replace(URL, ' ') : text;
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(source); m; m = TOKEN.exec(source)) {
    if (m[1] !== undefined) tokens.push({ kind: Kind.Emoji, lower: m[1], caps: false, valence: EMOTICONS.get(m[1]) ?? 0 });
    else if (m[2] !== undefined) {
      const word = m[2];
      let lower = word.toLowerCase();
      if (lower.includes('’')) lower = lower.replaceAll('’', "'");
      tokens.push({ kind: Kind.Word, lower, caps: word.length > 1 && lower !== word && word === word.toUpperCase(), valence: 0 });
    } else if (m[3] !== undefined) tokens.push({ kind: Kind.Bang, lower: m[3], caps: false, valence: 0 });
    else if (m[4] !== undefined) tokens.push({ kind: Kind.Stop, lower: m[4], caps: false, valence: 0 });
    else if (m[5] !== undefined) tokens.push({ kind: Kind.Comma, lower: ',', caps: false, valence: 0 });
    else if (m[6] !== undefined) tokens.push({ kind: Kind.Emoji, lower: m[6], caps: false, valence: EMOJI.get(m[6]) ?? EMOJI.get(m[6].replace(/[\uFE0F\u{1F3FB}-\u{1F3FF}]/gu, '')) ?? 0 });
    else if (m[7] === '-' || m[7] === '–' || m[7] === '—') tokens.push({ kind: Kind.Comma, lower: ',', caps: false, valence: 0 });
  }
  return tokens;
}

/** "rubbish" is a noun (the stuff in the bin) or a verdict (the service is rubbish). */
const RUBBISH_VERDICT_NEXT = new Set([
  'service',
  'services',
  'council',
  'job',
  'website',
  'app',
  'system',
  'response',
  'excuse',
  'excuses',
  'idea',
  'communication',
  'staff',
  'team',
  'advice',
  'attitude',
  'customer',
  'road',
  'roads',
  'parking',
  'answer',
  'reply',
  'decision',
  'plan',
  'scheme',
]);
const RUBBISH_NOUN_NEXT = new Set([
  'collection',
  'collections',
  'collected',
  'bin',
  'bins',
  'bag',
  'bags',
  'sack',
  'sacks',
  'tip',
  'lorry',
  'lorries',
  'truck',
  'men',
  'collectors',
  'day',
  'dump',
  'dumped',
  'left',
  'piled',
  'piling',
  'strewn',
  'everywhere',
  'lying',
  'blowing',
  'outside',
  'in',
  'on',
  'from',
  'at',
  'and',
  'has',
  'have',
  'was',
  'were',
  'is',
  'are',
  'that',
  'which',
  'out',
]);
const DETERMINERS = new Set([
  'the',
  'my',
  'our',
  'your',
  'their',
  'his',
  'her',
  'of',
  'household',
  'garden',
  'some',
  'any',
  'all',
  'no',
  'this',
  'that',
  'more',
  'extra',
  'loose',
  'with',
  'up',
  'dumped',
  'fly-tipped',
  'bags',
  'black',
  'general',
]);
const CRACKING_PHYSICAL = new Set(['up', 'pavement', 'pavements', 'paving', 'road', 'tarmac', 'wall', 'walls', 'ceiling', 'plaster', 'windows', 'window', 'glass', 'slabs', 'slab', 'open', 'apart']);
const POLITE = new Set(['thanks', 'thank', 'cheers', 'ta', 'thx', 'ty', 'thankyou', 'thanku']);

function wordValence(tokens: Token[], i: number): number {
  const w = tokens[i].lower;
  if (w === 'rubbish') {
    const next = tokens[i + 1]?.kind === Kind.Word ? tokens[i + 1].lower : '';
    const prev = i > 0 && tokens[i - 1].kind === Kind.Word ? tokens[i - 1].lower : '';
    if (RUBBISH_VERDICT_NEXT.has(next)) return -2.5;
    if (RUBBISH_NOUN_NEXT.has(next) || DETERMINERS.has(prev)) return -0.6;
    return -2.5;
  }
  if (w === 'cracking') {
    const next = tokens[i + 1]?.kind === Kind.Word ? tokens[i + 1].lower : '';
    return CRACKING_PHYSICAL.has(next) ? -1 : 2.5;
  }
  return LEXICON.get(w) ?? 0;
}

function isNegator(w: string): boolean {
  return NEGATORS.has(w) || w.endsWith("n't");
}

/** The longest phrase starting at token i, if any. */
function phraseAt(tokens: Token[], i: number): { length: number; valence: number; negates: boolean; opensNegation: boolean } | undefined {
  const candidates = PHRASE_INDEX.get(tokens[i].lower);
  if (!candidates) return undefined;
  outer: for (const p of candidates) {
    if (i + p.words.length > tokens.length) continue;
    for (let k = 1; k < p.words.length; k++) if (tokens[i + k].lower !== p.words[k]) continue outer;
    return { length: p.words.length, valence: p.valence, negates: p.words.some(isNegator), opensNegation: p.opensNegation || isNegator(p.words[p.words.length - 1]) };
  }
  return undefined;
}

/** Words that may follow an opener before its comma: "Well done council,", "Cheers guys." */
const VOCATIVES = new Set(['council', 'everyone', 'all', 'guys', 'lads', 'team', 'folks', 'people', 'mate', 'you', 'again', 'then', 'there', 'that', 'for']);

/**
 * The sarcastic opener at a sentence start (after "oh", "well", "yeah"...): its length in tokens,
 * negative for openers that are sarcastic without a comma ("love how", "gotta love"), or 0.
 */
function openerAt(tokens: Token[], i: number): number {
  for (let j = i; j <= i + 2 && tokens[j]?.kind === Kind.Word; j++) {
    const first = tokens[j].lower;
    const two = tokens[j + 1]?.kind === Kind.Word ? `${first} ${tokens[j + 1].lower}` : '';
    const three = two && tokens[j + 2]?.kind === Kind.Word ? `${two} ${tokens[j + 2].lower}` : '';
    let end = 0;
    if (three && SARCASTIC_OPENERS.has(three)) end = j + 3;
    else if (two && SARCASTIC_OPENERS.has(two)) end = j + 2;
    else if (SARCASTIC_OPENERS.has(first)) end = j + 1;
    if (end) {
      const last = tokens[end - 1].lower;
      if (last === 'how' || last === 'that' || last.endsWith('love')) return -(end - i);
      let after = tokens[end];
      if (after?.kind === Kind.Word && VOCATIVES.has(after.lower)) after = tokens[++end] ?? after;
      if (!after || after.kind === Kind.Comma || after.kind === Kind.Stop || after.kind === Kind.Bang || after.kind === Kind.Emoji) return end - i;
      if (after.kind === Kind.Word && (after.lower === 'another' || after.lower === 'more' || after.lower === 'again' || after.lower === 'yet')) return end - i;
      return 0;
    }
    if (!OPENER_LEADS.has(first)) return 0;
  }
  return 0;
}

/** Scores one text. Pure and fast (no allocation beyond its tokens): safe to call on every text as it arrives. */
export function analyse(text: string): Sentiment {
  const score = scoreText(text);
  return { score, label: labelOf(score) };
}

export function labelOf(score: number): SentimentLabel {
  return score >= THRESHOLD ? 'positive' : score <= -THRESHOLD ? 'negative' : 'neutral';
}

export function scoreText(text: string): number {
  const tokens = tokenize(text);
  if (!tokens.length) return 0;
  const shouting = !LOWER.test(text) && /\p{Lu}{2}/u.test(text);

  const values: number[] = [];
  const sentenceOf: number[] = [];
  const fromEmoji: boolean[] = [];
  const polite: number[] = [];
  const questions = new Set<number>();
  let sentence = 0;
  let sentenceStart = true;
  let negLeft = 0;
  let negCaps = false;
  let boost = 0;
  let boostLeft = 0;
  let weight = 1;
  let clauseWeight = 1;
  let bangs = 0;
  let incredulous = false;
  let anyQuestion = false;
  const openers: { end: number; item: number; repeat: boolean; loose: boolean }[] = [];

  let eyeRoll = false;
  const push = (v: number, i: number) => {
    values.push(v * weight * clauseWeight);
    sentenceOf.push(sentence);
    fromEmoji.push(tokens[i].kind === Kind.Emoji);
    const o = openers[openers.length - 1];
    if (o && o.item < 0 && i < o.end) o.item = values.length - 1;
  };
  const endClause = () => {
    negLeft = 0;
    boost = 0;
    boostLeft = 0;
    clauseWeight = 1;
  };

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== Kind.Word && t.kind !== Kind.Emoji) {
      if (t.kind === Kind.Bang) {
        let ex = 0;
        let q = 0;
        for (const c of t.lower) c === '!' ? ex++ : q++;
        bangs += ex;
        if (q) {
          anyQuestion = true;
          if (ex) incredulous = true;
          else questions.add(sentence);
        }
      }
      if (t.kind === Kind.Bang || t.kind === Kind.Stop) {
        sentence++;
        sentenceStart = true;
      }
      endClause();
      continue;
    }
    if (t.kind === Kind.Emoji) {
      if (EYE_ROLL.has(t.lower)) eyeRoll = true;
      if (t.valence) push(t.valence, i);
      continue;
    }

    if (sentenceStart) {
      sentenceStart = false;
      const n = openerAt(tokens, i);
      if (n) openers.push({ end: i + Math.abs(n), item: -1, repeat: false, loose: n < 0 });
    }
    const opener = openers[openers.length - 1];
    if (opener && i >= opener.end && REPEAT_CUES.has(t.lower)) opener.repeat = true;

    const phrase = phraseAt(tokens, i);
    if (phrase) {
      let v = phrase.valence;
      if (v !== 0) {
        if (tokens[i].caps && !shouting) v *= CAPS_SCALE;
        if (boostLeft > 0) v *= Math.max(0.2, 1 + boost);
        if (negLeft > 0 && !phrase.negates) v *= NEGATION_SCALE * (negCaps ? CAPS_SCALE : 1);
        if (POLITE.has(t.lower)) polite.push(values.length);
        push(v, i);
        boost = 0;
        boostLeft = 0;
      }
      if (phrase.opensNegation) {
        negLeft = NEGATION_WINDOW;
        negCaps = tokens[i + phrase.length - 1].caps;
      } else if (phrase.negates) negLeft = 0;
      i += phrase.length - 1;
      continue;
    }

    const w = t.lower;
    if (isNegator(w)) {
      const subject = LONG_NEGATORS.has(w) || (w === 'no' && (tokens[i + 1]?.lower === 'one' || tokens[i + 1]?.lower === "one's"));
      negLeft = subject ? LONG_NEGATION_WINDOW : NEGATION_WINDOW;
      negCaps = t.caps;
      const own = LEXICON.get(w);
      if (own) push(own, i);
      continue;
    }
    if (CONTRAST.has(w)) {
      for (let k = 0; k < values.length; k++) values[k] *= BEFORE_CONTRAST;
      weight = AFTER_CONTRAST;
      negLeft = 0;
      boost = 0;
      const own = LEXICON.get(w);
      if (own) push(own, i);
      continue;
    }
    if (SUBORDINATE.has(w)) {
      clauseWeight = SUBORDINATE_SCALE;
      continue;
    }
    const b = BOOSTERS[w];
    if (b !== undefined) {
      const next = tokens[i + 1];
      const leads = next?.kind === Kind.Word && (LEXICON.has(next.lower) || PHRASE_INDEX.has(next.lower) || isNegator(next.lower) || BOOSTERS[next.lower] !== undefined);
      if (leads || !LEXICON.has(w)) {
        boost += b * (t.caps && !shouting ? CAPS_SCALE : 1);
        boostLeft = 2;
        continue;
      }
    }

    let v = wordValence(tokens, i);
    if (negLeft > 0) {
      const negated = NEGATED_LEXICON.get(w);
      if (negated !== undefined) v = negated * (negCaps ? CAPS_SCALE : 1);
      else if (v !== 0) v *= NEGATION_SCALE * (negCaps ? CAPS_SCALE : 1);
      negLeft--;
    }
    if (boostLeft > 0) boostLeft--;
    if (v === 0) continue;
    if (t.caps && !shouting) v *= CAPS_SCALE;
    if (boost !== 0) v *= Math.max(0.2, 1 + boost);
    boost = 0;
    boostLeft = 0;
    if (POLITE.has(w)) polite.push(values.length);
    push(v, i);
  }

  // Questions: "is the library good for children?" praises nothing, and asks more than it complains.
  // Politeness in a request is politeness.
  for (let k = 0; k < values.length; k++) if (questions.has(sentenceOf[k])) values[k] *= values[k] > 0 ? QUESTION_POSITIVE : QUESTION_NEGATIVE;
  if (anyQuestion) for (const k of polite) if (values[k] > 0) values[k] *= POLITE_IN_REQUEST;

  // Sarcasm 1: a cheerful opener ("Great,", "Oh brilliant.", "Well done council,", "Gotta love") with a
  // complaint in the rest of the text, or "another"/"again" and nothing good in words. The applause that
  // follows a flipped opener (👏) is turned too.
  for (const o of openers) {
    if (o.item < 0 || values[o.item] <= 0) continue;
    let rest = 0;
    for (let k = 0; k < values.length; k++) if (k !== o.item && !fromEmoji[k]) rest += values[k];
    if (rest < -0.3 || ((o.repeat || o.loose) && rest <= 0.3)) {
      values[o.item] = -0.8 * values[o.item];
      for (let k = o.item + 1; k < values.length; k++) if (fromEmoji[k] && values[k] > 0) values[k] *= -0.8;
    }
  }
  // Sarcasm 2: a cheerful last word after a complaint ("…and the bins are fortnightly. cheers"), or praise
  // taken back at the end ("Great service… NOT"), or praise with an eye-roll (🙄 🙃 😒).
  const lastWord = lastWordIndex(tokens);
  if (lastWord >= 0) {
    const last = tokens[lastWord];
    const alone = lastWord > 0 && tokens[lastWord - 1].kind !== Kind.Word;
    if (alone && last.lower === 'not') {
      for (let k = 0; k < values.length; k++) if (values[k] > 0) values[k] *= -0.8;
    } else if (alone && SARCASTIC_OPENERS.has(last.lower) && values.length > 1) {
      const k = lastWordItem(values, fromEmoji);
      let rest = 0;
      for (let j = 0; j < values.length; j++) if (j !== k && !fromEmoji[j]) rest += values[j];
      if (k >= 0 && values[k] > 0 && rest < -0.3) values[k] *= -0.8;
    }
  }
  if (eyeRoll) for (let k = 0; k < values.length; k++) if (values[k] > 0 && !fromEmoji[k]) values[k] *= -0.5;

  let sum = 0;
  for (const v of values) sum += v;
  if (incredulous && sum <= 0.5) sum -= INCREDULOUS;
  if (sum > 0) sum += Math.min(bangs, 4) * EXCLAMATION;
  else if (sum < 0) sum -= Math.min(bangs, 4) * EXCLAMATION;
  if (shouting) sum *= 1.15;
  const score = sum / Math.sqrt(sum * sum + ALPHA);
  return Math.round(score * 1000) / 1000;
}

function lastWordItem(values: number[], fromEmoji: boolean[]): number {
  for (let k = values.length - 1; k >= 0; k--) if (!fromEmoji[k]) return k;
  return -1;
}

function lastWordIndex(tokens: Token[]): number {
  for (let k = tokens.length - 1; k >= 0; k--) if (tokens[k].kind === Kind.Word) return k;
  return -1;
}
