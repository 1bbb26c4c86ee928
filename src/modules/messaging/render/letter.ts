// Letters: an A4 PDF laid out for a C5/DL window envelope. Positions follow GOV.UK Notify's letter
// specification as notifications-template-preview checks it (address block 24.6 mm–120 mm from the
// left and 39.5 mm–66.3 mm from the top, body from 95 mm, logo within 15 mm–125 mm × 5 mm–30 mm);
// formatting follows Notify's letter Markdown (notifications_utils/markdown.py): # headings,
// bullets, numbered lists, --- starts a new page, links printed as text with the address in bold.

import { existsSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import type { AddressCheck } from './address.js';
import { checkPostalAddress } from './address.js';
import { type Block, type Inline, parseBlocks } from './markdown.js';
import { fill, mergeMissing, type Personalisation } from './placeholders.js';
import { niceTypography, normaliseWhitespace } from './text.js';

/** Notify's LETTER_MAX_PAGE_COUNT: 5 double-sided sheets. */
export const LETTER_MAX_PAGES = 10;

export interface LetterTemplate {
  /** The letter's main heading. */
  subject: string;
  body: string;
}

export interface LetterOptions {
  serviceName: string;
  /** A PNG or JPEG logo (bytes or a file path), fitted into the logo area. Without one, the service name is printed there. */
  logo?: Buffer | string;
  /** The date printed on the letter. */
  date: Date;
  /** The sender's contact details printed at the top right, one item a line. */
  contactBlock?: string;
  /** Language of the date and page numbers. Default 'en'. */
  language?: 'en' | 'cy';
  /**
   * A TrueType font for the text, and its bold (paths or bytes; or standard PDF font names such as
   * 'Helvetica'). By default DejaVu Sans or Liberation Sans when installed, else Helvetica, which
   * cannot print ŵ or ŷ: they are printed without the accent.
   */
  font?: { regular: string | Buffer; bold: string | Buffer };
}

export interface RenderedLetter {
  pdf: Buffer;
  pages: number;
  tooManyPages: boolean;
  /** Notify's message when the letter is over the page limit. */
  tooManyPagesMessage?: string;
  address: AddressCheck;
  missing: string[];
}

const MM = 72 / 25.4;
const PAGE_WIDTH = 210 * MM;
const PAGE_HEIGHT = 297 * MM;
const LEFT = 24.6 * MM;
const RIGHT_MARGIN = 20 * MM;
const TEXT_WIDTH = PAGE_WIDTH - LEFT - RIGHT_MARGIN;
const ADDRESS = { x: 24.6 * MM, y: 39.5 * MM, width: (120 - 24.6) * MM, height: (66.3 - 39.5) * MM };
const LOGO = { x: 15 * MM, y: 5 * MM, width: (125 - 15 - 5) * MM, height: 25 * MM };
const SENDER_X = 125 * MM;
const SENDER_WIDTH = PAGE_WIDTH - SENDER_X - 15 * MM;
const BODY_TOP = 95 * MM;
const TOP_MARGIN = 20 * MM;
const BOTTOM_MARGIN = 22 * MM;
const BODY_SIZE = 12;
const LINE_GAP = 3;

const MONTHS = {
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
  cy: ['Ionawr', 'Chwefror', 'Mawrth', 'Ebrill', 'Mai', 'Mehefin', 'Gorffennaf', 'Awst', 'Medi', 'Hydref', 'Tachwedd', 'Rhagfyr'],
} as const;

/** "12 December 2012" (or "12 Rhagfyr 2012"), as the date is on the day in London. */
export function letterDate(date: Date, language: 'en' | 'cy' = 'en'): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'numeric', year: 'numeric' }).formatToParts(date).map((p) => [p.type, p.value]),
  );
  return `${Number(parts.day)} ${MONTHS[language][Number(parts.month) - 1]} ${parts.year}`;
}

function pageLabel(n: number, of: number, language: 'en' | 'cy'): string {
  return language === 'cy' ? `Tudalen ${n} o ${of}` : `Page ${n} of ${of}`;
}

const SYSTEM_FONTS = [
  ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'],
  ['/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf'],
  ['/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf', '/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf'],
] as const;

