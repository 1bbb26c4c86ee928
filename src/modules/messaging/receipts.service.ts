import { systemActor } from '../../platform/auth/actor.js';
import { safeEqual, unseal } from '../../platform/auth/secrets.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import type { FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../services.js';
import { messagingErrors } from './messaging.errors.js';
import type { MessageProvidersTable, NotificationsTable, ReceivedTextsTable } from './messaging.repository.js';
import { FINAL_STATUSES } from './messaging.schema.js';
import { isUuid } from '../../platform/ids.js';
import { type MessagingService, PROVIDER_PURPOSE } from './messaging.service.js';
import { notifyRelayProvider } from './providers/index.js';
import { fromNotifyStatus } from './providers/notify-relay.js';
import { EMPTY_TWIML, fromTwilioCallStatus, fromTwilioMessageStatus, type StatusUpdate, sayVerb, type TwilioSettings, validTwilioSignature, voiceTwiml } from './providers/twilio.js';
import { checkWebhookSignature } from './providers/webhook.js';
import { checkPhone } from './recipients.js';
import { renderVoice } from './render/index.js';

const PROVIDER_CACHE_MS = 10_000;
const POLL_CONCURRENCY = 8;
/** A final status may replace any of these; a receipt never takes a final status back. */
const OPEN_STATUSES = ['created', 'sending', 'pending', 'sent', 'accepted'];
/** Statuses a relayed notification waits in for Notify's word. */
const AWAITING = ['sending', 'pending', 'accepted'];
/** What a signed webhook's receipt may say. */
export const RECEIPT_STATUSES = ['sending', 'pending', 'sent', 'delivered', 'permanent-failure', 'temporary-failure', 'technical-failure', 'received', 'cancelled'];

/** Replies that stop all texts to the number, and those that start them again (Twilio's keywords, and Welsh ones). */
const OPT_OUT_WORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'STOPIO', 'DIM']);
const OPT_IN_WORDS = new Set(['START', 'YES', 'UNSTOP', 'DECHRAU']);

const KINDS: Record<string, string> = { twilio: 'Twilio', notify: 'GOV.UK Notify relay', webhook: 'signed webhook' };

const WORDS = {
  en: {
    thanks: (label?: string) => (label ? `Thank you. You chose: ${label}. Goodbye.` : 'Thank you. Goodbye.'),
    notAChoice: 'Sorry, that key is not one of the choices.',
  },
  cy: {
    thanks: (label?: string) => (label ? `Diolch. Eich dewis: ${label}. Hwyl fawr.` : 'Diolch. Hwyl fawr.'),
    notAChoice: 'Mae’n ddrwg gennym, nid yw’r botwm hwnnw’n un o’r dewisiadau.',
  },
};

/** A provider's webhook request: the path and query it was sent to, its parameters and its signature header. */
export interface TwilioHookRequest {
  providerId: string;
  /** the request's path and query string, as received */
  path: string;
  params: Record<string, string | string[]>;
  signature: string | undefined;
}

interface OpenedProvider {
  row: MessageProvidersTable;
  secrets: Record<string, string>;
}

/** The keyword a reply is, if it is one: the whole text, any case, trailing punctuation ignored. */
export function replyKeyword(text: string): { word: string; optOut: boolean } | undefined {
  const word = text
    .trim()
    .replace(/[.!]+$/, '')
    .toUpperCase();
  if (OPT_OUT_WORDS.has(word)) return { word, optOut: true };
  if (OPT_IN_WORDS.has(word)) return { word, optOut: false };
  return undefined;
}

/**
 * Providers' word on what they were given: delivery receipts (Twilio's status callbacks,
 * Notify's delivery-status callbacks and polling, signed webhook receipts), texts residents
 * send back (STOP and START change opt-outs), and keys pressed during voice calls. Every
 * request is checked against the provider's own secret before anything is read.
 */
export class ReceiptsService {
  private readonly cache = new Map<string, { at: number; opened: OpenedProvider | undefined }>();
  /** Called with each text kept for a messaging service, once stored: the composition root points it at received-text callbacks. */
  onTextsReceived: (texts: ReceivedTextsTable[]) => Promise<void> = async () => {};

  constructor(
    private readonly messaging: MessagingService,
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly secret: string,
    private readonly publicUrl: string,
    private readonly log: Logger,
  ) {}

