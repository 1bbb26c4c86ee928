import { createHmac, timingSafeEqual } from 'node:crypto';
import { type ChannelExtras, call, short } from './http.js';
import { type Accepted, type OutgoingMessage, type Provider, ProviderError } from './provider.js';

/**
 * Text messages, voice calls and RCS through Twilio's REST API (2010-04-01), or any service
 * that speaks it (SignalWire's compatibility API, test doubles). README-providers.md says how
 * to set one up; the webhooks Twilio calls back are in receipts.routes.ts.
 */
export interface TwilioSettings {
  /** https://api.twilio.com unless another service speaks the same API */
  baseUrl?: string;
  accountSid: string;
  /** a Twilio number (+44…) or an alphanumeric sender; texts use the service's sender when this is empty */
  from?: string;
  /** a Messaging Service (MG…): needed for RCS, optional for texts */
  messagingServiceSid?: string;
  /** Weft's public URL, which Twilio calls back with statuses and keypresses; without it there are no receipts */
  statusCallbackUrl?: string;
  /** the messaging service that receives texts sent to this number (STOP works without it) */
  inboundServiceId?: string;
  /** the Twilio voice for calls in English (default: Twilio's default) and in Welsh (default Polly.Gwyneth) */
  voice?: string;
  voiceCy?: string;
  timeoutMs?: number;
}

export const TWILIO_API = 'https://api.twilio.com';
/** Twilio's limit on the Twiml parameter of a call. */
const TWIML_MAX = 4000;
/** How far back lookup searches for a message sent before a crash, when it was not sent from this process. */
const LOOKUP_WINDOW_MS = 24 * 3600_000;
const REMEMBERED = 10_000;

export type TwilioHook = 'status' | 'inbound' | 'gather';

/** Where Twilio calls Weft back for this provider. */
export function twilioHookPath(providerId: string, hook: TwilioHook): string {
  return `/api/v1/messaging/providers/${providerId}/twilio/${hook}`;
}

/** 447700900123 → +447700900123: Weft keeps numbers as digits, Twilio wants E.164. */
export const e164 = (digits: string) => (digits.startsWith('+') ? digits : `+${digits}`);

