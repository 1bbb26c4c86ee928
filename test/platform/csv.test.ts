import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsvError, parseCsv, toCsv } from '../../src/platform/csv.js';

test('RFC 4180: quotes, commas, doubled quotes, line breaks in fields, CRLF and LF', () => {
  const text = 'a,b,c\r\n1,"two, three","say ""hi"""\r\n"multi\r\nline",,x\nlast,row,here';
  assert.deepEqual(parseCsv(text), [
    ['a', 'b', 'c'],
    ['1', 'two, three', 'say "hi"'],
    ['multi\r\nline', '', 'x'],
    ['last', 'row', 'here'],
  ]);
});

test('a byte-order mark and a final line break are ignored; blank lines parse as one empty field', () => {
  assert.deepEqual(parseCsv('\uFEFFa,b\n1,2\n'), [
    ['a', 'b'],
    ['1', '2'],
  ]);
  assert.deepEqual(parseCsv('a\n\nb\n'), [['a'], [''], ['b']]);
  assert.deepEqual(parseCsv('a,\n'), [['a', '']]);
});

test('broken quoting is an error with its row', () => {
  assert.throws(
    () => parseCsv('a,b\n"open,1\n'),
    (e: unknown) => e instanceof CsvError && e.row === 2,
  );
  assert.throws(() => parseCsv('a,b\n"x"y,1\n'), CsvError);
  assert.throws(() => parseCsv('a,b\nx"y,1\n'), CsvError);
});

test('writing quotes what needs it and defuses spreadsheet formulas; it reads back the same', () => {
  const csv = toCsv(
    ['name', 'note'],
    [
      ['A, B', 'he said "no"'],
      ['=SUM(A1)', 'multi\nline'],
      [-1.25, null],
    ],
  );
  assert.equal(csv, 'name,note\r\n"A, B","he said ""no"""\r\n\'=SUM(A1),"multi\nline"\r\n-1.25,\r\n');
  assert.deepEqual(parseCsv(csv).slice(1, 2), [['A, B', 'he said "no"']]);
});
