/**
 * RFC 4180 CSV: fields separated by commas, records by CRLF or LF; a field in double
 * quotes may hold commas, line breaks and doubled quotes (""). A UTF-8 byte-order mark
 * at the start is ignored. Rows are arrays of strings; the first is usually the header.
 */
export class CsvError extends Error {
  constructor(
    readonly row: number,
    message: string,
  ) {
    super(message);
  }
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

export function parseCsv(text: string): string[][] {
  return [...csvRows(text)];
}

/** The rows one at a time, so a large file (a campaign of a million) need not be held twice over as arrays. */
export function* csvRows(text: string): Generator<string[]> {
  const n = text.length;
  let row: string[] = [];
  let count = 0;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  if (i >= n) return;
  for (;;) {
    i = text.charCodeAt(i) === QUOTE ? quotedField(text, i, row, count + 1) : plainField(text, i, row, count + 1);
    if (i >= n) {
      yield row;
      return;
    }
    const c = text.charCodeAt(i);
    if (c === COMMA) {
      i++;
      if (i === n) {
        row.push('');
        yield row;
        return;
      }
      continue;
    }
    if (c !== CR && c !== LF) throw new CsvError(count + 1, 'a closing quote must be followed by a comma or the end of the line');
    yield row;
    count++;
    row = [];
    i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
    if (i >= n) return;
  }
}

/** Reads a field up to the next comma or line break; returns where it stopped. */
function plainField(text: string, start: number, row: string[], rowNumber: number): number {
  let j = start;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === COMMA || c === LF || c === CR) break;
    if (c === QUOTE) throw new CsvError(rowNumber, 'a quote may only appear inside a field that starts with a quote');
  }
  row.push(text.slice(start, j));
  return j;
}

/** Reads a field in quotes (doubled quotes inside stand for one); returns the position after the closing quote. */
function quotedField(text: string, open: number, row: string[], rowNumber: number): number {
  let value = '';
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) throw new CsvError(rowNumber, 'a quoted field is not closed');
    value += text.slice(from, q);
    if (text.charCodeAt(q + 1) !== QUOTE) {
      row.push(value);
      return q + 1;
    }
    value += '"';
    from = q + 2;
  }
}

/** A blank line parses as one empty field; importers skip it but keep counting rows. */
export function isBlankRow(row: string[]): boolean {
  return row.length === 1 && row[0].trim() === '';
}

/** One CSV field, quoted when it must be; cells that a spreadsheet would run as a formula are prefixed with '. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = value instanceof Date ? value.toISOString() : String(value);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  const lines = [header.map(csvField).join(',')];
  for (const r of rows) lines.push(r.map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