  private async opened(id: string): Promise<OpenedProvider | undefined> {
    const hit = this.cache.get(id);
    if (hit && Date.now() - hit.at < PROVIDER_CACHE_MS) return hit.opened;
    const row = await this.messaging.repo.findProvider(id);
    const opened = row ? { row, secrets: row.secrets_sealed ? (JSON.parse(unseal(this.secret, PROVIDER_PURPOSE, row.secrets_sealed)) as Record<string, string>) : {} } : undefined;
    this.cache.set(id, { at: Date.now(), opened });
    return opened;
  }

  /** The provider of this kind with this id, with its secrets opened, or PROVIDER_NOT_FOUND. */
  private async provider(id: string, kind: string): Promise<OpenedProvider> {
    const opened = isUuid(id) ? await this.opened(id.toLowerCase()) : undefined;
    if (!opened || opened.row.kind !== kind) throw messagingErrors.PROVIDER_NOT_FOUND(`There is no ${KINDS[kind]} provider with that id.`);
    return opened;
  }

  /**
   * Moves the notification a receipt is about to its new status, in order (see
   * MessagingRepository.recordReceipt), queueing its callback in the same transaction. Returns the row
   * as it now is.
   */
  private async apply(providers: string[], match: { providerRef?: string; id?: string }, update: StatusUpdate): Promise<NotificationsTable> {
    const id = match.id && isUuid(match.id) ? match.id.toLowerCase() : undefined;
    const target = await this.messaging.repo.findSentThrough(providers, { providerRef: match.providerRef, id });
    if (!target) throw messagingErrors.RECEIPT_NOT_FOUND();
    const final = FINAL_STATUSES.has(update.status);
    // Progress only: pending or sent after sending; a final status after any open one.
    const from = final ? OPEN_STATUSES : update.status === 'pending' || update.status === 'sent' ? ['sending', 'accepted'] : [];
    // What the new status calls for (a callback, a resident's next channel) is queued in the same transaction.
    const context = await this.messaging.statusContext();
    const updated = await this.messaging.repo.recordReceipt(
      { id: target.id, provider: target.provider as string, status: update.status, reason: update.reason, providerRef: match.providerRef, final, at: new Date() },
      from,
      (row, trx) => this.messaging.queueStatusJobsFor([{ id: row.id, service_id: row.service_id, status: row.status }], context, trx),
    );
    return updated ?? target;
  }

  // ---------------------------------------------------------------- Twilio

  private async twilio(req: TwilioHookRequest): Promise<OpenedProvider & { settings: TwilioSettings; base: string }> {
    const opened = await this.provider(req.providerId, 'twilio');
    const settings = opened.row.settings_json as unknown as TwilioSettings;
    const base = (settings.statusCallbackUrl || this.publicUrl).replace(/\/$/, '');
    // Twilio signs the URL it was given, which is Weft's public URL: behind a proxy, the host Weft sees differs.
    if (!validTwilioSignature(opened.secrets.authToken ?? '', req.signature, `${base}${req.path}`, req.params))
      throw messagingErrors.PROVIDER_SIGNATURE_INVALID('The X-Twilio-Signature header does not match this request signed with the provider’s auth token.');
    return { ...opened, settings, base };
  }

  /** A status callback: MessageSid and MessageStatus (texts, RCS) or CallSid and CallStatus (calls). */
  async twilioStatus(req: TwilioHookRequest): Promise<NotificationsTable | undefined> {
    const { row } = await this.twilio(req);
    const p = flat(req.params);
    const sid = p.MessageSid ?? p.CallSid;
    const said = p.MessageStatus ?? p.CallStatus;
    if (!sid || !said)
      throw messagingErrors.RECEIPT_INVALID(
        'A Twilio status callback carries MessageSid and MessageStatus, or CallSid and CallStatus.',
        missing(p, p.CallSid ? ['CallStatus'] : ['MessageSid', 'MessageStatus']),
      );
    const update = p.MessageStatus ? fromTwilioMessageStatus(p.MessageStatus, p.ErrorCode) : fromTwilioCallStatus(p.CallStatus as string);
    // Statuses of messages Weft did not send (received, receiving) are not receipts.
    if (!update) return undefined;
    return this.apply([row.name], { providerRef: sid, id: queryParam(req.path, 'n') }, update);
  }

