import { FormatRegistry, type Static, Type } from '@sinclair/typebox';

/**
 * The estate's shared vocabulary. The types near the top are the contract the
 * telemetry and context modules code against (through index.ts): change them only
 * together with those modules.
 */

export const SITE_TYPES = ['school', 'library', 'council_building', 'nhs_site', 'care_home', 'park', 'car_park', 'street_hub', 'home'] as const;
export type SiteType = (typeof SITE_TYPES)[number];
/** A resident's home (telecare) is personal data: only holders of homes:read see it or its devices. */
export const PERSONAL_SITE_TYPES: readonly SiteType[] = ['home'];

export const CONNECTIVITY_TECHNOLOGIES = ['full_fibre', 'fttc', 'copper', '4g', '5g', 'satellite', 'none'] as const;
export const CONNECTIVITY_STATUSES = ['planned', 'ordered', 'installed', 'live', 'fault'] as const;
export const DEVICE_STATUSES = ['active', 'offline', 'decommissioned'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

const literals = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));

/** measure: a quantity (NO2 µg/m³); state: 0/1 or a level (bay occupied); event: something happened (fall), value 1 */
export const MetricSpecSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$', description: 'metric name, e.g. no2, pm2_5, occupied' }),
    unit: Type.String({ maxLength: 20, description: 'unit, e.g. µg/m³, °C, %, or empty' }),
    kind: literals(['measure', 'state', 'event'] as const),
    min: Type.Optional(Type.Number({ description: 'smallest valid value; below it a reading is quarantined' })),
    max: Type.Optional(Type.Number({ description: 'largest valid value; above it a reading is quarantined' })),
  },
  { additionalProperties: false },
);
export type MetricSpec = Static<typeof MetricSpecSchema>;

/**
 * How a device's raw payload becomes readings. Declarative only: Weft never runs
 * code uploaded by a user.
 *  - json: the payload is an object; `fields` maps metric name → dotted path in it
 *    (without `fields`, keys that are metric names of the profile are taken as they are)
 *  - bytes: a binary payload (LoRaWAN frm_payload), each field read at a byte offset
 *  - builtin: a decoder shipped with Weft, by name
 */
export const ByteFieldSchema = Type.Object(
  {
    metric: Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$' }),
    offset: Type.Integer({ minimum: 0, maximum: 242 }),
    format: literals(['u8', 'i8', 'u16be', 'i16be', 'u16le', 'i16le', 'u32be', 'i32be', 'u32le', 'i32le'] as const),
    scale: Type.Optional(Type.Number({ description: 'multiply the raw integer by this (e.g. 0.1)' })),
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 7, description: 'read one bit of a u8 as 0 or 1' })),
  },
  { additionalProperties: false },
);
export const DecoderSpecSchema = Type.Union([
  Type.Object({ type: Type.Literal('json'), fields: Type.Optional(Type.Record(Type.String(), Type.String())) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('bytes'), fields: Type.Array(ByteFieldSchema, { minItems: 1, maxItems: 32 }) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('builtin'), name: Type.String({ pattern: '^[a-z0-9-]{1,40}$' }) }, { additionalProperties: false }),
]);
export type DecoderSpec = Static<typeof DecoderSpecSchema>;

/** What a kind of device measures, how often it reports, how its payload is decoded, how long raw data is kept. */
export interface Profile {
  id: string;
  /** stable slug, e.g. air-quality, parking-bay, telecare-hub */
  key: string;
  name: string;
  description: string;
  metrics: MetricSpec[];
  /** how often a device of this kind should report, in seconds */
  reportIntervalSeconds: number;
  /** a device is offline when silent for reportIntervalSeconds × offlineTolerance */
  offlineTolerance: number;
  /** a battery reading at or below this percentage raises device.battery_low */
  batteryLowPercent: number;
  /** raw readings older than this are deleted by the retention job; rollups are kept */
  rawRetentionDays: number;
  decoder: DecoderSpec;
  isBuiltIn: boolean;
}

/** What an ingest path knows about an authenticated device: enough to check and store its readings. */
export interface DeviceAuth {
  deviceId: string;
  name: string;
  profile: Profile;
  siteId: string | null;
  areaId: string | null;
  /** the device is in a resident's home: its data is personal */
  isPersonal: boolean;
}

