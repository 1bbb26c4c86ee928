import { createHmac, timingSafeEqual } from 'node:crypto';
import { call, type HttpAnswer, short } from './http.js';
import { type Accepted, type OutgoingMessage, type Provider, ProviderError } from './provider.js';

/**
 * The generic signed webhook: each message is POSTed as JSON to a supplier's URL, signed with
 * a shared secret and keyed for idempotency by Weft's notification id. The protocol, for
 * suppliers, is README-providers.md.
 */
export interface WebhookSettings {
  url: string;
  timeoutMs?: number;
}

export const SIGNATURE_HEADER = 'weft-signature';
/** A signed request older or newer than this is refused (replays). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
const ACCEPTED = new Set(['sending', 'pending', 'sent', 'delivered']);
/** 4xx answers that are not about the message: our credentials, the address, the supplier being busy. */
const TEMPORARY_4XX = new Set([401, 403, 404, 408, 409, 425, 429]);

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` */
export function signWebhook(secret: string, body: string, at = Math.floor(Date.now() / 1000)): string {
  return `t=${at},v1=${createHmac('sha256', secret).update(`${at}.${body}`).digest('hex')}`;
}

export type SignatureCheck = { ok: true } | { ok: false; problem: string };

/** Checks a Weft-Signature header: any v1 that matches (so a secret can be rotated), within the tolerance. */
export function checkWebhookSignature(secret: string, header: string | undefined, body: string, nowSeconds = Math.floor(Date.now() / 1000)): SignatureCheck {
  if (!header) return { ok: false, problem: 'The Weft-Signature header is missing.' };
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  const signatures = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  if (!Number.isInteger(t) || !signatures.length) return { ok: false, problem: 'The Weft-Signature header must be t=<unix time>,v1=<hex signature>.' };
  if (Math.abs(nowSeconds - t) > SIGNATURE_TOLERANCE_SECONDS)
    return { ok: false, problem: `The signature’s time is more than ${SIGNATURE_TOLERANCE_SECONDS} seconds from ours: check the clock, and do not replay old requests.` };
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  for (const s of signatures) {
    const given = Buffer.from(s);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, problem: 'The signature does not match: sign "<t>.<the exact body>" with HMAC-SHA256 and the shared secret, in hex.' };
}

export class WebhookProvider implements Provider {
  readonly kind = 'webhook';
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly channel: string,
    settings: WebhookSettings,
    private readonly secret: string,
  ) {
    this.url = settings.url.replace(/\/$/, '');
    this.timeoutMs = settings.timeoutMs ?? 15_000;
  }

  private headers(body: string, id: string): Record<string, string> {
    return { 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': id, [SIGNATURE_HEADER]: signWebhook(this.secret, body), 'user-agent': 'weft-webhook' };
  }

  async send(m: OutgoingMessage): Promise<Accepted> {
    const payload: Record<string, unknown> = { id: m.id, channel: m.channel, to: m.to, from: m.from, subject: m.subject ?? null, text: m.text, html: m.html ?? null, reference: m.reference ?? null };
    if (m.channel === 'letter') payload.address = m.address ?? [];
    const body = JSON.stringify(payload);
    const res = await call(this.url, { method: 'POST', headers: this.headers(body, m.id), body }, this.timeoutMs);
    if (res.status >= 200 && res.status < 300) return acceptedFrom(res, m.id);
    throw webhookError(res);
  }

  /** `GET {url}/{id}`: 200 with {reference, status} when the supplier has the message, 404 when it has not. */
  async lookup(id: string): Promise<Accepted | undefined> {
    const res = await call(`${this.url}/${encodeURIComponent(id)}`, { method: 'GET', headers: this.headers('', id) }, this.timeoutMs);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw webhookError(res);
    return acceptedFrom(res, id);
  }
}

function acceptedFrom(res: HttpAnswer, id: string): Accepted {
  const status = String(res.json?.status ?? 'sending');
  const reference = res.json?.reference;
  return { reference: typeof reference === 'string' && reference ? reference : id, status: (ACCEPTED.has(status) ? status : 'sending') as Accepted['status'] };
}

/** 5xx: temporary; 4xx: permanent (this message cannot be sent), except those in TEMPORARY_4XX. */
export function webhookError(res: HttpAnswer): ProviderError {
  const said = typeof res.json?.message === 'string' ? res.json.message : short(res.text) || 'no body';
  const message = `The supplier answered ${res.status}: ${said}`;
  if (res.status >= 400 && res.status < 500 && !TEMPORARY_4XX.has(res.status)) return new ProviderError(message, 'permanent');
  return new ProviderError(message, 'temporary');
}
