import type { FieldError } from '../../platform/errors.js';
import { type AreaGeometry, type BBox, bboxAround, bboxesOverlap, distanceMetres, distanceToGeometry } from '../estate/geo.js';
import { residentsErrors } from './residents.errors.js';
import type { Audience } from './residents.schema.js';
import { type ResidentsEstate, UUID } from './subscriptions.service.js';
import type { RadiusRow, SubscriptionsRepository } from './subscriptions.repository.js';
import type { Topics } from './topics.service.js';

export const AUDIENCE_PAGE = 1000;
/** Rows fetched from one index range at first, growing fourfold per fetch up to the most. */
const FIRST_FETCH = 250;
const MOST_FETCH = 8000;
const RADIUS_PAGE = 5000;
/** Ids per IN list when counting; above this many areas and sites, counting walks the audience instead. */
const IN_CHUNK = 500;
const MOST_KEYS = 5000;

interface Area {
  id: string;
  bbox: BBox;
  geometry: AreaGeometry;
}

interface Point {
  lat: number;
  lon: number;
}

/** What a message's audience comes to: the index ranges to merge and the radius matches, worked out once. */
interface Plan {
  topic: string;
  /** areas whose home and area subscribers match */
  areaIds: string[];
  /** subscribed sites that match: named, or lying in one of the areas */
  siteIds: string[];
  /** residents whose radius reaches an area or a site, sorted, each once */
  radius: string[];
}

type Fetch = (after: string | null, limit: number) => Promise<string[]>;

/**
 * The residents a message on a topic goes to in some areas or at some sites. Home, area and site
 * subscribers come from index ranges in resident order (one per area, one per subscribed site),
 * merged a page at a time; radius subscribers, fewer, are matched in memory against the areas'
 * shapes and the sites' points. Nothing else is excluded here: opt-outs, quiet hours and channels
 * are messaging's.
 */
export class AudienceFinder {
  constructor(
    private readonly repo: SubscriptionsRepository,
    private readonly estate: ResidentsEstate,
    private readonly topics: Topics,
  ) {}

  async *ids(audience: Audience, pageSize = AUDIENCE_PAGE): AsyncGenerator<string[]> {
    yield* this.pages(await this.plan(audience), Math.max(1, Math.floor(pageSize)));
  }

  async count(audience: Audience): Promise<number> {
    const plan = await this.plan(audience);
    const { topic, areaIds, siteIds, radius } = plan;
    if (areaIds.length + siteIds.length > MOST_KEYS) {
      let n = 0;
      for await (const page of this.pages(plan, MOST_FETCH)) n += page.length;
      return n;
    }
    if (!areaIds.length && !siteIds.length) return radius.length;
    let n = (await this.repo.countMatching(topic, areaIds, siteIds)) + radius.length;
    for (let i = 0; i < radius.length; i += IN_CHUNK) n -= (await this.repo.matchingAmong(topic, areaIds, siteIds, radius.slice(i, i + IN_CHUNK))).length;
    return n;
  }

  private pages(plan: Plan, pageSize: number): AsyncGenerator<string[]> {
    const ranges: Fetch[] = [
      ...plan.areaIds.map(
        (id): Fetch =>
          (after, limit) =>
            this.repo.areaPage(plan.topic, id, after, limit),
      ),
      ...plan.siteIds.map(
        (id): Fetch =>
          (after, limit) =>
            this.repo.sitePage(plan.topic, id, after, limit),
      ),
    ];
    return mergeSorted(ranges, plan.radius, pageSize);
  }

  private async plan(audience: Audience): Promise<Plan> {
    const { topic, areaIds, siteIds } = checkAudience(audience);
    await this.topics.get(topic);
    const areaSet = new Set(areaIds);
    const named = new Set(siteIds);
    // Sites in the areas need every subscribed site; named sites alone need only theirs.
    const subscribed = await this.repo.subscribedSites(topic, areaIds.length ? undefined : siteIds);
    const inAreas = areaIds.length ? (await this.sites(subscribed)).filter((s) => s.areaId && areaSet.has(s.areaId)).map((s) => s.id) : [];
    const matched = [...new Set([...subscribed.filter((id) => named.has(id)), ...inAreas])].sort();
    const areas = (await this.estate.areas.geometries()).filter((a) => areaSet.has(a.view.id)).map((a) => ({ id: a.view.id, bbox: a.view.bbox, geometry: a.geometry }));
    const points = (await this.sites(siteIds)).flatMap((s) => (s.lat !== null && s.lon !== null ? [{ lat: s.lat, lon: s.lon }] : []));
    return { topic, areaIds, siteIds: matched, radius: await this.radiusMatches(topic, areas, points) };
  }

