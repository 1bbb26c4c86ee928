/**
 * NGSI-LD geo-queries (clause 4.10): georel, geometry and coordinates parsed and
 * checked, and the relations evaluated over GeoJSON in WGS84. Distances are
 * great-circle metres; polygons may have holes; a point on an edge is inside.
 */

export type Position = [number, number];
export type Geometry =
  | { type: 'Point'; coordinates: Position }
  | { type: 'MultiPoint'; coordinates: Position[] }
  | { type: 'LineString'; coordinates: Position[] }
  | { type: 'MultiLineString'; coordinates: Position[][] }
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] };

export const GEOREL_NAMES = ['near', 'within', 'contains', 'intersects', 'equals', 'disjoint', 'overlaps'] as const;
export type GeorelName = (typeof GEOREL_NAMES)[number];

export interface GeoQuery {
  georel: GeorelName;
  maxDistance?: number;
  minDistance?: number;
  geometry: Geometry;
  geoproperty: string;
}

export class GeoQueryError extends Error {}

const GEOMETRY_TYPES = ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'];

/** Parses the georel, geometry, coordinates and geoproperty parameters into a GeoQuery, or throws GeoQueryError. */
export function parseGeoQuery(params: { georel?: string; geometry?: string; coordinates?: string; geoproperty?: string }): GeoQuery | undefined {
  const { georel, geometry, coordinates } = params;
  if (georel === undefined && geometry === undefined && coordinates === undefined) return undefined;
  if (georel === undefined || geometry === undefined || coordinates === undefined) throw new GeoQueryError('A geo-query needs all three of georel, geometry and coordinates.');
  const [name, ...modifiers] = georel.split(';');
  if (!(GEOREL_NAMES as readonly string[]).includes(name)) throw new GeoQueryError(`georel must be one of ${GEOREL_NAMES.join(', ')}; "${name}" is not.`);
  const q: Partial<GeoQuery> = { georel: name as GeorelName, geoproperty: params.geoproperty || 'location' };
  for (const m of modifiers) {
    const match = /^(maxDistance|minDistance)==(\d+(\.\d+)?)$/.exec(m);
    if (!match || name !== 'near') throw new GeoQueryError(`"${m}" is not a valid georel modifier: near takes maxDistance==<metres> or minDistance==<metres>.`);
    q[match[1] as 'maxDistance' | 'minDistance'] = Number(match[2]);
  }
  if (name === 'near' && q.maxDistance === undefined && q.minDistance === undefined) throw new GeoQueryError('near needs maxDistance==<metres> or minDistance==<metres>, like near;maxDistance==500.');
  if (!GEOMETRY_TYPES.includes(geometry)) throw new GeoQueryError(`geometry must be one of ${GEOMETRY_TYPES.join(', ')}; "${geometry}" is not.`);
  let coords: unknown;
  try {
    coords = JSON.parse(coordinates);
  } catch {
    throw new GeoQueryError('coordinates must be a JSON array, like [-1.2577,51.7520] for a Point.');
  }
  q.geometry = checkGeometry({ type: geometry, coordinates: coords });
  if (name === 'near' && q.geometry.type !== 'Point') throw new GeoQueryError('near needs a Point geometry.');
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,255}$/.test(q.geoproperty as string)) throw new GeoQueryError('geoproperty must be an attribute name, like location.');
  return q as GeoQuery;
}

function isPosition(p: unknown): p is Position {
  return Array.isArray(p) && (p.length === 2 || p.length === 3) && p.every((n) => typeof n === 'number' && Number.isFinite(n)) && Math.abs(p[0]) <= 180 && Math.abs(p[1]) <= 90;
}

