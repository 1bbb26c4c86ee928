import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { hashString, noise01 } from './random.js';
import {
  airQuality,
  alarmIn,
  batteryLevel,
  bayOccupied,
  binFill,
  DOOR_SLOT,
  doorOpeningIn,
  type Episode,
  episodesBetween,
  HOUR,
  energyKwh,
  MINUTE,
  MOTION_SLOT,
  motionIn,
  peopleCount,
  powerW,
  type SignalDevice,
} from './signals.js';

/**
 * The device simulator: sends realistic readings for the demo county's devices
 * through Weft's real ingest paths, each device authenticating as itself: MQTT
 * (air quality, telecare, parking bays) and HTTP (bins, people counters, energy
 * meters). `weft demo` runs it in-process; `weft simulate` runs it against any Weft.
 *
 * Time: signals follow a simulated clock that runs `speed` times faster than the
 * real one from the moment the simulator starts; every reading is stamped with the
 * real instant that corresponds to its simulated one, so nothing is ever in the
 * future. Backfill sends the last N hours of history (at real speed) over HTTP in
 * batches, so charts have data at once.
 */

export const DEVICES_FORMAT = 'weft-demo-devices/1';

export interface SimDevice extends SignalDevice {
  id: string;
  name: string;
  /** profile key: air-quality, parking-bay, telecare-hub, … */
  profile: string;
  /** how its live readings travel */
  transport: 'mqtt' | 'http';
  /** bearer token for HTTP (wdev_…) */
  token: string;
  /** MQTT password (the username is the device id) */
  mqttPassword: string;
  /** devices that belong together: a car park's bays, a home's sensors */
  group: string;
}

export interface DevicesFile {
  format: typeof DEVICES_FORMAT;
  note: string;
  seed: string;
  createdAt: string;
  devices: SimDevice[];
}

