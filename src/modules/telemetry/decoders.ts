import { defineErrors } from '../../platform/errors.js';
import type { DecoderSpec, MetricSpec } from '../estate/estate.schema.js';

/**
 * Payload decoders: how a device's raw message becomes readings. Every decoder is
 * declarative (a profile says which fields to read) or built into Weft by name:
 * nothing here runs code a user uploaded.
 *
 * A battery level found in a payload (`battery` or `batt`, in per cent) is returned
 * as a reading named `battery`; telemetry hands it to estate.noteSeen.
 */
export const decoderErrors = defineErrors('telemetry', {
  PAYLOAD_MALFORMED: { status: 400, message: 'The payload cannot be decoded with this device’s profile. Check its format against the profile’s decoder.' },
  PAYLOAD_NO_READINGS: { status: 400, message: 'The payload holds no readings for this device’s metrics.' },
  DECODER_UNKNOWN: { status: 400, message: 'The profile names a built-in decoder that Weft does not have.' },
});

/** What a decoder returns: the shape telemetry.ingest takes (ReadingInput). */
export interface DecodedReading {
  metric: string;
  value: number | boolean;
  at?: Date;
}

export interface DecodeOptions {
  /** used when a reading carries no time of its own (e.g. the time a message arrived) */
  defaultAt?: Date;
}

type Named = Record<string, number | boolean>;

/** The metric a battery level goes to, whatever the payload calls it. */
export const BATTERY_METRIC = 'battery';
const BATTERY_KEYS = ['battery', 'batt'];
const TIME_KEYS = ['at', 'ts', 'time', 'timestamp'];
const NUMERIC = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const METRIC_NAME = /^[a-z][a-z0-9_]{0,39}$/;

const malformed = (why: string) => decoderErrors.PAYLOAD_MALFORMED(`The payload cannot be decoded: ${why}.`);

/**
 * Decodes one message with the profile's decoder. `payload` is the raw bytes (MQTT,
 * LoRaWAN frm_payload) or an already parsed JSON value (an HTTP body, a network
 * server's decoded object). Throws PAYLOAD_MALFORMED, PAYLOAD_NO_READINGS or
 * DECODER_UNKNOWN; never returns a reading whose value is not a number or boolean.
 */
export function decodePayload(spec: DecoderSpec, payload: Buffer | unknown, metrics: MetricSpec[], options: DecodeOptions = {}): DecodedReading[] {
  let readings: DecodedReading[];
  if (spec.type === 'json') {
    const value = Buffer.isBuffer(payload) ? parseJson(payload) : payload instanceof Uint8Array ? parseJson(Buffer.from(payload)) : payload;
    readings = decodeJsonValue(value, metrics, spec.fields);
  } else {
    const bytes = asBytes(payload);
    if (spec.type === 'bytes') {
      // The profile named every field itself: all of them are its readings.
      const named = readByteFields(bytes, spec.fields);
      readings = Object.keys(named).map((k) => ({ metric: k === 'batt' ? BATTERY_METRIC : k, value: named[k] }));
    } else readings = toReadings(builtin(spec.name)(bytes), metrics);
  }
  if (!readings.length) throw decoderErrors.PAYLOAD_NO_READINGS();
  if (options.defaultAt) for (const r of readings) r.at ??= options.defaultAt;
  return readings;
}

/**
 * Maps a network server's already decoded object (TTS decoded_payload, ChirpStack
 * object) to the profile's metrics: its `fields` when the profile's decoder is json
 * with fields, otherwise keys named like the metrics.
 */
export function readingsFromObject(object: unknown, spec: DecoderSpec, metrics: MetricSpec[], options: DecodeOptions = {}): DecodedReading[] {
  const readings = decodeJsonValue(object, metrics, spec.type === 'json' ? spec.fields : undefined);
  if (!readings.length) throw decoderErrors.PAYLOAD_NO_READINGS();
  if (options.defaultAt) for (const r of readings) r.at ??= options.defaultAt;
  return readings;
}

function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw malformed('it is not valid JSON');
  }
}

function asBytes(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  throw malformed('this profile expects a binary payload');
}

// ---- JSON ----

function decodeJsonValue(value: unknown, metrics: MetricSpec[], fields?: Record<string, string>): DecodedReading[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => readingsFromItem(item, metrics, fields, `item ${i}`));
  // A bare value is the reading of a profile that measures one thing (a door contact's "1").
  if ((typeof value === 'number' || typeof value === 'boolean') && metrics.length === 1) return [{ metric: metrics[0].name, value: toValue(value, 'the payload') as number | boolean }];
  if (!isObject(value)) throw malformed('expected a JSON object or array');
  if (Array.isArray(value.readings)) return value.readings.flatMap((item, i) => readingsFromItem(item, metrics, fields, `readings[${i}]`));
  return readingsFromItem(value, metrics, fields, 'the payload');
}