function checkRing(ring: unknown, what: string): Position[] {
  if (!Array.isArray(ring) || ring.length < 4 || !ring.every(isPosition)) throw new GeoQueryError(`${what}: each ring of a Polygon needs at least four [longitude, latitude] positions.`);
  const first = ring[0] as Position;
  const last = ring[ring.length - 1] as Position;
  if (first[0] !== last[0] || first[1] !== last[1]) throw new GeoQueryError(`${what}: each ring of a Polygon must end where it starts.`);
  return ring as Position[];
}

/** Checks GeoJSON geometry (longitude first, within range); returns it typed, or throws GeoQueryError. */
export function checkGeometry(g: unknown, what = 'coordinates'): Geometry {
  if (typeof g !== 'object' || g === null) throw new GeoQueryError(`${what} must be a GeoJSON geometry.`);
  const { type, coordinates: c } = g as { type?: unknown; coordinates?: unknown };
  const list = (v: unknown, min: number) => Array.isArray(v) && v.length >= min;
  switch (type) {
    case 'Point':
      if (!isPosition(c)) throw new GeoQueryError(`${what}: a Point is [longitude, latitude], with longitude between -180 and 180 and latitude between -90 and 90.`);
      return { type, coordinates: c };
    case 'MultiPoint':
      if (!list(c, 1) || !(c as unknown[]).every(isPosition)) throw new GeoQueryError(`${what}: a MultiPoint is a list of [longitude, latitude] positions.`);
      return { type, coordinates: c as Position[] };
    case 'LineString':
      if (!list(c, 2) || !(c as unknown[]).every(isPosition)) throw new GeoQueryError(`${what}: a LineString is at least two [longitude, latitude] positions.`);
      return { type, coordinates: c as Position[] };
    case 'MultiLineString':
      if (!list(c, 1) || !(c as unknown[]).every((l) => list(l, 2) && (l as unknown[]).every(isPosition))) throw new GeoQueryError(`${what}: a MultiLineString is a list of LineStrings.`);
      return { type, coordinates: c as Position[][] };
    case 'Polygon':
      if (!list(c, 1)) throw new GeoQueryError(`${what}: a Polygon is a list of rings, like [[[lon,lat],[lon,lat],[lon,lat],[lon,lat]]].`);
      return { type, coordinates: (c as unknown[]).map((r) => checkRing(r, what)) };
    case 'MultiPolygon':
      if (!list(c, 1) || !(c as unknown[]).every((p) => list(p, 1))) throw new GeoQueryError(`${what}: a MultiPolygon is a list of Polygons.`);
      return { type, coordinates: (c as unknown[][]).map((p) => p.map((r) => checkRing(r, what))) };
    default:
      throw new GeoQueryError(`${what}: the geometry type must be one of ${GEOMETRY_TYPES.join(', ')}.`);
  }
}

// ---- Geometry ----

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (d: number) => (d * Math.PI) / 180;

/** Great-circle distance in metres between two [lon, lat] positions. */
export function distanceMetres(a: Position, b: Position): number {
  const dLat = rad(b[1] - a[1]);
  const dLon = rad(b[0] - a[0]);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a[1])) * Math.cos(rad(b[1])) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** [minLon, minLat, maxLon, maxLat] of a geometry. */
export function bboxOf(g: Geometry): [number, number, number, number] {
  const pts = positions(g);
  return [Math.min(...pts.map((p) => p[0])), Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[1]))];
}

/** A box around a point that holds every position within `metres` of it. */
export function bboxAround(p: Position, metres: number): [number, number, number, number] {
  const dLat = (metres / EARTH_RADIUS_M) * (180 / Math.PI);
  const cos = Math.max(Math.cos(rad(p[1])), 0.01);
  const dLon = dLat / cos;
  return [Math.max(-180, p[0] - dLon), Math.max(-90, p[1] - dLat), Math.min(180, p[0] + dLon), Math.min(90, p[1] + dLat)];
}

function positions(g: Geometry): Position[] {
  switch (g.type) {
    case 'Point':
      return [g.coordinates];
    case 'MultiPoint':
    case 'LineString':
      return g.coordinates;
    case 'MultiLineString':
    case 'Polygon':
      return g.coordinates.flat();
    case 'MultiPolygon':
      return g.coordinates.flat(2);
  }
}

