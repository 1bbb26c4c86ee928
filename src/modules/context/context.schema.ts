import { type Static, Type } from '@sinclair/typebox';

/**
 * Query strings of the NGSI-LD API. They are checked for shape here (unknown
 * parameters are refused, as NGSI-LD brokers do); the NGSI-LD grammar of q, georel
 * and the rest is checked by the service, so its errors can say where they went wrong.
 */
const text = (description: string, maxLength = 2000) => Type.Optional(Type.String({ maxLength, description }));

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 20;

export const EntitiesQuery = Type.Object(
  {
    type: text('entity types, comma-separated (Device, AirQualityObserved, ParkingSpot, OffStreetParking, Building, or a type clients created)'),
    id: text('entity ids, comma-separated', 20_000),
    idPattern: text('a regular expression the entity id must match', 200),
    q: text('NGSI-LD query language, e.g. availableSpotNumber>10;name~="(?i)^west"', 4000),
    attrs: text('attributes to return; entities with none of them are left out'),
    pick: text('entity members to return (id, type and attribute names)'),
    omit: text('entity members to leave out'),
    georel: text('near;maxDistance==<metres>, near;minDistance==<metres>, within, contains, intersects, equals, disjoint, overlaps', 100),
    geometry: text('Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon', 20),
    coordinates: text('GeoJSON coordinates as JSON, [longitude, latitude] for a Point', 20_000),
    geoproperty: text('the GeoProperty the geo-query applies to (default location)', 100),
    limit: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_LIMIT, description: `entities per page (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT}; 0 with count=true only counts)` })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    count: Type.Optional(Type.Boolean({ description: 'true: the total number of matches in the NGSILD-Results-Count header' })),
    options: text('keyValues, concise, normalized, sysAttrs', 200),
    format: text('normalized, concise or simplified', 20),
    local: Type.Optional(Type.Boolean({ description: 'accepted for compatibility: this broker has no registrations, so every answer is local' })),
  },
  { additionalProperties: false },
);
export type EntitiesQuery = Static<typeof EntitiesQuery>;

export const EntityQuery = Type.Object(
  {
    attrs: text('attributes to return'),
    pick: text('entity members to return'),
    omit: text('entity members to leave out'),
    options: text('keyValues, concise, normalized, sysAttrs', 200),
    format: text('normalized, concise or simplified', 20),
    type: text('the entity type, if known', 100),
    local: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type EntityQuery = Static<typeof EntityQuery>;

export const WriteQuery = Type.Object({ options: text('noOverwrite (append only new attributes)', 100) }, { additionalProperties: false });
export type WriteQuery = Static<typeof WriteQuery>;

export const TemporalQuery = Type.Object(
  {
    attrs: text('attributes whose history to return (default: all with a history)'),
    timerel: Type.Optional(Type.Union([Type.Literal('before'), Type.Literal('after'), Type.Literal('between')])),
    timeAt: text('a date and time, e.g. 2026-03-02T08:00:00Z', 40),
    endTimeAt: text('the end of a between range', 40),
    timeproperty: Type.Optional(Type.Literal('observedAt')),
    lastN: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'the last N instances of each attribute' })),
    options: text('temporalValues, aggregatedValues, sysAttrs', 200),
    format: text('normalized or temporalValues', 20),
    aggrMethods: text('totalCount, sum, avg, min, max', 100),
    aggrPeriodDuration: text('ISO 8601 duration of each aggregation period, e.g. PT1H or P1D (default: the whole range)', 20),
    local: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type TemporalQuery = Static<typeof TemporalQuery>;

export const TypesQuery = Type.Object({ details: Type.Optional(Type.Boolean()), local: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

export const EntityIdParams = Type.Object({ entityId: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
export const AttrParams = Type.Object({ entityId: Type.String({ minLength: 1, maxLength: 256 }), attrId: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
export const TypeParams = Type.Object({ type: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });

/** A body is an object; its NGSI-LD shape is checked by the service (so errors name the attribute). */
export const EntityBody = Type.Object({}, { additionalProperties: true, description: 'an NGSI-LD entity or attributes, normalised or concise' });

/** NGSI-LD answers are shaped by the entities' own attributes: described, not constrained, here. */
const ngsi = (description: string) => Type.Unknown({ description });
export const NgsiResponses = {
  200: ngsi('NGSI-LD entities (application/json with a Link header, application/ld+json with @context, or application/geo+json)'),
  201: ngsi('created: the Location header names the entity; a Device answers with its Weft id and credentials, shown this once'),
  204: Type.Null({ description: 'done' }),
  207: Type.Object(
    { updated: Type.Array(Type.String()), notUpdated: Type.Array(Type.Object({ attributeName: Type.String(), reason: Type.String() })) },
    { description: 'some attributes were not updated' },
  ),
};
