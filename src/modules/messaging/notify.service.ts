import type { Actor } from '../../platform/auth/actor.js';
import { newId } from '../../platform/ids.js';
import { messagingErrors, NOTIFY_MESSAGES } from './messaging.errors.js';
import type { MessageServicesTable, NotificationsTable, TemplateRow } from './messaging.repository.js';
import type { Channel } from './messaging.schema.js';
import type { AuthService, MessagingService } from './messaging.service.js';
import type { KeyType } from './notify.auth.js';
import { type Checked, checkEmail, checkPhone, SMOKE_TEST_RECIPIENTS } from './recipients.js';
import type { Rendered } from './rendering.js';
import { TokenBucket } from './token-bucket.js';
import { addressLinesFromPersonalisation, checkPostalAddress, missingPersonalisationMessage } from './render/index.js';

/** How stale this process's count of a day's sends may grow before it is read again. */
export const DAILY_RECOUNT_MS = 15_000;

export interface SendRequest {
  channel: Channel;
  templateId: string;
  /** email address or phone number; letters take their address from the personalisation */
  to?: string;
  personalisation: Record<string, unknown>;
  reference?: string | null;
  language?: 'en' | 'cy';
  /** Notify's email_reply_to_id or sms_sender_id: one of the service's other senders */
  senderId?: string;
  /** Notify's one_click_unsubscribe_url (email) */
  unsubscribeUrl?: string;
}

export interface Sent {
  row: NotificationsTable;
  service: MessageServicesTable;
  /** smoke-test recipients: answered, not stored */
  stored: boolean;
}

/**
 * Sending through the Notify-compatible API: every check Notify makes, in Notify's order and
 * words, then the notification is stored for delivery. The daily limit counts every process's
 * sends (recounted from the database every DAILY_RECOUNT_MS); the per-minute rate limit is a
 * token bucket in this process, like the API's other rate limits, so behind a load balancer
 * each process allows the full rate.
 */
export class NotifySending {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly daily = new Map<string, { day: string; count: number; at: number }>();
  private readonly counting = new Map<string, Promise<number>>();

  constructor(
    private readonly messaging: MessagingService,
    private readonly options: { recountMs?: number } = {},
  ) {}

