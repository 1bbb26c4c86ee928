import { createHmac, randomBytes } from 'node:crypto';
import { hashToken, randomToken, seal, unseal } from '../../platform/auth/secrets.js';
import type { Db } from '../../platform/db/database.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../services.js';
import { devPayErrors } from './devpay.errors.js';
import { type DevPayAccountsTable, DevPayRepository, type DevPayPaymentsTable } from './devpay.repository.js';
import { type CardPayment, DEV_PAY_PATH, type DevPayAccount, type Outcome, type PayError, type PaymentPage, type PayState } from './devpay.schema.js';

/** GOV.UK Pay ends a payment nobody finished 90 minutes after it was made. */
export const EXPIRY_MS = 90 * 60_000;
const MAX_AMOUNT = 10_000_000;
const WEBHOOK_PURPOSE = 'weft development pay webhook secret';
const WEBHOOK_TIMEOUT_MS = 5_000;
const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const OPEN = ['created', 'started'];

/** What each button on the payment page comes to, in Pay's states, codes and webhook events. */
const FINAL: Record<Outcome, { status: string; message: string | null; code: string | null }> = {
  success: { status: 'success', message: null, code: null },
  declined: { status: 'failed', message: 'Payment method rejected', code: 'P0010' },
  cancelled: { status: 'failed', message: 'Payment was cancelled by the user', code: 'P0030' },
};

/** A payment id as Pay makes them: 26 lower-case letters and digits, drawn without bias. */
function payId(): string {
  let out = '';
  while (out.length < 26) for (const b of randomBytes(32)) if (b < 252 && out.length < 26) out += ID_CHARS[b % 36];
  return out;
}

/**
 * A development GOV.UK Pay inside Weft, for development and the demo only (WEFT_DEV_PAY=true):
 * it speaks as much of Pay's public API as the messaging module's pay links use (create a
 * payment, look one up, with a bearer API key), gives each payment a single-use next_url to a
 * page that takes no money and asks for no card details, and sends Pay's signed
 * card_payment_succeeded webhook. See README.md.
 */
export class DevPayService {
  readonly repo: DevPayRepository;
  /** the API's base URL, as a messaging service's Pay account is given it */
  readonly baseUrl: string;

  constructor(
    db: Db,
    private readonly secret: string,
    publicUrl: string,
    private readonly log: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.repo = new DevPayRepository(db);
    this.baseUrl = `${publicUrl.replace(/\/+$/, '')}${DEV_PAY_PATH}`;
  }

  /**
   * A new account: its API key and webhook signing secret, shown only now. Card payments that
   * succeed are sent to `webhookUrl` (a messaging service's Pay webhook), signed as Pay signs.
   */
  async createAccount(name: string, webhookUrl?: string): Promise<DevPayAccount> {
    const apiKey = `api_test_devpay_${randomToken(24)}`;
    const webhookSecret = `webhook_test_devpay_${randomToken(16)}`;
    const id = newId();
    await this.repo.insertAccount({
      id,
      name,
      api_key_hash: hashToken(this.secret, apiKey),
      webhook_url: webhookUrl ?? null,
      webhook_secret_sealed: seal(this.secret, WEBHOOK_PURPOSE, webhookSecret),
      created_at: new Date(),
    });
    return { id, name, baseUrl: this.baseUrl, apiKey, webhookSecret };
  }

