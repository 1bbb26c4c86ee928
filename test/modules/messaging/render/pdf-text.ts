// Just enough of a PDF reader to test what pdfkit writes: the page count and each page's text,
// decoded through the fonts' ToUnicode maps (or as Windows-1252 for the standard fonts).

import { inflateSync } from 'node:zlib';

interface PdfObject {
  dict: string;
  stream?: Buffer;
}

function objects(pdf: Buffer): Map<number, PdfObject> {
  const text = pdf.toString('latin1');
  const out = new Map<number, PdfObject>();
  const re = /(\d+) 0 obj\s*([\s\S]*?)endobj/g;
  for (const m of text.matchAll(re)) {
    const body = m[2];
    const at = body.indexOf('stream');
    if (at === -1) {
      out.set(Number(m[1]), { dict: body });
      continue;
    }
    const dict = body.slice(0, at);
    let start = (m.index ?? 0) + m[0].indexOf(body) + at + 'stream'.length;
    if (text[start] === '\r') start += 1;
    if (text[start] === '\n') start += 1;
    const length = Number(/\/Length (\d+)/.exec(dict)?.[1] ?? 0);
    let stream = pdf.subarray(start, start + length);
    if (/\/FlateDecode/.test(dict)) stream = inflateSync(stream);
    out.set(Number(m[1]), { dict, stream });
  }
  return out;
}

type CMap = Map<number, string>;

function parseCMap(source: string): { map: CMap; bytes: number } {
  const map: CMap = new Map();
  const hex = (h: string) => Number.parseInt(h, 16);
  const utf16 = (h: string) => {
    const codes: number[] = [];
    for (let i = 0; i < h.length; i += 4) codes.push(hex(h.slice(i, i + 4)));
    return String.fromCharCode(...codes);
  };
  for (const block of source.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const m of block[1].matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) map.set(hex(m[1]), utf16(m[2]));
  }
  for (const block of source.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const m of block[1].matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\[[^\]]*\]|<[0-9a-fA-F]+>)/g)) {
      const lo = hex(m[1]);
      const hi = hex(m[2]);
      if (m[3].startsWith('[')) {
        for (const [n, d] of [...m[3].matchAll(/<([0-9a-fA-F]+)>/g)].entries()) map.set(lo + n, utf16(d[1]));
      } else {
        const base = hex(m[3].slice(1, -1));
        for (let c = lo; c <= hi; c += 1) map.set(c, String.fromCharCode(base + c - lo));
      }
    }
  }
  const space = /begincodespacerange\s*<([0-9a-fA-F]+)>/.exec(source);
  return { map, bytes: space ? space[1].length / 2 : 2 };
}

function decodeHex(h: string, font: { map: CMap; bytes: number } | undefined): string {
  if (!font) {
    // Standard font: Windows-1252 bytes (good enough for tests).
    return Buffer.from(h, 'hex').toString('latin1');
  }
  let out = '';
  const step = font.bytes * 2;
  for (let i = 0; i < h.length; i += step) out += font.map.get(Number.parseInt(h.slice(i, i + step), 16)) ?? '\ufffd';
  return out;
}

export interface PdfTextItem {
  text: string;
  /** Millimetres from the left edge of the page. */
  x: number;
  /** Millimetres from the top edge of the page to the text's baseline. */
  y: number;
}

const PT_TO_MM = 25.4 / 72;

/** The text items of each page, in page order, with where each starts. */
export function pdfTextItems(pdf: Buffer): PdfTextItem[][] {
  const objs = objects(pdf);
  const ref = (s: string | undefined) => (s ? Number(s) : undefined);
  const catalog = [...objs.values()].find((o) => /\/Type \/Catalog/.test(o.dict));
  const pagesRef = ref(/\/Pages (\d+) 0 R/.exec(catalog?.dict ?? '')?.[1]);
  const kids = [...(/\/Kids \[([^\]]*)\]/.exec(objs.get(pagesRef ?? -1)?.dict ?? '')?.[1] ?? '').matchAll(/(\d+) 0 R/g)].map((m) => Number(m[1]));
  const fonts = new Map<string, { map: CMap; bytes: number } | undefined>();
  return kids.map((pageId) => {
    const page = objs.get(pageId)!.dict;
    const height = Number(/\/MediaBox \[[\d.]+ [\d.]+ [\d.]+ ([\d.]+)\]/.exec(page)?.[1] ?? 841.89);
    let resources = page;
    const resRef = /\/Resources (\d+) 0 R/.exec(page);
    if (resRef) resources = objs.get(Number(resRef[1]))!.dict;
    const fontDict = /\/Font\s*<<([\s\S]*?)>>/.exec(resources)?.[1] ?? '';
    for (const m of fontDict.matchAll(/\/(\S+) (\d+) 0 R/g)) {
      const font = objs.get(Number(m[2]))!.dict;
      const toUnicode = /\/ToUnicode (\d+) 0 R/.exec(font);
      fonts.set(m[1], toUnicode ? parseCMap(objs.get(Number(toUnicode[1]))!.stream!.toString('latin1')) : undefined);
    }
    const contentRef = Number(/\/Contents (\d+) 0 R/.exec(page)![1]);
    const content = objs.get(contentRef)!.stream!.toString('latin1');
    const items: PdfTextItem[] = [];
    let current: { map: CMap; bytes: number } | undefined;
    let x = 0;
    let y = 0;
    const re = /1 0 0 1 ([-\d.]+) ([-\d.]+) Tm|\/(\S+) [\d.]+ Tf|\[((?:<[0-9a-fA-F]*>|[-\d.\s])*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj/g;
    for (const m of content.matchAll(re)) {
      if (m[1] !== undefined) {
        x = Number(m[1]) * PT_TO_MM;
        y = (height - Number(m[2])) * PT_TO_MM;
      } else if (m[3]) current = fonts.get(m[3]);
      else if (m[4] !== undefined) items.push({ text: [...m[4].matchAll(/<([0-9a-fA-F]*)>/g)].map((s) => decodeHex(s[1], current)).join(''), x, y });
      else if (m[5] !== undefined) items.push({ text: decodeHex(m[5], current), x, y });
    }
    return items;
  });
}

/** The text of each page, in page order; one line per text-showing operator. */
export function pdfPages(pdf: Buffer): string[] {
  return pdfTextItems(pdf).map((items) => items.map((i) => i.text).join('\n'));
}
