import type { EstateService } from '../estate/index.js';
import type { Scope } from './rules.schema.js';

/** What a rule needs to know of a device to decide whether it is in scope, and to name it. */
export interface DeviceInfo {
  id: string;
  name: string;
  profile: string;
  siteId: string | null;
  siteName: string | null;
  siteType: string | null;
  areaId: string | null;
}

const ALL = 1_000_000;
const STALE_MS = 60_000;

export function inScope(scope: Scope, d: DeviceInfo): boolean {
  if (scope.deviceIds?.length && !scope.deviceIds.includes(d.id)) return false;
  if (scope.siteIds?.length && !(d.siteId && scope.siteIds.includes(d.siteId))) return false;
  if (scope.areaIds?.length && !(d.areaId && scope.areaIds.includes(d.areaId))) return false;
  if (scope.profiles?.length && !scope.profiles.includes(d.profile)) return false;
  if (scope.siteTypes?.length && !(d.siteType && scope.siteTypes.includes(d.siteType))) return false;
  return true;
}

/**
 * The estate as the rules engine sees it: every device (homes included) with its profile,
 * site, site type and area, held in memory and reloaded when the estate changes (the
 * `estate.changed` event, from any process) or when a device it does not know sends a reading.
 */
export class DeviceDirectory {
  private devices = new Map<string, DeviceInfo>();
  private areaNames = new Map<string, string>();
  private loaded: Promise<void> | undefined;
  private dirty = true;
  private loadedAt = 0;
  private sites = new Map<string, { at: number; devices: Promise<DeviceInfo[]> }>();

  constructor(private readonly estate: EstateService) {}

  invalidate(): void {
    this.dirty = true;
    this.sites.clear();
  }

  /** The devices at a site (a car park's bays), asked of the estate at most once a minute. */
  async atSite(siteId: string): Promise<DeviceInfo[]> {
    const cached = this.sites.get(siteId);
    if (cached && Date.now() - cached.at < STALE_MS) return cached.devices;
    const devices = (async () => {
      const list = await this.estate.listDevices({ siteId, includePersonal: true, limit: ALL });
      const site = await this.estate.getSite(siteId).catch(() => undefined);
      return list.map((d) => ({ id: d.id, name: d.name, profile: d.profileKey, siteId, siteName: site?.name ?? null, siteType: site?.type ?? null, areaId: d.areaId ?? site?.areaId ?? null }));
    })();
    this.sites.set(siteId, { at: Date.now(), devices });
    return devices;
  }

  async get(deviceId: string): Promise<DeviceInfo | undefined> {
    await this.ready();
    return this.devices.get(deviceId) ?? this.fetch(deviceId);
  }

  /** A device added since the last load: looked up on its own, with its site. */
  private async fetch(deviceId: string): Promise<DeviceInfo | undefined> {
    const d = await this.estate.getDevice(deviceId).catch(() => undefined);
    if (!d) return undefined;
    const site = d.siteId ? await this.estate.getSite(d.siteId).catch(() => undefined) : undefined;
    const info = { id: d.id, name: d.name, profile: d.profileKey, siteId: d.siteId, siteName: site?.name ?? null, siteType: site?.type ?? null, areaId: d.areaId ?? site?.areaId ?? null };
    this.devices.set(d.id, info);
    return info;
  }

  /** Synchronous look-up once loaded (the hot path checks this first). */
  peek(deviceId: string): DeviceInfo | undefined {
    return this.dirty ? undefined : this.devices.get(deviceId);
  }

  /** Every device; reloaded when older than a minute, as devices are added without an event. */
  async all(): Promise<DeviceInfo[]> {
    if (Date.now() - this.loadedAt > STALE_MS) this.dirty = true;
    await this.ready();
    return [...this.devices.values()];
  }

  async inScope(scope: Scope): Promise<DeviceInfo[]> {
    return (await this.all()).filter((d) => inScope(scope, d));
  }

  async areaName(id: string): Promise<string | null> {
    await this.ready();
    return this.areaNames.get(id) ?? null;
  }

  async areas(): Promise<Map<string, string>> {
    await this.ready();
    return this.areaNames;
  }

  private ready(): Promise<void> {
    if (!this.dirty && this.loaded) return this.loaded;
    this.dirty = false;
    this.loaded = this.load().catch((err) => {
      this.dirty = true;
      throw err;
    });
    return this.loaded;
  }

  private async load(): Promise<void> {
    const [sites, devices, areas] = await Promise.all([
      this.estate.listSites({ includePersonal: true, limit: ALL }),
      this.estate.listDevices({ includePersonal: true, limit: ALL }),
      this.estate.listAreas(),
    ]);
    const siteById = new Map(sites.map((s) => [s.id, s]));
    const next = new Map<string, DeviceInfo>();
    for (const d of devices) {
      const site = d.siteId ? siteById.get(d.siteId) : undefined;
      next.set(d.id, { id: d.id, name: d.name, profile: d.profileKey, siteId: d.siteId, siteName: site?.name ?? null, siteType: site?.type ?? null, areaId: d.areaId ?? site?.areaId ?? null });
    }
    this.devices = next;
    this.areaNames = new Map(areas.map((a) => [a.id, a.name]));
    this.loadedAt = Date.now();
  }
}
