import { CsvError, csvRows, isBlankRow } from '../../platform/csv.js';
import type { ImportError } from './estate.schema.js';
import { postcodeKey } from './mapping.js';

/**
 * Reading a postcode list as councils hold one: the ONS Postcode Directory (pcds or pcd, lat,
 * long, and dozens of other columns), or any CSV with a postcode, a latitude and a longitude
 * column. Column names are found whatever their case; other columns are ignored. Every row is
 * checked before anything is written. Row numbers count the header as row 1, as a spreadsheet
 * shows them.
 */

/** Header names for each column, the preferred first (the ONSPD has pcd, pcd2 and pcds: pcds is written as people write it). */
const POSTCODE_NAMES = ['pcds', 'pcd', 'pcd2', 'postcode', 'post_code'];
const LAT_NAMES = ['lat', 'latitude'];
const LON_NAMES = ['long', 'lon', 'longitude', 'lng'];
/** Grid references without latitude and longitude (Code-Point Open, the ONSPD's oseast1m/osnrth1m). */
const GRID_NAMES = ['eastings', 'easting', 'northings', 'northing', 'oseast1m', 'osnrth1m'];
export const MAX_POSTCODE_ROWS = 500_000;
/** Great Britain, Northern Ireland, the Isle of Man and the Channel Islands. */
export const UK_BOX = { minLat: 49, maxLat: 61, minLon: -9, maxLon: 2.5 };
/** The ONSPD's latitude for a postcode it has no grid reference for (a PO box, say). */
const NO_GRID_REFERENCE = 99.999999;
const NUMBER = /^-?\d+(\.\d+)?$/;

export interface PostcodePoint {
  /** as postcodeKey writes it: SW1A 1AA */
  postcode: string;
  lat: number;
  lon: number;
}

export interface PostcodeFile {
  points: PostcodePoint[];
  /** rows the ONSPD gives no grid reference, left out */
  skipped: number;
  errors: ImportError[];
}

const columnName = (h: string) =>
  h
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
const inRange = (v: number, min: number, max: number) => v >= min && v <= max;

/** Reads and checks a whole file: every postcode with its centre, or every problem found (repeats within the file included). */
export function readPostcodes(text: string): PostcodeFile {
  const none = (errors: ImportError[]): PostcodeFile => ({ points: [], skipped: 0, errors });
  const rows = csvRows(text);
  let header: string[];
  try {
    const first = rows.next();
    if (first.done || isBlankRow(first.value)) return none([{ row: 1, field: 'header', message: 'The first row must name the columns: a postcode (pcds, pcd or postcode), lat and long' }]);
    header = first.value.map(columnName);
  } catch (err) {
    if (err instanceof CsvError) return none([{ row: err.row, field: 'file', message: `The file is not valid CSV: ${err.message}` }]);
    throw err;
  }
  const find = (names: string[]) => names.map((n) => header.indexOf(n)).find((i) => i >= 0) ?? -1;
  const at = { postcode: find(POSTCODE_NAMES), lat: find(LAT_NAMES), lon: find(LON_NAMES) };
  const headerErrors: ImportError[] = [];
  if (at.postcode < 0) headerErrors.push({ row: 1, field: 'postcode', message: 'The file needs a column of postcodes, named pcds, pcd or postcode' });
  if ((at.lat < 0 || at.lon < 0) && header.some((h) => GRID_NAMES.includes(h)))
    headerErrors.push({
      row: 1,
      field: 'lat',
      message: 'The file gives eastings and northings but not latitude and longitude. Use a file with lat and long columns, such as the ONS Postcode Directory',
    });
  else {
    if (at.lat < 0) headerErrors.push({ row: 1, field: 'lat', message: 'The file needs a latitude column, named lat or latitude' });
    if (at.lon < 0) headerErrors.push({ row: 1, field: 'long', message: 'The file needs a longitude column, named long, lon or longitude' });
  }
  if (headerErrors.length) return none(headerErrors);

  const name = { postcode: header[at.postcode], lat: header[at.lat], lon: header[at.lon] };
  const points: PostcodePoint[] = [];
  const errors: ImportError[] = [];
  const firstRow = new Map<string, number>();
  let skipped = 0;
  let row = 1;
  try {
    for (const cells of rows) {
      row++;
      if (row - 1 > MAX_POSTCODE_ROWS) return none([{ row, field: 'file', message: `A file may hold at most ${MAX_POSTCODE_ROWS.toLocaleString('en-GB')} postcodes; split it into several` }]);
      if (isBlankRow(cells)) continue;
      if (cells.length !== header.length) {
        errors.push({ row, field: 'row', message: `This row has ${cells.length} fields; the header has ${header.length}` });
        continue;
      }
      const checked = checkRow(row, cells[at.postcode].trim(), cells[at.lat].trim(), cells[at.lon].trim(), name);
      if (checked === 'skip') skipped++;
      else if ('errors' in checked) errors.push(...checked.errors);
      else {
        const seen = firstRow.get(checked.postcode);
        if (seen) errors.push({ row, field: name.postcode, message: `${checked.postcode} is also on row ${seen}: each postcode may appear once` });
        else {
          firstRow.set(checked.postcode, row);
          points.push(checked);
        }
      }
    }
  } catch (err) {
    if (err instanceof CsvError) return none([{ row: err.row, field: 'file', message: `The file is not valid CSV: ${err.message}` }]);
    throw err;
  }
  if (errors.length) return none(errors);
  if (!points.length && !skipped) return none([{ row: 2, field: 'file', message: 'The file has a header but no postcodes' }]);
  return { points, skipped, errors: [] };
}

