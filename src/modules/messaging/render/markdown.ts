// The small Markdown GOV.UK Notify allows in emails and letters (notifications_utils/markdown.py
// and formatters.py): headings, bullets, numbered lists, inset text, horizontal rules, links and
// bare URLs, paragraphs and line breaks. Bold, italics, code and HTML are not formatting: they
// stay as the characters written. The parser works on raw text; renderers escape what they output.

import { remember } from '../../../platform/remember.js';

export type Inline = { type: 'text'; text: string } | { type: 'link'; text: string; url: string; title?: string; auto: boolean } | { type: 'br' };

export type Block =
  | { type: 'heading'; level: 1 | 2; content: readonly Inline[] }
  | { type: 'paragraph'; content: readonly Inline[] }
  | { type: 'list'; ordered: boolean; items: Block[][] }
  | { type: 'inset'; blocks: Block[] }
  | { type: 'hr' };

const HR = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const INSET = /^ *\^ ?/;
// A bullet or number needs a space after it (Notify's own grammar does not, which turns a paragraph
// starting "1.5 million" into a list; we keep the space, as its guidance asks for).
const LIST_ITEM = /^( *)(?:(•)[ \t]*|([*-])[ \t]+|(\d{1,9})\.[ \t]+)(.*)$/;

interface ListMarker {
  indent: number;
  ordered: boolean;
  text: string;
}

function listMarker(line: string): ListMarker | null {
  if (HR.test(line)) return null;
  const m = LIST_ITEM.exec(line);
  if (!m) return null;
  return { indent: m[1].length, ordered: m[4] !== undefined, text: m[5] };
}

const isBlank = (line: string | undefined) => line === undefined || line.trim() === '';
const indentOf = (line: string) => line.length - line.trimStart().length;

function interruptsParagraph(line: string): boolean {
  return HR.test(line) || HEADING.test(line) || INSET.test(line) || listMarker(line) !== null;
}

// Links: [text](url) or [text](url "title"); one level of brackets inside the URL is allowed.
const LINK = /\[([^\]]*)\]\(\s*<?((?:[^\s()<>]|\([^\s()<>]*\))+)>?(?:\s+"([^"]*)")?\s*\)/y;
// Notify's bare URL: http(s), up to whitespace or <, not ending with . , : " ' ) ]
const URL = /https?:\/\/[^\s<>]*[^\s<>.,:"')\]]/y;
const IMAGE = /!\[[^\]]*\]\([^)]*\)/y;

/** Schemes a written link may use; anything else is shown as text. */
export function isSafeLinkUrl(url: string): boolean {
  return /^(https?:\/\/|mailto:|tel:)/i.test(url);
}

function parseInlineLine(line: string, out: Inline[]): void {
  let text = '';
  const flush = () => {
    if (text) out.push({ type: 'text', text });
    text = '';
  };
  let i = 0;
  while (i < line.length) {
    const ch = line[i];
    if (ch === '!' && line[i + 1] === '[') {
      IMAGE.lastIndex = i;
      const m = IMAGE.exec(line);
      if (m) {
        // Images are not allowed: Notify drops them.
        i += m[0].length;
        continue;
      }
    }
    if (ch === '[') {
      LINK.lastIndex = i;
      const m = LINK.exec(line);
      if (m && isSafeLinkUrl(m[2])) {
        flush();
        out.push({ type: 'link', text: m[1], url: m[2], title: m[3] || undefined, auto: false });
        i += m[0].length;
        continue;
      }
      if (m) {
        text += m[1];
        i += m[0].length;
        continue;
      }
    }
    if ((ch === 'h' || ch === 'H') && /^https?:\/\//i.test(line.slice(i, i + 8)) && (i === 0 || !/[\w/]/.test(line[i - 1]))) {
      URL.lastIndex = i;
      const m = URL.exec(line);
      if (m) {
        flush();
        out.push({ type: 'link', text: m[0], url: m[0], auto: true });
        i += m[0].length;
        continue;
      }
    }
    text += ch;
    i += 1;
  }
  flush();
}

/**
 * A paragraph parsed, by its lines joined with newlines: kept, as a campaign renders one template
 * for many people and most of its paragraphs come out the same for all of them.
 */
