import { type Static, Type } from '@sinclair/typebox';

/** Our statuses, finer than Open311's open and closed. */
export const STATUSES = ['open', 'acknowledged', 'in_progress', 'fixed', 'closed', 'not_ours', 'duplicate'] as const;
export type RequestStatus = (typeof STATUSES)[number];
export const OPEN_STATUSES: readonly RequestStatus[] = ['open', 'acknowledged', 'in_progress'];
export const CLOSED_STATUSES: readonly RequestStatus[] = ['fixed', 'closed', 'not_ours', 'duplicate'];

export const STATUS_NAMES: Record<RequestStatus, string> = {
  open: 'Open',
  acknowledged: 'Acknowledged',
  in_progress: 'In progress',
  fixed: 'Fixed',
  closed: 'Closed',
  not_ours: 'Not the council’s responsibility',
  duplicate: 'Duplicate',
};

/** The GOV.UK tag colour of each status, the same in the console and the portal. */
export const STATUS_TAGS: Record<RequestStatus, string> = {
  open: 'govuk-tag--blue',
  acknowledged: 'govuk-tag--light-blue',
  in_progress: 'govuk-tag--yellow',
  fixed: 'govuk-tag--green',
  closed: 'govuk-tag--grey',
  not_ours: 'govuk-tag--grey',
  duplicate: 'govuk-tag--grey',
};

/** Where a request may go from each status. Closed ones may only be reopened; duplicates only by merging. */
export const TRANSITIONS: Record<RequestStatus, readonly RequestStatus[]> = {
  open: ['acknowledged', 'in_progress', 'fixed', 'closed', 'not_ours'],
  acknowledged: ['in_progress', 'fixed', 'closed', 'not_ours'],
  in_progress: ['fixed', 'closed', 'not_ours'],
  fixed: ['open'],
  closed: ['open'],
  not_ours: ['open'],
  duplicate: ['open'],
};

export const isOpen = (s: RequestStatus) => OPEN_STATUSES.includes(s);

/** Photos sent with a report: JPEG or PNG, at most 5 MB, served at /request-photos/{id}.jpg|png. */
export const PHOTO_MAX_BYTES = 5 * 1024 * 1024;
export const PHOTO_PATH = '/request-photos/';
export const PHOTO_TYPES = { 'image/jpeg': 'jpg', 'image/png': 'png' } as const;
export type PhotoType = keyof typeof PHOTO_TYPES;

/** A photo as uploaded: its bytes (the type is read from them, never from the file's name). */
export interface PhotoUpload {
  bytes: Buffer;
}

export const DATATYPES = ['string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist'] as const;

/** One extra question of a category: Open311's attribute. */
export const Attribute = Type.Object(
  {
    code: Type.String({ pattern: '^[A-Za-z0-9_]{1,50}$' }),
    description: Type.String({ minLength: 1, maxLength: 500 }),
    datatype: Type.Union(DATATYPES.map((d) => Type.Literal(d))),
    required: Type.Boolean(),
    variable: Type.Optional(Type.Boolean({ description: 'false: shown to the person as information only; default true' })),
    datatypeDescription: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
    values: Type.Optional(
      Type.Array(Type.Object({ key: Type.String({ minLength: 1, maxLength: 100 }), name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }), { maxItems: 100 }),
    ),
  },
  { additionalProperties: false },
);
export type Attribute = Static<typeof Attribute>;

const categoryFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  nameCy: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  group: Type.String({ minLength: 1, maxLength: 100 }),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  keywords: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 30 })),
  targetHours: Type.Integer({ minimum: 1, maximum: 8760, description: 'how long the council aims to take; due = reported + this' }),
  serviceNotice: Type.Optional(Type.Union([Type.String({ maxLength: 1000 }), Type.Null()])),
  attributes: Type.Optional(Type.Array(Attribute, { maxItems: 30 })),
  defaultTeamId: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
  routes: Type.Optional(Type.Array(Type.Object({ areaId: Type.String({ format: 'uuid' }), teamId: Type.String({ format: 'uuid' }) }, { additionalProperties: false }), { maxItems: 1000 })),
  enabled: Type.Optional(Type.Boolean()),
};

export const CategoryCreate = Type.Object({ code: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,49}$', description: 'Open311’s service_code' }), ...categoryFields }, { additionalProperties: false });
export type CategoryCreate = Static<typeof CategoryCreate>;
export const CategoryUpdate = Type.Partial(Type.Object(categoryFields), { additionalProperties: false });
export type CategoryUpdate = Static<typeof CategoryUpdate>;

export const TeamCreate = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), email: Type.Optional(Type.Union([Type.String({ format: 'email' }), Type.Null()])) },
  { additionalProperties: false },
);
export type TeamCreate = Static<typeof TeamCreate>;

