import { createHmac, randomBytes } from 'node:crypto';
import type { Actor } from '../../platform/auth/actor.js';
import { systemActor } from '../../platform/auth/actor.js';
import { safeEqual, seal, unseal } from '../../platform/auth/secrets.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db, Executor } from '../../platform/db/database.js';
import type { AppError, FieldError } from '../../platform/errors.js';
import { escapeHtml } from './render/text.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../services.js';
import { messagingErrors } from './messaging.errors.js';
import type { MessageServicesTable, NotificationsTable, TemplateRow } from './messaging.repository.js';
import { isUuid } from '../../platform/ids.js';
import { type MessagingService, notificationRow, OPTED_OUT_MESSAGE, type Origin } from './messaging.service.js';
import type { KeyType } from './notify.auth.js';
import { notifyTime } from './notify.mapping.js';
import { checkRecipientFormat, type NotifySending, teamMembers } from './notify.service.js';
import { paymentErrors } from './payments.errors.js';
import {
  CREATING,
  OPEN_PAYMENT_STATUSES,
  type PayAccountsTable,
  type PayLinksTable,
  type PayPaymentsTable,
  PaymentsRepository,
  type PayRemindersTable,
  type ShortLinksTable,
} from './payments.repository.js';
import { variant } from './rendering.js';
import { missingPersonalisationMessage, placeholderKey, placeholders } from './render/index.js';

/** The job that asks GOV.UK Pay about payments whose webhook has not come. */
export const PAY_RECONCILE_JOB = 'messaging.pay_reconcile';
/** The placeholder a pay link's template carries; Weft fills it with the short link. */
export const PAY_LINK_PLACEHOLDER = 'pay_link';
export const MAX_AMOUNT_PENCE = 10_000_000;
export const MAX_REMINDERS = 5;
export const MAX_AFTER_DAYS = 90;
/** Short links stay usable this long after the last message that carries them. */
export const LINK_DAYS = 90;
/** GOV.UK Pay ends a payment 90 minutes after it was made. */
export const PAYMENT_LIFETIME_MS = 90 * 60_000;
/**
 * At most this many GOV.UK Pay payments are made for one pay link in a day (Europe/London), the
 * one made with the message included, so a crawler or a resident refreshing cannot make hundreds.
 */
export const PAYMENTS_PER_LINK_PER_DAY = 10;
/** And no new one within this time of the last, unless Pay has said that one is over. */
export const PAYMENT_INTERVAL_MS = 60_000;
/** An unused payment is given to a resident only with this much of its life left to pay in. */
const PAYMENT_FRESH_MS = 75 * 60_000;
/** Reconciliation asks again about a payment no sooner than this. */
const RECHECK_MS = 60_000;
const CODE_LENGTH = 12;
const CODE_PATTERN = /^[0-9A-Za-z]{10,32}$/;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const API_KEY_PURPOSE = 'weft gov.uk pay api key';
const WEBHOOK_PURPOSE = 'weft gov.uk pay webhook secret';
const PAY_TIMEOUT_MS = 10_000;
const DAY_MS = 86_400_000;
/** Pay's statuses, and which of them end a payment. */
const PAY_STATUSES = new Set([...OPEN_PAYMENT_STATUSES, 'success', 'failed', 'cancelled', 'error']);
/** Webhook events that mean the money was taken. */
const PAID_EVENTS = new Set(['card_payment_succeeded', 'card_payment_captured']);

const londonDate = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'long' });
const londonDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });
const londonHour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: 'numeric', hourCycle: 'h23' });
const pounds = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' });

/** £70.00 */
export function formatPence(pence: number): string {
  return pounds.format(pence / 100);
}

/** Midnight in Europe/London at the start of the day `at` falls on. */
export function londonDayStart(at: Date): Date {
  const [y, m, d] = londonDay.format(at).split('-').map(Number);
  const utcMidnight = Date.UTC(y, m - 1, d);
  // The clocks change at 01:00 UTC, so London's offset at UTC midnight is its offset at its own midnight.
  return new Date(utcMidnight - Number(londonHour.format(utcMidnight)) * 3_600_000);
}