const parsedParagraph = remember((text: string): readonly Inline[] => {
  const out: Inline[] = [];
  text.split('\n').forEach((line, n) => {
    if (n > 0) out.push({ type: 'br' });
    parseInlineLine(line.trim(), out);
  });
  return out;
});

/** Lines of a paragraph: trimmed, joined by hard line breaks (Notify renders with `hard_wrap`). */
export function parseInline(lines: readonly string[]): readonly Inline[] {
  return parsedParagraph(lines.join('\n'));
}

function parseList(lines: string[], start: number): { block: Block; next: number } {
  const first = listMarker(lines[start])!;
  const base = first.indent;
  const items: Block[][] = [];
  let current: { text: string[]; children: Block[] } | null = null;
  const close = () => {
    if (!current) return;
    const blocks: Block[] = [];
    if (current.text.length) blocks.push({ type: 'paragraph', content: parseInline(current.text) });
    items.push([...blocks, ...current.children]);
    current = null;
  };
  let i = start;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) {
      // A blank line ends the list unless more of it (an item or an indented line) follows.
      let j = i;
      while (j < lines.length && isBlank(lines[j])) j += 1;
      if (j >= lines.length) break;
      const m = listMarker(lines[j]);
      if ((m && m.indent >= base) || indentOf(lines[j]) >= base + 2) {
        i = j;
        continue;
      }
      break;
    }
    const m = listMarker(line);
    if (m && m.indent < base + 2) {
      // A shallower item, or a change between bullets and numbers, starts another list.
      if (m.indent < base || m.ordered !== first.ordered) break;
      close();
      current = { text: [m.text], children: [] };
      i += 1;
      continue;
    }
    if (m && current) {
      const nested = parseList(lines, i);
      (current as { children: Block[] }).children.push(nested.block);
      i = nested.next;
      continue;
    }
    if (HR.test(line) || HEADING.test(line) || (INSET.test(line) && indentOf(line) < base + 2)) break;
    if (!current) break;
    (current as { text: string[] }).text.push(line);
    i += 1;
  }
  close();
  return { block: { type: 'list', ordered: first.ordered, items }, next: i };
}

/** Parses Notify Markdown into blocks. */
export function parseBlocks(source: string): Block[] {
  const lines = source.replace(/\r\n|\r/g, '\n').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) {
      i += 1;
      continue;
    }
    if (HR.test(line)) {
      blocks.push({ type: 'hr' });
      i += 1;
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      blocks.push({ type: 'heading', level: heading[1].length === 1 ? 1 : 2, content: parseInline([heading[2]]) });
      if (heading[1].length > 2) {
        // Only # and ## are headings in Notify; deeper levels are ordinary paragraphs.
        blocks[blocks.length - 1] = { type: 'paragraph', content: parseInline([heading[2]]) };
      }
      i += 1;
      continue;
    }
    if (INSET.test(line)) {
      const inner: string[] = [];
      while (i < lines.length && !isBlank(lines[i])) {
        inner.push(lines[i].replace(INSET, ''));
        i += 1;
        // Following inset paragraphs belong to the same inset.
        if (isBlank(lines[i]) && i + 1 < lines.length && INSET.test(lines[i + 1])) {
          inner.push('');
          i += 1;
        }
      }
      blocks.push({ type: 'inset', blocks: parseBlocks(inner.join('\n')) });
      continue;
    }
    if (listMarker(line)) {
      const { block, next } = parseList(lines, i);
      blocks.push(block);
      i = next;
      continue;
    }
    // A single line underlined with === or --- is a heading (setext).
    if (!isBlank(lines[i + 1]) && SETEXT.test(lines[i + 1] ?? '')) {
      const level = lines[i + 1].trim().startsWith('=') ? 1 : 2;
      blocks.push({ type: 'heading', level, content: parseInline([line]) });
      i += 2;
      continue;
    }
    const para: string[] = [line];
    i += 1;
    while (i < lines.length && !isBlank(lines[i]) && !interruptsParagraph(lines[i])) {
      para.push(lines[i]);
      i += 1;
    }
    blocks.push({ type: 'paragraph', content: parseInline(para) });
  }
  return blocks;
}

/** The text of some inline content, links as their text. */
export function inlineText(content: readonly Inline[], br = '\n'): string {
  return content.map((n) => (n.type === 'br' ? br : n.text)).join('');
}
