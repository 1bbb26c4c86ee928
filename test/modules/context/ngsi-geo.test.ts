import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { distanceMetres, type Geometry, GeoQueryError, matchesGeoQuery, parseGeoQuery, prefilterOf } from '../../../src/modules/context/ngsi-geo.js';

// Real places in Oxford, [longitude, latitude].
const CARFAX: [number, number] = [-1.25777, 51.75202];
const RADCLIFFE_CAMERA: [number, number] = [-1.25384, 51.75339];
const RAILWAY_STATION: [number, number] = [-1.27013, 51.75346];
const JOHN_RADCLIFFE_HOSPITAL: [number, number] = [-1.21857, 51.76397];
const LONDON_CHARING_CROSS: [number, number] = [-0.12462, 51.50809];
/** Roughly the city centre inside the old walls. */
const CENTRE: Geometry = {
  type: 'Polygon',
  coordinates: [
    [
      [-1.2655, 51.7475],
      [-1.247, 51.7475],
      [-1.247, 51.758],
      [-1.2655, 51.758],
      [-1.2655, 51.7475],
    ],
  ],
};
const point = (p: [number, number]): Geometry => ({ type: 'Point', coordinates: p });

describe('distances', () => {
  test('great-circle metres between real places', () => {
    const carfaxCamera = distanceMetres(CARFAX, RADCLIFFE_CAMERA);
    assert.ok(carfaxCamera > 270 && carfaxCamera < 330, `Carfax to the Radcliffe Camera is about 300 m, got ${carfaxCamera}`);
    const oxfordLondon = distanceMetres(CARFAX, LONDON_CHARING_CROSS);
    assert.ok(oxfordLondon > 81_000 && oxfordLondon < 85_000, `Oxford to London is about 83 km, got ${oxfordLondon}`);
  });
});

describe('parseGeoQuery', () => {
  test('near with maxDistance and a Point', () => {
    const q = parseGeoQuery({ georel: 'near;maxDistance==500', geometry: 'Point', coordinates: JSON.stringify(CARFAX) });
    assert.deepEqual(q, { georel: 'near', maxDistance: 500, geometry: { type: 'Point', coordinates: CARFAX }, geoproperty: 'location' });
    assert.deepEqual(prefilterOf(q as never), { near: { lon: CARFAX[0], lat: CARFAX[1], metres: 500 } });
  });

  test('within a Polygon, with its bounding box as the prefilter', () => {
    const q = parseGeoQuery({ georel: 'within', geometry: 'Polygon', coordinates: JSON.stringify(CENTRE.coordinates) });
    assert.equal(q?.georel, 'within');
    assert.deepEqual(prefilterOf(q as never), { bbox: [-1.2655, 51.7475, -1.247, 51.758] });
  });

  test('nothing asked, nothing parsed', () => {
    assert.equal(parseGeoQuery({}), undefined);
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ georel: 'near;maxDistance==500' }, /all three/],
    [{ georel: 'nearby', geometry: 'Point', coordinates: '[0,0]' }, /georel must be one of/],
    [{ georel: 'near', geometry: 'Point', coordinates: '[0,0]' }, /maxDistance/],
    [{ georel: 'near;maxDistance=500', geometry: 'Point', coordinates: '[0,0]' }, /not a valid georel modifier/],
    [{ georel: 'within;maxDistance==5', geometry: 'Polygon', coordinates: '[[[0,0],[1,0],[1,1],[0,0]]]' }, /not a valid georel modifier/],
    [{ georel: 'near;maxDistance==5', geometry: 'Circle', coordinates: '[0,0]' }, /geometry must be one of/],
    [{ georel: 'near;maxDistance==5', geometry: 'Point', coordinates: '[0,0' }, /JSON array/],
    [{ georel: 'near;maxDistance==5', geometry: 'Point', coordinates: '[51.75,-181.2]' }, /longitude between -180 and 180/],
    [{ georel: 'within', geometry: 'Polygon', coordinates: '[[[0,0],[1,0],[1,1]]]' }, /at least four/],
    [{ georel: 'within', geometry: 'Polygon', coordinates: '[[[0,0],[1,0],[1,1],[0,1]]]' }, /end where it starts/],
    [{ georel: 'near;maxDistance==5', geometry: 'Polygon', coordinates: '[[[0,0],[1,0],[1,1],[0,0]]]' }, /near needs a Point/],
  ];
  for (const [params, message] of bad) {
    test(`refuses ${JSON.stringify(params)}`, () => {
      assert.throws(
        () => parseGeoQuery(params),
        (err: unknown) => err instanceof GeoQueryError && message.test(err.message),
      );
    });
  }
});

