import type { AreasTable, EstateRepository } from './estate.repository.js';
import type { AreaKind, AreaView } from './estate.schema.js';
import { type AreaGeometry, type BBox, inBBox, pointInGeometry } from './geo.js';

export interface LoadedArea {
  view: AreaView;
  geometry: AreaGeometry;
}

const RELOAD_MS = 60_000;

/** The id of the area a point lies in, or null; synchronous, for placing many points. */
export type AreaFinder = (lat: number | null, lon: number | null) => string | null;

/**
 * Areas held in memory (a county has tens to hundreds), so placing a point costs a
 * bounding-box check per area and a ray cast for the few whose box holds it.
 */
export class AreaIndex {
  private loaded?: Promise<LoadedArea[]>;
  private loadedAt = 0;

  constructor(private readonly repo: EstateRepository) {}

  invalidate(): void {
    this.loaded = undefined;
  }

  private all(): Promise<LoadedArea[]> {
    if (!this.loaded || Date.now() - this.loadedAt > RELOAD_MS) {
      this.loadedAt = Date.now();
      this.loaded = this.repo.listAreas().then((rows) => sortAreas(rows.map(toLoaded)));
      this.loaded.catch(() => this.invalidate());
    }
    return this.loaded;
  }

  async list(): Promise<AreaView[]> {
    return (await this.all()).map((a) => a.view);
  }

  async geometries(): Promise<{ view: AreaView; geometry: AreaGeometry }[]> {
    return this.all();
  }

  async find(lat: number, lon: number): Promise<AreaView | undefined> {
    return findIn(await this.all(), lat, lon);
  }

  /** A synchronous finder over the areas as they are now, for placing many points. */
  async finder(): Promise<AreaFinder> {
    return finderOver(await this.all());
  }
}

export function finderOver(areas: LoadedArea[]): AreaFinder {
  return (lat, lon) => (lat === null || lon === null ? null : (findIn(areas, lat, lon)?.id ?? null));
}

export function toLoaded(r: AreasTable): LoadedArea {
  const bbox: BBox = [Number(r.min_lon), Number(r.min_lat), Number(r.max_lon), Number(r.max_lat)];
  return { view: { id: r.id, name: r.name, code: r.code, kind: r.kind as AreaKind, bbox }, geometry: r.geometry_json as AreaGeometry };
}

/** Wards first, then neighbourhoods; by name within each. */
export function sortAreas(areas: LoadedArea[]): LoadedArea[] {
  const rank = (k: string) => (k === 'ward' ? 0 : 1);
  return areas.sort((a, b) => rank(a.view.kind) - rank(b.view.kind) || a.view.name.localeCompare(b.view.name));
}

function findIn(areas: LoadedArea[], lat: number, lon: number): AreaView | undefined {
  for (const a of areas) if (inBBox(lon, lat, a.view.bbox) && pointInGeometry(lon, lat, a.geometry)) return a.view;
  return undefined;
}
