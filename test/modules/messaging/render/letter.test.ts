import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { letterDate, preview, renderLetter, renderLetterPdf } from '../../../../src/modules/messaging/render/index.js';
import { pdfPages, pdfTextItems } from './pdf-text.js';

const date = new Date('2026-03-05T12:00:00Z');
const address = ['Mr Ŵyn Jones', '1 Heol y Bont', 'Aberystwyth', 'sy23 1aa'];
const opts = { serviceName: 'Mid Wales Council', date };
const hasUnicodeFont = existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf') || existsSync('/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf');

const flat = (pages: string[]) => pages.join('\n').replace(/\s+/g, ' ');

test('a letter is an A4 PDF with the address, date, heading, body and page numbers', async () => {
  const r = await renderLetter({ subject: 'Your bin collection, ((name))', body: 'Dear ((name)),\n\nYour day is changing.' }, { name: 'Ann' }, address, opts);
  assert.equal(r.pdf.subarray(0, 5).toString(), '%PDF-');
  assert.match(r.pdf.subarray(-8).toString(), /%%EOF/);
  assert.match(r.pdf.toString('latin1'), /\/MediaBox \[0 0 595.28 841.89\]/);
  assert.equal(r.pages, 1);
  assert.equal(r.tooManyPages, false);
  assert.deepEqual(r.missing, []);
  assert.equal(r.address.ok, true);
  const text = flat(pdfPages(r.pdf));
  for (const part of ['Mid Wales Council', '1 Heol y Bont', 'Aberystwyth', 'SY23 1AA', '5 March 2026', 'Your bin collection, Ann', 'Dear Ann,', 'Your day is changing.', 'Page 1 of 1']) {
    assert.ok(text.includes(part), `${part} in ${text}`);
  }
});

test('the address sits in the envelope window and the body starts below it', async () => {
  const pdf = await renderLetterPdf({ subject: 'Heading', body: 'Body text' }, {}, ['Line 1', 'Line 2', 'Line 3', 'Line 4', 'Line 5', 'Line 6', 'SW1A 1AA'], opts);
  const [page] = pdfTextItems(pdf);
  const lines = page.filter((i) => /^Line \d$|^SW1A 1AA$/.test(i.text));
  assert.equal(lines.length, 7);
  for (const line of lines) {
    assert.ok(Math.abs(line.x - 24.6) < 0.5, `x ${line.x}`);
    assert.ok(line.y > 39.5 && line.y < 66.3, `${line.text} at ${line.y} mm`);
  }
  const heading = page.find((i) => i.text === 'Heading')!;
  assert.ok(heading.y > 95, `heading at ${heading.y} mm`);
  const dateItem = page.find((i) => i.text === '5 March 2026')!;
  assert.ok(dateItem.x >= 125 && dateItem.y < 95, `date at ${dateItem.x}, ${dateItem.y}`);
});

test('letter formatting: # headings, bullets, numbers, links printed with their address, --- starts a new page', async () => {
  const body =
    '# Before you start\n\nYou need:\n\n* a bin\n* a box\n\n1. First\n2. Second\n\nPay at [our website](https://www.example.gov.uk/pay) or https://example.gov.uk/x.\n\n---\n\nOn the next page.';
  const r = await renderLetter({ subject: 'Heading', body }, {}, address, opts);
  assert.equal(r.pages, 2);
  const [first, second] = pdfPages(r.pdf);
  for (const part of ['Before you start', 'You need:', '•', 'a bin', 'a box', '1.', 'First', '2.', 'Second', 'our website:', 'www.example.gov.uk/pay', 'example.gov.uk/x', 'Page 1 of 2']) {
    assert.ok(first.includes(part), `${part} in ${first}`);
  }
  assert.ok(!first.includes('https://'));
  assert.ok(second.includes('On the next page.'));
  assert.ok(second.includes('Page 2 of 2'));
});

test('Welsh letters: Welsh characters are printed, the date and page numbers are in Welsh', { skip: !hasUnicodeFont && 'no Unicode font installed' }, async () => {
  const r = await renderLetter({ subject: 'Eich bin, ((enw))', body: 'Mae’r ŵyn a’r ŷd yn y cae. Ŵ Ŷ â ê î ô û ẁ ẃ ẅ ỳ' }, { enw: 'Ŵyn' }, address, {
    ...opts,
    date: new Date('2026-12-12T10:00:00Z'),
    language: 'cy',
  });
  const text = flat(pdfPages(r.pdf));
  for (const part of ['Mr Ŵyn Jones', 'Eich bin, Ŵyn', 'Mae’r ŵyn a’r ŷd yn y cae. Ŵ Ŷ â ê î ô û ẁ ẃ ẅ ỳ', '12 Rhagfyr 2026', 'Tudalen 1 o 1']) {
    assert.ok(text.includes(part), `${part} in ${text}`);
  }
});

