import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkBodyContext, compactName, contextDocument, type Entity, InputError, normaliseAttributes, parseOptions, renderEntity } from '../../../src/modules/context/ngsi-format.js';
import { BUILDING_CATEGORY, controlledProperties, profileFor, readingAttribute, readingValue } from '../../../src/modules/context/smart-data-models.js';
import type { Profile } from '../../../src/modules/estate/index.js';

const entity: Entity = {
  id: 'urn:ngsi-ld:AirQualityObserved:1',
  type: 'AirQualityObserved',
  createdAt: '2026-03-01T00:00:00.000Z',
  no2: { type: 'Property', value: 41, observedAt: '2026-03-02T08:00:00.000Z', unitCode: 'GQ' },
  name: { type: 'Property', value: 'Carfax' },
  address: { type: 'Property', value: { type: 'PostalAddress', streetAddress: 'Carfax' } },
  refDevice: { type: 'Relationship', object: 'urn:ngsi-ld:Device:1' },
  location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [-1.2577, 51.752] } },
};

const normalized = { format: 'normalized' as const, sysAttrs: false };

describe('rendering', () => {
  test('normalized keeps attribute objects and hides system attributes unless asked', () => {
    const out = renderEntity(entity, normalized);
    assert.deepEqual(out.no2, entity.no2);
    assert.equal(out.createdAt, undefined);
    assert.equal(renderEntity(entity, { ...normalized, sysAttrs: true }).createdAt, '2026-03-01T00:00:00.000Z');
  });

  test('keyValues gives plain values; Relationships give their object', () => {
    const out = renderEntity(entity, { format: 'keyValues', sysAttrs: false });
    assert.deepEqual(out, {
      id: entity.id,
      type: entity.type,
      no2: 41,
      name: 'Carfax',
      address: { type: 'PostalAddress', streetAddress: 'Carfax' },
      refDevice: 'urn:ngsi-ld:Device:1',
      location: { type: 'Point', coordinates: [-1.2577, 51.752] },
    });
  });

  test('concise drops type, and a bare value stands alone unless it is an object', () => {
    const out = renderEntity(entity, { format: 'concise', sysAttrs: false });
    assert.deepEqual(out.no2, { value: 41, observedAt: '2026-03-02T08:00:00.000Z', unitCode: 'GQ' });
    assert.equal(out.name, 'Carfax');
    assert.deepEqual(out.address, { value: { type: 'PostalAddress', streetAddress: 'Carfax' } });
    assert.deepEqual(out.refDevice, { object: 'urn:ngsi-ld:Device:1' });
    assert.deepEqual(out.location, { type: 'Point', coordinates: [-1.2577, 51.752] });
  });

  test('attrs, pick and omit', () => {
    assert.deepEqual(Object.keys(renderEntity(entity, { ...normalized, attrs: new Set(['no2']) })), ['id', 'type', 'no2']);
    assert.deepEqual(Object.keys(renderEntity(entity, { ...normalized, pick: new Set(['id', 'name']) })), ['id', 'name']);
    assert.deepEqual(Object.keys(renderEntity(entity, { ...normalized, omit: new Set(['type', 'location', 'address']) })), ['id', 'no2', 'name', 'refDevice']);
  });

  test('@context is added when given', () => {
    assert.equal(renderEntity(entity, normalized, 'https://weft.example/ngsi-ld/v1/jsonldContexts/weft')['@context'], 'https://weft.example/ngsi-ld/v1/jsonldContexts/weft');
  });

  test('the context document lists the Smart Data Models contexts and ends with the core context', () => {
    const ctx = contextDocument()['@context'] as unknown[];
    assert.ok(ctx.includes('https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld'));
    assert.ok(ctx.includes('https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld'));
    assert.equal(ctx.at(-1), 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld');
  });
});

describe('options', () => {
  test('keyValues, simplified, concise and format', () => {
    assert.equal(parseOptions('keyValues').format, 'keyValues');
    assert.equal(parseOptions(undefined, 'simplified').format, 'keyValues');
    assert.equal(parseOptions('concise,sysAttrs').format, 'concise');
    assert.ok(parseOptions('concise,sysAttrs').set.has('sysAttrs'));
    assert.equal(parseOptions(undefined).format, 'normalized');
    assert.throws(() => parseOptions('keyValues,concise'), /one of/);
    assert.throws(() => parseOptions('fast'), /not an option/);
    assert.throws(() => parseOptions('keyValues,,'), /no empty items/);
  });
});

describe('input', () => {
  test('normalised and concise attributes are accepted and normalised', () => {
    const attrs = normaliseAttributes({
      id: 'urn:ngsi-ld:X:1',
      type: 'X',
      a: { type: 'Property', value: 1, observedAt: '2026-03-02T09:00:00+01:00' },
      b: 'text',
      c: { value: [1, 2] },
      d: { object: 'urn:ngsi-ld:Device:1' },
      location: { type: 'Point', coordinates: [-1.25, 51.75] },
      e: { value: 3, accuracy: { value: 0.5 } },
      'https://smartdatamodels.org/dataModel.Environment/no2': 40,
    });
    assert.deepEqual(attrs.a, { type: 'Property', value: 1, observedAt: '2026-03-02T08:00:00.000Z' });
    assert.deepEqual(attrs.b, { type: 'Property', value: 'text' });
    assert.deepEqual(attrs.c, { type: 'Property', value: [1, 2] });
    assert.deepEqual(attrs.d, { type: 'Relationship', object: 'urn:ngsi-ld:Device:1' });
    assert.deepEqual(attrs.location, { type: 'GeoProperty', value: { type: 'Point', coordinates: [-1.25, 51.75] } });
    assert.deepEqual(attrs.e, { type: 'Property', value: 3, accuracy: { type: 'Property', value: 0.5 } });
    assert.deepEqual(attrs.no2, { type: 'Property', value: 40 });
  });

  test('bad attributes are refused with the reason', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ a: { type: 'Property' } }, /needs a value/],
      [{ a: { type: 'Relationship', object: 'not a uri' } }, /URI of an entity/],
      [{ a: { type: 'GeoProperty', value: { lat: 1 } } }, /GeoJSON/],
      [{ a: { type: 'Thing', value: 1 } }, /not an attribute type/],
      [{ a: { value: 1, observedAt: 'yesterday' } }, /observedAt/],
      [{ 'a-b': 1 }, /not an attribute name/],
      [{ observedAt: 1 }, /reserved/],
      [{ a: null }, /needs a value/],
    ];
    for (const [body, message] of bad)
      assert.throws(
        () => normaliseAttributes(body),
        (err: unknown) => err instanceof InputError && message.test(err.message),
        JSON.stringify(body),
      );
  });

  test('@context belongs in the body for application/ld+json and in a Link header for application/json', () => {
    assert.doesNotThrow(() => checkBodyContext({ '@context': 'https://example.org/ctx.jsonld' }, 'application/ld+json'));
    assert.throws(() => checkBodyContext({}, 'application/ld+json'), /must carry its @context/);
    assert.throws(() => checkBodyContext({ '@context': 'https://example.org/ctx.jsonld' }, 'application/json'), /must not carry @context/);
  });

  test('expanded names of known vocabularies are compacted', () => {
    assert.equal(compactName('https://smartdatamodels.org/dataModel.Parking/availableSpotNumber'), 'availableSpotNumber');
    assert.equal(compactName('urn:weft:terms:occupied'), 'occupied');
    assert.equal(compactName('https://example.org/other'), 'https://example.org/other');
  });
});

