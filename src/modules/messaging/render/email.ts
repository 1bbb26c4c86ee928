// Email: an HTML part and a plain-text part from one Notify-style template, as GOV.UK Notify's
// HTMLEmailTemplate and PlainTextEmailTemplate (notifications_utils/template.py, markdown.py)
// render them. Everything that is not formatting is escaped.

import { type Block, type Inline, inlineText, parseBlocks } from './markdown.js';
import { fill, mergeMissing, type Personalisation } from './placeholders.js';
import { escapeHtml, niceTypography, normaliseWhitespace, unlinkGovukEscaped } from './text.js';

export interface EmailTemplate {
  subject: string;
  body: string;
}

export interface EmailOptions {
  /** false: the subject and text only, no HTML (what is stored; the HTML is made again when sent). Default true. */
  html?: boolean;
  /** Shown in the banner at the top of the email. */
  serviceName?: string;
  /** Adds Notify's closing rule and "Unsubscribe from these emails" link. */
  unsubscribeUrl?: string;
  /** Text of the unsubscribe link. Default "Unsubscribe from these emails". */
  unsubscribeText?: string;
  /** The `lang` of the HTML document. Default 'en'. */
  language?: 'en' | 'cy';
  /** Banner colour (a CSS hex colour). Default GOV.UK black. */
  brandColour?: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  /** The hidden preview line mail clients show after the subject. */
  preheader: string;
  missing: string[];
}

const BLACK = '#0b0c0c';
const LINK_STYLE = 'word-wrap: break-word; color: #1D70B8;';
const P_STYLE = 'Margin: 0 0 20px 0; font-size: 19px; line-height: 25px; color: #0B0C0C;';
const H2_STYLE = 'Margin: 0 0 20px 0; padding: 0; font-size: 27px; line-height: 35px; font-weight: bold; color: #0B0C0C;';
const H3_STYLE = 'Margin: 0 0 15px 0; padding: 10px 0 0 0; font-size: 19px; line-height: 25px; font-weight: bold; color: #0B0C0C;';
const HR_STYLE = 'border: 0; height: 1px; background: #B1B4B6; Margin: 30px 0 30px 0;';
const LI_STYLE = 'Margin: 5px 0 5px; padding: 0 0 0 5px; font-size: 19px; line-height: 25px; color: #0B0C0C;';
const INSET_STYLE = 'Margin: 0 0 20px 0; border-left: 10px solid #B1B4B6; padding: 15px 0 0.1px 15px; font-size: 19px; line-height: 25px;';
const COLUMN_WIDTH = 65;

/** A URL made safe for an href: characters outside the URL alphabet percent-encoded, then HTML-escaped. */
export function hrefFor(url: string): string {
  let decoded = url;
  try {
    decoded = decodeURI(url);
  } catch {
    // keep as written when it is not valid percent-encoding
  }
  return escapeHtml(encodeURI(decoded).replace(/%25([0-9A-Fa-f]{2})/g, '%$1'));
}

interface Typo {
  prev: string;
}

/** Inline content as HTML with Notify's typography (not inside links, as smartypants skips them). */
function inlineHtml(content: readonly Inline[], typo: Typo = { prev: '' }): string {
  let out = '';
  for (const node of content) {
    if (node.type === 'br') {
      out += '<br />';
      typo.prev = '\n';
    } else if (node.type === 'text') {
      out += escapeHtml(niceTypography(unlinkGovukEscaped(node.text), typo.prev));
      typo.prev = node.text.slice(-1);
    } else {
      const title = node.title ? ` title="${escapeHtml(node.title)}"` : '';
      out += `<a style="${LINK_STYLE}" href="${hrefFor(node.url)}"${title}>${escapeHtml(node.auto ? node.text : niceTypography(node.text, '', false))}</a>`;
      typo.prev = node.text.slice(-1);
    }
  }
  return out;
}

