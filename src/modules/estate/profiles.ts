import type { Profile } from './estate.schema.js';

export type BuiltInProfile = Omit<Profile, 'id' | 'isBuiltIn'>;

const RAW_DAYS = 90;
const event = (name: string) => ({ name, unit: '', kind: 'event' as const, min: 0, max: 1 });
const state = (name: string) => ({ name, unit: '', kind: 'state' as const, min: 0, max: 1 });
const battery = { name: 'battery', unit: '%', kind: 'measure' as const, min: 0, max: 100 };

/**
 * The device kinds Weft knows out of the box. Valid ranges are generous physical limits:
 * a reading outside them is a fault, not weather, and is quarantined.
 */
export const BUILT_IN_PROFILES: BuiltInProfile[] = [
  {
    key: 'air-quality',
    name: 'Air-quality monitor',
    description: 'Street-hub air-quality monitor: nitrogen dioxide, particulates, ozone, sulphur dioxide, temperature and humidity.',
    metrics: [
      { name: 'no2', unit: 'µg/m³', kind: 'measure', min: 0, max: 2000 },
      { name: 'pm2_5', unit: 'µg/m³', kind: 'measure', min: 0, max: 1000 },
      { name: 'pm10', unit: 'µg/m³', kind: 'measure', min: 0, max: 2000 },
      { name: 'o3', unit: 'µg/m³', kind: 'measure', min: 0, max: 1000 },
      { name: 'so2', unit: 'µg/m³', kind: 'measure', min: 0, max: 2600 },
      { name: 'temperature', unit: '°C', kind: 'measure', min: -40, max: 60 },
      { name: 'humidity', unit: '%', kind: 'measure', min: 0, max: 100 },
    ],
    reportIntervalSeconds: 300,
    offlineTolerance: 3,
    batteryLowPercent: 20,
    rawRetentionDays: RAW_DAYS,
    decoder: { type: 'json' },
  },
  {
    key: 'parking-bay',
    name: 'Parking-bay sensor',
    description: 'In-ground LoRaWAN sensor: whether the bay is occupied. Byte 0 bit 0 is occupancy, byte 1 the battery percentage.',
    metrics: [state('occupied'), battery],
    reportIntervalSeconds: 900,
    offlineTolerance: 4,
    batteryLowPercent: 15,
    rawRetentionDays: RAW_DAYS,
    decoder: {
      type: 'bytes',
      fields: [
        { metric: 'occupied', offset: 0, format: 'u8', bit: 0 },
        { metric: 'battery', offset: 1, format: 'u8' },
      ],
    },
  },
  {
    key: 'telecare-hub',
    name: 'Telecare hub',
    description: 'Home telecare hub: a heartbeat to show it is working.',
    metrics: [event('heartbeat'), battery],
    reportIntervalSeconds: 900,
    offlineTolerance: 2,
    batteryLowPercent: 30,
    rawRetentionDays: RAW_DAYS,
    decoder: { type: 'json' },
  },
  {
    key: 'fall-detector',
    name: 'Fall detector',
    description: 'Worn fall detector: raises a fall event.',
    metrics: [event('fall'), battery],
    reportIntervalSeconds: 3600,
    offlineTolerance: 3,
    batteryLowPercent: 25,
    rawRetentionDays: RAW_DAYS,
    decoder: { type: 'json' },
  },
  {
    key: 'pendant',
    name: 'Pendant alarm',
    description: 'Personal pendant alarm: raises a pressed event.',
    metrics: [event('pressed'), battery],
    reportIntervalSeconds: 3600,
    offlineTolerance: 3,
    batteryLowPercent: 25,
    rawRetentionDays: RAW_DAYS,
    decoder: { type: 'json' },
  },
  {
    key: 'pir-motion',
    name: 'PIR motion sensor',
    description: 'Passive infra-red motion sensor: raises a motion event when it sees movement.',
    metrics: [event('motion'), battery],
    reportIntervalSeconds: 3600,
    offlineTolerance: 3,
    batteryLowPercent: 20,
    rawRetentionDays: RAW_DAYS,
    decoder: { type: 'json' },
  },
  {
    key: 'door-contact',
    name: 'Door contact',
    description: 'Magnetic door contact: whether the door is open (1) or closed (0).',
    metrics: [state('open'), battery],
    reportIntervalSeconds: 3600,
    offlineTolerance: 3,
    batteryLowPercent: 20,
    rawRetentionDays: RAW_DAYS,
    decoder: { type: 'json' },
  },
  {
    key: 'bin-fill',
    name: 'Bin fill sensor',
    description: 'Ultrasonic LoRaWAN bin sensor: how full the bin is. Byte 0 is the fill level in %, byte 1 the battery percentage.',
    metrics: [{ name: 'fill_level', unit: '%', kind: 'measure', min: 0, max: 100 }, battery],
    reportIntervalSeconds: 3600,
    offlineTolerance: 3,
    batteryLowPercent: 15,
    rawRetentionDays: RAW_DAYS,
    decoder: {
      type: 'bytes',
      fields: [
        { metric: 'fill_level', offset: 0, format: 'u8' },
        { metric: 'battery', offset: 1, format: 'u8' },
      ],
    },
  },
  {
    key: 'people-counter',
    name: 'People counter',
    description: 'Doorway people counter: people in and out since the last report.',
    metrics: [
      { name: 'count_in', unit: 'people', kind: 'measure', min: 0, max: 100_000 },
      { name: 'count_out', unit: 'people', kind: 'measure', min: 0, max: 100_000 },
    ],
    reportIntervalSeconds: 900,
    offlineTolerance: 3,
    batteryLowPercent: 20,
    rawRetentionDays: RAW_DAYS,
    decoder: { type: 'json' },
  },
  {
    key: 'energy-meter',
    name: 'Energy meter',
    description: 'Building electricity meter: cumulative energy and instantaneous power.',
    metrics: [
      { name: 'energy_kwh', unit: 'kWh', kind: 'measure', min: 0, max: 1e9 },
      { name: 'power_w', unit: 'W', kind: 'measure', min: 0, max: 5e6 },
    ],
    reportIntervalSeconds: 900,
    offlineTolerance: 3,
    batteryLowPercent: 0,
    rawRetentionDays: RAW_DAYS,
    decoder: { type: 'json' },
  },
];