/** One object: {metric, value, at}, ThingsBoard's {ts, values}, or metric-named keys. */
function readingsFromItem(item: unknown, metrics: MetricSpec[], fields: Record<string, string> | undefined, where: string): DecodedReading[] {
  if (!isObject(item)) throw malformed(`${where} is not an object`);
  if (typeof item.metric === 'string' && 'value' in item) {
    if (!METRIC_NAME.test(item.metric)) throw malformed(`${where} has a metric name "${item.metric.slice(0, 40)}" that is not a metric name`);
    const value = toValue(item.value, `${where}.value`);
    if (value === undefined) throw malformed(`${where}.value is empty`);
    const metric = item.metric === 'batt' ? BATTERY_METRIC : item.metric;
    return [withTime({ metric, value }, item.at ?? item.ts ?? item.time ?? item.timestamp, where)];
  }
  if (isObject(item.values) && ('ts' in item || 'time' in item)) {
    const at = toTime(item.ts ?? item.time, `${where}.ts`);
    const readings = fromNamedObject(item.values, metrics, fields, `${where}.values`);
    for (const r of readings) r.at = at;
    return readings;
  }
  const at = timeOf(item, where);
  const readings = fromNamedObject(item, metrics, fields, where);
  if (at) for (const r of readings) r.at = at;
  return readings;
}

function fromNamedObject(obj: Record<string, unknown>, metrics: MetricSpec[], fields: Record<string, string> | undefined, where: string): DecodedReading[] {
  if (!fields) {
    const idx = indexOf(metrics);
    // The common case, every key a metric's own name, needs no second pass.
    const direct: DecodedReading[] = [];
    let battery: number | boolean | undefined;
    let named: Named | undefined;
    for (const key of Object.keys(obj)) {
      const raw = obj[key];
      // Other fields (rssi, firmware, nested objects) are ignored unless they name a metric.
      if ((typeof raw === 'object' && raw !== null) || raw === undefined) continue;
      if (idx.names.has(key)) {
        const value = toValue(raw, `${where}: ${key}`);
        if (value !== undefined) direct.push({ metric: key, value });
      } else if (key === 'battery' || key === 'batt') {
        battery ??= toValue(raw, `${where}: ${key}`);
      } else if (!TIME_KEYS.includes(key) && metricOfKey(key, idx)) {
        const value = toValue(raw, `${where}: ${key}`);
        if (value !== undefined) {
          named ??= {};
          named[key] = value;
        }
      }
    }
    if (named) {
      for (const r of direct) named[r.metric] = r.value;
      if (battery !== undefined) named.battery = battery;
      return toReadings(named, metrics);
    }
    if (battery !== undefined) direct.push({ metric: BATTERY_METRIC, value: battery });
    return direct;
  }
  const out: DecodedReading[] = [];
  for (const [metric, path] of Object.entries(fields)) {
    const value = toValue(getPath(obj, path), `${where}: ${path}`);
    if (value !== undefined) out.push({ metric, value });
  }
  if (!fields[BATTERY_METRIC]) {
    for (const key of BATTERY_KEYS) {
      const value = typeof obj[key] === 'number' ? (obj[key] as number) : undefined;
      if (value !== undefined) {
        out.push({ metric: BATTERY_METRIC, value });
        break;
      }
    }
  }
  return out;
}

function timeOf(obj: Record<string, unknown>, where: string): Date | undefined {
  for (const key of TIME_KEYS) if (obj[key] !== undefined && obj[key] !== null) return toTime(obj[key], `${where}.${key}`);
  return undefined;
}

function withTime(r: DecodedReading, raw: unknown, where: string): DecodedReading {
  if (raw !== undefined && raw !== null) r.at = toTime(raw, `${where}.at`);
  return r;
}

/** Numbers below 10^11 are taken as seconds since 1970 (Unix time), larger ones as milliseconds. */
export function toTime(raw: unknown, where: string): Date {
  let d: Date;
  if (typeof raw === 'number' && Number.isFinite(raw)) d = new Date(raw < 1e11 ? raw * 1000 : raw);
  else if (typeof raw === 'string' && raw.length <= 40 && /^\d{4}-\d{2}-\d{2}T/.test(raw)) d = new Date(raw);
  else if (typeof raw === 'string' && NUMERIC.test(raw)) return toTime(Number(raw), where);
  else throw malformed(`${where} is not a time (use an ISO 8601 time or milliseconds since 1970)`);
  if (Number.isNaN(d.getTime())) throw malformed(`${where} is not a valid time`);
  return d;
}

