import type { DeviceView, MetricSpec, Profile, SiteType, SiteView } from '../estate/index.js';
import { type Attribute, type Entity, dateTime, geo, prop, rel } from './ngsi-format.js';

/**
 * How Weft's estate appears as Smart Data Models entities (smartdatamodels.org):
 *
 *   every device                 → Device              urn:ngsi-ld:Device:<device id>
 *   air-quality monitor          → AirQualityObserved  urn:ngsi-ld:AirQualityObserved:<device id>
 *   parking-bay sensor           → ParkingSpot         urn:ngsi-ld:ParkingSpot:<device id>
 *   car park site                → OffStreetParking    urn:ngsi-ld:OffStreetParking:<site id>
 *   any other site               → Building            urn:ngsi-ld:Building:<site id>
 *
 * Attribute names and value ranges follow the models: relativeHumidity and
 * batteryLevel are fractions (0–1), not percentages; units are UN/CEFACT codes.
 */

export const DERIVED_TYPES = ['Device', 'AirQualityObserved', 'ParkingSpot', 'OffStreetParking', 'Building'] as const;
export type DerivedType = (typeof DERIVED_TYPES)[number];

export const AIR_QUALITY_PROFILE = 'air-quality';
export const PARKING_BAY_PROFILE = 'parking-bay';
export const CAR_PARK_SITE: SiteType = 'car_park';

export const urn = (type: string, id: string) => `urn:ngsi-ld:${type}:${id}`;

/** Splits urn:ngsi-ld:<Type>:<rest>; undefined for ids of another shape. */
export function parseUrn(id: string): { type: string; rest: string } | undefined {
  const m = /^urn:ngsi-ld:([A-Za-z_][A-Za-z0-9_]*):(.+)$/.exec(id);
  return m ? { type: m[1], rest: m[2] } : undefined;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---- Metrics ↔ attributes ----

interface MetricMapping {
  attr: string;
  /** attribute value = reading × scale */
  scale?: number;
}

/** Weft metric → Smart Data Models attribute where the models name it; others become camelCase. */
const METRIC_ATTRIBUTES: Record<string, MetricMapping> = {
  no2: { attr: 'no2' },
  pm2_5: { attr: 'pm25' },
  pm10: { attr: 'pm10' },
  o3: { attr: 'o3' },
  so2: { attr: 'so2' },
  temperature: { attr: 'temperature' },
  humidity: { attr: 'relativeHumidity', scale: 0.01 },
  battery: { attr: 'batteryLevel', scale: 0.01 },
  fill_level: { attr: 'fillingLevel', scale: 0.01 },
};

const UNIT_CODES: Record<string, string> = {
  'µg/m³': 'GQ',
  'μg/m³': 'GQ',
  'mg/m³': 'GP',
  '°C': 'CEL',
  '%': 'P1',
  ppm: '59',
  ppb: '61',
  kWh: 'KWH',
  W: 'WTT',
  kW: 'KWT',
  V: 'VLT',
  A: 'AMP',
  dB: '2N',
  lx: 'LUX',
  hPa: 'A97',
  m: 'MTR',
  mm: 'MMT',
  'm/s': 'MTS',
  people: 'IE',
};

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export function attributeOf(metric: string): MetricMapping {
  return METRIC_ATTRIBUTES[metric] ?? { attr: camel(metric) };
}

/** The profile's metrics by attribute name, for turning attribute updates into readings. */
export function metricsByAttribute(profile: Profile): Map<string, { metric: MetricSpec; scale: number }> {
  return new Map(profile.metrics.map((m) => [attributeOf(m.name).attr, { metric: m, scale: attributeOf(m.name).scale ?? 1 }]));
}

export function unitCodeOf(metric: MetricSpec): string | undefined {
  return attributeOf(metric.name).scale ? undefined : UNIT_CODES[metric.unit];
}

export interface Latest {
  metric: string;
  value: number | boolean;
  at: Date;
}

/** A reading as an attribute: a Property with observedAt and its unit. */
export function readingAttribute(metric: MetricSpec, latest: Latest): Attribute {
  const scale = attributeOf(metric.name).scale ?? 1;
  const raw = typeof latest.value === 'boolean' ? (latest.value ? 1 : 0) : latest.value;
  const value = scale === 1 ? raw : Math.round(raw * scale * 1e6) / 1e6;
  const unitCode = unitCodeOf(metric);
  return prop(value, { observedAt: latest.at.toISOString(), ...(unitCode ? { unitCode } : {}) });
}

/** An attribute value written by a client, as the reading it stands for; undefined if it is not a number or boolean. */
export function readingValue(value: unknown, scale: number): number | boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return scale === 1 ? value : Math.round((value / scale) * 1e9) / 1e9;
}