export class TwilioProvider implements Provider {
  readonly kind = 'twilio';
  /** What this process sent recently, so that a send whose answer was lost can be found again. */
  private readonly sent = new Map<string, { to: string; body: string; at: Date }>();
  /**
   * Texts can be looked up (by listing messages to the number and matching the text); calls
   * cannot, so a call whose answer was lost is not made again.
   */
  readonly lookup?: (id: string, message?: OutgoingMessage) => Promise<Accepted | undefined>;
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly channel: string,
    private readonly settings: TwilioSettings,
    private readonly authToken: string,
  ) {
    this.base = (settings.baseUrl || TWILIO_API).replace(/\/$/, '');
    this.timeoutMs = settings.timeoutMs ?? 15_000;
    if (channel !== 'voice') this.lookup = (id, message) => this.findMessage(id, message);
  }

  private get account(): string {
    return `${this.base}/2010-04-01/Accounts/${encodeURIComponent(this.settings.accountSid)}`;
  }

  private headers(): Record<string, string> {
    const basic = Buffer.from(`${this.settings.accountSid}:${this.authToken}`).toString('base64');
    return { authorization: `Basic ${basic}`, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
  }

  /** The URL Twilio calls back, carrying the notification id so a callback that beats our own record still finds it. */
  private hookUrl(hook: TwilioHook, notificationId: string): string | undefined {
    const base = this.settings.statusCallbackUrl?.replace(/\/$/, '');
    return base ? `${base}${twilioHookPath(this.id, hook)}?n=${notificationId}` : undefined;
  }

  async send(m: OutgoingMessage & ChannelExtras): Promise<Accepted> {
    return this.channel === 'voice' ? this.call(m) : this.message(m);
  }

  private async message(m: OutgoingMessage): Promise<Accepted> {
    const form = new URLSearchParams({ To: e164(m.to), Body: m.text });
    if (this.settings.messagingServiceSid) form.set('MessagingServiceSid', this.settings.messagingServiceSid);
    else if (this.channel === 'rcs') throw new ProviderError('RCS through Twilio needs a Messaging Service with an RCS sender: set messagingServiceSid in the provider’s settings.', 'temporary');
    else form.set('From', this.settings.from || m.from);
    const callback = this.hookUrl('status', m.id);
    if (callback) form.set('StatusCallback', callback);
    this.remember(m.id, { to: e164(m.to), body: m.text, at: new Date() });
    const res = await call(`${this.account}/Messages.json`, { method: 'POST', headers: this.headers(), body: form.toString() }, this.timeoutMs);
    if (res.status !== 201 && res.status !== 200) throw twilioError(res.status, res.json, res.text);
    return { reference: String(res.json?.sid), status: 'sending' };
  }

  private async call(m: OutgoingMessage & ChannelExtras): Promise<Accepted> {
    if (!this.settings.from) throw new ProviderError('Voice calls need a Twilio number to call from: set "from" in the provider’s settings.', 'temporary');
    const gather = m.menu === undefined || m.menu.length > 0 ? this.hookUrl('gather', m.id) : undefined;
    const twiml = voiceTwiml(m.text, { language: m.language, voice: m.language === 'cy' ? (this.settings.voiceCy ?? 'Polly.Gwyneth') : this.settings.voice, gatherUrl: gather });
    if (twiml.length > TWIML_MAX) throw new ProviderError(`The call’s script is ${twiml.length} characters; Twilio takes at most ${TWIML_MAX}. Shorten the template.`, 'permanent');
    const form = new URLSearchParams({ To: e164(m.to), From: this.settings.from, Twiml: twiml });
    const callback = this.hookUrl('status', m.id);
    if (callback) form.set('StatusCallback', callback);
    const res = await call(`${this.account}/Calls.json`, { method: 'POST', headers: this.headers(), body: form.toString() }, this.timeoutMs);
    if (res.status !== 201 && res.status !== 200) throw twilioError(res.status, res.json, res.text);
    return { reference: String(res.json?.sid), status: 'sending' };
  }

  private remember(id: string, sent: { to: string; body: string; at: Date }): void {
    this.sent.set(id, sent);
    if (this.sent.size > REMEMBERED) this.sent.delete(this.sent.keys().next().value as string);
  }

  /**
   * Twilio takes no idempotency key, so a text is found again by listing the messages to its
   * number (newest first) and matching the text and the time. Limits (README-providers.md): a
   * message of the same text to the same number in the window counts as this one; the window
   * is from this process's send, or 24 hours when the send was made by a process that died.
   * `DateSent` is not used as a filter: a message Twilio still queues has no date_sent.
   */
  private async findMessage(id: string, hint?: OutgoingMessage): Promise<Accepted | undefined> {
    const known = this.sent.get(id);
    const sent = known ?? (hint ? { to: e164(hint.to), body: hint.text, at: new Date(Date.now() - LOOKUP_WINDOW_MS) } : undefined);
    if (!sent) throw new ProviderError('Twilio cannot be asked about a message by Weft’s id alone, and this process did not send it.', 'unknown');
    const since = sent.at.getTime() - 60_000;
    const query = new URLSearchParams({ To: sent.to, PageSize: '50' });
    let url: string | undefined = `${this.account}/Messages.json?${query}`;
    for (let page = 0; url && page < 3; page++) {
      const res = await call(url, { method: 'GET', headers: this.headers() }, this.timeoutMs);
      if (res.status !== 200) throw twilioError(res.status, res.json, res.text);
      const messages = (res.json?.messages ?? []) as TwilioMessage[];
      const match = messages.find((msg) => msg.body === sent.body && Date.parse(msg.date_created) >= since);
      if (match) return { reference: match.sid, status: acceptedStatus(match.status) };
      const oldest = messages.at(-1);
      if (!oldest || Date.parse(oldest.date_created) < since || !res.json?.next_page_uri) break;
      url = `${this.base}${res.json.next_page_uri}`;
    }
    return undefined;
  }
}

interface TwilioMessage {
  sid: string;
  body: string;
  status: string;
  date_created: string;
}

function acceptedStatus(twilioStatus: string): Accepted['status'] {
  if (twilioStatus === 'delivered' || twilioStatus === 'read') return 'delivered';
  if (twilioStatus === 'sent') return 'pending';
  return 'sending';
}

// ---------------------------------------------------------------- errors and statuses

/** Twilio error codes that are about the message or its recipient: sending it again, anywhere, will not help. */
const PERMANENT_CODES = new Set([
  13223, // Dial: invalid phone number format
  13224, // Dial: invalid phone number
  21211, // invalid 'To' phone number
  21214, // 'To' phone number cannot be reached
  21217, // phone number does not appear to be valid
  21401, // invalid phone number
  21407, // this phone number type does not support SMS
  21421, // PhoneNumber is invalid
  21601, // phone number is not a valid SMS-capable inbound phone number
  21602, // message body is required
  21604, // 'To' phone number is required
  21610, // attempt to send to an unsubscribed recipient (they replied STOP to Twilio)
  21612, // the 'To' number is not currently reachable by SMS
  21614, // 'To' number is not a valid mobile number
  21617, // the concatenated message body exceeds the 1600 character limit
  21635, // 'To' number cannot be a landline
]);

/**
 * Twilio's REST errors, `{code, message, more_info, status}`: about this message → permanent;
 * rate limits, server trouble, and refusals of our account or settings (another provider may
 * be set up right) → temporary.
 */
export function twilioError(status: number, body: any, text: string): ProviderError {
  const code = Number(body?.code) || undefined;
  const said = String(body?.message ?? (short(text) || `HTTP ${status}`));
  const message = code ? `Twilio error ${code}: ${said}` : `Twilio answered ${status}: ${said}`;
  if (status >= 400 && status < 500 && code !== undefined && PERMANENT_CODES.has(code)) return new ProviderError(message, 'permanent');
  return new ProviderError(message, 'temporary');
}

