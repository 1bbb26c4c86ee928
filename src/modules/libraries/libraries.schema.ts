import { type Static, Type } from '@sinclair/typebox';

const Card = Type.String({ minLength: 4, maxLength: 32, pattern: '^[A-Za-z0-9 -]+$', description: 'the borrower’s library card number' });

export const ReservationReady = Type.Object(
  {
    eventId: Type.String({ minLength: 1, maxLength: 100, description: 'the library system’s own id for this event: posting it again sends nothing more' }),
    cardNumber: Card,
    title: Type.String({ minLength: 1, maxLength: 300, description: 'the book (or other item) reserved' }),
    branch: Type.String({ minLength: 1, maxLength: 120, description: 'the library it waits at' }),
    collectBy: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'the last day to collect it, YYYY-MM-DD' }),
  },
  { additionalProperties: false },
);
export type ReservationReady = Static<typeof ReservationReady>;

export const CardLink = Type.Object({ cardNumber: Card }, { additionalProperties: false });
export type CardLink = Static<typeof CardLink>;

export interface EventResult {
  eventId: string;
  /** the message sent, on the resident's channel */
  notificationId: string | null;
  channel: string | null;
  /** true when the event was posted before: nothing more was sent */
  duplicate: boolean;
}