const STANDARD_FONTS = new Set(['Helvetica', 'Helvetica-Bold', 'Times-Roman', 'Times-Bold', 'Courier', 'Courier-Bold']);

interface Fonts {
  regular: string | Buffer;
  bold: string | Buffer;
  /** Standard PDF fonts only carry Windows-1252 characters: others must be made plain. */
  standard: boolean;
}

function chooseFonts(opts: LetterOptions): Fonts {
  if (opts.font) return { ...opts.font, standard: typeof opts.font.regular === 'string' && STANDARD_FONTS.has(opts.font.regular) };
  for (const [regular, bold] of SYSTEM_FONTS) if (existsSync(regular) && existsSync(bold)) return { regular, bold, standard: false };
  return { regular: 'Helvetica', bold: 'Helvetica-Bold', standard: true };
}

const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

/** For the standard fonts: letters outside Windows-1252 lose their accents (ŵ → w), anything else becomes "?". */
function winAnsi(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '\n' || (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(ch)) out += ch;
    else if (ch === '\u2011') out += '-';
    else {
      const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
      out += [...base].every((c) => c.codePointAt(0)! < 0x7f) && base ? base : '?';
    }
  }
  return out;
}

interface Run {
  text: string;
  bold: boolean;
}

function stripScheme(url: string): string {
  return url.replace(/^https?:\/\//i, '').replace(/^mailto:/i, '');
}

function inlineRuns(content: readonly Inline[], bold = false): Run[] {
  const runs: Run[] = [];
  let prev = '';
  for (const node of content) {
    if (node.type === 'br') {
      // pdfkit breaks lines inside a run, not between runs.
      if (runs.length) runs[runs.length - 1].text += '\n';
      prev = '\n';
    } else if (node.type === 'text') {
      runs.push({ text: niceTypography(node.text, prev), bold });
      prev = node.text.slice(-1);
    } else if (node.auto) {
      runs.push({ text: stripScheme(node.url), bold: true });
      prev = node.url.slice(-1);
    } else {
      runs.push({ text: `${node.text}: `, bold });
      runs.push({ text: stripScheme(node.url), bold: true });
      prev = node.url.slice(-1);
    }
  }
  return runs.filter((r) => r.text !== '');
}

/** Renders a letter and reports its page count and address check. */
export async function renderLetter(template: LetterTemplate, personalisation: Personalisation | undefined, address: readonly string[], opts: LetterOptions): Promise<RenderedLetter> {
  const language = opts.language ?? 'en';
  const subject = fill(template.subject, personalisation, { lists: 'prose' });
  const body = fill(template.body, personalisation, { lists: 'markdown' });
  const checked = checkPostalAddress(address);
  const fonts = chooseFonts(opts);
  const clean = fonts.standard ? winAnsi : (s: string) => s;
  const heading = normaliseWhitespace(niceTypography(subject.text));

  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: TOP_MARGIN, bottom: BOTTOM_MARGIN, left: LEFT, right: RIGHT_MARGIN },
    bufferPages: true,
    lang: language === 'cy' ? 'cy-GB' : 'en-GB',
    displayTitle: true,
    info: { Title: heading, Author: opts.serviceName, Creator: 'Weft', CreationDate: opts.date, ModDate: opts.date },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('regular', fonts.regular as string);
  doc.registerFont('bold', fonts.bold as string);

  // Logo, or the service name in its place.
  if (opts.logo) {
    doc.image(opts.logo, LOGO.x, LOGO.y, { fit: [LOGO.width, LOGO.height] });
  } else {
    doc
      .font('bold')
      .fontSize(14)
      .text(clean(opts.serviceName), LOGO.x, LOGO.y + 5 * MM, { width: LOGO.width, height: LOGO.height });
  }

  // Sender's contact block and the date, top right, above the body.
  let senderY = 40 * MM;
  if (opts.contactBlock?.trim()) {
    const contact = opts.contactBlock
      .split(/\r?\n/)
      .map((l) => l.trim())
      .join('\n')
      .trim();
    doc.font('regular').fontSize(10).text(clean(contact), SENDER_X, senderY, { width: SENDER_WIDTH, lineGap: 1 });
    senderY = doc.y + 4 * MM;
  }
  doc
    .font('regular')
    .fontSize(10)
    .text(clean(letterDate(opts.date, language)), SENDER_X, Math.max(senderY, 80 * MM), { width: SENDER_WIDTH });

  // The address, inside the envelope window: smaller type when it has 7 lines.
  const addressLines = checked.lines.length ? checked.lines : address.map((l) => l.trim()).filter(Boolean);
  const addressSize = addressLines.length > 6 ? 9 : 10;
  doc
    .font('regular')
    .fontSize(addressSize)
    .text(clean(addressLines.join('\n')), ADDRESS.x, ADDRESS.y, { width: ADDRESS.width, height: ADDRESS.height, lineGap: 0, ellipsis: true });

  // Main heading and body.
  doc.x = LEFT;
  doc.y = BODY_TOP;
  doc.font('bold').fontSize(16).text(clean(heading), LEFT, BODY_TOP, { width: TEXT_WIDTH, lineGap: 2 });
  doc.moveDown(0.8);

  const writeRuns = (runs: Run[], x: number, width: number, size = BODY_SIZE) => {
    if (runs.length === 0) return;
    doc.fontSize(size);
    runs.forEach((run, n) => {
      doc.font(run.bold ? 'bold' : 'regular');
      const text = clean(run.text);
      if (n === 0) doc.text(text, x, doc.y, { width, lineGap: LINE_GAP, continued: n < runs.length - 1 });
      else doc.text(text, { width, lineGap: LINE_GAP, continued: n < runs.length - 1 });
    });
  };

  const writeList = (block: Extract<Block, { type: 'list' }>, x: number) => {
    block.items.forEach((item, n) => {
      const marker = block.ordered ? `${n + 1}.` : '•';
      const indent = 7 * MM;
      const y = doc.y;
      doc.font('regular').fontSize(BODY_SIZE).text(marker, x, y, { width: indent, lineBreak: false });
      doc.y = y;
      for (const b of item) {
        if (b.type === 'paragraph') writeRuns(inlineRuns(b.content), x + indent, PAGE_WIDTH - RIGHT_MARGIN - x - indent);
        else if (b.type === 'list') writeList(b, x + indent);
        else writeBlock(b, x + indent);
      }
      doc.moveDown(0.25);
    });
    doc.moveDown(0.5);
  };

  const writeBlock = (block: Block, x = LEFT) => {
    const width = PAGE_WIDTH - RIGHT_MARGIN - x;
    switch (block.type) {
      case 'heading':
        // Only # is a heading in Notify letters; ## is an ordinary paragraph.
        if (block.level === 1) {
          doc.moveDown(0.3);
          writeRuns(inlineRuns(block.content, true), x, width, 14);
        } else writeRuns(inlineRuns(block.content), x, width);
        doc.moveDown(0.6);
        return;
      case 'paragraph':
        writeRuns(inlineRuns(block.content), x, width);
        doc.moveDown(0.8);
        return;
      case 'list':
        writeList(block, x);
        return;
      case 'inset':
        for (const b of block.blocks) writeBlock(b, x);
        return;
      case 'hr':
        doc.addPage();
        doc.x = LEFT;
        doc.y = TOP_MARGIN;
        return;
    }
  };

  for (const block of parseBlocks(body.text)) writeBlock(block);

  // Page numbers, written into the bottom margin of every page.
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i += 1) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .font('regular')
      .fontSize(9)
      .text(clean(pageLabel(i + 1, range.count, language)), LEFT, PAGE_HEIGHT - 14 * MM, { width: TEXT_WIDTH, align: 'center', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  const pdf = await done;
  const pages = range.count;
  const tooManyPages = pages > LETTER_MAX_PAGES;
  return {
    pdf,
    pages,
    tooManyPages,
    tooManyPagesMessage: tooManyPages ? `Letters must be ${LETTER_MAX_PAGES} pages or less (5 double-sided sheets of paper). Your letter is ${pages} pages long.` : undefined,
    address: checked,
    missing: mergeMissing(subject.missing, body.missing),
  };
}

/** An A4 letter PDF: address in the envelope window, date, heading, formatted body, page numbers. */
export async function renderLetterPdf(template: LetterTemplate, personalisation: Personalisation | undefined, address: readonly string[], opts: LetterOptions): Promise<Buffer> {
  return (await renderLetter(template, personalisation, address, opts)).pdf;
}