  /** The account whose API key an Authorization header carries, as Pay reads it (`Bearer …`). */
  async accountFor(authorization: string | undefined): Promise<DevPayAccountsTable | undefined> {
    const key = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length).trim() : '';
    return key ? this.repo.findAccountByKey(hashToken(this.secret, key)) : undefined;
  }

  /** POST /v1/payments: Pay's checks in Pay's order and words (the first problem, as a 422), then the payment. */
  async create(account: DevPayAccountsTable, body: unknown): Promise<{ payment: CardPayment } | { error: PayError }> {
    const b = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    const error = invalid(b);
    if (error) return { error };
    const now = new Date();
    const token = randomToken(24);
    const row: DevPayPaymentsTable = {
      payment_id: payId(),
      account_id: account.id,
      amount: b.amount as number,
      reference: b.reference as string,
      description: b.description as string,
      return_url: b.return_url as string,
      language: (b.language as string | undefined) ?? 'en',
      status: 'created',
      state_message: null,
      state_code: null,
      token_hash: hashToken(this.secret, token),
      is_token_used: false,
      created_at: now,
      updated_at: now,
    };
    await this.repo.insertPayment(row);
    return { payment: this.view(row, token) };
  }

  /** GET /v1/payments/{id}: only the account's own payments (another's is Pay's 404). */
  async get(account: DevPayAccountsTable, paymentId: string): Promise<CardPayment | undefined> {
    const row = await this.repo.findPayment(paymentId);
    if (!row || row.account_id !== account.id) return undefined;
    return this.view(await this.expired(row));
  }

  /**
   * The resident opens next_url: it works once, while the payment is new (Pay's "Your payment
   * session has expired" otherwise). The payment is then `started`; answers its id, for the page.
   */
  async open(token: string): Promise<string> {
    const row = token ? await this.repo.findPaymentByToken(hashToken(this.secret, token)) : undefined;
    if (!row || row.is_token_used || (await this.expired(row)).status !== 'created') throw devPayErrors.DEV_PAY_SESSION_EXPIRED();
    if (!(await this.repo.useToken(row.payment_id, new Date()))) throw devPayErrors.DEV_PAY_SESSION_EXPIRED();
    return row.payment_id;
  }

  /** The payment page of a started payment. */
  async page(paymentId: string): Promise<PaymentPage> {
    const row = await this.started(paymentId);
    return { paymentId: row.payment_id, description: row.description, reference: row.reference, amount: row.amount };
  }

  /**
   * A button on the payment page: the payment ends (once), a success is sent to the account's
   * webhook, signed, and the resident goes back to the service's return_url, as from Pay.
   */
  async complete(paymentId: string, outcome: Outcome): Promise<string> {
    const row = await this.started(paymentId);
    if (!(await this.repo.finish(row.payment_id, ['started'], FINAL[outcome], new Date()))) throw devPayErrors.DEV_PAY_SESSION_EXPIRED();
    // Weft subscribes its Pay webhook to card_payment_succeeded only (README-payments.md); it learns of the rest by asking.
    if (outcome === 'success') await this.sendWebhook((await this.repo.findPayment(row.payment_id)) as DevPayPaymentsTable, 'card_payment_succeeded');
    return row.return_url;
  }

  private async started(paymentId: string): Promise<DevPayPaymentsTable> {
    const row = await this.repo.findPayment(paymentId);
    if (!row || (await this.expired(row)).status !== 'started') throw devPayErrors.DEV_PAY_SESSION_EXPIRED();
    return row;
  }

  /** A payment nobody finished in 90 minutes has failed (P0020), as at Pay. */
  private async expired(row: DevPayPaymentsTable): Promise<DevPayPaymentsTable> {
    if (!OPEN.includes(row.status) || Date.now() - row.created_at.getTime() < EXPIRY_MS) return row;
    const state = { status: 'failed', message: 'Payment expired', code: 'P0020' };
    await this.repo.finish(row.payment_id, OPEN, state, new Date());
    return { ...row, status: state.status, state_message: state.message, state_code: state.code };
  }

  /**
   * Pay's webhook message, signed with Pay-Signature (hex HMAC-SHA256 of the body under the
   * signing secret). Sent before the resident is sent back, so the service knows first; a
   * failure is logged and nothing more: the service also asks when the resident returns.
   */
  private async sendWebhook(row: DevPayPaymentsTable, event: string): Promise<void> {
    const account = await this.repo.findAccount(row.account_id);
    if (!account?.webhook_url || !account.webhook_secret_sealed) return;
    const body = JSON.stringify({
      id: payId(),
      created_date: new Date().toISOString(),
      resource_id: row.payment_id,
      api_version: 1,
      resource_type: 'payment',
      event_type: event,
      resource: this.view(row),
    });
    const signature = createHmac('sha256', unseal(this.secret, WEBHOOK_PURPOSE, account.webhook_secret_sealed))
      .update(body, 'utf8')
      .digest('hex');
    try {
      const res = await this.fetchImpl(account.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'pay-signature': signature },
        body,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
        redirect: 'manual',
      });
      await res.text().catch(() => '');
      if (!res.ok) this.log.warn({ payment: row.payment_id, status: res.status }, 'the development Pay’s webhook was refused');
    } catch (err) {
      this.log.warn({ payment: row.payment_id, err: (err as Error).message }, 'the development Pay could not send its webhook');
    }
  }

  /** A payment as Pay's API shows it; next_url only while it is new and its address has not been opened. */
  private view(row: DevPayPaymentsTable, token?: string): CardPayment {
    const self = `${this.baseUrl}/v1/payments/${row.payment_id}`;
    const finished = !OPEN.includes(row.status);
    const state: PayState = { status: row.status, finished };
    if (row.state_message) state.message = row.state_message;
    if (row.state_code) state.code = row.state_code;
    return {
      amount: row.amount,
      description: row.description,
      reference: row.reference,
      language: row.language,
      state,
      payment_id: row.payment_id,
      payment_provider: 'sandbox',
      created_date: row.created_at.toISOString(),
      return_url: row.return_url,
      delayed_capture: false,
      moto: false,
      authorisation_mode: 'web',
      _links: { self: { href: self, method: 'GET' }, ...(token && !finished ? { next_url: { href: `${this.baseUrl}/secure/${token}`, method: 'GET' } } : {}) },
    };
  }
}

/** Pay's checks of a new payment: the first problem, as Pay reports it. */
function invalid(b: Record<string, unknown>): PayError | undefined {
  for (const field of ['amount', 'reference', 'description', 'return_url']) {
    if (b[field] === undefined || b[field] === null || b[field] === '') return { field, code: 'P0101', description: `Missing mandatory attribute: ${field}` };
  }
  const bad = (field: string, why: string): PayError => ({ field, code: 'P0102', description: `Invalid attribute value: ${field}. ${why}` });
  if (typeof b.amount !== 'number' || !Number.isInteger(b.amount)) return bad('amount', 'Must be a valid numeric format');
  if (b.amount < 1) return bad('amount', 'Must be greater than or equal to 1');
  if (b.amount > MAX_AMOUNT) return bad('amount', `Must be less than or equal to ${MAX_AMOUNT}`);
  for (const field of ['reference', 'description']) {
    if (typeof b[field] !== 'string') return bad(field, 'Must be a valid string format');
    if ((b[field] as string).length > 255) return bad(field, 'Must be less than or equal to 255 characters length');
  }
  // As a Pay test account: http return addresses are accepted.
  if (typeof b.return_url !== 'string' || !/^https?:\/\/\S+$/.test(b.return_url)) return bad('return_url', 'Must be a valid URL format');
  if (b.return_url.length > 2000) return bad('return_url', 'Must be less than or equal to 2000 characters length');
  if (b.language !== undefined && b.language !== 'en' && b.language !== 'cy') return bad('language', 'Must be "en" or "cy"');
  return undefined;
}
