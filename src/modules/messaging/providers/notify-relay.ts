import { signToken, splitApiKey } from '../notify.auth.js';
import { call, type HttpAnswer, short } from './http.js';
import { type Accepted, type OutgoingMessage, type Provider, ProviderError } from './provider.js';

/**
 * A relay to a GOV.UK Notify service (or anything that speaks its API, Weft included): email,
 * text messages and letters are sent through one Notify template per channel whose body is
 * `((body))` (and subject `((subject))`), with Weft's notification id as the reference.
 */
export interface NotifyRelaySettings {
  /** https://api.notifications.service.gov.uk unless another Notify-compatible service is used */
  baseUrl?: string;
  /** the Notify template to send each channel through */
  templateIds: Partial<Record<'email' | 'sms' | 'letter', string>>;
  timeoutMs?: number;
}

export const NOTIFY_API = 'https://api.notifications.service.gov.uk';
const LETTER_LINES = 7;

export class NotifyRelayProvider implements Provider {
  readonly kind = 'notify';
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly channel: string,
    private readonly settings: NotifyRelaySettings,
    private readonly apiKey: string,
  ) {
    this.base = (settings.baseUrl || NOTIFY_API).replace(/\/$/, '');
    this.timeoutMs = settings.timeoutMs ?? 15_000;
  }

  /** Notify's JWT, signed afresh for each request as its clients do (it must be under 30 seconds old). */
  private headers(): Record<string, string> {
    const { serviceId, secret } = splitApiKey(this.apiKey);
    return { authorization: `Bearer ${signToken(serviceId, secret)}`, 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'weft-notify-relay' };
  }

  async send(m: OutgoingMessage): Promise<Accepted> {
    const templateId = this.settings.templateIds?.[this.channel as 'email'];
    if (!templateId) throw new ProviderError(`No Notify template is set for ${this.channel}: set templateIds.${this.channel} in the provider’s settings.`, 'temporary');
    const body: Record<string, unknown> = { template_id: templateId, reference: m.id };
    if (this.channel === 'email') Object.assign(body, { email_address: m.to, personalisation: { subject: m.subject ?? '', body: m.text } });
    else if (this.channel === 'sms') Object.assign(body, { phone_number: `+${m.to.replace(/^\+/, '')}`, personalisation: { body: m.text } });
    else if (this.channel === 'letter') body.personalisation = { ...addressLines(m.address ?? []), subject: m.subject ?? '', body: m.text };
    else throw new ProviderError(`GOV.UK Notify does not send ${this.channel} messages.`, 'permanent');
    const res = await call(`${this.base}/v2/notifications/${this.channel}`, { method: 'POST', headers: this.headers(), body: JSON.stringify(body) }, this.timeoutMs);
    if (res.status !== 201) throw notifyError(res);
    return { reference: String(res.json?.id), status: 'sending' };
  }

  /** The notification Notify holds with this reference (Weft's id), found by `GET /v2/notifications?reference=`. */
  async lookup(id: string): Promise<Accepted | undefined> {
    const res = await call(`${this.base}/v2/notifications?${new URLSearchParams({ reference: id })}`, { method: 'GET', headers: this.headers() }, this.timeoutMs);
    if (res.status !== 200) throw notifyError(res);
    const found = (res.json?.notifications ?? [])[0] as { id: string; status: string; type: string } | undefined;
    if (!found) return undefined;
    const status = fromNotifyStatus(found.status, found.type);
    return { reference: found.id, status: status === 'pending' || status === 'sent' || status === 'delivered' ? status : 'sending' };
  }

  /** Notify's current status of one of its notifications (`GET /v2/notifications/{id}`), for polling receipts. */
  async status(notifyId: string): Promise<{ status: string; type: string } | undefined> {
    const res = await call(`${this.base}/v2/notifications/${encodeURIComponent(notifyId)}`, { method: 'GET', headers: this.headers() }, this.timeoutMs);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw notifyError(res);
    return { status: String(res.json?.status), type: String(res.json?.type) };
  }
}

/** Letters: Notify takes address_line_1 to address_line_7, the last line being the postcode. */
function addressLines(lines: string[]): Record<string, string> {
  const kept = lines.length > LETTER_LINES ? [...lines.slice(0, LETTER_LINES - 1), lines[lines.length - 1]] : lines;
  return Object.fromEntries(kept.map((line, i) => [`address_line_${i + 1}`, line]));
}

/**
 * Notify's errors, `{status_code, errors: [{error, message}]}`. A ValidationError or
 * InvalidPhoneError is about this message (a bad address): permanent. The rest (a missing
 * template, a team key, a revoked key, rate limits, Notify's own trouble) are about the
 * relay's set-up or the moment: temporary, so another provider or a later try may succeed.
 */
export function notifyError(res: HttpAnswer): ProviderError {
  const first = (res.json?.errors ?? [])[0] as { error?: string; message?: string } | undefined;
  const message = first ? `Notify answered ${res.status} ${first.error}: ${first.message}` : `Notify answered ${res.status}: ${short(res.text) || 'no body'}`;
  if (res.status === 400 && (first?.error === 'ValidationError' || first?.error === 'InvalidPhoneError')) return new ProviderError(message, 'permanent');
  return new ProviderError(message, 'temporary');
}

/**
 * Notify's status (as its API shows it) as Weft stores it. Letters are stored as Weft
 * stores its own: accepted until printed and posted, then received.
 */
export function fromNotifyStatus(status: string, type: string): string | undefined {
  const letter = type === 'letter';
  switch (status) {
    case 'created':
    case 'sending':
    case 'pending-virus-check':
      return letter ? 'accepted' : 'sending';
    case 'accepted':
      return 'accepted';
    case 'pending':
    case 'sent':
      return status;
    case 'delivered':
      return letter ? 'received' : 'delivered';
    case 'received':
    case 'returned-letter':
      return 'received';
    case 'permanent-failure':
    case 'temporary-failure':
    case 'technical-failure':
    case 'cancelled':
      return status;
    case 'validation-failed':
    case 'virus-scan-failed':
      return 'permanent-failure';
    default:
      return undefined;
  }
}
