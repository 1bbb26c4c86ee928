import { randomBytes } from 'node:crypto';
import type { Origin } from '../../platform/audit/origin.js';
import { type Actor, can } from '../../platform/auth/actor.js';
import { hashToken, safeEqual } from '../../platform/auth/secrets.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import { isUniqueViolation, toJson } from '../../platform/db/dialect.js';
import type { EventBus } from '../../platform/events/index.js';
import { isUuid, newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import type { Logger } from '../../services.js';
import { estateErrors } from './estate.errors.js';
import { type DeviceRow, type DevicesTable, EstateRepository, type SitesTable } from './estate.repository.js';
import type {
  AreaImportOptions,
  AreaView,
  DeviceAuth,
  DeviceCreate,
  DeviceCredentials,
  DeviceUpdate,
  DeviceView,
  EstateFilter,
  PostcodeImport,
  PostcodeView,
  Profile,
  ProfileCreate,
  ProfileUpdate,
  SiteCreate,
  SiteType,
  SiteUpdate,
  SiteView,
} from './estate.schema.js';
import { type AreaFinder, AreaIndex } from './areas.js';
import { EstateImports } from './estate.imports.js';
import { bboxAround, distanceMetres } from './geo.js';
import { connectivityRow, isPersonalType, normalisePostcode, postcodeKey, toDeviceView, toProfile, toSiteView } from './mapping.js';
import { BUILT_IN_PROFILES } from './profiles.js';

export type { Origin } from '../../platform/audit/origin.js';

export interface EstateOptions {
  /** runs long CSV imports in the background */
  jobs?: JobQueue;
  log?: Logger;
  /** how long a resolved device credential is trusted without asking the database (ms) */
  authCacheMs?: number;
  /** how often noteSeen's updates are written (ms) */
  flushMs?: number;
}

export const DEVICE_TOKEN_PREFIX = 'wdev_';
const DEFAULT_LIMIT = 100;

interface CachedAuth {
  auth: DeviceAuth;
  mqttHash: string;
  expires: number;
}

/** What changed, for the caches of every process: a device, the devices of a site, the profiles, the areas. */
interface Changed {
  deviceId?: string;
  siteId?: string;
  profiles?: boolean;
  areas?: boolean;
}

interface Seen {
  at: Date;
  battery: number | null;
}

/** Sites, areas, connectivity, device profiles, devices and their credentials, device health. */
export class EstateService {
  readonly repo: EstateRepository;
  readonly areas: AreaIndex;
  /** CSV and GeoJSON imports, CSV export, import jobs */
  readonly imports: EstateImports;
  private readonly log: Logger;
  private readonly authCacheMs: number;
  private readonly flushMs: number;
  private readonly authCache = new Map<string, CachedAuth>();
  private profilesById = new Map<string, Profile>();
  private profilesReady?: Promise<void>;
  private pending = new Map<string, Seen>();
  private flushTimer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly offChanged: () => void;

  constructor(
    readonly db: Db,
    readonly audit: AuditService,
    readonly events: EventBus,
    readonly secret: string,
    readonly options: EstateOptions = {},
  ) {
    this.repo = new EstateRepository(db);
    this.areas = new AreaIndex(this.repo);
    this.imports = new EstateImports(this, options.jobs);
    this.log = options.log ?? { info() {}, warn() {}, error() {} };
    this.authCacheMs = options.authCacheMs ?? 30_000;
    this.flushMs = options.flushMs ?? 1000;
    // Another process changed a device or profile: forget what this one remembers about it.
    this.offChanged = events.on('estate.changed', (p: Changed) => this.forget(p));
  }

  // ---------------------------------------------------------------- device credentials (ingest hot path)

  /** The bearer resolver for `wdev_` tokens. */
  async actorForDeviceToken(token: string): Promise<Actor | undefined> {
    const auth = await this.deviceForToken(token);
    if (!auth) return undefined;
    return { type: 'device', id: auth.deviceId, label: auth.name, permissions: new Set(['telemetry:ingest']), roles: [] };
  }

  async deviceForToken(token: string): Promise<DeviceAuth | undefined> {
    if (!token.startsWith(DEVICE_TOKEN_PREFIX) || token.length > 200) return undefined;
    const hash = hashToken(this.secret, token);
    return (await this.cachedAuth(`t:${hash}`, () => this.repo.findDeviceBy('token_hash', hash)))?.auth;
  }

  /** MQTT CONNECT: the username is the device id, the password its MQTT password. */
  async deviceForMqtt(username: string, password: string | Buffer): Promise<DeviceAuth | undefined> {
    if (!isUuid(username)) return undefined;
    const entry = await this.cachedAuth(`i:${username.toLowerCase()}`, () => this.repo.findDeviceBy('id', username.toLowerCase()));
    if (!entry) return undefined;
    return safeEqual(hashToken(this.secret, password.toString()), entry.mqttHash) ? entry.auth : undefined;
  }

  /** LoRaWAN DevEUI, 16 hex digits (any case). */
  async deviceForExternalId(externalId: string): Promise<DeviceAuth | undefined> {
    if (!/^[0-9a-fA-F]{16}$/.test(externalId)) return undefined;
    const key = externalId.toLowerCase();
    return (await this.cachedAuth(`x:${key}`, () => this.repo.findDeviceBy('external_id', key)))?.auth;
  }

  async deviceAuth(deviceId: string): Promise<DeviceAuth | undefined> {
    if (!isUuid(deviceId)) return undefined;
    return (await this.cachedAuth(`i:${deviceId.toLowerCase()}`, () => this.repo.findDeviceBy('id', deviceId.toLowerCase())))?.auth;
  }

  private async cachedAuth(key: string, load: () => Promise<DeviceRow | undefined>): Promise<CachedAuth | undefined> {
    const now = Date.now();
    const hit = this.authCache.get(key);
    if (hit && hit.expires > now) return hit;
    const row = await load();
    if (!row || row.status === 'decommissioned') {
      this.authCache.delete(key);
      return undefined;
    }
    const profile = await this.profileById(row.profile_id);
    const entry: CachedAuth = {
      auth: { deviceId: row.id, name: row.name, profile, siteId: row.site_id, areaId: row.area_id, isPersonal: !!row.is_personal },
      mqttHash: row.mqtt_password_hash,
      expires: now + this.authCacheMs,
    };
    this.authCache.set(key, entry);
    return entry;
  }

  private forget(p: Changed): void {
    if (p.profiles) {
      this.profilesById.clear();
      this.authCache.clear();
    }
    if (p.areas) {
      // Devices may have moved area: what ingest knows of them is out of date.
      this.areas.invalidate();
      this.authCache.clear();
    }
    if (p.deviceId || p.siteId) for (const [key, entry] of this.authCache) if (entry.auth.deviceId === p.deviceId || (p.siteId && entry.auth.siteId === p.siteId)) this.authCache.delete(key);
  }

  /** Forgets a device here at once, and in every other process through the event bus. */
  async changed(p: Changed): Promise<void> {
    this.forget(p);
    await this.events.emit('estate.changed', p);
  }

  // ---------------------------------------------------------------- last seen, health

  /** Notes that a device was heard from; written in batches about once a second. Never throws. */
  noteSeen(deviceId: string, at: Date, battery?: number): void {
    // A clock in the future must not keep a device "online" for ever.
    const when = at.getTime() > Date.now() ? new Date() : at;
    const prev = this.pending.get(deviceId);
    const b = battery === undefined || !Number.isFinite(battery) ? null : Math.max(0, Math.min(100, battery));
    if (!prev) this.pending.set(deviceId, { at: when, battery: b });
    else {
      if (when > prev.at) prev.at = when;
      if (b !== null) prev.battery = b;
    }
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.flush().catch((err) => this.log.error({ err }, 'estate: writing last-seen times failed'));
      }, this.flushMs);
      this.flushTimer.unref();
    }
  }

  /** Writes what noteSeen gathered; publishes device.online and device.battery_low. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(
      () => this.flushNow(),
      () => this.flushNow(),
    );
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    if (!this.pending.size) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      const states = await this.repo.deviceStates([...batch.keys()]);
      const touches = [];
      const online: string[] = [];
      const low: { deviceId: string; batteryPercent: number; thresholdPercent: number }[] = [];
      for (const s of states) {
        const seen = batch.get(s.id) as Seen;
        const comesBack = s.status === 'offline';
        if (comesBack) online.push(s.id);
        touches.push({ id: s.id, at: seen.at, battery: seen.battery, status: comesBack ? 'active' : s.status });
        const threshold = s.battery_low_percent;
        if (seen.battery !== null && threshold > 0 && seen.battery <= threshold && (s.battery_percent === null || s.battery_percent > threshold)) {
          low.push({ deviceId: s.id, batteryPercent: seen.battery, thresholdPercent: threshold });
        }
      }
      await this.repo.touchDevices(touches);
      for (const deviceId of online) await this.events.emit('device.online', { deviceId });
      for (const e of low) await this.events.emit('device.battery_low', e);
    } catch (err) {
      // Keep what was not written for the next flush (newer news wins).
      for (const [id, seen] of batch) if (!this.pending.has(id)) this.pending.set(id, seen);
      throw err;
    }
  }

  /** Marks active devices that missed their reporting interval × tolerance as offline; publishes device.offline. */
  async checkHealth(now = new Date()): Promise<{ offline: string[] }> {
    await this.flush();
    const offline: string[] = [];
    for (const profile of await this.listProfiles()) {
      const cutoff = new Date(now.getTime() - profile.reportIntervalSeconds * profile.offlineTolerance * 1000);
      const ids = await this.repo.markOffline(profile.id, cutoff, now);
      for (const deviceId of ids) await this.events.emit('device.offline', { deviceId, profileKey: profile.key });
      offline.push(...ids);
    }
    return { offline };
  }

  /** Writes pending last-seen updates; called on shutdown. */
  async close(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.offChanged();
    await this.flush().catch((err) => this.log.error({ err }, 'estate: writing last-seen times on close failed'));
  }

  // ---------------------------------------------------------------- profiles

  /** The built-in profiles are added on first use, once, by whichever process gets there first. */
  private ensureProfiles(): Promise<void> {
    this.profilesReady ??= this.seedProfiles().catch((err) => {
      this.profilesReady = undefined;
      throw err;
    });
    return this.profilesReady;
  }

  private async seedProfiles(): Promise<void> {
    const now = new Date();
    const existing = new Set((await this.repo.listProfiles()).map((p) => p.key));
    const missing = BUILT_IN_PROFILES.filter((p) => !existing.has(p.key));
    await this.repo.insertProfilesIfMissing(
      missing.map((p) => ({
        id: newId(),
        key: p.key,
        name: p.name,
        description: p.description,
        metrics_json: toJson(p.metrics),
        report_interval_seconds: p.reportIntervalSeconds,
        offline_tolerance: p.offlineTolerance,
        battery_low_percent: p.batteryLowPercent,
        raw_retention_days: p.rawRetentionDays,
        decoder_json: toJson(p.decoder),
        is_built_in: true,
        created_at: now,
        updated_at: now,
      })),
    );
  }

  async listProfiles(): Promise<Profile[]> {
    await this.ensureProfiles();
    const profiles = (await this.repo.listProfiles()).map(toProfile);
    for (const p of profiles) this.profilesById.set(p.id, p);
    return profiles;
  }

  async getProfile(idOrKey: string): Promise<Profile> {
    await this.ensureProfiles();
    const row = await this.repo.findProfile(idOrKey);
    if (!row) throw estateErrors.PROFILE_NOT_FOUND();
    return toProfile(row);
  }

  private async profileById(id: string): Promise<Profile> {
    const hit = this.profilesById.get(id);
    if (hit) return hit;
    const profile = await this.getProfile(id);
    this.profilesById.set(id, profile);
    return profile;
  }

  async createProfile(actor: Actor, input: ProfileCreate, origin: Origin = {}): Promise<Profile> {
    await this.ensureProfiles();
    const id = newId();
    const now = new Date();
    try {
      await this.db.transaction(async (trx) => {
        await this.repo.insertProfile({ id, key: input.key, ...profileColumns(input), is_built_in: false, created_at: now, updated_at: now } as never, trx);
        await this.audit.record({ actor, action: 'estate.profile_create', summary: `Created device profile ${input.key}`, targetType: 'device_profile', targetId: id, changes: input, ...origin }, trx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw estateErrors.PROFILE_KEY_TAKEN();
      throw err;
    }
    return this.getProfile(id);
  }

  async updateProfile(actor: Actor, idOrKey: string, input: ProfileUpdate, origin: Origin = {}): Promise<Profile> {
    const before = await this.getProfile(idOrKey);
    if (before.isBuiltIn) throw estateErrors.PROFILE_BUILT_IN();
    await this.db.transaction(async (trx) => {
      await this.repo.updateProfile(before.id, { ...profileColumns(input), updated_at: new Date() }, trx);
      await this.audit.record(
        { actor, action: 'estate.profile_update', summary: `Changed device profile ${before.key}`, targetType: 'device_profile', targetId: before.id, changes: input, ...origin },
        trx,
      );
    });
    await this.changed({ profiles: true });
    return this.getProfile(before.id);
  }

  async deleteProfile(actor: Actor, idOrKey: string, origin: Origin = {}): Promise<void> {
    const before = await this.getProfile(idOrKey);
    if (before.isBuiltIn) throw estateErrors.PROFILE_BUILT_IN();
    await this.db.transaction(async (trx) => {
      if (await this.repo.countDevicesWithProfile(before.id, trx)) throw estateErrors.PROFILE_IN_USE();
      await this.repo.deleteProfile(before.id, trx);
      await this.audit.record({ actor, action: 'estate.profile_delete', summary: `Deleted device profile ${before.key}`, targetType: 'device_profile', targetId: before.id, ...origin }, trx);
    });
    await this.changed({ profiles: true });
  }

  // ---------------------------------------------------------------- areas

  listAreas(): Promise<AreaView[]> {
    return this.areas.list();
  }

  /** The area a point lies in (wards before neighbourhoods), if any. */
  async areaFor(lat: number, lon: number): Promise<AreaView | undefined> {
    return this.areas.find(lat, lon);
  }

  // ---------------------------------------------------------------- the postcode list

  /** A postcode's centre and area from the council's postcode list; undefined when the text is not a postcode or the list lacks it. */
  async lookupPostcode(text: string): Promise<PostcodeView | undefined> {
    const key = postcodeKey(text);
    const row = key ? await this.repo.findPostcode(key) : undefined;
    return row && { postcode: row.postcode, lat: Number(row.lat), lon: Number(row.lon), areaId: row.area_id };
  }

  /** As lookupPostcode, but a text that is not a postcode, or one not in the list, is an error (for the API). */
  async getPostcode(text: string): Promise<PostcodeView> {
    if (!postcodeKey(text)) throw estateErrors.POSTCODE_INVALID();
    const found = await this.lookupPostcode(text);
    if (!found) throw estateErrors.POSTCODE_NOT_FOUND();
    return found;
  }

  /** Loads the council's postcode list from CSV (estate.imports.ts): all rows or none. */
  importPostcodes(actor: Actor, csvText: string, origin: Origin = {}): Promise<PostcodeImport> {
    return this.imports.importPostcodes(actor, csvText, origin);
  }

  // ---------------------------------------------------------------- sites

  /** Homes are hidden from anyone without homes:read; the system itself (CLI, demo) sees everything. */
  maySeeHomes(actor: Actor): boolean {
    return actor.type === 'system' || can(actor, 'homes:read');
  }

  /**
   * Who may write a site or a device: a resident's home, or a device at one, needs homes:manage;
   * the rest of the estate needs estate:manage. The system (CLI, demo) may do both. A LoRaWAN
   * integration registers unknown devices of its default profile, outside any home: whoever set
   * it up held estate:manage.
   */
  mayWrite(actor: Actor, personal: boolean): boolean {
    if (actor.type === 'system') return true;
    if (personal) return can(actor, 'homes:manage');
    return actor.type === 'integration' || can(actor, 'estate:manage');
  }

  /** Throws PERSONAL_SITE_FORBIDDEN (a home) or ESTATE_MANAGE_REQUIRED (anything else) unless mayWrite. */
  checkWrite(actor: Actor, personal: boolean): void {
    if (this.mayWrite(actor, personal)) return;
    throw personal ? estateErrors.PERSONAL_SITE_FORBIDDEN() : estateErrors.ESTATE_MANAGE_REQUIRED();
  }

  /** Whether a write may find a home: those who may see homes or change them; to anyone else homes do not exist. */
  private mayFindHomes(actor: Actor): boolean {
    return this.maySeeHomes(actor) || can(actor, 'homes:manage');
  }

  async getSite(id: string, options: { includePersonal?: boolean } = {}): Promise<SiteView> {
    const row = isUuid(id) ? await this.repo.findSite(id.toLowerCase()) : undefined;
    if (!row || (row.is_personal && options.includePersonal === false)) throw estateErrors.SITE_NOT_FOUND();
    return toSiteView(row);
  }

  async listSites(filter: EstateFilter = {}): Promise<SiteView[]> {
    const f = { ...filter, limit: filter.near ? undefined : (filter.limit ?? DEFAULT_LIMIT) };
    if (filter.near) f.bbox = bboxAround(filter.near.lat, filter.near.lon, filter.near.metres);
    const sites = (await this.repo.listSites(f)).map(toSiteView);
    return filter.near ? nearest(sites, filter.near, filter.limit ?? DEFAULT_LIMIT) : sites;
  }

  countSites(filter: EstateFilter = {}): Promise<number> {
    return this.repo.countSites(filter);
  }

  async createSite(actor: Actor, input: SiteCreate, origin: Origin = {}): Promise<SiteView> {
    this.checkWrite(actor, isPersonalType(input.type));
    checkPosition(input.lat, input.lon);
    const id = input.id?.toLowerCase() ?? newId();
    const row = this.siteRow(id, input, new Date(), await this.areas.finder());
    try {
      await this.db.transaction(async (trx) => {
        await this.repo.insertSites([row], trx);
        if (input.connectivity) await this.repo.insertConnectivity([connectivityRow(id, input.connectivity, row.updated_at)], trx);
        await this.audit.record(
          { actor, action: 'estate.site_create', summary: `Created ${input.type} site ${siteLabel(row)}`, targetType: 'site', targetId: id, changes: redactSite(input), ...origin },
          trx,
        );
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw estateErrors.SITE_ID_TAKEN();
      throw err;
    }
    return this.getSite(id);
  }

  /** A sites row from validated input, placed in its area. */
  siteRow(id: string, input: SiteCreate, now: Date, areaOf: AreaFinder): SitesTable {
    const lat = input.lat ?? null;
    const lon = input.lon ?? null;
    return {
      id,
      type: input.type,
      name: input.name.trim(),
      address: input.address.trim(),
      postcode: normalisePostcode(input.postcode),
      uprn: input.uprn || null,
      lat,
      lon,
      area_id: areaOf(lat, lon),
      tags_json: toJson(input.tags ?? []),
      owner_team: input.ownerTeam?.trim() || null,
      is_personal: isPersonalType(input.type),
      created_at: now,
      updated_at: now,
    };
  }

  async updateSite(actor: Actor, id: string, input: SiteUpdate, origin: Origin = {}): Promise<SiteView> {
    const before = await this.getSite(id, { includePersonal: this.mayFindHomes(actor) });
    const type = input.type ?? before.type;
    // Both what the site is and what it becomes: a school cannot be turned into a home, or back, without both permissions.
    this.checkWrite(actor, before.isPersonal);
    this.checkWrite(actor, isPersonalType(type));
    const lat = input.lat !== undefined ? input.lat : before.lat;
    const lon = input.lon !== undefined ? input.lon : before.lon;
    checkPosition(lat, lon);
    const now = new Date();
    const areaId = lat !== null && lon !== null ? ((await this.areas.find(lat, lon))?.id ?? null) : null;
    const fields: Partial<SitesTable> = { updated_at: now, area_id: areaId, lat, lon, type, is_personal: isPersonalType(type) };
    if (input.name !== undefined) fields.name = input.name.trim();
    if (input.address !== undefined) fields.address = input.address.trim();
    if (input.postcode !== undefined) fields.postcode = normalisePostcode(input.postcode);
    if (input.uprn !== undefined) fields.uprn = input.uprn || null;
    if (input.tags !== undefined) fields.tags_json = toJson(input.tags);
    if (input.ownerTeam !== undefined) fields.owner_team = input.ownerTeam?.trim() || null;
    await this.db.transaction(async (trx) => {
      await this.repo.updateSite(before.id, fields, trx);
      if (areaId !== before.areaId) await this.repo.setAreaOfSiteDevices(before.id, areaId, trx);
      if (input.connectivity === null) await this.repo.deleteConnectivity(before.id, trx);
      else if (input.connectivity) await this.repo.saveConnectivity(connectivityRow(before.id, input.connectivity, now), trx);
      const changes = diff(before, { ...fields, ...(input.connectivity !== undefined ? { connectivity: input.connectivity } : {}) });
      await this.audit.record(
        {
          actor,
          action: 'estate.site_update',
          summary: `Changed site ${before.name}`,
          targetType: 'site',
          targetId: before.id,
          changes: before.isPersonal ? Object.keys(changes) : changes,
          ...origin,
        },
        trx,
      );
    });
    await this.changed({ siteId: before.id });
    return this.getSite(before.id);
  }

  async deleteSite(actor: Actor, id: string, origin: Origin = {}): Promise<void> {
    const before = await this.getSite(id, { includePersonal: this.mayFindHomes(actor) });
    this.checkWrite(actor, before.isPersonal);
    await this.db.transaction(async (trx) => {
      if (await this.repo.countDevicesAt(before.id, trx)) throw estateErrors.SITE_HAS_DEVICES();
      await this.repo.releaseDecommissioned(before.id, trx);
      await this.repo.deleteSite(before.id, trx);
      await this.audit.record(
        { actor, action: 'estate.site_delete', summary: `Deleted site ${before.isPersonal ? '(a home)' : before.name}`, targetType: 'site', targetId: before.id, ...origin },
        trx,
      );
    });
  }

  // ---------------------------------------------------------------- devices

  async getDevice(id: string, options: { includePersonal?: boolean } = {}): Promise<DeviceView> {
    const row = isUuid(id) ? await this.repo.findDevice(id.toLowerCase()) : undefined;
    if (!row || (row.is_personal && options.includePersonal === false)) throw estateErrors.DEVICE_NOT_FOUND();
    return toDeviceView(row);
  }

  async listDevices(filter: EstateFilter = {}): Promise<DeviceView[]> {
    const f = { ...filter, limit: filter.near ? undefined : (filter.limit ?? DEFAULT_LIMIT) };
    if (filter.near) f.bbox = bboxAround(filter.near.lat, filter.near.lon, filter.near.metres);
    const devices = (await this.repo.listDevices(f)).map(toDeviceView);
    return filter.near ? nearest(devices, filter.near, filter.limit ?? DEFAULT_LIMIT) : devices;
  }

  countDevices(filter: EstateFilter = {}): Promise<number> {
    return this.repo.countDevices(filter);
  }

  /** Creates a device with new credentials, returned this once; only their HMACs are kept. */
  async createDevice(actor: Actor, input: DeviceCreate, origin: Origin = {}): Promise<{ device: DeviceView; credentials: DeviceCredentials }> {
    checkPosition(input.lat, input.lon);
    const profile = await this.getProfile(input.profile);
    const site = input.siteId ? await this.siteForDevice(actor, input.siteId) : null;
    this.checkWrite(actor, site?.isPersonal ?? false);
    const id = input.id?.toLowerCase() ?? newId();
    const { row, credentials } = this.deviceRow(id, input, profile.id, site, new Date(), await this.areas.finder());
    try {
      await this.db.transaction(async (trx) => {
        await this.repo.insertDevices([row], trx);
        await this.audit.record(
          { actor, action: 'estate.device_create', summary: `Created ${profile.key} device ${row.serial}`, targetType: 'device', targetId: id, changes: { ...input, profile: profile.key }, ...origin },
          trx,
        );
      });
    } catch (err) {
      throw deviceUniqueError(err);
    }
    return { device: await this.getDevice(id), credentials };
  }

  private siteForDevice(actor: Actor, siteId: string): Promise<SiteView> {
    return this.getSite(siteId, { includePersonal: this.mayFindHomes(actor) });
  }

  /** A devices row with fresh credentials, placed in its area (its own position, or its site's area). */
  deviceRow(
    id: string,
    input: DeviceCreate,
    profileId: string,
    site: { id: string; areaId: string | null } | null,
    now: Date,
    areaOf: AreaFinder,
  ): { row: DevicesTable; credentials: DeviceCredentials } {
    const credentials = this.newCredentials(id);
    const lat = input.lat ?? null;
    const lon = input.lon ?? null;
    const row: DevicesTable = {
      id,
      profile_id: profileId,
      site_id: site?.id ?? null,
      name: input.name.trim(),
      serial: input.serial.trim(),
      external_id: input.externalId ? input.externalId.toLowerCase() : null,
      lat,
      lon,
      area_id: lat !== null && lon !== null ? areaOf(lat, lon) : (site?.areaId ?? null),
      status: 'active',
      battery_percent: null,
      firmware: input.firmware?.trim() || null,
      last_seen_at: null,
      token_hash: hashToken(this.secret, credentials.token),
      mqtt_password_hash: hashToken(this.secret, credentials.mqttPassword),
      credentials_rotated_at: now,
      created_at: now,
      updated_at: now,
      decommissioned_at: null,
    };
    return { row, credentials };
  }

  newCredentials(deviceId: string): DeviceCredentials {
    // A password starting with "-" would be written to the credentials CSV with a quote before it
    // (spreadsheet formula protection) and so copied wrongly: it never starts with one.
    const password = randomText(24).replace(/^-/, 'A');
    return { token: `${DEVICE_TOKEN_PREFIX}${randomText(32)}`, mqttUsername: deviceId, mqttPassword: password };
  }

  async updateDevice(actor: Actor, id: string, input: DeviceUpdate, origin: Origin = {}): Promise<DeviceView> {
    const before = await this.getDevice(id, { includePersonal: this.mayFindHomes(actor) });
    this.checkWrite(actor, before.isPersonal);
    if (before.status === 'decommissioned') throw estateErrors.DEVICE_DECOMMISSIONED();
    const current = (await this.repo.findDevice(before.id)) as DeviceRow;
    const fields: Partial<DevicesTable> = { updated_at: new Date() };
    if (input.profile !== undefined) fields.profile_id = (await this.getProfile(input.profile)).id;
    const site = input.siteId !== undefined ? (input.siteId ? await this.siteForDevice(actor, input.siteId) : null) : undefined;
    if (site !== undefined) {
      // Moving a device into a home, or out of one, needs the permission for where it goes too.
      this.checkWrite(actor, site?.isPersonal ?? false);
      fields.site_id = site?.id ?? null;
    }
    if (input.name !== undefined) fields.name = input.name.trim();
    if (input.serial !== undefined) fields.serial = input.serial.trim();
    if (input.externalId !== undefined) fields.external_id = input.externalId ? input.externalId.toLowerCase() : null;
    if (input.firmware !== undefined) fields.firmware = input.firmware?.trim() || null;
    const lat = input.lat !== undefined ? input.lat : current.lat;
    const lon = input.lon !== undefined ? input.lon : current.lon;
    checkPosition(lat, lon);
    Object.assign(fields, { lat, lon });
    const siteAreaId = site !== undefined ? (site?.areaId ?? null) : current.site_area_id;
    fields.area_id = lat !== null && lon !== null ? ((await this.areas.find(lat, lon))?.id ?? null) : siteAreaId;
    try {
      await this.db.transaction(async (trx) => {
        await this.repo.updateDevice(before.id, fields, trx);
        await this.audit.record({ actor, action: 'estate.device_update', summary: `Changed device ${before.serial}`, targetType: 'device', targetId: before.id, changes: input, ...origin }, trx);
      });
    } catch (err) {
      throw deviceUniqueError(err);
    }
    await this.changed({ deviceId: before.id });
    return this.getDevice(before.id);
  }

  /** New credentials; the old token and MQTT password stop working at once (in every process). */
  async rotateCredentials(actor: Actor, id: string, origin: Origin = {}): Promise<{ device: DeviceView; credentials: DeviceCredentials }> {
    const before = await this.getDevice(id, { includePersonal: this.mayFindHomes(actor) });
    this.checkWrite(actor, before.isPersonal);
    if (before.status === 'decommissioned') throw estateErrors.DEVICE_DECOMMISSIONED();
    const credentials = this.newCredentials(before.id);
    const now = new Date();
    await this.db.transaction(async (trx) => {
      await this.repo.updateDevice(
        before.id,
        { token_hash: hashToken(this.secret, credentials.token), mqtt_password_hash: hashToken(this.secret, credentials.mqttPassword), credentials_rotated_at: now, updated_at: now },
        trx,
      );
      await this.audit.record({ actor, action: 'estate.device_rotate', summary: `Issued new credentials for device ${before.serial}`, targetType: 'device', targetId: before.id, ...origin }, trx);
    });
    await this.changed({ deviceId: before.id });
    return { device: await this.getDevice(before.id), credentials };
  }

  /** A decommissioned device keeps its history but can no longer send data. */
  async decommissionDevice(actor: Actor, id: string, origin: Origin = {}): Promise<DeviceView> {
    const before = await this.getDevice(id, { includePersonal: this.mayFindHomes(actor) });
    this.checkWrite(actor, before.isPersonal);
    if (before.status !== 'decommissioned') {
      const now = new Date();
      await this.db.transaction(async (trx) => {
        await this.repo.updateDevice(before.id, { status: 'decommissioned', decommissioned_at: now, updated_at: now }, trx);
        await this.audit.record({ actor, action: 'estate.device_decommission', summary: `Decommissioned device ${before.serial}`, targetType: 'device', targetId: before.id, ...origin }, trx);
      });
      await this.changed({ deviceId: before.id });
    }
    return this.getDevice(before.id);
  }

  // ---------------------------------------------------------------- views across the estate

  /** Site counts by type × connectivity technology × status, overall and by area. */
  async rollout(options: { includePersonal?: boolean } = {}) {
    const rows = await this.repo.rolloutCounts(!!options.includePersonal);
    return { rows: rows.map((r) => ({ type: r.type as SiteType, technology: r.technology, status: r.status, areaId: r.area_id, count: r.n })), areas: await this.listAreas() };
  }

  /** Fleet health: devices by status, and how many are low on battery, by profile and by site. */
  async health(options: { includePersonal?: boolean } = {}) {
    const rows = await this.repo.healthCounts(!!options.includePersonal);
    const tally = () => ({ active: 0, offline: 0, lowBattery: 0, total: 0 });
    const totals = tally();
    const byProfile = new Map<string, ReturnType<typeof tally> & { profileKey: string }>();
    const bySite = new Map<string, ReturnType<typeof tally> & { siteId: string | null; siteName: string | null }>();
    for (const r of rows) {
      const p = byProfile.get(r.profile_key) ?? { profileKey: r.profile_key, ...tally() };
      byProfile.set(r.profile_key, p);
      const siteKey = r.site_id ?? '';
      const s = bySite.get(siteKey) ?? { siteId: r.site_id, siteName: r.site_name, ...tally() };
      bySite.set(siteKey, s);
      for (const t of [totals, p, s]) {
        t[r.status as 'active' | 'offline'] += r.n;
        t.lowBattery += r.low;
        t.total += r.n;
      }
    }
    const sites = [...bySite.values()].sort((a, b) => b.offline - a.offline || b.lowBattery - a.lowBattery || (a.siteName ?? '').localeCompare(b.siteName ?? ''));
    return { totals, byProfile: [...byProfile.values()].sort((a, b) => a.profileKey.localeCompare(b.profileKey)), bySite: sites };
  }

  // ---------------------------------------------------------------- imports (estate.imports.ts)

  importAreas(actor: Actor, geojson: unknown, options: AreaImportOptions = {}, origin: Origin = {}) {
    return this.imports.importAreas(actor, geojson, options, origin);
  }

  importSites(actor: Actor, text: string, origin: Origin = {}) {
    return this.imports.importSites(actor, text, origin);
  }

  importDevices(actor: Actor, text: string, origin: Origin = {}) {
    return this.imports.importDevices(actor, text, origin);
  }

  /** The estate.import job; on its last attempt a fault marks the import failed. */
  runImport(importId: string, options: { lastAttempt?: boolean } = {}): Promise<void> {
    return this.imports.runImport(importId, options);
  }
}

// Secrets for thousands of devices at once: one call to the system's generator per 64 KiB, each byte used once.
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomText(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    pool = randomBytes(65_536);
    poolAt = 0;
  }
  poolAt += bytes;
  return pool.toString('base64url', poolAt - bytes, poolAt);
}

function profileColumns(input: ProfileUpdate) {
  const out: Record<string, unknown> = {};
  if (input.name !== undefined) out.name = input.name.trim();
  if (input.description !== undefined) out.description = input.description.trim();
  if (input.metrics !== undefined) out.metrics_json = toJson(input.metrics);
  if (input.reportIntervalSeconds !== undefined) out.report_interval_seconds = input.reportIntervalSeconds;
  if (input.offlineTolerance !== undefined) out.offline_tolerance = input.offlineTolerance;
  if (input.batteryLowPercent !== undefined) out.battery_low_percent = input.batteryLowPercent;
  if (input.rawRetentionDays !== undefined) out.raw_retention_days = input.rawRetentionDays;
  if (input.decoder !== undefined) out.decoder_json = toJson(input.decoder);
  return out;
}

// ---------------------------------------------------------------- small rules

function checkPosition(lat: number | null | undefined, lon: number | null | undefined): void {
  if ((lat === null || lat === undefined) !== (lon === null || lon === undefined))
    throw estateErrors.POSITION_INCOMPLETE(undefined, [{ field: lat === null || lat === undefined ? 'lat' : 'lon', message: 'Give both a latitude and a longitude, or neither' }]);
}

function deviceUniqueError(err: unknown): unknown {
  if (!isUniqueViolation(err)) return err;
  const text = String((err as Error).message ?? '') + String((err as { detail?: string }).detail ?? '') + String((err as { constraint?: string }).constraint ?? '');
  if (/external_id/.test(text)) return estateErrors.DEVICE_EXTERNAL_ID_TAKEN();
  if (/serial/.test(text)) return estateErrors.DEVICE_SERIAL_TAKEN();
  return err;
}

function siteLabel(row: SitesTable): string {
  return row.is_personal ? '(a home)' : row.name;
}

/** What the audit log keeps of a new site: a home's address is personal data and stays out of the log. */
function redactSite(input: SiteCreate) {
  if (!isPersonalType(input.type)) return input;
  return { type: input.type, fields: Object.keys(input) };
}

function diff(before: SiteView, after: Record<string, unknown>): Record<string, [unknown, unknown]> {
  const names: Record<string, keyof SiteView> = {
    name: 'name',
    address: 'address',
    postcode: 'postcode',
    uprn: 'uprn',
    lat: 'lat',
    lon: 'lon',
    type: 'type',
    area_id: 'areaId',
    owner_team: 'ownerTeam',
  };
  const out: Record<string, [unknown, unknown]> = {};
  for (const [col, key] of Object.entries(names)) if (col in after && after[col] !== before[key]) out[key] = [before[key], after[col]];
  if ('tags_json' in after && after.tags_json !== JSON.stringify(before.tags)) out.tags = [before.tags, JSON.parse(after.tags_json as string)];
  if ('connectivity' in after) out.connectivity = [before.connectivity, after.connectivity];
  return out;
}

function nearest<T extends { lat: number | null; lon: number | null }>(items: T[], near: { lat: number; lon: number; metres: number }, limit: number): (T & { distanceMetres: number })[] {
  return items
    .filter((i) => i.lat !== null && i.lon !== null)
    .map((i) => ({ ...i, distanceMetres: Math.round(distanceMetres(near.lat, near.lon, i.lat as number, i.lon as number)) }))
    .filter((i) => i.distanceMetres <= near.metres)
    .sort((a, b) => a.distanceMetres - b.distanceMetres)
    .slice(0, limit);
}