  /**
   * A text a resident sent to the provider's number: kept for the provider's messaging
   * service, and STOP (or START) changes whether the number gets texts. Answers empty TwiML:
   * Twilio sends its own confirmation of STOP and START.
   */
  async twilioInbound(req: TwilioHookRequest): Promise<string> {
    const { row, settings } = await this.twilio(req);
    const p = flat(req.params);
    if (!p.From || !p.To) throw messagingErrors.RECEIPT_INVALID('An inbound message carries From and To.', missing(p, ['From', 'To']));
    const checked = checkPhone(p.From, { international: true });
    const number = checked.ok ? checked.normalised : p.From.replace(/\D/g, '');
    const body = p.Body ?? '';
    const keyword = replyKeyword(body);
    const service = settings.inboundServiceId && isUuid(settings.inboundServiceId) ? await this.messaging.getServiceRow(settings.inboundServiceId.toLowerCase()) : undefined;
    if (settings.inboundServiceId && !service) this.log.warn({ provider: row.id }, 'inboundServiceId names no messaging service; the text is not kept');
    const now = new Date();
    const actor = systemActor(`${row.name} (inbound text)`);
    const ending = number.slice(-3);
    const kept: ReceivedTextsTable | undefined = service
      ? { id: newId(), service_id: service.id, user_number: number, notify_number: p.To as string, content: body, provider: row.name, provider_ref: p.MessageSid ?? null, created_at: now }
      : undefined;
    await this.db.transaction(async (trx) => {
      if (kept) await this.messaging.repo.insertReceivedText(kept, trx);
      if (keyword?.optOut) {
        await this.messaging.repo.insertOptOut({ normalised_to: number, keyword: keyword.word, created_at: now }, trx);
        await this.audit.record(
          { actor, action: 'messaging.opt_out', summary: `The number ending ${ending} replied ${keyword.word}: texts, calls and RCS to it are no longer sent`, targetType: 'opt_out' },
          trx,
        );
      } else if (keyword && (await this.messaging.repo.removeOptOut(number, trx))) {
        await this.audit.record({ actor, action: 'messaging.opt_in', summary: `The number ending ${ending} replied ${keyword.word}: messages to it are sent again`, targetType: 'opt_out' }, trx);
      }
    });
    // The text is kept: a failure to queue its callback must not make Twilio send it again.
    if (kept) await this.onTextsReceived([kept]).catch((err) => this.log.error({ err, receivedText: kept.id }, 'could not queue the received-text callback'));
    return EMPTY_TWIML;
  }

  /**
   * A key pressed during a call (Twilio's Gather action): kept as the notification's status
   * reason, "Pressed 1: confirm", and thanked for; a key that is not on the menu is asked for again.
   */
  async twilioGather(req: TwilioHookRequest): Promise<string> {
    const { row, settings, base } = await this.twilio(req);
    const p = flat(req.params);
    const id = queryParam(req.path, 'n');
    const target = await this.messaging.repo.findSentThrough([row.name], { providerRef: p.CallSid, id: id && isUuid(id) ? id.toLowerCase() : undefined });
    const language = target?.language === 'cy' ? 'cy' : 'en';
    const voice = language === 'cy' ? (settings.voiceCy ?? 'Polly.Gwyneth') : settings.voice;
    const say = (text: string) => `<?xml version="1.0" encoding="UTF-8"?><Response>${sayVerb(text, { language, voice })}<Hangup/></Response>`;
    if (!target) return say(WORDS[language].thanks());
    const template = await this.messaging.getTemplate(target.template_id, target.template_version).catch(() => undefined);
    const menu = template?.options_json.menu ?? [];
    const digit = (p.Digits ?? '').slice(0, 1);
    const choice = menu.find((m) => m.key === digit);
    if (menu.length && !choice) {
      const again = renderVoice('', {}, { menu, language }).speech;
      return voiceTwiml(`${WORDS[language].notAChoice} ${again}`, { language, voice, gatherUrl: `${base}${req.path}` });
    }
    if (digit) await this.messaging.repo.recordKeypress(target.id, row.name, choice ? `Pressed ${digit}: ${choice.label}` : `Pressed ${digit}`, new Date());
    return say(WORDS[language].thanks(choice?.label));
  }

  // ---------------------------------------------------------------- GOV.UK Notify

