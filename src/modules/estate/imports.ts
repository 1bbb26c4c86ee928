import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { CsvError, isBlankRow, parseCsv, toCsv } from '../../platform/csv.js';
import {
  CONNECTIVITY_STATUSES,
  CONNECTIVITY_TECHNOLOGIES,
  ConnectivityInput,
  DeviceCreate,
  type DeviceView,
  type ImportError,
  SITE_TYPE_NAMES,
  SITE_TYPES,
  SiteCreate,
  type SiteView,
  TECHNOLOGY_NAMES,
} from './estate.schema.js';

/**
 * CSV import and export of sites and devices: the column layout, and checking every
 * row before anything is written. Row numbers count the header as row 1, as a
 * spreadsheet shows them.
 */
export const SITE_COLUMNS = [
  'id',
  'type',
  'name',
  'address',
  'postcode',
  'uprn',
  'lat',
  'lon',
  'tags',
  'owner_team',
  'technology',
  'connectivity_status',
  'down_mbps',
  'up_mbps',
  'provider',
  'circuit_ref',
  'planned_at',
  'ordered_at',
  'installed_at',
  'live_at',
] as const;
/** Columns an export adds that an import accepts and ignores, so an export can be imported again. */
const SITE_EXPORT_ONLY = ['area', 'area_id', 'created_at', 'updated_at'];
export const DEVICE_COLUMNS = ['id', 'name', 'serial', 'profile', 'site_id', 'external_id', 'lat', 'lon', 'firmware'] as const;
const DEVICE_EXPORT_ONLY = ['site_name', 'area_id', 'status', 'battery_percent', 'last_seen_at', 'created_at', 'decommissioned_at'];
export const MAX_IMPORT_ROWS = 50_000;
/** A file with more problems than this is reported only up to it. */
export const MAX_REPORTED_ERRORS = 500;

const siteCheck = TypeCompiler.Compile(SiteCreate);
const deviceCheck = TypeCompiler.Compile(DeviceCreate);
const connectivityCheck = TypeCompiler.Compile(ConnectivityInput);

const MESSAGES: Record<string, string> = {
  id: 'Enter an id in UUID form, or leave it empty',
  type: `Enter one of: ${SITE_TYPES.join(', ')}`,
  tags: 'Separate tags with semicolons; each at most 50 characters, no repeats',
  technology: `Enter one of: ${CONNECTIVITY_TECHNOLOGIES.join(', ')}`,
  connectivity_status: `Enter one of: ${CONNECTIVITY_STATUSES.join(', ')}`,
  down_mbps: 'Enter a speed in Mbit/s, like 900',
  up_mbps: 'Enter a speed in Mbit/s, like 110',
  provider: 'Enter at most 100 characters',
  circuit_ref: 'Enter at most 100 characters',
  owner_team: 'Enter at most 100 characters',
  planned_at: 'Enter a date as YYYY-MM-DD, like 2026-04-01',
  ordered_at: 'Enter a date as YYYY-MM-DD, like 2026-04-01',
  installed_at: 'Enter a date as YYYY-MM-DD, like 2026-04-01',
  live_at: 'Enter a date as YYYY-MM-DD, like 2026-04-01',
  site_id: 'Enter the id of a site, or leave it empty',
  firmware: 'Enter at most 50 characters',
};

export interface Table {
  header: string[];
  /** [row number in the file, cells] for every non-blank data row */
  rows: [number, Record<string, string>][];
}

/** Parses the file and checks its header; throws a list of errors when it cannot be read at all. */
export function readTable(text: string, columns: readonly string[], exportOnly: string[], required: string[]): Table | ImportError[] {
  let raw: string[][];
  try {
    raw = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvError) return [{ row: err.row, field: 'file', message: `The file is not valid CSV: ${err.message}` }];
    throw err;
  }
  if (!raw.length || isBlankRow(raw[0])) return [{ row: 1, field: 'header', message: `The first row must name the columns: ${columns.join(', ')}` }];
  const header = raw[0].map((h) => h.trim().toLowerCase());
  const errors: ImportError[] = [];
  for (const h of header)
    if (!columns.includes(h) && !exportOnly.includes(h))
      errors.push({ row: 1, field: h || 'header', message: `${h || 'An empty column name'} is not a column Weft knows. Use: ${columns.join(', ')}` });
  for (const r of required) if (!header.includes(r)) errors.push({ row: 1, field: r, message: `The ${r} column is missing` });
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) errors.push({ row: 1, field: h, message: `The ${h} column appears twice` });
    seen.add(h);
  }
  if (raw.length - 1 > MAX_IMPORT_ROWS)
    errors.push({ row: MAX_IMPORT_ROWS + 2, field: 'file', message: `A file may hold at most ${MAX_IMPORT_ROWS.toLocaleString('en-GB')} rows; split it into several` });
  if (errors.length) return errors;
  const rows: Table['rows'] = [];
  raw.slice(1).forEach((cells, i) => {
    if (isBlankRow(cells)) return;
    const row = i + 2;
    if (cells.length !== header.length) {
      errors.push({ row, field: 'row', message: `This row has ${cells.length} fields; the header has ${header.length}` });
      return;
    }
    const record: Record<string, string> = {};
    for (let j = 0; j < header.length; j++) record[header[j]] = cells[j].trim();
    rows.push([row, record]);
  });
  if (errors.length) return errors;
  if (!rows.length) return [{ row: 2, field: 'file', message: 'The file has a header but no rows' }];
  return { header, rows };
}

