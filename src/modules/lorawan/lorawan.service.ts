import { Counter, register } from 'prom-client';
import type { Origin } from '../../platform/audit/origin.js';
import type { Actor } from '../../platform/auth/actor.js';
import { hashToken, randomToken } from '../../platform/auth/secrets.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import { AppError, platformErrors } from '../../platform/errors.js';
import type { EventBus } from '../../platform/events/index.js';
import { newId } from '../../platform/ids.js';
import type { DeviceAuth, EstateService } from '../estate/index.js';
import { type DecodedReading, decodePayload, readingsFromObject, toTime } from '../telemetry/decoders.js';
import type { TelemetryService } from '../telemetry/index.js';
import { lorawanErrors } from './lorawan.errors.js';
import { type IntegrationRow, LorawanRepository } from './lorawan.repository.js';
import { type IntegrationCreate, type IntegrationKind, KIND_NAMES } from './lorawan.schema.js';

export const INTEGRATION_TOKEN_PREFIX = 'wint_';
const CACHE_MS = 30_000;
const DEV_EUI = /^[0-9A-Fa-f]{16}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export type { Origin } from '../../platform/audit/origin.js';

/** One uplink, whichever network server sent it. */
export interface Uplink {
  devEui: string;
  /** the network server's name for the device (used when Weft registers it) */
  deviceName?: string;
  /** when the network server received it */
  at: Date;
  /** the application payload (FRMPayload), when there is one on an application port */
  bytes?: Buffer;
  /** the network server's own decoding of it, when it has a payload formatter or codec */
  decoded?: Record<string, unknown>;
  /** the device's battery level in per cent, when the network server knows it */
  battery?: number;
}

export interface UplinkOutcome {
  deviceId: string;
  accepted: number;
  duplicates: number;
  quarantined: number;
}

/** Network-server messages by kind and how they ended, for Prometheus (the default registry, which /metrics includes). */
const lorawanCounter =
  (register.getSingleMetric('weft_lorawan_messages_total') as Counter<'kind' | 'outcome'> | undefined) ??
  new Counter({
    name: 'weft_lorawan_messages_total',
    help: 'LoRaWAN webhooks: uplinks, other events, malformed bodies or payloads, unknown DevEUIs and devices registered, by network server',
    labelNames: ['kind', 'outcome'],
  });

type Counted = 'uplinks' | 'otherEvents' | 'malformed' | 'unknownDevices' | 'registered';
const LORAWAN_OUTCOMES: Record<Counted, string> = { uplinks: 'uplink', otherEvents: 'other_event', malformed: 'malformed', unknownDevices: 'unknown_device', registered: 'device_registered' };

/** Counters since start, by network server, for the console and Prometheus. */
export class LorawanStats {
  constructor(readonly kind: string) {}
  add(key: Counted): void {
    this[key]++;
    lorawanCounter.inc({ kind: this.kind, outcome: LORAWAN_OUTCOMES[key] });
  }
  uplinks = 0;
  readings = 0;
  duplicates = 0;
  quarantined = 0;
  unknownDevices = 0;
  malformed = 0;
  /** joins, status reports and other events that carry no readings */
  otherEvents = 0;
  /** devices registered automatically under an integration's default profile */
  registered = 0;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const malformed = (why: string) => lorawanErrors.LORAWAN_BODY_MALFORMED(`The body is not a message Weft understands: ${why}.`);

function base64(value: unknown, field: string): Buffer | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !BASE64.test(value) || value.length % 4 !== 0) throw malformed(`${field} is not base64`);
  return Buffer.from(value, 'base64');
}

function time(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  try {
    return toTime(value, field);
  } catch {
    throw malformed(`${field} is not a time`);
  }
}

/**
 * A The Things Stack v3 uplink message (webhook, JSON): `end_device_ids.dev_eui`,
 * `uplink_message.{f_port, frm_payload, decoded_payload, received_at,
 * last_battery_percentage}`. Undefined for the other message types (join accept,
 * downlink events, location), which carry no readings.
 */
