import { type Static, Type } from '@sinclair/typebox';

export const DEFAULT_FOLLOW_UP_DAYS = 14;
export const MAX_FOLLOW_UP_DAYS = 56;

/** One problem in an uploaded file: row 1 is the header. */
export interface RowError {
  row: number;
  field: string;
  message: string;
}

/** What a notice has come to: not sent yet, not sent (failed), paid, link followed but not paid, or neither. */
export const NOTICE_STATUSES = ['waiting', 'failed', 'paid', 'clicked', 'outstanding'] as const;
export type NoticeStatus = (typeof NOTICE_STATUSES)[number];

/** The one follow-up: waiting for its day, sent, cancelled (paid first), or failed. */
export const FOLLOW_UP_STATUSES = ['none', 'waiting', 'sent', 'cancelled', 'failed'] as const;
export type FollowUpStatus = (typeof FOLLOW_UP_STATUSES)[number];

export const UploadQuery = Type.Object(
  {
    followUpDays: Type.Integer({
      minimum: 1,
      maximum: MAX_FOLLOW_UP_DAYS,
      default: DEFAULT_FOLLOW_UP_DAYS,
      description: 'days after the first message that the one follow-up goes to keepers who have not paid',
    }),
    fileName: Type.Optional(Type.String({ maxLength: 200, description: 'the file’s name, to know the batch by' })),
  },
  { additionalProperties: false },
);
export type UploadQuery = Static<typeof UploadQuery>;

export const CsvBody = Type.String({
  description:
    'RFC 4180 CSV with a header row: pcn, vrm, keeper_name, amount (pounds, like 70.00), issued_on (YYYY-MM-DD or DD/MM/YYYY), contravention, location are needed; mobile and email (at least one of the two columns), language (en or cy) are optional. Sent as text/csv, or as multipart/form-data with the file in `file` (and `followUpDays` as a field).',
});

const Counts = Type.Object({
  notices: Type.Integer(),
  waiting: Type.Integer({ description: 'not sent yet' }),
  failed: Type.Integer({ description: 'could not be sent (the notice says why)' }),
  paid: Type.Integer(),
  clicked: Type.Integer({ description: 'pay link followed, not paid' }),
  outstanding: Type.Integer({ description: 'sent, pay link not followed, not paid' }),
  followUpsSent: Type.Integer(),
});

const Money = Type.Object({
  totalPence: Type.Integer({ description: 'what every notice in the batch asks for' }),
  paidPence: Type.Integer(),
  unpaidPence: Type.Integer({ description: 'what the notices sent and not paid ask for' }),
});

export const Notice = Type.Object({
  id: Type.String({ format: 'uuid' }),
  row: Type.Integer({ description: 'the row of the file it came from (the header is row 1)' }),
  pcn: Type.String(),
  vrm: Type.String({ description: 'empty once the keeper’s personal data is erased' }),
  keeperName: Type.String({ description: 'Erased once the keeper’s personal data is erased' }),
  erased: Type.Boolean({
    description: 'the keeper’s personal data was erased (subject to a resident’s erasure): name, mobile, email and vehicle registration are gone; number, amount, dates and status stay',
  }),
  channel: Type.Union([Type.Literal('sms'), Type.Literal('email')]),
  language: Type.Union([Type.Literal('en'), Type.Literal('cy')]),
  amountPence: Type.Integer(),
  issuedOn: Type.String(),
  contravention: Type.String(),
  location: Type.String(),
  status: Type.Union(NOTICE_STATUSES.map((s) => Type.Literal(s))),
  failure: Type.Union([Type.String(), Type.Null()]),
  sentAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  clicks: Type.Integer(),
  paidPence: Type.Union([Type.Integer(), Type.Null()]),
  paidAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  followUp: Type.Object({
    status: Type.Union(FOLLOW_UP_STATUSES.map((s) => Type.Literal(s))),
    dueAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    notificationId: Type.Union([Type.String(), Type.Null()]),
  }),
  payLinkId: Type.Union([Type.String(), Type.Null()]),
  notificationId: Type.Union([Type.String(), Type.Null()]),
});
export type NoticeView = Static<typeof Notice>;

const BatchFields = {
  id: Type.String({ format: 'uuid' }),
  fileName: Type.Union([Type.String(), Type.Null()]),
  status: Type.Union([Type.Literal('sending'), Type.Literal('sent')], { description: 'sending while its job is at work (or waiting to try again), sent when every notice is sent or failed' }),
  followUpDays: Type.Integer(),
  createdBy: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  sentAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
};

export const BatchSummary = Type.Object({ ...BatchFields, notices: Type.Integer(), totalPence: Type.Integer() });
export type BatchSummary = Static<typeof BatchSummary>;

export const Batch = Type.Object({
  ...BatchFields,
  counts: Counts,
  money: Money,
  /** the sending job's trouble, when it is waiting to try again or has stopped */
  problem: Type.Union([Type.String(), Type.Null()]),
  notices: Type.Array(Notice),
});
export type BatchView = Static<typeof Batch>;

export const ParkingSetup = Type.Object({
  serviceId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'the Parking messaging service, once it is set up' }),
  payAccount: Type.Boolean({ description: 'whether the service has a GOV.UK Pay account: notices cannot be sent without one' }),
  payAccountUrl: Type.Union([Type.String(), Type.Null()], { description: 'where an administrator sets it: PUT with baseUrl, apiKey and webhookSigningSecret' }),
  webhookUrl: Type.Union([Type.String(), Type.Null()], { description: 'the address to give GOV.UK Pay for the account’s webhook' }),
});
export type ParkingSetup = Static<typeof ParkingSetup>;
