// Voice calls: the same template read aloud by a speech engine. GOV.UK Notify has no voice
// channel, so these are Weft's rules (README.md): Markdown becomes sentences, lists are spoken
// as "a, b and c", links are read out or left out with a note, and a keypad menu closes the call.

import { type Block, type Inline, parseBlocks } from './markdown.js';
import { fill, type Personalisation } from './placeholders.js';
import { escapeHtml, formattedList, normaliseWhitespace, plainPunctuation } from './text.js';

export interface VoiceMenuOption {
  /** A keypad key: 0 to 9, * or #. */
  key: string;
  /** What the key does, for "Press 1 to …": "confirm", "speak to someone". */
  label: string;
}

export interface VoiceOptions {
  menu?: readonly VoiceMenuOption[];
  /** 'speak' reads web addresses out ("example dot gov dot uk slash pay"); 'remove' leaves them out and says so. Default 'speak'. */
  urls?: 'speak' | 'remove';
  /** Language of the fixed words (menu, link note). Default 'en'. */
  language?: 'en' | 'cy';
}

export interface RenderedVoiceMenuOption extends VoiceMenuOption {
  sentence: string;
}

export interface RenderedVoice {
  /** Plain text for a speech engine. */
  speech: string;
  /** The same as SSML, with pauses between sentences and before the menu. */
  ssml: string;
  menu: RenderedVoiceMenuOption[];
  missing: string[];
  /** Problems with the menu, in plain English. */
  errors: string[];
}

const WORDS = {
  en: {
    press: (key: string, label: string) => `Press ${key} to ${label}.`,
    star: 'star',
    hash: 'hash',
    linkNote: 'This message includes a web link that is not read out. You can find it in the written version of this message.',
  },
  cy: {
    press: (key: string, label: string) => `Pwyswch ${key} i ${label}.`,
    star: 'seren',
    hash: 'hash',
    linkNote: 'Mae’r neges hon yn cynnwys dolen we nad yw’n cael ei darllen. Mae’r ddolen yn fersiwn ysgrifenedig y neges hon.',
  },
} as const;

/** A web address as it is said: no scheme, no query, dots and slashes as words. */
export function spokenUrl(url: string): string {
  const bare = url
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/[?#].*$/, '')
    .replace(/\/+$/, '');
  return bare
    .split('/')
    .map((part, n) => {
      const words = part.replace(/\./g, ' dot ').replace(/-/g, ' ').replace(/_/g, ' underscore ');
      return n === 0 ? words.replace(/^www dot /i, 'w w w dot ') : words;
    })
    .join(' slash ')
    .replace(/\s+/g, ' ')
    .trim();
}

function endSentence(text: string): string {
  const t = text.trim().replace(/[,;]+$/, '');
  if (!t) return '';
  return /[.!?:]$/.test(t) ? t : `${t}.`;
}

interface State {
  urls: 'speak' | 'remove';
  removedLink: boolean;
}

function inlineSpeech(content: readonly Inline[], state: State): string[] {
  // Each line is its own sentence: a line break in a template usually ends a thought.
  const lines: string[] = [''];
  for (const node of content) {
    if (node.type === 'br') lines.push('');
    else if (node.type === 'text') lines[lines.length - 1] += node.text;
    else if (state.urls === 'remove') {
      state.removedLink = true;
      if (!node.auto) lines[lines.length - 1] += node.text;
    } else if (node.auto || /^(mailto|tel):/i.test(node.url)) {
      lines[lines.length - 1] += node.auto ? spokenUrl(node.url) : node.url.replace(/^(mailto|tel):/i, '');
    } else {
      lines[lines.length - 1] += `${node.text}, at ${spokenUrl(node.url)}`;
    }
  }
  return lines.map(speakable).filter(Boolean);
}

function speakable(text: string): string {
  return normaliseWhitespace(
    plainPunctuation(text)
      .replace(/\s+[-\u2013\u2014]{1,3}\s+|\s*[\u2013\u2014]\s*/g, ', ')
      .replace(/&/g, ' and ')
      .replace(/[*_#^`|<>]/g, ' '),
  ).replace(/\s+([,.!?;:])/g, '$1');
}

function blockSentences(block: Block, state: State): string[] {
  switch (block.type) {
    case 'heading':
    case 'paragraph':
      return inlineSpeech(block.content, state).map(endSentence);
    case 'inset':
      return block.blocks.flatMap((b) => blockSentences(b, state));
    case 'hr':
      return [];
    case 'list': {
      const items = block.items.map((item) =>
        item
          .flatMap((b) => (b.type === 'paragraph' ? inlineSpeech(b.content, state) : blockSentences(b, state).map((s) => s.replace(/\.$/, ''))))
          .join(', ')
          .trim(),
      );
      // Short items read as one sentence; items that are sentences in themselves are read one by one.
      if (!block.ordered && items.every((i) => !/[.!?]/.test(i.replace(/\.$/, '')))) return [endSentence(formattedList(items.map((i) => i.replace(/[.;,]$/, ''))))];
      return items.map(endSentence);
    }
  }
}

function checkMenu(menu: readonly VoiceMenuOption[]): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const option of menu) {
    const key = option.key.trim();
    if (!/^[0-9*#]$/.test(key)) errors.push(`Menu key “${option.key}” must be a single keypad key: 0 to 9, * or #.`);
    else if (seen.has(key)) errors.push(`Menu key ${key} is used more than once.`);
    seen.add(key);
    if (!option.label.trim()) errors.push(`Menu key ${key} needs a label saying what it does.`);
  }
  return errors;
}

function xml(text: string): string {
  return escapeHtml(text).replace(/&#39;/g, '&apos;');
}

/** Renders a voice message: speech text, SSML and a closing keypad menu ("Press 1 to confirm."). */
export function renderVoice(body: string, personalisation?: Personalisation, opts: VoiceOptions = {}): RenderedVoice {
  const words = WORDS[opts.language ?? 'en'];
  const filled = fill(body, personalisation, { lists: 'prose' });
  const state: State = { urls: opts.urls ?? 'speak', removedLink: false };
  const sentences = parseBlocks(filled.text).flatMap((b) => blockSentences(b, state));
  if (state.removedLink) sentences.push(words.linkNote);
  const menu = (opts.menu ?? []).map((option) => {
    const key = option.key.trim();
    const spokenKey = key === '*' ? words.star : key === '#' ? words.hash : key;
    const label = option.label
      .trim()
      .replace(/^(to|i)\s+/i, '')
      .replace(/[.!]+$/, '');
    return { key, label: option.label, sentence: words.press(spokenKey, label) };
  });
  const speech = [...sentences, ...menu.map((m) => m.sentence)].join(' ');
  const ssml =
    '<speak>' +
    sentences.map((s) => `<s>${xml(s)}</s>`).join('<break time="300ms"/>') +
    (menu.length ? `<break time="700ms"/>${menu.map((m) => `<s>${xml(m.sentence)}</s>`).join('<break time="300ms"/>')}` : '') +
    '</speak>';
  return { speech, ssml, menu, missing: filled.missing, errors: checkMenu(opts.menu ?? []) };
}
