/** Shapes for tests that need wards: a square ring, and a GeoJSON collection of named squares. */

/** A square polygon's rings (one, closed), from its south-west to its north-east corner. */
export function square(x0: number, y0: number, x1: number, y1: number): number[][][] {
  return [
    [
      [x0, y0],
      [x1, y0],
      [x1, y1],
      [x0, y1],
      [x0, y0],
    ],
  ];
}

/** Wards as the estate imports them: each a square [west, south, east, north] with a name and code. */
export function squareWards(wards: { name: string; code: string; box: [number, number, number, number] }[]) {
  return {
    type: 'FeatureCollection',
    features: wards.map((w) => ({ type: 'Feature', properties: { name: w.name, code: w.code }, geometry: { type: 'Polygon', coordinates: square(...w.box) } })),
  };
}
