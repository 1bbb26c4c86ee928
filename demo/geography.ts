import { Random } from './random.js';

/**
 * The geography of Wealdmoor, a fictional county on the English–Welsh border: its
 * outline, twenty towns with their postcode districts (WM1–WM20, not a real
 * postcode area), and one ward per town as non-overlapping polygons (a Voronoi
 * tessellation of the county around the towns). Deterministic: the same seed gives
 * the same map.
 */

/** Where the county sits: real-looking coordinates, invented places. */
const LAT0 = 52.3;
const LON0 = -2.45;
const KM_PER_DEG_LAT = 110.57;
const KM_PER_DEG_LON = 111.32 * Math.cos((LAT0 * Math.PI) / 180);

export interface Town {
  name: string;
  /** postcode district (outward code), e.g. WM3 */
  district: string;
  /** relative size: how many of the county's buildings it has */
  weight: number;
  /** share of Welsh street names */
  welsh: number;
  lat: number;
  lon: number;
}

export interface Ward {
  /** stable code, e.g. WMW03 */
  code: string;
  name: string;
  town: Town;
  /** closed ring of [lon, lat], counter-clockwise (RFC 7946) */
  ring: [number, number][];
}

export interface Geography {
  outline: [number, number][];
  towns: Town[];
  wards: Ward[];
}

const TOWNS: { name: string; weight: number; welsh: number }[] = [
  { name: 'Moorchester', weight: 10, welsh: 0 },
  { name: 'Ashbury Cross', weight: 5, welsh: 0 },
  { name: 'Kingsweald', weight: 5, welsh: 0 },
  { name: 'Llanwen', weight: 3, welsh: 0.6 },
  { name: 'Hollowbridge', weight: 4, welsh: 0 },
  { name: 'Bryngarth', weight: 2, welsh: 0.5 },
  { name: 'Elderford', weight: 3, welsh: 0 },
  { name: 'Wealdon Magna', weight: 2, welsh: 0 },
  { name: 'Tresham Parva', weight: 1.5, welsh: 0 },
  { name: 'Harrowmere', weight: 3, welsh: 0 },
  { name: 'Fennick', weight: 1.5, welsh: 0 },
  { name: 'Oakhallow', weight: 2, welsh: 0 },
  { name: 'Caswell Green', weight: 2, welsh: 0.1 },
  { name: 'Pontyweald', weight: 2.5, welsh: 0.5 },
  { name: 'Abbotsley Heath', weight: 2, welsh: 0 },
  { name: 'Cefn Rhosyn', weight: 1.5, welsh: 0.7 },
  { name: 'Lyddon Vale', weight: 2, welsh: 0 },
  { name: 'Brackenholt', weight: 1.5, welsh: 0 },
  { name: 'Hensley Marsh', weight: 2, welsh: 0 },
  { name: 'Glyncarreg', weight: 1.5, welsh: 0.8 },
];

export const ENGLISH_STREETS = [
  'High Street',
  'Church Lane',
  'Mill Road',
  'Station Road',
  'Orchard Close',
  'Castle Street',
  'Bridge Street',
  'Chapel Row',
  'Meadow Way',
  'Brook Lane',
  'Vicarage Road',
  'School Lane',
  'Market Square',
  'Victoria Road',
  "Queen's Road",
  'Oak Avenue',
  'Beech Grove',
  'Holly Close',
  'Kiln Lane',
  'Tanners Row',
  'Abbey Road',
  'Foregate',
  'Sheep Street',
  'Wharf Road',
  'Malthouse Lane',
  'Hopyard Close',
  'Cider Mill Way',
  'Long Meadow',
  'Weald Road',
  'Moor Lane',
  'Greenway',
  'The Crescent',
  'Park Road',
  'Springfield Drive',
  'Hereward Road',
  'Drovers Way',
  'Salt Lane',
  'Priory Walk',
  'Fairfield Road',
  'Cherry Tree Lane',
];
export const WELSH_STREETS = ['Heol y Nant', 'Ffordd yr Eglwys', 'Lôn Las', 'Stryd Fawr', 'Heol y Felin', 'Maes y Coed', 'Clos yr Afon', 'Ffordd Bryn', 'Lôn y Bont', 'Heol Cae Du'];

const toKm = (lon: number, lat: number): [number, number] => [(lon - LON0) * KM_PER_DEG_LON, (lat - LAT0) * KM_PER_DEG_LAT];
const toLonLat = (x: number, y: number): [number, number] => [round6(LON0 + x / KM_PER_DEG_LON), round6(LAT0 + y / KM_PER_DEG_LAT)];
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

type Pt = [number, number];

function convexHull(points: Pt[]): Pt[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: Pt, a: Pt, b: Pt) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Pt[] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: Pt[] = [];
  for (const q of [...p].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)]; // counter-clockwise
}