// ---- Everything below: the estate module's own API and form schemas, and its views. ----

// TypeBox's own checker (forms, CSV rows) knows no formats until told; this matches ajv-formats.
if (!FormatRegistry.Has('date'))
  FormatRegistry.Set('date', (v) => /^\d{4}-\d\d-\d\d$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) && new Date(`${v}T00:00:00Z`).toISOString().startsWith(v));

export const AREA_KINDS = ['ward', 'neighbourhood'] as const;
export type AreaKind = (typeof AREA_KINDS)[number];
export type ConnectivityTechnology = (typeof CONNECTIVITY_TECHNOLOGIES)[number];
export type ConnectivityStatus = (typeof CONNECTIVITY_STATUSES)[number];

export const SITE_TYPE_NAMES: Record<SiteType, string> = {
  school: 'School',
  library: 'Library',
  council_building: 'Council building',
  nhs_site: 'NHS site',
  care_home: 'Care home',
  park: 'Park',
  car_park: 'Car park',
  street_hub: 'Street hub',
  home: 'Resident’s home (telecare)',
};
export const TECHNOLOGY_NAMES: Record<ConnectivityTechnology, string> = {
  full_fibre: 'Full fibre',
  fttc: 'FTTC',
  copper: 'Copper',
  '4g': '4G',
  '5g': '5G',
  satellite: 'Satellite',
  none: 'None',
};
export const CONNECTIVITY_STATUS_NAMES: Record<ConnectivityStatus, string> = { planned: 'Planned', ordered: 'Ordered', installed: 'Installed', live: 'Live', fault: 'Fault' };

const Nullable = <T extends import('@sinclair/typebox').TSchema>(s: T) => Type.Union([s, Type.Null()]);
const Lat = Type.Number({ minimum: -90, maximum: 90, errorMessage: 'Enter a latitude between -90 and 90, like 51.75' });
const Lon = Type.Number({ minimum: -180, maximum: 180, errorMessage: 'Enter a longitude between -180 and 180, like -1.26' });
const Day = Type.String({ format: 'date', description: 'a date, YYYY-MM-DD' });
const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });
export const POSTCODE_PATTERN = '^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$';
export const EXTERNAL_ID_PATTERN = '^[0-9a-fA-F]{16}$';

export const SiteTypeSchema = literals(SITE_TYPES);
export const TechnologySchema = literals(CONNECTIVITY_TECHNOLOGIES);
export const ConnectivityStatusSchema = literals(CONNECTIVITY_STATUSES);

export const ConnectivityInput = Type.Object(
  {
    technology: TechnologySchema,
    status: ConnectivityStatusSchema,
    downMbps: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 100_000 }))),
    upMbps: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 100_000 }))),
    provider: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
    circuitRef: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
    plannedAt: Type.Optional(Nullable(Day)),
    orderedAt: Type.Optional(Nullable(Day)),
    installedAt: Type.Optional(Nullable(Day)),
    liveAt: Type.Optional(Nullable(Day)),
  },
  { additionalProperties: false },
);
export type ConnectivityInput = Static<typeof ConnectivityInput>;

const siteFields = {
  type: SiteTypeSchema,
  name: Type.String({ minLength: 1, maxLength: 200, errorMessage: 'Enter the site’s name' }),
  address: Type.String({ minLength: 1, maxLength: 500, errorMessage: 'Enter the site’s address' }),
  postcode: Type.Optional(Nullable(Type.String({ pattern: POSTCODE_PATTERN, errorMessage: 'Enter a real postcode, like OX1 1BX' }))),
  uprn: Type.Optional(Nullable(Type.String({ pattern: '^[0-9]{1,12}$', errorMessage: 'Enter a UPRN of up to 12 digits' }))),
  lat: Type.Optional(Nullable(Lat)),
  lon: Type.Optional(Nullable(Lon)),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 30, uniqueItems: true })),
  ownerTeam: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  connectivity: Type.Optional(Nullable(ConnectivityInput)),
};
export const SiteCreate = Type.Object({ ...siteFields, id: Type.Optional(Uuid) }, { additionalProperties: false });
export type SiteCreate = Static<typeof SiteCreate>;
export const SiteUpdate = Type.Partial(Type.Object(siteFields), { additionalProperties: false, minProperties: 1 });
export type SiteUpdate = Static<typeof SiteUpdate>;