export function parseTtsUplink(body: unknown): Uplink | undefined {
  if (!isObject(body) || !isObject(body.end_device_ids)) throw malformed('end_device_ids is missing; is this a The Things Stack v3 message?');
  const up = body.uplink_message;
  if (up === undefined) return undefined;
  if (!isObject(up)) throw malformed('uplink_message is not an object');
  const ids = body.end_device_ids;
  if (typeof ids.dev_eui !== 'string' || !DEV_EUI.test(ids.dev_eui)) throw malformed('end_device_ids.dev_eui is missing or not 16 hexadecimal digits');
  const fPort = typeof up.f_port === 'number' ? up.f_port : 0;
  const battery = isObject(up.last_battery_percentage) && typeof up.last_battery_percentage.value === 'number' ? up.last_battery_percentage.value : undefined;
  if (up.decoded_payload !== undefined && !isObject(up.decoded_payload)) throw malformed('uplink_message.decoded_payload is not an object');
  return {
    devEui: ids.dev_eui.toLowerCase(),
    deviceName: typeof ids.device_id === 'string' ? ids.device_id : undefined,
    at: time(up.received_at, 'uplink_message.received_at') ?? time(body.received_at, 'received_at') ?? new Date(),
    // Port 0 carries MAC commands, not application data.
    bytes: fPort > 0 ? base64(up.frm_payload, 'uplink_message.frm_payload') : undefined,
    decoded: up.decoded_payload as Record<string, unknown> | undefined,
    battery,
  };
}

/** The devEui and time of any ChirpStack v4 event (JSON encoding). */
function chirpstackDevice(body: unknown): { devEui: string; deviceName?: string; at: Date } {
  if (!isObject(body) || !isObject(body.deviceInfo)) throw malformed('deviceInfo is missing; is the ChirpStack v4 HTTP integration set to JSON?');
  const info = body.deviceInfo;
  if (typeof info.devEui !== 'string' || !DEV_EUI.test(info.devEui)) throw malformed('deviceInfo.devEui is missing or not 16 hexadecimal digits');
  return { devEui: info.devEui.toLowerCase(), deviceName: typeof info.deviceName === 'string' ? info.deviceName : undefined, at: time(body.time, 'time') ?? new Date() };
}

/** A ChirpStack v4 `up` event: deviceInfo.devEui, time, fPort, data (base64), object (the codec's output). */
export function parseChirpstackUp(body: unknown): Uplink {
  const device = chirpstackDevice(body);
  const b = body as Record<string, unknown>;
  if (b.object !== undefined && b.object !== null && !isObject(b.object)) throw malformed('object is not an object');
  const fPort = typeof b.fPort === 'number' ? b.fPort : 0;
  return { ...device, bytes: fPort > 0 ? base64(b.data, 'data') : undefined, decoded: (b.object ?? undefined) as Record<string, unknown> | undefined };
}

/**
 * LoRaWAN network-server integrations: The Things Stack webhooks and ChirpStack
 * HTTP integrations post uplinks here, authenticated by a per-integration token
 * (`wint_…`, kept as an HMAC). Each uplink's DevEUI names a Weft device; its
 * decoded payload, or its raw payload through the device profile's decoder,
 * becomes readings.
 */