/** Clips a convex polygon to the half-plane of points nearer a than b. */
function clipNearer(poly: Pt[], a: Pt, b: Pt): Pt[] {
  const nx = b[0] - a[0];
  const ny = b[1] - a[1];
  const c = (b[0] * b[0] + b[1] * b[1] - a[0] * a[0] - a[1] * a[1]) / 2;
  const side = (p: Pt) => p[0] * nx + p[1] * ny - c; // < 0: nearer a
  const out: Pt[] = [];
  for (let i = 0; i < poly.length; i++) {
    const p = poly[i];
    const q = poly[(i + 1) % poly.length];
    const sp = side(p);
    const sq = side(q);
    if (sp <= 0) out.push(p);
    if ((sp < 0 && sq > 0) || (sp > 0 && sq < 0)) {
      const t = sp / (sp - sq);
      out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
    }
  }
  return out;
}

function centroid(poly: Pt[]): Pt {
  let a = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0; i < poly.length; i++) {
    const [x0, y0] = poly[i];
    const [x1, y1] = poly[(i + 1) % poly.length];
    const f = x0 * y1 - x1 * y0;
    a += f;
    cx += (x0 + x1) * f;
    cy += (y0 + y1) * f;
  }
  return [cx / (3 * a), cy / (3 * a)];
}

function insidePlanar(poly: Pt[], p: Pt): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function distanceToEdges(poly: Pt[], p: Pt): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i];
    const b = poly[(i + 1) % poly.length];
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const len2 = dx * dx + dy * dy;
    const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2));
    best = Math.min(best, Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy)));
  }
  return best;
}

function voronoi(outline: Pt[], seeds: Pt[]): Pt[][] {
  return seeds.map((s, i) => {
    let cell = outline;
    for (let j = 0; j < seeds.length; j++) if (j !== i) cell = clipNearer(cell, s, seeds[j]);
    return cell;
  });
}

const cache = new Map<string, Geography>();

/** The county's map for a seed (memoised). */
export function wealdmoorGeography(seed = 'wealdmoor'): Geography {
  const hit = cache.get(seed);
  if (hit) return hit;
  const rng = new Random(`${seed}:geography`);

  // An irregular convex outline about 60 km across.
  const rim: Pt[] = [];
  for (let i = 0; i < 22; i++) {
    const a = (2 * Math.PI * i) / 22;
    const r = rng.between(0.88, 1.08);
    rim.push([Math.cos(a) * 27 * r, Math.sin(a) * 30 * r]);
  }
  const outline = convexHull(rim);

  // Towns spread by best-candidate sampling, then relaxed (Lloyd) so wards are even.
  let seeds: Pt[] = [];
  const [minX, maxX] = [Math.min(...outline.map((p) => p[0])), Math.max(...outline.map((p) => p[0]))];
  const [minY, maxY] = [Math.min(...outline.map((p) => p[1])), Math.max(...outline.map((p) => p[1]))];
  for (let i = 0; i < TOWNS.length; i++) {
    let best: Pt = [0, 0];
    let bestD = -1;
    for (let c = 0; c < (i === 0 ? 1 : 30); c++) {
      const cand: Pt = i === 0 ? [rng.between(-3, 3), rng.between(-3, 3)] : [rng.between(minX, maxX), rng.between(minY, maxY)];
      if (!insidePlanar(outline, cand) || distanceToEdges(outline, cand) < 3) continue;
      const d = Math.min(...seeds.map((s) => Math.hypot(s[0] - cand[0], s[1] - cand[1])), Number.POSITIVE_INFINITY);
      if (d > bestD) {
        bestD = d;
        best = cand;
      }
    }
    seeds.push(best);
  }
  for (let k = 0; k < 3; k++) seeds = voronoi(outline, seeds).map((cell, i) => (i === 0 ? seeds[0] : centroid(cell)));
  const cells = voronoi(outline, seeds);

  const towns: Town[] = [];
  const wards: Ward[] = [];
  TOWNS.forEach((t, i) => {
    // The town centre: near its ward's heart, well inside it.
    let centre = seeds[i];
    for (let tries = 0; tries < 20; tries++) {
      const cand: Pt = [seeds[i][0] + rng.between(-2, 2), seeds[i][1] + rng.between(-2, 2)];
      if (insidePlanar(cells[i], cand) && distanceToEdges(cells[i], cand) > 2) {
        centre = cand;
        break;
      }
    }
    const [lon, lat] = toLonLat(centre[0], centre[1]);
    const town: Town = { name: t.name, district: `WM${i + 1}`, weight: t.weight, welsh: t.welsh, lat, lon };
    towns.push(town);
    const ring = cells[i].map((p) => toLonLat(p[0], p[1]));
    ring.push(ring[0]);
    wards.push({ code: `WMW${String(i + 1).padStart(2, '0')}`, name: t.name, town, ring });
  });
  const geo: Geography = { outline: [...outline.map((p) => toLonLat(p[0], p[1])), toLonLat(outline[0][0], outline[0][1])], towns, wards };
  cache.set(seed, geo);
  return geo;
}

