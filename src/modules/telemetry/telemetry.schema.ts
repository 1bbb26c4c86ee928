import { type Static, Type } from '@sinclair/typebox';

const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });
const Time = Type.String({ format: 'date-time', description: 'ISO 8601 with a time zone, e.g. 2026-12-02T10:00:00Z' });
const MetricName = Type.String({ minLength: 1, maxLength: 100, description: 'a metric of the device’s profile, e.g. no2, pm2_5, occupied' });
const Timestamp = Type.Union([Type.String({ maxLength: 40 }), Type.Number()], {
  description: 'when it was measured: ISO 8601 with a time zone, or milliseconds since 1970; now when left out; at most 5 minutes ahead',
});

export const ReadingInputSchema = Type.Object(
  {
    metric: MetricName,
    value: Type.Union([Type.Number(), Type.Boolean()], { description: 'a number; true and false are stored as 1 and 0' }),
    at: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);

const MetricValues = Type.Unknown({ description: 'an object of metric names and their values (numbers, or true/false)' });
const DeviceIdField = Type.Optional(Type.String({ maxLength: 60, description: 'only for API keys posting for a device; a device’s own token needs none' }));

/**
 * The accepted bodies. Ajv only checks the outline here (any object passes the flat
 * shape); readingsFromBody and ingest check every reading and say which one is wrong.
 */
export const IngestBody = Type.Union(
  [
    Type.Object({ readings: Type.Array(ReadingInputSchema, { minItems: 1, maxItems: 10_000 }), deviceId: DeviceIdField }, { additionalProperties: false, title: 'Batch' }),
    Type.Object(
      { metric: MetricName, value: Type.Union([Type.Number(), Type.Boolean()]), at: Type.Optional(Timestamp), deviceId: DeviceIdField },
      { additionalProperties: false, title: 'One reading' },
    ),
    Type.Object(
      { ts: Type.Optional(Timestamp), values: Type.Optional(MetricValues), deviceId: DeviceIdField },
      {
        additionalProperties: true,
        title: 'ThingsBoard style',
        description: 'metric names as keys: {"no2": 41.2, "pm2_5": 9, "ts": 1764669600000}, or {"ts": …, "values": {…}}',
      },
    ),
    Type.Array(Type.Object({ ts: Type.Optional(Timestamp), values: Type.Optional(MetricValues) }, { additionalProperties: true }), {
      title: 'ThingsBoard list',
      maxItems: 10_000,
    }),
  ],
  {
    description:
      'One reading {"metric", "value", "at"}; a batch {"readings": [...]} of up to 10,000; or ThingsBoard style, an object of metric names and values with an optional "ts" (or a list of {"ts", "values"}). Unknown metrics and values outside the profile’s range are quarantined, not refused.',
  },
);

export const IngestResultSchema = Type.Object({
  accepted: Type.Integer({ description: 'readings stored' }),
  duplicates: Type.Integer({ description: 'readings already stored (same device, metric and time); stored once' }),
  quarantined: Type.Array(Type.Object({ index: Type.Integer(), metric: Type.String(), reason: Type.String() }), { description: 'readings kept aside, with why' }),
});

export const DeviceParams = Type.Object({ id: Type.String({ maxLength: 60 }) }, { additionalProperties: false });

const Value = Type.Object({ metric: Type.String(), value: Type.Number(), at: Type.String({ format: 'date-time' }) });
const DeviceValue = Type.Object({ deviceId: Type.String(), metric: Type.String(), value: Type.Number(), at: Type.String({ format: 'date-time' }) });

export const DeviceLatest = Type.Object({ deviceId: Type.String(), name: Type.String(), values: Type.Array(Value) });

const csv = (description: string) => Type.Optional(Type.String({ maxLength: 400_000, pattern: '^[^\\s]*$', description }));
export const LatestQuery = Type.Object(
  {
    deviceIds: csv('device ids, comma-separated (for many devices, POST the list instead)'),
    siteId: Type.Optional(Uuid),
    areaId: Type.Optional(Uuid),
    profile: Type.Optional(Type.String({ maxLength: 60, description: 'a profile key, e.g. air-quality' })),
    metrics: csv('metric names, comma-separated'),
  },
  { additionalProperties: false },
);
export type LatestQuery = Static<typeof LatestQuery>;

export const LatestBody = Type.Object(
  {
    deviceIds: Type.Array(Type.String({ maxLength: 60 }), { minItems: 1, maxItems: 10_000 }),
    metrics: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type LatestBody = Static<typeof LatestBody>;

export const LatestList = Type.Object({ values: Type.Array(DeviceValue) });

export const RangeQuery = Type.Object(
  {
    metric: MetricName,
    from: Type.Optional(Time),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'end of the range (not included); now when left out' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 10_000 })),
  },
  { additionalProperties: false },
);
export type RangeQuery = Static<typeof RangeQuery>;

