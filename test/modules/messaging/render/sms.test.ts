import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderSms, SMS_CHAR_COUNT_LIMIT, smsCostPence, smsEncode, smsFragmentCount } from '../../../../src/modules/messaging/render/index.js';

const parts = (text: string, prefix?: string) => {
  const r = renderSms(text, {}, { prefix });
  return { encoding: r.encoding, characters: r.characters, fragments: r.fragments };
};

test('GSM-7: 160 characters is one part, 161 two; then 153 a part (306 two, 307 three)', () => {
  assert.deepEqual(parts('a'.repeat(160)), { encoding: 'GSM-7', characters: 160, fragments: 1 });
  assert.deepEqual(parts('a'.repeat(161)), { encoding: 'GSM-7', characters: 161, fragments: 2 });
  assert.equal(parts('a'.repeat(153 * 2)).fragments, 2);
  assert.equal(parts('a'.repeat(153 * 2 + 1)).fragments, 3);
  assert.equal(parts('a'.repeat(918)).fragments, 6);
});

test('GSM-7 extension characters ^ { } \\ [ ~ ] | € count as 2', () => {
  assert.deepEqual(parts(`${'a'.repeat(158)}|`), { encoding: 'GSM-7', characters: 160, fragments: 1 });
  assert.deepEqual(parts(`${'a'.repeat(159)}|`), { encoding: 'GSM-7', characters: 161, fragments: 2 });
  assert.equal(parts('^'.repeat(80)).fragments, 1);
  assert.equal(parts('^'.repeat(81)).fragments, 2);
  assert.equal(parts(`${'a'.repeat(304)}[`).fragments, 2);
  assert.equal(parts(`${'a'.repeat(304)}[]`).fragments, 3);
  assert.equal(parts('{}\\~€').characters, 10);
});

test('UCS-2: 70 characters is one part, 71 two; then 67 a part (134 two, 135 three)', () => {
  assert.deepEqual(parts('ŵ'.repeat(70)), { encoding: 'UCS-2', characters: 70, fragments: 1 });
  assert.deepEqual(parts('ŵ'.repeat(71)), { encoding: 'UCS-2', characters: 71, fragments: 2 });
  assert.equal(parts('ŷ'.repeat(67 * 2)).fragments, 2);
  assert.equal(parts('ŷ'.repeat(67 * 2 + 1)).fragments, 3);
  // One character outside GSM makes the whole message UCS-2.
  assert.deepEqual(parts(`${'a'.repeat(69)}â`), { encoding: 'UCS-2', characters: 70, fragments: 1 });
  assert.deepEqual(parts(`${'a'.repeat(70)}â`), { encoding: 'UCS-2', characters: 71, fragments: 2 });
});

test('in UCS-2 extension characters count once, and an emoji counts as its two UTF-16 units', () => {
  assert.deepEqual(parts(`${'â'.repeat(69)}{`), { encoding: 'UCS-2', characters: 70, fragments: 1 });
  assert.equal(parts(`${'â'.repeat(70)}{`).fragments, 2);
  assert.deepEqual(parts('😀'.repeat(35)), { encoding: 'UCS-2', characters: 70, fragments: 1 });
  assert.deepEqual(parts('😀'.repeat(36)), { encoding: 'UCS-2', characters: 72, fragments: 2 });
});

test('Notify replaces smart quotes, dashes, ellipses, tabs and odd spaces, which can keep a message GSM-7', () => {
  const r = renderSms('“Hi” – it’s… done\tnow\u00a0ok\u200b — ‘yes’ „a‚ 5−3 non\u2011breaking');
  assert.equal(r.text, `"Hi" - it's... done now ok - 'yes' "a' 5-3 non-breaking`);
  assert.equal(r.encoding, 'GSM-7');
  assert.equal(smsEncode('\u202f\u2060\ufeff'), ' ');
});