/** The wards as a GeoJSON FeatureCollection (what the estate's area import takes). */
export function wardsGeoJson(geo: Geography) {
  return {
    type: 'FeatureCollection' as const,
    features: geo.wards.map((w) => ({
      type: 'Feature' as const,
      id: w.code,
      properties: { code: w.code, name: w.name, kind: 'ward', town: w.town.name, postcodeDistrict: w.town.district },
      geometry: { type: 'Polygon' as const, coordinates: [w.ring] },
    })),
  };
}

const ringKm = (ring: [number, number][]) => ring.slice(0, -1).map(([lon, lat]) => toKm(lon, lat));

/** True when (lat, lon) is inside the ring and at least marginKm from its edges. */
export function insideRing(ring: [number, number][], lat: number, lon: number, marginKm = 0): boolean {
  const poly = ringKm(ring);
  const p = toKm(lon, lat);
  return insidePlanar(poly, p) && (marginKm === 0 || distanceToEdges(poly, p) >= marginKm);
}

/** The ward containing a point, if any. */
export function wardAt(geo: Geography, lat: number, lon: number): Ward | undefined {
  return geo.wards.find((w) => insideRing(w.ring, lat, lon));
}

/** Distance in kilometres between two points (flat-earth; fine across a county). */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const [ax, ay] = toKm(a.lon, a.lat);
  const [bx, by] = toKm(b.lon, b.lat);
  return Math.hypot(ax - bx, ay - by);
}

/**
 * A point in a ward, clustered round its town centre (normal spread of sigmaKm),
 * at least 100 m inside the ward so placement by area is never ambiguous.
 */
export function pointInWard(rng: Random, ward: Ward, sigmaKm: number): { lat: number; lon: number } {
  const poly = ringKm(ward.ring);
  const [cx, cy] = toKm(ward.town.lon, ward.town.lat);
  for (let tries = 0; tries < 200; tries++) {
    const s = tries < 100 ? sigmaKm : sigmaKm * 3;
    const p: Pt = [cx + rng.normal() * s, cy + rng.normal() * s];
    if (insidePlanar(poly, p) && distanceToEdges(poly, p) >= 0.1) {
      const [lon, lat] = toLonLat(p[0], p[1]);
      return { lat, lon };
    }
  }
  return { lat: ward.town.lat, lon: ward.town.lon };
}

/** A point a short way from another (metres), e.g. a bay in a car park. */
export function offsetMetres(rng: Random, at: { lat: number; lon: number }, metres: number): { lat: number; lon: number } {
  const a = rng.next() * 2 * Math.PI;
  const r = rng.next() * metres;
  return { lat: round6(at.lat + (Math.sin(a) * r) / 1000 / KM_PER_DEG_LAT), lon: round6(at.lon + (Math.cos(a) * r) / 1000 / KM_PER_DEG_LON) };
}

/** A full postcode in the town's district, e.g. WM3 4QT. */
export function postcodeIn(rng: Random, town: Town): string {
  const letters = 'ABDEFGHJLNPQRSTUWXYZ';
  return `${town.district} ${rng.int(1, 9)}${rng.pick([...letters])}${rng.pick([...letters])}`;
}

const UNIT_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';
/** A postcode's square: 150 m, 20 to a sector, 3 × 3 sectors across 9 km round the town centre. */
const UNIT_KM = 0.15;
const HALF_SPAN_KM = 4.5;

/**
 * The postcode of a point in a town, so that neighbours share one, as they do in life: the
 * district is the town's number (WM3's town is WR3 in area WR), the sector (1–9) a 3 km square
 * round the town centre and the unit (two letters) a 150 m square in it. Points beyond 4.5 km
 * from the centre take the nearest edge square.
 */
export function postcodeAt(town: Town, at: { lat: number; lon: number }, area = 'WM'): string {
  const [x, y] = toKm(at.lon, at.lat);
  const [cx, cy] = toKm(town.lon, town.lat);
  const cells = 3 * UNIT_LETTERS.length;
  const cell = (d: number) => Math.max(0, Math.min(cells - 1, Math.floor((d + HALF_SPAN_KM) / UNIT_KM)));
  const [i, j] = [cell(x - cx), cell(cy - y)];
  const n = UNIT_LETTERS.length;
  const sector = 1 + Math.floor(i / n) + 3 * Math.floor(j / n);
  return `${area}${town.district.replace(/^\D+/, '')} ${sector}${UNIT_LETTERS[i % n]}${UNIT_LETTERS[j % n]}`;
}

export function streetIn(rng: Random, town: Town): string {
  return rng.chance(town.welsh) ? rng.pick(WELSH_STREETS) : rng.pick(ENGLISH_STREETS);
}

/** A street address in a town: "14 Mill Road, Elderford". */
export function addressIn(rng: Random, town: Town, street = streetIn(rng, town)): string {
  return `${rng.int(1, 120)} ${street}, ${town.name}`;
}