export const ReadingsList = Type.Object({ deviceId: Type.String(), metric: Type.String(), readings: Type.Array(Type.Object({ at: Type.String({ format: 'date-time' }), value: Type.Number() })) });

export const BUCKETS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '1d': 86_400 } as const;
export const AggregatesQuery = Type.Object(
  {
    metric: MetricName,
    from: Type.Optional(Time),
    to: Type.Optional(Time),
    bucket: Type.Union(
      Object.keys(BUCKETS).map((b) => Type.Literal(b)),
      { default: '1h', description: '1m, 5m and 15m come from raw readings; 1h and 1d from rollups (kept for ever)' },
    ),
  },
  { additionalProperties: false },
);
export type AggregatesQuery = Static<typeof AggregatesQuery>;

export const AggregatesList = Type.Object({
  deviceId: Type.String(),
  metric: Type.String(),
  bucket: Type.String(),
  buckets: Type.Array(Type.Object({ at: Type.String({ format: 'date-time' }), count: Type.Integer(), min: Type.Number(), max: Type.Number(), mean: Type.Number() })),
});

export const CsvQuery = Type.Object({ metric: Type.Optional(MetricName), from: Type.Optional(Time), to: Type.Optional(Time) }, { additionalProperties: false });
export type CsvQuery = Static<typeof CsvQuery>;

export const NearbyQuery = Type.Object(
  {
    bbox: Type.Optional(Type.String({ pattern: '^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$', description: 'minLon,minLat,maxLon,maxLat' })),
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    radius: Type.Optional(Type.Number({ minimum: 1, maximum: 50_000, description: 'metres' })),
    metrics: csv('metric names, comma-separated'),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
  },
  { additionalProperties: false },
);
export type NearbyQuery = Static<typeof NearbyQuery>;

export const NearbyList = Type.Object({
  devices: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      profileKey: Type.String(),
      lat: Type.Union([Type.Number(), Type.Null()]),
      lon: Type.Union([Type.Number(), Type.Null()]),
      values: Type.Array(Value),
    }),
  ),
});

export const QuarantineQuery = Type.Object(
  { deviceId: Type.Optional(Uuid), before: Type.Optional(Uuid), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) },
  { additionalProperties: false },
);
export type QuarantineQuery = Static<typeof QuarantineQuery>;

export const QuarantineItem = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  metric: Type.String(),
  at: Type.String({ format: 'date-time' }),
  value: Type.Number(),
  reason: Type.String(),
  source: Type.String(),
  receivedAt: Type.String({ format: 'date-time' }),
});
export const QuarantineList = Type.Object({ items: Type.Array(QuarantineItem), next: Type.Union([Type.String(), Type.Null()], { description: 'pass as `before` for the next page' }) });

export const StreamQuery = Type.Object(
  {
    deviceId: Type.Optional(Uuid),
    siteId: Type.Optional(Uuid),
    areaId: Type.Optional(Uuid),
    metric: Type.Optional(MetricName),
    profile: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'a device profile key: readings of the devices of this profile (in areaId, if given) when the stream opens' })),
  },
  { additionalProperties: false },
);
export type StreamQuery = Static<typeof StreamQuery>;
