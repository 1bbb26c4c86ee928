import { hashString, noise01, smoothNoise } from './random.js';

/**
 * What the simulated devices measure, as pure functions of (device, time): the same
 * device at the same instant always reads the same, so runs are repeatable and the
 * shapes can be tested directly. Local time is Europe/London.
 */

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** What a signal needs to know about a device. */
export interface SignalDevice {
  /** what its randomness is seeded from: stable across runs (the serial number) */
  key: string;
  lat: number;
  lon: number;
  /** air quality: how urban (0.5–1.6); people counter: visitors an hour; energy meter: peak kW; bin: % a day; telecare: activity */
  scale: number;
  /** car park bays: town, commuter or leisure */
  pattern?: string;
}

// ---- Local time ----

const londonParts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
const offsets = new Map<number, number>();

/** Europe/London's offset from UTC at an instant, in ms (clocks change on the hour, so one look-up an hour). */
export function londonOffset(ms: number): number {
  const bucket = Math.floor(ms / HOUR);
  let offset = offsets.get(bucket);
  if (offset === undefined) {
    const parts = londonParts.formatToParts(new Date(bucket * HOUR));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    offset = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute')) - bucket * HOUR;
    if (offsets.size > 200_000) offsets.clear();
    offsets.set(bucket, offset);
  }
  return offset;
}

export interface LocalTime {
  /** days since 1970-01-01 in local time */
  day: number;
  /** fractional hour of the local day, 0–24 */
  hour: number;
  /** 0 Sunday … 6 Saturday */
  weekday: number;
  weekend: boolean;
  /** 0–365 */
  dayOfYear: number;
}