describe('Smart Data Models mapping', () => {
  const profile = (key: string, metrics: string[]): Profile =>
    ({ id: key, key, name: key, description: '', metrics: metrics.map((name) => ({ name, unit: name === 'no2' ? 'µg/m³' : '%', kind: 'measure' })) }) as unknown as Profile;
  const air = profile('air-quality', ['no2', 'pm2_5', 'humidity', 'temperature']);
  const bay = profile('parking-bay', ['occupied', 'battery']);

  test('readings become attributes with SDM ranges and UN/CEFACT units', () => {
    assert.deepEqual(readingAttribute(air.metrics[0], { metric: 'no2', value: 41, at: new Date('2026-03-02T08:00:00Z') }), {
      type: 'Property',
      value: 41,
      observedAt: '2026-03-02T08:00:00.000Z',
      unitCode: 'GQ',
    });
    assert.equal(readingAttribute(air.metrics[2], { metric: 'humidity', value: 54, at: new Date() }).value, 0.54);
    assert.equal(readingValue(0.54, 0.01), 54);
    assert.equal(readingValue('54', 1), undefined);
  });

  test('controlledProperty from the profile, and the profile back from it', () => {
    assert.deepEqual(controlledProperties(air), ['airPollution', 'humidity', 'temperature']);
    assert.deepEqual(controlledProperties(bay), ['occupancy']);
    assert.equal(profileFor([air, bay], undefined, ['occupancy'])?.key, 'parking-bay');
    assert.equal(profileFor([air, bay], 'urn:ngsi-ld:DeviceModel:air-quality', undefined)?.key, 'air-quality');
    assert.equal(profileFor([air, bay], undefined, ['temperature']), undefined, 'a partial match is not enough');
  });

  test('every site type has a Building category', () => {
    assert.equal(BUILDING_CATEGORY.school, 'school');
    assert.equal(BUILDING_CATEGORY.nhs_site, 'hospital');
  });
});
