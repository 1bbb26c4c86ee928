import { sql } from 'kysely';
import type { Db, Executor } from '../../platform/db/database.js';

export interface PayAccountsTable {
  service_id: string;
  base_url: string;
  api_key_sealed: string;
  webhook_secret_sealed: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface PayLinksTable {
  id: string;
  service_id: string;
  code: string;
  notification_id: string;
  amount_pence: number;
  reference: string;
  description: string;
  language: string;
  return_url: string | null;
  /** unpaid or paid */
  status: string;
  paid_amount_pence: number | null;
  paid_payment_id: string | null;
  paid_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface PayPaymentsTable {
  /** Pay's payment_id; `creating:…` while Weft holds the place of one it is asking Pay to make */
  payment_id: string;
  pay_link_id: string;
  /** Pay's state.status, or `creating` (see PaymentsRepository.holdPaymentPlace) */
  status: string;
  /** Pay's single-use address until it is given to a resident */
  next_url: string | null;
  created_at: Date;
  updated_at: Date;
  checked_at: Date | null;
}

export interface PayRemindersTable {
  notification_id: string;
  pay_link_id: string;
  after_days: number;
}

export interface ShortLinksTable {
  code: string;
  service_id: string;
  notification_id: string | null;
  pay_link_id: string | null;
  target_url: string | null;
  expires_at: Date;
  created_at: Date;
}

export interface ShortLinkClicksTable {
  code: string;
  /** UTC, YYYY-MM-DD */
  day: string;
  clicks: number;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    pay_accounts: PayAccountsTable;
    pay_links: PayLinksTable;
    pay_payments: PayPaymentsTable;
    pay_reminders: PayRemindersTable;
    short_links: ShortLinksTable;
    short_link_clicks: ShortLinkClicksTable;
  }
}

/** Pay's statuses in which a payment may still succeed. */
export const OPEN_PAYMENT_STATUSES = ['created', 'started', 'submitted', 'capturable'] as const;
/** The status of a place held for a payment Pay is being asked to make. */
export const CREATING = 'creating';

/** A pay link's limits on making payments (see holdPaymentPlace). */
export interface PaymentLimits {
  /** at most this many payments made since `dayStart`… */
  perDay: number;
  dayStart: Date;
  /** …and none made after this that may still be paid */
  notSince: Date;
}

export interface PaySummaryRow {
  service_id: string;
  sent: number;
  clicked: number;
  paid: number;
  paid_pence: number;
  clicks: number;
}

/** Every statement about pay links and short links (the notifications they cancel included). */
export class PaymentsRepository {
  constructor(private readonly db: Db) {}

  // ---- accounts

  findAccount(serviceId: string): Promise<PayAccountsTable | undefined> {
    return this.db.k.selectFrom('pay_accounts').selectAll().where('service_id', '=', serviceId).executeTakeFirst();
  }

  async upsertAccount(row: PayAccountsTable, ex: Executor): Promise<void> {
    await ex
      .insertInto('pay_accounts')
      .values(row)
      .onConflict((oc) =>
        oc.column('service_id').doUpdateSet({ base_url: row.base_url, api_key_sealed: row.api_key_sealed, webhook_secret_sealed: row.webhook_secret_sealed, updated_at: row.updated_at }),
      )
      .execute();
  }