function listHtml(block: Extract<Block, { type: 'list' }>, nested = false): string {
  const tag = block.ordered ? 'ol' : 'ul';
  const type = block.ordered ? 'decimal' : 'disc';
  const items = block.items
    .map((item) => `<li style="${LI_STYLE}">${item.map((b) => (b.type === 'paragraph' ? inlineHtml(b.content) : b.type === 'list' ? listHtml(b, true) : blockHtml(b))).join('')}</li>`)
    .join('');
  if (nested) return `<${tag} style="Margin: 5px 0 0 20px; padding: 0; list-style-type: ${block.ordered ? 'lower-alpha' : 'circle'};">${items}</${tag}>`;
  return (
    `<table role="presentation" style="padding: 0 0 20px 0;"><tr><td style="font-family: Helvetica, Arial, sans-serif;">` +
    `<${tag} style="Margin: 0 0 0 20px; padding: 0; list-style-type: ${type};">${items}</${tag}></td></tr></table>`
  );
}

function blockHtml(block: Block): string {
  switch (block.type) {
    case 'heading':
      return block.level === 1 ? `<h2 style="${H2_STYLE}">${inlineHtml(block.content)}</h2>` : `<h3 style="${H3_STYLE}">${inlineHtml(block.content)}</h3>`;
    case 'paragraph':
      return `<p style="${P_STYLE}">${inlineHtml(block.content)}</p>`;
    case 'list':
      return listHtml(block);
    case 'inset':
      return `<blockquote style="${INSET_STYLE}">${block.blocks.map(blockHtml).join('')}</blockquote>`;
    case 'hr':
      return `<hr style="${HR_STYLE}">`;
  }
}

function inlineText_(content: readonly Inline[], typo: Typo = { prev: '' }): string {
  let out = '';
  for (const node of content) {
    if (node.type === 'br') {
      out += '\n';
      typo.prev = '\n';
    } else if (node.type === 'text') {
      out += niceTypography(unlinkGovukEscaped(node.text), typo.prev);
      typo.prev = node.text.slice(-1);
    } else if (node.auto) {
      out += node.url;
      typo.prev = node.url.slice(-1);
    } else {
      out += `${node.text}${node.title ? ` (${node.title})` : ''}: ${node.url}`;
      typo.prev = node.url.slice(-1);
    }
  }
  return out;
}

/** Each paragraph's text, made once for the paragraphs the parser shares between renders. */
const paragraphTexts = new WeakMap<readonly Inline[], string>();

function paragraphText(content: readonly Inline[]): string {
  let text = paragraphTexts.get(content);
  if (text === undefined) {
    text = inlineText_(content);
    paragraphTexts.set(content, text);
  }
  return text;
}

function listText(block: Extract<Block, { type: 'list' }>, depth: number): string {
  const indent = '  '.repeat(depth);
  return block.items
    .map((item, n) => {
      const marker = block.ordered ? `${n + 1}.` : '•';
      return item
        .map((b, k) => {
          if (b.type === 'list') return listText(b, depth + 1);
          const text = b.type === 'paragraph' ? paragraphText(b.content) : blockText(b);
          return k === 0 ? `${indent}${marker} ${text.replace(/\n/g, `\n${indent}  `)}` : text;
        })
        .join('\n');
    })
    .join('\n');
}

function blockText(block: Block): string {
  switch (block.type) {
    case 'heading':
      return block.level === 1 ? `\n${inlineText_(block.content)}\n${'-'.repeat(COLUMN_WIDTH)}` : inlineText_(block.content);
    case 'paragraph':
      return paragraphText(block.content);
    case 'list':
      return listText(block, 0);
    case 'inset':
      return block.blocks.map(blockText).join('\n\n');
    case 'hr':
      return '='.repeat(COLUMN_WIDTH);
  }
}

function preheaderOf(blocks: readonly Block[]): string {
  const parts: string[] = [];
  const walk = (b: Block) => {
    if (b.type === 'heading' || b.type === 'paragraph') parts.push(inlineText(b.content, ' '));
    else if (b.type === 'inset') b.blocks.forEach(walk);
    else if (b.type === 'list') for (const item of b.items) for (const x of item) walk(x);
  };
  blocks.forEach(walk);
  return niceTypography(normaliseWhitespace(parts.join(' ')))
    .slice(0, 256)
    .trim();
}