function segments(g: Geometry): [Position, Position][] {
  const of = (line: Position[]) => line.slice(1).map((p, i) => [line[i], p] as [Position, Position]);
  switch (g.type) {
    case 'Point':
    case 'MultiPoint':
      return [];
    case 'LineString':
      return of(g.coordinates);
    case 'MultiLineString':
    case 'Polygon':
      return g.coordinates.flatMap(of);
    case 'MultiPolygon':
      return g.coordinates.flat().flatMap(of);
  }
}

function polygons(g: Geometry): Position[][][] {
  return g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
}

function onSegment(p: Position, a: Position, b: Position): boolean {
  const cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
  if (Math.abs(cross) > 1e-12) return false;
  return p[0] >= Math.min(a[0], b[0]) - 1e-12 && p[0] <= Math.max(a[0], b[0]) + 1e-12 && p[1] >= Math.min(a[1], b[1]) - 1e-12 && p[1] <= Math.max(a[1], b[1]) + 1e-12;
}

function inRing(p: Position, ring: Position[]): boolean | 'edge' {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i];
    const b = ring[j];
    if (onSegment(p, a, b)) return 'edge';
    if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

/** True when the position is inside the polygon or on its boundary (and not inside a hole). */
export function pointInPolygon(p: Position, polygon: Position[][]): boolean {
  const outer = inRing(p, polygon[0]);
  if (!outer) return false;
  if (outer === 'edge') return true;
  return !polygon.slice(1).some((hole) => inRing(p, hole) === true);
}

function orientation(a: Position, b: Position, c: Position): number {
  const v = (b[1] - a[1]) * (c[0] - b[0]) - (b[0] - a[0]) * (c[1] - b[1]);
  return Math.abs(v) < 1e-15 ? 0 : v > 0 ? 1 : 2;
}

function segmentsCross(p1: Position, q1: Position, p2: Position, q2: Position): boolean {
  const o1 = orientation(p1, q1, p2);
  const o2 = orientation(p1, q1, q2);
  const o3 = orientation(p2, q2, p1);
  const o4 = orientation(p2, q2, q1);
  if (o1 !== o2 && o3 !== o4) return true;
  return (o1 === 0 && onSegment(p2, p1, q1)) || (o2 === 0 && onSegment(q2, p1, q1)) || (o3 === 0 && onSegment(p1, p2, q2)) || (o4 === 0 && onSegment(q1, p2, q2));
}

function samePosition(a: Position, b: Position): boolean {
  return Math.abs(a[0] - b[0]) < 1e-9 && Math.abs(a[1] - b[1]) < 1e-9;
}

/** True when the two geometries share at least one point. */
export function intersects(a: Geometry, b: Geometry): boolean {
  const aPts = positions(a);
  const bPts = positions(b);
  const aPolys = polygons(a);
  const bPolys = polygons(b);
  if (aPts.some((p) => bPolys.some((poly) => pointInPolygon(p, poly)))) return true;
  if (bPts.some((p) => aPolys.some((poly) => pointInPolygon(p, poly)))) return true;
  const aSegs = segments(a);
  const bSegs = segments(b);
  if (aSegs.some(([p, q]) => bSegs.some(([r, s]) => segmentsCross(p, q, r, s)))) return true;
  if (aPts.some((p) => bPts.some((q) => samePosition(p, q)))) return true;
  if (aPts.some((p) => bSegs.some(([r, s]) => onSegment(p, r, s)))) return true;
  return bPts.some((p) => aSegs.some(([r, s]) => onSegment(p, r, s)));
}