  async deleteAccount(serviceId: string, ex: Executor): Promise<boolean> {
    const res = await ex.deleteFrom('pay_accounts').where('service_id', '=', serviceId).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  // ---- sending

  async insertLinks(rows: { links: ShortLinksTable[]; payLink: PayLinksTable; payment: PayPaymentsTable; reminders: PayRemindersTable[] }, ex: Executor): Promise<void> {
    // The pay link first: its short link and payment refer to it.
    await ex.insertInto('pay_links').values(rows.payLink).execute();
    if (rows.links.length) await ex.insertInto('short_links').values(rows.links).execute();
    await ex.insertInto('pay_payments').values(rows.payment).execute();
    if (rows.reminders.length) await ex.insertInto('pay_reminders').values(rows.reminders).execute();
  }

  // ---- short links

  /** The addresses tracked in a notification, with their codes. */
  trackedLinksOf(notificationId: string): Promise<{ code: string; target_url: string | null }[]> {
    return this.db.k.selectFrom('short_links').select(['code', 'target_url']).where('notification_id', '=', notificationId).where('target_url', 'is not', null).execute();
  }

  findShortLink(code: string): Promise<ShortLinksTable | undefined> {
    return this.db.k.selectFrom('short_links').selectAll().where('code', '=', code).executeTakeFirst();
  }

  /** One more click on the link today: a count and a day, nothing else. */
  async countClick(code: string, day: string): Promise<void> {
    await this.db.k
      .insertInto('short_link_clicks')
      .values({ code, day, clicks: 1 })
      .onConflict((oc) => oc.columns(['code', 'day']).doUpdateSet({ clicks: sql`short_link_clicks.clicks + 1` }))
      .execute();
  }

  async clicksOf(code: string): Promise<number> {
    const row = await this.db.k
      .selectFrom('short_link_clicks')
      .select((e) => e.fn.sum<number>('clicks').as('n'))
      .where('code', '=', code)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  // ---- pay links and their payments

  findPayLinks(ids: string[]): Promise<PayLinksTable[]> {
    return ids.length ? this.db.k.selectFrom('pay_links').selectAll().where('id', 'in', ids).execute() : Promise.resolve([]);
  }

  /** Clicks per code, for many codes at once. */
  async clicksOfMany(codes: string[]): Promise<Map<string, number>> {
    if (!codes.length) return new Map();
    const rows = await this.db.k
      .selectFrom('short_link_clicks')
      .select(['code', (e) => e.fn.sum<number>('clicks').as('n')])
      .where('code', 'in', codes)
      .groupBy('code')
      .execute();
    return new Map(rows.map((r) => [r.code, Number(r.n ?? 0)]));
  }

  findPayLink(id: string): Promise<PayLinksTable | undefined> {
    return this.db.k.selectFrom('pay_links').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The link's latest payment Pay has made (not a place still being made). */
  latestPayment(payLinkId: string): Promise<PayPaymentsTable | undefined> {
    return this.db.k
      .selectFrom('pay_payments')
      .selectAll()
      .where('pay_link_id', '=', payLinkId)
      .where('status', '!=', CREATING)
      .orderBy('created_at', 'desc')
      .orderBy('payment_id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** How many payments were made (or are being made) for a pay link since `since`. */
  async countPaymentsSince(payLinkId: string, since: Date, ex: Executor = this.db.k): Promise<number> {
    const row = await ex
      .selectFrom('pay_payments')
      .select((e) => e.fn.countAll<number>().as('n'))
      .where('pay_link_id', '=', payLinkId)
      .where('created_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Holds the place of a new payment for a pay link, if its limits allow, as a row `placeId`
   * with status `creating`, so that every process counts it before Pay has answered; answers the
   * limit that refused instead. The pay link is locked meanwhile (a row lock on PostgreSQL;
   * SQLite has one writer), so two followers cannot both take the last place.
   */
  async holdPaymentPlace(payLinkId: string, placeId: string, at: Date, limits: PaymentLimits): Promise<'day' | 'minute' | undefined> {
    return this.db.transaction(async (trx) => {
      const link = trx.selectFrom('pay_links').select('id').where('id', '=', payLinkId);
      await (this.db.dialect === 'postgres' ? link.forUpdate() : link).execute();
      if ((await this.countPaymentsSince(payLinkId, limits.dayStart, trx)) >= limits.perDay) return 'day';
      const recent = await trx
        .selectFrom('pay_payments')
        .select('payment_id')
        .where('pay_link_id', '=', payLinkId)
        .where('created_at', '>', limits.notSince)
        // A payment Pay has said is over (declined, cancelled) does not hold the next one back.
        .where('status', 'in', [...OPEN_PAYMENT_STATUSES, CREATING])
        .executeTakeFirst();
      if (recent) return 'minute';
      await trx.insertInto('pay_payments').values({ payment_id: placeId, pay_link_id: payLinkId, status: CREATING, next_url: null, created_at: at, updated_at: at, checked_at: null }).execute();
      return undefined;
    });
  }

  /** The payment Pay made takes its held place (and keeps its time). */
  async fillPaymentPlace(placeId: string, paymentId: string, status: string, at: Date): Promise<void> {
    await this.db.k.updateTable('pay_payments').set({ payment_id: paymentId, status, updated_at: at }).where('payment_id', '=', placeId).execute();
  }

  /** Pay made no payment: the place is given back. */
  async releasePaymentPlace(placeId: string): Promise<void> {
    await this.db.k.deleteFrom('pay_payments').where('payment_id', '=', placeId).where('status', '=', CREATING).execute();
  }

  findPayment(paymentId: string): Promise<(PayPaymentsTable & { service_id: string; link_status: string }) | undefined> {
    return this.db.k
      .selectFrom('pay_payments as p')
      .innerJoin('pay_links as l', (j) => j.onRef('l.id', '=', 'p.pay_link_id'))
      .selectAll('p')
      .select(['l.service_id', 'l.status as link_status'])
      .where('p.payment_id', '=', paymentId)
      .executeTakeFirst();
  }

  /** Takes a payment's single-use address for one resident: true only for the caller that cleared it. */
  async takeNextUrl(paymentId: string, nextUrl: string, at: Date): Promise<boolean> {
    const res = await this.db.k.updateTable('pay_payments').set({ next_url: null, updated_at: at }).where('payment_id', '=', paymentId).where('next_url', '=', nextUrl).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async recordPaymentStatus(paymentId: string, status: string, at: Date, ex: Executor = this.db.k): Promise<void> {
    await ex.updateTable('pay_payments').set({ status, updated_at: at, checked_at: at }).where('payment_id', '=', paymentId).execute();
  }

  /**
   * Marks a pay link paid, once: false if it already was. The reminders still waiting (not yet
   * claimed by a delivery worker) become cancelled with `reason`; returns their ids.
   */
  async markPaid(p: { payLinkId: string; paymentId: string; amountPence: number; paidAt: Date; reason: string; now: Date }, ex: Executor): Promise<{ changed: boolean; cancelled: string[] }> {
    const res = await ex
      .updateTable('pay_links')
      .set({ status: 'paid', paid_amount_pence: p.amountPence, paid_payment_id: p.paymentId, paid_at: p.paidAt, updated_at: p.now })
      .where('id', '=', p.payLinkId)
      .where('status', '=', 'unpaid')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return { changed: false, cancelled: [] };
    const reminders = ex.selectFrom('pay_reminders').select('notification_id').where('pay_link_id', '=', p.payLinkId);
    const cancelled = await ex
      .updateTable('notifications')
      .set({ status: 'cancelled', status_reason: p.reason, next_attempt_at: null, completed_at: p.now, updated_at: p.now })
      .where('id', 'in', reminders)
      // Claimed or not: delivery checks the status again before it sends (markInFlight).
      .where('status', '=', 'created')
      .returning('id')
      .execute();
    return { changed: true, cancelled: cancelled.map((r) => r.id) };
  }

  /** The reminders of these pay links still waiting (not yet handed to a provider) become cancelled with `reason`; returns how many. */
  async cancelReminders(payLinkIds: string[], reason: string, now: Date, ex: Executor): Promise<number> {
    if (!payLinkIds.length) return 0;
    const reminders = ex.selectFrom('pay_reminders').select('notification_id').where('pay_link_id', 'in', payLinkIds);
    const res = await ex
      .updateTable('notifications')
      .set({ status: 'cancelled', status_reason: reason, next_attempt_at: null, completed_at: now, updated_at: now })
      .where('id', 'in', reminders)
      // Claimed or not: delivery checks the status again before it sends (markInFlight).
      .where('status', '=', 'created')
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  reminders(payLinkId: string): Promise<ReminderRow[]> {
    return this.remindersOfMany([payLinkId]);
  }

  /** The reminders of many pay links (each row says which), soonest first. */
  remindersOfMany(payLinkIds: string[]): Promise<ReminderRow[]> {
    if (!payLinkIds.length) return Promise.resolve([]);
    return this.db.k
      .selectFrom('pay_reminders as r')
      .innerJoin('notifications as n', (j) => j.onRef('n.id', '=', 'r.notification_id'))
      .select(['r.pay_link_id', 'n.id', 'n.template_id', 'r.after_days', 'n.status', 'n.status_reason', 'n.scheduled_for_at'])
      .where('r.pay_link_id', 'in', payLinkIds)
      .orderBy('r.after_days')
      .execute();
  }

  /**
   * Payments a resident was sent to that may still succeed, not checked since `checkedBefore`,
   * made after `createdAfter` (Pay ends a payment 90 minutes after it was made), oldest first.
   */
  paymentsToCheck(createdAfter: Date, checkedBefore: Date, limit: number): Promise<(PayPaymentsTable & { service_id: string })[]> {
    return this.db.k
      .selectFrom('pay_payments as p')
      .innerJoin('pay_links as l', (j) => j.onRef('l.id', '=', 'p.pay_link_id'))
      .selectAll('p')
      .select('l.service_id')
      .where('l.status', '=', 'unpaid')
      .where('p.status', 'in', [...OPEN_PAYMENT_STATUSES])
      .where('p.next_url', 'is', null)
      .where('p.created_at', '>', createdAfter)
      .where((e) => e.or([e('p.checked_at', 'is', null), e('p.checked_at', '<', checkedBefore)]))
      .orderBy('p.created_at')
      .limit(limit)
      .execute();
  }

  // ---- figures

  /** Per service, pay links made since `since`: how many, how many were clicked, how many paid. */
  async summary(since: Date, serviceId?: string): Promise<PaySummaryRow[]> {
    let q = this.db.k
      .selectFrom('pay_links as l')
      .leftJoin(
        (eb) =>
          eb
            .selectFrom('short_link_clicks')
            .select(['code', (e) => e.fn.sum<number>('clicks').as('clicks')])
            .groupBy('code')
            .as('c'),
        (j) => j.onRef('c.code', '=', 'l.code'),
      )
      .select((e) => [
        'l.service_id',
        e.fn.countAll<number>().as('sent'),
        e.fn.count<number>('c.code').as('clicked'),
        sql<number>`sum(case when l.status = 'paid' then 1 else 0 end)`.as('paid'),
        e.fn.coalesce(e.fn.sum<number>('l.paid_amount_pence'), sql<number>`0`).as('paid_pence'),
        e.fn.coalesce(e.fn.sum<number>('c.clicks'), sql<number>`0`).as('clicks'),
      ])
      .where('l.created_at', '>=', since);
    if (serviceId) q = q.where('l.service_id', '=', serviceId);
    const rows = await q.groupBy('l.service_id').execute();
    return rows.map((r) => ({
      service_id: r.service_id,
      sent: Number(r.sent),
      clicked: Number(r.clicked),
      paid: Number(r.paid ?? 0),
      paid_pence: Number(r.paid_pence ?? 0),
      clicks: Number(r.clicks ?? 0),
    }));
  }

  /** When each link made since `since` was made and paid, for days-to-pay. */
  paidTimes(since: Date, serviceId?: string): Promise<{ service_id: string; created_at: Date; paid_at: Date | null }[]> {
    let q = this.db.k.selectFrom('pay_links').select(['service_id', 'created_at', 'paid_at']).where('created_at', '>=', since).where('status', '=', 'paid');
    if (serviceId) q = q.where('service_id', '=', serviceId);
    return q.execute();
  }
}

export interface ReminderRow {
  pay_link_id: string;
  id: string;
  template_id: string;
  after_days: number;
  status: string;
  status_reason: string | null;
  scheduled_for_at: Date | null;
}