/** A short link code: 12 base62 characters (about 71 bits), drawn without bias. */
export function newCode(length = CODE_LENGTH): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: bytes above it would favour the first characters.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** The hex HMAC-SHA256 of a webhook body under its signing secret, as GOV.UK Pay signs (Pay-Signature). */
export function paySignature(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

// ---------------------------------------------------------------- GOV.UK Pay's API

/** A payment as GOV.UK Pay's API returns it (the fields Weft reads). */
export interface PayPayment {
  payment_id: string;
  amount: number;
  total_amount?: number;
  reference: string;
  description?: string;
  created_date?: string;
  state: { status: string; finished: boolean; message?: string; code?: string };
  _links?: { next_url?: { href: string } | null };
}

export interface CreatePayment {
  amount: number;
  reference: string;
  description: string;
  return_url: string;
  language: 'en' | 'cy';
}

/**
 * GOV.UK Pay's public API, as much of it as pay links need: create a payment and look one up.
 * Pay's refusals become Weft's codes: a bad key PAY_ACCOUNT_REFUSED, a 422 PAY_PAYMENT_REFUSED
 * (with Pay's description), anything else (timeouts, 5xx) PAY_UNAVAILABLE.
 */
export class GovUkPay {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async create(body: CreatePayment): Promise<PayPayment & { nextUrl: string }> {
    const res = await this.call('POST', '/v1/payments', body);
    if (res.status === 201 || res.status === 200) {
      const p = res.body as PayPayment;
      const nextUrl = p?._links?.next_url?.href;
      if (!p?.payment_id || !nextUrl) throw paymentErrors.PAY_UNAVAILABLE('GOV.UK Pay answered without a payment or an address to pay at. Nothing was sent: try again in a few minutes.');
      return { ...p, nextUrl };
    }
    if (res.status === 400 || res.status === 422) {
      const problems = [res.body].flat().filter((e): e is { field?: string; description?: string } => !!e && typeof e === 'object');
      const fields: FieldError[] = problems.map((e) => ({ field: `payment.${e.field ?? ''}`.replace(/\.$/, ''), message: String(e.description ?? 'Not valid') }));
      const said = fields.map((f) => f.message).join(' ');
      throw paymentErrors.PAY_PAYMENT_REFUSED(`GOV.UK Pay refused the payment: ${said || `it answered ${res.status}`}. Nothing was sent.`, fields);
    }
    throw this.failure(res.status);
  }

  /** A payment by Pay's id; undefined when Pay does not know it (another account's payment). */
  async get(paymentId: string): Promise<PayPayment | undefined> {
    const res = await this.call('GET', `/v1/payments/${encodeURIComponent(paymentId)}`);
    if (res.status === 200) return res.body as PayPayment;
    if (res.status === 404) return undefined;
    throw this.failure(res.status);
  }

  private failure(status: number) {
    if (status === 401 || status === 403) return paymentErrors.PAY_ACCOUNT_REFUSED();
    return paymentErrors.PAY_UNAVAILABLE(`GOV.UK Pay answered ${status}. Nothing was changed: try again in a few minutes.`);
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.apiKey}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(PAY_TIMEOUT_MS),
        redirect: 'manual',
      });
    } catch {
      throw paymentErrors.PAY_UNAVAILABLE();
    }
    const text = await res.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed };
  }
}

// ---------------------------------------------------------------- tracked links

