import { type Static, Type } from '@sinclair/typebox';

export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const SEVERITY_RANK: Record<Severity, number> = { critical: 4, major: 3, minor: 2, warning: 1 };

export const ALARM_STATUSES = ['active', 'acknowledged', 'cleared'] as const;
export type AlarmStatus = (typeof ALARM_STATUSES)[number];

export const WINDOWS = { '15m': 15, '1h': 60, '8h': 480, '24h': 1440 } as const;
export type WindowName = keyof typeof WINDOWS;

const Metric = Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,100}$', description: 'a metric of the devices in scope, such as no2' });
const Op = Type.Union([Type.Literal('>'), Type.Literal('>='), Type.Literal('<'), Type.Literal('<=')]);
export type Op = Static<typeof Op>;
const Clock = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:MM, UK time' });
const Hours = Type.Object({ from: Clock, to: Clock }, { additionalProperties: false, description: 'only between these times of day (UK time); from later than to spans midnight' });
export type Hours = Static<typeof Hours>;
const Minutes = (max: number) => Type.Integer({ minimum: 0, maximum: max });
const Severity = Type.Union(SEVERITIES.map((s) => Type.Literal(s)));

const Threshold = Type.Object(
  {
    type: Type.Literal('threshold'),
    metric: Metric,
    op: Op,
    value: Type.Number(),
    clearValue: Type.Optional(Type.Number({ description: 'clears only when the value passes back beyond this (hysteresis); default: the value itself' })),
    forMinutes: Type.Optional(Minutes(1440)),
  },
  { additionalProperties: false },
);
const Band = Type.Object({ above: Type.Number(), severity: Severity, label: Type.Optional(Type.String({ maxLength: 60 })) }, { additionalProperties: false });
const RollingMean = Type.Object(
  {
    type: Type.Literal('rolling_mean'),
    metric: Metric,
    window: Type.Union([Type.Literal('15m'), Type.Literal('1h'), Type.Literal('8h'), Type.Literal('24h')]),
    op: Type.Optional(Op),
    value: Type.Optional(Type.Number()),
    clearValue: Type.Optional(Type.Number()),
    bands: Type.Optional(Type.Array(Band, { minItems: 1, maxItems: 10, description: 'instead of op and value: the alarm takes the severity of the highest band the mean is above' })),
    forMinutes: Type.Optional(Minutes(1440)),
  },
  { additionalProperties: false },
);
const Daqi = Type.Object(
  {
    type: Type.Literal('daqi'),
    atLeast: Type.Integer({ minimum: 1, maximum: 10, description: 'raise when the index is at least this (7 = High)' }),
    per: Type.Optional(Type.Union([Type.Literal('device'), Type.Literal('area')], { description: 'one alarm per monitor, or per area (its worst monitor); default area' })),
  },
  { additionalProperties: false },
);
const NoData = Type.Object(
  {
    type: Type.Literal('no_data'),
    metric: Type.Optional(Metric),
    forMinutes: Type.Integer({ minimum: 1, maximum: 10080 }),
    hours: Type.Optional(Hours),
  },
  { additionalProperties: false },
);
const EventMatch = Type.Object(
  {
    type: Type.Literal('event'),
    metric: Metric,
    value: Type.Optional(Type.Number({ description: 'default 1 (the event happened, the door opened)' })),
    hours: Type.Optional(Hours),
  },
  { additionalProperties: false },
);
const Occupancy = Type.Object(
  {
    type: Type.Literal('occupancy'),
    metric: Type.Optional(Metric),
    freeBelow: Type.Optional(Type.Integer({ minimum: 0, maximum: 100000 })),
    freePercentBelow: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    clearAt: Type.Optional(Type.Number({ minimum: 0, description: 'free spaces (or %, with freePercentBelow) at which the alarm clears, so it does not flap; default 2 spaces or 5 points above' })),
  },
  { additionalProperties: false },
);
const RateOfChange = Type.Object(
  {
    type: Type.Literal('rate_of_change'),
    metric: Metric,
    rise: Type.Number({ exclusiveMinimum: 0, description: 'raise when the value has risen by more than this…' }),
    perMinutes: Type.Integer({ minimum: 1, maximum: 1440, description: '…within this many minutes' }),
  },
  { additionalProperties: false },
);

const LoneWorker = Type.Object(
  {
    type: Type.Literal('lone_worker'),
    graceMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 120, description: 'raise when a lone worker has not checked out this long after their visit was due to end; default 10' })),
  },
  { additionalProperties: false },
);

export const Condition = Type.Union([Threshold, RollingMean, Daqi, NoData, EventMatch, Occupancy, RateOfChange, LoneWorker]);
export type Condition = Static<typeof Condition>;
export type ConditionType = Condition['type'];

