import { type Static, Type } from '@sinclair/typebox';

const Uuid = Type.String({ format: 'uuid' });

export const STEP_CHANNELS = ['email', 'sms'] as const;
export type StepChannel = (typeof STEP_CHANNELS)[number];

/** Who a step tells: exactly one of these. Teams are the requests module's teams. */
export const StepTarget = Type.Object(
  {
    teamId: Type.Optional(Type.String({ format: 'uuid', description: 'all of a team: its email address' })),
    userId: Type.Optional(Type.String({ format: 'uuid', description: 'one member of staff' })),
    onCall: Type.Optional(Type.String({ format: 'uuid', description: 'the person on call for this team now (its email address when nobody is)' })),
    alarmTeam: Type.Optional(Type.Union([Type.Literal('on_call'), Type.Literal('all')], { description: 'the alarm’s own team: the person on call, or all of it' })),
  },
  { additionalProperties: false },
);
export type StepTarget = Static<typeof StepTarget>;

export const EscalationStep = Type.Object(
  {
    afterMinutes: Type.Integer({ minimum: 0, maximum: 10080, description: 'minutes after the alarm was raised, unacknowledged; 0 for at once' }),
    notify: StepTarget,
    channel: Type.Union(
      STEP_CHANNELS.map((c) => Type.Literal(c)),
      { description: 'sms goes to an on-call shift’s mobile; anyone without one is emailed' },
    ),
  },
  { additionalProperties: false },
);
export type EscalationStep = Static<typeof EscalationStep>;

export const PolicyInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    steps: Type.Array(EscalationStep, { minItems: 1, maxItems: 10 }),
    repeatMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, description: 'critical alarms: the last step again every so many minutes until a person acknowledges; default 5' })),
  },
  { additionalProperties: false },
);
export type PolicyInput = Static<typeof PolicyInput>;

export interface PolicyView {
  id: string;
  name: string;
  description: string;
  steps: EscalationStep[];
  repeatMinutes: number;
  createdAt: Date;
  updatedAt: Date;
}

export const ShiftInput = Type.Object(
  {
    userId: Uuid,
    startsAt: Type.String({ format: 'date-time' }),
    endsAt: Type.String({ format: 'date-time' }),
    phone: Type.Optional(Type.String({ maxLength: 30, description: 'the on-call mobile (UK) that texts go to' })),
  },
  { additionalProperties: false },
);
export const RotaInput = Type.Object({ shifts: Type.Array(ShiftInput, { maxItems: 500 }) }, { additionalProperties: false });
export type RotaInput = Static<typeof RotaInput>;

export interface ShiftView {
  id: string;
  userId: string;
  userName: string | null;
  startsAt: Date;
  endsAt: Date;
  /** shown only to those who may change rotas; others see hasPhone */
  phone?: string | null;
  hasPhone: boolean;
}

export interface RotaView {
  teamId: string;
  teamName: string | null;
  onCallNow: ShiftView | null;
  /** shifts that have not ended, soonest first */
  shifts: ShiftView[];
  updatedAt: Date;
}

export const TeamParams = Type.Object({ teamId: Uuid });

export const SecretName = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,59}$', description: 'lower case letters, digits, - and _' });
export const SecretParams = Type.Object({ name: SecretName });
export const SecretInput = Type.Object(
  { secret: Type.Optional(Type.String({ minLength: 16, maxLength: 200, description: 'leave out to have one made (32 random bytes)' })) },
  { additionalProperties: false },
);

export const DeliveryQuery = Type.Object(
  {
    alarm: Type.Optional(Uuid),
    rule: Type.Optional(Uuid),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  { additionalProperties: false },
);
export type DeliveryQuery = Static<typeof DeliveryQuery>;

export interface DeliveryView {
  id: string;
  alarmId: string;
  ruleId: string;
  actionIndex: number;
  url: string;
  attempt: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: Date;
}

export const PolicyParams = Type.Object({ id: Uuid });
