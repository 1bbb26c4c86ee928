import type { EstateService, PostcodeImport } from '../src/modules/estate/index.js';
import type { Actor } from '../src/platform/auth/actor.js';
import { toCsv } from '../src/platform/csv.js';

/**
 * Wealdmoor's postcode list: for each postcode its sites and residents' homes have, the centre of
 * their points (as the ONS's centre of a postcode is that of its addresses), loaded through the
 * estate's import as the ONS Postcode Directory's columns (pcds, lat, long). The portal then
 * places a report given only a postcode. Every postcode here is invented.
 */
export interface PostcodePlace {
  postcode: string;
  lat: number;
  lon: number;
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/** One centre per postcode: the mean of its places, to six decimal places (about 10 cm). */
export function postcodeCentres(places: Iterable<PostcodePlace>): PostcodePlace[] {
  const sums = new Map<string, { lat: number; lon: number; n: number }>();
  for (const p of places) {
    const sum = sums.get(p.postcode) ?? { lat: 0, lon: 0, n: 0 };
    sum.lat += p.lat;
    sum.lon += p.lon;
    sum.n++;
    sums.set(p.postcode, sum);
  }
  return [...sums].map(([postcode, s]) => ({ postcode, lat: round6(s.lat / s.n), lon: round6(s.lon / s.n) }));
}

/** The centres as a council's ONSPD extract has them (its other columns left out). */
export function postcodesCsv(centres: PostcodePlace[]): string {
  return toCsv(
    ['pcds', 'lat', 'long'],
    centres.map((c) => [c.postcode, c.lat, c.lon]),
  );
}

/** Loads the list through the estate's own import, as a council would load theirs. */
export async function loadPostcodes(estate: Pick<EstateService, 'importPostcodes'>, actor: Actor, places: Iterable<PostcodePlace>): Promise<PostcodeImport> {
  return estate.importPostcodes(actor, postcodesCsv(postcodeCentres(places)));
}
