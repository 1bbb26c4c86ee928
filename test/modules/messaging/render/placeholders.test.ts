import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fill, isTruthy, missingPersonalisationMessage, placeholderKey, placeholders } from '../../../../src/modules/messaging/render/index.js';

test('placeholders: in order of first use, each once, compared ignoring case, spaces, hyphens and underscores', () => {
  assert.deepEqual(placeholders('Dear ((Name)), your ((ref)) for ((name)) and ((first_name)) ((First Name)) ((first-name))'), ['Name', 'ref', 'first_name']);
  assert.deepEqual(placeholders(['((b)) in the subject', '((a)) then ((B))']), ['b', 'a']);
  assert.equal(placeholderKey('First_Name-x y'), 'firstnamexy');
});

test('placeholders: optional content is named by its flag; brackets cannot nest; text without placeholders has none', () => {
  assert.deepEqual(placeholders('((late??Sorry we are late.)) ((fee))'), ['late', 'fee']);
  assert.deepEqual(placeholders('((outer ((inner)) ))'), ['inner']);
  assert.deepEqual(placeholders('(not one) ((also not)'), []);
});

test('fill: values replace placeholders whatever the case or separators of the key', () => {
  const r = fill('Hello ((First name)), ref ((ref)).', { first_name: 'Ann', REF: 42 });
  assert.equal(r.text, 'Hello Ann, ref 42.');
  assert.deepEqual(r.missing, []);
});

test('fill: optional content shows for yes, y, true, t, 1, include and show in any case, and not otherwise', () => {
  for (const yes of ['yes', 'Y', 'TRUE', 't', '1', 'include', 'Show', true, 1]) {
    assert.equal(fill('A((late??, sorry)).', { late: yes }).text, 'A, sorry.', String(yes));
    assert.equal(isTruthy(yes), true);
  }
  for (const no of ['no', 'false', '0', '', 'nope', false, 0, ['yes']]) {
    assert.equal(fill('A((late??, sorry)).', { late: no }).text, 'A.', String(no));
  }
});

test('fill: optional content text may itself contain question marks', () => {
  assert.equal(fill('((q??Is it late?? Yes))', { q: 'yes' }).text, 'Is it late?? Yes');
});

test('fill: lists become "a, b and c" by default, a Markdown list, or bullet lines', () => {
  const items = ['bins', ' boxes\u200b ', null, '', 'bags'];
  assert.equal(fill('Bring ((items)).', { items }).text, 'Bring bins, boxes and bags.');
  assert.equal(fill('Bring ((items)).', { items: ['bins'] }).text, 'Bring bins.');
  assert.equal(fill('Bring ((items)).', { items: ['bins', 'bags'] }).text, 'Bring bins and bags.');
  assert.equal(fill('Bring:((items))', { items }, { lists: 'markdown' }).text, 'Bring:\n\n* bins\n* boxes\n* bags');
  assert.equal(fill('Bring:((items))', { items }, { lists: 'bullets' }).text, 'Bring:\n• bins\n• boxes\n• bags');
  assert.equal(fill('Bring ((items)).', { items: [null, ' '] }).text, 'Bring .');
});

test('fill: missing personalisation is reported by name, in order, once; null is missing but an empty string is not', () => {
  const r = fill('((name)) ((ref)) ((Name)) ((late??x)) ((empty))', { ref: null, empty: '' });
  assert.deepEqual(r.missing, ['name', 'ref', 'late']);
  assert.equal(r.text, '((name)) ((ref)) ((Name)) ((late??x)) ');
  assert.equal(missingPersonalisationMessage(r.missing), 'Missing personalisation: name, ref, late');
});

test('fill: with html, template and values are escaped; without, nothing is', () => {
  const html = fill('<b>((name))</b> & ((list))', { name: '<script>"x"</script>', list: ['<i>'] }, { html: true });
  assert.equal(html.text, '&lt;b&gt;&lt;script&gt;&quot;x&quot;&lt;/script&gt;&lt;/b&gt; &amp; &lt;i&gt;');
  assert.equal(fill('<b>((name))</b>', { name: '<i>' }).text, '<b><i></b>');
  assert.equal(fill('((missing))', {}, { html: true }).text, '((missing))');
});