export const Scope = Type.Object(
  {
    profiles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 60 }), { maxItems: 50, description: 'device profile keys' })),
    siteTypes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 40 }), { maxItems: 20 })),
    areaIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 200 })),
    siteIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 1000 })),
    deviceIds: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: 10000 })),
  },
  { additionalProperties: false, description: 'which devices the rule watches: every list given must match; none given means every device' },
);
export type Scope = Static<typeof Scope>;

export const Action = Type.Union([
  Type.Object(
    { type: Type.Literal('notify_staff'), teamId: Type.Optional(Type.String({ format: 'uuid' })), userId: Type.Optional(Type.String({ format: 'uuid' })), onCall: Type.Optional(Type.Boolean()) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('notify_residents'),
      topic: Type.String({ minLength: 1, maxLength: 60 }),
      serviceId: Type.String({ format: 'uuid', description: 'the messaging service that sends' }),
      templates: Type.Record(Type.String(), Type.String({ format: 'uuid' }), { description: 'a template per channel' }),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('webhook'), url: Type.String({ format: 'uri', maxLength: 2000 }), secretRef: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal('service_request'), category: Type.String({ minLength: 1, maxLength: 60 }) }, { additionalProperties: false }),
]);
export type Action = Static<typeof Action>;

export const RuleCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    scope: Scope,
    condition: Condition,
    severity: Severity,
    actions: Type.Optional(Type.Array(Action, { maxItems: 20 })),
    teamId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
    escalationPolicyId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type RuleCreate = Static<typeof RuleCreate>;

export interface RuleView {
  id: string;
  name: string;
  description: string;
  version: number;
  enabled: boolean;
  scope: Scope;
  condition: Condition;
  severity: Severity;
  actions: Action[];
  teamId: string | null;
  escalationPolicyId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type SubjectType = 'device' | 'site' | 'area' | 'visit';

export interface AlarmView {
  id: string;
  ruleId: string;
  ruleVersion: number;
  ruleName: string;
  subjectType: SubjectType;
  subjectId: string;
  subjectName: string | null;
  deviceId: string | null;
  siteId: string | null;
  areaId: string | null;
  metric: string | null;
  value: number | null;
  readingAt: Date | null;
  severity: Severity;
  status: AlarmStatus;
  message: string;
  teamId: string | null;
  assigneeId: string | null;
  raisedAt: Date;
  acknowledgedAt: Date | null;
  clearedAt: Date | null;
  escalationStep: number;
  nextEscalationAt: Date | null;
}

export interface AlarmEventView {
  id: string;
  alarmId: string;
  kind: string;
  actorType: string;
  actorId: string | null;
  note: string | null;
  at: Date;
}

export const AlarmQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([...ALARM_STATUSES.map((s) => Type.Literal(s)), Type.Literal('open')])),
    severity: Type.Optional(Severity),
    team: Type.Optional(Type.String({ format: 'uuid' })),
    area: Type.Optional(Type.String({ format: 'uuid' })),
    type: Type.Optional(Type.String({ maxLength: 30, description: 'the condition type of the rule' })),
    rule: Type.Optional(Type.String({ format: 'uuid' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  { additionalProperties: false },
);
export type AlarmQuery = Static<typeof AlarmQuery>;

export const AlarmNote = Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
export const AlarmAssign = Type.Object(
  { assigneeId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]), note: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const TestQuery = Type.Object({ hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 168 })) }, { additionalProperties: false });

const Nullable = <T extends import('@sinclair/typebox').TSchema>(t: T) => Type.Union([t, Type.Null()]);

/** A car park's availability now: its bays (parking-bay sensors at the site) and their latest `occupied` readings. */
export const CarPark = Type.Object({
  siteId: Type.String({ format: 'uuid' }),
  name: Type.String(),
  areaId: Nullable(Type.String({ format: 'uuid' })),
  areaName: Nullable(Type.String()),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
  bays: Type.Integer({ description: 'parking-bay sensors at the site' }),
  occupied: Type.Integer({ description: 'bays whose latest reading says occupied' }),
  free: Type.Integer({ description: 'bays whose latest reading says free' }),
  noReading: Type.Integer({ description: 'bays that have sent no occupancy reading yet (counted neither free nor occupied)' }),
  percentFree: Nullable(Type.Number({ description: 'free bays as a percentage of all bays, to one decimal place; null when the site has no bays' })),
  updatedAt: Nullable(Type.String({ format: 'date-time', description: 'the newest of the bays’ readings' })),
});
export const CarParkList = Type.Object({ items: Type.Array(CarPark) });