const URL_IN_TEXT = /https?:\/\/[^\s<>"'()[\]{}]+/g;

/**
 * Replaces each web address in `text` with what `shorten` gives for it (undefined: left as it
 * is). Punctuation ending a sentence is not part of an address; an address that runs into a
 * placeholder (`https://…/pay?ref=((ref))`) is built per recipient and left alone.
 */
export function replaceUrls(text: string, shorten: (url: string) => string | undefined): string {
  return text.replace(URL_IN_TEXT, (match: string, offset: number, whole: string) => {
    if (whole.startsWith('((', offset + match.length)) return match;
    const tail = /[.,;:!?]+$/.exec(match)?.[0] ?? '';
    const url = tail ? match.slice(0, -tail.length) : match;
    const short = shorten(url);
    return short ? short + tail : match;
  });
}

// ---------------------------------------------------------------- the service

export interface PayAccountInput {
  /** GOV.UK Pay's API address: https://publicapi.payments.service.gov.uk */
  baseUrl: string;
  apiKey: string;
  /** the signing secret of the service's Pay webhook; left out: the one set before is kept */
  webhookSigningSecret?: string | null;
}

export interface PayAccountView {
  serviceId: string;
  configured: boolean;
  baseUrl: string | null;
  hasWebhookSecret: boolean;
  /** the callback URL to give GOV.UK Pay for this service's webhook */
  webhookUrl: string;
  updatedAt: Date | null;
}

export interface PaySendRequest {
  channel: 'email' | 'sms';
  templateId: string;
  to: string;
  personalisation: Record<string, unknown>;
  reference: string | null;
  language: 'en' | 'cy';
  payment: { amountPence: number; reference: string; description: string; returnUrl?: string };
  /** later messages asking again, cancelled when the link is paid */
  reminders: { templateId: string; afterDays: number }[];
  /** every other web address in the messages becomes a tracked short link too */
  trackLinks: boolean;
}

export interface PaySent {
  row: NotificationsTable;
  service: MessageServicesTable;
  payLink: PayLinksTable;
  url: string;
  paymentId: string;
  reminders: NotificationsTable[];
}

/**
 * What following a short link comes to: somewhere to go, or a page to show; 'too-many' when the
 * link has made as many payments as it may for now (`limit`), with the refusal to answer.
 */
export type Followed =
  | { redirect: string }
  | { page: 'paid' | 'processing' | 'not-taken'; payLink: PayLinksTable }
  | { page: 'too-many'; payLink: PayLinksTable; limit: 'day' | 'minute'; refusal: AppError };

export interface PayLinkView {
  id: string;
  status: string;
  url: string;
  amount_pence: number;
  reference: string;
  description: string;
  language: string;
  notification_id: string;
  created_at: string | null;
  paid_at: string | null;
  paid_amount_pence: number | null;
  clicks: number;
  reminders: { id: string; template_id: string; after_days: number; status: string; status_reason: string | null; scheduled_for: string | null }[];
}

export interface PaySummary {
  since: string;
  services: {
    serviceId: string;
    serviceName: string;
    /** pay links sent */
    sent: number;
    /** links followed at least once */
    clicked: number;
    paid: number;
    /** paid ÷ sent, 0 to 1 */
    conversion: number;
    clicks: number;
    paidPence: number;
    /** days from sending to paying, of the links paid */
    medianDaysToPay: number | null;
    meanDaysToPay: number | null;
  }[];
}

/**
 * Pay links: a message (email or text) carrying a tracked short link to pay an amount through
 * the messaging service's GOV.UK Pay account, with reminders that stop when it is paid. The
 * short link, not Pay's address, goes in the message: Pay's address works once and for 90
 * minutes, so following the link gives the resident the payment made with the message while it
 * is fresh, or makes a new one. Payment is learned from Pay's signed webhook, from the page Pay
 * returns the resident to, and from a job that asks Pay about payments in progress (webhooks get
 * lost). Any other address in a message may be tracked the same way. See README-payments.md.
 */
export class Payments {
  readonly repo: PaymentsRepository;
  private readonly base: string;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly messaging: MessagingService,
    /** The Notify API's daily limits: a pay link and its reminders count there too. */
    private readonly limits: Pick<NotifySending, 'checkDailyLimit' | 'countSent'>,
    private readonly secret: string,
    publicUrl: string,
    private readonly log: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.repo = new PaymentsRepository(db);
    this.base = publicUrl.replace(/\/+$/, '');
  }

  /** The address of a short link. */
  /**
   * An email's HTML is rendered again at delivery from the template, whose own addresses were
   * tracked in the stored text only: the same short links go into the HTML here.
   */
  async trackHtml(notificationId: string, html: string): Promise<string> {
    let out = html;
    for (const link of await this.repo.trackedLinksOf(notificationId)) {
      const target = link.target_url as string;
      const short = this.linkUrl(link.code);
      out = out.split(escapeHtml(target)).join(escapeHtml(short)).split(target).join(short);
    }
    return out;
  }

  linkUrl(code: string): string {
    return `${this.base}/l/${code}`;
  }

  // ---------------------------------------------------------------- the Pay account of a messaging service

  async setAccount(actor: Actor, serviceId: string, input: PayAccountInput, origin: Origin = {}): Promise<PayAccountView> {
    const service = await this.messaging.getService(serviceId);
    const fields: FieldError[] = [];
    if (!isPayUrl(input.baseUrl)) fields.push({ field: 'baseUrl', message: 'Enter GOV.UK Pay’s API address, starting https:// (https://publicapi.payments.service.gov.uk)' });
    if (!input.apiKey || input.apiKey.trim().length < 10) fields.push({ field: 'apiKey', message: 'Enter the API key made for this service in GOV.UK Pay’s admin tool' });
    if (input.webhookSigningSecret && input.webhookSigningSecret.trim().length < 10)
      fields.push({ field: 'webhookSigningSecret', message: 'Enter the webhook’s signing secret from GOV.UK Pay’s admin tool, or leave it out' });
    if (fields.length) throw paymentErrors.PAY_ACCOUNT_INVALID(undefined, fields);
    const before = await this.repo.findAccount(service.id);
    const now = new Date();
    const webhook =
      input.webhookSigningSecret === undefined ? (before?.webhook_secret_sealed ?? null) : input.webhookSigningSecret ? seal(this.secret, WEBHOOK_PURPOSE, input.webhookSigningSecret.trim()) : null;
    const row: PayAccountsTable = {
      service_id: service.id,
      base_url: input.baseUrl.replace(/\/+$/, ''),
      api_key_sealed: seal(this.secret, API_KEY_PURPOSE, input.apiKey.trim()),
      webhook_secret_sealed: webhook,
      created_at: before?.created_at ?? now,
      updated_at: now,
    };
    await this.db.transaction(async (trx) => {
      await this.repo.upsertAccount(row, trx);
      await this.audit.record(
        { actor, action: 'messaging.pay_account_set', summary: `Set the GOV.UK Pay account of ${service.name}`, targetType: 'message_service', targetId: service.id, ...origin },
        trx,
      );
    });
    return this.getAccount(service.id);
  }

  async getAccount(serviceId: string): Promise<PayAccountView> {
    const service = await this.messaging.getService(serviceId);
    const row = await this.repo.findAccount(service.id);
    return {
      serviceId: service.id,
      configured: !!row,
      baseUrl: row?.base_url ?? null,
      hasWebhookSecret: !!row?.webhook_secret_sealed,
      webhookUrl: `${this.base}/api/v1/messaging/services/${service.id}/pay/webhook`,
      updatedAt: row?.updated_at ?? null,
    };
  }

  async removeAccount(actor: Actor, serviceId: string, origin: Origin = {}): Promise<void> {
    const service = await this.messaging.getService(serviceId);
    await this.db.transaction(async (trx) => {
      if (!(await this.repo.deleteAccount(service.id, trx))) throw paymentErrors.PAY_ACCOUNT_MISSING();
      await this.audit.record(
        { actor, action: 'messaging.pay_account_remove', summary: `Removed the GOV.UK Pay account of ${service.name}`, targetType: 'message_service', targetId: service.id, ...origin },
        trx,
      );
    });
  }

  private client(account: PayAccountsTable): GovUkPay {
    return new GovUkPay(account.base_url, unseal(this.secret, API_KEY_PURPOSE, account.api_key_sealed), this.fetchImpl);
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends a message with a pay link, and its reminders. Every check is made before anything
   * leaves Weft (in Notify's order and words where Notify has the check); then GOV.UK Pay makes
   * the payment; then the pay link, its short links, the message and the reminders are stored
   * in one transaction. If Pay refuses, nothing is stored or sent.
   */
  async send(actor: Actor, req: PaySendRequest): Promise<PaySent> {
    const auth = await this.messaging.serviceForAuth(actor.serviceId as string);
    if (!auth) throw messagingErrors.NOTIFY_AUTH_INVALID('Invalid token: service not found');
    const service = auth.row;
    const keyType = actor.keyType as KeyType;
    const account = await this.repo.findAccount(service.id);
    if (!account) throw paymentErrors.PAY_ACCOUNT_MISSING();
    // A test key sends nothing, but a payment made at GOV.UK Pay would be real.
    if (keyType === 'test') throw messagingErrors.NOTIFY_BAD_REQUEST('A test key cannot send a pay link: it would make a real payment. Use a live key with a GOV.UK Pay test account.');
    if (Object.keys(req.personalisation).some((k) => placeholderKey(k) === placeholderKey(PAY_LINK_PLACEHOLDER)))
      throw paymentErrors.PAY_LINK_INVALID('Leave pay_link out of the personalisation: Weft fills it in with the link to pay.', [
        { field: 'personalisation.pay_link', message: 'Leave pay_link out of the personalisation: Weft fills it in with the link to pay' },
      ]);
    const checked = checkRecipientFormat(req.channel, req.to);
    const first = await this.template(service, req, req.templateId, 'template_id');
    const later: TemplateRow[] = [];
    for (const [i, r] of req.reminders.entries()) later.push(await this.template(service, req, r.templateId, `reminders[${i}].template_id`));
    if (!checked.ok) throw messagingErrors.NOTIFY_INVALID_PHONE(checked.message);
    const normalised = checked.normalised;
    if (keyType === 'team' && !teamMembers(service).has(normalised)) throw messagingErrors.NOTIFY_BAD_REQUEST('Can’t send to this recipient using a team-only API key');
    if (req.channel === 'sms' && (await this.messaging.isOptedOut(normalised))) throw messagingErrors.NOTIFY_BAD_REQUEST(OPTED_OUT_MESSAGE);
    await this.limits.checkDailyLimit(service, req.channel, 1 + later.length);

    const now = new Date();
    const payLinkId = newId(now.getTime());
    const code = newCode();
    const url = this.linkUrl(code);
    const lastDay = Math.max(0, ...req.reminders.map((r) => r.afterDays));
    const expires = new Date(now.getTime() + (lastDay + LINK_DAYS) * DAY_MS);
    const links: ShortLinksTable[] = [{ code, service_id: service.id, notification_id: null, pay_link_id: payLinkId, target_url: null, expires_at: expires, created_at: now }];
    const made: NotificationsTable[] = [];
    const messages = [{ template: first, after: 0 }, ...later.map((template, i) => ({ template, after: req.reminders[i].afterDays }))];
    for (const m of messages) {
      const id = newId(now.getTime());
      const tracked = req.trackLinks ? this.tracker(service.id, id, expires, links) : undefined;
      const personalisation = { ...(tracked ? trackValues(req.personalisation, tracked) : req.personalisation), [PAY_LINK_PLACEHOLDER]: url };
      const rendered = this.messaging.render(tracked ? trackTemplate(m.template, tracked) : m.template, personalisation, req.language, { name: service.name });
      if (rendered.missing.length) throw messagingErrors.NOTIFY_BAD_REQUEST(missingPersonalisationMessage(rendered.missing));
      if (rendered.problem) throw messagingErrors.NOTIFY_BAD_REQUEST(rendered.problem);
      const row = notificationRow(
        {
          serviceId: service.id,
          keyId: actor.id,
          keyType,
          template: m.template,
          recipient: req.to.trim(),
          normalisedTo: normalised,
          personalisation,
          rendered,
          reference: req.reference,
          language: req.language,
          scheduledFor: m.after ? new Date(now.getTime() + m.after * DAY_MS) : null,
        },
        now,
      );
      made.push({ ...row, id });
    }
    links[0].notification_id = made[0].id;

    // Only now, with everything checked, does anything leave Weft.
    const payment = await this.client(account).create(
      this.paymentRequest({
        code,
        amount_pence: req.payment.amountPence,
        reference: req.payment.reference,
        description: req.payment.description,
        return_url: req.payment.returnUrl ?? null,
        language: req.language,
      }),
    );
    const payLink: PayLinksTable = {
      id: payLinkId,
      service_id: service.id,
      code,
      notification_id: made[0].id,
      amount_pence: req.payment.amountPence,
      reference: req.payment.reference,
      description: req.payment.description,
      language: req.language,
      return_url: req.payment.returnUrl ?? null,
      status: 'unpaid',
      paid_amount_pence: null,
      paid_payment_id: null,
      paid_at: null,
      created_at: now,
      updated_at: now,
    };
    const reminders: PayRemindersTable[] = made.slice(1).map((n, i) => ({ notification_id: n.id, pay_link_id: payLinkId, after_days: req.reminders[i].afterDays }));
    await this.db.transaction(async (trx) => {
      await this.repo.insertLinks(
        {
          links,
          payLink,
          payment: {
            payment_id: payment.payment_id,
            pay_link_id: payLinkId,
            status: payment.state?.status ?? 'created',
            next_url: payment.nextUrl,
            created_at: now,
            updated_at: now,
            checked_at: null,
          },
          reminders,
        },
        trx,
      );
      await this.messaging.repo.insertNotifications(made, trx);
    });
    this.messaging.onQueued();
    this.limits.countSent(service, req.channel, made.length);
    return { row: made[0], service, payLink, url, paymentId: payment.payment_id, reminders: made.slice(1) };
  }

  /** A template for the message or a reminder: the service's, of the channel, with ((pay_link)) in the language sent. */
  private async template(service: MessageServicesTable, req: PaySendRequest, id: string, field: string): Promise<TemplateRow> {
    const template = await this.messaging.currentTemplate(id);
    const which = field === 'template_id' ? 'Template' : 'Reminder template';
    if (!template || template.service_id !== service.id) throw messagingErrors.NOTIFY_BAD_REQUEST(`${which} not found`);
    if (template.type !== req.channel) throw messagingErrors.NOTIFY_BAD_REQUEST(`${template.type} template is not suitable for ${req.channel} notification`);
    if (template.is_archived) throw messagingErrors.NOTIFY_BAD_REQUEST(`${which} has been deleted`);
    const v = variant(template, req.language);
    if (!placeholders([v.subject ?? '', v.body]).some((p) => placeholderKey(p) === placeholderKey(PAY_LINK_PLACEHOLDER)))
      throw paymentErrors.PAY_LINK_INVALID(`${which} ${template.name} has no ((pay_link)) placeholder, so the message would not say where to pay. Add ((pay_link)) to it.`, [
        { field, message: `${which} ${template.name} has no ((pay_link)) placeholder` },
      ]);
    return template;
  }

  /** Gives each distinct address in one message its own short link, added to `links`. */
  private tracker(serviceId: string, notificationId: string, expires: Date, links: ShortLinksTable[]): (url: string) => string | undefined {
    const codes = new Map<string, string>();
    return (url) => {
      if (url.startsWith(`${this.base}/l/`) || !isWebAddress(url)) return undefined;
      let code = codes.get(url);
      if (!code) {
        code = newCode();
        codes.set(url, code);
        links.push({ code, service_id: serviceId, notification_id: notificationId, pay_link_id: null, target_url: url, expires_at: expires, created_at: new Date() });
      }
      return this.linkUrl(code);
    };
  }

  private paymentRequest(p: { code: string; amount_pence: number; reference: string; description: string; return_url: string | null; language: string }): CreatePayment {
    return {
      amount: p.amount_pence,
      reference: p.reference,
      description: p.description,
      return_url: p.return_url ?? `${this.linkUrl(p.code)}/return`,
      language: p.language === 'cy' ? 'cy' : 'en',
    };
  }

  // ---------------------------------------------------------------- following a short link

  /**
   * A resident follows a short link: the click is counted (a count a day, nothing about them),
   * then a tracked address is gone to, and a pay link leads to GOV.UK Pay: the payment made with
   * the message while it is fresh and unused, else a new one (within the link's limits:
   * PAYMENTS_PER_LINK_PER_DAY, and one per PAYMENT_INTERVAL_MS). A paid link, or one whose
   * payment is being processed, shows a page instead of asking for the money again.
   */
  async follow(code: string): Promise<Followed> {
    const link = await this.shortLink(code);
    await this.repo.countClick(link.code, new Date().toISOString().slice(0, 10));
    if (link.target_url) return { redirect: link.target_url };
    const payLink = link.pay_link_id ? await this.repo.findPayLink(link.pay_link_id) : undefined;
    if (!payLink) throw paymentErrors.SHORT_LINK_NOT_FOUND();
    if (payLink.status === 'paid') return { page: 'paid', payLink };
    const account = await this.repo.findAccount(payLink.service_id);
    if (!account) throw paymentErrors.PAY_UNAVAILABLE('Paying online is not available at the moment. Try again later, or contact the council.');
    const client = this.client(account);
    const now = Date.now();
    const latest = await this.repo.latestPayment(payLink.id);
    if (latest?.next_url && latest.status === 'created' && now - latest.created_at.getTime() < PAYMENT_FRESH_MS) {
      if (await this.repo.takeNextUrl(latest.payment_id, latest.next_url, new Date())) return { redirect: latest.next_url };
    } else if (latest && !latest.next_url && isOpen(latest.status) && now - latest.created_at.getTime() < PAYMENT_LIFETIME_MS) {
      // The resident was sent to this one before: Pay says whether it is under way.
      const state = await this.check(client, latest, payLink);
      if (state === 'success') return { page: 'paid', payLink: (await this.repo.findPayLink(payLink.id)) as PayLinksTable };
      if (state === 'submitted' || state === 'capturable') return { page: 'processing', payLink };
    }
    return this.newPayment(client, payLink);
  }

  /**
   * A new Pay payment for the link, if its limits allow (counted in the database, so they hold
   * across processes): its place is held before Pay is asked, and given back if Pay makes none.
   */
  private async newPayment(client: GovUkPay, payLink: PayLinksTable): Promise<Followed> {
    const at = new Date();
    const place = `${CREATING}:${newId()}`;
    const limit = await this.repo.holdPaymentPlace(payLink.id, place, at, {
      perDay: PAYMENTS_PER_LINK_PER_DAY,
      dayStart: londonDayStart(at),
      notSince: new Date(at.getTime() - PAYMENT_INTERVAL_MS),
    });
    if (limit) return { page: 'too-many', payLink, limit, refusal: tooManyPayments(limit, at) };
    let created: Awaited<ReturnType<GovUkPay['create']>>;
    try {
      created = await client.create(this.paymentRequest(payLink));
    } catch (err) {
      await this.repo.releasePaymentPlace(place);
      throw err;
    }
    await this.repo.fillPaymentPlace(place, created.payment_id, created.state?.status ?? 'created', new Date());
    return { redirect: created.nextUrl };
  }

  /** The page GOV.UK Pay sends the resident back to: what became of their payment, asked of Pay. */
  async returned(code: string): Promise<Followed> {
    const link = await this.shortLink(code);
    const payLink = link.pay_link_id ? await this.repo.findPayLink(link.pay_link_id) : undefined;
    if (!payLink) throw paymentErrors.SHORT_LINK_NOT_FOUND();
    if (payLink.status === 'paid') return { page: 'paid', payLink };
    const latest = await this.repo.latestPayment(payLink.id);
    const account = await this.repo.findAccount(payLink.service_id);
    if (latest && !latest.next_url && account) {
      const state = await this.check(this.client(account), latest, payLink);
      if (state === 'success') return { page: 'paid', payLink: (await this.repo.findPayLink(payLink.id)) as PayLinksTable };
      if (state === 'submitted' || state === 'capturable') return { page: 'processing', payLink };
    }
    return { page: 'not-taken', payLink };
  }

  private async shortLink(code: string): Promise<ShortLinksTable> {
    const link = CODE_PATTERN.test(code) ? await this.repo.findShortLink(code) : undefined;
    if (!link || link.expires_at.getTime() <= Date.now()) throw paymentErrors.SHORT_LINK_NOT_FOUND();
    return link;
  }

  /** Asks Pay for a payment's state and records it; a success marks the link paid. Returns Pay's status. */
  private async check(client: GovUkPay, payment: PayPaymentsTable, payLink: PayLinksTable): Promise<string | undefined> {
    const now = new Date();
    const p = await client.get(payment.payment_id);
    const status = p?.state?.status;
    if (!p || !status || !PAY_STATUSES.has(status)) {
      await this.repo.recordPaymentStatus(payment.payment_id, payment.status, now);
      return undefined;
    }
    if (status === 'success') await this.markPaid(payLink, payment.payment_id, p.total_amount ?? p.amount, now, 'a check with GOV.UK Pay');
    else await this.repo.recordPaymentStatus(payment.payment_id, status, now);
    return status;
  }

  /** The reminders still waiting on these pay links are cancelled (their recipient was erased, say), in the caller's transaction. */
  cancelReminders(payLinkIds: string[], reason: string, trx: Executor): Promise<number> {
    return this.repo.cancelReminders(payLinkIds, reason, new Date(), trx);
  }

  /**
   * The link is paid: recorded once, with the payment and amount, and every reminder still
   * waiting is cancelled ("Paid on 5 December 2026"), in one transaction with its audit row.
   */
  private async markPaid(payLink: PayLinksTable, paymentId: string, amountPence: number, paidAt: Date, how: string): Promise<boolean> {
    const now = new Date();
    const result = await this.db.transaction(async (trx) => {
      await this.repo.recordPaymentStatus(paymentId, 'success', now, trx);
      const r = await this.repo.markPaid({ payLinkId: payLink.id, paymentId, amountPence, paidAt, reason: `Paid on ${londonDate.format(paidAt)}`, now }, trx);
      if (r.changed) {
        const n = r.cancelled.length;
        await this.audit.record(
          {
            actor: systemActor('GOV.UK Pay'),
            action: 'messaging.pay_link_paid',
            summary: `A pay link for ${formatPence(amountPence)} was paid (learned from ${how}); ${n} ${n === 1 ? 'reminder' : 'reminders'} cancelled`,
            targetType: 'pay_link',
            targetId: payLink.id,
          },
          trx,
        );
      }
      return r;
    });
    if (result.changed) this.log.info({ payLink: payLink.id, payment: paymentId, cancelled: result.cancelled.length }, 'pay link paid');
    return result.changed;
  }

  // ---------------------------------------------------------------- GOV.UK Pay's webhook

  /**
   * A webhook message from GOV.UK Pay for a messaging service, signed with its signing secret
   * (Pay-Signature: hex HMAC-SHA256 of the body). The signature is checked before anything is
   * read. A payment Weft did not make (the account may take other payments) is acknowledged and
   * ignored, so Pay does not send it again.
   */
  async webhook(serviceId: string, rawBody: string, signature: string | undefined, body: unknown): Promise<{ outcome: 'paid' | 'recorded' | 'ignored' }> {
    const account = isUuid(serviceId) ? await this.repo.findAccount(serviceId.toLowerCase()) : undefined;
    if (!account?.webhook_secret_sealed)
      throw paymentErrors.PAY_WEBHOOK_SIGNATURE_INVALID('There is no GOV.UK Pay webhook signing secret in Weft for this address: set it on the messaging service’s Pay account.');
    const secret = unseal(this.secret, WEBHOOK_PURPOSE, account.webhook_secret_sealed);
    if (!signature || !safeEqual(signature.trim().toLowerCase(), paySignature(secret, rawBody))) throw paymentErrors.PAY_WEBHOOK_SIGNATURE_INVALID();
    const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    const resource = (b.resource && typeof b.resource === 'object' ? b.resource : undefined) as Partial<PayPayment> | undefined;
    const fields: FieldError[] = [];
    if (typeof b.resource_id !== 'string' || !b.resource_id) fields.push({ field: 'resource_id', message: 'resource_id is the payment’s id' });
    if (typeof b.event_type !== 'string' || !b.event_type) fields.push({ field: 'event_type', message: 'event_type is required, such as card_payment_succeeded' });
    if (typeof b.resource_type !== 'string') fields.push({ field: 'resource_type', message: 'resource_type is required, such as payment' });
    if (b.resource_type === 'payment' && typeof resource?.state?.status !== 'string') fields.push({ field: 'resource.state.status', message: 'resource is the payment, with its state' });
    if (fields.length) throw paymentErrors.PAY_WEBHOOK_INVALID(undefined, fields);
    if (b.resource_type !== 'payment') return { outcome: 'ignored' };
    const payment = await this.repo.findPayment(b.resource_id as string);
    if (!payment || payment.service_id !== account.service_id) return { outcome: 'ignored' };
    const status = (resource as PayPayment).state.status;
    // A refund's message also shows the payment as success: a refund is no news that it was paid.
    if (PAID_EVENTS.has(b.event_type as string) || (status === 'success' && b.event_type !== 'card_payment_refunded')) {
      const payLink = (await this.repo.findPayLink(payment.pay_link_id)) as PayLinksTable;
      const at = typeof b.created_date === 'string' && !Number.isNaN(Date.parse(b.created_date)) ? new Date(b.created_date) : new Date();
      const amount = Number(resource?.total_amount ?? resource?.amount ?? payLink.amount_pence);
      await this.markPaid(payLink, payment.payment_id, amount, at, `GOV.UK Pay’s ${b.event_type} webhook`);
      return { outcome: 'paid' };
    }
    if (PAY_STATUSES.has(status)) await this.repo.recordPaymentStatus(payment.payment_id, status, new Date());
    return { outcome: 'recorded' };
  }

  // ---------------------------------------------------------------- reconciliation

  /**
   * The job behind lost webhooks: asks GOV.UK Pay about each payment a resident was sent to
   * that may still succeed (made in Pay's last 90 minutes and a little more, not asked about in
   * the last minute). Returns how many links it found paid.
   */
  async reconcile(limit = 200): Promise<number> {
    const now = Date.now();
    const due = await this.repo.paymentsToCheck(new Date(now - PAYMENT_LIFETIME_MS - 30 * 60_000), new Date(now - RECHECK_MS), limit);
    const clients = new Map<string, GovUkPay | undefined>();
    let paid = 0;
    for (const p of due) {
      if (!clients.has(p.service_id)) {
        const account = await this.repo.findAccount(p.service_id);
        clients.set(p.service_id, account && this.client(account));
      }
      const client = clients.get(p.service_id);
      const payLink = await this.repo.findPayLink(p.pay_link_id);
      if (!client || !payLink || payLink.status !== 'unpaid') continue;
      try {
        if ((await this.check(client, p, payLink)) === 'success') paid++;
      } catch (err) {
        this.log.warn({ payment: p.payment_id, err: (err as Error).message }, 'could not ask GOV.UK Pay about a payment');
      }
    }
    return paid;
  }

  // ---------------------------------------------------------------- reads

  async payLink(serviceId: string, id: string): Promise<PayLinkView> {
    const row = isUuid(id) ? await this.repo.findPayLink(id.toLowerCase()) : undefined;
    if (!row || row.service_id !== serviceId) throw paymentErrors.PAY_LINK_NOT_FOUND();
    return (await this.payLinkViews([row]))[0];
  }

  /** Many of a service's pay links at once (three queries, whatever the number): unknown ids are left out. */
  async payLinks(serviceId: string, ids: string[]): Promise<Map<string, PayLinkView>> {
    const rows = (await this.repo.findPayLinks(ids.filter(isUuid).map((i) => i.toLowerCase()))).filter((r) => r.service_id === serviceId);
    return new Map((await this.payLinkViews(rows)).map((v) => [v.id, v]));
  }

  private async payLinkViews(rows: PayLinksTable[]): Promise<PayLinkView[]> {
    const [clicks, reminders] = await Promise.all([this.repo.clicksOfMany(rows.map((r) => r.code)), this.repo.remindersOfMany(rows.map((r) => r.id))]);
    return rows.map((row) => ({
      id: row.id,
      status: row.status,
      url: this.linkUrl(row.code),
      amount_pence: row.amount_pence,
      reference: row.reference,
      description: row.description,
      language: row.language,
      notification_id: row.notification_id,
      created_at: notifyTime(row.created_at),
      paid_at: notifyTime(row.paid_at),
      paid_amount_pence: row.paid_amount_pence,
      clicks: clicks.get(row.code) ?? 0,
      reminders: reminders
        .filter((r) => r.pay_link_id === row.id)
        .map((r) => ({ id: r.id, template_id: r.template_id, after_days: r.after_days, status: r.status, status_reason: r.status_reason, scheduled_for: notifyTime(r.scheduled_for_at) })),
    }));
  }

  /** Pay-link conversions per service for the insight module: sent, clicked, paid, and days to pay. */
  async summary(since: Date, serviceId?: string): Promise<PaySummary> {
    const id = serviceId && isUuid(serviceId) ? serviceId.toLowerCase() : undefined;
    if (serviceId && !id) throw messagingErrors.MESSAGE_SERVICE_NOT_FOUND();
    const rows = await this.repo.summary(since, id);
    const times = await this.repo.paidTimes(since, id);
    const names = new Map((await this.messaging.listServices()).map((s) => [s.id, s.name]));
    return {
      since: since.toISOString(),
      services: rows
        .map((r) => {
          const days = times
            .filter((t) => t.service_id === r.service_id && t.paid_at)
            .map((t) => ((t.paid_at as Date).getTime() - t.created_at.getTime()) / DAY_MS)
            .sort((a, b) => a - b);
          return {
            serviceId: r.service_id,
            serviceName: names.get(r.service_id) ?? '',
            sent: r.sent,
            clicked: r.clicked,
            paid: r.paid,
            conversion: r.sent ? round(r.paid / r.sent, 4) : 0,
            clicks: r.clicks,
            paidPence: r.paid_pence,
            medianDaysToPay: days.length ? round(median(days), 2) : null,
            meanDaysToPay: days.length ? round(days.reduce((a, b) => a + b, 0) / days.length, 2) : null,
          };
        })
        .sort((a, b) => a.serviceName.localeCompare(b.serviceName)),
    };
  }
}

function isOpen(status: string): boolean {
  return (OPEN_PAYMENT_STATUSES as readonly string[]).includes(status);
}

function isPayUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname));
  } catch {
    return false;
  }
}