export class LorawanService {
  private readonly repo: LorawanRepository;
  readonly stats: Record<IntegrationKind, LorawanStats> = { tts: new LorawanStats('tts'), chirpstack: new LorawanStats('chirpstack') };
  private readonly byToken = new Map<string, { row: IntegrationRow; actor: Actor; expires: number }>();
  private readonly byId = new Map<string, { row: IntegrationRow; expires: number }>();
  private readonly offRevoked: () => void;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly events: EventBus,
    private readonly estate: EstateService,
    private readonly telemetry: TelemetryService,
    private readonly secret: string,
  ) {
    this.repo = new LorawanRepository(db);
    // Another process revoked an integration: stop accepting its token here too.
    this.offRevoked = events.on('lorawan.integration_revoked', (p: { id: string }) => this.forget(p.id));
  }

  close(): void {
    this.offRevoked();
  }

  // ---------------------------------------------------------------- integrations

  listIntegrations(): Promise<IntegrationRow[]> {
    return this.repo.list();
  }

  async getIntegration(id: string): Promise<IntegrationRow> {
    const row = await this.repo.find(id);
    if (!row) throw lorawanErrors.INTEGRATION_NOT_FOUND();
    return row;
  }

  /** Creates an integration and returns its token whole, once; only its HMAC is kept. */
  async createIntegration(actor: Actor, input: IntegrationCreate, origin: Origin = {}): Promise<{ row: IntegrationRow; token: string }> {
    const profile = input.defaultProfile ? await this.estate.getProfile(input.defaultProfile) : undefined;
    const token = `${INTEGRATION_TOKEN_PREFIX}${randomToken()}`;
    const id = newId();
    const row = {
      id,
      name: input.name.trim(),
      kind: input.kind,
      token_hash: hashToken(this.secret, token),
      token_prefix: token.slice(0, INTEGRATION_TOKEN_PREFIX.length + 6),
      default_profile_id: profile?.id ?? null,
      created_by: actor.type === 'user' ? actor.id : null,
      created_at: new Date(),
      revoked_at: null,
    };
    await this.db.transaction(async (trx) => {
      await this.repo.insert(row, trx);
      await this.audit.record(
        {
          actor,
          action: 'lorawan.integration_create',
          summary: `Created ${KIND_NAMES[input.kind]} integration "${row.name}"${profile ? ` registering unknown devices as ${profile.key}` : ''}`,
          targetType: 'lorawan_integration',
          targetId: id,
          changes: { name: row.name, kind: input.kind, defaultProfile: profile?.key ?? null },
          ...origin,
        },
        trx,
      );
    });
    return { row: await this.getIntegration(id), token };
  }

  async revokeIntegration(actor: Actor, id: string, origin: Origin = {}): Promise<IntegrationRow> {
    await this.db.transaction(async (trx) => {
      const row = await this.repo.find(id, trx);
      if (!row) throw lorawanErrors.INTEGRATION_NOT_FOUND();
      if (row.revoked_at) return;
      await this.repo.revoke(id, new Date(), trx);
      await this.audit.record({ actor, action: 'lorawan.integration_revoke', summary: `Revoked LoRaWAN integration "${row.name}"`, targetType: 'lorawan_integration', targetId: id, ...origin }, trx);
    });
    this.forget(id);
    await this.events.emit('lorawan.integration_revoked', { id });
    return this.getIntegration(id);
  }

  private forget(id: string): void {
    this.byId.delete(id);
    for (const [hash, entry] of this.byToken) if (entry.row.id === id) this.byToken.delete(hash);
  }

  /** The bearer resolver for `wint_` tokens: an integration may only ingest. */
  async actorForToken(token: string): Promise<Actor | undefined> {
    if (!token.startsWith(INTEGRATION_TOKEN_PREFIX) || token.length > 200) return undefined;
    const hash = hashToken(this.secret, token);
    const now = Date.now();
    const hit = this.byToken.get(hash);
    if (hit && hit.expires > now) return hit.actor;
    const row = await this.repo.findLiveByTokenHash(hash);
    if (!row) {
      this.byToken.delete(hash);
      return undefined;
    }
    const actor: Actor = { type: 'integration', id: row.id, label: `LoRaWAN integration ${row.name}`, permissions: new Set(['telemetry:ingest']), roles: [] };
    if (this.byToken.size > 1000) this.byToken.clear();
    this.byToken.set(hash, { row, actor, expires: now + CACHE_MS });
    this.byId.set(row.id, { row, expires: now + CACHE_MS });
    return actor;
  }

  /** The integration behind the caller: its kind must match the endpoint. API keys with telemetry:ingest may post too; devices may not. */
  private async integrationOf(actor: Actor, kind: IntegrationKind): Promise<IntegrationRow | undefined> {
    if (actor.type === 'key') return undefined;
    if (actor.type !== 'integration' || !actor.id) throw platformErrors.FORBIDDEN('Only a LoRaWAN integration’s token or an API key may post network-server messages.');
    const now = Date.now();
    let row = this.byId.get(actor.id);
    if (!row || row.expires <= now) {
      row = { row: await this.getIntegration(actor.id), expires: now + CACHE_MS };
      this.byId.set(actor.id, row);
    }
    if (row.row.kind !== kind) {
      throw lorawanErrors.INTEGRATION_KIND_MISMATCH(`This token belongs to a ${KIND_NAMES[row.row.kind as IntegrationKind]} integration; it cannot post ${KIND_NAMES[kind]} messages.`);
    }
    return row.row;
  }

  // ---------------------------------------------------------------- webhooks

  /** A The Things Stack webhook message; undefined when it is not an uplink (nothing to store). */
  async ttsMessage(actor: Actor, body: unknown, origin: Origin = {}): Promise<UplinkOutcome | undefined> {
    const integration = await this.integrationOf(actor, 'tts');
    const stats = this.stats.tts;
    let uplink: Uplink | undefined;
    try {
      uplink = parseTtsUplink(body);
    } catch (err) {
      stats.add('malformed');
      throw err;
    }
    if (!uplink) {
      stats.add('otherEvents');
      return undefined;
    }
    return this.uplink(actor, integration, uplink, stats, origin);
  }

  /**
   * A ChirpStack v4 event (`?event=` in the URL). `up` stores readings; `status`
   * passes the battery level to the device; `join` marks it seen; others are accepted
   * and ignored. Undefined when there is nothing to store.
   */
  async chirpstackEvent(actor: Actor, event: string | undefined, body: unknown, origin: Origin = {}): Promise<UplinkOutcome | undefined> {
    const integration = await this.integrationOf(actor, 'chirpstack');
    const stats = this.stats.chirpstack;
    try {
      if (event === 'up') return await this.uplink(actor, integration, parseChirpstackUp(body), stats, origin);
      stats.add('otherEvents');
      if (event !== 'status' && event !== 'join') return undefined;
      const { devEui, at } = chirpstackDevice(body);
      const device = await this.estate.deviceForExternalId(devEui);
      if (!device) return undefined;
      const b = body as Record<string, unknown>;
      const battery = event === 'status' && typeof b.batteryLevel === 'number' && !b.batteryLevelUnavailable && !b.externalPowerSource ? b.batteryLevel : undefined;
      this.estate.noteSeen(device.deviceId, at, battery);
      return undefined;
    } catch (err) {
      if (err instanceof AppError && err.code === 'LORAWAN_BODY_MALFORMED') stats.add('malformed');
      throw err;
    }
  }

  private async uplink(actor: Actor, integration: IntegrationRow | undefined, uplink: Uplink, stats: LorawanStats, origin: Origin): Promise<UplinkOutcome | undefined> {
    stats.add('uplinks');
    const device = await this.deviceFor(actor, integration, uplink, stats, origin);
    let readings: DecodedReading[] | undefined;
    try {
      readings = this.decode(device, uplink);
    } catch (err) {
      stats.add('malformed');
      throw err;
    }
    if (uplink.battery !== undefined || !readings) this.estate.noteSeen(device.deviceId, uplink.at, uplink.battery);
    if (!readings) return undefined;
    const result = await this.telemetry.ingest(device, readings, 'lorawan');
    stats.readings += result.accepted;
    stats.duplicates += result.duplicates;
    stats.quarantined += result.quarantined.length;
    return { deviceId: device.deviceId, accepted: result.accepted, duplicates: result.duplicates, quarantined: result.quarantined.length };
  }

  /**
   * The network server's decoded object when it maps to the profile's metrics;
   * otherwise the raw payload through the profile's decoder. Undefined when the
   * uplink has neither (a MAC-only frame).
   */
  private decode(device: DeviceAuth, uplink: Uplink): DecodedReading[] | undefined {
    const { decoder, metrics } = device.profile;
    const options = { defaultAt: uplink.at };
    if (uplink.decoded && Object.keys(uplink.decoded).length) {
      try {
        return readingsFromObject(uplink.decoded, decoder, metrics, options);
      } catch (err) {
        const canUseBytes = uplink.bytes?.length && decoder.type !== 'json';
        if (!(err instanceof AppError) || err.code !== 'PAYLOAD_NO_READINGS' || !canUseBytes) throw err;
      }
    }
    if (uplink.bytes?.length) return decodePayload(decoder, uplink.bytes, metrics, options);
    return undefined;
  }

  /** The device with this DevEUI; registered under the integration's default profile when Weft does not know it yet. */
  private async deviceFor(actor: Actor, integration: IntegrationRow | undefined, uplink: Uplink, stats: LorawanStats, origin: Origin): Promise<DeviceAuth> {
    const known = await this.estate.deviceForExternalId(uplink.devEui);
    if (known) return known;
    const unknown = () => {
      stats.add('unknownDevices');
      return lorawanErrors.LORAWAN_DEVICE_UNKNOWN(
        `No device has the DevEUI ${uplink.devEui}. Register the device in Weft with this DevEUI${integration ? ', or give the integration a default profile' : ''}.`,
      );
    };
    if (!integration?.default_profile_id) throw unknown();
    try {
      await this.estate.createDevice(
        actor,
        { name: (uplink.deviceName || `LoRaWAN device ${uplink.devEui}`).slice(0, 200), serial: uplink.devEui, profile: integration.default_profile_id, externalId: uplink.devEui },
        origin,
      );
      stats.add('registered');
    } catch (err) {
      // Another uplink registered it first, or a decommissioned device keeps this DevEUI.
      if (!(err instanceof AppError) || err.status !== 409) throw err;
    }
    const registered = await this.estate.deviceForExternalId(uplink.devEui);
    if (!registered) throw unknown();
    return registered;
  }
}
