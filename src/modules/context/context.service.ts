import type { Actor } from '../../platform/auth/actor.js';
import type { Origin } from '../../platform/audit/origin.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import { isUniqueViolation } from '../../platform/db/dialect.js';
import { AppError, platformErrors } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { DeviceAuth, DeviceView, EstateFilter, EstateService, Profile, SiteType, SiteView } from '../estate/index.js';
import type { IngestResult, ReadingInput, TelemetryService } from '../telemetry/index.js';
import { contextErrors } from './context.errors.js';
import { ContextRepository, type StoredEntityRow } from './context.repository.js';
import { type Attribute, type Entity, InputError, isEntityId, isTypeName, normaliseAttribute, normaliseAttributes, simpleValue } from './ngsi-format.js';
import { bboxAround, bboxOf, checkGeometry, type GeoQuery, type Geometry, GeoQueryError, matchesGeoQuery, prefilterOf } from './ngsi-geo.js';
import { evaluate, type QNode, queryAttributes } from './ngsi-query.js';
import {
  AIR_QUALITY_DYNAMIC,
  AIR_QUALITY_PROFILE,
  airQualityEntity,
  attributeOf,
  buildingEntity,
  CAR_PARK_SITE,
  DERIVED_TYPES,
  type DerivedType,
  DEVICE_READING_ATTRIBUTES,
  deviceEntity,
  isOn,
  type Latest,
  metricsByAttribute,
  OFF_STREET_DYNAMIC,
  offStreetParkingEntity,
  PARKING_BAY_PROFILE,
  PARKING_SPOT_DYNAMIC,
  parkingSpotEntity,
  parseUrn,
  profileFor,
  readingValue,
  UUID,
  unitCodeOf,
  urn,
} from './smart-data-models.js';

export type { Origin } from '../../platform/audit/origin.js';

/** Who is asking, and whether they may see residents' homes. */
export interface Viewer {
  actor: Actor;
  includePersonal: boolean;
}

export interface EntityQuery {
  types?: string[];
  ids?: string[];
  idPattern?: RegExp;
  q?: QNode;
  /** attribute names: entities with none of them are left out */
  attrs?: string[];
  geo?: GeoQuery;
  limit: number;
  offset: number;
  /** the total number of matches is wanted (the general path counts anyway) */
  count?: boolean;
}

export interface UpdateResult {
  updated: string[];
  notUpdated: { attributeName: string; reason: string }[];
}

export interface TemporalRequest {
  attrs?: string[];
  timerel?: 'before' | 'after' | 'between';
  timeAt?: Date;
  endTimeAt?: Date;
  lastN?: number;
  aggregate?: { methods: AggregateMethod[]; periodSeconds?: number };
}

export const AGGREGATE_METHODS = ['totalCount', 'sum', 'avg', 'min', 'max'] as const;
export type AggregateMethod = (typeof AGGREGATE_METHODS)[number];

/** Readings are fetched this many devices at a time (telemetry takes at most 10,000). */
const LATEST_CHUNK = 5000;
const ESTATE_PAGE = 5000;
const MAX_INSTANCES = 1000;
const MAX_TEMPORAL_SPAN_MS = 31 * 86_400_000;

type DeviceSourceType = 'Device' | 'AirQualityObserved' | 'ParkingSpot';
type SiteSourceType = 'OffStreetParking' | 'Building';

/** What a derived entity was made from, kept beside it while a query runs. */
type Source = { kind: 'device'; type: DeviceSourceType; device: DeviceView } | { kind: 'site'; type: SiteSourceType; site: SiteView } | { kind: 'stored' };

interface Candidate {
  entity: Entity;
  from: Source;
  complete: boolean;
}

/** Facts looked up once per request. */
interface Lookup {
  profiles: Map<string, Profile>;
  /** device id → NGSI-LD id given when it was created through this API */
  deviceEntityIds: Map<string, string>;
  siteTypes: Map<string, SiteType>;
}

const DYNAMIC: Record<DerivedType, Set<string> | 'readings'> = {
  Device: 'readings',
  AirQualityObserved: new Set(AIR_QUALITY_DYNAMIC),
  ParkingSpot: new Set(PARKING_SPOT_DYNAMIC),
  OffStreetParking: new Set(OFF_STREET_DYNAMIC),
  Building: new Set(),
};

/**
 * The NGSI-LD context broker over Weft's estate and telemetry: devices and sites
 * appear as Smart Data Models entities with their latest readings; updates to their
 * numeric attributes become readings. Entities of other kinds that clients create
 * are stored here.
 */
