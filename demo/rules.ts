import type { RuleCreate } from '../src/modules/rules/index.js';
import type { Actor } from '../src/platform/auth/actor.js';
import type { Services } from '../src/services.js';

/**
 * The demo county's rules: air quality at every street hub (the Daily Air Quality Index by area,
 * and the NO2 hourly mean), car parks nearly full, telecare falls, pendant presses, no movement
 * in a home by the morning or for hours in the day, and telecare hubs gone quiet. The simulator's
 * opening minutes (a fire near a hub, a fall, a pendant press, a full car park) set some of them off.
 */
export const DEMO_RULES: RuleCreate[] = [
  {
    name: 'Air quality High in an area',
    description: 'The Daily Air Quality Index of an area (its worst street-hub monitor) is High (7) or more.',
    severity: 'major',
    scope: { siteTypes: ['street_hub'], profiles: ['air-quality'] },
    condition: { type: 'daqi', atLeast: 7, per: 'area' },
  },
  {
    name: 'Air quality Very High at a monitor',
    severity: 'critical',
    scope: { siteTypes: ['street_hub'], profiles: ['air-quality'] },
    condition: { type: 'daqi', atLeast: 10, per: 'device' },
  },
  {
    name: 'NO2 hourly mean above the limit',
    description: 'The UK hourly limit value for nitrogen dioxide is 200 µg/m³.',
    severity: 'minor',
    scope: { siteTypes: ['street_hub'], profiles: ['air-quality'] },
    condition: { type: 'rolling_mean', metric: 'no2', window: '1h', op: '>', value: 200, clearValue: 180 },
  },
  {
    name: 'Car park nearly full',
    severity: 'warning',
    scope: { siteTypes: ['car_park'], profiles: ['parking-bay'] },
    condition: { type: 'occupancy', freePercentBelow: 10 },
  },
  {
    name: 'Fall detected',
    description: 'A resident’s fall detector has gone off: call them, then send a responder.',
    severity: 'critical',
    scope: { profiles: ['fall-detector'] },
    condition: { type: 'event', metric: 'fall' },
  },
  {
    name: 'Pendant pressed',
    severity: 'critical',
    scope: { profiles: ['pendant'] },
    condition: { type: 'event', metric: 'pressed' },
  },
  {
    name: 'No movement by 10am',
    description: 'No movement in the home since 6am by 10am.',
    severity: 'major',
    scope: { profiles: ['pir-motion'] },
    condition: { type: 'no_data', metric: 'motion', forMinutes: 240, hours: { from: '06:00', to: '12:00' } },
  },
  {
    name: 'No movement for 4 hours in the day',
    severity: 'major',
    scope: { profiles: ['pir-motion'] },
    condition: { type: 'no_data', metric: 'motion', forMinutes: 240, hours: { from: '07:00', to: '23:00' } },
  },
  {
    name: 'Telecare hub not heard from',
    description: 'A home’s telecare hub has missed its heartbeats for 45 minutes: its alarms may not be getting through.',
    severity: 'major',
    scope: { profiles: ['telecare-hub'] },
    condition: { type: 'no_data', metric: 'heartbeat', forMinutes: 45 },
  },
];

/** Conditions about the present state of many devices, which history sent device by device would confuse. */
const LIVE_ONLY = new Set(['no_data', 'occupancy']);

/**
 * Silence ("no data") and car-park rules start disabled: while the simulator is still sending the
 * day's history, device by device, every home would look silent and car parks half-known.
 * `enableLiveRules` turns them on once the history is in.
 */
export async function loadRules(services: Services, actor: Actor): Promise<void> {
  for (const rule of DEMO_RULES) await services.rules.create(actor, { ...rule, enabled: !LIVE_ONLY.has(rule.condition.type) });
}

export async function enableLiveRules(services: Services, actor: Actor): Promise<void> {
  for (const rule of await services.rules.list()) if (LIVE_ONLY.has(rule.condition.type) && !rule.enabled) await services.rules.setEnabled(actor, rule.id, true);
}
