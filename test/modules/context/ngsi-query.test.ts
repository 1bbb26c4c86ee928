import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluate, parseQuery, QuerySyntaxError, queryAttributes, safeRegex } from '../../../src/modules/context/ngsi-query.js';

const carPark = {
  id: 'urn:ngsi-ld:OffStreetParking:1',
  type: 'OffStreetParking',
  name: { type: 'Property', value: 'Westgate car park' },
  availableSpotNumber: { type: 'Property', value: 121, observedAt: '2026-03-02T08:00:00.000Z' },
  totalSpotNumber: { type: 'Property', value: 400 },
  category: { type: 'Property', value: ['public', 'feeCharged'] },
  isOpen: { type: 'Property', value: true },
  dateObserved: { type: 'Property', value: { '@type': 'DateTime', '@value': '2026-03-02T08:00:00.000Z' } },
  no2: { type: 'Property', value: 41.5, unitCode: 'GQ', observedAt: '2026-03-02T08:00:00.000Z' },
  address: { type: 'Property', value: { type: 'PostalAddress', streetAddress: '1 Castle Street', postalCode: 'OX1 1BX' } },
  refDevice: { type: 'Relationship', object: 'urn:ngsi-ld:Device:abc' },
  location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [-1.2603, 51.7508] } },
  openingHours: { type: 'Property', value: '07:00:00' },
  opened: { type: 'Property', value: '2019-05-01' },
};

const q = (text: string) => evaluate(parseQuery(text), carPark);

describe('NGSI-LD q: comparisons', () => {
  test('numbers with every comparison operator', () => {
    assert.equal(q('availableSpotNumber>100'), true);
    assert.equal(q('availableSpotNumber>121'), false);
    assert.equal(q('availableSpotNumber>=121'), true);
    assert.equal(q('availableSpotNumber<121'), false);
    assert.equal(q('availableSpotNumber<=121'), true);
    assert.equal(q('availableSpotNumber==121'), true);
    assert.equal(q('availableSpotNumber!=121'), false);
    assert.equal(q('no2>41.4'), true);
    assert.equal(q('no2==-3'), false);
    assert.equal(q('no2<1e3'), true);
  });

  test('quoted strings, with escapes and the delimiters inside quotes', () => {
    assert.equal(q('name=="Westgate car park"'), true);
    assert.equal(q('name!="Westgate car park"'), false);
    assert.equal(q('name>"A"'), true);
    assert.equal(evaluate(parseQuery('name=="a;b|c)"'), { id: 'x', type: 'T', name: { type: 'Property', value: 'a;b|c)' } }), true);
    assert.equal(evaluate(parseQuery('name=="say \\"hi\\""'), { id: 'x', type: 'T', name: { type: 'Property', value: 'say "hi"' } }), true);
  });

  test('booleans only with == and !=', () => {
    assert.equal(q('isOpen==true'), true);
    assert.equal(q('isOpen!=true'), false);
    assert.throws(() => parseQuery('isOpen>true'), QuerySyntaxError);
  });

  test('date-times compare as instants, against DateTime values and observedAt', () => {
    assert.equal(q('dateObserved>2026-03-02T07:59:59Z'), true);
    assert.equal(q('dateObserved>=2026-03-02T09:00:00+01:00'), true);
    assert.equal(q('dateObserved<2026-03-02T08:00:00Z'), false);
    assert.equal(q('no2.observedAt>=2026-03-01T00:00:00Z'), true);
    assert.equal(q('opened<2020-01-01'), true);
    assert.equal(q('openingHours>=06:30:00'), true);
  });

  test('value lists and ranges', () => {
    assert.equal(q('availableSpotNumber==100,121,130'), true);
    assert.equal(q('availableSpotNumber!=100,121'), false);
    assert.equal(q('availableSpotNumber==100..200'), true);
    assert.equal(q('availableSpotNumber==121..121'), true);
    assert.equal(q('availableSpotNumber==122..200'), false);
    assert.equal(q('availableSpotNumber!=122..200'), true);
    assert.equal(q('no2==41.4..41.6'), true);
    assert.equal(q('dateObserved==2026-03-01T00:00:00Z..2026-03-03T00:00:00Z'), true);
    assert.equal(q('name=="Abbey","Westgate car park"'), true);
    assert.throws(() => parseQuery('a>1,2'), /only allowed with == or !=/);
    assert.throws(() => parseQuery('a>1..2'), /only allowed with == or !=/);
    assert.throws(() => parseQuery('a==1.."b"'), /same kind/);
  });

  test('arrays match when any element does; != when none does', () => {
    assert.equal(q('category=="public"'), true);
    assert.equal(q('category=="private"'), false);
    assert.equal(q('category!="public"'), false);
    assert.equal(q('category!="private"'), true);
  });

  test('relationships compare their object, and URIs need no quotes', () => {
    assert.equal(q('refDevice==urn:ngsi-ld:Device:abc'), true);
    assert.equal(q('refDevice=="urn:ngsi-ld:Device:abc"'), true);
    assert.equal(q('refDevice!=urn:ngsi-ld:Device:xyz'), true);
  });

  test('sub-attributes with dots and structured values with brackets', () => {
    assert.equal(q('no2.unitCode=="GQ"'), true);
    assert.equal(q('address[postalCode]=="OX1 1BX"'), true);
    assert.equal(q('address[streetAddress]~="Castle"'), true);
    assert.equal(q('address[town]=="Oxford"'), false);
  });

  test('an attribute alone asks whether it exists', () => {
    assert.equal(q('location'), true);
    assert.equal(q('availableSpotNumber'), true);
    assert.equal(q('pm25'), false);
  });

  test('a term about a missing attribute is false, even with !=', () => {
    assert.equal(q('pm25>10'), false);
    assert.equal(q('pm25!=10'), false);
  });
});