export class ContextService {
  private readonly repo: ContextRepository;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly estate: EstateService,
    private readonly telemetry: TelemetryService,
  ) {
    this.repo = new ContextRepository(db);
  }

  viewer(actor: Actor): Viewer {
    return { actor, includePersonal: this.estate.maySeeHomes(actor) };
  }

  // ---------------------------------------------------------------- queries

  /** Entities matching the query, sorted by id, one page of them, and how many match in all. */
  async query(viewer: Viewer, query: EntityQuery): Promise<{ entities: Entity[]; total: number }> {
    const lookup = await this.lookup();
    const wanted = query.types ? new Set(query.types) : undefined;
    const qAttrs = query.q ? queryAttributes(query.q) : new Set<string>();
    // Readings are fetched for every candidate only when the query looks at them; otherwise for the page alone.
    const deviceReadings = new Set([...lookup.profiles.values()].flatMap(DEVICE_READING_ATTRIBUTES));
    const needs = (type: DerivedType) => {
      const dyn = DYNAMIC[type] === 'readings' ? deviceReadings : (DYNAMIC[type] as Set<string>);
      return [...qAttrs, ...(query.attrs ?? [])].some((a) => dyn.has(a));
    };

    const paged = await this.pageInEstate(viewer, query, lookup);
    if (paged) return paged;

    const candidates: Candidate[] = [];
    for (const type of DERIVED_TYPES) {
      if (wanted && !wanted.has(type)) continue;
      const found = await this.derivedCandidates(viewer, type, query, lookup);
      if (needs(type)) await this.complete(viewer, found, lookup);
      candidates.push(...found);
    }
    candidates.push(...(await this.storedCandidates(query)));

    const matches = candidates.filter((c) => this.matches(c.entity, query));
    matches.sort((a, b) => (a.entity.id < b.entity.id ? -1 : a.entity.id > b.entity.id ? 1 : 0));
    const page = matches.slice(query.offset, query.offset + query.limit);
    await this.complete(viewer, page, lookup);
    return { entities: page.map((c) => c.entity), total: matches.length };
  }

  /**
   * The common case of a client paging through one derived type with no filter to check
   * entity by entity: the estate sorts and pages (its ids order the entities' ids), and
   * counts. Undefined when the query needs the general path.
   */
  private async pageInEstate(viewer: Viewer, query: EntityQuery, lookup: Lookup): Promise<{ entities: Entity[]; total: number } | undefined> {
    if (query.q || query.attrs?.length || query.idPattern || query.geo || query.types?.length !== 1) return undefined;
    const type = query.types[0] as DerivedType;
    const byUuid = type === 'AirQualityObserved' || type === 'ParkingSpot' || type === 'OffStreetParking' || (type === 'Device' && lookup.deviceEntityIds.size === 0);
    if (!byUuid || (await this.repo.hasType(type))) return undefined;
    const end = query.offset + query.limit;
    const page = end === 0 ? [] : (await this.derivedCandidates(viewer, type, query, lookup, end)).slice(query.offset);
    await this.complete(viewer, page, lookup);
    const entities = page.map((c) => c.entity);
    if (!query.count) return { entities, total: entities.length };
    const filter = { includePersonal: viewer.includePersonal, ...(query.ids ? { ids: this.estateIdsFor(type, query.ids, lookup) } : {}) };
    const total =
      filter.ids?.length === 0
        ? 0
        : type === 'OffStreetParking'
          ? await this.estate.countSites({ ...filter, type: CAR_PARK_SITE })
          : await this.estate.countDevices({ ...filter, ...(type === 'Device' ? {} : { profileKey: type === 'AirQualityObserved' ? AIR_QUALITY_PROFILE : PARKING_BAY_PROFILE }) });
    return { entities, total };
  }

  /** One entity by id; ResourceNotFound if it does not exist or the viewer may not see it. */
  async get(viewer: Viewer, id: string): Promise<Entity> {
    if (!isEntityId(id)) throw contextErrors.NGSI_ENTITY_NOT_FOUND(`There is no entity with the id "${id}": an entity id is a URI, like urn:ngsi-ld:Device:…`);
    const parsed = parseUrn(id);
    const types = parsed && (DERIVED_TYPES as readonly string[]).includes(parsed.type) ? [parsed.type] : undefined;
    const { entities } = await this.query(viewer, { ids: [id], types, limit: 1, offset: 0 });
    if (!entities.length && types) {
      // A client may have stored an entity of a derived type under an id of its own.
      const row = await this.repo.find(id);
      if (row) return storedEntity(row);
    }
    if (!entities.length) throw contextErrors.NGSI_ENTITY_NOT_FOUND(`There is no entity with the id ${id}.`);
    return entities[0];
  }

  private matches(e: Entity, q: EntityQuery): boolean {
    if (q.ids && !q.ids.includes(e.id)) return false;
    if (q.idPattern && !q.idPattern.test(e.id)) return false;
    if (q.types && !q.types.includes(e.type)) return false;
    if (q.attrs?.length && !q.attrs.some((a) => a in e)) return false;
    if (q.geo) {
      const g = geometryOf(e[q.geo.geoproperty]);
      if (!g || !matchesGeoQuery(g, q.geo)) return false;
    }
    if (q.q && !evaluate(q.q, e)) return false;
    return true;
  }

  private async lookup(): Promise<Lookup> {
    const profiles = new Map((await this.estate.listProfiles()).map((p) => [p.id, p]));
    return { profiles, deviceEntityIds: await this.repo.entityIdsOf(), siteTypes: new Map() };
  }

  /** Devices or sites that may match: the query's types, ids and geo-query narrowed in the estate's own queries. */
  private async derivedCandidates(viewer: Viewer, type: DerivedType, query: EntityQuery, lookup: Lookup, limit?: number): Promise<Candidate[]> {
    const filter: EstateFilter = { includePersonal: viewer.includePersonal };
    if (query.ids) {
      const ids = this.estateIdsFor(type, query.ids, lookup);
      if (!ids.length) return [];
      filter.ids = ids;
    }
    if (query.geo && query.geo.geoproperty === 'location') {
      const pre = prefilterOf(query.geo);
      if (pre.near) filter.near = pre.near;
      else if (pre.bbox) filter.bbox = pre.bbox;
    } else if (query.geo) return [];

    if (type === 'OffStreetParking' || type === 'Building') {
      const siteFilter = type === 'OffStreetParking' ? { ...filter, type: CAR_PARK_SITE } : filter;
      const sites = limit ? await this.estate.listSites({ ...siteFilter, limit }) : await this.allSites(siteFilter);
      return sites
        .filter((s) => (type === 'Building') === (s.type !== CAR_PARK_SITE))
        .map((s) => ({ entity: type === 'Building' ? buildingEntity(s) : offStreetParkingEntity(s), from: { kind: 'site', type, site: s }, complete: type === 'Building' }));
    }
    if (type === 'AirQualityObserved') filter.profileKey = AIR_QUALITY_PROFILE;
    if (type === 'ParkingSpot') filter.profileKey = PARKING_BAY_PROFILE;
    const devices = limit ? await this.estate.listDevices({ ...filter, limit }) : await this.allDevices(filter);
    await this.loadSiteTypes(devices, viewer, lookup);
    const out: Candidate[] = [];
    for (const d of devices) {
      const profile = lookup.profiles.get(d.profileId);
      if (!profile) continue;
      const deviceId = lookup.deviceEntityIds.get(d.id) ?? urn('Device', d.id);
      const siteType = d.siteId ? lookup.siteTypes.get(d.siteId) : undefined;
      const entity =
        type === 'Device' ? deviceEntity(d, profile, deviceId, siteType) : type === 'AirQualityObserved' ? airQualityEntity(d, profile, deviceId) : parkingSpotEntity(d, deviceId, siteType);
      out.push({ entity, from: { kind: 'device', type, device: d }, complete: false });
    }
    return out;
  }

  /** The estate ids behind the requested entity ids of one type. */
  private estateIdsFor(type: DerivedType, ids: string[], lookup: Lookup): string[] {
    const out: string[] = [];
    const byEntity = type === 'Device' ? new Map([...lookup.deviceEntityIds].map(([d, e]) => [e, d])) : undefined;
    for (const id of ids) {
      const named = byEntity?.get(id);
      if (named) {
        out.push(named);
        continue;
      }
      const p = parseUrn(id);
      if (p?.type === type && UUID.test(p.rest) && !(type === 'Device' && lookup.deviceEntityIds.has(p.rest))) out.push(p.rest);
    }
    return out;
  }

  private async allDevices(filter: EstateFilter): Promise<DeviceView[]> {
    if (filter.near) return this.estate.listDevices({ ...filter, limit: Number.MAX_SAFE_INTEGER });
    const out: DeviceView[] = [];
    for (let after: string | undefined; ; ) {
      const page = await this.estate.listDevices({ ...filter, limit: ESTATE_PAGE, after });
      out.push(...page);
      if (page.length < ESTATE_PAGE) return out;
      after = page[page.length - 1].id;
    }
  }

  private async allSites(filter: EstateFilter): Promise<SiteView[]> {
    if (filter.near) return this.estate.listSites({ ...filter, limit: Number.MAX_SAFE_INTEGER });
    const out: SiteView[] = [];
    for (let after: string | undefined; ; ) {
      const page = await this.estate.listSites({ ...filter, limit: ESTATE_PAGE, after });
      out.push(...page);
      if (page.length < ESTATE_PAGE) return out;
      after = page[page.length - 1].id;
    }
  }

  private async loadSiteTypes(devices: DeviceView[], viewer: Viewer, lookup: Lookup): Promise<void> {
    const missing = [...new Set(devices.map((d) => d.siteId).filter((s): s is string => !!s && !lookup.siteTypes.has(s)))];
    for (let i = 0; i < missing.length; i += 500) {
      const ids = missing.slice(i, i + 500);
      for (const s of await this.estate.listSites({ ids, includePersonal: viewer.includePersonal, limit: ids.length })) lookup.siteTypes.set(s.id, s.type);
    }
  }

  /** Adds the attributes that come from readings to the candidates that lack them. */
  private async complete(viewer: Viewer, candidates: Candidate[], lookup: Lookup): Promise<void> {
    const todo = candidates.filter((c) => !c.complete);
    if (!todo.length) return;
    const devices = todo.filter((c) => c.from.kind === 'device');
    if (devices.length) {
      const ids = [...new Set(devices.map((c) => (c.from as { device: DeviceView }).device.id))];
      const latest = await this.latestOf(ids);
      for (const c of devices) {
        const { type, device } = c.from as { type: DeviceSourceType; device: DeviceView };
        const profile = lookup.profiles.get(device.profileId) as Profile;
        const values = latest.get(device.id) ?? [];
        const deviceId = lookup.deviceEntityIds.get(device.id) ?? urn('Device', device.id);
        const siteType = device.siteId ? lookup.siteTypes.get(device.siteId) : undefined;
        c.entity =
          type === 'Device'
            ? deviceEntity(device, profile, deviceId, siteType, values)
            : type === 'AirQualityObserved'
              ? airQualityEntity(device, profile, deviceId, values)
              : parkingSpotEntity(device, deviceId, siteType, values);
        c.complete = true;
      }
    }
    const carParks = todo.filter((c) => c.from.kind === 'site' && c.from.type === 'OffStreetParking');
    if (carParks.length) {
      const siteIds = new Set(carParks.map((c) => (c.from as { site: SiteView }).site.id));
      const bays =
        siteIds.size <= 10
          ? (await Promise.all([...siteIds].map((siteId) => this.allDevices({ profileKey: PARKING_BAY_PROFILE, siteId, includePersonal: viewer.includePersonal })))).flat()
          : (await this.allDevices({ profileKey: PARKING_BAY_PROFILE, type: CAR_PARK_SITE, includePersonal: viewer.includePersonal })).filter((d) => d.siteId && siteIds.has(d.siteId));
      const latest = await this.latestOf(
        bays.map((b) => b.id),
        ['occupied'],
      );
      const baysAt = new Map<string, { latest?: Latest }[]>();
      for (const b of bays) {
        const here = baysAt.get(b.siteId as string) ?? [];
        here.push({ latest: latest.get(b.id)?.[0] });
        baysAt.set(b.siteId as string, here);
      }
      for (const c of carParks) {
        const site = (c.from as { site: SiteView }).site;
        c.entity = offStreetParkingEntity(site, baysAt.get(site.id) ?? []);
        c.complete = true;
      }
    }
    for (const c of todo) c.complete = true;
  }

  private async latestOf(deviceIds: string[], metrics?: string[]): Promise<Map<string, Latest[]>> {
    const out = new Map<string, Latest[]>();
    for (let i = 0; i < deviceIds.length; i += LATEST_CHUNK) {
      for (const r of await this.telemetry.latest(deviceIds.slice(i, i + LATEST_CHUNK), metrics)) {
        const list = out.get(r.deviceId) ?? [];
        list.push({ metric: r.metric, value: r.value, at: r.at });
        out.set(r.deviceId, list);
      }
    }
    return out;
  }

  private async storedCandidates(query: EntityQuery): Promise<Candidate[]> {
    // Only `location` has a stored box; other geo-properties are checked entity by entity.
    const pre = query.geo?.geoproperty === 'location' ? prefilterOf(query.geo) : {};
    const bbox = pre.bbox ?? (pre.near ? bboxAround([pre.near.lon, pre.near.lat], pre.near.metres) : undefined);
    const rows = await this.repo.list({ types: query.types, ids: query.ids, bbox });
    return rows.map((r) => ({ entity: storedEntity(r), from: { kind: 'stored' }, complete: true }));
  }

  // ---------------------------------------------------------------- types

  async types(viewer: Viewer): Promise<{ typeName: string; entityCount: number; attributeNames: string[] }[]> {
    const personal = { includePersonal: viewer.includePersonal };
    const [devices, air, bays, carParks, sites, stored, profiles] = await Promise.all([
      this.estate.countDevices(personal),
      this.estate.countDevices({ ...personal, profileKey: AIR_QUALITY_PROFILE }),
      this.estate.countDevices({ ...personal, profileKey: PARKING_BAY_PROFILE }),
      this.estate.countSites({ ...personal, type: CAR_PARK_SITE }),
      this.estate.countSites(personal),
      this.repo.countByType(),
      this.estate.listProfiles(),
    ]);
    const readings = [...new Set(profiles.flatMap(DEVICE_READING_ATTRIBUTES))];
    const derived: [DerivedType, number, string[]][] = [
      [
        'Device',
        devices,
        [
          'name',
          'category',
          'controlledProperty',
          'serialNumber',
          'deviceState',
          'refDeviceModel',
          'batteryLevel',
          'dateLastValueReported',
          'firmwareVersion',
          'controlledAsset',
          'location',
          ...readings,
        ],
      ],
      ['AirQualityObserved', air, ['name', 'refDevice', 'location', ...AIR_QUALITY_DYNAMIC]],
      ['ParkingSpot', bays, ['name', 'category', 'refDevice', 'refParkingSite', 'location', 'status']],
      ['OffStreetParking', carParks, ['name', 'address', 'areaServed', 'uprn', 'location', ...OFF_STREET_DYNAMIC]],
      ['Building', sites - carParks, ['name', 'category', 'description', 'address', 'areaServed', 'uprn', 'location']],
    ];
    const out = new Map<string, { typeName: string; entityCount: number; attributeNames: string[] }>();
    for (const [typeName, entityCount, attributeNames] of derived) if (entityCount > 0) out.set(typeName, { typeName, entityCount, attributeNames: [...new Set(attributeNames)].sort() });
    for (const s of stored) {
      const rows = await this.repo.list({ types: [s.type] });
      const names = new Set(rows.flatMap((r) => Object.keys(r.attrs_json)));
      const have = out.get(s.type);
      if (have) {
        have.entityCount += s.n;
        have.attributeNames = [...new Set([...have.attributeNames, ...names])].sort();
      } else out.set(s.type, { typeName: s.type, entityCount: s.n, attributeNames: [...names].sort() });
    }
    return [...out.values()].sort((a, b) => a.typeName.localeCompare(b.typeName));
  }

  // ---------------------------------------------------------------- writes

  /** What an id names: a Weft device (directly or by the NGSI-LD id it was created with), a site, or a stored entity. */
  private async resolve(viewer: Viewer, id: string): Promise<{ kind: 'device'; entity: Entity; device: DeviceView } | { kind: 'site'; entity: Entity } | { kind: 'stored'; row: StoredEntityRow }> {
    if (!isEntityId(id)) throw contextErrors.NGSI_ENTITY_NOT_FOUND(`There is no entity with the id "${id}".`);
    const row = await this.repo.find(id);
    if (row) return { kind: 'stored', row };
    const entity = await this.get(viewer, id);
    if (entity.type === 'OffStreetParking' || entity.type === 'Building') return { kind: 'site', entity };
    const deviceEntityId = entity.type === 'Device' ? entity.id : [(entity.refDevice as Attribute).object].flat()[0];
    const deviceId = (await this.repo.deviceIdFor(deviceEntityId as string)) ?? (parseUrn(deviceEntityId as string)?.rest as string);
    return { kind: 'device', entity, device: await this.estate.getDevice(deviceId, { includePersonal: viewer.includePersonal }) };
  }

  /**
   * Creates an entity. A Device becomes a Weft device of the profile its refDeviceModel
   * or controlledProperty names (with credentials, returned this once); any other type
   * is stored as it is.
   */
  async create(actor: Actor, body: Record<string, unknown>, origin: Origin = {}): Promise<{ id: string; device?: { id: string; credentials: unknown; readings?: IngestResult } }> {
    const { id, type } = body;
    if (!isEntityId(id)) throw contextErrors.NGSI_ENTITY_INVALID('An entity needs an "id" that is a URI, like urn:ngsi-ld:AirQualityObserved:station-7.');
    if (!isTypeName(type)) throw contextErrors.NGSI_ENTITY_INVALID('An entity needs a "type": a name of letters, digits and underscores, like AirQualityObserved.');
    const attrs = invalidInput(() => normaliseAttributes(body));
    await this.mustNotExist(id);
    if (type === 'Device') return this.createDevice(actor, id, attrs, origin);
    const parsed = parseUrn(id);
    if (parsed && (DERIVED_TYPES as readonly string[]).includes(parsed.type) && parsed.type !== type)
      throw contextErrors.NGSI_ENTITY_INVALID(`The id says the entity is a ${parsed.type} but its type is ${type}.`);
    const now = new Date();
    try {
      await this.db.transaction(async (trx) => {
        await this.repo.insert({ id, type, attrs_json: attrs, ...boxOf(attrs), created_at: now, modified_at: now }, trx);
        await this.audit.record(
          { actor, action: 'context.entity_create', summary: `Created NGSI-LD entity ${id}`, targetType: 'ngsi-entity', targetId: id, changes: { type, attributes: Object.keys(attrs) }, ...origin },
          trx,
        );
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw contextErrors.NGSI_ENTITY_EXISTS(`An entity with the id ${id} already exists.`);
      throw err;
    }
    return { id };
  }

  private async mustNotExist(id: string): Promise<void> {
    const exists = await this.get({ actor: { type: 'system', id: null, label: 'system', permissions: new Set(), roles: [] }, includePersonal: true }, id).then(
      () => true,
      (err) => {
        if (err instanceof AppError && err.code === 'NGSI_ENTITY_NOT_FOUND') return false;
        throw err;
      },
    );
    if (exists) throw contextErrors.NGSI_ENTITY_EXISTS(`An entity with the id ${id} already exists.`);
  }

  private async createDevice(actor: Actor, id: string, attrs: Record<string, Attribute>, origin: Origin) {
    const profiles = await this.estate.listProfiles();
    const profile = profileFor(profiles, attrs.refDeviceModel?.object, attrs.controlledProperty?.value);
    if (!profile) {
      const known = profiles.map((p) => `urn:ngsi-ld:DeviceModel:${p.key}`).join(', ');
      throw contextErrors.NGSI_DEVICE_PROFILE_UNKNOWN(`Say which kind of device this is: give refDeviceModel as one of ${known}, or a controlledProperty list that matches exactly one of them.`);
    }
    const tail = parseUrn(id)?.rest ?? id.replace(/^[^:]+:/, '');
    const weftId = UUID.test(tail) ? tail : newId();
    const text = (a: Attribute | undefined) => (a && typeof a.value === 'string' && a.value.trim() ? a.value.trim() : undefined);
    const serial = text(attrs.serialNumber) ?? tail.replace(/[^A-Za-z0-9._:/-]/g, '-').slice(0, 100);
    const position = attrs.location ? pointOf(attrs.location) : undefined;
    let siteId: string | null = null;
    if (attrs.controlledAsset) {
      const site = parseUrn(String([attrs.controlledAsset.object].flat()[0]));
      if (!site || !['Building', 'OffStreetParking'].includes(site.type) || !UUID.test(site.rest))
        throw contextErrors.NGSI_ENTITY_INVALID('controlledAsset must name the Building or OffStreetParking the device is at, like urn:ngsi-ld:Building:<site id>.');
      siteId = site.rest;
    }
    const { device, credentials } = await this.estate.createDevice(
      actor,
      {
        id: weftId,
        name: (text(attrs.name) ?? serial).slice(0, 200),
        serial,
        profile: profile.key,
        siteId,
        lat: position?.[1] ?? null,
        lon: position?.[0] ?? null,
        firmware: text(attrs.firmwareVersion)?.slice(0, 50) ?? null,
      },
      origin,
    );
    if (weftId !== tail) {
      try {
        await this.db.transaction(async (trx) => {
          await this.repo.insertDeviceId(id, device.id, trx);
          await this.audit.record({ actor, action: 'context.device_id', summary: `Gave device ${device.serial} the NGSI-LD id ${id}`, targetType: 'device', targetId: device.id, ...origin }, trx);
        });
      } catch (err) {
        // Another request took the id between the check and now: do not leave a device nobody can address.
        await this.estate.decommissionDevice(actor, device.id, origin);
        if (isUniqueViolation(err)) throw contextErrors.NGSI_ENTITY_EXISTS(`An entity with the id ${id} already exists.`);
        throw err;
      }
    }
    const auth = await this.estate.deviceAuth(device.id);
    const readings = auth ? this.readingsFor('Device', auth.profile, attrs, 'append') : { readings: [], notUpdated: [], names: [] };
    const result = auth && readings.readings.length ? await this.telemetry.ingest(auth, readings.readings, 'ngsi-ld') : undefined;
    return { id, device: { id: device.id, credentials, ...(result ? { readings: result } : {}) } };
  }

  /**
   * Updates (PATCH …/attrs) or appends (POST …/attrs) attributes. On a Weft device, a
   * numeric or true/false value of one of its metrics becomes a reading at observedAt
   * (or now); anything else is reported as not updated. A stored entity is changed.
   */
  async updateAttributes(viewer: Viewer, id: string, body: Record<string, unknown>, mode: 'update' | 'append', options: { noOverwrite?: boolean }, origin: Origin = {}): Promise<UpdateResult> {
    const attrs = invalidInput(() => normaliseAttributes(body, ['@context', 'id', 'type']));
    if (body.id !== undefined && body.id !== id) throw contextErrors.NGSI_ENTITY_INVALID('The id in the body is not the id in the address.');
    if (!Object.keys(attrs).length) throw contextErrors.NGSI_ENTITY_INVALID('Send at least one attribute.');
    const target = await this.resolve(viewer, id);
    if (target.kind === 'site') throw contextErrors.NGSI_OPERATION_NOT_SUPPORTED(`${target.entity.type} entities are Weft sites: change them through the estate API (/api/v1/sites).`);
    if (target.kind === 'device') return this.ingestAttributes(viewer.actor, target.entity.type as DeviceSourceType, target.device, attrs, mode, origin);
    return this.changeStored(viewer.actor, target.row, attrs, mode, options, origin);
  }

  /** Partial update of one attribute (PATCH …/attrs/{attrId}). */
  async updateAttribute(viewer: Viewer, id: string, attrName: string, body: Record<string, unknown>, origin: Origin = {}): Promise<void> {
    const target = await this.resolve(viewer, id);
    if (target.kind === 'site') throw contextErrors.NGSI_OPERATION_NOT_SUPPORTED(`${target.entity.type} entities are Weft sites: change them through the estate API (/api/v1/sites).`);
    if (target.kind === 'stored') {
      const current = target.row.attrs_json[attrName];
      if (!current) throw contextErrors.NGSI_ATTRIBUTE_NOT_FOUND(`The entity ${id} has no attribute ${attrName}.`);
      const fragment = Object.fromEntries(Object.entries(body).filter(([k]) => k !== '@context'));
      const merged = invalidInput(() => normaliseAttribute(attrName, { ...current, ...fragment, type: fragment.type ?? current.type }));
      await this.changeStored(viewer.actor, target.row, { [attrName]: merged }, 'update', {}, origin);
      return;
    }
    const attr = invalidInput(() => normaliseAttribute(attrName, { type: 'Property', ...Object.fromEntries(Object.entries(body).filter(([k]) => k !== '@context')) }));
    const result = await this.ingestAttributes(viewer.actor, target.entity.type as DeviceSourceType, target.device, { [attrName]: attr }, 'update', origin);
    const failed = result.notUpdated[0];
    if (failed) {
      if (failed.reason.startsWith('The entity has no attribute')) throw contextErrors.NGSI_ATTRIBUTE_NOT_FOUND(`The entity ${id} has no attribute ${attrName} that can be updated.`);
      throw contextErrors.NGSI_ENTITY_INVALID(`${attrName}: ${failed.reason}`);
    }
  }

  private readingsFor(type: DeviceSourceType, profile: Profile, attrs: Record<string, Attribute>, mode: 'update' | 'append') {
    const byAttr = metricsByAttribute(profile);
    const readings: ReadingInput[] = [];
    const names: string[] = [];
    const notUpdated: UpdateResult['notUpdated'] = [];
    const allowed = type === 'Device' ? new Set(byAttr.keys()) : type === 'ParkingSpot' ? new Set(['status']) : new Set([...byAttr.keys()].filter((a) => AIR_QUALITY_DYNAMIC.includes(a)));
    for (const [name, attr] of Object.entries(attrs)) {
      if (!allowed.has(name)) {
        if (
          mode === 'update' ||
          !['name', 'location', 'refDevice', 'refDeviceModel', 'controlledProperty', 'serialNumber', 'category', 'controlledAsset', 'firmwareVersion', 'refParkingSite'].includes(name)
        )
          notUpdated.push({ attributeName: name, reason: `The entity has no attribute ${name} that takes readings: ${type === 'ParkingSpot' ? 'only status' : `only ${[...allowed].join(', ')}`}.` });
        continue;
      }
      if (attr.type !== 'Property') {
        notUpdated.push({ attributeName: name, reason: 'Only a Property can be updated.' });
        continue;
      }
      let metric: string;
      let value: number | boolean | undefined;
      if (type === 'ParkingSpot') {
        metric = 'occupied';
        value = attr.value === 'occupied' ? 1 : attr.value === 'free' ? 0 : undefined;
        if (value === undefined) {
          notUpdated.push({ attributeName: name, reason: 'status must be "free" or "occupied".' });
          continue;
        }
      } else {
        const m = byAttr.get(name) as { metric: { name: string }; scale: number };
        metric = m.metric.name;
        value = readingValue(attr.value, m.scale);
        if (value === undefined) {
          notUpdated.push({ attributeName: name, reason: 'The value must be a number or true/false: it becomes a reading.' });
          continue;
        }
      }
      readings.push({ metric, value, ...(attr.observedAt ? { at: attr.observedAt as string } : {}) });
      names.push(name);
    }
    return { readings, names, notUpdated };
  }

  private async ingestAttributes(actor: Actor, type: DeviceSourceType, device: DeviceView, attrs: Record<string, Attribute>, mode: 'update' | 'append', origin: Origin = {}): Promise<UpdateResult> {
    if (actor.type === 'device' && actor.id !== device.id) throw platformErrors.FORBIDDEN('A device may only update its own entities.');
    const auth: DeviceAuth | undefined = await this.estate.deviceAuth(device.id);
    if (!auth) throw contextErrors.NGSI_ENTITY_NOT_FOUND('The device has been decommissioned.');
    const { readings, names, notUpdated } = this.readingsFor(type, auth.profile, attrs, mode);
    const updated: string[] = [];
    if (readings.length) {
      const result = await this.telemetry.ingest(auth, readings, 'ngsi-ld');
      const bad = new Map(result.quarantined.map((q) => [q.index, q.reason]));
      names.forEach((name, i) => {
        const reason = bad.get(i);
        if (reason) notUpdated.push({ attributeName: name, reason: `The reading was quarantined: ${reason}` });
        else updated.push(name);
      });
      // A device's own readings are data, not a change someone made; a person's or a key's are audited.
      if (actor.type !== 'device' && updated.length)
        await this.audit.record({
          actor,
          action: 'context.readings',
          summary: `Sent ${updated.join(', ')} of ${device.name} as readings through NGSI-LD`,
          targetType: 'device',
          targetId: device.id,
          ...origin,
        });
    }
    return { updated, notUpdated };
  }

  private async changeStored(
    actor: Actor,
    row: StoredEntityRow,
    attrs: Record<string, Attribute>,
    mode: 'update' | 'append',
    options: { noOverwrite?: boolean },
    origin: Origin,
  ): Promise<UpdateResult> {
    if (actor.type === 'device') throw platformErrors.FORBIDDEN('A device may only update its own entities.');
    const next = { ...row.attrs_json };
    const updated: string[] = [];
    const notUpdated: UpdateResult['notUpdated'] = [];
    for (const [name, attr] of Object.entries(attrs)) {
      const exists = name in next;
      if (mode === 'update' && !exists) notUpdated.push({ attributeName: name, reason: `The entity has no attribute ${name}: append it with POST instead.` });
      else if (mode === 'append' && exists && options.noOverwrite) notUpdated.push({ attributeName: name, reason: `${name} exists and noOverwrite was asked for.` });
      else {
        next[name] = attr;
        updated.push(name);
      }
    }
    if (updated.length) {
      await this.db.transaction(async (trx) => {
        await this.repo.update(row.id, { attrs_json: next, ...boxOf(next), modified_at: new Date() }, trx);
        await this.audit.record(
          {
            actor,
            action: 'context.entity_update',
            summary: `Changed ${updated.join(', ')} of NGSI-LD entity ${row.id}`,
            targetType: 'ngsi-entity',
            targetId: row.id,
            changes: { updated },
            ...origin,
          },
          trx,
        );
      });
    }
    return { updated, notUpdated };
  }

  async deleteEntity(viewer: Viewer, id: string, origin: Origin = {}): Promise<void> {
    const target = await this.resolve(viewer, id);
    if (target.kind !== 'stored')
      throw contextErrors.NGSI_OPERATION_NOT_SUPPORTED(`${id} is a Weft ${target.kind}: ${target.kind === 'device' ? 'decommission it' : 'delete it'} through the estate API.`);
    await this.db.transaction(async (trx) => {
      await this.repo.delete(id, trx);
      await this.audit.record({ actor: viewer.actor, action: 'context.entity_delete', summary: `Deleted NGSI-LD entity ${id}`, targetType: 'ngsi-entity', targetId: id, ...origin }, trx);
    });
  }

  async deleteAttribute(viewer: Viewer, id: string, attrName: string, origin: Origin = {}): Promise<void> {
    const target = await this.resolve(viewer, id);
    if (target.kind !== 'stored') throw contextErrors.NGSI_OPERATION_NOT_SUPPORTED(`The attributes of ${id} come from Weft and cannot be deleted.`);
    if (!(attrName in target.row.attrs_json)) throw contextErrors.NGSI_ATTRIBUTE_NOT_FOUND(`The entity ${id} has no attribute ${attrName}.`);
    const next = { ...target.row.attrs_json };
    delete next[attrName];
    await this.db.transaction(async (trx) => {
      await this.repo.update(id, { attrs_json: next, ...boxOf(next), modified_at: new Date() }, trx);
      await this.audit.record(
        { actor: viewer.actor, action: 'context.entity_update', summary: `Deleted ${attrName} of NGSI-LD entity ${id}`, targetType: 'ngsi-entity', targetId: id, ...origin },
        trx,
      );
    });
  }

  // ---------------------------------------------------------------- temporal

  /**
   * The history of an entity's attributes from the readings: raw instances (the last
   * `lastN`, at most 1,000 per attribute) or aggregates per period. Entities without
   * readings answer with their current attributes as single instances.
   */
  async temporal(viewer: Viewer, id: string, req: TemporalRequest): Promise<{ entity: Entity; attributes: Record<string, TemporalAttribute> }> {
    const target = await this.resolve(viewer, id);
    const entity = target.kind === 'stored' ? storedEntity(target.row) : target.entity;
    const attributes: Record<string, TemporalAttribute> = {};
    if (target.kind !== 'device') {
      for (const [name, a] of Object.entries(entity)) {
        if (name === 'id' || name === 'type' || name === 'createdAt' || name === 'modifiedAt') continue;
        if (req.attrs && !req.attrs.includes(name)) continue;
        attributes[name] = { kind: 'instances', type: (a as Attribute).type, instances: [{ value: simpleValue(a as Attribute), at: (a as Attribute).observedAt as string | undefined }] };
      }
      return { entity, attributes };
    }
    const auth = await this.estate.deviceAuth(target.device.id);
    if (!auth) throw contextErrors.NGSI_ENTITY_NOT_FOUND('The device has been decommissioned.');
    const series = temporalSeries(entity.type as DeviceSourceType, auth.profile).filter((s) => !req.attrs || req.attrs.includes(s.attr));
    const now = new Date();
    const { from, to } = temporalWindow(req, now);
    for (const s of series) {
      if (req.aggregate) {
        if (!from) throw contextErrors.NGSI_PARAMETER_INVALID('Aggregated values need a time range: give timerel and timeAt (and endTimeAt for between).');
        attributes[s.attr] = {
          kind: 'aggregated',
          type: 'Property',
          periods: await this.aggregateSeries(auth.deviceId, s.metric, from, to, req.aggregate.periodSeconds),
          scale: s.scale,
          methods: req.aggregate.methods,
        };
        continue;
      }
      const limit = Math.min(req.lastN ?? MAX_INSTANCES, MAX_INSTANCES);
      const rows = from ? (await this.telemetry.range(auth.deviceId, s.metric, from, to, 100_000)).slice(-limit) : (await this.telemetry.recent(auth.deviceId, s.metric, limit)).reverse();
      if (!rows.length) continue;
      attributes[s.attr] = { kind: 'instances', type: 'Property', instances: rows.map((r) => ({ value: s.value(r.value), at: r.at.toISOString() })), unitCode: s.unitCode };
    }
    return { entity, attributes };
  }

  private async aggregateSeries(deviceId: string, metric: string, from: Date, to: Date, periodSeconds?: number): Promise<AggregatePeriod[]> {
    if (periodSeconds) {
      const rows = await this.telemetry.aggregate(deviceId, metric, from, to, periodSeconds);
      return rows.map((r) => ({ start: r.at, end: new Date(Math.min(r.at.getTime() + periodSeconds * 1000, to.getTime())), count: r.count, min: r.min, max: r.max, sum: r.mean * r.count }));
    }
    // The whole range as one period, summed from hourly (or, for long ranges, daily) buckets.
    const bucket = to.getTime() - from.getTime() > 9000 * 3_600_000 ? 86_400 : 3600;
    const rows = await this.telemetry.aggregate(deviceId, metric, from, to, bucket);
    if (!rows.length) return [];
    return [
      {
        start: from,
        end: to,
        count: rows.reduce((n, r) => n + r.count, 0),
        min: Math.min(...rows.map((r) => r.min)),
        max: Math.max(...rows.map((r) => r.max)),
        sum: rows.reduce((n, r) => n + r.mean * r.count, 0),
      },
    ];
  }
}

export type TemporalAttribute =
  | { kind: 'instances'; type: string; instances: { value: unknown; at?: string }[]; unitCode?: string }
  | { kind: 'aggregated'; type: string; periods: AggregatePeriod[]; scale: number; methods: AggregateMethod[] };

export interface AggregatePeriod {
  start: Date;
  end: Date;
  count: number;
  min: number;
  max: number;
  sum: number;
}

/** The attributes of a device-backed entity that have a history, and how a reading becomes their value. */
function temporalSeries(type: DeviceSourceType, profile: Profile): { attr: string; metric: string; scale: number; unitCode?: string; value: (v: number) => unknown }[] {
  if (type === 'ParkingSpot') return [{ attr: 'status', metric: 'occupied', scale: 1, value: (v) => (isOn(v) ? 'occupied' : 'free') }];
  return profile.metrics
    .filter((m) => type === 'Device' || AIR_QUALITY_DYNAMIC.includes(attributeOf(m.name).attr))
    .map((m) => {
      const { attr, scale = 1 } = attributeOf(m.name);
      return { attr, metric: m.name, scale, unitCode: unitCodeOf(m), value: (v: number) => (scale === 1 ? v : Math.round(v * scale * 1e6) / 1e6) };
    });
}

function temporalWindow(req: TemporalRequest, now: Date): { from?: Date; to: Date } {
  const soon = new Date(now.getTime() + 5 * 60_000);
  switch (req.timerel) {
    case 'before':
      return { from: new Date((req.timeAt as Date).getTime() - MAX_TEMPORAL_SPAN_MS), to: req.timeAt as Date };
    case 'after': {
      const from = req.timeAt as Date;
      return { from, to: new Date(Math.min(soon.getTime(), from.getTime() + MAX_TEMPORAL_SPAN_MS)) };
    }
    case 'between':
      return { from: req.timeAt as Date, to: req.endTimeAt as Date };
    default:
      return { to: soon };
  }
}

function invalidInput<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InputError) throw contextErrors.NGSI_ENTITY_INVALID(err.message);
    throw err;
  }
}

