import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DecoderSpec, MetricSpec } from '../../../src/modules/estate/estate.schema.js';
import { BUILTIN_DECODERS, decodePayload, readingsFromObject } from '../../../src/modules/telemetry/decoders.js';
import { AppError } from '../../../src/platform/errors.js';

const m = (name: string, min?: number, max?: number): MetricSpec => ({ name, unit: '', kind: 'measure', min, max });
const AIR = [m('no2'), m('pm2_5'), m('pm10'), m('temperature'), m('humidity')];
const JSON_SPEC: DecoderSpec = { type: 'json' };
const buf = (s: string) => Buffer.from(s);
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function refused(fn: () => unknown, code: string, message?: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected an AppError, got ${err}`);
    assert.equal(err.code, code);
    assert.equal(err.status, 400);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('json decoder', () => {
  test('takes keys that are the profile’s metric names and ignores the rest', () => {
    const r = decodePayload(JSON_SPEC, buf('{"no2": 41.5, "pm2_5": 12, "rssi": -80, "firmware": "1.2", "extra": {"a": 1}}'), AIR);
    assert.deepEqual(r, [
      { metric: 'no2', value: 41.5 },
      { metric: 'pm2_5', value: 12 },
    ]);
  });

  test('a top-level time (ISO, milliseconds or seconds) applies to every reading', () => {
    const iso = decodePayload(JSON_SPEC, buf('{"no2": 1, "pm10": 2, "ts": "2026-03-01T10:00:00Z"}'), AIR);
    assert.ok(iso.every((r) => r.at?.toISOString() === '2026-03-01T10:00:00.000Z'));
    const ms = decodePayload(JSON_SPEC, { no2: 1, at: 1772359200000 }, AIR);
    assert.equal(ms[0].at?.toISOString(), '2026-03-01T10:00:00.000Z');
    const seconds = decodePayload(JSON_SPEC, { no2: 1, time: 1772359200 }, AIR);
    assert.equal(seconds[0].at?.toISOString(), '2026-03-01T10:00:00.000Z');
  });

  test('without a time, the default (arrival) time is used', () => {
    const arrived = new Date('2026-03-01T10:00:00.123Z');
    const r = decodePayload(JSON_SPEC, { no2: 3 }, AIR, { defaultAt: arrived });
    assert.equal(r[0].at, arrived);
  });

  test('fields map metrics to dotted paths, array indexes included', () => {
    const spec: DecoderSpec = { type: 'json', fields: { no2: 'gases.no2.value', temperature: 'climate.0', humidity: 'missing.path' } };
    const r = decodePayload(spec, buf('{"gases": {"no2": {"value": "38.2"}}, "climate": [19.5, 60]}'), AIR);
    assert.deepEqual(r, [
      { metric: 'no2', value: 38.2 },
      { metric: 'temperature', value: 19.5 },
    ]);
  });

  test('accepts {readings:[…]} and a bare array of {metric, value, at}', () => {
    const body = {
      readings: [
        { metric: 'no2', value: 10, at: '2026-03-01T10:00:00Z' },
        { metric: 'occupied', value: true },
      ],
    };
    const a = decodePayload(JSON_SPEC, body, AIR);
    assert.equal(a.length, 2);
    assert.equal(a[0].at?.toISOString(), '2026-03-01T10:00:00.000Z');
    assert.deepEqual(a[1], { metric: 'occupied', value: true });
    const b = decodePayload(JSON_SPEC, buf('[{"metric":"pm10","value":22,"at":1772359200000}]'), AIR);
    assert.deepEqual(b, [{ metric: 'pm10', value: 22, at: new Date(1772359200000) }]);
  });

  test('accepts ThingsBoard’s {ts, values} objects, alone or in an array', () => {
    const one = decodePayload(JSON_SPEC, buf('{"ts": 1772359200000, "values": {"no2": 5, "humidity": 71}}'), AIR);
    assert.deepEqual(
      one.map((r) => [r.metric, r.value, r.at?.getTime()]),
      [
        ['no2', 5, 1772359200000],
        ['humidity', 71, 1772359200000],
      ],
    );
    const many = decodePayload(
      JSON_SPEC,
      [
        { ts: 1772359200000, values: { no2: 5 } },
        { ts: 1772359260000, values: { no2: 6 } },
      ],
      AIR,
    );
    assert.deepEqual(
      many.map((r) => r.at?.getTime()),
      [1772359200000, 1772359260000],
    );
  });

  test('battery or batt becomes the battery reading', () => {
    assert.deepEqual(decodePayload(JSON_SPEC, { occupied: 1, batt: 87 }, [m('occupied')]), [
      { metric: 'occupied', value: 1 },
      { metric: 'battery', value: 87 },
    ]);
    const spec: DecoderSpec = { type: 'json', fields: { occupied: 'state' } };
    assert.deepEqual(decodePayload(spec, { state: 0, battery: 40 }, [m('occupied')]), [
      { metric: 'occupied', value: 0 },
      { metric: 'battery', value: 40 },
    ]);
  });

  test('a bare number is the reading of a one-metric profile', () => {
    assert.deepEqual(decodePayload(JSON_SPEC, buf('1'), [m('open')]), [{ metric: 'open', value: 1 }]);
  });

  test('a null value means no reading; names with a channel suffix map when unambiguous', () => {
    assert.deepEqual(decodePayload(JSON_SPEC, { no2: null, temperature_3: 4.5 }, AIR), [{ metric: 'temperature', value: 4.5 }]);
    assert.deepEqual(decodePayload(JSON_SPEC, { no2: 1, temperature_3: 4.5, temperature_4: 5 }, AIR), [{ metric: 'no2', value: 1 }]);
  });

  test('bad payloads are refused with a code saying what is wrong', () => {
    refused(() => decodePayload(JSON_SPEC, buf('{"no2": 4'), AIR), 'PAYLOAD_MALFORMED', /not valid JSON/);
    refused(() => decodePayload(JSON_SPEC, buf('"hello"'), AIR), 'PAYLOAD_MALFORMED', /object or array/);
    refused(() => decodePayload(JSON_SPEC, { no2: 'high' }, AIR), 'PAYLOAD_MALFORMED', /no2 is not a number/);
    refused(() => decodePayload(JSON_SPEC, { no2: 1, ts: 'yesterday' }, AIR), 'PAYLOAD_MALFORMED', /not a time/);
    refused(() => decodePayload(JSON_SPEC, { no2: 1, ts: '2026-13-45T99:00:00Z' }, AIR), 'PAYLOAD_MALFORMED', /not a valid time/);
    refused(() => decodePayload(JSON_SPEC, [{ metric: 'NO2!', value: 1 }], AIR), 'PAYLOAD_MALFORMED', /not a metric name/);
    refused(() => decodePayload(JSON_SPEC, [{ metric: 'no2', value: [1] }], AIR), 'PAYLOAD_MALFORMED');
    refused(() => decodePayload(JSON_SPEC, [5], AIR), 'PAYLOAD_MALFORMED', /item 0 is not an object/);
    refused(() => decodePayload(JSON_SPEC, { rssi: -70 }, AIR), 'PAYLOAD_NO_READINGS');
    refused(() => decodePayload(JSON_SPEC, [], AIR), 'PAYLOAD_NO_READINGS');
  });

  test('inherited properties are never read through a path', () => {
    const spec: DecoderSpec = { type: 'json', fields: { no2: 'constructor.name', pm10: 'toString', pm2_5: 'a.__proto__' } };
    refused(() => decodePayload(spec, buf('{"a": {}}'), AIR), 'PAYLOAD_NO_READINGS');
  });

  test('readingsFromObject maps a network server’s decoded object', () => {
    const r = readingsFromObject({ analog_in_1: 59.04, relative_humidity_2: 78.5, temperature_2: 4.2 }, JSON_SPEC, [m('temperature'), m('relative_humidity')]);
    assert.deepEqual(r, [
      { metric: 'temperature', value: 4.2 },
      { metric: 'relative_humidity', value: 78.5 },
    ]);
  });
});

describe('bytes decoder', () => {
  const spec: DecoderSpec = {
    type: 'bytes',
    fields: [
      { metric: 'temperature', offset: 0, format: 'i16be', scale: 0.1 },
      { metric: 'humidity', offset: 2, format: 'u8' },
      { metric: 'occupied', offset: 3, format: 'u8', bit: 0 },
      { metric: 'door_open', offset: 3, format: 'u8', bit: 7 },
      { metric: 'count', offset: 4, format: 'u32le' },
      { metric: 'level', offset: 8, format: 'i16le', scale: 0.01 },
    ],
  };
  const metrics = [m('temperature'), m('humidity'), m('occupied'), m('door_open'), m('count'), m('level')];

  test('reads each field at its offset with its format, scale and bit', () => {
    // -12.3 °C, 55 %, flags 1000_0001, 70000 counts (LE), -1.5 (LE, ×0.01)
    const r = decodePayload(spec, hex('ff85 37 81 70110100 6aff'), metrics);
    assert.deepEqual(r, [
      { metric: 'temperature', value: -12.3 },
      { metric: 'humidity', value: 55 },
      { metric: 'occupied', value: 1 },
      { metric: 'door_open', value: 1 },
      { metric: 'count', value: 70000 },
      { metric: 'level', value: -1.5 },
    ]);
  });

  test('every integer format reads correctly', () => {
    const all = ['u8', 'i8', 'u16be', 'i16be', 'u16le', 'i16le', 'u32be', 'i32be', 'u32le', 'i32le'] as const;
    const b = hex('fffe fdfc');
    const expected = [255, -1, 65534, -2, 65279, -257, 4294901244, -66052, 4244504319, -50462977];
    for (const [i, format] of all.entries()) {
      const r = decodePayload({ type: 'bytes', fields: [{ metric: 'v', offset: 0, format }] }, b, [m('v')]);
      assert.equal(r[0].value, expected[i], format);
    }
  });

  test('a payload too short for a field is refused, naming the field', () => {
    refused(() => decodePayload(spec, hex('ff85 37'), metrics), 'PAYLOAD_MALFORMED', /3 bytes long, but occupied is read from bytes 3–3/);
  });

  test('a JSON value where bytes are expected is refused', () => {
    refused(() => decodePayload(spec, { temperature: 1 }, metrics), 'PAYLOAD_MALFORMED', /binary payload/);
  });
});

describe('built-in decoders', () => {
  test('parking-bay: bit 0 of byte 0, optional battery', () => {
    const spec: DecoderSpec = { type: 'builtin', name: 'parking-bay' };
    assert.deepEqual(decodePayload(spec, hex('01'), [m('occupied')]), [{ metric: 'occupied', value: 1 }]);
    assert.deepEqual(decodePayload(spec, hex('fe 5a'), [m('occupied')]), [
      { metric: 'occupied', value: 0 },
      { metric: 'battery', value: 90 },
    ]);
    refused(() => decodePayload(spec, Buffer.alloc(0), [m('occupied')]), 'PAYLOAD_MALFORMED', /at least 1 byte/);
  });

  test('bin-fill: fill level, battery and distance', () => {
    const r = decodePayload({ type: 'builtin', name: 'bin-fill' }, hex('4b 3c 0320'), [m('fill_level'), m('distance')]);
    assert.deepEqual(r, [
      { metric: 'fill_level', value: 75 },
      { metric: 'distance', value: 800 },
      { metric: 'battery', value: 60 },
    ]);
  });

  test('cayenne-lpp decodes a real multi-channel frame as The Things Stack names it', () => {
    // analog in ch1 59.04, analog in ch2 58.69, temperature ch2 4.2, humidity ch2 78.5, temperature ch3 3.4, analog in ch3 3.49
    const frame = Buffer.from('AQIXEAICFu0CZwAqAmidA2cAIgMCAV0=', 'base64');
    const all = BUILTIN_DECODERS['cayenne-lpp'].decode(frame);
    assert.deepEqual(all, { analog_in_1: 59.04, analog_in_2: 58.69, temperature_2: 4.2, relative_humidity_2: 78.5, temperature_3: 3.4, analog_in_3: 3.49 });
    // Two temperatures: neither maps to "temperature" without a json mapping; humidity does.
    assert.deepEqual(decodePayload({ type: 'builtin', name: 'cayenne-lpp' }, frame, [m('temperature'), m('relative_humidity')]), [{ metric: 'relative_humidity', value: 78.5 }]);
    const gps = BUILTIN_DECODERS['cayenne-lpp'].decode(hex('01 88 06765f f2960a 0003e8'));
    assert.deepEqual(gps, { gps_1_latitude: 42.3519, gps_1_longitude: -87.9094, gps_1_altitude: 10 });
    const acc = BUILTIN_DECODERS['cayenne-lpp'].decode(hex('06 71 04d2 fb2e 0000 05 73 2767'));
    assert.deepEqual(acc, { accelerometer_6_x: 1.234, accelerometer_6_y: -1.234, accelerometer_6_z: 0, barometric_pressure_5: 1008.7 });
  });

  test('cayenne-lpp refuses unknown types and cut-short values', () => {
    const spec: DecoderSpec = { type: 'builtin', name: 'cayenne-lpp' };
    refused(() => decodePayload(spec, hex('01 ee 00'), [m('x')]), 'PAYLOAD_MALFORMED', /type 238/);
    refused(() => decodePayload(spec, hex('01 67 00'), [m('temperature')]), 'PAYLOAD_MALFORMED', /cut short/);
  });

  test('elsys decodes type-value pairs', () => {
    // temperature 22.1, humidity 41, light 39, motion 6, vdd 3627 mV, co2 612, occupancy 2, pressure 1013.301 hPa
    const frame = hex('01 00dd 02 29 04 0027 05 06 07 0e2b 06 0264 11 02 14 000f7635');
    const r = decodePayload({ type: 'builtin', name: 'elsys' }, frame, [m('temperature'), m('humidity'), m('co2'), m('occupancy'), m('pressure'), m('vdd')]);
    assert.deepEqual(r, [
      { metric: 'temperature', value: 22.1 },
      { metric: 'humidity', value: 41 },
      { metric: 'co2', value: 612 },
      { metric: 'occupancy', value: 2 },
      { metric: 'pressure', value: 1013.301 },
      { metric: 'vdd', value: 3627 },
    ]);
    assert.deepEqual(BUILTIN_DECODERS.elsys.decode(hex('01 ff9c')), { temperature: -10 });
    refused(() => decodePayload({ type: 'builtin', name: 'elsys' }, hex('01 00dd 7f 00'), [m('temperature')]), 'PAYLOAD_MALFORMED', /type 0x7f/);
    refused(() => decodePayload({ type: 'builtin', name: 'elsys' }, hex('06 02'), [m('co2')]), 'PAYLOAD_MALFORMED', /cut short/);
  });

  test('an unknown built-in decoder is refused with DECODER_UNKNOWN', () => {
    refused(() => decodePayload({ type: 'builtin', name: 'run-my-script' }, hex('00'), [m('x')]), 'DECODER_UNKNOWN', /no built-in decoder called run-my-script/);
  });
});