  private async sites(ids: string[]) {
    const out = [];
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const chunk = ids.slice(i, i + IN_CHUNK);
      out.push(...(await this.estate.listSites({ ids: chunk, limit: chunk.length })));
    }
    return out;
  }

  /** Residents with a radius subscription to the topic whose circle reaches one of the areas or one of the sites. */
  private async radiusMatches(topic: string, areas: Area[], points: Point[]): Promise<string[]> {
    if (!areas.length && !points.length) return [];
    const areaIds = new Set(areas.map((a) => a.id));
    const found = new Set<string>();
    let after: string | null = null;
    for (;;) {
      const rows: RadiusRow[] = await this.repo.radiusPage(topic, after, RADIUS_PAGE);
      for (const r of rows) if (!found.has(r.resident_id) && reaches(r, areaIds, areas, points)) found.add(r.resident_id);
      if (rows.length < RADIUS_PAGE) break;
      after = rows[rows.length - 1].id;
    }
    return [...found].sort();
  }
}

function reaches(r: RadiusRow, areaIds: Set<string>, areas: Area[], points: Point[]): boolean {
  if (r.latitude === null || r.longitude === null) return false;
  if (r.area_id && areaIds.has(r.area_id)) return true;
  const { latitude: lat, longitude: lon, radius_m: metres } = r;
  const box = bboxAround(lat, lon, metres);
  for (const a of areas) if (bboxesOverlap(box, a.bbox) && distanceToGeometry(lat, lon, a.geometry) <= metres) return true;
  for (const p of points) if (p.lon >= box[0] && p.lon <= box[2] && p.lat >= box[1] && p.lat <= box[3] && distanceMetres(lat, lon, p.lat, p.lon) <= metres) return true;
  return false;
}

/** The audience with its ids lower-cased and each once; refused when it names nothing or names something that is not an id. */
function checkAudience(audience: Audience): { topic: string; areaIds: string[]; siteIds: string[] } {
  const errors: FieldError[] = [];
  const ids = (field: 'areaIds' | 'siteIds') => {
    const list = [...new Set((audience[field] ?? []).map((id) => String(id).toLowerCase()))];
    if (list.some((id) => !UUID.test(id))) errors.push({ field, message: `Give ${field} as UUIDs` });
    return list;
  };
  const areaIds = ids('areaIds');
  const siteIds = ids('siteIds');
  if (errors.length) throw residentsErrors.AUDIENCE_INVALID(undefined, errors);
  if (!areaIds.length && !siteIds.length) throw residentsErrors.AUDIENCE_EMPTY();
  return { topic: audience.topic, areaIds, siteIds };
}

interface Range {
  fetch: Fetch;
  rows: string[];
  at: number;
  last: string | null;
  done: boolean;
  size: number;
}

/**
 * Merges ranges of ids, each sorted, with a sorted list, into pages of ids each once, in order.
 * Every round refills the ranges it has used up; the smallest last id among those not finished
 * bounds what is final, since no range can later give an id below its own last.
 */
export async function* mergeSorted(fetches: Fetch[], extra: string[], pageSize: number): AsyncGenerator<string[]> {
  const ranges: Range[] = fetches.map((fetch) => ({ fetch, rows: [], at: 0, last: null, done: false, size: FIRST_FETCH }));
  let extraAt = 0;
  let pending: string[] = [];
  for (;;) {
    for (const r of ranges) if (!r.done && r.at >= r.rows.length) await refill(r);
    // null: every range is finished, so everything left is final.
    let bound: string | null = null;
    for (const r of ranges) if (!r.done && (bound === null || (r.last as string) < bound)) bound = r.last;
    const round: string[] = [];
    for (const r of ranges) while (r.at < r.rows.length && (bound === null || r.rows[r.at] <= bound)) round.push(r.rows[r.at++]);
    while (extraAt < extra.length && (bound === null || extra[extraAt] <= bound)) round.push(extra[extraAt++]);
    round.sort();
    for (let i = 0; i < round.length; i++) if (i === 0 || round[i] !== round[i - 1]) pending.push(round[i]);
    let from = 0;
    for (; pending.length - from >= pageSize; from += pageSize) yield pending.slice(from, from + pageSize);
    pending = pending.slice(from);
    if (bound === null) {
      if (pending.length) yield pending;
      return;
    }
  }
}

async function refill(r: Range): Promise<void> {
  r.rows = await r.fetch(r.last, r.size);
  r.at = 0;
  if (r.rows.length) r.last = r.rows[r.rows.length - 1];
  if (r.rows.length < r.size) r.done = true;
  r.size = Math.min(r.size * 4, MOST_FETCH);
}