/** True when every point of `a` lies in `b` (b must be an area for anything but equal points). */
export function within(a: Geometry, b: Geometry): boolean {
  const bPolys = polygons(b);
  if (!bPolys.length) return positions(a).every((p) => positions(b).some((q) => samePosition(p, q)) || segments(b).some(([r, s]) => onSegment(p, r, s)));
  if (!positions(a).every((p) => bPolys.some((poly) => pointInPolygon(p, poly)))) return false;
  // A concave area can hold every vertex of a shape and still not the whole of it: no edge may leave.
  const bSegs = segments(b);
  return !segments(a).some(([p, q]) => bSegs.some(([r, s]) => properCross(p, q, r, s)));
}

function properCross(p1: Position, q1: Position, p2: Position, q2: Position): boolean {
  const o1 = orientation(p1, q1, p2);
  const o2 = orientation(p1, q1, q2);
  const o3 = orientation(p2, q2, p1);
  const o4 = orientation(p2, q2, q1);
  return o1 !== 0 && o2 !== 0 && o3 !== 0 && o4 !== 0 && o1 !== o2 && o3 !== o4;
}

export function equalGeometry(a: Geometry, b: Geometry): boolean {
  return a.type === b.type && JSON.stringify(a.coordinates) === JSON.stringify(b.coordinates);
}

/** Shortest distance in metres from a point to a geometry (0 inside an area). */
export function distanceTo(p: Position, g: Geometry): number {
  if (polygons(g).some((poly) => pointInPolygon(p, poly))) return 0;
  let best = Math.min(...positions(g).map((q) => distanceMetres(p, q)));
  for (const [a, b] of segments(g)) best = Math.min(best, distanceToSegment(p, a, b));
  return best;
}

/** Point-to-segment distance on a local flat projection around p: fine at city scale. */
function distanceToSegment(p: Position, a: Position, b: Position): number {
  const k = Math.cos(rad(p[1]));
  const ax = (a[0] - p[0]) * k;
  const ay = a[1] - p[1];
  const bx = (b[0] - p[0]) * k;
  const by = b[1] - p[1];
  const dx = bx - ax;
  const dy = by - ay;
  const len = dx * dx + dy * dy;
  const t = len === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len));
  const x = ax + t * dx;
  const y = ay + t * dy;
  return Math.sqrt(x * x + y * y) * (Math.PI / 180) * EARTH_RADIUS_M;
}

/** True when an entity's geometry stands in the queried relation to the query's geometry. */
export function matchesGeoQuery(entityGeometry: Geometry, q: GeoQuery): boolean {
  switch (q.georel) {
    case 'near': {
      const d = distanceTo(q.geometry.coordinates as Position, entityGeometry);
      return (q.maxDistance === undefined || d <= q.maxDistance) && (q.minDistance === undefined || d >= q.minDistance);
    }
    case 'within':
      return within(entityGeometry, q.geometry);
    case 'contains':
      return within(q.geometry, entityGeometry);
    case 'intersects':
      return intersects(entityGeometry, q.geometry);
    case 'disjoint':
      return !intersects(entityGeometry, q.geometry);
    case 'equals':
      return equalGeometry(entityGeometry, q.geometry);
    case 'overlaps':
      return intersects(entityGeometry, q.geometry) && !within(entityGeometry, q.geometry) && !within(q.geometry, entityGeometry);
  }
}

/**
 * What a store can use to narrow candidates before the exact check: a bounding box
 * every match overlaps, or a circle every match reaches into, or nothing.
 */
export function prefilterOf(q: GeoQuery): { bbox?: [number, number, number, number]; near?: { lon: number; lat: number; metres: number } } {
  if (q.georel === 'near') {
    const [lon, lat] = q.geometry.coordinates as Position;
    return q.maxDistance !== undefined ? { near: { lon, lat, metres: q.maxDistance } } : {};
  }
  // Any match overlaps the query geometry's box; disjoint can match anywhere.
  return q.georel === 'disjoint' ? {} : { bbox: bboxOf(q.geometry) };
}