function bodySource(body: string, opts: EmailOptions): string {
  if (!opts.unsubscribeUrl) return body;
  return `${body}\n\n---\n\n[${opts.unsubscribeText ?? 'Unsubscribe from these emails'}](${opts.unsubscribeUrl})`;
}

function documentHtml(subject: string, preheader: string, content: string, opts: EmailOptions): string {
  const colour = /^#[0-9a-f]{3}(?:[0-9a-f]{3})?$/i.test(opts.brandColour ?? '') ? opts.brandColour! : BLACK;
  const banner = opts.serviceName
    ? `<table role="presentation" width="100%" style="border-collapse: collapse; min-width: 100%; width: 100% !important;" cellpadding="0" cellspacing="0" border="0">` +
      `<tr><td width="100%" bgcolor="${colour}" style="background: ${colour};">` +
      `<table role="presentation" width="100%" style="border-collapse: collapse; max-width: 580px;" cellpadding="0" cellspacing="0" border="0" align="center"><tr>` +
      `<td style="padding: 14px 10px; font-family: Helvetica, Arial, sans-serif; font-size: 19px; line-height: 25px; font-weight: 700; color: #ffffff;">${escapeHtml(opts.serviceName)}</td>` +
      `</tr></table></td></tr></table>` +
      `<table role="presentation" class="content" align="center" cellpadding="0" cellspacing="0" border="0" style="border-collapse: collapse; max-width: 580px; width: 100% !important;" width="100%">` +
      `<tr><td width="10" height="10"></td><td height="10" bgcolor="#1d70b8" style="background: #1d70b8;"></td><td width="10" height="10"></td></tr></table>`
    : '';
  return (
    '<!DOCTYPE html>\n' +
    `<html lang="${opts.language === 'cy' ? 'cy' : 'en'}">\n<head>\n` +
    '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n' +
    '<meta name="viewport" content="width=device-width">\n' +
    '<meta name="format-detection" content="telephone=no">\n' +
    `<title>${escapeHtml(subject)}</title>\n` +
    '<style>@media only screen and (min-device-width: 581px) { .content { width: 580px !important; } } body { margin: 0 !important; }</style>\n' +
    '</head>\n' +
    `<body style="font-family: Helvetica, Arial, sans-serif; font-size: 16px; margin: 0; color: ${BLACK};">\n` +
    `<span style="display: none; font-size: 1px; color: #fff; max-height: 0; overflow: hidden;">${escapeHtml(preheader)}…</span>\n` +
    banner +
    `<table role="presentation" class="content" align="center" cellpadding="0" cellspacing="0" border="0" style="border-collapse: collapse; max-width: 580px; width: 100% !important;" width="100%">` +
    '<tr><td height="30" colspan="3"></td></tr>' +
    '<tr><td width="10"></td>' +
    `<td style="font-family: Helvetica, Arial, sans-serif; font-size: 19px; line-height: 1.315789474; max-width: 560px; color: ${BLACK};">\n` +
    content +
    '\n</td><td width="10"></td></tr>' +
    '<tr><td height="30" colspan="3"></td></tr></table>\n' +
    '</body>\n</html>\n'
  );
}

/** Renders an email: subject, complete accessible HTML (inline styles, no external assets) and plain text. */
export function renderEmail(template: EmailTemplate, personalisation?: Personalisation, opts: EmailOptions = {}): RenderedEmail {
  const subject = fill(template.subject, personalisation, { lists: 'prose' });
  const body = fill(bodySource(template.body, opts), personalisation, { lists: 'markdown' });
  const subjectText = normaliseWhitespace(niceTypography(subject.text));
  // Notify removes the line separator character from email bodies (strip_unsupported_characters).
  const blocks = parseBlocks(body.text.replace(/\u2028/g, ''));
  const preheader = opts.html === false ? '' : preheaderOf(blocks);
  const html = opts.html === false ? '' : documentHtml(subjectText, preheader, blocks.map(blockHtml).join('\n'), opts);
  const text = `${blocks.map(blockText).join('\n\n').replace(/^\s+/, '').replace(/\s+$/, '')}\n`;
  return { subject: subjectText, html, text, preheader, missing: mergeMissing(subject.missing, body.missing) };
}