const text = (v: string | undefined) => (v ? v : undefined);
const nullable = (v: string | undefined) => (v ? v : null);
/** Numbers stay strings when they do not parse, so the schema reports them. */
const num = (v: string | undefined) => (!v ? null : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v);

function fromName<T extends string>(value: string | undefined, keys: readonly T[], names: Record<T, string>): string | undefined {
  if (!value) return undefined;
  const v = value.toLowerCase().replace(/[’']/g, '');
  const key = keys.find((k) => k === v || k.replace(/_/g, ' ') === v || names[k].toLowerCase().replace(/[’']/g, '') === v);
  return key ?? value;
}

/** One CSV row as the SiteCreate the API would take. */
export function siteInput(c: Record<string, string>): Record<string, unknown> {
  const input: Record<string, unknown> = {
    type: fromName(c.type, SITE_TYPES, SITE_TYPE_NAMES),
    name: c.name,
    address: c.address,
    postcode: nullable(c.postcode),
    uprn: nullable(c.uprn),
    lat: num(c.lat),
    lon: num(c.lon),
    tags: c.tags
      ? c.tags
          .split(';')
          .map((t) => t.trim())
          .filter(Boolean)
      : [],
    ownerTeam: nullable(c.owner_team),
  };
  if (c.id) input.id = c.id;
  if (c.technology || c.connectivity_status) {
    input.connectivity = {
      technology: fromName(c.technology, CONNECTIVITY_TECHNOLOGIES, TECHNOLOGY_NAMES),
      status: text(c.connectivity_status?.toLowerCase()),
      downMbps: num(c.down_mbps),
      upMbps: num(c.up_mbps),
      provider: nullable(c.provider),
      circuitRef: nullable(c.circuit_ref),
      plannedAt: nullable(c.planned_at),
      orderedAt: nullable(c.ordered_at),
      installedAt: nullable(c.installed_at),
      liveAt: nullable(c.live_at),
    };
  }
  return input;
}

export function deviceInput(c: Record<string, string>): Record<string, unknown> {
  const input: Record<string, unknown> = {
    name: c.name,
    serial: c.serial,
    profile: c.profile,
    siteId: nullable(c.site_id?.toLowerCase()),
    externalId: nullable(c.external_id),
    lat: num(c.lat),
    lon: num(c.lon),
    firmware: nullable(c.firmware),
  };
  if (c.id) input.id = c.id.toLowerCase();
  return input;
}

const SITE_FIELD_COLUMNS: Record<string, string> = {
  ownerTeam: 'owner_team',
  'connectivity/technology': 'technology',
  'connectivity/status': 'connectivity_status',
  'connectivity/downMbps': 'down_mbps',
  'connectivity/upMbps': 'up_mbps',
  'connectivity/provider': 'provider',
  'connectivity/circuitRef': 'circuit_ref',
  'connectivity/plannedAt': 'planned_at',
  'connectivity/orderedAt': 'ordered_at',
  'connectivity/installedAt': 'installed_at',
  'connectivity/liveAt': 'live_at',
};
const DEVICE_FIELD_COLUMNS: Record<string, string> = { siteId: 'site_id', externalId: 'external_id' };

/** Schema errors of one row, one per column, in plain words. */
export function rowErrors(kind: 'sites' | 'devices', row: number, input: Record<string, unknown>): ImportError[] {
  const errors = schemaErrors(kind, row, input);
  const missing = (v: unknown) => v === null || v === undefined;
  if (missing(input.lat) !== missing(input.lon) && !errors.some((e) => e.field === 'lat' || e.field === 'lon')) {
    errors.push({ row, field: missing(input.lat) ? 'lat' : 'lon', message: 'Give both a latitude and a longitude, or neither' });
  }
  return errors;
}

function schemaErrors(kind: 'sites' | 'devices', row: number, input: Record<string, unknown>): ImportError[] {
  if (kind === 'devices') return checkWith(deviceCheck, DeviceCreate, DEVICE_FIELD_COLUMNS, row, input, '');
  // Connectivity is checked on its own, so its errors name its columns rather than "not this or null".
  const { connectivity, ...site } = input;
  const errors = checkWith(siteCheck, SiteCreate, SITE_FIELD_COLUMNS, row, site, '');
  if (connectivity) errors.push(...checkWith(connectivityCheck, ConnectivityInput, SITE_FIELD_COLUMNS, row, connectivity as Record<string, unknown>, 'connectivity/'));
  return errors;
}

function checkWith(check: TypeCheck<TSchema>, schema: TSchema, columns: Record<string, string>, row: number, input: Record<string, unknown>, prefix: string): ImportError[] {
  if (check.Check(input)) return [];
  const out: ImportError[] = [];
  const seen = new Set<string>();
  for (const e of check.Errors(input)) {
    const path = prefix + e.path.replace(/^\//, '');
    const key = path.startsWith('connectivity/') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0];
    const field = columns[key] ?? (key || 'row');
    if (seen.has(field)) continue;
    seen.add(field);
    const own = (schema.properties as Record<string, { errorMessage?: string }>)[key.slice(prefix.length)]?.errorMessage;
    out.push({ row, field, message: MESSAGES[field] ?? own ?? e.message });
  }
  return out;
}

/** Errors as the API reports them: field `rows/N/column`, message "Row N: column: what to change". */
export function asFieldErrors(errors: ImportError[]) {
  return errors.map((e) => ({ field: `rows/${e.row}/${e.field}`, message: `Row ${e.row}: ${e.field}: ${e.message}.`.replace(/\.\.$/, '.') }));
}

export function readSitesTable(text: string) {
  return readTable(text, SITE_COLUMNS, SITE_EXPORT_ONLY, ['type', 'name', 'address']);
}

export function readDevicesTable(text: string) {
  return readTable(text, DEVICE_COLUMNS, DEVICE_EXPORT_ONLY, ['name', 'serial', 'profile']);
}

/** What a site row of the import needs: a SiteView, or the demo's plan of one. */
export interface SiteImportSource {
  id: string;
  type: string;
  name: string;
  address: string | null;
  postcode: string | null;
  uprn?: string | null;
  lat: number | null;
  lon: number | null;
  tags: string[];
  ownerTeam?: string | null;
  connectivity?: {
    technology: string;
    status: string;
    downMbps?: number | null;
    upMbps?: number | null;
    provider?: string | null;
    circuitRef?: string | null;
    plannedAt?: unknown;
    orderedAt?: unknown;
    installedAt?: unknown;
    liveAt?: unknown;
  } | null;
}

/** One site as the import's columns (SITE_COLUMNS), in order. */
export function siteImportRow(s: SiteImportSource): unknown[] {
  const c = s.connectivity;
  return [
    s.id,
    s.type,
    s.name,
    s.address,
    s.postcode,
    s.uprn,
    s.lat,
    s.lon,
    s.tags.join(';'),
    s.ownerTeam,
    c?.technology,
    c?.status,
    c?.downMbps,
    c?.upMbps,
    c?.provider,
    c?.circuitRef,
    c?.plannedAt,
    c?.orderedAt,
    c?.installedAt,
    c?.liveAt,
  ];
}

export function sitesCsv(sites: SiteView[]): string {
  const header = [...SITE_COLUMNS, 'area', 'area_id', 'created_at', 'updated_at'];
  return toCsv(
    header,
    sites.map((s) => [...siteImportRow(s), s.areaName, s.areaId, s.createdAt, s.updatedAt]),
  );
}

export function devicesCsv(devices: DeviceView[]): string {
  const header = [...DEVICE_COLUMNS, ...DEVICE_EXPORT_ONLY];
  return toCsv(
    header,
    devices.map((d) => [
      d.id,
      d.name,
      d.serial,
      d.profileKey,
      d.siteId,
      d.externalId,
      d.ownPosition ? d.lat : null,
      d.ownPosition ? d.lon : null,
      d.firmware,
      d.siteName,
      d.areaId,
      d.status,
      d.batteryPercent,
      d.lastSeenAt,
      d.createdAt,
      d.decommissionedAt,
    ]),
  );
}

export function credentialsCsv(rows: { id: string; name: string; serial: string; token: string; mqttPassword: string }[]): string {
  return toCsv(
    ['id', 'name', 'serial', 'token', 'mqtt_username', 'mqtt_password'],
    rows.map((r) => [r.id, r.name, r.serial, r.token, r.id, r.mqttPassword]),
  );
}