/** A reading's value: a finite number, a boolean, or a numeric string; null means "no value". */
function toValue(raw: unknown, where: string): number | boolean | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) throw malformed(`${where} is not a finite number`);
    return raw;
  }
  if (typeof raw === 'string' && NUMERIC.test(raw.trim())) return Number(raw.trim());
  throw malformed(`${where} is not a number or true/false`);
}

function getPath(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(part)) cur = cur[Number(part)];
    else if (isObject(cur) && Object.hasOwn(cur, part)) cur = cur[part];
    else return undefined;
  }
  return cur;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface MetricIndex {
  names: Set<string>;
}
const indexes = new WeakMap<MetricSpec[], MetricIndex>();

function indexOf(metrics: MetricSpec[]): MetricIndex {
  let idx = indexes.get(metrics);
  if (!idx) {
    idx = { names: new Set(metrics.map((m) => m.name)) };
    indexes.set(metrics, idx);
  }
  return idx;
}

/** The metric a payload key names: the key itself, its base when it is `metric_<channel>`, or battery for batt. */
function metricOfKey(key: string, idx: MetricIndex): string | undefined {
  if (idx.names.has(key)) return key;
  if (key === 'battery' || key === 'batt') return BATTERY_METRIC;
  const u = key.lastIndexOf('_');
  if (u <= 0 || u === key.length - 1) return undefined;
  for (let i = u + 1; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const base = key.slice(0, u);
  return idx.names.has(base) ? base : undefined;
}

/**
 * Named values → readings of the profile's metrics, in the profile's order. A name
 * matches a metric exactly, or as `metric_<channel>` when only one such name is
 * present (The Things Stack's Cayenne LPP names: temperature_3). A battery level
 * (battery or batt) always passes.
 */
function toReadings(named: Named, metrics: MetricSpec[]): DecodedReading[] {
  const idx = indexOf(metrics);
  const exact = new Map<string, number | boolean>();
  const channelled = new Map<string, { value: number | boolean; count: number }>();
  let battery: number | boolean | undefined;
  for (const key of Object.keys(named)) {
    const metric = metricOfKey(key, idx);
    if (!metric) continue;
    if (metric === key && idx.names.has(key)) exact.set(key, named[key]);
    else if (metric === BATTERY_METRIC) battery ??= named[key];
    else {
      const c = channelled.get(metric);
      if (c) c.count++;
      else channelled.set(metric, { value: named[key], count: 1 });
    }
  }
  const out: DecodedReading[] = [];
  for (const m of metrics) {
    const v = exact.get(m.name);
    if (v !== undefined) out.push({ metric: m.name, value: v });
    else {
      const c = channelled.get(m.name);
      if (c?.count === 1) out.push({ metric: m.name, value: c.value });
    }
  }
  if (battery !== undefined && !exact.has(BATTERY_METRIC)) out.push({ metric: BATTERY_METRIC, value: battery });
  return out;
}

// ---- bytes ----

const SIZES: Record<string, number> = { u8: 1, i8: 1, u16be: 2, i16be: 2, u16le: 2, i16le: 2, u32be: 4, i32be: 4, u32le: 4, i32le: 4 };

function readByteFields(bytes: Buffer, fields: Extract<DecoderSpec, { type: 'bytes' }>['fields']): Named {
  const out: Named = {};
  for (const f of fields) {
    const size = f.bit !== undefined ? 1 : SIZES[f.format];
    if (f.offset + size > bytes.length) throw malformed(`it is ${bytes.length} bytes long, but ${f.metric} is read from bytes ${f.offset}–${f.offset + size - 1}`);
    if (f.bit !== undefined) {
      out[f.metric] = (bytes[f.offset] >> f.bit) & 1;
      continue;
    }
    out[f.metric] = scaled(readInt(bytes, f.offset, f.format), f.scale);
  }
  return out;
}

function readInt(b: Buffer, offset: number, format: string): number {
  switch (format) {
    case 'u8':
      return b.readUInt8(offset);
    case 'i8':
      return b.readInt8(offset);
    case 'u16be':
      return b.readUInt16BE(offset);
    case 'i16be':
      return b.readInt16BE(offset);
    case 'u16le':
      return b.readUInt16LE(offset);
    case 'i16le':
      return b.readInt16LE(offset);
    case 'u32be':
      return b.readUInt32BE(offset);
    case 'i32be':
      return b.readInt32BE(offset);
    case 'u32le':
      return b.readUInt32LE(offset);
    case 'i32le':
      return b.readInt32LE(offset);
    default:
      throw decoderErrors.DECODER_UNKNOWN(`The byte format ${format} is not one Weft reads.`);
  }
}

/** Scales without binary noise: 215 × 0.1 is 21.5, not 21.500000000000004. */
function scaled(raw: number, scale = 1): number {
  return scale === 1 ? raw : Number((raw * scale).toPrecision(12));
}

// ---- built-in decoders ----

type Builtin = (bytes: Buffer) => Named;

function need(bytes: Buffer, n: number, what: string): void {
  if (bytes.length < n) throw malformed(`${what} needs at least ${n} byte${n === 1 ? '' : 's'}, and it has ${bytes.length}`);
}

/**
 * Decoders shipped with Weft, by name. Each reads a documented, fixed format;
 * none is configurable with code.
 */
export const BUILTIN_DECODERS: Record<string, { description: string; decode: Builtin }> = {
  'parking-bay': {
    description: 'Byte 0 bit 0: bay occupied (1) or free (0). Optional byte 1: battery per cent.',
    decode: (b) => {
      need(b, 1, 'a parking-bay payload');
      const out: Named = { occupied: b[0] & 1 };
      if (b.length >= 2) out.battery = b[1];
      return out;
    },
  },
  'bin-fill': {
    description: 'Byte 0: fill level per cent (0–100). Optional byte 1: battery per cent. Optional bytes 2–3: distance to the contents in mm (u16, big-endian).',
    decode: (b) => {
      need(b, 1, 'a bin-fill payload');
      const out: Named = { fill_level: b[0] };
      if (b.length >= 2) out.battery = b[1];
      if (b.length >= 4) out.distance = b.readUInt16BE(2);
      return out;
    },
  },
  'cayenne-lpp': { description: 'Cayenne Low Power Payload: channel, type, value; named as The Things Stack names them (temperature_3).', decode: decodeCayenneLpp },
  elsys: { description: 'Elsys ERS/ELT/EMS sensors: type-value pairs (temperature, humidity, light, motion, CO2, VDD, occupancy, …).', decode: decodeElsys },
};

function builtin(name: string): Builtin {
  const b = BUILTIN_DECODERS[name];
  if (!b) throw decoderErrors.DECODER_UNKNOWN(`Weft has no built-in decoder called ${name}. It has: ${Object.keys(BUILTIN_DECODERS).join(', ')}.`);
  return b.decode;
}

/** Cayenne LPP types: name, size, reader. Multi-axis values get _x/_y/_z (or latitude/longitude/altitude) suffixes. */
const LPP: Record<number, { name: string; size: number; read: (b: Buffer, o: number) => number | Record<string, number> }> = {
  0: { name: 'digital_in', size: 1, read: (b, o) => b.readUInt8(o) },
  1: { name: 'digital_out', size: 1, read: (b, o) => b.readUInt8(o) },
  2: { name: 'analog_in', size: 2, read: (b, o) => scaled(b.readInt16BE(o), 0.01) },
  3: { name: 'analog_out', size: 2, read: (b, o) => scaled(b.readInt16BE(o), 0.01) },
  101: { name: 'luminosity', size: 2, read: (b, o) => b.readUInt16BE(o) },
  102: { name: 'presence', size: 1, read: (b, o) => b.readUInt8(o) },
  103: { name: 'temperature', size: 2, read: (b, o) => scaled(b.readInt16BE(o), 0.1) },
  104: { name: 'relative_humidity', size: 1, read: (b, o) => scaled(b.readUInt8(o), 0.5) },
  113: { name: 'accelerometer', size: 6, read: (b, o) => ({ x: scaled(b.readInt16BE(o), 0.001), y: scaled(b.readInt16BE(o + 2), 0.001), z: scaled(b.readInt16BE(o + 4), 0.001) }) },
  115: { name: 'barometric_pressure', size: 2, read: (b, o) => scaled(b.readUInt16BE(o), 0.1) },
  134: { name: 'gyrometer', size: 6, read: (b, o) => ({ x: scaled(b.readInt16BE(o), 0.01), y: scaled(b.readInt16BE(o + 2), 0.01), z: scaled(b.readInt16BE(o + 4), 0.01) }) },
  136: {
    name: 'gps',
    size: 9,
    read: (b, o) => ({ latitude: scaled(b.readIntBE(o, 3), 0.0001), longitude: scaled(b.readIntBE(o + 3, 3), 0.0001), altitude: scaled(b.readIntBE(o + 6, 3), 0.01) }),
  },
};

function decodeCayenneLpp(b: Buffer): Named {
  const out: Named = {};
  let i = 0;
  while (i < b.length) {
    if (i + 2 > b.length) throw malformed(`the Cayenne LPP record at byte ${i} is cut short`);
    const channel = b[i];
    const type = LPP[b[i + 1]];
    if (!type) throw malformed(`byte ${i + 1} holds Cayenne LPP type ${b[i + 1]}, which Weft does not know`);
    if (i + 2 + type.size > b.length) throw malformed(`the Cayenne LPP ${type.name} value on channel ${channel} is cut short`);
    const value = type.read(b, i + 2);
    if (typeof value === 'number') out[`${type.name}_${channel}`] = value;
    else for (const [axis, v] of Object.entries(value)) out[`${type.name}_${channel}_${axis}`] = v;
    i += 2 + type.size;
  }
  return out;
}

/** Elsys types: size in bytes after the type byte, and what to read. */
const ELSYS: Record<number, { size: number; read: (b: Buffer, o: number) => Named }> = {
  1: { size: 2, read: (b, o) => ({ temperature: scaled(b.readInt16BE(o), 0.1) }) },
  2: { size: 1, read: (b, o) => ({ humidity: b[o] }) },
  3: { size: 3, read: (b, o) => ({ acceleration_x: b.readInt8(o), acceleration_y: b.readInt8(o + 1), acceleration_z: b.readInt8(o + 2) }) },
  4: { size: 2, read: (b, o) => ({ light: b.readUInt16BE(o) }) },
  5: { size: 1, read: (b, o) => ({ motion: b[o] }) },
  6: { size: 2, read: (b, o) => ({ co2: b.readUInt16BE(o) }) },
  7: { size: 2, read: (b, o) => ({ vdd: b.readUInt16BE(o) }) },
  8: { size: 2, read: (b, o) => ({ analog1: b.readUInt16BE(o) }) },
  9: { size: 6, read: (b, o) => ({ latitude: scaled(b.readIntLE(o, 3), 0.0001), longitude: scaled(b.readIntLE(o + 3, 3), 0.0001) }) },
  10: { size: 2, read: (b, o) => ({ pulse1: b.readUInt16BE(o) }) },
  11: { size: 4, read: (b, o) => ({ pulse1_abs: b.readUInt32BE(o) }) },
  12: { size: 2, read: (b, o) => ({ external_temperature: scaled(b.readInt16BE(o), 0.1) }) },
  13: { size: 1, read: (b, o) => ({ digital: b[o] }) },
  14: { size: 2, read: (b, o) => ({ distance: b.readUInt16BE(o) }) },
  15: { size: 1, read: (b, o) => ({ acc_motion: b[o] }) },
  16: { size: 4, read: (b, o) => ({ ir_internal_temperature: scaled(b.readInt16BE(o), 0.1), ir_external_temperature: scaled(b.readInt16BE(o + 2), 0.1) }) },
  17: { size: 1, read: (b, o) => ({ occupancy: b[o] }) },
  18: { size: 1, read: (b, o) => ({ waterleak: b[o] }) },
  20: { size: 4, read: (b, o) => ({ pressure: scaled(b.readUInt32BE(o), 0.001) }) },
  21: { size: 2, read: (b, o) => ({ sound_peak: b[o], sound_avg: b[o + 1] }) },
  22: { size: 2, read: (b, o) => ({ pulse2: b.readUInt16BE(o) }) },
  23: { size: 4, read: (b, o) => ({ pulse2_abs: b.readUInt32BE(o) }) },
  24: { size: 2, read: (b, o) => ({ analog2: b.readUInt16BE(o) }) },
  25: { size: 2, read: (b, o) => ({ external_temperature2: scaled(b.readInt16BE(o), 0.1) }) },
  26: { size: 1, read: (b, o) => ({ digital2: b[o] }) },
  27: { size: 4, read: (b, o) => ({ analog_uv: b.readInt32BE(o) }) },
  28: { size: 2, read: (b, o) => ({ tvoc: b.readUInt16BE(o) }) },
};

function decodeElsys(b: Buffer): Named {
  const out: Named = {};
  let i = 0;
  while (i < b.length) {
    const type = ELSYS[b[i]];
    // An unknown type has an unknown length, so nothing after it can be read safely.
    if (!type) throw malformed(`byte ${i} holds Elsys type 0x${b[i].toString(16).padStart(2, '0')}, which Weft does not read`);
    if (i + 1 + type.size > b.length) throw malformed(`the Elsys value of type 0x${b[i].toString(16).padStart(2, '0')} at byte ${i} is cut short`);
    Object.assign(out, type.read(b, i + 1));
    i += 1 + type.size;
  }
  return out;
}
