import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pgTimestamptz as parsePgDate, readTimestamptz } from '../../../src/platform/db/dialect.js';

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** An instant written as PostgreSQL writes a timestamptz at the given offset (minutes east of UTC). */
function pgText(ms: number, offset: number, fraction: string): string {
  const d = new Date(ms + offset * 60_000);
  const zone = `${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}${offset % 60 ? `:${pad(offset % 60)}` : ''}`;
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${fraction}${zone}`;
}

const same = (text: string) => assert.equal(String(readTimestamptz(text).valueOf()), String(parsePgDate(text).valueOf()), text);

test('timestamptz text is read to the same instant as pg’s own parser, at every offset and precision', () => {
  const offsets = [0, 60, -300, 330, 345, -210, 765, -570];
  const fractions = ['', '.1', '.12', '.123', '.1234', '.123456', '.999999'];
  for (let ms = Date.UTC(1901, 0, 1); ms < Date.UTC(2100, 0, 1); ms += 86_400_000 * 7.3 + 1_234_567) {
    for (const offset of offsets) same(pgText(Math.floor(ms / 1000) * 1000, offset, fractions[Math.floor(ms / 1000) % fractions.length]));
  }
});

test('timestamptz text it does not know by position goes to pg’s parser', () => {
  for (const text of ['infinity', '-infinity', '0050-06-01 10:00:00+00 BC', '0099-01-01 00:00:00+00', '10000-01-01 00:00:00+00', '1847-12-01 00:00:00-00:01:15', '2026-07-01 09:30:15+01']) same(text);
  assert.equal(readTimestamptz('2026-07-01 09:30:15.123456+01').toISOString(), '2026-07-01T08:30:15.123Z');
  assert.equal(readTimestamptz('2026-12-31 23:59:59-03:30').toISOString(), '2027-01-01T03:29:59.000Z');
});