/** Delivery errors (in status callbacks) that may clear up: the phone is off, a queue was full. */
const TEMPORARY_DELIVERY = new Set([30001, 30003, 30008, 30009, 30017, 30018]);
/** Delivery errors of our account, not of the recipient. */
const TECHNICAL_DELIVERY = new Set([30002, 30010, 30022, 30023, 30024, 30032, 30034, 30035]);

const DELIVERY_ERRORS: Record<number, string> = {
  30001: 'the queue was full',
  30002: 'the account is suspended',
  30003: 'the phone is switched off or out of signal',
  30004: 'the message was blocked',
  30005: 'the number is unknown or no longer in service',
  30006: 'the number is a landline or its network cannot be reached',
  30007: 'the message was filtered by the network',
  30008: 'an unknown error from the network',
  21610: 'the recipient replied STOP to this sender',
};

export interface StatusUpdate {
  status: string;
  reason?: string;
}

/** A message's MessageStatus (and ErrorCode) from a status callback, as Weft's status; undefined for statuses of received messages. */
export function fromTwilioMessageStatus(status: string, errorCode?: string): StatusUpdate | undefined {
  const code = Number(errorCode) || undefined;
  const reason = code ? `Twilio error ${code}${DELIVERY_ERRORS[code] ? `: ${DELIVERY_ERRORS[code]}` : ''}` : undefined;
  switch (status) {
    case 'queued':
    case 'accepted':
    case 'scheduled':
    case 'sending':
      return { status: 'sending' };
    case 'sent':
      return { status: 'pending' };
    case 'delivered':
    case 'read':
    case 'partially_delivered':
      return { status: 'delivered' };
    case 'canceled':
      return { status: 'cancelled', reason };
    case 'undelivered':
    case 'failed': {
      if (code && TEMPORARY_DELIVERY.has(code)) return { status: 'temporary-failure', reason };
      if (code && TECHNICAL_DELIVERY.has(code)) return { status: 'technical-failure', reason };
      if (code) return { status: 'permanent-failure', reason };
      return status === 'failed' ? { status: 'technical-failure', reason: 'Twilio could not send the message' } : { status: 'temporary-failure', reason: 'The network could not deliver the message' };
    }
    default:
      return undefined;
  }
}

/** A call's CallStatus from a status callback, as Weft's status. */
export function fromTwilioCallStatus(status: string): StatusUpdate | undefined {
  switch (status) {
    case 'queued':
    case 'initiated':
      return { status: 'sending' };
    case 'ringing':
    case 'in-progress':
      return { status: 'pending' };
    case 'completed':
      return { status: 'delivered' };
    case 'busy':
      return { status: 'temporary-failure', reason: 'The line was busy' };
    case 'no-answer':
      return { status: 'temporary-failure', reason: 'No one answered' };
    case 'failed':
      return { status: 'permanent-failure', reason: 'The call could not be connected: the number may not exist' };
    case 'canceled':
      return { status: 'cancelled' };
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------- TwiML and signatures

export const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function sayVerb(text: string, options: { language?: 'en' | 'cy'; voice?: string }): string {
  const voice = options.voice ? ` voice="${xml(options.voice)}"` : '';
  return `<Say language="${options.language === 'cy' ? 'cy-GB' : 'en-GB'}"${voice}>${xml(text)}</Say>`;
}

/**
 * A call's TwiML: the speech (which ends with the keypad menu) inside a one-key Gather, so a
 * key pressed while it is read counts; the key is posted to Weft's gather hook.
 */
export function voiceTwiml(speech: string, options: { language?: 'en' | 'cy'; voice?: string; gatherUrl?: string }): string {
  const say = sayVerb(speech, options);
  const body = options.gatherUrl ? `<Gather input="dtmf" numDigits="1" timeout="8" action="${xml(options.gatherUrl)}" method="POST">${say}</Gather>` : say;
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`;
}

export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/**
 * X-Twilio-Signature: base64 HMAC-SHA1, keyed with the auth token, of the full URL Twilio
 * requested followed by each POST parameter's name and value, sorted by name.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string | string[]>): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key];
    for (const v of Array.isArray(value) ? [...new Set(value)].sort() : [value]) data += key + v;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** Checks a signature as Twilio's own libraries do: the URL with and without its default port. */
export function validTwilioSignature(authToken: string, header: string | undefined, url: string, params: Record<string, string | string[]>): boolean {
  if (!header || !authToken) return false;
  const given = Buffer.from(header);
  for (const candidate of urlVariants(url)) {
    const expected = Buffer.from(twilioSignature(authToken, candidate, params));
    if (expected.length === given.length && timingSafeEqual(expected, given)) return true;
  }
  return false;
}

function urlVariants(url: string): string[] {
  const u = new URL(url);
  const port = u.protocol === 'https:' ? '443' : '80';
  if (u.port) return [url];
  const withPort = `${u.protocol}//${u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : ''}${u.hostname}:${port}${u.pathname}${u.search}`;
  return [url, withPort];
}
