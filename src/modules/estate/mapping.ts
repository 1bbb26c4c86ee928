import type { DeviceProfilesTable, DeviceRow, SiteRow } from './estate.repository.js';
import { type ConnectivityInput, type ConnectivityView, type DeviceStatus, type DeviceView, PERSONAL_SITE_TYPES, type Profile, type SiteType, type SiteView } from './estate.schema.js';

/** Rows as the database holds them ↔ the views the rest of Weft sees, and the small rules both sides share. */

const day = (d: Date | null) => (d ? d.toISOString().slice(0, 10) : null);
const fromDay = (s: string | null | undefined) => (s ? new Date(`${s}T00:00:00Z`) : null);
export const isPersonalType = (type: string) => PERSONAL_SITE_TYPES.includes(type as SiteType);

export function toProfile(r: DeviceProfilesTable): Profile {
  return {
    id: r.id,
    key: r.key,
    name: r.name,
    description: r.description,
    metrics: r.metrics_json as Profile['metrics'],
    reportIntervalSeconds: Number(r.report_interval_seconds),
    offlineTolerance: Number(r.offline_tolerance),
    batteryLowPercent: Number(r.battery_low_percent),
    rawRetentionDays: Number(r.raw_retention_days),
    decoder: r.decoder_json as Profile['decoder'],
    isBuiltIn: !!r.is_built_in,
  };
}

export function toSiteView(r: SiteRow): SiteView {
  return {
    id: r.id,
    type: r.type as SiteType,
    name: r.name,
    address: r.address,
    postcode: r.postcode,
    uprn: r.uprn,
    lat: r.lat,
    lon: r.lon,
    areaId: r.area_id,
    areaName: r.area_name,
    tags: (r.tags_json as string[]) ?? [],
    ownerTeam: r.owner_team,
    isPersonal: !!r.is_personal,
    connectivity: r.c_technology ? toConnectivity(r) : null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toConnectivity(r: SiteRow): ConnectivityView {
  return {
    technology: r.c_technology as ConnectivityView['technology'],
    status: r.c_status as ConnectivityView['status'],
    downMbps: r.c_down_mbps,
    upMbps: r.c_up_mbps,
    provider: r.c_provider,
    circuitRef: r.c_circuit_ref,
    plannedAt: day(r.c_planned_at),
    orderedAt: day(r.c_ordered_at),
    installedAt: day(r.c_installed_at),
    liveAt: day(r.c_live_at),
    updatedAt: r.c_updated_at as Date,
  };
}

export function connectivityRow(siteId: string, c: ConnectivityInput, now: Date) {
  return {
    site_id: siteId,
    technology: c.technology,
    status: c.status,
    down_mbps: c.downMbps ?? null,
    up_mbps: c.upMbps ?? null,
    provider: c.provider?.trim() || null,
    circuit_ref: c.circuitRef?.trim() || null,
    planned_at: fromDay(c.plannedAt),
    ordered_at: fromDay(c.orderedAt),
    installed_at: fromDay(c.installedAt),
    live_at: fromDay(c.liveAt),
    updated_at: now,
  };
}

export function toDeviceView(r: DeviceRow): DeviceView {
  const own = r.lat !== null && r.lon !== null;
  return {
    id: r.id,
    name: r.name,
    serial: r.serial,
    externalId: r.external_id,
    profileId: r.profile_id,
    profileKey: r.profile_key,
    siteId: r.site_id,
    siteName: r.site_name,
    areaId: r.area_id,
    lat: own ? r.lat : r.site_lat,
    lon: own ? r.lon : r.site_lon,
    status: r.status as DeviceStatus,
    batteryPercent: r.battery_percent,
    firmware: r.firmware,
    lastSeenAt: r.last_seen_at,
    isPersonal: !!r.is_personal,
    ownPosition: own,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    credentialsRotatedAt: r.credentials_rotated_at,
    decommissionedAt: r.decommissioned_at,
  };
}

export function normalisePostcode(p: string | null | undefined): string | null {
  if (!p) return null;
  const s = p.replace(/\s+/g, '').toUpperCase();
  return `${s.slice(0, -3)} ${s.slice(-3)}`;
}

const UK_POSTCODE = /^([A-Z]{1,2}[0-9][A-Z0-9]?|GIR) [0-9][A-Z]{2}$/;

/** A UK postcode as the postcode list keys it ("sw1a1aa" → "SW1A 1AA"), or null when the text is not shaped like one. */
export function postcodeKey(text: string | null | undefined): string | null {
  const p = normalisePostcode(text?.trim());
  return p && UK_POSTCODE.test(p) ? p : null;
}