// ---- Devices ----

/** Smart Data Models' controlledProperty vocabulary for Weft metrics (others keep their camelCase name). */
const CONTROLLED_PROPERTY: Record<string, string> = {
  no2: 'airPollution',
  pm2_5: 'airPollution',
  pm10: 'airPollution',
  o3: 'airPollution',
  so2: 'airPollution',
  temperature: 'temperature',
  humidity: 'humidity',
  occupied: 'occupancy',
  motion: 'motion',
  fill_level: 'fillingLevel',
  energy_kwh: 'energy',
  power_w: 'power',
};

export function controlledProperties(profile: Profile): string[] {
  const out = new Set<string>();
  for (const m of profile.metrics) if (m.name !== 'battery') out.add(CONTROLLED_PROPERTY[m.name] ?? camel(m.name));
  return [...out];
}

export function deviceModelId(profile: Profile): string {
  return urn('DeviceModel', profile.key);
}

/**
 * The profile a client means when it creates a Device: refDeviceModel names it
 * (urn:ngsi-ld:DeviceModel:<key or id>), or controlledProperty matches exactly one.
 */
export function profileFor(profiles: Profile[], refDeviceModel: unknown, controlledProperty: unknown): Profile | undefined {
  if (typeof refDeviceModel === 'string') {
    const ref = parseUrn(refDeviceModel);
    const key = ref?.type === 'DeviceModel' ? ref.rest : refDeviceModel;
    return profiles.find((p) => p.key === key || p.id === key);
  }
  const wanted = [controlledProperty].flat().filter((v): v is string => typeof v === 'string');
  if (!wanted.length) return undefined;
  const same = (p: Profile) => {
    const have = controlledProperties(p);
    return have.length === new Set(wanted).size && wanted.every((w) => have.includes(w));
  };
  const matches = profiles.filter(same);
  return matches.length === 1 ? matches[0] : undefined;
}

/** What the mapping reads of a device (tests build these by hand). */
export type DeviceLike = Pick<DeviceView, 'id' | 'name' | 'serial' | 'profileKey' | 'siteId' | 'lat' | 'lon' | 'status' | 'batteryPercent' | 'firmware' | 'lastSeenAt'>;

/** What the mapping reads of a site. */
export type SiteLike = Pick<SiteView, 'id' | 'type' | 'name' | 'address' | 'postcode' | 'uprn' | 'lat' | 'lon' | 'areaName'>;

const location = (x: { lat: number | null; lon: number | null }) => (x.lat !== null && x.lon !== null ? { location: geo(x.lon, x.lat) } : {});

/** The entity id of a site: car parks are OffStreetParking, everything else a Building. */
export function siteEntityId(siteId: string, siteType: SiteType | undefined): string {
  return urn(siteType === CAR_PARK_SITE ? 'OffStreetParking' : 'Building', siteId);
}

/** A Device entity; the readings (latest values, battery aside) are added when `latest` is given. */
export function deviceEntity(d: DeviceLike, profile: Profile, entityId: string, siteType: SiteType | undefined, latest?: Latest[]): Entity {
  const e: Entity = {
    id: entityId,
    type: 'Device',
    name: prop(d.name),
    category: prop([profile.key === 'energy-meter' ? 'meter' : 'sensor']),
    controlledProperty: prop(controlledProperties(profile)),
    serialNumber: prop(d.serial),
    deviceState: prop(d.status),
    refDeviceModel: rel(deviceModelId(profile)),
    ...(d.batteryPercent !== null ? { batteryLevel: prop(Math.round(d.batteryPercent) / 100) } : {}),
    ...(d.lastSeenAt ? { dateLastValueReported: prop(dateTime(d.lastSeenAt)) } : {}),
    ...(d.firmware ? { firmwareVersion: prop(d.firmware) } : {}),
    ...(d.siteId ? { controlledAsset: rel(siteEntityId(d.siteId, siteType)) } : {}),
    ...location(d),
  };
  if (latest) {
    for (const m of profile.metrics) {
      if (m.name === 'battery') continue;
      const l = latest.find((x) => x.metric === m.name);
      if (l) e[attributeOf(m.name).attr] = readingAttribute(m, l);
    }
  }
  return e;
}