export const Connectivity = Type.Object({
  technology: Type.String(),
  status: Type.String(),
  downMbps: Nullable(Type.Number()),
  upMbps: Nullable(Type.Number()),
  provider: Nullable(Type.String()),
  circuitRef: Nullable(Type.String()),
  plannedAt: Nullable(Type.String()),
  orderedAt: Nullable(Type.String()),
  installedAt: Nullable(Type.String()),
  liveAt: Nullable(Type.String()),
  updatedAt: Type.String({ format: 'date-time' }),
});
export interface ConnectivityView {
  technology: ConnectivityTechnology;
  status: ConnectivityStatus;
  downMbps: number | null;
  upMbps: number | null;
  provider: string | null;
  circuitRef: string | null;
  /** dates as YYYY-MM-DD */
  plannedAt: string | null;
  orderedAt: string | null;
  installedAt: string | null;
  liveAt: string | null;
  updatedAt: Date;
}

export const Site = Type.Object({
  id: Type.String(),
  type: Type.String(),
  name: Type.String(),
  address: Type.String(),
  postcode: Nullable(Type.String()),
  uprn: Nullable(Type.String()),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
  areaId: Nullable(Type.String()),
  areaName: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  ownerTeam: Nullable(Type.String()),
  isPersonal: Type.Boolean(),
  connectivity: Nullable(Connectivity),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export interface SiteView {
  id: string;
  type: SiteType;
  name: string;
  address: string;
  postcode: string | null;
  uprn: string | null;
  lat: number | null;
  lon: number | null;
  areaId: string | null;
  areaName: string | null;
  tags: string[];
  ownerTeam: string | null;
  isPersonal: boolean;
  connectivity: ConnectivityView | null;
  createdAt: Date;
  updatedAt: Date;
}

const deviceFields = {
  name: Type.String({ minLength: 1, maxLength: 200, errorMessage: 'Enter the device’s name' }),
  serial: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._:/-]+$', errorMessage: 'Enter the serial number: letters, digits and . _ : / - only' }),
  profile: Type.String({ minLength: 1, maxLength: 60, description: 'profile key or id', errorMessage: 'Choose the kind of device' }),
  siteId: Type.Optional(Nullable(Uuid)),
  externalId: Type.Optional(Nullable(Type.String({ pattern: EXTERNAL_ID_PATTERN, description: 'LoRaWAN DevEUI: 16 hex digits', errorMessage: 'Enter the DevEUI as 16 hexadecimal digits' }))),
  lat: Type.Optional(Nullable(Lat)),
  lon: Type.Optional(Nullable(Lon)),
  firmware: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
};
export const DeviceCreate = Type.Object({ ...deviceFields, id: Type.Optional(Uuid) }, { additionalProperties: false });
export type DeviceCreate = Static<typeof DeviceCreate>;
export const DeviceUpdate = Type.Partial(Type.Object(deviceFields), { additionalProperties: false, minProperties: 1 });
export type DeviceUpdate = Static<typeof DeviceUpdate>;

export const Device = Type.Object({
  id: Type.String(),
  name: Type.String(),
  serial: Type.String(),
  externalId: Nullable(Type.String()),
  profileId: Type.String(),
  profileKey: Type.String(),
  siteId: Nullable(Type.String()),
  siteName: Nullable(Type.String()),
  areaId: Nullable(Type.String()),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
  status: Type.String(),
  batteryPercent: Nullable(Type.Number()),
  firmware: Nullable(Type.String()),
  lastSeenAt: Nullable(Type.String({ format: 'date-time' })),
  isPersonal: Type.Boolean(),
  ownPosition: Type.Boolean({ description: 'whether lat and lon are the device’s own rather than its site’s' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  credentialsRotatedAt: Type.String({ format: 'date-time' }),
  decommissionedAt: Nullable(Type.String({ format: 'date-time' })),
});
export interface DeviceView {
  id: string;
  name: string;
  serial: string;
  externalId: string | null;
  profileId: string;
  profileKey: string;
  siteId: string | null;
  siteName: string | null;
  areaId: string | null;
  /** the device's own position, or its site's */
  lat: number | null;
  lon: number | null;
  status: DeviceStatus;
  batteryPercent: number | null;
  firmware: string | null;
  lastSeenAt: Date | null;
  isPersonal: boolean;
  /** whether lat and lon are the device's own (false: its site's, or none) */
  ownPosition: boolean;
  createdAt: Date;
  updatedAt: Date;
  credentialsRotatedAt: Date;
  decommissionedAt: Date | null;
}

export interface DeviceCredentials {
  /** bearer token for HTTP ingest: wdev_… */
  token: string;
  /** MQTT username: the device id */
  mqttUsername: string;
  mqttPassword: string;
}
export const Credentials = Type.Object({
  token: Type.String({ description: 'bearer token for HTTP ingest; shown this once' }),
  mqttUsername: Type.String({ description: 'the device id' }),
  mqttPassword: Type.String({ description: 'shown this once' }),
});
export const CreatedDevice = Type.Object({ device: Device, credentials: Credentials });

export const ProfileSchema = Type.Object({
  id: Type.String(),
  key: Type.String(),
  name: Type.String(),
  description: Type.String(),
  metrics: Type.Array(MetricSpecSchema),
  reportIntervalSeconds: Type.Integer(),
  offlineTolerance: Type.Number(),
  batteryLowPercent: Type.Integer(),
  rawRetentionDays: Type.Integer(),
  decoder: DecoderSpecSchema,
  isBuiltIn: Type.Boolean(),
});
const profileFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  description: Type.String({ maxLength: 1000 }),
  metrics: Type.Array(MetricSpecSchema, { minItems: 1, maxItems: 50 }),
  reportIntervalSeconds: Type.Integer({ minimum: 1, maximum: 7 * 86_400 }),
  offlineTolerance: Type.Number({ minimum: 1, maximum: 100 }),
  batteryLowPercent: Type.Integer({ minimum: 0, maximum: 100 }),
  rawRetentionDays: Type.Integer({ minimum: 1, maximum: 3650 }),
  decoder: DecoderSpecSchema,
};
export const ProfileCreate = Type.Object({ key: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,39}$' }), ...profileFields }, { additionalProperties: false });
export type ProfileCreate = Static<typeof ProfileCreate>;
export const ProfileUpdate = Type.Partial(Type.Object(profileFields), { additionalProperties: false, minProperties: 1 });
export type ProfileUpdate = Static<typeof ProfileUpdate>;

export const Area = Type.Object({
  id: Type.String(),
  name: Type.String(),
  code: Nullable(Type.String()),
  kind: Type.String(),
  bbox: Type.Array(Type.Number(), { minItems: 4, maxItems: 4, description: '[minLon, minLat, maxLon, maxLat]' }),
});
export interface AreaView {
  id: string;
  name: string;
  code: string | null;
  kind: AreaKind;
  bbox: [number, number, number, number];
}

/** What listSites and listDevices accept. includePersonal defaults to false: homes stay hidden unless asked for. */
export interface EstateFilter {
  ids?: string[];
  siteId?: string;
  areaId?: string;
  profileKey?: string;
  type?: SiteType;
  status?: DeviceStatus;
  technology?: ConnectivityTechnology;
  connectivityStatus?: ConnectivityStatus;
  /** words in the name, address, postcode or serial */
  q?: string;
  bbox?: [number, number, number, number];
  near?: { lat: number; lon: number; metres: number };
  includePersonal?: boolean;
  /** devices: include decommissioned ones (default false) */
  includeDecommissioned?: boolean;
  /** devices at or below their profile's low-battery threshold */
  lowBattery?: boolean;
  limit?: number;
  /** keyset: the last id of the previous page */
  after?: string;
}

export const ListQuery = Type.Object(
  {
    siteId: Type.Optional(Uuid),
    areaId: Type.Optional(Uuid),
    profile: Type.Optional(Type.String({ maxLength: 60 })),
    type: Type.Optional(SiteTypeSchema),
    status: Type.Optional(literals(DEVICE_STATUSES)),
    technology: Type.Optional(TechnologySchema),
    connectivityStatus: Type.Optional(ConnectivityStatusSchema),
    q: Type.Optional(Type.String({ maxLength: 100 })),
    bbox: Type.Optional(Type.String({ pattern: '^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$', description: 'minLon,minLat,maxLon,maxLat' })),
    near: Type.Optional(Type.String({ pattern: '^-?[0-9.]+,-?[0-9.]+,[0-9.]+$', description: 'lat,lon,metres' })),
    lowBattery: Type.Optional(Type.Boolean()),
    includeDecommissioned: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    after: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const IdParams = Type.Object({ id: Type.String({ maxLength: 60 }) }, { additionalProperties: false });
export const AreaImportOptions = Type.Object(
  {
    kind: Type.Optional(literals(AREA_KINDS)),
    nameProperty: Type.Optional(Type.String({ maxLength: 50, default: 'name' })),
    codeProperty: Type.Optional(Type.String({ maxLength: 50, default: 'code' })),
  },
  { additionalProperties: false },
);
export type AreaImportOptions = Static<typeof AreaImportOptions>;

/** A postcode in the council's postcode list: its centre (WGS84) and the area that centre lies in. */
export const Postcode = Type.Object({
  postcode: Type.String({ description: 'as Weft writes it: upper case, one space (SW1A 1AA)' }),
  lat: Type.Number(),
  lon: Type.Number(),
  areaId: Nullable(Type.String({ description: 'the ward or neighbourhood the centre lies in; null outside every area' })),
});
export type PostcodeView = Static<typeof Postcode>;
export const PostcodeParams = Type.Object(
  { postcode: Type.String({ minLength: 1, maxLength: 20, description: 'a UK postcode; case and spaces do not matter (sw1a1aa is SW1A 1AA)' }) },
  { additionalProperties: false },
);

/** What importPostcodes did: postcodes written (new or changed), those left out for want of a grid reference, and how many lie in an area. */
export interface PostcodeImport {
  count: number;
  skipped: number;
  inAreas: number;
}

export interface ImportError {
  /** 1-based row in the file, counting the header as row 1 */
  row: number;
  field: string;
  message: string;
}
export const ImportErrorSchema = Type.Object({ row: Type.Integer(), field: Type.String(), message: Type.String() });

// ---- CSV imports run in the background, over the API ----

export const IMPORT_STATUSES = ['queued', 'checking', 'writing', 'done', 'failed'] as const;
const ImportStatusName = Type.Union(
  IMPORT_STATUSES.map((s) => Type.Literal(s)),
  { description: 'queued → checking (every row, nothing written yet) → writing (all rows in one transaction) → done; or failed, with nothing written' },
);

/** The answer to POST /api/v1/imports/{sites,devices}: 202 Accepted, with Location the import's own URL. */
export const ImportAccepted = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('sites'), Type.Literal('devices')]),
  status: ImportStatusName,
  links: Type.Object({ self: Type.String({ description: 'GET this for the import’s progress' }) }),
});

export const ImportStatus = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('sites'), Type.Literal('devices')]),
  status: ImportStatusName,
  fileName: Nullable(Type.String()),
  totalRows: Type.Integer({ description: 'data rows in the file; 0 until checking begins' }),
  checkedRows: Type.Integer({ description: 'rows checked so far' }),
  writtenRows: Type.Integer({ description: 'rows written: the count of sites or devices imported, once done' }),
  errors: Type.Array(ImportErrorSchema, { description: 'when failed: each problem by row (the header is row 1) and column; the first 500' }),
  credentialsAvailable: Type.Boolean({ description: 'a devices import that is done: its credentials can be fetched, once, by whoever started it, within 24 hours' }),
  createdAt: Type.String({ format: 'date-time' }),
  finishedAt: Nullable(Type.String({ format: 'date-time' })),
  links: Type.Object({
    self: Type.String(),
    credentials: Type.Optional(Type.String({ description: 'POST here for the devices’ credentials as CSV, once' })),
  }),
});
