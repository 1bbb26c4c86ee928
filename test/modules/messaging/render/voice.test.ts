import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderRcs, renderVoice, spokenUrl } from '../../../../src/modules/messaging/render/index.js';

test('voice: a closing keypad menu, one sentence a key', () => {
  const r = renderVoice(
    'Your bin was not collected.',
    {},
    {
      menu: [
        { key: '1', label: 'confirm' },
        { key: '2', label: 'to speak to someone.' },
      ],
    },
  );
  assert.equal(r.speech, 'Your bin was not collected. Press 1 to confirm. Press 2 to speak to someone.');
  assert.deepEqual(
    r.menu.map((m) => m.sentence),
    ['Press 1 to confirm.', 'Press 2 to speak to someone.'],
  );
  assert.deepEqual(r.errors, []);
});

test('voice: * and # are said as words; Welsh menus', () => {
  const en = renderVoice(
    'Hello',
    {},
    {
      menu: [
        { key: '*', label: 'hear this again' },
        { key: '#', label: 'end the call' },
      ],
    },
  );
  assert.equal(en.speech, 'Hello. Press star to hear this again. Press hash to end the call.');
  const cy = renderVoice('Mae’r ŵyn yn y cae.', {}, { language: 'cy', menu: [{ key: '1', label: 'gadarnhau' }] });
  assert.equal(cy.speech, "Mae'r ŵyn yn y cae. Pwyswch 1 i gadarnhau.");
});

test('voice: menu keys must be single keypad keys, used once, with labels', () => {
  const r = renderVoice(
    'Hi',
    {},
    {
      menu: [
        { key: '1', label: 'yes' },
        { key: '1', label: 'no' },
        { key: '12', label: 'x' },
        { key: 'a', label: 'y' },
        { key: '3', label: ' ' },
      ],
    },
  );
  assert.deepEqual(r.errors, [
    'Menu key 1 is used more than once.',
    'Menu key “12” must be a single keypad key: 0 to 9, * or #.',
    'Menu key “a” must be a single keypad key: 0 to 9, * or #.',
    'Menu key 3 needs a label saying what it does.',
  ]);
});

test('voice: Markdown becomes sentences; short lists are read as "a, b and c"', () => {
  const r = renderVoice(
    '# Bin day changes\n\nDear ((name)),\nYour day is now ((day)) - from next week\n\nYou need to:\n\n* put your bin out by 7am\n* close the lid\n\n^ Thank you\n\n---\n\n**Bold** _text_',
    {
      name: 'Ann',
      day: 'Monday',
    },
  );
  assert.equal(r.speech, 'Bin day changes. Dear Ann. Your day is now Monday, from next week. You need to: put your bin out by 7am and close the lid. Thank you. Bold text.');
});

test('voice: items that are sentences are read one by one; numbered steps too', () => {
  const r = renderVoice('1. Open the lid. Put the bag in.\n2. Close it.');
  assert.equal(r.speech, 'Open the lid. Put the bag in. Close it.');
  assert.equal(renderVoice('Bring ((items)).', { items: ['bins', 'bags'] }).speech, 'Bring bins and bags.');
});

test('voice: web addresses are read out, or left out with a note', () => {
  assert.equal(spokenUrl('https://www.example-council.gov.uk/pay/bins?ref=1'), 'w w w dot example council dot gov dot uk slash pay slash bins');
  const said = renderVoice('Pay at https://example.gov.uk/pay. Or [online](https://example.gov.uk/x).');
  assert.equal(said.speech, 'Pay at example dot gov dot uk slash pay. Or online, at example dot gov dot uk slash x.');
  const removed = renderVoice('Pay at https://example.gov.uk/pay or [online](https://example.gov.uk/x).', {}, { urls: 'remove' });
  assert.equal(removed.speech, 'Pay at or online. This message includes a web link that is not read out. You can find it in the written version of this message.');
});

test('voice: SSML is escaped and pauses before the menu; missing personalisation is reported', () => {
  const r = renderVoice('Fish & chips for ((name))', { name: '<Ann>' }, { menu: [{ key: '1', label: 'order' }] });
  assert.equal(r.speech, 'Fish and chips for Ann. Press 1 to order.');
  assert.equal(r.ssml, '<speak><s>Fish and chips for Ann.</s><break time="700ms"/><s>Press 1 to order.</s></speak>');
  assert.deepEqual(renderVoice('Hi ((name))').missing, ['name']);
  assert.match(renderVoice('"Quote" <tag> \'x\'').ssml, /<s>&quot;Quote&quot; tag &apos;x&apos;.<\/s>/);
});

test('RCS: text as a text message is tidied, suggested replies from strings, actions checked', () => {
  const r = renderRcs(
    'Your bin day is ((day)) .\n\n\n\nReply below',
    { day: 'Monday' },
    {
      suggestions: ['Thanks', { type: 'openUrl', text: 'Pay ((what))', url: 'https://example.gov.uk/pay' }, { type: 'dial', text: 'Call us', phoneNumber: '01234 567 890' }],
    },
  );
  assert.equal(r.text, 'Your bin day is Monday.\n\nReply below');
  assert.deepEqual(r.suggestions, [
    { type: 'reply', text: 'Thanks', postbackData: 'Thanks' },
    { type: 'openUrl', text: 'Pay ((what))', url: 'https://example.gov.uk/pay' },
    { type: 'dial', text: 'Call us', phoneNumber: '01234567890' },
  ]);
  assert.deepEqual(r.missing, ['what']);
  assert.deepEqual(r.errors, []);
});

test('RCS: limits on suggestions and text', () => {
  const r = renderRcs(
    'x'.repeat(3073),
    {},
    {
      suggestions: [
        ...Array.from({ length: 11 }, (_, n) => `Reply ${n}`),
        'A reply that is far too long to fit',
        { type: 'openUrl', text: 'Site', url: 'http://example.com' },
        { type: 'dial', text: 'Call', phoneNumber: 'none' },
      ],
    },
  );
  assert.deepEqual(r.errors, [
    'RCS messages cannot be longer than 3,072 characters. Your message is 3,073 characters long.',
    'An RCS message can have at most 11 suggestions. This one has 14.',
    'Suggestion “A reply that is far too long to fit” is longer than 25 characters.',
    'Suggestion “Site” must link to a web address starting https://.',
    'Suggestion “Call” must have a phone number to call.',
  ]);
  assert.deepEqual(renderRcs('((x))', { x: '' }).errors, ['The message is empty.']);
});