test('with only the standard PDF fonts, letters they cannot print lose their accents', async () => {
  const r = await renderLetter({ subject: 'Ŵyn', body: 'Mae’r ŵyn â’r ŷd' }, {}, address, { ...opts, font: { regular: 'Helvetica', bold: 'Helvetica-Bold' } });
  const text = flat(pdfPages(r.pdf));
  assert.ok(text.includes('Mr Wyn Jones'), text);
  assert.ok(text.includes('Mae') && text.includes('wyn') && text.includes('yd'), text);
  assert.ok(!text.includes('ŵ'));
});

test('letters over 10 pages are reported with Notify’s message; every page is numbered', async () => {
  const body = Array.from({ length: 450 }, (_, n) => `Paragraph ${n + 1} of a long letter.`).join('\n\n');
  const r = await renderLetter({ subject: 'Long', body }, {}, address, opts);
  assert.ok(r.pages > 10, `${r.pages} pages`);
  assert.equal(r.tooManyPages, true);
  assert.equal(r.tooManyPagesMessage, `Letters must be 10 pages or less (5 double-sided sheets of paper). Your letter is ${r.pages} pages long.`);
  const pages = pdfPages(r.pdf);
  assert.equal(pages.length, r.pages);
  for (const [n, p] of pages.entries()) assert.ok(p.includes(`Page ${n + 1} of ${r.pages}`));
});

test('missing personalisation and address problems are reported', async () => {
  const r = await renderLetter({ subject: 'For ((name))', body: '((ref))' }, {}, ['A Person', 'nowhere'], opts);
  assert.deepEqual(r.missing, ['name', 'ref']);
  assert.deepEqual(r.address.errors, ['Address must be at least 3 lines', 'Last line of address must be a real UK postcode or another country']);
});

function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A tiny red PNG, made here so the test needs no file. */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.concat(Array.from({ length: height }, () => Buffer.from([0, ...Array.from({ length: width }, () => [200, 0, 0]).flat()])));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

test('a logo is placed instead of the service name', async () => {
  const r = await renderLetter({ subject: 'Heading', body: 'Body' }, {}, address, { ...opts, logo: png(40, 10), contactBlock: 'Mid Wales Council\n  Aberystwyth  \nSY23 3UE' });
  assert.match(r.pdf.toString('latin1'), /\/Subtype \/Image/);
  const text = pdfPages(r.pdf)[0];
  assert.equal(text.split('\n').filter((l) => l === 'Mid Wales Council').length, 1, 'the name only in the contact block');
  assert.ok(text.includes('Aberystwyth\nSY23 3UE'));
});

test('the date is the day in London', () => {
  assert.equal(letterDate(new Date('2026-06-30T23:30:00Z')), '1 July 2026');
  assert.equal(letterDate(new Date('2026-01-31T23:30:00Z')), '31 January 2026');
  assert.equal(letterDate(new Date('2026-02-01T00:00:00Z'), 'cy'), '1 Chwefror 2026');
});

test('preview dispatches by template type; a letter takes its address from the personalisation', async () => {
  const email = await preview({ type: 'email', subject: 'Hi ((name))', body: 'Body' }, { name: 'Ann' }, { serviceName: 'Council' });
  assert.equal(email.type, 'email');
  assert.equal(email.type === 'email' && email.subject, 'Hi Ann');
  const sms = await preview({ type: 'sms', body: 'Hi ((name))' }, { name: 'Ann' }, { smsPrefix: 'Council' });
  assert.equal(sms.type === 'sms' && sms.text, 'Council: Hi Ann');
  const voice = await preview({ type: 'voice', body: 'Hi', menu: [{ key: '1', label: 'confirm' }] });
  assert.equal(voice.type === 'voice' && voice.speech, 'Hi. Press 1 to confirm.');
  const rcs = await preview({ type: 'rcs', body: 'Hi', suggestions: ['OK'] });
  assert.equal(rcs.type === 'rcs' && rcs.suggestions.length, 1);
  const letter = await preview(
    { type: 'letter', subject: 'Heading', body: 'Hello ((name))' },
    { name: 'Ann', address_line_1: 'Ann Person', address_line_2: '1 Street', address_line_3: 'Town', postcode: 'sw1a1aa' },
    { serviceName: 'Council', date },
  );
  assert.equal(letter.type, 'letter');
  if (letter.type !== 'letter') return;
  assert.deepEqual(letter.address.lines, ['Ann Person', '1 Street', 'Town', 'SW1A 1AA']);
  assert.ok(flat(pdfPages(letter.pdf)).includes('Hello Ann'));
});