function checkRow(row: number, postcodeText: string, latText: string, lonText: string, name: { postcode: string; lat: string; lon: string }): PostcodePoint | 'skip' | { errors: ImportError[] } {
  const errors: ImportError[] = [];
  const postcode = postcodeKey(postcodeText);
  if (!postcodeText) errors.push({ row, field: name.postcode, message: 'Enter the postcode' });
  else if (!postcode) errors.push({ row, field: name.postcode, message: `${postcodeText} is not a UK postcode: enter one like SW1A 1AA` });
  const lat = NUMBER.test(latText) ? Number(latText) : Number.NaN;
  const lon = NUMBER.test(lonText) ? Number(lonText) : Number.NaN;
  if (lat === NO_GRID_REFERENCE) return errors.length ? { errors } : 'skip';
  if (Number.isNaN(lat)) errors.push({ row, field: name.lat, message: 'Enter the latitude in decimal degrees, like 51.501009' });
  if (Number.isNaN(lon)) errors.push({ row, field: name.lon, message: 'Enter the longitude in decimal degrees, like -0.141588' });
  if (!Number.isNaN(lat) && !Number.isNaN(lon)) {
    const latOk = inRange(lat, UK_BOX.minLat, UK_BOX.maxLat);
    const lonOk = inRange(lon, UK_BOX.minLon, UK_BOX.maxLon);
    if (!latOk && !lonOk && inRange(lon, UK_BOX.minLat, UK_BOX.maxLat) && inRange(lat, UK_BOX.minLon, UK_BOX.maxLon))
      errors.push({
        row,
        field: name.lat,
        message: `The latitude and longitude look swapped: the ${name.lat} column is north to south (${UK_BOX.minLat} to ${UK_BOX.maxLat} in the UK), ${name.lon} east to west`,
      });
    else {
      if (!latOk) errors.push({ row, field: name.lat, message: `Enter a latitude in the UK, from ${UK_BOX.minLat} to ${UK_BOX.maxLat}` });
      if (!lonOk) errors.push({ row, field: name.lon, message: `Enter a longitude in the UK, from ${UK_BOX.minLon} to ${UK_BOX.maxLon}` });
    }
  }
  if (errors.length) return { errors };
  return { postcode: postcode as string, lat, lon };
}