  /**
   * Notify's delivery-status callback, sent with the bearer token given to the Notify service.
   * A Notify service has one callback URL for all its messages, while Weft has a relay provider
   * per channel: the callback is matched across every relay provider with the same token.
   */
  async notifyCallback(providerId: string, authorization: string | undefined, body: unknown): Promise<NotificationsTable> {
    const { secrets } = await this.provider(providerId, 'notify');
    const token = authorization?.toLowerCase().startsWith('bearer ') ? authorization.slice(7).trim() : '';
    if (!secrets.callbackToken) throw messagingErrors.PROVIDER_CALLBACK_TOKEN_INVALID('This provider has no callback token: set the secret callbackToken to the bearer token given to Notify.');
    if (!token || !safeEqual(token, secrets.callbackToken)) throw messagingErrors.PROVIDER_CALLBACK_TOKEN_INVALID();
    const relays: string[] = [];
    for (const p of await this.messaging.repo.listProviders()) if (p.kind === 'notify' && (await this.opened(p.id))?.secrets.callbackToken === token) relays.push(p.name);
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const fields: FieldError[] = [];
    if (typeof b.id !== 'string' || !b.id) fields.push({ field: 'id', message: 'id is Notify’s notification id' });
    if (typeof b.status !== 'string' || !b.status) fields.push({ field: 'status', message: 'status is required' });
    const status = typeof b.status === 'string' ? fromNotifyStatus(b.status, String(b.notification_type ?? '')) : undefined;
    if (!fields.length && !status) fields.push({ field: 'status', message: `status ${b.status} is not one of Notify’s statuses` });
    if (fields.length) throw messagingErrors.RECEIPT_INVALID(undefined, fields);
    return this.apply(relays, { providerRef: b.id as string, id: typeof b.reference === 'string' ? b.reference : undefined }, { status: status as string });
  }

  /**
   * Asks Notify for the status of every relayed notification still waiting for one (the
   * oldest first, up to `limit` a provider). For a job the lead schedules; callbacks make it
   * rarely needed, but Notify sends none for letters and pending texts. Returns how many changed.
   */
  async pollReceipts(limit = 500): Promise<number> {
    let changed = 0;
    for (const row of await this.messaging.repo.listProviders()) {
      if (row.kind !== 'notify') continue;
      const { secrets } = (await this.opened(row.id)) as OpenedProvider;
      const relay = notifyRelayProvider(row, secrets);
      const waiting = await this.messaging.repo.awaitingReceipts(row.name, AWAITING, limit);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(POLL_CONCURRENCY, waiting.length) }, async () => {
          while (next < waiting.length) {
            const n = waiting[next++];
            try {
              const now = await relay.status(n.provider_ref as string);
              const status = now && fromNotifyStatus(now.status, now.type);
              if (!status || status === n.status) continue;
              const after = await this.apply([row.name], { providerRef: n.provider_ref as string }, { status });
              if (after.status !== n.status) changed++;
            } catch (err) {
              this.log.warn({ provider: row.id, notification: n.id, err: (err as Error).message }, 'could not poll Notify for a receipt');
            }
          }
        }),
      );
    }
    return changed;
  }

  // ---------------------------------------------------------------- signed webhook

  /** A receipt from a signed webhook's supplier: `{id or reference, status, reason?}`, signed like Weft's requests. */
  async webhookReceipt(providerId: string, rawBody: string, signature: string | undefined, body: unknown): Promise<NotificationsTable> {
    const { row, secrets } = await this.provider(providerId, 'webhook');
    const check = checkWebhookSignature(secrets.signingSecret ?? '', signature, rawBody);
    if (!check.ok) throw messagingErrors.PROVIDER_SIGNATURE_INVALID(check.problem);
    const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const fields: FieldError[] = [];
    const text = (k: string) => (typeof b[k] === 'string' && b[k] ? (b[k] as string) : undefined);
    if (!text('id') && !text('reference')) fields.push({ field: 'reference', message: 'Give reference (your id for the message) or id (Weft’s)' });
    if (!RECEIPT_STATUSES.includes(String(b.status))) fields.push({ field: 'status', message: `status must be one of ${RECEIPT_STATUSES.join(', ')}` });
    if (b.reason !== undefined && b.reason !== null && typeof b.reason !== 'string') fields.push({ field: 'reason', message: 'reason must be text' });
    if (fields.length) throw messagingErrors.RECEIPT_INVALID(undefined, fields);
    const reason = text('reason')?.slice(0, 500);
    return this.apply([row.name], { providerRef: text('reference'), id: text('id') }, { status: String(b.status), reason: reason ? `${row.name}: ${reason}` : undefined });
  }
}

/** Form parameters as single values (Twilio sends each once). */
function flat(params: Record<string, string | string[]>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(params ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
}

function missing(p: Record<string, string | undefined>, names: string[]): FieldError[] {
  return names.filter((n) => !p[n]).map((n) => ({ field: n, message: `${n} is required` }));
}

function queryParam(path: string, name: string): string | undefined {
  const q = path.indexOf('?');
  return q < 0 ? undefined : (new URLSearchParams(path.slice(q + 1)).get(name) ?? undefined);
}