export function londonTime(ms: number): LocalTime {
  const local = ms + londonOffset(ms);
  const day = Math.floor(local / DAY);
  const weekday = (day + 4) % 7; // 1 January 1970 was a Thursday
  const date = new Date(day * DAY);
  const dayOfYear = Math.round((day * DAY - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY);
  return { day, hour: (local - day * DAY) / HOUR, weekday, weekend: weekday === 0 || weekday === 6, dayOfYear };
}

/** The instant of a local (London) day and hour. */
export function londonInstant(day: number, hour: number): number {
  const approx = day * DAY + hour * HOUR;
  return approx - londonOffset(approx - londonOffset(approx));
}

const gauss = (x: number, mu: number, sigma: number) => Math.exp(-0.5 * ((x - mu) / sigma) ** 2);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const round1 = (x: number) => Math.round(x * 10) / 10;
const deviceSeed = (seed: number, id: string) => (hashString(id) ^ seed) >>> 0;

/** Traffic: peaks at 08:00 and 17:00 on weekdays, much smaller at weekends. */
export function rushHour(t: LocalTime): number {
  const amplitude = t.weekend ? 0.3 : 1;
  return amplitude * (gauss(t.hour, 8, 0.75) + 0.9 * gauss(t.hour, 17.2, 0.85));
}

// ---- Pollution episodes ----

export interface Episode {
  start: number;
  end: number;
  lat: number;
  lon: number;
  radiusKm: number;
  /** extra PM2.5 at the centre at full strength, µg/m³ */
  pm25: number;
  /** extra sulphur dioxide at the centre at full strength, µg/m³ (a fire) */
  so2?: number;
  /** how long it takes to build up and to die away; default an hour */
  rampMinutes?: number;
}

const KM_LAT = 110.57;
const KM_LON = 111.32 * Math.cos((52.3 * Math.PI) / 180);
const distanceKm = (a: { lat: number; lon: number }, b: { lat: number; lon: number }) => Math.hypot((a.lat - b.lat) * KM_LAT, (a.lon - b.lon) * KM_LON);

/**
 * Pollution episodes (still air, smoke, Saharan dust) between two instants: on about a
 * third of days, a few hours of high PM2.5 over part of the county, centred on one of
 * the given places.
 */
export function episodesBetween(seed: number, from: number, to: number, places: { lat: number; lon: number }[]): Episode[] {
  if (!places.length) return [];
  const out: Episode[] = [];
  for (let day = londonTime(from).day - 1; day <= londonTime(to).day; day++) {
    if (noise01(seed, day, 71) >= 0.33) continue;
    const start = londonInstant(day, 7 + 13 * noise01(seed, day, 72));
    const end = start + (3 + 4 * noise01(seed, day, 73)) * HOUR;
    const place = places[Math.floor(noise01(seed, day, 74) * places.length)];
    if (end > from && start < to) out.push({ start, end, lat: place.lat, lon: place.lon, radiusKm: 12 + 10 * noise01(seed, day, 75), pm25: 35 + 30 * noise01(seed, day, 76) });
  }
  return out;
}

/** Extra PM2.5 (or SO2) from episodes at a place and time (ramps up and down, over an hour unless the episode says). */
export function episodeLevel(episodes: readonly Episode[], at: { lat: number; lon: number }, t: number, pollutant: 'pm25' | 'so2' = 'pm25'): number {
  let level = 0;
  for (const e of episodes) {
    const peak = e[pollutant] ?? 0;
    if (!peak || t <= e.start || t >= e.end) continue;
    const ramp = clamp(Math.min(t - e.start, e.end - t) / ((e.rampMinutes ?? 60) * MINUTE), 0, 1);
    const reach = clamp(1 - distanceKm(at, e) / e.radiusKm, 0, 1);
    level += peak * ramp * ramp * (3 - 2 * ramp) * Math.sqrt(reach);
  }
  return level;
}

// ---- Air quality ----

/** An air-quality monitor's readings (µg/m³, °C, %): traffic peaks in NO2 and PM, ozone with the afternoon sun. */
export function airQuality(seed: number, device: SignalDevice, t: number, episodes: readonly Episode[] = []): Record<string, number> {
  const lt = londonTime(t);
  const s = deviceSeed(seed, device.key);
  const wobble = (k: number, period: number) => smoothNoise(s + k, t / period);
  const rush = rushHour(lt);
  const u = device.scale;
  const extra = episodeLevel(episodes, device, t);
  const no2 = u * (10 + 36 * rush + 7 * gauss(lt.hour, 13, 4)) + 3.5 * wobble(1, 40 * MINUTE) + 0.2 * extra;
  const pm25 = u * (4.5 + 6 * rush) + 1.8 * wobble(2, 70 * MINUTE) + 1.5 + extra;
  const pm10 = pm25 * 1.45 + 3 + 2 * wobble(3, 50 * MINUTE);
  const season = 0.65 + 0.35 * Math.sin((2 * Math.PI * (lt.dayOfYear - 80)) / 365);
  const sun = Math.max(0, Math.sin((Math.PI * (lt.hour - 8)) / 14));
  const o3 = 20 + 60 * sun * season - 0.22 * no2 + 5 * wobble(4, 90 * MINUTE);
  const so2 = 2 + 0.8 * (wobble(5, 3 * HOUR) + 1) + episodeLevel(episodes, device, t, 'so2');
  const daily = Math.cos((2 * Math.PI * (lt.hour - 15)) / 24);
  const temperature = 10.5 - 6 * Math.cos((2 * Math.PI * (lt.dayOfYear - 20)) / 365) + 4 * daily + 1.2 * wobble(6, 3 * HOUR);
  const humidity = 74 - 15 * daily + 5 * wobble(7, 2 * HOUR);
  return {
    no2: round1(Math.max(1, no2)),
    pm2_5: round1(Math.max(0.5, pm25)),
    pm10: round1(Math.max(1, pm10)),
    o3: round1(Math.max(2, o3)),
    so2: round1(so2),
    temperature: round1(temperature),
    humidity: round1(clamp(humidity, 25, 99)),
  };
}

// ---- Parking ----

/** The share of a car park's bays that are taken: a daily curve that differs at weekends. */
export function carParkOccupancy(pattern: string | undefined, t: number): number {
  const lt = londonTime(t);
  const h = lt.hour;
  const open = (from: number, to: number, riseH: number, fallH: number) => sigmoid((h - from) / riseH) * sigmoid((to - h) / fallH);
  let occ: number;
  if (pattern === 'commuter') occ = lt.weekend ? 0.04 + 0.2 * open(10, 16, 1, 1) : 0.04 + 0.9 * open(7.8, 17.8, 0.45, 0.6);
  else if (pattern === 'leisure') occ = lt.weekend ? 0.03 + 0.85 * open(10, 18, 0.8, 0.8) : 0.03 + 0.45 * open(10, 17, 0.8, 0.8);
  else occ = lt.weekend ? 0.05 + 0.88 * open(10.5, 17, 0.8, 0.9) : 0.05 + 0.78 * open(9, 17.5, 0.7, 0.9) + 0.1 * gauss(h, 12.5, 1.5);
  return clamp(occ, 0, 0.97);
}

/**
 * Whether a bay is occupied. Each bay turns over on its own period (2–6 hours), so
 * at any moment the share taken follows the car park's curve, and bays flip as
 * cars come and go.
 */
export function bayOccupied(seed: number, device: SignalDevice, t: number): boolean {
  const s = deviceSeed(seed, device.key);
  const period = (2 + 4 * noise01(s, 1)) * HOUR;
  const phase = (noise01(s, 2) + t / period) % 1;
  return phase < carParkOccupancy(device.pattern, t);
}

// ---- Telecare ----

/** The chance a resident moves past a motion sensor in a five-minute slot: busy by day, quiet by night. */
export function activityLevel(t: number): number {
  const h = londonTime(t).hour;
  return 0.025 + 0.6 * sigmoid((h - 7.2) / 0.45) * sigmoid((22.4 - h) / 0.45) + 0.1 * gauss(h, 12.5, 1);
}

export const MOTION_SLOT = 5 * MINUTE;

/** A motion event in this five-minute slot (and when in it), or undefined. */
export function motionIn(seed: number, device: SignalDevice, slotStart: number): number | undefined {
  const s = deviceSeed(seed, device.key);
  const slot = Math.floor(slotStart / MOTION_SLOT);
  if (noise01(s, slot, 1) >= Math.min(0.95, activityLevel(slotStart) * device.scale)) return undefined;
  return slot * MOTION_SLOT + Math.floor(noise01(s, slot, 2) * MOTION_SLOT);
}

export const DOOR_SLOT = 15 * MINUTE;

/** A door opening in this quarter-hour: when, and for how long (ms), or undefined. */
export function doorOpeningIn(seed: number, device: SignalDevice, slotStart: number): { at: number; forMs: number } | undefined {
  const s = deviceSeed(seed, device.key);
  const slot = Math.floor(slotStart / DOOR_SLOT);
  const h = londonTime(slotStart).hour;
  const p = 0.005 + 0.07 * sigmoid((h - 8) / 0.6) * sigmoid((20.5 - h) / 0.6);
  if (noise01(s, slot, 3) >= p) return undefined;
  return { at: slot * DOOR_SLOT + Math.floor(noise01(s, slot, 4) * 10 * MINUTE), forMs: Math.floor((0.5 + 3.5 * noise01(s, slot, 5)) * MINUTE) };
}

/** A fall or a pendant press in this hour (rare), and when. */
export function alarmIn(seed: number, device: SignalDevice, hourStart: number, perHour: number): number | undefined {
  const s = deviceSeed(seed, device.key);
  const hour = Math.floor(hourStart / HOUR);
  if (noise01(s, hour, 6) >= perHour) return undefined;
  return hour * HOUR + Math.floor(noise01(s, hour, 7) * HOUR);
}

// ---- Bins, people counters, energy ----

/** How full a bin is (%): it fills at its own rate and is emptied on its collection day at 07:00. */
export function binFill(seed: number, device: SignalDevice, t: number): number {
  const s = deviceSeed(seed, device.key);
  const lt = londonTime(t);
  const collectionDay = Math.floor(noise01(s, 8) * 7);
  let daysBack = (lt.weekday - collectionDay + 7) % 7;
  if (daysBack === 0 && lt.hour < 7) daysBack = 7;
  const since = daysBack + (lt.hour - 7) / 24;
  const weekendBoost = lt.weekend ? 1.3 : 1;
  return Math.round(clamp(4 + device.scale * since * weekendBoost + 2 * smoothNoise(s + 9, t / (6 * HOUR)), 0, 100));
}

/** Library opening hours: Monday to Friday 09:00–18:00 (Thursday to 19:00), Saturday 09:00–13:00. */
export function libraryOpen(t: number): boolean {
  const lt = londonTime(t);
  if (lt.weekday === 0) return false;
  if (lt.weekday === 6) return lt.hour >= 9 && lt.hour < 13;
  return lt.hour >= 9 && lt.hour < (lt.weekday === 4 ? 19 : 18);
}

/** People in and out of a library in the quarter-hour starting at t. */
export function peopleCount(seed: number, device: SignalDevice, t: number): { in: number; out: number } {
  const s = deviceSeed(seed, device.key);
  const rate = (at: number) => {
    if (!libraryOpen(at)) return 0;
    const h = londonTime(at).hour;
    return (device.scale / 4) * (0.6 + 0.5 * gauss(h, 11, 1.2) + 0.6 * gauss(h, 15.7, 0.8));
  };
  const slot = Math.floor(t / (15 * MINUTE));
  const draw = (lambda: number, k: number) => (lambda <= 0 ? 0 : Math.max(0, Math.round(lambda + Math.sqrt(lambda) * (noise01(s, slot, k) * 2 - 1) * 1.5)));
  const inflow = draw(rate(t), 10);
  // People leave about 40 minutes after they arrive; at closing time, everyone does.
  const closing = libraryOpen(t) && !libraryOpen(t + 15 * MINUTE);
  const outflow = closing ? draw(rate(t) * 2.5, 11) : draw(rate(t - 40 * MINUTE), 11);
  return { in: inflow, out: outflow };
}

/** A building's electrical power (W): a base load plus the working day. */
export function powerW(seed: number, device: SignalDevice, t: number, withNoise = true): number {
  const s = deviceSeed(seed, device.key);
  const lt = londonTime(t);
  const working = lt.weekend ? 0.08 : sigmoid((lt.hour - 8) / 0.5) * sigmoid((18 - lt.hour) / 0.6);
  const winter = 1 + 0.25 * Math.cos((2 * Math.PI * (lt.dayOfYear - 15)) / 365);
  const kw = device.scale * winter * (0.18 + 0.82 * working) * (withNoise ? 1 + 0.08 * smoothNoise(s + 12, t / (20 * MINUTE)) : 1);
  return Math.round(kw * 1000);
}

const ENERGY_FROM_DAY = Date.UTC(2025, 0, 1) / DAY;
const QUARTER = 15 * MINUTE;
/** kWh per kW of peak load for each UTC day from 1 January 2025 (the same shape for every meter), summed as it goes. */
const energyPrefix: number[] = [0];
const shape: SignalDevice = { key: 'shape', lat: 0, lon: 0, scale: 1 };

/**
 * A meter's cumulative reading (kWh): a plausible start for a building of its size,
 * then the integral of its (noise-free) power, so the counter only ever goes up.
 */
export function energyKwh(device: SignalDevice, t: number): number {
  const day = Math.max(0, Math.floor(t / DAY) - ENERGY_FROM_DAY);
  while (energyPrefix.length <= day) {
    const start = (ENERGY_FROM_DAY + energyPrefix.length - 1) * DAY;
    let kwh = 0;
    for (let q = 0; q < 96; q++) kwh += powerW(0, shape, start + q * QUARTER, false) / 4000;
    energyPrefix.push(energyPrefix[energyPrefix.length - 1] + kwh);
  }
  const dayStart = (ENERGY_FROM_DAY + day) * DAY;
  let partial = 0;
  for (let q = dayStart; q < t; q += QUARTER) partial += (powerW(0, shape, q, false) / 1000) * (Math.min(QUARTER, t - q) / HOUR);
  const base = 0.42 * ((ENERGY_FROM_DAY * DAY - Date.UTC(2020, 0, 1)) / HOUR);
  return Math.round(device.scale * (base + energyPrefix[day] + partial) * 100) / 100;
}

/** A device's battery level (%): steady; about one device in thirty is low (so battery alerts show). */
export function batteryLevel(seed: number, device: SignalDevice): number {
  const s = deviceSeed(seed, device.key);
  return Math.round(noise01(s, 20) < 0.03 ? 8 + 6 * noise01(s, 21) : 45 + 55 * noise01(s, 22));
}
