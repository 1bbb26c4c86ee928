import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADDRESS_ERRORS, addressLinesFromPersonalisation, checkPostalAddress, findCountry, formatPostcode, isRealUkPostcode } from '../../../../src/modules/messaging/render/index.js';

test('a UK address: lines tidied, the postcode formatted, "United Kingdom" and its nations dropped', () => {
  const r = checkPostalAddress(['  Ms  A Person ,', '1 High Street,,', 'Aberystwyth', 'sy231aa', 'Wales', 'United Kingdom']);
  assert.deepEqual(r, {
    ok: true,
    errors: [],
    lines: ['Ms A Person', '1 High Street', 'Aberystwyth', 'SY23 1AA'],
    postcode: 'SY23 1AA',
    international: false,
    postage: 'united-kingdom',
    country: 'United Kingdom',
    bfpo: null,
  });
  assert.deepEqual(checkPostalAddress(['A Person\n1 Street', '', 'Town', 'SW1A 1AA', 'Cymru']).lines, ['A Person', '1 Street', 'Town', 'SW1A 1AA']);
});

test('UK postcodes: a known area and the right shape', () => {
  for (const ok of ['SW1A 1AA', 'EC1A 1BB', 'M1 1AE', 'B33 8TH', 'CR2 6XH', 'DN55 1PT', 'cf10  1ep', 'JE2 3AB', 'BT1 1AA']) assert.equal(isRealUkPostcode(ok), true, ok);
  for (const bad of ['XX1 1AA', 'SW1A 1AI', 'SW1A', '12345', 'SW1A 1AA X', '']) assert.equal(isRealUkPostcode(bad), false, bad);
  assert.equal(formatPostcode('sw1a1aa'), 'SW1A 1AA');
  assert.equal(formatPostcode('not one'), null);
});

test('at least 3 lines', () => {
  const r = checkPostalAddress(['A Person', 'SW1A 1AA']);
  assert.equal(r.ok, false);
  assert.deepEqual(r.errors, ['Address must be at least 3 lines']);
  assert.deepEqual(checkPostalAddress([]).errors, [ADDRESS_ERRORS.tooFewLines, ADDRESS_ERRORS.notPostcodeOrCountry]);
});

test('at most 7 lines', () => {
  const r = checkPostalAddress(['1', '2', '3', '4', '5', '6', '7', 'SW1A 1AA']);
  assert.deepEqual(r.errors, ['Address must be no more than 7 lines']);
  assert.equal(checkPostalAddress(['1', '2', '3', '4', '5', '6', 'SW1A 1AA']).ok, true);
});

test('the last line must be a real UK postcode, or another country where letters may go abroad', () => {
  assert.deepEqual(checkPostalAddress(['A Person', '1 Street', 'Not a postcode']).errors, ['Last line of address must be a real UK postcode or another country']);
  assert.deepEqual(checkPostalAddress(['A Person', '1 Street', 'Not a postcode'], { allowInternational: false }).errors, ['Must be a real UK postcode']);
  assert.deepEqual(checkPostalAddress(['A Person', '1 Rue', 'Paris', 'France'], { allowInternational: false }).errors, ['Must be a real UK postcode']);
});

test('international addresses: the country named canonically, postage by Royal Mail zone', () => {
  const fr = checkPostalAddress(['A Person', '1 Rue de la Paix', '75002 Paris', 'france']);
  assert.equal(fr.ok, true);
  assert.deepEqual(fr.lines, ['A Person', '1 Rue de la Paix', '75002 Paris', 'France']);
  assert.equal(fr.postage, 'europe');
  assert.equal(fr.international, true);
  assert.equal(fr.postcode, null);
  const us = checkPostalAddress(['A Person', '1 Main St', 'Springfield IL 62701', 'U.S.A.']);
  assert.deepEqual([us.ok, us.country, us.postage], [true, 'United States', 'rest-of-world']);
  assert.equal(checkPostalAddress(['A Person', '1 Strasse', 'Berlin', 'Yr Almaen']).country, 'Germany');
  assert.equal(findCountry('Bahamas'), 'The Bahamas');
  assert.equal(findCountry('Côte d’Ivoire'), 'Ivory Coast');
  assert.equal(findCountry('Trinidad & Tobago'), 'Trinidad and Tobago');
  assert.equal(findCountry('Aberystwyth'), null);
});

test('no line may start with @ ( ) = [ ] " \\ / , < > ~', () => {
  for (const start of ['@', '(', ')', '=', '[', ']', '"', '\\', '/', '<', '>', '~']) {
    assert.deepEqual(checkPostalAddress([`${start}A Person`, '1 Street', 'SW1A 1AA']).errors, [ADDRESS_ERRORS.invalidCharacters], start);
  }
  assert.equal(ADDRESS_ERRORS.invalidCharacters, 'Address lines must not start with any of the following characters: @ ( ) = [ ] ” \\ / , < >');
  assert.equal(checkPostalAddress(['A Person (Mrs)', '1 Street', 'SW1A 1AA']).ok, true);
});

test('no fixed abode is not an address', () => {
  assert.deepEqual(checkPostalAddress(['A Person', 'NFA', 'SW1A 1AA']).errors, ['Must be a real address']);
  assert.deepEqual(checkPostalAddress(['A Person', 'Of no fixed address', 'SW1A 1AA']).errors, ['Must be a real address']);
  assert.deepEqual(checkPostalAddress(['A Person', 'No Fixed Abode', 'SW1A 1AA']).errors, ['Must be a real address']);
});

test('BFPO addresses: the number on its own line, with or without a postcode, never with a country', () => {
  const r = checkPostalAddress(['Cpl A Person', 'Unit 1', 'bfpo  123']);
  assert.deepEqual([r.ok, r.lines, r.bfpo], [true, ['Cpl A Person', 'Unit 1', 'BFPO 123'], 123]);
  const withPostcode = checkPostalAddress(['Cpl A Person', 'Unit 1', 'BFPO 123', 'bf1 4aa']);
  assert.deepEqual([withPostcode.ok, withPostcode.lines], [true, ['Cpl A Person', 'Unit 1', 'BF1 4AA', 'BFPO 123']]);
  assert.deepEqual(checkPostalAddress(['Cpl A Person', 'Unit 1', 'BFPO 123', 'France']).errors, ['The last line of a BFPO address must not be a country.']);
});

test('every broken rule is listed, in the order Notify checks them', () => {
  assert.deepEqual(checkPostalAddress(['@A Person', 'NFA']).errors, [ADDRESS_ERRORS.tooFewLines, ADDRESS_ERRORS.notPostcodeOrCountry, ADDRESS_ERRORS.invalidCharacters, ADDRESS_ERRORS.noFixedAbode]);
});

test('address lines from Notify-style personalisation', () => {
  assert.deepEqual(addressLinesFromPersonalisation({ address_line_1: 'A Person', 'Address Line 2': '1 Street', postcode: 'SW1A 1AA', other: 'x' }), [
    'A Person',
    '1 Street',
    '',
    '',
    '',
    '',
    'SW1A 1AA',
  ]);
  assert.deepEqual(addressLinesFromPersonalisation({ address_line_1: 'A', address_line_2: 'B', address_line_7: 'France', postcode: 'ignored' }), ['A', 'B', '', '', '', '', 'France']);
});
