/**
 * A local GOV.UK Pay, written from Pay's public API (alphagov/pay-publicapi) and webhooks
 * (alphagov/pay-webhooks): POST /v1/payments and GET /v1/payments/{id} with a bearer API key
 * (401 `{"message": "Credentials are required to access this resource"}` otherwise), 422s with
 * Pay's error codes (P0101 missing, P0102 invalid), 404 P0200, the payment's body and state
 * (created, started, submitted, success, failed, cancelled, error, with Pay's P0010–P0050 codes),
 * a single-use next_url that expires with the payment after 90 minutes, and webhook messages
 * signed with Pay-Signature (hex HMAC-SHA256 of the body under the webhook's signing key).
 * The test plays the resident with visit(), submit() and complete().
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PeerPayment {
  payment_id: string;
  apiKey: string;
  amount: number;
  reference: string;
  description: string;
  return_url: string;
  language: string;
  email?: string;
  state: { status: string; finished: boolean; message?: string; code?: string };
  created: number;
  token: string;
  tokenUsed: boolean;
  card?: boolean;
}

export type Outcome = 'success' | 'declined' | 'cancelled-by-user' | 'cancelled-by-service' | 'error';

export interface PayPeer {
  /** the API's base URL, as Weft's Pay account is given it */
  url: string;
  apiKey: string;
  webhookSecret: string;
  payments: PeerPayment[];
  /** every API request: method, path and the bearer token sent */
  requests: { method: string; path: string; auth: string | undefined }[];
  /** where webhook messages go (Weft's webhook URL for the service) */
  webhookUrl: string | undefined;
  /** the account's smallest payment (the provider's fee), in pence */
  minimumAmount: number;
  /** moves the peer's clock on: payments expire 90 minutes after they were made */
  advance(ms: number): void;
  /** the resident opens next_url: 200 the first time, 400 after */
  visit(nextUrl: string): Promise<number>;
  /** the resident has submitted card details; the payment is waiting for authorisation */
  submit(paymentId: string): void;
  /** the payment ends; by default the webhook message is sent too. Returns Weft's answer's status. */
  complete(paymentId: string, outcome: Outcome, options?: { webhook?: boolean }): Promise<number | undefined>;
  /** sends a webhook message for a payment as it now is, signed with `secret` (the right one by default) */
  sendWebhook(paymentId: string, event: string, options?: { secret?: string; body?: string; signature?: string | null }): Promise<Response>;
  close(): Promise<void>;
}

const EXPIRY_MS = 90 * 60_000;
const ID_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

function payId(): string {
  return [...randomBytes(26)].map((b) => ID_CHARS[b % ID_CHARS.length]).join('');
}

export function paySign(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('hex');
}

