import { type Actor, systemActor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import { toCsv } from '../../platform/csv.js';
import type { Db } from '../../platform/db/database.js';
import { isUniqueViolation } from '../../platform/db/dialect.js';
import { AppError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import { formatDate, formatMoney } from '../../platform/web/i18n.js';
import { type MessagingService, type PayLinkView, type Payments, payLinkSentWith } from '../messaging/index.js';
import type { HeldData, ResidentKey } from '../residents/index.js';
import { asFieldErrors, MAX_REPORTED, type NoticeRow, readNotices } from './parking.csv.js';
import { parkingErrors } from './parking.errors.js';
import { type ParkingBatchesTable, type ParkingNoticesTable, ParkingRepository } from './parking.repository.js';
import { type BatchSummary, type BatchView, DEFAULT_FOLLOW_UP_DAYS, type FollowUpStatus, type NoticeStatus, type NoticeView, type ParkingSetup, type RowError } from './parking.schema.js';

export const SEND_JOB = 'parking.send';
/** The messaging service penalty charge notices go out from, and its templates: made once, then the council's to reword. */
export const PARKING_SERVICE = { name: 'Parking', smsSender: 'PARKING' };
export const TEMPLATE_NAMES = {
  sms: 'Penalty charge notice (text)',
  email: 'Penalty charge notice (email)',
  smsFollowUp: 'Penalty charge not paid (text)',
  emailFollowUp: 'Penalty charge not paid (email)',
};
export const NOTICE_TEMPLATES = [
  {
    name: TEMPLATE_NAMES.sms,
    type: 'sms' as const,
    body: 'Penalty charge notice ((pcn)) for vehicle ((vrm)), issued on ((issued)) at ((location)): ((amount)) to pay. Pay online at ((pay_link))',
    bodyCy: 'Hysbysiad Tâl Cosb ((pcn)) ar gyfer cerbyd ((vrm)), a roddwyd ar ((issued_cy)) yn ((location)): ((amount)) i’w dalu. Talwch ar-lein yn ((pay_link))',
  },
  {
    name: TEMPLATE_NAMES.email,
    type: 'email' as const,
    subject: 'Penalty charge notice ((pcn)) for vehicle ((vrm))',
    body: 'Dear ((name)),\n\nA penalty charge notice was issued to vehicle ((vrm)) on ((issued)) at ((location)) for: ((contravention)).\n\n* Penalty charge notice: ((pcn))\n* Amount to pay: ((amount))\n\nPay online at ((pay_link))\n\nIf you think the notice is wrong, you can challenge it: the notice tells you how.',
    subjectCy: 'Hysbysiad Tâl Cosb ((pcn)) ar gyfer cerbyd ((vrm))',
    bodyCy:
      'Annwyl ((name)),\n\nRhoddwyd Hysbysiad Tâl Cosb i gerbyd ((vrm)) ar ((issued_cy)) yn ((location)) am: ((contravention)).\n\n* Hysbysiad Tâl Cosb: ((pcn))\n* Swm i’w dalu: ((amount))\n\nTalwch ar-lein yn ((pay_link))\n\nOs ydych chi’n credu bod yr hysbysiad yn anghywir, gallwch ei herio: mae’r hysbysiad yn dweud wrthych sut.',
  },
  {
    name: TEMPLATE_NAMES.smsFollowUp,
    type: 'sms' as const,
    body: 'Reminder: penalty charge notice ((pcn)) for vehicle ((vrm)) has not been paid. Pay ((amount)) online at ((pay_link))',
    bodyCy: 'Nodyn atgoffa: nid yw Hysbysiad Tâl Cosb ((pcn)) ar gyfer cerbyd ((vrm)) wedi’i dalu. Talwch ((amount)) ar-lein yn ((pay_link))',
  },
  {
    name: TEMPLATE_NAMES.emailFollowUp,
    type: 'email' as const,
    subject: 'Reminder: penalty charge notice ((pcn)) has not been paid',
    body: 'Dear ((name)),\n\nPenalty charge notice ((pcn)) for vehicle ((vrm)) has not been paid yet.\n\nPay ((amount)) online at ((pay_link))\n\nIf you have paid in the last few days, you do not need to do anything.',
    subjectCy: 'Nodyn atgoffa: nid yw Hysbysiad Tâl Cosb ((pcn)) wedi’i dalu',
    bodyCy:
      'Annwyl ((name)),\n\nNid yw Hysbysiad Tâl Cosb ((pcn)) ar gyfer cerbyd ((vrm)) wedi’i dalu eto.\n\nTalwch ((amount)) ar-lein yn ((pay_link))\n\nOs ydych chi wedi talu yn ystod y dyddiau diwethaf, does dim angen i chi wneud unrhyw beth.',
  },
];
/** Notices sent between looks at what is left, so a batch's job never holds many in memory. */
const SEND_CHUNK = 50;
/** Refusals that are the account's (or Weft's), not the notice's: the job waits and tries again rather than failing every notice. */
const TRY_AGAIN_CODES = new Set(['PAY_ACCOUNT_MISSING', 'PAY_ACCOUNT_REFUSED', 'NOTIFY_AUTH_INVALID']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What an erased keeper's notice is left with: their name becomes this word; mobile, email and registration go. */
export const ERASED_NAME = 'Erased';
/** Why a follow-up to an erased keeper was cancelled. */
const ERASED_REMINDER = 'The keeper’s personal data was erased.';
/** Why an erased keeper's notice was never sent. */
export const ERASED_FAILURE = 'the keeper’s personal data was erased before it was sent, so there is no one to send it to.';

export interface UploadOptions {
  followUpDays?: number;
  fileName?: string | null;
}

export interface NoticeDetail {
  notice: NoticeView;
  batch: BatchSummary;
  payLink: PayLinkView | null;
}

/**
 * Parking fines. An officer uploads a file of penalty charge notices; every row is checked and
 * the whole file refused if any is wrong or was sent before. A durable job then sends each
 * keeper a text (an email when there is no mobile) with a pay link through messaging's pay
 * links, and one follow-up that paying cancels. A notice is sent once: its number is unique in
 * Weft, each is claimed before it is sent, and a run after a crash finds what was stored by the
 * notice's reference. The batch's page adds up paid, clicked and outstanding from the pay links.
 */
export class ParkingService {
  readonly repo: ParkingRepository;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly jobs: JobQueue,
    private readonly messaging: MessagingService,
    private readonly payments: Payments,
  ) {
    this.repo = new ParkingRepository(db);
    jobs.register(SEND_JOB, (p: { batchId: string }) => this.send(p.batchId), { maxAttempts: 10 });
  }

  // ---------------------------------------------------------------- the Parking messaging service

  /** Whether the Parking messaging service is made and has a GOV.UK Pay account. Changes nothing. */
  async setup(): Promise<ParkingSetup> {
    const service = (await this.messaging.listServices()).find((s) => s.name === PARKING_SERVICE.name);
    if (!service) return { serviceId: null, payAccount: false, payAccountUrl: null, webhookUrl: null };
    const account = await this.payments.getAccount(service.id);
    return { serviceId: service.id, payAccount: account.configured, payAccountUrl: `/api/v1/messaging/services/${service.id}/pay`, webhookUrl: account.webhookUrl };
  }

  /** Makes the Parking messaging service and its templates (English and Welsh), if they are not there yet. */
  async setUp(actor: Actor): Promise<ParkingSetup> {
    await this.messaging.ensureService(actor, PARKING_SERVICE, NOTICE_TEMPLATES);
    return this.setup();
  }

  // ---------------------------------------------------------------- uploading

  /**
   * Checks every row of a file, then stores the batch and its notices and queues the job that
   * sends them, in one transaction with its audit row. A file with any problem, or with notices
   * sent before, is refused whole and nothing is stored.
   */
  async upload(actor: Actor, text: string, options: UploadOptions = {}, origin: Origin = {}, now = new Date()): Promise<BatchView> {
    const setup = await this.setup();
    if (!setup.serviceId || !setup.payAccount) throw parkingErrors.PARKING_PAY_ACCOUNT_MISSING(payAccountMessage(setup));
    const { notices, errors } = readNotices(text, now);
    const before = await this.repo.existingPcns(notices.map((n) => n.pcn));
    const sentBefore: RowError[] = notices
      .filter((n) => before.has(n.pcn))
      .map((n) => ({ row: n.row, field: 'pcn', message: `${n.pcn} was sent before, in the batch of ${formatDate('en', before.get(n.pcn) as Date)}` }));
    if (errors.length)
      throw refusal(
        'PARKING_CSV_INVALID',
        [...errors, ...sentBefore].sort((a, b) => a.row - b.row),
      );
    if (sentBefore.length) throw refusal('PARKING_PCN_DUPLICATE', sentBefore);
    const batch = batchRow(actor, setup.serviceId, notices, options, now);
    try {
      await this.db.transaction(async (trx) => {
        await this.repo.insertBatch(
          batch,
          notices.map((n) => noticeRow(batch.id, n, now)),
          trx,
        );
        const job = await this.jobs.enqueue(SEND_JOB, { batchId: batch.id }, { idempotencyKey: `${SEND_JOB}:${batch.id}`, executor: trx });
        await this.repo.setJob(batch.id, job.id, trx);
        await this.audit.record(
          {
            actor,
            action: 'parking.batch_upload',
            summary: `Uploaded ${notices.length} penalty charge ${notices.length === 1 ? 'notice' : 'notices'} (${formatMoney('en', batch.total_pence)})${batch.file_name ? ` from ${batch.file_name}` : ''} to send with pay links`,
            targetType: 'parking_batch',
            targetId: batch.id,
            ...origin,
          },
          trx,
        );
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw parkingErrors.PARKING_PCN_DUPLICATE(
        'A penalty charge notice in the file was sent in another batch while this one was being checked. Nothing was sent: upload the file again to see which.',
      );
    }
    this.jobs.wake();
    return this.batch(batch.id);
  }

  // ---------------------------------------------------------------- sending (the job)

  /**
   * The job: sends each notice still to send, in file order, and marks the batch sent. A
   * notice claimed by a run that died is first looked for in what messaging stored (by its
   * reference, the notice's number), so a crash between sending and recording sends nothing twice.
   */
  async send(batchId: string): Promise<void> {
    const batch = await this.repo.findBatch(batchId);
    if (!batch || batch.status === 'sent') return;
    const { templates } = await this.messaging.ensureService(systemActor(batch.created_by), PARKING_SERVICE, NOTICE_TEMPLATES);
    const ids = Object.fromEntries(Object.entries(TEMPLATE_NAMES).map(([k, name]) => [k, templates.get(name)?.id as string])) as Record<keyof typeof TEMPLATE_NAMES, string>;
    const sender: Actor = { type: 'service', id: null, label: PARKING_SERVICE.name, permissions: new Set(), roles: [], serviceId: batch.service_id, keyType: 'normal' };
    for (;;) {
      const due = await this.repo.unsent(batch.id, SEND_CHUNK);
      if (!due.length) break;
      for (const notice of due) await this.sendOne(sender, batch, notice, ids);
    }
    await this.repo.markBatchSent(batch.id, new Date());
  }

  /** A notice sent. Its keeper erased while Pay was being asked: the erasure could not see this pay link yet, so its follow-up is cancelled here. */
  private async recordSent(noticeId: string, sent: { payLinkId: string; notificationId: string; at: Date }): Promise<void> {
    if (await this.repo.markSent(noticeId, sent)) return;
    await this.db.transaction((trx) => this.payments.cancelReminders([sent.payLinkId], ERASED_REMINDER, trx));
  }

  private async sendOne(sender: Actor, batch: ParkingBatchesTable, notice: ParkingNoticesTable, templates: Record<keyof typeof TEMPLATE_NAMES, string>): Promise<void> {
    if (notice.status === 'sending') {
      const stored = await payLinkSentWith(this.payments, this.messaging, batch.service_id, notice.pcn);
      if (stored) return this.recordSent(notice.id, { payLinkId: stored.id, notificationId: stored.notification_id, at: new Date(stored.created_at as string) });
    }
    // The notice as the claim left it, not as the chunk read it: the keeper may have been erased since.
    const claimed = await this.repo.claim(notice.id, notice.attempts);
    if (!claimed) {
      const now = await this.repo.findNotice(notice.id);
      if (now && !contactOf(now)) return; // erased while this run was at work: the erasure marked it not sent
      throw new Error(`Parking notice ${notice.id} was claimed by another run; this one stops and tries again later.`);
    }
    const to = contactOf(claimed);
    if (!to) return this.repo.markFailed(claimed.id, ERASED_FAILURE);
    const sms = claimed.channel === 'sms';
    const issued = new Date(`${claimed.issued_on}T12:00:00Z`);
    try {
      const sent = await this.payments.send(sender, {
        channel: claimed.channel,
        templateId: sms ? templates.sms : templates.email,
        to,
        personalisation: {
          name: claimed.keeper_name,
          pcn: claimed.pcn,
          vrm: claimed.vrm,
          amount: formatMoney(claimed.language, claimed.amount_pence),
          issued: formatDate('en', issued),
          issued_cy: formatDate('cy', issued),
          contravention: claimed.contravention,
          location: claimed.location,
        },
        reference: claimed.pcn,
        language: claimed.language,
        payment: {
          amountPence: claimed.amount_pence,
          reference: claimed.pcn,
          description: claimed.language === 'cy' ? `Hysbysiad Tâl Cosb ${claimed.pcn}` : `Penalty charge notice ${claimed.pcn}`,
        },
        reminders: [{ templateId: sms ? templates.smsFollowUp : templates.emailFollowUp, afterDays: batch.follow_up_days }],
        trackLinks: false,
      });
      await this.recordSent(claimed.id, { payLinkId: sent.payLink.id, notificationId: sent.row.id, at: sent.row.created_at });
    } catch (err) {
      // The notice's own refusals (a number that replied STOP, an amount Pay will not take) are kept on it; anything else is tried again.
      if (!(err instanceof AppError) || err.status >= 500 || err.status === 429 || TRY_AGAIN_CODES.has(err.code)) throw err;
      await this.repo.markFailed(claimed.id, err.message);
    }
  }

  /** Failed notices (and any a stopped job left) are sent again by a new job. */
  async retry(actor: Actor, batchId: string, origin: Origin = {}): Promise<BatchView> {
    const batch = await this.findBatch(batchId);
    const job = batch.job_id ? await this.jobs.get(batch.job_id) : undefined;
    if (batch.status === 'sending' && job && job.status !== 'dead')
      throw parkingErrors.PARKING_NOTHING_TO_RETRY('The batch is still being sent: wait until it is done, then try the failed notices again.');
    await this.db.transaction(async (trx) => {
      const requeued = await this.repo.requeueFailed(batch.id, trx);
      if (!requeued && batch.status === 'sent')
        throw parkingErrors.PARKING_NOTHING_TO_RETRY('No notices in this batch failed to send (or those that did were erased with their keeper’s personal data), so there is nothing to try again.');
      const next = await this.jobs.enqueue(SEND_JOB, { batchId: batch.id }, { idempotencyKey: `${SEND_JOB}:${batch.id}:${newId()}`, executor: trx });
      await this.repo.setJob(batch.id, next.id, trx);
      await this.audit.record(
        { actor, action: 'parking.batch_retry', summary: `Tried the failed penalty charge notices of a batch again (${requeued})`, targetType: 'parking_batch', targetId: batch.id, ...origin },
        trx,
      );
    });
    this.jobs.wake();
    return this.batch(batch.id);
  }

  // ---------------------------------------------------------------- a resident's data (residents' rights)

  /**
   * Subject access: the notices sent (or to be sent) to the resident's mobile or email, with
   * what became of each and its pay link. Keepers' contact points are stored normalised, as
   * residents' are, so the match is by equality.
   */
  async exportResident(r: ResidentKey): Promise<HeldData> {
    const rows = await this.repo.ofKeeper(r);
    const services = new Map((await this.repo.batches([...new Set(rows.map((n) => n.batch_id))])).map((b) => [b.id, b.service_id]));
    const links = new Map<string, PayLinkView>();
    const byService = new Map<string, string[]>();
    for (const n of rows) {
      if (!n.pay_link_id) continue;
      const serviceId = services.get(n.batch_id) as string;
      byService.set(serviceId, [...(byService.get(serviceId) ?? []), n.pay_link_id]);
    }
    for (const [serviceId, ids] of byService) for (const [id, link] of await this.payments.payLinks(serviceId, ids)) links.set(id, link);
    const notices = rows.map((n) => heldNotice(n, n.pay_link_id ? (links.get(n.pay_link_id) ?? null) : null));
    return { summary: heldSummary(notices), notices };
  }

  /**
   * Erasure: the resident's notices keep their number, amount, dates and status (the council's
   * accounts and totals) and lose the keeper's name, mobile, email and vehicle registration. One
   * not sent yet is never sent. Their messages, and a follow-up still waiting, are messaging's to
   * erase and cancel (it finds them by the same contact points). Can run again.
   */
  async forgetResident(r: ResidentKey): Promise<{ notices: number; reminders: number }> {
    return this.db.transaction(async (trx) => {
      const { notices, payLinkIds } = await this.repo.forgetKeeper(r, { name: ERASED_NAME, failure: ERASED_FAILURE }, trx);
      // The follow-up reminders go too, whichever contact point they were to be sent to.
      const reminders = await this.payments.cancelReminders(payLinkIds, ERASED_REMINDER, trx);
      return { notices, reminders };
    });
  }

  // ---------------------------------------------------------------- reading

  async list(limit = 100): Promise<BatchSummary[]> {
    return (await this.repo.listBatches(limit)).map(summaryOf);
  }

  /** A batch with every notice's state, read from its pay link: paid, clicked, outstanding, and the follow-up. */
  async batch(id: string): Promise<BatchView> {
    const row = await this.findBatch(id);
    const notices = await this.noticeViews(row, await this.repo.notices(row.id));
    const count = (s: NoticeStatus) => notices.filter((n) => n.status === s).length;
    const sum = (list: NoticeView[], f: (n: NoticeView) => number) => list.reduce((a, n) => a + f(n), 0);
    const unpaid = notices.filter((n) => n.status === 'clicked' || n.status === 'outstanding');
    return {
      ...summaryFields(row),
      counts: {
        notices: notices.length,
        waiting: count('waiting'),
        failed: count('failed'),
        paid: count('paid'),
        clicked: count('clicked'),
        outstanding: count('outstanding'),
        followUpsSent: notices.filter((n) => n.followUp.status === 'sent').length,
      },
      money: { totalPence: row.total_pence, paidPence: sum(notices, (n) => n.paidPence ?? 0), unpaidPence: sum(unpaid, (n) => n.amountPence) },
      problem: await this.problem(row),
      notices,
    };
  }

  async notice(id: string): Promise<NoticeDetail> {
    const row = UUID.test(id) ? await this.repo.findNotice(id.toLowerCase()) : undefined;
    if (!row) throw parkingErrors.PARKING_NOTICE_NOT_FOUND();
    const batch = await this.findBatch(row.batch_id);
    const payLink = row.pay_link_id ? await this.payments.payLink(batch.service_id, row.pay_link_id) : null;
    return { notice: noticeView(row, payLink), batch: summaryOf(batch), payLink };
  }

  /** The batch's notices and what became of them, as CSV: no names, numbers or addresses of keepers. */
  async exportCsv(id: string): Promise<string> {
    const view = await this.batch(id);
    const pounds = (p: number | null) => (p === null ? '' : (p / 100).toFixed(2));
    return toCsv(
      ['row', 'pcn', 'vrm', 'channel', 'language', 'amount', 'status', 'clicks', 'paid_amount', 'paid_at', 'follow_up', 'follow_up_due_at', 'sent_at', 'failure'],
      view.notices.map((n) => [
        n.row,
        n.pcn,
        n.vrm,
        n.channel,
        n.language,
        pounds(n.amountPence),
        n.status,
        n.clicks,
        pounds(n.paidPence),
        n.paidAt,
        n.followUp.status,
        n.followUp.dueAt,
        n.sentAt,
        n.failure,
      ]),
    );
  }

  private async findBatch(id: string): Promise<ParkingBatchesTable> {
    const row = UUID.test(id) ? await this.repo.findBatch(id.toLowerCase()) : undefined;
    if (!row) throw parkingErrors.PARKING_BATCH_NOT_FOUND();
    return row;
  }

  private async noticeViews(batch: ParkingBatchesTable, rows: ParkingNoticesTable[]): Promise<NoticeView[]> {
    const links = await this.payments.payLinks(
      batch.service_id,
      rows.map((r) => r.pay_link_id).filter((id): id is string => !!id),
    );
    return rows.map((r) => noticeView(r, r.pay_link_id ? (links.get(r.pay_link_id) ?? null) : null));
  }

  /** Why a batch still sending is not getting on: its job waiting to try again, or stopped. */
  private async problem(batch: ParkingBatchesTable): Promise<string | null> {
    if (batch.status !== 'sending' || !batch.job_id) return null;
    const job = await this.jobs.get(batch.job_id);
    if (!job?.last_error) return null;
    const why = reasonOf(job.last_error);
    if (job.status === 'dead') return `Sending stopped after ${job.attempts} tries: ${why} Put the problem right, then try the notices again.`;
    return job.status === 'pending' ? `Sending is waiting to try again: ${why}` : null;
  }
}

/** A job's last error as staff may read it: an AppError's message, or the queue's own words; never a stack or internals. */
function reasonOf(lastError: string): string {
  const first = lastError.split('\n')[0];
  if (first.startsWith('AppError: ')) return first.slice('AppError: '.length, 400);
  if (first.startsWith('The lock expired')) return first;
  return 'something went wrong on Weft’s side (the logs say what).';
}

function payAccountMessage(setup: ParkingSetup): string {
  if (!setup.serviceId)
    return 'The Parking messaging service is not set up yet. Set it up (POST /api/v1/parking/setup, or the upload page in the console), then an administrator sets its GOV.UK Pay account. Nothing was sent.';
  return `The Parking messaging service has no GOV.UK Pay account, so keepers could not pay. Nothing was sent: an administrator sets it with PUT ${setup.payAccountUrl} (baseUrl, apiKey, webhookSigningSecret), then upload the file again.`;
}

function refusal(code: 'PARKING_CSV_INVALID' | 'PARKING_PCN_DUPLICATE', errors: RowError[]): AppError {
  const n = errors.length;
  const shown = errors.slice(0, MAX_REPORTED);
  const listed = n > shown.length ? ` (the first ${shown.length} are listed)` : '';
  const message =
    code === 'PARKING_PCN_DUPLICATE'
      ? `${n} penalty charge ${n === 1 ? 'notice in the file has' : 'notices in the file have'} been sent before${listed}. Nothing was sent: take out the rows listed and upload the file again.`
      : `The file has ${n} ${n === 1 ? 'problem' : 'problems'}${listed}. Nothing was sent: correct the rows listed and upload the file again.`;
  return parkingErrors[code](message, asFieldErrors(shown));
}

function batchRow(actor: Actor, serviceId: string, notices: NoticeRow[], options: UploadOptions, now: Date): ParkingBatchesTable {
  return {
    id: newId(now.getTime()),
    service_id: serviceId,
    file_name: options.fileName?.trim().slice(0, 200) || null,
    follow_up_days: options.followUpDays ?? DEFAULT_FOLLOW_UP_DAYS,
    status: 'sending',
    notices: notices.length,
    total_pence: notices.reduce((a, n) => a + n.amountPence, 0),
    job_id: null,
    created_by: actor.label,
    created_at: now,
    sent_at: null,
  };
}

function noticeRow(batchId: string, n: NoticeRow, now: Date): ParkingNoticesTable {
  return {
    id: newId(now.getTime()),
    batch_id: batchId,
    row_number: n.row,
    pcn: n.pcn,
    vrm: n.vrm,
    keeper_name: n.keeperName,
    mobile: n.mobile,
    email: n.email,
    channel: n.channel,
    amount_pence: n.amountPence,
    issued_on: n.issuedOn,
    contravention: n.contravention,
    location: n.location,
    language: n.language,
    status: 'queued',
    attempts: 0,
    failure: null,
    pay_link_id: null,
    notification_id: null,
    sent_at: null,
    created_at: now,
  };
}

function summaryFields(r: ParkingBatchesTable) {
  return {
    id: r.id,
    fileName: r.file_name,
    status: r.status === 'sent' ? ('sent' as const) : ('sending' as const),
    followUpDays: r.follow_up_days,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    sentAt: r.sent_at?.toISOString() ?? null,
  };
}

function summaryOf(r: ParkingBatchesTable): BatchSummary {
  return { ...summaryFields(r), notices: r.notices, totalPence: r.total_pence };
}

const iso = (notifyTime: string | null | undefined) => (notifyTime ? new Date(notifyTime).toISOString() : null);

function noticeView(r: ParkingNoticesTable, link: PayLinkView | null): NoticeView {
  const followUp = link?.reminders[0];
  return {
    id: r.id,
    row: r.row_number,
    pcn: r.pcn,
    vrm: r.vrm,
    keeperName: r.keeper_name,
    erased: !contactOf(r),
    channel: r.channel,
    language: r.language,
    amountPence: r.amount_pence,
    issuedOn: r.issued_on,
    contravention: r.contravention,
    location: r.location,
    status: statusOf(r, link),
    failure: r.failure,
    sentAt: r.sent_at?.toISOString() ?? null,
    clicks: link?.clicks ?? 0,
    paidPence: link?.paid_amount_pence ?? null,
    paidAt: iso(link?.paid_at),
    followUp: { status: followUp ? followUpStatus(followUp.status) : 'none', dueAt: iso(followUp?.scheduled_for), notificationId: followUp?.id ?? null },
    payLinkId: r.pay_link_id,
    notificationId: r.notification_id,
  };
}

function statusOf(r: ParkingNoticesTable, link: PayLinkView | null): NoticeStatus {
  if (r.status === 'failed') return 'failed';
  if (r.status !== 'sent' || !link) return 'waiting';
  if (link.status === 'paid') return 'paid';
  return link.clicks > 0 ? 'clicked' : 'outstanding';
}

/** A follow-up's notification status in the batch's words. */
function followUpStatus(status: string): FollowUpStatus {
  if (status === 'created') return 'waiting';
  if (status === 'cancelled') return 'cancelled';
  if (status.endsWith('failure')) return 'failed';
  return 'sent';
}

/** Where the notice goes: its mobile for a text, its email otherwise; null once the keeper is erased (every notice has one until then). */
function contactOf(n: ParkingNoticesTable): string | null {
  return (n.channel === 'sms' ? n.mobile : n.email) ?? null;
}

/** A notice as a subject access export gives it. */
function heldNotice(n: ParkingNoticesTable, link: PayLinkView | null) {
  const view = noticeView(n, link);
  return {
    pcn: n.pcn,
    vehicle: n.vrm,
    keeperName: n.keeper_name,
    mobile: n.mobile,
    email: n.email,
    sentBy: n.channel === 'sms' ? 'text message' : 'email',
    language: n.language,
    amountPence: n.amount_pence,
    issuedOn: n.issued_on,
    contravention: n.contravention,
    location: n.location,
    status: view.status,
    failure: n.failure,
    sentAt: view.sentAt,
    payLink: link
      ? { id: link.id, status: link.status, clicks: link.clicks, paidPence: view.paidPence, paidAt: view.paidAt, followUp: { status: view.followUp.status, dueAt: view.followUp.dueAt } }
      : null,
  };
}

const HELD_STATUS: Record<NoticeStatus, string> = {
  waiting: 'not sent yet',
  failed: 'not sent',
  paid: 'paid',
  clicked: 'pay link followed, not paid',
  outstanding: 'not paid',
};

/** The export's plain-English lines: how many notices, then one line each. */
function heldSummary(notices: ReturnType<typeof heldNotice>[]): string[] {
  if (!notices.length) return ['Parking fines (penalty charge notices) sent to their mobile or email: none.'];
  return [
    `Parking fines (penalty charge notices) sent to their mobile or email: ${notices.length}.`,
    ...notices.map((n) => {
      const issued = formatDate('en', new Date(`${n.issuedOn}T12:00:00Z`));
      const sent = n.sentAt ? `, sent by ${n.sentBy} on ${formatDate('en', new Date(n.sentAt))}` : '';
      const paid = n.status === 'paid' && n.payLink?.paidPence != null ? ` (${formatMoney('en', n.payLink.paidPence)})` : '';
      return `- ${n.pcn}${n.vehicle ? ` for vehicle ${n.vehicle}` : ''}, issued on ${issued} at ${n.location} (${n.contravention}): ${formatMoney('en', n.amountPence)}${sent}; ${HELD_STATUS[n.status]}${paid}.`;
    }),
  ];
}
