import { type Static, Type } from '@sinclair/typebox';

export const SPACE_KINDS = ['desk', 'quiet_room', 'meeting_room'] as const;
export type SpaceKind = (typeof SPACE_KINDS)[number];
export const SPACE_KIND_NAMES: Record<SpaceKind, string> = { desk: 'Desk', quiet_room: 'Quiet room', meeting_room: 'Meeting room' };
export const BOOKING_STATUSES = ['booked', 'checked_in', 'checked_out', 'cancelled', 'released'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];
export const BOOKING_STATUS_NAMES: Record<BookingStatus, string> = {
  booked: 'Booked',
  checked_in: 'Checked in',
  checked_out: 'Checked out',
  cancelled: 'Cancelled',
  released: 'Released (no-show)',
};

const Uuid = Type.String({ format: 'uuid' });
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a day, YYYY-MM-DD (UK)' });
const Time = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'a time of day, HH:MM (UK), on the hour or half hour' });

const hubFields = {
  opens: Time,
  closes: Time,
  openDays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7, uniqueItems: true, description: 'ISO weekdays it opens: 1 Monday … 7 Sunday' }),
  graceMinutes: Type.Integer({ minimum: 5, maximum: 240, description: 'a booking not checked in this long after it starts is released (no-show)' }),
  notes: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()], { description: 'how to get in, where to park, whom to ask' }),
};

export const HubCreate = Type.Object(
  {
    siteId: Type.String({ format: 'uuid', description: 'the estate site: a library, council building or NHS site' }),
    opens: Type.Optional(hubFields.opens),
    closes: Type.Optional(hubFields.closes),
    openDays: Type.Optional(hubFields.openDays),
    graceMinutes: Type.Optional(hubFields.graceMinutes),
    notes: Type.Optional(hubFields.notes),
  },
  { additionalProperties: false },
);
export type HubCreate = Static<typeof HubCreate>;

export const HubUpdate = Type.Partial(Type.Object({ ...hubFields, isActive: Type.Boolean() }), { additionalProperties: false, minProperties: 1 });
export type HubUpdate = Static<typeof HubUpdate>;

export const SpaceCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'what is on the desk label: “Desk 12”, “Quiet room 1”' }),
    kind: Type.Union(SPACE_KINDS.map((k) => Type.Literal(k))),
    capacity: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: 'people it seats; a desk seats 1' })),
    equipment: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 60 }), { maxItems: 20, uniqueItems: true, description: '“two screens”, “USB-C dock”, “video conferencing”' })),
    accessibility: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()], { description: '“step-free, height-adjustable desk”' })),
  },
  { additionalProperties: false },
);
export type SpaceCreate = Static<typeof SpaceCreate>;

export const SpaceUpdate = Type.Partial(
  Type.Object({
    name: SpaceCreate.properties.name,
    capacity: Type.Integer({ minimum: 1, maximum: 200 }),
    equipment: Type.Array(Type.String({ minLength: 1, maxLength: 60 }), { maxItems: 20, uniqueItems: true }),
    accessibility: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
    isActive: Type.Boolean(),
  }),
  { additionalProperties: false, minProperties: 1 },
);
export type SpaceUpdate = Static<typeof SpaceUpdate>;

export const BookingCreate = Type.Object(
  {
    spaceId: Uuid,
    day: Day,
    start: Type.Optional(Time),
    end: Type.Optional(Time),
    userId: Type.Optional(Type.String({ format: 'uuid', description: 'hub managers only: the member of staff it is for (an API key must say)' })),
  },
  { additionalProperties: false, description: 'Without start and end, the whole day the hub is open.' },
);
export type BookingCreate = Static<typeof BookingCreate>;

export const CancelInput = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 300 })) }, { additionalProperties: false });
export type CancelInput = Static<typeof CancelInput>;

export const ClosureCreate = Type.Object(
  {
    from: Day,
    to: Type.Optional(Day),
    reason: Type.String({ minLength: 1, maxLength: 300, description: 'told to everyone whose booking it cancels: “the heating has failed”' }),
  },
  { additionalProperties: false },
);
export type ClosureCreate = Static<typeof ClosureCreate>;

export const DayQuery = Type.Object({ day: Type.Optional(Day) }, { additionalProperties: false });
export const RangeQuery = Type.Object({ from: Type.Optional(Day), to: Type.Optional(Day) }, { additionalProperties: false });
export const IdParams = Type.Object({ id: Type.String({ maxLength: 40 }) }, { additionalProperties: false });
export const SpaceParams = Type.Object({ id: Type.String({ maxLength: 40 }), spaceId: Type.String({ maxLength: 40 }) }, { additionalProperties: false });

export interface Wifi {
  technology: string;
  status: string;
  downMbps: number | null;
  upMbps: number | null;
}

export interface HubView {
  id: string;
  siteId: string;
  name: string;
  address: string;
  postcode: string | null;
  lat: number | null;
  lon: number | null;
  siteType: string;
  /** from the estate: the site's connection */
  connectivity: Wifi | null;
  opens: string;
  closes: string;
  openDays: number[];
  graceMinutes: number;
  notes: string | null;
  isActive: boolean;
  spaces: SpaceView[];
  createdAt: Date;
  updatedAt: Date;
}

export interface SpaceView {
  id: string;
  hubId: string;
  name: string;
  kind: SpaceKind;
  capacity: number;
  equipment: string[];
  accessibility: string | null;
  isActive: boolean;
}

export interface BookingView {
  id: string;
  hubId: string;
  hubName: string;
  spaceId: string;
  spaceName: string;
  spaceKind: SpaceKind;
  userId: string;
  who: string;
  day: string;
  start: string;
  end: string;
  wholeDay: boolean;
  startsAt: Date;
  endsAt: Date;
  releaseAt: Date;
  status: BookingStatus;
  checkedInAt: Date | null;
  checkedOutAt: Date | null;
  cancelledAt: Date | null;
  cancelReason: string | null;
  createdAt: Date;
}

export interface ClosureView {
  id: string;
  hubId: string;
  from: string;
  to: string;
  reason: string;
  cancelled: number;
  /** who closed it: shown only to those who manage hubs */
  createdBy?: string;
  createdAt: Date;
}

export interface SpaceAvailability extends SpaceView {
  /** booked stretches that day, HH:MM */
  busy: { start: string; end: string }[];
  /** free stretches still to come that day, HH:MM */
  free: { start: string; end: string }[];
  /** free for the whole opening hours */
  freeAllDay: boolean;
}

export interface Availability {
  hubId: string;
  day: string;
  open: boolean;
  /** why it is closed that day, when it is */
  closedBecause: string | null;
  opens: string;
  closes: string;
  spaces: SpaceAvailability[];
  freeDesks: number;
}

export interface OccupancyDay {
  day: string;
  open: boolean;
  spaces: number;
  seats: number;
  /** bookings that were not cancelled: live, checked in or out, or released as no-shows */
  booked: number;
  checkedIn: number;
  noShows: number;
  cancelled: number;
}
