/**
 * Small, exact geometry for placing points in areas: GeoJSON Polygon and MultiPolygon
 * (with holes), bounding boxes and great-circle distance. Coordinates are [lon, lat].
 */
export type Ring = number[][];
export type PolygonCoords = Ring[];
export interface PolygonGeometry {
  type: 'Polygon';
  coordinates: PolygonCoords;
}
export interface MultiPolygonGeometry {
  type: 'MultiPolygon';
  coordinates: PolygonCoords[];
}
export type AreaGeometry = PolygonGeometry | MultiPolygonGeometry;
export type BBox = [number, number, number, number];

/** Ray casting (even-odd rule): a horizontal ray from the point crosses the ring's edges an odd number of times if inside. */
export function pointInRing(lon: number, lat: number, ring: Ring): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Inside the outer ring and in none of its holes. */
export function pointInPolygon(lon: number, lat: number, polygon: PolygonCoords): boolean {
  if (!polygon.length || !pointInRing(lon, lat, polygon[0])) return false;
  for (let h = 1; h < polygon.length; h++) if (pointInRing(lon, lat, polygon[h])) return false;
  return true;
}

export function pointInGeometry(lon: number, lat: number, geometry: AreaGeometry): boolean {
  if (geometry.type === 'Polygon') return pointInPolygon(lon, lat, geometry.coordinates);
  return geometry.coordinates.some((p) => pointInPolygon(lon, lat, p));
}

export function bboxOf(geometry: AreaGeometry): BBox {
  const box: BBox = [Infinity, Infinity, -Infinity, -Infinity];
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  for (const polygon of polygons)
    for (const [lon, lat] of polygon[0] ?? []) {
      box[0] = Math.min(box[0], lon);
      box[1] = Math.min(box[1], lat);
      box[2] = Math.max(box[2], lon);
      box[3] = Math.max(box[3], lat);
    }
  return box;
}

export function inBBox(lon: number, lat: number, b: BBox): boolean {
  return lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3];
}

/** Checks a GeoJSON geometry is a Polygon or MultiPolygon of closed rings of valid positions; returns a message when not. */
export function geometryProblem(g: unknown): string | undefined {
  const geom = g as { type?: unknown; coordinates?: unknown };
  if (!geom || typeof geom !== 'object') return 'has no geometry';
  if (geom.type === 'Polygon') return polygonProblem(geom.coordinates);
  if (geom.type === 'MultiPolygon') {
    if (!Array.isArray(geom.coordinates) || !geom.coordinates.length) return 'has an empty MultiPolygon';
    for (const p of geom.coordinates) {
      const problem = polygonProblem(p);
      if (problem) return problem;
    }
    return undefined;
  }
  return `is a ${String(geom.type)}, not a Polygon or MultiPolygon`;
}

function polygonProblem(p: unknown): string | undefined {
  if (!Array.isArray(p) || !p.length) return 'has a polygon with no rings';
  for (const ring of p) {
    if (!Array.isArray(ring) || ring.length < 4) return 'has a ring of fewer than 4 positions';
    for (const pos of ring) {
      if (!Array.isArray(pos) || pos.length < 2 || !Number.isFinite(pos[0]) || !Number.isFinite(pos[1])) return 'has a position that is not [longitude, latitude]';
      if (Math.abs(pos[0]) > 180 || Math.abs(pos[1]) > 90) return 'has a position outside WGS84 longitude and latitude';
    }
    const first = ring[0];
    const last = ring[ring.length - 1];
    if (first[0] !== last[0] || first[1] !== last[1]) return 'has a ring that is not closed (the last position must equal the first)';
  }
  return undefined;
}

const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance in metres (haversine). */
export function distanceMetres(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** A box that surely holds every point within `metres` of (lat, lon): a cheap index prefilter for radius queries. */
export function bboxAround(lat: number, lon: number, metres: number): BBox {
  const dLat = (metres / EARTH_RADIUS_M) * (180 / Math.PI);
  const cos = Math.max(Math.cos((lat * Math.PI) / 180), 1e-6);
  const dLon = Math.min(180, dLat / cos);
  return [lon - dLon, lat - dLat, lon + dLon, lat + dLat];
}

/**
 * Metres from a point to a geometry: 0 inside it, else to its nearest edge. Edges are measured
 * on a flat projection centred on the point, which is exact to well under 1% for the tens of
 * kilometres a radius or a county spans.
 */
export function distanceToGeometry(lat: number, lon: number, geometry: AreaGeometry): number {
  if (pointInGeometry(lon, lat, geometry)) return 0;
  const rad = Math.PI / 180;
  const ky = EARTH_RADIUS_M * rad;
  const kx = ky * Math.cos(lat * rad);
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let best = Infinity;
  for (const polygon of polygons)
    for (const ring of polygon)
      for (let i = 1; i < ring.length; i++) {
        const ax = (ring[i - 1][0] - lon) * kx;
        const ay = (ring[i - 1][1] - lat) * ky;
        const bx = (ring[i][0] - lon) * kx;
        const by = (ring[i][1] - lat) * ky;
        best = Math.min(best, distanceToSegment(ax, ay, bx, by));
      }
  return best;
}

/** Distance from the origin to the segment a–b, in the plane. */
function distanceToSegment(ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const length2 = dx * dx + dy * dy;
  const t = length2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / length2));
  return Math.hypot(ax + t * dx, ay + t * dy);
}

/** True when two boxes share any point. */
export function bboxesOverlap(a: BBox, b: BBox): boolean {
  return a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];
}