/** A report: from a resident (portal), from staff on someone's behalf, or from Open311. */
export const RequestCreate = Type.Object(
  {
    category: Type.String({ minLength: 1, maxLength: 50 }),
    description: Type.String({ minLength: 1, maxLength: 4000 }),
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    lon: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    address: Type.Optional(Type.String({ maxLength: 500 })),
    postcode: Type.Optional(Type.String({ maxLength: 10 })),
    attributes: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String({ maxLength: 1000 }), Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 100 })]))),
    mediaUrl: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
    reporterName: Type.Optional(Type.String({ maxLength: 200 })),
    reporterEmail: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
    reporterPhone: Type.Optional(Type.String({ maxLength: 30 })),
    residentId: Type.Optional(Type.String({ format: 'uuid', description: 'the resident who reported it, when known' })),
    language: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('cy')])),
  },
  { additionalProperties: false },
);
export type RequestCreate = Static<typeof RequestCreate>;

export const UpdateCreate = Type.Object(
  {
    status: Type.Optional(Type.Union(STATUSES.filter((s) => s !== 'duplicate').map((s) => Type.Literal(s)))),
    message: Type.String({ maxLength: 4000 }),
    public: Type.Boolean({ description: 'true: a public update the reporter is told of; false: an internal note' }),
  },
  { additionalProperties: false },
);
export type UpdateCreate = Static<typeof UpdateCreate>;

export const MergeBody = Type.Object(
  { into: Type.String({ minLength: 1, maxLength: 40, description: 'the original: its id or reference' }), message: Type.Optional(Type.String({ maxLength: 4000 })) },
  { additionalProperties: false },
);
export type MergeBody = Static<typeof MergeBody>;

export const ListQuery = Type.Object({
  team: Type.Optional(Type.String({ format: 'uuid' })),
  category: Type.Optional(Type.String({ maxLength: 50 })),
  status: Type.Optional(Type.Union([...STATUSES.map((s) => Type.Literal(s)), Type.Literal('open_all'), Type.Literal('closed_all')], { description: 'one status, or open_all / closed_all' })),
  area: Type.Optional(Type.String({ format: 'uuid' })),
  overdue: Type.Optional(Type.Boolean()),
  q: Type.Optional(Type.String({ maxLength: 100, description: 'a reference, or words of the description or address' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  after: Type.Optional(Type.String({ format: 'uuid' })),
});
export type ListQuery = Static<typeof ListQuery>;

export interface RequestFilter {
  teamId?: string;
  category?: string;
  statuses?: readonly RequestStatus[];
  areaId?: string;
  overdue?: boolean;
  q?: string;
  residentId?: string;
  limit?: number;
  after?: string;
}

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 40 }) });
export const CodeParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 50 }) });

// ---------------------------------------------------------------- views

export interface TeamView {
  id: string;
  name: string;
  email: string | null;
}

export interface CategoryView {
  code: string;
  name: string;
  nameCy: string | null;
  group: string;
  description: string;
  keywords: string[];
  targetHours: number;
  serviceNotice: string | null;
  attributes: Attribute[];
  defaultTeamId: string | null;
  routes: { areaId: string; teamId: string }[];
  enabled: boolean;
}

/** What anyone may see of a request: no reporter, no internal notes. */
export interface PublicRequestView {
  id: string;
  reference: string;
  category: string;
  categoryName: string;
  status: RequestStatus;
  statusNotes: string | null;
  description: string;
  lat: number | null;
  lon: number | null;
  address: string | null;
  postcode: string | null;
  mediaUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
  dueAt: Date;
  closedAt: Date | null;
  duplicateOf: string | null;
  updates: UpdateView[];
}

export interface RequestView extends Omit<PublicRequestView, 'updates' | 'duplicateOf'> {
  token: string;
  areaId: string | null;
  areaName: string | null;
  teamId: string | null;
  teamName: string | null;
  reporter: { residentId: string | null; name: string | null; email: string | null; phone: string | null };
  language: 'en' | 'cy';
  source: string;
  externalId: string | null;
  attributes: Record<string, string | string[]>;
  acknowledgedAt: Date | null;
  duplicateOf: { id: string; reference: string } | null;
  overdue: boolean;
}

export interface UpdateView {
  id: string;
  public: boolean;
  fromStatus: RequestStatus | null;
  status: RequestStatus | null;
  message: string;
  author: string;
  source: string;
  createdAt: Date;
}