describe('geo relations over real coordinates', () => {
  const near = (metres: number, key: 'maxDistance' | 'minDistance' = 'maxDistance') => ({ georel: 'near' as const, [key]: metres, geometry: point(CARFAX), geoproperty: 'location' });

  test('near;maxDistance and near;minDistance', () => {
    assert.equal(matchesGeoQuery(point(RADCLIFFE_CAMERA), near(400)), true);
    assert.equal(matchesGeoQuery(point(RADCLIFFE_CAMERA), near(250)), false);
    assert.equal(matchesGeoQuery(point(RAILWAY_STATION), near(400)), false);
    assert.equal(matchesGeoQuery(point(RAILWAY_STATION), near(1000)), true);
    assert.equal(matchesGeoQuery(point(RADCLIFFE_CAMERA), near(400, 'minDistance')), false);
    assert.equal(matchesGeoQuery(point(JOHN_RADCLIFFE_HOSPITAL), near(2000, 'minDistance')), true);
  });

  test('near measures to the edge of an area', () => {
    assert.equal(matchesGeoQuery(CENTRE, { ...near(10), geometry: point(CARFAX) }), true, 'inside is distance 0');
    assert.equal(matchesGeoQuery(CENTRE, { ...near(500), geometry: point(RAILWAY_STATION) }), true, 'the station is ~330 m west of the western edge');
    assert.equal(matchesGeoQuery(CENTRE, { ...near(200), geometry: point(RAILWAY_STATION) }), false);
  });

  const rel = (georel: 'within' | 'intersects' | 'disjoint' | 'contains' | 'equals' | 'overlaps', geometry: Geometry) => ({ georel, geometry, geoproperty: 'location' });

  test('within and intersects a Polygon; disjoint is the opposite', () => {
    assert.equal(matchesGeoQuery(point(CARFAX), rel('within', CENTRE)), true);
    assert.equal(matchesGeoQuery(point(RADCLIFFE_CAMERA), rel('within', CENTRE)), true);
    assert.equal(matchesGeoQuery(point(RAILWAY_STATION), rel('within', CENTRE)), false);
    assert.equal(matchesGeoQuery(point(JOHN_RADCLIFFE_HOSPITAL), rel('intersects', CENTRE)), false);
    assert.equal(matchesGeoQuery(point(CARFAX), rel('intersects', CENTRE)), true);
    assert.equal(matchesGeoQuery(point(CARFAX), rel('disjoint', CENTRE)), false);
    assert.equal(matchesGeoQuery(point(RAILWAY_STATION), rel('disjoint', CENTRE)), true);
    assert.equal(matchesGeoQuery(point([-1.2655, 51.75]), rel('within', CENTRE)), true, 'a point on the edge is within');
  });

  test('polygons: within, intersects, contains, overlaps', () => {
    const small: Geometry = {
      type: 'Polygon',
      coordinates: [
        [
          [-1.26, 51.75],
          [-1.255, 51.75],
          [-1.255, 51.755],
          [-1.26, 51.755],
          [-1.26, 51.75],
        ],
      ],
    };
    const straddling: Geometry = {
      type: 'Polygon',
      coordinates: [
        [
          [-1.25, 51.75],
          [-1.24, 51.75],
          [-1.24, 51.755],
          [-1.25, 51.755],
          [-1.25, 51.75],
        ],
      ],
    };
    assert.equal(matchesGeoQuery(small, rel('within', CENTRE)), true);
    assert.equal(matchesGeoQuery(CENTRE, rel('contains', small)), true);
    assert.equal(matchesGeoQuery(straddling, rel('within', CENTRE)), false);
    assert.equal(matchesGeoQuery(straddling, rel('intersects', CENTRE)), true);
    assert.equal(matchesGeoQuery(straddling, rel('overlaps', CENTRE)), true);
    assert.equal(matchesGeoQuery(small, rel('overlaps', CENTRE)), false);
    assert.equal(matchesGeoQuery(small, rel('equals', small)), true);
  });

  test('holes are outside', () => {
    const ring: Geometry = {
      type: 'Polygon',
      coordinates: [
        CENTRE.coordinates[0] as [number, number][],
        [
          [-1.259, 51.751],
          [-1.256, 51.751],
          [-1.256, 51.753],
          [-1.259, 51.753],
          [-1.259, 51.751],
        ],
      ],
    };
    assert.equal(matchesGeoQuery(point(CARFAX), rel('within', ring)), false, 'Carfax is in the hole');
    assert.equal(matchesGeoQuery(point(RADCLIFFE_CAMERA), rel('within', ring)), true);
  });
});