export const DEVICE_READING_ATTRIBUTES = (profile: Profile) => profile.metrics.filter((m) => m.name !== 'battery').map((m) => attributeOf(m.name).attr);

const AIR_QUALITY_METRICS = ['no2', 'pm2_5', 'pm10', 'o3', 'so2', 'temperature', 'humidity'];
export const AIR_QUALITY_DYNAMIC = ['dateObserved', ...AIR_QUALITY_METRICS.map((m) => attributeOf(m).attr)];

export function airQualityEntity(d: DeviceLike, profile: Profile, deviceEntityId: string, latest?: Latest[]): Entity {
  const e: Entity = { id: urn('AirQualityObserved', d.id), type: 'AirQualityObserved', name: prop(d.name), refDevice: rel(deviceEntityId), ...location(d) };
  if (latest) {
    let observed: Date | undefined;
    for (const m of profile.metrics) {
      if (m.name === 'battery') continue;
      const l = latest.find((x) => x.metric === m.name);
      if (!l) continue;
      e[attributeOf(m.name).attr] = readingAttribute(m, l);
      if (!observed || l.at > observed) observed = l.at;
    }
    if (observed) e.dateObserved = prop(dateTime(observed));
  }
  return e;
}

export const PARKING_SPOT_DYNAMIC = ['status'];

/** A ParkingSpot: status is free or occupied from the bay's latest `occupied` reading, unknown before the first. */
export function parkingSpotEntity(d: DeviceLike, deviceEntityId: string, siteType: SiteType | undefined, latest?: Latest[]): Entity {
  const e: Entity = {
    id: urn('ParkingSpot', d.id),
    type: 'ParkingSpot',
    name: prop(d.name),
    category: prop([siteType === CAR_PARK_SITE ? 'offStreet' : 'onStreet']),
    refDevice: rel([deviceEntityId]),
    ...(d.siteId && siteType === CAR_PARK_SITE ? { refParkingSite: rel(urn('OffStreetParking', d.siteId)) } : {}),
    ...location(d),
  };
  if (latest) {
    const l = latest.find((x) => x.metric === 'occupied');
    e.status = l ? prop(isOn(l.value) ? 'occupied' : 'free', { observedAt: l.at.toISOString() }) : prop('unknown');
  }
  return e;
}

export const isOn = (v: number | boolean) => v === true || (typeof v === 'number' && v >= 0.5);

function postalAddress(s: SiteLike) {
  return prop({ type: 'PostalAddress', streetAddress: s.address, ...(s.postcode ? { postalCode: s.postcode } : {}), addressCountry: 'GB' });
}

function siteCommon(s: SiteLike) {
  return {
    name: prop(s.name),
    address: postalAddress(s),
    ...(s.areaName ? { areaServed: prop(s.areaName) } : {}),
    ...(s.uprn ? { uprn: prop(s.uprn) } : {}),
    ...location(s),
  };
}

export const OFF_STREET_DYNAMIC = ['totalSpotNumber', 'availableSpotNumber', 'occupiedSpotNumber'];

/** A car park with its bays counted from their latest readings: a bay with no reading yet is neither free nor occupied. */
export function offStreetParkingEntity(s: SiteLike, bays?: { latest?: Latest }[]): Entity {
  const e: Entity = { id: urn('OffStreetParking', s.id), type: 'OffStreetParking', ...siteCommon(s) };
  if (bays) {
    const known = bays.filter((b) => b.latest);
    const occupied = known.filter((b) => isOn((b.latest as Latest).value)).length;
    const observedAt = known.reduce<Date | undefined>((max, b) => (!max || (b.latest as Latest).at > max ? (b.latest as Latest).at : max), undefined);
    const at = observedAt ? { observedAt: observedAt.toISOString() } : {};
    e.totalSpotNumber = prop(bays.length);
    e.availableSpotNumber = prop(known.length - occupied, at);
    e.occupiedSpotNumber = prop(occupied, at);
  }
  return e;
}

/** Smart Data Models' Building categories for Weft's site types. */
export const BUILDING_CATEGORY: Record<SiteType, string> = {
  school: 'school',
  library: 'public',
  council_building: 'civic',
  nhs_site: 'hospital',
  care_home: 'residential',
  park: 'public',
  car_park: 'parking',
  street_hub: 'kiosk',
  home: 'house',
};

export function buildingEntity(s: SiteLike): Entity {
  return { id: urn('Building', s.id), type: 'Building', category: prop([BUILDING_CATEGORY[s.type]]), description: prop(s.type.replace(/_/g, ' ')), ...siteCommon(s) };
}
