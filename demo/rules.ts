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
  const extras = await responses(services, actor);
  for (const rule of DEMO_RULES) await services.rules.create(actor, { ...rule, ...extras.get(rule.name), enabled: !LIVE_ONLY.has(rule.condition.type) });
}

/** The air-quality alert residents subscribed to in an area get when its index turns High. */
const ALERT_SERVICE = { name: 'Air quality alerts', smsSender: 'WEALDMOOR' };
const ALERT_TEMPLATES = [
  {
    name: 'Air quality High (text)',
    type: 'sms' as const,
    body: 'Air quality is ((band)) in ((area)) today (index ((index)) of 10). If you have heart or lung problems, take it easier outdoors and keep your reliever inhaler with you.',
    bodyCy: "Mae ansawdd yr aer yn uchel yn ((area)) heddiw (mynegai ((index)) o 10). Os oes gennych broblemau'r galon neu'r ysgyfaint, cymerwch bethau'n haws yn yr awyr agored.",
  },
  {
    name: 'Air quality High (email)',
    type: 'email' as const,
    subject: 'Air quality is ((band)) in ((area)) today',
    body: 'Air quality is ((band)) in ((area)) today: index ((index)) of 10.\n\n* Adults and children with heart or lung problems should reduce strenuous activity outdoors.\n* Older people should do the same.\n* If you have asthma, you may need your reliever inhaler more often.\n\nWe will not write again about this episode.',
    subjectCy: 'Mae ansawdd yr aer yn uchel yn ((area)) heddiw',
    bodyCy:
      "Mae ansawdd yr aer yn uchel yn ((area)) heddiw: mynegai ((index)) o 10.\n\n* Dylai oedolion a phlant sydd â phroblemau'r galon neu'r ysgyfaint leihau gweithgarwch egnïol yn yr awyr agored.\n\nNi fyddwn yn ysgrifennu eto am y cyfnod hwn.",
  },
];

/**
 * What follows the demo's alarms: residents subscribed to air quality in an area are told when
 * its index turns High (once an episode); falls and pendant presses go to the telecare team,
 * escalating every 5 minutes until someone acknowledges.
 */
async function responses(services: Services, actor: Actor): Promise<Map<string, Partial<RuleCreate>>> {
  const { service, templates } = await services.messaging.ensureService(actor, ALERT_SERVICE, ALERT_TEMPLATES);
  const byChannel = Object.fromEntries(ALERT_TEMPLATES.map((t) => [t.type, templates.get(t.name)?.id as string]));
  const telecare = await services.requests.createTeam(actor, { name: 'Telecare response', email: 'telecare@wealdmoor.example' });
  const policy = await services.escalation.createPolicy(actor, {
    name: 'Telecare: until someone answers',
    description: 'The telecare team at once, then again every 5 minutes until a person acknowledges.',
    steps: [{ afterMinutes: 0, notify: { teamId: telecare.id }, channel: 'email' }],
    repeatMinutes: 5,
  });
  const care = { teamId: telecare.id, escalationPolicyId: policy.id };
  return new Map<string, Partial<RuleCreate>>([
    ['Air quality High in an area', { actions: [{ type: 'notify_residents', topic: 'air-quality', serviceId: service.id, templates: byChannel }] }],
    ['Fall detected', care],
    ['Pendant pressed', care],
    ['No movement by 10am', { teamId: telecare.id }],
    ['No movement for 4 hours in the day', { teamId: telecare.id }],
    ['Telecare hub not heard from', { teamId: telecare.id }],
  ]);
}

export async function enableLiveRules(services: Services, actor: Actor): Promise<void> {
  for (const rule of await services.rules.list()) if (LIVE_ONLY.has(rule.condition.type) && !rule.enabled) await services.rules.setEnabled(actor, rule.id, true);
}
