import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderEmail } from '../../../../src/modules/messaging/render/index.js';

const body = (content: string, personalisation?: Record<string, unknown>, opts = {}) => renderEmail({ subject: 'Subject', body: content }, personalisation, opts);
/** The content cell of the email, without the document around it. */
const inner = (html: string) => html.slice(html.indexOf('max-width: 560px'), html.lastIndexOf('</td><td width="10">'));

test('# is a heading, ## a subheading, deeper levels ordinary text', () => {
  const r = body('# Your bins\n\n## When\n\n### Not a heading');
  assert.match(r.html, /<h2 style="[^"]*font-size: 27px[^"]*">Your bins<\/h2>/);
  assert.match(r.html, /<h3 style="[^"]*font-weight: bold[^"]*">When<\/h3>/);
  assert.match(r.html, /<p style="[^"]*">Not a heading<\/p>/);
  assert.equal(r.text, `Your bins\n${'-'.repeat(65)}\n\nWhen\n\nNot a heading\n`);
});

test('#word without a space is text; a line underlined with === is a heading', () => {
  assert.match(body('#hashtag').html, /<p [^>]*>#hashtag<\/p>/);
  assert.match(body('Title\n===').html, /<h2 [^>]*>Title<\/h2>/);
});

test('bullets with *, - and •, after a lead-in line with or without an empty line', () => {
  for (const marker of ['*', '-', '•']) {
    const r = body(`You need:\n${marker} a bin\n${marker} a box`);
    assert.match(r.html, /<p [^>]*>You need:<\/p>\n<table role="presentation" style="padding: 0 0 20px 0;"><tr><td [^>]*><ul [^>]*list-style-type: disc;">/);
    assert.match(r.html, /<li [^>]*>a bin<\/li><li [^>]*>a box<\/li><\/ul>/);
    assert.equal(r.text, 'You need:\n\n• a bin\n• a box\n');
  }
  assert.match(body('You need:\n\n* a bin\n\n* a box').html, /<li [^>]*>a bin<\/li><li [^>]*>a box<\/li>/);
});

test('numbered lists, and sub-items indented by 2 spaces', () => {
  const r = body('1. Open the lid\n2. Put the bag in\n  * tie it first\n3. Close it');
  assert.match(r.html, /<ol style="[^"]*list-style-type: decimal;">/);
  assert.match(r.html, /<li [^>]*>Put the bag in<ul style="[^"]*">/);
  assert.match(r.html, /<li [^>]*>tie it first<\/li><\/ul><\/li><li [^>]*>Close it<\/li><\/ol>/);
  assert.equal(r.text, '1. Open the lid\n2. Put the bag in\n  • tie it first\n3. Close it\n');
});

test('a change from bullets to numbers starts a new list; "1.5 million" is not a list', () => {
  const r = body('* one\n\n1. two');
  assert.equal((r.html.match(/<table role="presentation" style="padding: 0 0 20px 0;">/g) ?? []).length, 2);
  assert.match(body('1.5 million people').html, /<p [^>]*>1.5 million people<\/p>/);
});

test('^ makes inset text, over several lines and paragraphs', () => {
  const r = body('^ You must pay by Friday.\nOr we will remind you.\n\n^ Second paragraph.\n\nAfter.');
  assert.match(
    r.html,
    /<blockquote style="[^"]*border-left: 10px solid #B1B4B6;[^"]*"><p [^>]*>You must pay by Friday.<br \/>Or we will remind you.<\/p><p [^>]*>Second paragraph.<\/p><\/blockquote>/,
  );
  assert.match(r.html, /<\/blockquote>\n<p [^>]*>After.<\/p>/);
  assert.equal(r.text, 'You must pay by Friday.\nOr we will remind you.\n\nSecond paragraph.\n\nAfter.\n');
});

test('--- makes a horizontal rule', () => {
  const r = body('First\n\n---\n\nSecond');
  assert.match(r.html, /<p [^>]*>First<\/p>\n<hr style="border: 0; height: 1px; background: #B1B4B6; Margin: 30px 0 30px 0;">\n<p [^>]*>Second<\/p>/);
  assert.equal(r.text, `First\n\n${'='.repeat(65)}\n\nSecond\n`);
});

test('bare URLs become links, without trailing punctuation, with & escaped', () => {
  const r = body('Pay at https://pay.example.gov.uk/bins?ref=1&x=2. (Or http://example.com/a_b)');
  assert.match(
    r.html,
    /Pay at <a style="word-wrap: break-word; color: #1D70B8;" href="https:\/\/pay.example.gov.uk\/bins\?ref=1&amp;x=2">https:\/\/pay.example.gov.uk\/bins\?ref=1&amp;x=2<\/a>\. \(Or <a [^>]*href="http:\/\/example.com\/a_b">http:\/\/example.com\/a_b<\/a>\)/,
  );
  assert.equal(r.text, 'Pay at https://pay.example.gov.uk/bins?ref=1&x=2. (Or http://example.com/a_b)\n');
  assert.doesNotMatch(body('www.example.com').html, /<a /);
});

test('[text](url) links, with a title; unsafe schemes are not linked', () => {
  const r = body('[Pay online](https://example.gov.uk/pay "Pay your bill") now');
  assert.match(r.html, /<a style="[^"]*" href="https:\/\/example.gov.uk\/pay" title="Pay your bill">Pay online<\/a> now/);
  assert.equal(r.text, 'Pay online (Pay your bill): https://example.gov.uk/pay now\n');
  const bad = body('[click](javascript:alert(1)) [x](data:text/html,hi)');
  assert.doesNotMatch(bad.html, /href="(javascript|data):/);
  assert.match(bad.html, /<p [^>]*>click x<\/p>/);
});

test('paragraphs are separated by empty lines; single line breaks stay as <br />', () => {
  const r = body('Line one\nLine two\n\n\n\nNew paragraph');
  assert.match(r.html, /<p [^>]*>Line one<br \/>Line two<\/p>\n<p [^>]*>New paragraph<\/p>/);
  assert.equal(r.text, 'Line one\nLine two\n\nNew paragraph\n');
});

test('HTML in the template and in personalisation is escaped, in the subject too', () => {
  const r = renderEmail(
    { subject: '<b>Hi</b> ((name))', body: '<script>alert(1)</script> ((name)) <a href="x">x</a>\n\n((items))' },
    { name: '<img src=x onerror=alert(1)>', items: ['<i>one</i>', '"two"'] },
    { serviceName: '<Council & Co>' },
  );
  assert.doesNotMatch(r.html, /<script|<img|<i>|<a href="x"|<b>Hi/);
  assert.match(r.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &lt;img src=x onerror=alert\(1\)&gt;/);
  assert.match(r.html, /<li [^>]*>&lt;i&gt;one&lt;\/i&gt;<\/li><li [^>]*>“two”<\/li>/);
  assert.match(r.html, /<title>&lt;b&gt;Hi&lt;\/b&gt; &lt;img src=x onerror=alert\(1\)&gt;<\/title>/);
  assert.match(r.html, />&lt;Council &amp; Co&gt;</);
  // The plain-text part and the subject are text, not HTML: nothing to escape there.
  assert.equal(r.subject, '<b>Hi</b> <img src=x onerror=alert(1)>');
  assert.match(r.text, /^<script>alert\(1\)<\/script> <img src=x onerror=alert\(1\)>/);
});

test('a personalisation value cannot break out of a link', () => {
  const r = body('[Pay](https://example.gov.uk/pay?ref=((ref)))', { ref: '1"><script>x</script>' });
  assert.doesNotMatch(r.html, /<script>/);
});

test('Bold, italics and code are not formatting in Notify: the characters stay', () => {
  assert.match(body('**bold** _it_ `code`').html, /<p [^>]*>\*\*bold\*\* _it_ `code`<\/p>/);
});

test('typography: smart quotes, spaced hyphens become en dashes, no space before full stops and commas; GOV.UK is not linked', () => {
  const r = body(`"Hello" - it's ready , come . Email jo'brien@example.com about GOV.UK`);
  assert.match(inner(r.html), /“Hello” – it’s ready, come. Email jo&#39;brien@example.com about GOV.\u200bUK/);
  assert.equal(r.text, "“Hello” – it’s ready, come. Email jo'brien@example.com about GOV.\u200bUK\n");
  assert.doesNotMatch(body('https://www.gov.uk/x').html, /\u200b/);
});

test('the subject is filled, given nice typography and made one line', () => {
  const r = renderEmail({ subject: '  Your "bin"  -  ((day))\nnext week ', body: 'x' }, { day: 'Monday' });
  assert.equal(r.subject, 'Your “bin” – Monday next week');
});

test('the HTML is a complete accessible document with inline styles and no external assets', () => {
  const r = renderEmail({ subject: 'Bins', body: 'Hello' }, {}, { serviceName: 'Mid Wales Council', language: 'cy' });
  assert.match(r.html, /^<!DOCTYPE html>\n<html lang="cy">/);
  assert.match(r.html, /<meta http-equiv="Content-Type" content="text\/html; charset=utf-8">/);
  assert.match(r.html, /<title>Bins<\/title>/);
  assert.match(r.html, /Mid Wales Council<\/td>/);
  assert.doesNotMatch(r.html, /<img|<link|<script|src=|url\(/i);
  for (const table of r.html.match(/<table[^>]*>/g) ?? []) assert.match(table, /role="presentation"/);
  assert.match(r.html, /<\/html>\n$/);
  assert.match(renderEmail({ subject: 's', body: 'b' }).html, /<html lang="en">/);
});

test('the preheader is the start of the text, hidden in the HTML', () => {
  const r = body(`# Heading\n\nSome [link](https://example.com) and ${'word '.repeat(80)}`);
  assert.equal(r.preheader.length <= 256, true);
  assert.match(r.preheader, /^Heading Some link and word word/);
  assert.match(r.html, /<span style="display: none;[^"]*">Heading Some link and word/);
});

test('an unsubscribe link closes the email after a rule', () => {
  const r = body('Hello', {}, { unsubscribeUrl: 'https://example.gov.uk/unsubscribe?t=a&b=c' });
  assert.match(r.html, /<hr [^>]*>\n<p [^>]*><a [^>]*href="https:\/\/example.gov.uk\/unsubscribe\?t=a&amp;b=c">Unsubscribe from these emails<\/a><\/p>/);
  assert.match(r.text, /={65}\n\nUnsubscribe from these emails: https:\/\/example.gov.uk\/unsubscribe\?t=a&b=c\n$/);
});

test('lists from personalisation are Markdown lists; missing personalisation is reported, subject first', () => {
  const r = renderEmail({ subject: 'For ((name))', body: 'Bring:((items))\n\nRef ((ref)) ((Name))' }, { items: ['bins', 'bags'] });
  assert.match(r.html, /<li [^>]*>bins<\/li><li [^>]*>bags<\/li>/);
  assert.deepEqual(r.missing, ['name', 'ref']);
  assert.match(r.text, /Ref \(\(ref\)\) \(\(Name\)\)/);
});

test('images are dropped and line separators removed', () => {
  const r = body('Look ![alt](https://example.com/x.png) here\u2028now');
  assert.match(r.html, /<p [^>]*>Look {2}herenow<\/p>/);
});