/** Writes the devices and their credentials, readable by the owner only. */
export function writeDevicesFile(path: string, seed: string, devices: SimDevice[]): void {
  const file: DevicesFile = {
    format: DEVICES_FORMAT,
    note: 'Device credentials for the Weft demo simulator (weft simulate --devices this-file). Secret: keep it private.',
    seed,
    createdAt: new Date().toISOString(),
    devices,
  };
  writeFileSync(path, JSON.stringify(file), { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function readDevicesFile(path: string): DevicesFile {
  const file = JSON.parse(readFileSync(path, 'utf8')) as DevicesFile;
  if (file.format !== DEVICES_FORMAT || !Array.isArray(file.devices)) throw new Error(`${path} is not a Weft demo devices file (format ${DEVICES_FORMAT}).`);
  return file;
}

/** One reading as the simulator makes it: `at` is simulated time (ms). */
interface SimReading {
  metric: string;
  value: number;
  at: number;
}

interface DeviceState {
  next: number;
  /** the device stops reporting from this simulated instant (so offline detection shows) */
  silentFrom: number;
  occupied?: boolean;
  lastSent?: number;
  lastBattery?: number;
  doorClosesAt?: number;
  /** door contacts: the end of the quarter-hour being looked at */
  slotEnd?: number;
}

/** How a kind of device behaves: what it sends at a step, and when its next step is. */
interface Behaviour {
  /** first step after a start instant */
  first(d: SimDevice, from: number): number;
  step(ctx: Ctx, d: SimDevice, st: DeviceState, t: number): { readings: SimReading[]; next: number };
  /** MQTT payload for live readings; JSON {readings} unless the profile decodes bytes */
  payload?(readings: SimReading[], realAt: (t: number) => number): Buffer[];
}

interface Ctx {
  seed: number;
  episodes: Episode[];
  /** a car park (its devices' group) whose bays are all taken for a while */
  full?: { group: string; from: number; until: number };
}

/** A reading the simulator sends at a set time, whatever the device's own pattern (the demo's opening minutes). */
interface Scripted {
  d: SimDevice;
  at: number;
  readings: SimReading[];
}

const jitter = (d: SimDevice, k: number, range: number) => Math.floor(noise01(hashString(d.key), k) * range);
const battery = (ctx: Ctx, d: SimDevice, t: number): SimReading => ({ metric: 'battery', value: batteryLevel(ctx.seed, d), at: t });
const every = (ms: number) => ({ first: (d: SimDevice, from: number) => from + jitter(d, 1, ms) });
const hourlyBattery = (ctx: Ctx, d: SimDevice, st: DeviceState, t: number, out: SimReading[]) => {
  if (st.lastBattery === undefined || t - st.lastBattery >= HOUR) {
    out.push(battery(ctx, d, t));
    st.lastBattery = t;
  }
};

/** Parking bays report on change, and every 30 minutes anyway, as two bytes: occupied bit, battery %. */
const BAY_HEARTBEAT = 30 * MINUTE;

export const BEHAVIOURS: Record<string, Behaviour> = {
  'air-quality': {
    ...every(MINUTE),
    step(ctx, d, _st, t) {
      const values = airQuality(ctx.seed, d, t, ctx.episodes);
      return { readings: Object.entries(values).map(([metric, value]) => ({ metric, value, at: t })), next: t + MINUTE };
    },
  },
  'parking-bay': {
    first: (d, from) => from + jitter(d, 1, MINUTE),
    step(ctx, d, st, t) {
      const full = ctx.full && ctx.full.group === d.group && t >= ctx.full.from && t < ctx.full.until;
      const occupied = full || bayOccupied(ctx.seed, d, t);
      const due = st.lastSent === undefined || t - st.lastSent >= BAY_HEARTBEAT;
      const readings: SimReading[] = [];
      if (due || occupied !== st.occupied) {
        readings.push({ metric: 'occupied', value: occupied ? 1 : 0, at: t }, battery(ctx, d, t));
        st.lastSent = t;
      }
      st.occupied = occupied;
      return { readings, next: t + MINUTE };
    },
    payload(readings) {
      const out: Buffer[] = [];
      for (let i = 0; i < readings.length; i += 2) out.push(Buffer.from([readings[i].value & 1, readings[i + 1]?.value ?? 100]));
      return out;
    },
  },
  'telecare-hub': {
    ...every(5 * MINUTE),
    step(ctx, d, st, t) {
      const readings: SimReading[] = [{ metric: 'heartbeat', value: 1, at: t }];
      hourlyBattery(ctx, d, st, t, readings);
      return { readings, next: t + 5 * MINUTE };
    },
  },
  'pir-motion': {
    first: (_d, from) => Math.ceil(from / MOTION_SLOT) * MOTION_SLOT,
    step(ctx, d, st, t) {
      const readings: SimReading[] = [];
      hourlyBattery(ctx, d, st, t, readings);
      // At the end of each five minutes, the motion seen in them (so no reading is ever ahead of now).
      const at = motionIn(ctx.seed, d, t - MOTION_SLOT);
      if (at !== undefined) readings.push({ metric: 'motion', value: 1, at });
      return { readings, next: t + MOTION_SLOT };
    },
  },
  'door-contact': {
    first: (_d, from) => Math.ceil(from / DOOR_SLOT) * DOOR_SLOT,
    step(ctx, d, st, t) {
      const readings: SimReading[] = [];
      if (st.doorClosesAt !== undefined) {
        readings.push({ metric: 'open', value: 0, at: st.doorClosesAt });
        st.doorClosesAt = undefined;
        return { readings, next: st.slotEnd ?? t + DOOR_SLOT };
      }
      hourlyBattery(ctx, d, st, t, readings);
      // At the end of each quarter-hour, an opening in it; the closing follows when it happens.
      const opening = doorOpeningIn(ctx.seed, d, t - DOOR_SLOT);
      st.slotEnd = t + DOOR_SLOT;
      if (opening) {
        readings.push({ metric: 'open', value: 1, at: opening.at });
        const closes = opening.at + opening.forMs;
        if (closes <= t) readings.push({ metric: 'open', value: 0, at: closes });
        else {
          st.doorClosesAt = closes;
          return { readings, next: closes };
        }
      }
      return { readings, next: t + DOOR_SLOT };
    },
  },
  'fall-detector': alarmBehaviour('fall', 0.0008),
  pendant: alarmBehaviour('pressed', 0.001),
  'bin-fill': {
    ...every(HOUR),
    step(ctx, d, _st, t) {
      return { readings: [{ metric: 'fill_level', value: binFill(ctx.seed, d, t), at: t }, battery(ctx, d, t)], next: t + HOUR };
    },
  },
  'people-counter': {
    first: (_d, from) => Math.ceil(from / (15 * MINUTE)) * 15 * MINUTE,
    step(ctx, d, _st, t) {
      const c = peopleCount(ctx.seed, d, t);
      return {
        readings: [
          { metric: 'count_in', value: c.in, at: t },
          { metric: 'count_out', value: c.out, at: t },
        ],
        next: t + 15 * MINUTE,
      };
    },
  },
  'energy-meter': {
    first: (_d, from) => Math.ceil(from / (15 * MINUTE)) * 15 * MINUTE,
    step(ctx, d, _st, t) {
      return {
        readings: [
          { metric: 'energy_kwh', value: energyKwh(d, t), at: t },
          { metric: 'power_w', value: powerW(ctx.seed, d, t), at: t },
        ],
        next: t + 15 * MINUTE,
      };
    },
  },
};

function alarmBehaviour(metric: string, perHour: number): Behaviour {
  return {
    first: (_d, from) => Math.ceil(from / HOUR) * HOUR,
    step(ctx, d, _st, t) {
      const readings: SimReading[] = [battery(ctx, d, t)];
      const at = alarmIn(ctx.seed, d, t - HOUR, perHour);
      if (at !== undefined) readings.push({ metric, value: 1, at });
      return { readings, next: t + HOUR };
    },
  };
}

/** How far ahead (simulated time) pollution episodes are planned at a time. */
const EPISODE_HORIZON = 30 * 24 * HOUR;

/** How many devices of a kind go silent: a few, so offline detection has something to show. */
function silentCount(profile: string, n: number): number {
  if (n < 10) return 0;
  return Math.min(profile === 'parking-bay' ? 4 : 2, Math.max(1, Math.round(n * 0.01)));
}

export interface SimulatorOptions {
  /** the opening minutes' fire, fall, pendant press and full car park (default true) */
  openingScenes?: boolean;
  /** Weft's base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  /** the MQTT broker, e.g. mqtt://127.0.0.1:1883; without it MQTT devices send over HTTP */
  mqttUrl?: string;
  devices: SimDevice[];
  seed?: string;
  /** how much faster than real time the simulated clock runs (default 1) */
  speed?: number;
  /** hours of history to send first (default 0) */
  backfillHours?: number;
  /** real milliseconds between ticks (default 1000) */
  tickMs?: number;
  /** most MQTT connections open at once; beyond it the least recently used is closed (default 1000) */
  maxMqttConnections?: number;
  /** whether some devices go silent (default true) */
  silentDevices?: boolean;
  /** now, in real ms (tests) */
  now?: () => number;
  log?: (line: string) => void;
}

export interface SimulatorStats {
  devices: number;
  silent: number;
  mqtt: { messages: number; readings: number; connections: number; connects: number; errors: number };
  http: { requests: number; readings: number; errors: number };
  backfill: { done: boolean; readings: number; seconds: number };
  lastError?: string;
}

function withTimeout<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out: ${why}.`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A small limit on concurrent async work. */
class Limit {
  private active = 0;
  private waiting: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export class Simulator {
  readonly stats: SimulatorStats;
  private readonly seed: number;
  private readonly speed: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly states = new Map<string, DeviceState>();
  private readonly clients = new Map<string, { client: MqttClient; used: number }>();
  private readonly connecting = new Map<string, Promise<MqttClient>>();
  private readonly httpLimit = new Limit(6);
  private readonly connectLimit = new Limit(20);
  private readonly sending = new Set<Promise<void>>();
  private readonly busy = new Set<string>();
  private ctx: Ctx;
  private timer?: NodeJS.Timeout;
  private realStart = 0;
  private stopped = false;
  private backfilling?: Promise<void>;
  private errorsLogged = 0;
  private episodesUntil = 0;
  private script: Scripted[] = [];

  constructor(private readonly options: SimulatorOptions) {
    this.seed = hashString(options.seed ?? 'wealdmoor');
    this.speed = options.speed ?? 1;
    if (!(this.speed > 0)) throw new Error('The speed must be a positive number.');
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => {});
    this.ctx = { seed: this.seed, episodes: [] };
    this.stats = {
      devices: options.devices.length,
      silent: 0,
      mqtt: { messages: 0, readings: 0, connections: 0, connects: 0, errors: 0 },
      http: { requests: 0, readings: 0, errors: 0 },
      backfill: { done: !options.backfillHours, readings: 0, seconds: 0 },
    };
  }

  /** The devices that go silent in this run. */
  get silentIds(): string[] {
    return [...this.states].filter(([, st]) => st.silentFrom !== Number.POSITIVE_INFINITY).map(([id]) => id);
  }

  /** When the run started (real ms). */
  get startedAt(): number {
    return this.realStart;
  }

  /** The simulated instant for a real one. */
  simTime(real: number): number {
    return this.realStart + (real - this.realStart) * this.speed;
  }

  /** The real instant a simulated one is stamped with (never after now). */
  realTime(sim: number): number {
    return sim <= this.realStart ? sim : this.realStart + (sim - this.realStart) / this.speed;
  }

  /** Starts sending live readings at once; backfill (if asked for) runs alongside. */
  start(): void {
    this.realStart = this.now();
    const backfillMs = (this.options.backfillHours ?? 0) * HOUR;
    const aq = this.options.devices.filter((d) => d.profile === 'air-quality');
    this.episodesUntil = this.realStart + EPISODE_HORIZON;
    this.ctx.episodes = episodesBetween(this.seed, this.realStart - backfillMs, this.episodesUntil, aq);
    if (backfillMs >= 6 * HOUR && aq.length) {
      // A recent episode in the history, so the demo shows one.
      const place = aq[Math.floor(noise01(this.seed, 99) * aq.length)];
      this.ctx.episodes.push({ start: this.realStart - 5.5 * HOUR, end: this.realStart - 1.5 * HOUR, lat: place.lat, lon: place.lon, radiusKm: 18, pm25: 55 });
    }
    this.planSilences(backfillMs);
    if (this.options.openingScenes !== false) this.planOpeningScenes(aq);
    for (const d of this.options.devices) {
      const b = BEHAVIOURS[d.profile];
      const st = this.states.get(d.id);
      if (b && st) st.next = b.first(d, this.realStart);
    }
    if (backfillMs > 0) this.backfilling = this.backfill(backfillMs);
    const tick = () => {
      if (this.stopped) return;
      this.tick();
      this.timer = setTimeout(tick, this.options.tickMs ?? 1000);
      this.timer.unref?.();
    };
    tick();
  }

  /**
   * What the demo's alarm board shows in its first minutes: a fire near a street hub (sulphur
   * dioxide, so the 15-minute mean turns the air-quality index High within about eight minutes), a
   * fall and a pendant press in two homes, and a town-centre car park filling up for an hour.
   */
  private planOpeningScenes(aq: SimDevice[]): void {
    const at = (minutes: number) => this.realStart + minutes * MINUTE;
    const pick = (profile: string, k: number) => {
      const list = this.options.devices.filter((d) => d.profile === profile && this.states.get(d.id)?.silentFrom === Number.POSITIVE_INFINITY);
      return list.sort((a, b) => noise01(this.seed, hashString(a.key), k) - noise01(this.seed, hashString(b.key), k))[0];
    };
    const hub = pick('air-quality', 11) ?? aq[0];
    if (hub) this.ctx.episodes.push({ start: at(1), end: at(120), lat: hub.lat, lon: hub.lon, radiusKm: 3, pm25: 0, so2: 1400, rampMinutes: 2 });
    const fall = pick('fall-detector', 12);
    if (fall) this.script.push({ d: fall, at: at(2), readings: [{ metric: 'fall', value: 1, at: at(2) }] });
    const pendant = pick('pendant', 13);
    if (pendant) this.script.push({ d: pendant, at: at(6), readings: [{ metric: 'pressed', value: 1, at: at(6) }] });
    const bays = new Map<string, number>();
    for (const d of this.options.devices) if (d.profile === 'parking-bay') bays.set(d.group, (bays.get(d.group) ?? 0) + 1);
    const smallest = [...bays].sort((a, b) => a[1] - b[1])[0];
    if (smallest) this.ctx.full = { group: smallest[0], from: at(3), until: at(63) };
  }

  private planSilences(backfillMs: number): void {
    const byProfile = new Map<string, SimDevice[]>();
    for (const d of this.options.devices) {
      this.states.set(d.id, { next: Number.POSITIVE_INFINITY, silentFrom: Number.POSITIVE_INFINITY });
      const list = byProfile.get(d.profile) ?? [];
      list.push(d);
      byProfile.set(d.profile, list);
    }
    if (this.options.silentDevices === false) return;
    for (const [profile, list] of byProfile) {
      const chosen = [...list].sort((a, b) => noise01(this.seed, hashString(a.key)) - noise01(this.seed, hashString(b.key))).slice(0, silentCount(profile, list.length));
      for (const d of chosen) {
        const r = noise01(this.seed, hashString(d.key), 3);
        const st = this.states.get(d.id)!;
        // With history: silent since some hours ago. Without: silent after a few (simulated) minutes.
        st.silentFrom = backfillMs > 0 ? this.realStart - (0.2 + 0.5 * r) * backfillMs : this.realStart + (5 + 25 * r) * MINUTE;
        this.stats.silent++;
      }
    }
  }

  /** The readings a device makes from `from` until `to` (simulated), advancing its state. */
  private run(d: SimDevice, st: DeviceState, to: number): SimReading[] {
    const b = BEHAVIOURS[d.profile];
    const out: SimReading[] = [];
    if (!b) return out;
    while (st.next <= to) {
      if (st.next >= st.silentFrom) {
        st.next = Number.POSITIVE_INFINITY;
        break;
      }
      const { readings, next } = b.step(this.ctx, d, st, st.next);
      for (const r of readings) if (r.at < st.silentFrom) out.push(r);
      st.next = Math.max(next, st.next + 1);
    }
    return out;
  }

  private tick(): void {
    const simNow = this.simTime(this.now());
    if (simNow > this.episodesUntil - 24 * HOUR) {
      // A long or fast run: the next stretch of pollution episodes.
      const aq = this.options.devices.filter((d) => d.profile === 'air-quality');
      const known = new Set(this.ctx.episodes.map((e) => e.start));
      const next = episodesBetween(this.seed, this.episodesUntil, this.episodesUntil + EPISODE_HORIZON, aq).filter((e) => !known.has(e.start));
      this.ctx.episodes = [...this.ctx.episodes.filter((e) => e.end > simNow), ...next];
      this.episodesUntil += EPISODE_HORIZON;
    }
    for (const due of this.script.filter((x) => x.at <= simNow)) this.track(this.sendLive(due.d, due.readings));
    this.script = this.script.filter((x) => x.at > simNow);
    for (const d of this.options.devices) {
      const st = this.states.get(d.id);
      if (!st || st.next > simNow || this.busy.has(d.id)) continue;
      const readings = this.run(d, st, simNow);
      if (readings.length) this.track(this.sendLive(d, readings));
    }
  }

  private track(p: Promise<void>): void {
    this.sending.add(p);
    void p.finally(() => this.sending.delete(p));
  }

  private async sendLive(d: SimDevice, readings: SimReading[]): Promise<void> {
    this.busy.add(d.id);
    try {
      if (d.transport === 'mqtt' && this.options.mqttUrl) await this.publish(d, readings);
      else await this.post(d, readings, (t) => this.realTime(t));
    } catch (err) {
      this.fail(d, err);
    } finally {
      this.busy.delete(d.id);
    }
  }

  private async publish(d: SimDevice, readings: SimReading[]): Promise<void> {
    const client = await this.client(d);
    const b = BEHAVIOURS[d.profile];
    const topic = `weft/devices/${d.id}/telemetry`;
    const payloads = b?.payload
      ? b.payload(readings, (t) => this.realTime(t))
      : [Buffer.from(JSON.stringify({ readings: readings.map((r) => ({ metric: r.metric, value: r.value, at: new Date(this.realTime(r.at)).toISOString() })) }))];
    for (const payload of payloads) {
      if (this.stopped) return;
      // A refused publish closes the connection and its acknowledgement never comes: give up after a while.
      await withTimeout(client.publishAsync(topic, payload, { qos: 1 }), 15_000, 'the broker did not acknowledge the message');
      this.stats.mqtt.messages++;
    }
    this.stats.mqtt.readings += readings.length;
  }

  private async client(d: SimDevice): Promise<MqttClient> {
    const open = this.clients.get(d.id);
    if (open?.client.connected) {
      open.used = this.now();
      return open.client;
    }
    const pending = this.connecting.get(d.id);
    if (pending) return pending;
    const p = this.connectLimit.run(async () => {
      const max = this.options.maxMqttConnections ?? 1000;
      while (this.clients.size >= max) {
        let oldest: string | undefined;
        let at = Number.POSITIVE_INFINITY;
        for (const [id, c] of this.clients)
          if (c.used < at && !this.busy.has(id)) {
            oldest = id;
            at = c.used;
          }
        if (!oldest) break;
        const c = this.clients.get(oldest);
        this.clients.delete(oldest);
        await c?.client.endAsync().catch(() => {});
      }
      const client = await mqtt.connectAsync(this.options.mqttUrl!, {
        username: d.id,
        password: d.mqttPassword,
        clientId: d.id,
        clean: true,
        keepalive: 120,
        reconnectPeriod: 0,
        connectTimeout: 15_000,
      });
      client.on('error', () => {});
      client.on('close', () => {
        if (this.clients.get(d.id)?.client === client) this.clients.delete(d.id);
        this.stats.mqtt.connections = this.clients.size;
      });
      this.clients.set(d.id, { client, used: this.now() });
      this.stats.mqtt.connects++;
      this.stats.mqtt.connections = this.clients.size;
      return client;
    });
    this.connecting.set(d.id, p);
    try {
      return await p;
    } finally {
      this.connecting.delete(d.id);
    }
  }

  private async post(d: SimDevice, readings: SimReading[], stamp: (t: number) => number): Promise<void> {
    for (let i = 0; i < readings.length; i += 5000) {
      if (this.stopped) return;
      const chunk = readings.slice(i, i + 5000);
      const body = JSON.stringify({ readings: chunk.map((r) => ({ metric: r.metric, value: r.value, at: new Date(stamp(r.at)).toISOString() })) });
      await this.httpLimit.run(async () => {
        if (this.stopped) return;
        const res = await fetch(`${this.options.url}/api/v1/telemetry`, {
          method: 'POST',
          headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(60_000),
        });
        const text = await res.text();
        this.stats.http.requests++;
        if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
        this.stats.http.readings += chunk.length;
      });
    }
  }

  /** Sends [start − backfill, start) for every device over HTTP, device by device, a few at a time. */
  private async backfill(ms: number): Promise<void> {
    const began = this.now();
    const from = this.realStart - ms;
    const queue = [...this.options.devices];
    const worker = async () => {
      for (let d = queue.shift(); d && !this.stopped; d = queue.shift()) {
        const b = BEHAVIOURS[d.profile];
        const live = this.states.get(d.id);
        if (!b || !live) continue;
        const st: DeviceState = { next: b.first(d, from), silentFrom: live.silentFrom };
        const readings = this.run(d, st, this.realStart - 1);
        if (!readings.length) continue;
        try {
          await this.post(d, readings, (t) => t);
          this.stats.backfill.readings += readings.length;
        } catch (err) {
          this.fail(d, err);
        }
      }
    };
    await Promise.all([1, 2, 3, 4].map(worker));
    this.stats.backfill.done = true;
    this.stats.backfill.seconds = Math.round((this.now() - began) / 100) / 10;
    if (!this.stopped) this.log(`Simulator: sent ${this.stats.backfill.readings.toLocaleString('en-GB')} readings of history in ${this.stats.backfill.seconds} s.`);
  }

  /** Resolves when the backfill (if any) has been sent. */
  async backfilled(): Promise<void> {
    await this.backfilling;
  }

  private fail(d: SimDevice, err: unknown): void {
    if (this.stopped) return;
    const message = `${d.name} (${d.id}): ${(err as Error).message ?? err}`;
    if (d.transport === 'mqtt' && this.options.mqttUrl) this.stats.mqtt.errors++;
    else this.stats.http.errors++;
    this.stats.lastError = message;
    if (this.errorsLogged++ < 5) this.log(`Simulator: could not send for ${message}`);
  }

  /** Stops sending: waits briefly for messages in flight, then closes every connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.race([Promise.allSettled([...this.sending, this.backfilling]), new Promise((r) => setTimeout(r, 2000))]);
    await Promise.allSettled([...this.clients.values()].map((c) => c.client.endAsync(true)));
    this.clients.clear();
  }
}