  /** Notify checks the rate limit before it reads the body. */
  checkRateLimit(actor: Actor, service: MessageServicesTable): void {
    const key = `${service.id}:${actor.keyType}`;
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.perMinute !== service.rate_limit_per_minute) {
      bucket = new TokenBucket(service.rate_limit_per_minute);
      this.buckets.set(key, bucket);
    }
    if (!bucket.take()) {
      const shown = actor.keyType === 'normal' ? 'LIVE' : String(actor.keyType).toUpperCase();
      throw messagingErrors.NOTIFY_RATE_LIMITED(`Exceeded rate limit for key type ${shown} of ${service.rate_limit_per_minute} requests per 60 seconds`);
    }
  }

  async send(actor: Actor, req: SendRequest): Promise<Sent> {
    const auth = await this.messaging.serviceForAuth(actor.serviceId as string);
    if (!auth) throw messagingErrors.NOTIFY_AUTH_INVALID('Invalid token: service not found');
    const service = auth.row;
    const keyType = actor.keyType as KeyType;
    // Notify's order: the body's formats (schema), then the template, then who may be sent to.
    const checked = req.channel === 'letter' ? undefined : checkRecipientFormat(req.channel, req.to ?? '');
    const { template, rendered } = await this.template(service, req);
    const replyTo = this.sender(auth, req);
    const language = req.language ?? 'en';
    let recipient: string;
    let normalised: string;
    let address: string[] | null = null;
    if (req.channel === 'letter') {
      if (keyType === 'team') throw messagingErrors.NOTIFY_LETTER_REFUSED(NOTIFY_MESSAGES.teamLetters);
      const check = checkPostalAddress(addressLinesFromPersonalisation(req.personalisation));
      if (!check.ok) throw messagingErrors.NOTIFY_VALIDATION(check.errors[0], [{ field: 'personalisation', message: check.errors[0] }]);
      address = check.lines;
      recipient = check.lines[0];
      normalised = check.lines.join(', ').toLowerCase();
    } else {
      if (!checked?.ok) throw messagingErrors.NOTIFY_INVALID_PHONE(checked?.message);
      recipient = (req.to ?? '').trim();
      normalised = checked.normalised;
      if (keyType === 'team' && !SMOKE_TEST_RECIPIENTS.has(normalised) && !teamMembers(service).has(normalised))
        throw messagingErrors.NOTIFY_BAD_REQUEST('Can’t send to this recipient using a team-only API key');
    }
    if (rendered.problem) throw messagingErrors.NOTIFY_BAD_REQUEST(rendered.problem);
    // A number that replied STOP is refused by queue(), as the row is stored.
    const item = {
      serviceId: service.id,
      keyId: actor.id,
      keyType,
      template,
      recipient,
      normalisedTo: normalised,
      address,
      personalisation: req.personalisation,
      rendered,
      reference: req.reference ?? null,
      language,
      replyTo,
      unsubscribeUrl: req.unsubscribeUrl ?? null,
    };
    if (SMOKE_TEST_RECIPIENTS.has(normalised)) {
      const [row] = await this.messaging.queue([item], { store: false });
      return { row: { ...row, id: newId() }, service, stored: false };
    }
    const [row] = await this.messaging.queue([item]);
    if (keyType !== 'test') this.countSent(service, req.channel);
    return { row, service, stored: true };
  }

  /** The template checks, in Notify's order; the message is rendered once, here. */
  private async template(service: MessageServicesTable, req: SendRequest): Promise<{ template: TemplateRow; rendered: Rendered }> {
    const template = await this.messaging.currentTemplate(req.templateId);
    if (!template || template.service_id !== service.id) throw messagingErrors.NOTIFY_BAD_REQUEST('Template not found');
    if (template.type !== req.channel) throw messagingErrors.NOTIFY_BAD_REQUEST(`${template.type} template is not suitable for ${req.channel} notification`);
    if (template.is_archived) throw messagingErrors.NOTIFY_BAD_REQUEST('Template has been deleted');
    const rendered = this.messaging.renderToStore(template, req.personalisation, req.language ?? 'en', { name: service.name });
    if (rendered.missing.length) throw messagingErrors.NOTIFY_BAD_REQUEST(missingPersonalisationMessage(rendered.missing));
    return { template, rendered };
  }

  /** The sender a send names by id (Notify's step after the template), or none: the service's own. */
  private sender(auth: AuthService, req: SendRequest): string | null {
    if (!req.senderId) return null;
    const kind = req.channel === 'email' ? 'email_reply_to' : 'sms_sender';
    const found = auth.senders.find((s) => s.id === req.senderId && s.kind === kind);
    if (!found) throw messagingErrors.NOTIFY_BAD_REQUEST(`${req.channel === 'email' ? 'email_reply_to_id' : 'sms_sender_id'} ${req.senderId} does not exist in database for service id ${auth.id}`);
    return found.value;
  }

  private dayKey(service: MessageServicesTable, channel: Channel) {
    return `${service.id}:${channel}`;
  }

  /**
   * Refuses a send of `adding` messages (a pay link and its reminders count as several) that would
   * pass the service's daily limit for the type. The count is read from the database (every
   * process's sends) at most every DAILY_RECOUNT_MS, and this process's sends are added between.
   */
  async checkDailyLimit(service: MessageServicesTable, channel: Channel, adding = 1): Promise<void> {
    const today = new Date().toISOString().slice(0, 10);
    const key = this.dayKey(service, channel);
    let counter = this.daily.get(key);
    if (!counter || counter.day !== today || Date.now() - counter.at > (this.options.recountMs ?? DAILY_RECOUNT_MS)) {
      // Concurrent requests share the one count.
      let pending = this.counting.get(key);
      if (!pending) {
        pending = this.messaging.repo.countSentSince(service.id, new Date(`${today}T00:00:00Z`), channel).finally(() => this.counting.delete(key));
        this.counting.set(key, pending);
      }
      const at = Date.now();
      const counted = await pending;
      counter = this.daily.get(key);
      if (!counter || counter.day !== today || counter.at < at) {
        counter = { day: today, count: counted, at };
        this.daily.set(key, counter);
      }
    }
    if (counter.count + adding > service.daily_limit) throw messagingErrors.NOTIFY_DAILY_LIMIT(`Exceeded send limits (${channel}: ${service.daily_limit}) for today`);
  }

  countSent(service: MessageServicesTable, channel: Channel, sent = 1): void {
    const counter = this.daily.get(this.dayKey(service, channel));
    if (counter) counter.count += sent;
  }
}

/**
 * Notify's schema-stage recipient check: a malformed address is a ValidationError; a number that
 * is not a UK mobile is refused later, as Notify refuses it at the permission stage.
 */
export function checkRecipientFormat(channel: Channel, to: string): Checked {
  const field = channel === 'email' ? 'email_address' : 'phone_number';
  const checked: Checked = channel === 'email' ? checkEmail(to) : checkPhone(to);
  if (!checked.ok && checked.message !== 'Not a UK mobile number') throw messagingErrors.NOTIFY_VALIDATION(`${field} ${checked.message}`, [{ field, message: `${field} ${checked.message}` }]);
  return checked;
}

/** The recipients a team key may send to: the service's team members, normalised as sends are. */
export function teamMembers(service: MessageServicesTable): Set<string> {
  const out = new Set<string>();
  for (const m of service.team_members_json) {
    const c = m.includes('@') ? checkEmail(m) : checkPhone(m);
    if (c.ok) out.add(c.normalised);
  }
  return out;
}