test('Welsh: ŵ, ŷ, â, ê, î, ô, û and their capitals are kept and make the message UCS-2; à, è, é, ù, ì, ò are GSM', () => {
  const cy = renderSms('Mae’r ŵyn a’r ŷd yn y caeau. Dyma’r tŷ. Â Ê Î Ô Û Ŵ Ŷ');
  assert.equal(cy.text, "Mae'r ŵyn a'r ŷd yn y caeau. Dyma'r tŷ. Â Ê Î Ô Û Ŵ Ŷ");
  assert.equal(cy.encoding, 'UCS-2');
  assert.deepEqual(cy.nonGsmCharacters, ['ŵ', 'ŷ', 'Â', 'Ê', 'Î', 'Ô', 'Û', 'Ŵ', 'Ŷ']);
  const gsm = renderSms('Croeso i Gymru! Diolch yn fawr. à è é ù ì ò Ä Ö Ü ä ö ü ñ');
  assert.equal(gsm.encoding, 'GSM-7');
  assert.deepEqual(gsm.nonGsmCharacters, []);
});

test('other characters outside GSM are sent as written (Notify no longer turns them into "?")', () => {
  const r = renderSms('Łódź 😀 привет');
  assert.equal(r.text, 'Łódź 😀 привет');
  assert.equal(r.encoding, 'UCS-2');
});

test(`the limit is ${SMS_CHAR_COUNT_LIMIT} characters without the service name prefix, with Notify's message`, () => {
  const ok = renderSms('a'.repeat(918), {}, { prefix: 'Mid Wales Council' });
  assert.equal(ok.text.startsWith('Mid Wales Council: aaa'), true);
  assert.equal(ok.contentLength, 918);
  assert.equal(ok.characters, 918 + 'Mid Wales Council: '.length);
  assert.equal(ok.tooLong, false);
  assert.equal(ok.tooLongMessage, undefined);
  const long = renderSms('a'.repeat(919));
  assert.equal(long.tooLong, true);
  assert.equal(long.fragments, 7);
  assert.equal(long.tooLongMessage, 'Your message is too long. Text messages cannot be longer than 918 characters. Your message is 919 characters long.');
  assert.equal(renderSms('ŵ'.repeat(919)).tooLong, true);
});

test('the prefix may be given with or without its colon', () => {
  assert.equal(renderSms('Hi', {}, { prefix: 'Council: ' }).text, 'Council: Hi');
  assert.equal(renderSms('Hi', {}, { prefix: '  Council ' }).text, 'Council: Hi');
});

test('whitespace is tidied as Notify does: spaces collapse, at most one empty line, none before , or .', () => {
  const r = renderSms('  Hello   there  \n\n\n\n  world  ,  see you .  \r\nbye\t');
  assert.equal(r.text, 'Hello there\n\nworld, see you.\nbye');
});

test('personalisation: values, lists as "a, b and c", optional content, missing names; an empty message', () => {
  const r = renderSms('Hi ((name)), bring ((items)).((late?? Sorry.)) Ref ((ref))', { NAME: 'Ann', items: ['bins', 'boxes', 'bags'], late: 'yes' });
  assert.equal(r.text, 'Hi Ann, bring bins, boxes and bags. Sorry. Ref ((ref))');
  assert.deepEqual(r.missing, ['ref']);
  const empty = renderSms('((x))', { x: '' }, { prefix: 'Council' });
  assert.equal(empty.empty, true);
  assert.equal(empty.contentLength, 0);
});

test('fragment counts and cost in pence', () => {
  assert.equal(smsFragmentCount(0, 'GSM-7'), 1);
  assert.equal(smsFragmentCount(459, 'GSM-7'), 3);
  assert.equal(smsFragmentCount(460, 'GSM-7'), 4);
  assert.equal(smsFragmentCount(201, 'UCS-2'), 3);
  assert.equal(smsCostPence(3, 1.97), 5.91);
  assert.equal(smsCostPence(2, 2.27), 4.54);
  assert.equal(smsCostPence(0, 2), 0);
});
