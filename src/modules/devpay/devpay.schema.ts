import { type Static, Type } from '@sinclair/typebox';

/** Where the development GOV.UK Pay lives in Weft: its API is `${public URL}/dev-pay/v1/…`. */
export const DEV_PAY_PATH = '/dev-pay';

/** What the payment page's buttons do: as if the card payment went through, the bank declined it, or the resident cancelled. */
export const OUTCOMES = ['success', 'declined', 'cancelled'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** The payment page's form (its `_csrf` is checked and taken out before this). */
export const OutcomeForm = Type.Object({ outcome: Type.Union(OUTCOMES.map((o) => Type.Literal(o))) }, { additionalProperties: false });

/** POST /v1/payments, as GOV.UK Pay takes it (checked field by field in Pay's words, not by this schema). */
export const CreatePaymentBody = Type.Object({
  amount: Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'in pence' }),
  reference: Type.String({ minLength: 1, maxLength: 255 }),
  description: Type.String({ minLength: 1, maxLength: 255 }),
  return_url: Type.String({ maxLength: 2000 }),
  language: Type.Optional(Type.Union([Type.Literal('en'), Type.Literal('cy')])),
});
export type CreatePaymentBody = Static<typeof CreatePaymentBody>;

export const PayState = Type.Object({
  status: Type.String(),
  finished: Type.Boolean(),
  message: Type.Optional(Type.String()),
  code: Type.Optional(Type.String()),
});
export type PayState = Static<typeof PayState>;

const Link = Type.Object({ href: Type.String(), method: Type.String() });

/** A payment as GOV.UK Pay's API shows it (CardPayment), the fields the development Pay keeps. */
export const CardPayment = Type.Object({
  amount: Type.Integer(),
  description: Type.String(),
  reference: Type.String(),
  language: Type.String(),
  state: PayState,
  payment_id: Type.String(),
  payment_provider: Type.String(),
  created_date: Type.String(),
  return_url: Type.String(),
  delayed_capture: Type.Boolean(),
  moto: Type.Boolean(),
  authorisation_mode: Type.String(),
  _links: Type.Object({ self: Link, next_url: Type.Optional(Link) }),
});
export type CardPayment = Static<typeof CardPayment>;

/** Pay's refusal of a request: `{ field, code, description }` (P0101 missing, P0102 invalid, P0200 not found). */
export interface PayError {
  field?: string;
  code: string;
  description: string;
}

/** An account the development Pay issued: its API key and webhook signing secret are shown only here. */
export interface DevPayAccount {
  id: string;
  name: string;
  /** the API's base URL, as a Pay account is given it */
  baseUrl: string;
  apiKey: string;
  webhookSecret: string;
}

/** What the payment page shows. */
export interface PaymentPage {
  paymentId: string;
  description: string;
  reference: string;
  amount: number;
}
