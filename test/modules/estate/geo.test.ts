import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bboxAround, bboxOf, distanceMetres, geometryProblem, pointInGeometry, pointInRing } from '../../../src/modules/estate/geo.js';

const square = (x0: number, y0: number, x1: number, y1: number) => [
  [x0, y0],
  [x1, y0],
  [x1, y1],
  [x0, y1],
  [x0, y0],
];

test('ray casting: inside, outside, on a concave shape', () => {
  assert.equal(pointInRing(0.5, 0.5, square(0, 0, 1, 1)), true);
  assert.equal(pointInRing(1.5, 0.5, square(0, 0, 1, 1)), false);
  assert.equal(pointInRing(-0.1, 0.5, square(0, 0, 1, 1)), false);
  // A U shape: the notch between the arms is outside.
  const u = [
    [0, 0],
    [3, 0],
    [3, 3],
    [2, 3],
    [2, 1],
    [1, 1],
    [1, 3],
    [0, 3],
    [0, 0],
  ];
  assert.equal(pointInRing(0.5, 2, u), true);
  assert.equal(pointInRing(1.5, 2, u), false);
  assert.equal(pointInRing(2.5, 2, u), true);
  assert.equal(pointInRing(1.5, 0.5, u), true);
});

test('a polygon with a hole, and a multipolygon', () => {
  const donut = { type: 'Polygon' as const, coordinates: [square(0, 0, 4, 4), square(1, 1, 3, 3)] };
  assert.equal(pointInGeometry(0.5, 0.5, donut), true);
  assert.equal(pointInGeometry(2, 2, donut), false, 'in the hole');
  assert.equal(pointInGeometry(5, 5, donut), false);
  const islands = { type: 'MultiPolygon' as const, coordinates: [[square(0, 0, 1, 1)], [square(10, 10, 11, 11), square(10.2, 10.2, 10.8, 10.8)]] };
  assert.equal(pointInGeometry(0.5, 0.5, islands), true);
  assert.equal(pointInGeometry(10.1, 10.1, islands), true);
  assert.equal(pointInGeometry(10.5, 10.5, islands), false, 'in the second island’s hole');
  assert.equal(pointInGeometry(5, 5, islands), false);
  assert.deepEqual(bboxOf(islands), [0, 0, 11, 11]);
});

test('real-world coordinates (negative longitudes)', () => {
  const ward = { type: 'Polygon' as const, coordinates: [square(-1.3, 51.7, -1.2, 51.8)] };
  assert.equal(pointInGeometry(-1.25, 51.75, ward), true);
  assert.equal(pointInGeometry(-1.35, 51.75, ward), false);
});

test('geometry checks name the problem', () => {
  assert.equal(geometryProblem({ type: 'Polygon', coordinates: [square(0, 0, 1, 1)] }), undefined);
  assert.match(String(geometryProblem({ type: 'Point', coordinates: [0, 0] })), /not a Polygon/);
  assert.match(
    String(
      geometryProblem({
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [1, 1],
            [0, 0.5],
          ],
        ],
      }),
    ),
    /not closed/,
  );
  assert.match(
    String(
      geometryProblem({
        type: 'Polygon',
        coordinates: [
          [
            [0, 0],
            [1, 0],
            [0, 0],
          ],
        ],
      }),
    ),
    /fewer than 4/,
  );
  assert.match(String(geometryProblem({ type: 'Polygon', coordinates: [square(0, 0, 200, 1)] })), /outside WGS84/);
  assert.match(String(geometryProblem(null)), /no geometry/);
});

test('distances and the radius prefilter', () => {
  // Oxford to Cambridge, about 107 km.
  const d = distanceMetres(51.752, -1.2577, 52.2053, 0.1218);
  assert.ok(Math.abs(d - 107_000) < 2_000, `${d}`);
  const box = bboxAround(51.75, -1.25, 1000);
  assert.ok(box[0] < -1.25 && box[2] > -1.25 && box[1] < 51.75 && box[3] > 51.75);
  assert.ok(distanceMetres(51.75, -1.25, box[3], -1.25) >= 999);
});