function storedEntity(row: StoredEntityRow): Entity {
  return { id: row.id, type: row.type, createdAt: row.created_at.toISOString(), modifiedAt: row.modified_at.toISOString(), ...row.attrs_json };
}

function geometryOf(a: unknown): Geometry | undefined {
  const value = a && typeof a === 'object' && !Array.isArray(a) ? (a as Attribute).value : undefined;
  if (!value) return undefined;
  try {
    return checkGeometry(value);
  } catch (err) {
    if (err instanceof GeoQueryError) return undefined;
    throw err;
  }
}

function pointOf(a: Attribute): [number, number] {
  const g = geometryOf(a);
  if (g?.type !== 'Point') throw contextErrors.NGSI_ENTITY_INVALID('A device’s location must be a GeoJSON Point with [longitude, latitude].');
  return [g.coordinates[0], g.coordinates[1]];
}

/** The stored bounding box of an entity's location, checked as GeoJSON. */
function boxOf(attrs: Record<string, Attribute>): { min_lon: number | null; min_lat: number | null; max_lon: number | null; max_lat: number | null } {
  const loc = attrs.location;
  if (loc?.type !== 'GeoProperty') return { min_lon: null, min_lat: null, max_lon: null, max_lat: null };
  let g: Geometry;
  try {
    g = checkGeometry(loc.value, 'location');
  } catch (err) {
    if (err instanceof GeoQueryError) throw contextErrors.NGSI_ENTITY_INVALID(err.message);
    throw err;
  }
  const [min_lon, min_lat, max_lon, max_lat] = bboxOf(g);
  return { min_lon, min_lat, max_lon, max_lat };
}