function isWebAddress(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'https:' || u.protocol === 'http:') && !!u.hostname;
  } catch {
    return false;
  }
}

/** The refusal of a payment over a link's limits, with when to try again (Retry-After). */
function tooManyPayments(limit: 'day' | 'minute', at: Date): AppError {
  const retryAt = limit === 'day' ? londonDayStart(new Date(londonDayStart(at).getTime() + 26 * 3_600_000)).getTime() : at.getTime() + PAYMENT_INTERVAL_MS;
  const err = paymentErrors.PAY_LINK_TOO_MANY_PAYMENTS(
    limit === 'day'
      ? `This pay link has made ${PAYMENTS_PER_LINK_PER_DAY} GOV.UK Pay payments today, as many as it may. Try again tomorrow, or contact the council.`
      : 'This pay link made a GOV.UK Pay payment less than a minute ago. Wait a minute, then try again.',
  );
  err.headers['retry-after'] = String(Math.max(1, Math.ceil((retryAt - at.getTime()) / 1000)));
  return err;
}

/** A template with every address in its text (both languages) made a tracked short link. */
function trackTemplate(t: TemplateRow, shorten: (url: string) => string | undefined): TemplateRow {
  const swap = (s: string | null) => (s === null ? s : replaceUrls(s, shorten));
  return { ...t, subject: swap(t.subject), body: replaceUrls(t.body, shorten), subject_cy: swap(t.subject_cy), body_cy: swap(t.body_cy) };
}

