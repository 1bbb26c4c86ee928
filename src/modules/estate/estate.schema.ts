import { type Static, Type } from '@sinclair/typebox';

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