describe('NGSI-LD q: logic', () => {
  test('; is and, | is or, and ; binds tighter', () => {
    assert.equal(q('availableSpotNumber>100;totalSpotNumber==400'), true);
    assert.equal(q('availableSpotNumber>100;totalSpotNumber==1'), false);
    assert.equal(q('availableSpotNumber>500|totalSpotNumber==400'), true);
    // a | b ; c  ==  a | (b ; c)
    assert.equal(q('totalSpotNumber==400|availableSpotNumber>500;no2>1000'), true);
    assert.equal(q('(totalSpotNumber==400|availableSpotNumber>500);no2>1000'), false);
  });

  test('parentheses nest', () => {
    assert.equal(q('((no2>40;(pm25>1|no2<50))|name=="x");location'), true);
    const tree = parseQuery('(a==1|b==2);c==3');
    assert.equal(tree.kind, 'and');
    assert.deepEqual([...queryAttributes(tree)].sort(), ['a', 'b', 'c']);
  });
});

describe('NGSI-LD q: regular expressions', () => {
  test('~= and !~=, with (?i) for case-insensitive', () => {
    assert.equal(q('name~=^West'), true);
    assert.equal(q('name~=^west'), false);
    assert.equal(q('name~=(?i)^west'), true);
    assert.equal(q('name!~=^West'), false);
    assert.equal(q('name~="car (park|lot)$"'), true);
    assert.equal(q('name~=car (park|lot)$;totalSpotNumber==400'), true);
    assert.equal(q('no2~=41'), false, 'only strings match a pattern');
  });

  test('patterns that could backtrack for ever are refused', () => {
    for (const bad of ['(a+)+$', '(a*)*b', '(a|aa)+', '(\\w+\\s?)*$', '(.*){1,32000}x', '(a)\\1', '(?=a)b', '(?<!a)b']) assert.throws(() => safeRegex(bad), Error, bad);
    for (const ok of ['^West', 'car (park|lot)$', '(ab)+', '[a-z]+\\d*', '(a+)?', '^.{0,20}$']) assert.ok(safeRegex(ok));
    assert.throws(() => parseQuery('name~=(a+)+$'), QuerySyntaxError);
    assert.throws(() => safeRegex('x'.repeat(201)), /longer than/);
  });
});

describe('NGSI-LD q: syntax errors say where', () => {
  const bad: [string, RegExp][] = [
    ['', /expected an attribute name/i],
    ['a==', /expected a value/i],
    ['a=="open', /not closed/i],
    ['a==free', /put text in double quotes/i],
    ['a=1', /expected an operator/i],
    ['(a==1', /expected "\)"/i],
    ['a==1)', /unexpected "\)"/i],
    ['a==1;', /expected an attribute name/i],
    ['a==1||b==2', /expected an attribute name/i],
    ['a[b==1', /expected "\]"/i],
    ['a==2026-13-45T00:00:00Z', /not a real date/],
    ['%==1', /expected an attribute name/i],
  ];
  for (const [text, message] of bad) {
    test(`"${text}"`, () => {
      assert.throws(
        () => parseQuery(text),
        (err: unknown) => err instanceof QuerySyntaxError && message.test(err.message) && /position \d+/.test(err.message),
      );
    });
  }

  test('very long or deeply nested queries are refused', () => {
    assert.throws(() => parseQuery(`${'('.repeat(30)}a==1${')'.repeat(30)}`), /nested/);
    assert.throws(() => parseQuery(Array.from({ length: 101 }, (_, i) => `a${i}==1`).join(';')), /more than 100/i);
    assert.throws(() => parseQuery(`a=="${'x'.repeat(5000)}"`), /longer than/);
  });
});