/** Personalisation with every address in its values (and lists of values) made a tracked short link. */
function trackValues(p: Record<string, unknown>, shorten: (url: string) => string | undefined): Record<string, unknown> {
  const swap = (v: unknown): unknown => (typeof v === 'string' ? replaceUrls(v, shorten) : Array.isArray(v) ? v.map(swap) : v);
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, swap(v)]));
}

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;

// ---------------------------------------------------------------- senders that keep their own record

/**
 * The pay link that a message sent with `reference` (Notify's reference) carries, if one was
 * stored: for a module that records what it sent once Payments.send returns (parking's batches),
 * so that a link whose sending a crash cut short after it was stored is found, not sent again.
 */
export async function payLinkSentWith(payments: Payments, messaging: MessagingService, serviceId: string, reference: string): Promise<PayLinkView | undefined> {
  const sent = await messaging.repo.listNotifications({ serviceId, reference, limit: MAX_REMINDERS + 1 });
  for (const n of sent) {
    const url = n.personalisation_json?.[PAY_LINK_PLACEHOLDER];
    const code = typeof url === 'string' ? /\/l\/([0-9A-Za-z]+)$/.exec(url)?.[1] : undefined;
    const link = code ? await payments.repo.findShortLink(code) : undefined;
    if (link?.pay_link_id) return payments.payLink(serviceId, link.pay_link_id);
  }
  return undefined;
}