export async function payPeer(): Promise<PayPeer> {
  const apiKey = `api_test_${randomBytes(24).toString('hex')}`;
  const webhookSecret = `webhook_test_${randomBytes(16).toString('hex')}`;
  const payments: PeerPayment[] = [];
  const requests: PayPeer['requests'] = [];
  let offset = 0;
  const now = () => Date.now() + offset;
  let base = '';

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  /** Pay expires a payment nobody finished 90 minutes after it was made. */
  function expire(p: PeerPayment): void {
    if (!p.state.finished && ['created', 'started'].includes(p.state.status) && now() - p.created >= EXPIRY_MS) {
      p.state = { status: 'failed', finished: true, message: 'Payment expired', code: 'P0020' };
      void peer.sendWebhook(p.payment_id, 'card_payment_expired').catch(() => undefined);
    }
  }

  /** A payment as Pay's API shows it (CardPayment). */
  function body(p: PeerPayment) {
    const self = `${base}/v1/payments/${p.payment_id}`;
    const out: Record<string, unknown> = {
      amount: p.amount,
      description: p.description,
      reference: p.reference,
      language: p.language,
      state: p.state,
      payment_id: p.payment_id,
      payment_provider: 'sandbox',
      created_date: new Date(p.created).toISOString(),
      refund_summary: { status: p.state.status === 'success' ? 'available' : 'pending', amount_available: p.state.status === 'success' ? p.amount : 0, amount_submitted: 0 },
      settlement_summary: {},
      delayed_capture: false,
      moto: false,
      return_url: p.return_url,
      authorisation_mode: 'web',
      _links: {
        self: { href: self, method: 'GET' },
        events: { href: `${self}/events`, method: 'GET' },
        refunds: { href: `${self}/refunds`, method: 'GET' },
        ...(p.state.finished
          ? {}
          : {
              next_url: { href: `${base}/secure/${p.token}`, method: 'GET' },
              next_url_post: { type: 'application/x-www-form-urlencoded', params: { chargeTokenId: p.token }, href: `${base}/secure`, method: 'POST' },
              cancel: { href: `${self}/cancel`, method: 'POST' },
            }),
      },
    };
    if (p.email) out.email = p.email;
    if (p.card) {
      out.card_details = {
        last_digits_card_number: '4242',
        first_digits_card_number: '424242',
        cardholder_name: 'Sam Resident',
        expiry_date: '04/30',
        billing_address: { line1: '1 High Street', postcode: 'CF10 1AA', city: 'Cardiff', country: 'GB' },
        card_brand: 'Visa',
        card_type: 'debit',
      };
      out.provider_id = `sandbox-${p.payment_id}`;
    }
    return out;
  }

  /** Pay reports the first problem it finds, as { field, code, description }. */
  function invalid(b: Record<string, unknown>): { field: string; code: string; description: string } | undefined {
    for (const field of ['amount', 'reference', 'description', 'return_url']) {
      if (b[field] === undefined || b[field] === null || b[field] === '') return { field, code: 'P0101', description: `Missing mandatory attribute: ${field}` };
    }
    const bad = (field: string, why: string) => ({ field, code: 'P0102', description: `Invalid attribute value: ${field}. ${why}` });
    if (typeof b.amount !== 'number' || !Number.isInteger(b.amount)) return bad('amount', 'Must be a valid numeric format');
    if (b.amount < Math.max(1, peer.minimumAmount)) return bad('amount', `Must be greater than or equal to ${Math.max(1, peer.minimumAmount)}`);
    if (b.amount > 10_000_000) return bad('amount', 'Must be less than or equal to 10000000');
    for (const field of ['reference', 'description']) {
      if (typeof b[field] !== 'string') return bad(field, 'Must be a valid string format');
      if ((b[field] as string).length > 255) return bad(field, 'Must be less than or equal to 255 characters length');
    }
    // A test account accepts http return URLs; a live one only https.
    if (typeof b.return_url !== 'string' || !/^https?:\/\/\S+$/.test(b.return_url)) return bad('return_url', 'Must be a valid URL format');
    if (b.return_url.length > 2000) return bad('return_url', 'Must be less than or equal to 2000 characters length');
    if (b.language !== undefined && b.language !== 'en' && b.language !== 'cy') return bad('language', 'Must be "en" or "cy"');
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';

    if (method === 'GET' && path.startsWith('/secure/')) {
      const p = payments.find((x) => x.token === path.slice('/secure/'.length));
      if (p) expire(p);
      if (!p || p.tokenUsed || p.state.finished) {
        res.writeHead(400, { 'content-type': 'text/html' });
        return void res.end('<h1>Your payment session has expired</h1>');
      }
      p.tokenUsed = true;
      p.state = { status: 'started', finished: false };
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end(`<h1>Enter card details</h1><p>${p.description}</p>`);
    }

    const auth = req.headers.authorization;
    requests.push({ method, path, auth });
    if (auth !== `Bearer ${apiKey}`) return json(res, 401, { message: 'Credentials are required to access this resource' });

    if (method === 'POST' && path === '/v1/payments') {
      let b: Record<string, unknown>;
      try {
        b = JSON.parse(raw);
      } catch {
        return json(res, 400, { code: 'P0197', description: 'Unable to parse JSON' });
      }
      const problem = invalid(b);
      if (problem) return json(res, 422, problem);
      const p: PeerPayment = {
        payment_id: payId(),
        apiKey,
        amount: b.amount as number,
        reference: b.reference as string,
        description: b.description as string,
        return_url: b.return_url as string,
        language: (b.language as string) ?? 'en',
        email: b.email as string | undefined,
        state: { status: 'created', finished: false },
        created: now(),
        token: payId(),
        tokenUsed: false,
      };
      payments.push(p);
      return json(res, 201, body(p), { location: `${base}/v1/payments/${p.payment_id}` });
    }

    if (method === 'GET' && path.startsWith('/v1/payments/')) {
      const p = payments.find((x) => x.payment_id === decodeURIComponent(path.slice('/v1/payments/'.length)) && x.apiKey === apiKey);
      if (!p) return json(res, 404, { code: 'P0200', description: 'Not found' });
      expire(p);
      return json(res, 200, body(p));
    }
    return json(res, 404, { message: 'HTTP 404 Not Found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => json(res, 500, { message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const find = (id: string) => {
    const p = payments.find((x) => x.payment_id === id);
    if (!p) throw new Error(`the Pay peer has no payment ${id}`);
    return p;
  };

  const peer: PayPeer = {
    url: base,
    apiKey,
    webhookSecret,
    payments,
    requests,
    webhookUrl: undefined,
    minimumAmount: 1,
    advance(ms) {
      offset += ms;
    },
    async visit(nextUrl) {
      const res = await fetch(nextUrl);
      await res.text();
      return res.status;
    },
    submit(paymentId) {
      const p = find(paymentId);
      p.card = true;
      p.state = { status: 'submitted', finished: false };
    },
    async complete(paymentId, outcome, options = {}) {
      const p = find(paymentId);
      let event: string;
      switch (outcome) {
        case 'success':
          p.card = true;
          p.state = { status: 'success', finished: true };
          event = 'card_payment_succeeded';
          break;
        case 'declined':
          p.card = true;
          p.state = { status: 'failed', finished: true, message: 'Payment method rejected', code: 'P0010' };
          event = 'card_payment_failed';
          break;
        case 'cancelled-by-user':
          p.state = { status: 'failed', finished: true, message: 'Payment was cancelled by the user', code: 'P0030' };
          event = 'card_payment_failed';
          break;
        case 'cancelled-by-service':
          p.state = { status: 'cancelled', finished: true, message: 'Payment was cancelled by the service', code: 'P0040' };
          event = 'card_payment_failed';
          break;
        default:
          p.state = { status: 'error', finished: true, message: 'Payment provider returned an error', code: 'P0050' };
          event = 'card_payment_failed';
      }
      if (options.webhook === false || !peer.webhookUrl) return undefined;
      const res = await peer.sendWebhook(paymentId, event);
      return res.status;
    },
    async sendWebhook(paymentId, event, options = {}) {
      const p = find(paymentId);
      const text =
        options.body ??
        JSON.stringify({
          id: payId(),
          created_date: new Date(now()).toISOString(),
          resource_id: p.payment_id,
          api_version: 1,
          resource_type: 'payment',
          event_type: event,
          resource: body(p),
        });
      const signature = options.signature === undefined ? paySign(options.secret ?? webhookSecret, text) : options.signature;
      return fetch(peer.webhookUrl as string, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature === null ? {} : { 'pay-signature': signature }) },
        body: text,
        signal: AbortSignal.timeout(5000),
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return peer;
}
