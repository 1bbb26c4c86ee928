/**
 * Sentiment: Weft's scorer against two npm packages, on the same labelled texts in the same run:
 *
 *   npx tsx bench/sentiment.ts [--seconds N] [--data path/to/file.jsonl]
 *
 * data        bench/data/sentiment-eval.jsonl: short texts about council services, each labelled positive,
 *             neutral or negative, with the service it is about and a split: `tune` (the only texts the
 *             scorer was tuned on) and `test` (the honest figure)
 * quality     accuracy and macro-F1 (the mean of the three labels' F1) per split, with the confusion matrix
 * baselines   vader-sentiment (compound ≥ 0.05 positive, ≤ -0.05 negative, its documented thresholds) and
 *             sentiment, AFINN-165 (score > 0 positive, < 0 negative, neutral at 0; its `comparative` is the
 *             score over the number of tokens, so the same sign and the same labels)
 * throughput  texts scored a second on one core: every text scored, over and over, for about N seconds
 *             (default 2) per scorer, after a warm-up round
 *
 * Prints one JSON object.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { analyse, type SentimentLabel } from '../src/modules/insight/sentiment.js';
import { runIfMain } from './lib/cli.js';

export interface SentimentBenchOptions {
  seconds?: number;
  data?: string;
}

export interface EvalItem {
  text: string;
  label: SentimentLabel;
  service: string;
  split: 'tune' | 'test';
}

const LABELS: SentimentLabel[] = ['positive', 'neutral', 'negative'];
export const EVAL_FILE = fileURLToPath(new URL('./data/sentiment-eval.jsonl', import.meta.url));

export function loadEval(path = EVAL_FILE): EvalItem[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as EvalItem);
}

type Scorer = (text: string) => SentimentLabel;

const require = createRequire(import.meta.url);
const vader = require('vader-sentiment') as { SentimentIntensityAnalyzer: { polarity_scores(text: string): { compound: number } } };
const Afinn = require('sentiment') as new () => { analyze(text: string): { score: number; comparative: number } };
const afinn = new Afinn();

export const SCORERS: Record<string, Scorer> = {
  weft: (text) => analyse(text).label,
  vader: (text) => {
    const c = vader.SentimentIntensityAnalyzer.polarity_scores(text).compound;
    return c >= 0.05 ? 'positive' : c <= -0.05 ? 'negative' : 'neutral';
  },
  afinn: (text) => {
    const s = afinn.analyze(text).score;
    return s > 0 ? 'positive' : s < 0 ? 'negative' : 'neutral';
  },
};

export interface Quality {
  n: number;
  accuracy: number;
  macroF1: number;
  f1: Record<SentimentLabel, number>;
  /** confusion[truth][predicted] */
  confusion: Record<SentimentLabel, Record<SentimentLabel, number>>;
}

const round = (x: number, places = 4) => Math.round(x * 10 ** places) / 10 ** places;

export function quality(items: EvalItem[], predicted: SentimentLabel[]): Quality {
  const confusion = Object.fromEntries(LABELS.map((t) => [t, Object.fromEntries(LABELS.map((p) => [p, 0]))])) as Quality['confusion'];
  let right = 0;
  items.forEach((item, i) => {
    confusion[item.label][predicted[i]]++;
    if (item.label === predicted[i]) right++;
  });
  const f1 = {} as Record<SentimentLabel, number>;
  for (const l of LABELS) {
    const tp = confusion[l][l];
    const predictedL = LABELS.reduce((s, t) => s + confusion[t][l], 0);
    const actualL = LABELS.reduce((s, p) => s + confusion[l][p], 0);
    const precision = predictedL ? tp / predictedL : 0;
    const recall = actualL ? tp / actualL : 0;
    f1[l] = round(precision + recall ? (2 * precision * recall) / (precision + recall) : 0);
  }
  const macroF1 = round(LABELS.reduce((s, l) => s + f1[l], 0) / LABELS.length);
  return { n: items.length, accuracy: round(items.length ? right / items.length : 0), macroF1, f1, confusion };
}

/** Texts a second on this one thread: every text, over and over, for about `seconds`. */
function throughput(score: Scorer, texts: string[], seconds: number): number {
  for (const t of texts) score(t); // warm-up: JIT and lazy tables
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (const t of texts) score(t);
    n += texts.length;
    elapsed = performance.now() - t0;
  } while (elapsed < seconds * 1000);
  return Math.round((n / elapsed) * 1000);
}

export async function main(options: SentimentBenchOptions = {}) {
  const seconds = options.seconds ?? 2;
  const items = loadEval(options.data);
  const splits = { test: items.filter((i) => i.split === 'test'), tune: items.filter((i) => i.split === 'tune') };
  const texts = items.map((i) => i.text);
  const result: Record<string, unknown> = {
    bench: 'sentiment',
    data: { texts: items.length, test: splits.test.length, tune: splits.tune.length, labels: Object.fromEntries(LABELS.map((l) => [l, items.filter((i) => i.label === l).length])) },
    thresholds: { weft: 'score ≥ 0.1 positive, ≤ -0.1 negative', vader: 'compound ≥ 0.05 positive, ≤ -0.05 negative', afinn: 'score > 0 positive, < 0 negative (the sign of comparative)' },
  };
  for (const [name, score] of Object.entries(SCORERS)) {
    result[name] = {
      test: quality(
        splits.test,
        splits.test.map((i) => score(i.text)),
      ),
      tune: quality(
        splits.tune,
        splits.tune.map((i) => score(i.text)),
      ),
      textsPerSecond: throughput(score, texts, seconds),
    };
  }
  return result;
}

runIfMain<SentimentBenchOptions>(import.meta.url, main, {
  usage: 'npx tsx bench/sentiment.ts [--seconds N] [--data file.jsonl]',
  custom: {
    '--seconds': (value, out) => {
      const n = Number(value);
      if (!(n > 0)) throw new Error('--seconds must be a number above 0');
      out.seconds = n;
    },
  },
  strings: { '--data': 'data' },
});
