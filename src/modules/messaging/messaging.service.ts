import { randomUUID } from 'node:crypto';
import type { Origin } from '../../platform/audit/origin.js';
import type { Actor } from '../../platform/auth/actor.js';
import { seal, unseal } from '../../platform/auth/secrets.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db, Executor } from '../../platform/db/database.js';
import { isUniqueViolation } from '../../platform/db/dialect.js';
import { AppError } from '../../platform/errors.js';
import type { EventBus } from '../../platform/events/index.js';
import { isUuid, newId } from '../../platform/ids.js';
import { messagingErrors } from './messaging.errors.js';
import {
  ERASED_REASON,
  type MessageProvidersTable,
  type MessageSendersTable,
  type MessageServicesTable,
  MessagingRepository,
  type NotificationsTable,
  type ReceivedTextsTable,
  type TemplateRow,
  type TemplateVersionsTable,
} from './messaging.repository.js';
import type { KeyCreate, KeyView, ProviderInput, ProviderView, ServiceCreate, ServiceView, TemplateInput } from './messaging.schema.js';
import { type KeyForAuth, type KeyType, type ServiceForAuth, serviceActor, tokenIssuer, verifyToken } from './notify.auth.js';
import { CALLBACK_PURPOSE, type StatusChange, type StatusJob } from './callbacks.js';
import { checkEmail, checkPhone } from './recipients.js';
import { INBOUND_CALLBACK_PURPOSE } from './inbound-callbacks.js';
import { type Rendered, renderFor } from './rendering.js';
import { GroupLookup, GroupWriter } from '../../platform/grouping.js';
import type { ContactEntry, HeldData, ResidentKey } from '../residents/index.js';
import { contactsOf, historyEntries, residentExport } from './resident-data.js';

const KEY_PURPOSE = 'weft messaging api key';
export const PROVIDER_PURPOSE = 'weft messaging provider secrets';
const AUTH_CACHE_MS = 10_000;
const AUTH_CACHE_SIZE = 1000;
const TEMPLATE_CACHE_MS = 10_000;
/** What staff see instead of a confidential message's text. */
export const HIDDEN_TEXT = 'This message carries a resident’s sign-in secret, so its text is not shown.';
export const OPTED_OUT_MESSAGE = 'This phone number has opted out of messages from this council: they replied STOP. Messages to it are not sent.';
const OPT_OUT_CHANNELS = new Set(['sms', 'voice', 'rcs']);
/** Group commits and opt-out look-ups in flight at once on PostgreSQL (each holds a pooled connection). */
const GROUPS_IN_FLIGHT = 3;
export const CHANGED_EVENT = 'messaging.changed';
/** The template id precompiled letters carry (they have none). */
export const PRECOMPILED_TEMPLATE = '00000000-0000-0000-0000-000000000000';

export type { Origin } from '../../platform/audit/origin.js';

export interface CallbackInput {
  url: string | null;
  bearerToken?: string;
}

/** The two callbacks a service can have, and where each is kept. */
const CALLBACK_KINDS = {
  delivery: { url: 'callback_url', token: 'callback_token_sealed', purpose: CALLBACK_PURPOSE, name: 'delivery-status', action: 'messaging.callback_set' },
  received: { url: 'inbound_callback_url', token: 'inbound_callback_token_sealed', purpose: INBOUND_CALLBACK_PURPOSE, name: 'received-text', action: 'messaging.inbound_callback_set' },
} as const;

/** What deciding on status jobs needs to know beforehand. */
export interface StatusContext {
  /** services with a delivery-status callback URL */
  withCallback: ReadonlySet<string>;
}

/** A service as sending needs it, cached: its keys (secrets opened), its row and its other senders. */
export type AuthService = ServiceForAuth & { row: MessageServicesTable; senders: MessageSendersTable[] };

/** One message to send, already checked by the caller (the /v2 API, a campaign, a rule). */
export interface NewNotification {
  serviceId: string;
  keyId: string | null;
  keyType: KeyType;
  template: TemplateRow;
  recipient: string;
  normalisedTo: string;
  address?: string[] | null;
  personalisation: Record<string, unknown>;
  rendered: Rendered;
  reference?: string | null;
  language?: 'en' | 'cy';
  scheduledFor?: Date | null;
  campaignId?: string | null;
  rowNumber?: number | null;
  createdByName?: string | null;
  residentId?: string | null;
  fallback?: { channel: string; templateId: string }[] | null;
  fallbackOf?: string | null;
  replyTo?: string | null;
  unsubscribeUrl?: string | null;
  /** a resident's message: the topic its consent covers (withdrawing it cancels the message while it waits) */
  topic?: string | null;
}

/**
 * Messaging: sending services and their Notify-style API keys, templates with versions,
 * and notifications. Delivery (delivery.ts) takes notifications from the table.
 */
export class MessagingService {
  readonly repo: MessagingRepository;
  private authCache = new Map<string, { at: number; service: AuthService | undefined }>();
  private templateCache = new Map<string, { at: number; template: TemplateRow | undefined }>();
  /** Called after notifications are stored, so delivery starts at once in this process. */
  onQueued: () => void = () => {};
  /**
   * What status changes call for, in two steps so the jobs can be queued in the transaction that
   * records the statuses: the context is looked up first (which services want callbacks), then
   * the jobs are worked out from it without the database. Set by the composition root.
   */
  statusContext: () => Promise<StatusContext> = async () => ({ withCallback: new Set() });
  statusJobs: (changes: StatusChange[], context: StatusContext) => StatusJob[] = () => [];
  queueStatusJobs: (jobs: StatusJob[], executor?: Executor) => Promise<void> = async () => {};

  /**
   * Queues what status changes call for (callbacks, fallbacks) in the transaction that records
   * the statuses, so a crash cannot keep one without the other. Look the context up before the
   * transaction opens.
   */
  async queueStatusJobsFor(changes: StatusChange[], context: StatusContext, trx: Executor): Promise<void> {
    if (changes.length) await this.queueStatusJobs(this.statusJobs(changes, context), trx);
  }

  /** Called when services, keys, templates or providers change (here or in another process). */
  onChanged: () => void = () => {};
  private readonly off: () => void;
  private readonly keyUsed = new Map<string, number>();
  private withCallback?: { at: number; ids: ReadonlySet<string> };
  /** Concurrent opt-out checks share one query (the database stays the one truth: a STOP counts at once). */
  private readonly optOutLookups: GroupLookup<string>;

  /** Whether a number (normalised) has opted out by replying STOP. */
  isOptedOut(normalised: string): Promise<boolean> {
    return this.optOutLookups.has(normalised);
  }

  /** Concurrent sends share a transaction: each caller hears back only once its rows are committed. */
  private readonly writer: GroupWriter<NotificationsTable>;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly events: EventBus,
    private readonly secret: string,
  ) {
    this.repo = new MessagingRepository(db);
    // PostgreSQL commits several groups at once (its WAL flushes them together); SQLite has one connection.
    const parallel = db.dialect === 'postgres' ? GROUPS_IN_FLIGHT : 1;
    this.optOutLookups = new GroupLookup((numbers) => this.repo.optedOut(numbers), parallel);
    this.writer = new GroupWriter(async (rows) => {
      const refused = await this.repo.insertNotifications(rows, undefined, { unlessOptedOut: true });
      return refused.size ? new Set(rows.filter((r) => refused.has(r.id))) : undefined;
    }, parallel);
    this.off = events.on(CHANGED_EVENT, () => this.forget());
  }

  close(): void {
    this.off();
  }

  private forget(): void {
    this.withCallback = undefined;
    this.authCache.clear();
    this.templateCache.clear();
    this.onChanged();
  }

  private async changed(): Promise<void> {
    this.forget();
    await this.events.emit(CHANGED_EVENT, {});
  }

  // ---------------------------------------------------------------- services and keys

  async createService(actor: Actor, input: ServiceCreate, origin: Origin = {}): Promise<ServiceView> {
    const now = new Date();
    const row: MessageServicesTable = {
      id: randomUUID(),
      name: input.name.trim(),
      sms_sender: input.smsSender?.trim() || 'WEFT',
      email_from: input.emailFrom ?? 'notifications@weft.invalid',
      email_reply_to: input.emailReplyTo ?? null,
      team_members_json: (input.teamMembers ?? []).map((m) => m.trim()).filter(Boolean),
      rate_limit_per_minute: input.rateLimitPerMinute ?? 3000,
      daily_limit: input.dailyLimit ?? 250_000,
      callback_url: null,
      callback_token_sealed: null,
      inbound_callback_url: null,
      inbound_callback_token_sealed: null,
      is_confidential: input.confidential ?? false,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.transaction(async (trx) => {
        await this.repo.insertService(row, trx);
        await this.audit.record({ actor, action: 'messaging.service_create', summary: `Created messaging service ${row.name}`, targetType: 'message_service', targetId: row.id, ...origin }, trx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw messagingErrors.MESSAGE_SERVICE_NAME_TAKEN();
      throw err;
    }
    return this.getService(row.id);
  }

  /**
   * A service Weft's own modules send through (school closures, bin reminders), found by its
   * name or made once, with its templates found by name or made: what staff have changed since
   * in the console is kept. Safe for two processes to call at once.
   */
  async ensureService(actor: Actor, input: ServiceCreate, templates: TemplateInput[]): Promise<{ service: ServiceView; templates: Map<string, TemplateRow> }> {
    const named = async () => (await this.listServices()).find((s) => s.name === input.name.trim());
    let service = await named();
    if (!service) {
      try {
        service = await this.createService(actor, input);
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'MESSAGE_SERVICE_NAME_TAKEN')) throw err;
        service = (await named()) as ServiceView;
      }
    }
    const existing = await this.listTemplates(service.id);
    const out = new Map<string, TemplateRow>();
    for (const t of templates) {
      const found = existing.find((e) => e.name === t.name && e.type === t.type && !e.is_archived);
      out.set(t.name, found ?? (await this.createTemplate(actor, service.id, t)));
    }
    return { service, templates: out };
  }

  async getService(id: string): Promise<ServiceView> {
    const row = isUuid(id) ? await this.repo.findService(id.toLowerCase()) : undefined;
    if (!row) throw messagingErrors.MESSAGE_SERVICE_NOT_FOUND();
    return toServiceView(row);
  }

  /** The ids of services with a delivery-status callback, kept for AUTH_CACHE_MS (and dropped when services change). */
  async servicesWithCallback(): Promise<ReadonlySet<string>> {
    if (this.withCallback && Date.now() - this.withCallback.at < AUTH_CACHE_MS) return this.withCallback.ids;
    const ids = new Set((await this.repo.listServices()).filter((r) => r.callback_url).map((r) => r.id));
    this.withCallback = { at: Date.now(), ids };
    return ids;
  }

  getServiceRow(id: string): Promise<MessageServicesTable | undefined> {
    return isUuid(id) ? this.repo.findService(id.toLowerCase()) : Promise.resolve(undefined);
  }

  /**
   * Where the service is told of each notification's final status (Notify's delivery-status
   * callback): an https URL (http only to this machine, for development) and a bearer token of
   * at least 10 characters, sealed at rest. No URL turns callbacks off.
   */
  async setCallback(actor: Actor, serviceId: string, input: CallbackInput, origin: Origin = {}): Promise<ServiceView> {
    await this.setServiceCallback(actor, serviceId, input, origin, CALLBACK_KINDS.delivery);
    return this.getService(serviceId);
  }

  /** One callback setting (delivery status or received texts): checked, sealed, audited. */
  private async setServiceCallback(actor: Actor, serviceId: string, input: CallbackInput, origin: Origin, kind: (typeof CALLBACK_KINDS)[keyof typeof CALLBACK_KINDS]): Promise<string | null> {
    const service = await this.getService(serviceId);
    if (input.url) {
      if (!isCallbackUrl(input.url)) throw messagingErrors.CALLBACK_INVALID(undefined, [{ field: 'url', message: 'Enter a URL that starts with https://' }]);
      if (!input.bearerToken || input.bearerToken.length < 10)
        throw messagingErrors.CALLBACK_INVALID(undefined, [{ field: 'bearerToken', message: 'The bearer token must be at least 10 characters' }]);
    }
    const fields: Partial<MessageServicesTable> = {
      updated_at: new Date(),
      [kind.url]: input.url || null,
      [kind.token]: input.url ? seal(this.secret, kind.purpose, input.bearerToken as string) : null,
    };
    await this.db.transaction(async (trx) => {
      await this.repo.updateService(service.id, fields, trx);
      const summary = input.url ? `Set the ${kind.name} callback of ${service.name}` : `Turned off the ${kind.name} callback of ${service.name}`;
      await this.audit.record({ actor, action: kind.action, summary, targetType: 'message_service', targetId: service.id, ...origin }, trx);
    });
    await this.changed();
    return input.url || null;
  }

  async listServices(): Promise<ServiceView[]> {
    return (await this.repo.listServices()).map(toServiceView);
  }

  /** A new key; the whole key, `{name}-{service id}-{secret}`, is returned this once. */
  async createKey(actor: Actor, serviceId: string, input: KeyCreate, origin: Origin = {}): Promise<{ key: KeyView; apiKey: string }> {
    const service = await this.getService(serviceId);
    const secret = randomUUID();
    const now = new Date();
    const row = {
      id: newId(),
      service_id: service.id,
      name: input.name.trim(),
      key_type: input.keyType,
      secret_sealed: seal(this.secret, KEY_PURPOSE, secret),
      created_by: actor.label,
      created_at: now,
      revoked_at: null,
      last_used_at: null,
    };
    await this.db.transaction(async (trx) => {
      await this.repo.insertKey(row, trx);
      await this.audit.record(
        { actor, action: 'messaging.key_create', summary: `Created ${input.keyType} API key ${row.name} for ${service.name}`, targetType: 'message_key', targetId: row.id, ...origin },
        trx,
      );
    });
    await this.changed();
    const slug = row.name.toLowerCase().replace(/[^a-z0-9]+/g, '_');
    return { key: toKeyView(row), apiKey: `${slug}-${service.id}-${secret}` };
  }

  async listKeys(serviceId: string): Promise<KeyView[]> {
    const service = await this.getService(serviceId);
    return (await this.repo.keysOf(service.id)).map(toKeyView);
  }

  async revokeKey(actor: Actor, serviceId: string, keyId: string, origin: Origin = {}): Promise<void> {
    const service = await this.getService(serviceId);
    await this.db.transaction(async (trx) => {
      if (!isUuid(keyId) || !(await this.repo.revokeKey(service.id, keyId.toLowerCase(), new Date(), trx))) throw messagingErrors.MESSAGE_KEY_NOT_FOUND();
      await this.audit.record({ actor, action: 'messaging.key_revoke', summary: `Revoked an API key of ${service.name}`, targetType: 'message_key', targetId: keyId, ...origin }, trx);
    });
    await this.changed();
  }

  /** The actor for a Notify-style bearer token, or Notify's AuthError. */
  async actorForToken(token: string): Promise<Actor> {
    const service = await this.serviceForAuth(tokenIssuer(token));
    const key = verifyToken(token, service);
    this.noteKeyUsed(key.id);
    return serviceActor(service as ServiceForAuth, key);
  }

  /** Records when a key was last used, at most once a minute a key (staff see it to spot unused keys). */
  private noteKeyUsed(keyId: string): void {
    const now = Date.now();
    if (now - (this.keyUsed.get(keyId) ?? 0) < 60_000) return;
    this.keyUsed.set(keyId, now);
    void this.repo.touchKey(keyId, new Date(now)).catch(() => {});
  }

  /** A service with its keys' secrets opened, cached briefly (and dropped when keys change). */
  async serviceForAuth(serviceId: string): Promise<AuthService | undefined> {
    const hit = this.authCache.get(serviceId);
    if (hit && Date.now() - hit.at < AUTH_CACHE_MS) return hit.service;
    const row = await this.repo.findService(serviceId);
    let service: AuthService | undefined;
    if (row) {
      const keys: KeyForAuth[] = (await this.repo.keysOf(row.id)).map((k) => ({
        id: k.id,
        name: k.name,
        keyType: k.key_type as KeyType,
        secret: unseal(this.secret, KEY_PURPOSE, k.secret_sealed),
        revoked: k.revoked_at !== null,
      }));
      service = { id: row.id, name: row.name, keys, row, senders: await this.repo.sendersOf(row.id) };
      // Only services that exist are kept (a token's iss is unverified: misses must not fill memory), and few of them.
      if (this.authCache.size >= AUTH_CACHE_SIZE) this.authCache.delete(this.authCache.keys().next().value as string);
      this.authCache.set(serviceId, { at: Date.now(), service });
    }
    return service;
  }

  // ---------------------------------------------------------------- senders

  /** Another reply-to address or text message sender, which a send can name by its id. */
  async addSender(actor: Actor, serviceId: string, kind: 'email_reply_to' | 'sms_sender', value: string, origin: Origin = {}): Promise<{ id: string; kind: string; value: string }> {
    const service = await this.getService(serviceId);
    const v = value.trim();
    const valid = kind === 'email_reply_to' ? checkEmail(v).ok : /^[A-Za-z0-9 ]{3,11}$/.test(v) || checkPhone(v).ok;
    if (!valid)
      throw messagingErrors.SENDER_INVALID(
        kind === 'email_reply_to' ? 'Enter a reply-to address in the correct format, like name@example.com.' : 'A text message sender is 3 to 11 letters, numbers or spaces, or a UK mobile number.',
      );
    const row = { id: randomUUID(), service_id: service.id, kind, value: v, created_at: new Date() };
    await this.db.transaction(async (trx) => {
      await this.repo.insertSender(row, trx);
      await this.audit.record(
        {
          actor,
          action: 'messaging.sender_add',
          summary: `Added a ${kind === 'email_reply_to' ? 'reply-to address' : 'text message sender'} to ${service.name}`,
          targetType: 'message_service',
          targetId: service.id,
          ...origin,
        },
        trx,
      );
    });
    await this.changed();
    return { id: row.id, kind, value: v };
  }

  async listSenders(serviceId: string): Promise<{ id: string; kind: string; value: string }[]> {
    const service = await this.getService(serviceId);
    return (await this.repo.sendersOf(service.id)).map((r) => ({ id: r.id, kind: r.kind, value: r.value }));
  }

  // ---------------------------------------------------------------- providers

  /** A delivery provider; its secrets (passwords, tokens) are sealed, never shown again. */
  async createProvider(actor: Actor, input: ProviderInput, origin: Origin = {}): Promise<ProviderView> {
    // "inbox" is the development inbox's own name on notifications.
    if (input.name.trim().toLowerCase() === 'inbox') throw messagingErrors.PROVIDER_NAME_TAKEN('“inbox” is the development inbox’s name. Choose another.');
    const now = new Date();
    const row: MessageProvidersTable = {
      id: newId(),
      channel: input.channel,
      kind: input.kind,
      name: input.name.trim(),
      priority: input.priority ?? 1,
      settings_json: input.settings ?? {},
      secrets_sealed: input.secrets && Object.keys(input.secrets).length ? seal(this.secret, PROVIDER_PURPOSE, JSON.stringify(input.secrets)) : null,
      is_enabled: input.enabled ?? true,
      created_at: now,
      updated_at: now,
    };
    await this.db.transaction(async (trx) => {
      await this.repo.insertProvider(row, trx).catch((err) => {
        throw isUniqueViolation(err) ? messagingErrors.PROVIDER_NAME_TAKEN() : err;
      });
      await this.audit.record(
        { actor, action: 'messaging.provider_create', summary: `Added ${input.kind} provider ${row.name} for ${input.channel}`, targetType: 'message_provider', targetId: row.id, ...origin },
        trx,
      );
    });
    await this.changed();
    return toProviderView(row);
  }

  async setProviderEnabled(actor: Actor, id: string, enabled: boolean, origin: Origin = {}): Promise<void> {
    const row = (await this.repo.listProviders()).find((p) => p.id === id);
    if (!row) throw messagingErrors.PROVIDER_NOT_FOUND();
    await this.db.transaction(async (trx) => {
      await this.repo.updateProvider(id, { is_enabled: enabled, updated_at: new Date() }, trx);
      await this.audit.record(
        { actor, action: 'messaging.provider_update', summary: `${enabled ? 'Enabled' : 'Disabled'} provider ${row.name}`, targetType: 'message_provider', targetId: id, ...origin },
        trx,
      );
    });
    await this.changed();
  }

  /** Removes a provider. Messages it was sending keep its name; a channel left with none goes to the inbox (if it never had another) or waits. */
  async deleteProvider(actor: Actor, id: string, origin: Origin = {}): Promise<void> {
    const row = (await this.repo.listProviders()).find((p) => p.id === id);
    if (!row) throw messagingErrors.PROVIDER_NOT_FOUND();
    await this.db.transaction(async (trx) => {
      await this.repo.deleteProvider(id, trx);
      await this.audit.record({ actor, action: 'messaging.provider_delete', summary: `Removed provider ${row.name}`, targetType: 'message_provider', targetId: id, ...origin }, trx);
    });
    await this.changed();
  }

  async listProviders(): Promise<ProviderView[]> {
    return (await this.repo.listProviders()).map(toProviderView);
  }

  // ---------------------------------------------------------------- templates

  /** Archives a template: it leaves the lists, and sends naming it are refused ("Template has been deleted"). */
  async archiveTemplate(actor: Actor, id: string, origin: Origin = {}): Promise<void> {
    const t = await this.getTemplate(id);
    await this.db.transaction(async (trx) => {
      await this.repo.archiveTemplate(t.id, new Date(), trx);
      await this.audit.record({ actor, action: 'messaging.template_archive', summary: `Deleted template ${t.name}`, targetType: 'template', targetId: t.id, ...origin }, trx);
    });
    await this.changed();
  }

  async createTemplate(actor: Actor, serviceId: string, input: TemplateInput, origin: Origin = {}): Promise<TemplateRow> {
    const service = await this.getService(serviceId);
    checkTemplate(input);
    const now = new Date();
    const id = randomUUID();
    await this.db.transaction(async (trx) => {
      await this.repo.insertTemplate(
        { id, service_id: service.id, name: input.name.trim(), type: input.type, version: 1, is_archived: false, created_at: now, updated_at: now },
        versionRow(id, 1, input, actor, now),
        trx,
      );
      await this.audit.record({ actor, action: 'messaging.template_create', summary: `Created ${input.type} template ${input.name}`, targetType: 'template', targetId: id, ...origin }, trx);
    });
    return (await this.repo.findTemplate(id)) as TemplateRow;
  }

  /** Saves a new version; notifications keep the version they were sent with. */
  async updateTemplate(actor: Actor, id: string, input: TemplateInput, origin: Origin = {}): Promise<TemplateRow> {
    const before = await this.getTemplate(id);
    if (input.type !== before.type)
      throw messagingErrors.TEMPLATE_INVALID('A template’s type cannot change. Make a new template instead.', [{ field: 'type', message: 'A template’s type cannot change' }]);
    checkTemplate(input);
    const now = new Date();
    const version = before.version + 1;
    await this.db.transaction(async (trx) => {
      await this.repo.insertTemplateVersion(versionRow(before.id, version, input, actor, now), { version, name: input.name.trim(), updated_at: now }, trx);
      await this.audit.record(
        { actor, action: 'messaging.template_update', summary: `Saved version ${version} of template ${input.name}`, targetType: 'template', targetId: before.id, ...origin },
        trx,
      );
    });
    await this.changed();
    return this.getTemplate(before.id);
  }

  async getTemplate(id: string, version?: number): Promise<TemplateRow> {
    const row = isUuid(id) ? await this.repo.findTemplate(id.toLowerCase(), version) : undefined;
    if (!row) throw messagingErrors.TEMPLATE_NOT_FOUND();
    return row;
  }

  /** The current version, cached briefly: sending looks it up on every request. */
  async currentTemplate(id: string): Promise<TemplateRow | undefined> {
    const hit = this.templateCache.get(id);
    if (hit && Date.now() - hit.at < TEMPLATE_CACHE_MS) return hit.template;
    const template = isUuid(id) ? await this.repo.findTemplate(id.toLowerCase()) : undefined;
    // Template ids come from callers: only ones that exist are kept, and few of them.
    if (template) {
      if (this.templateCache.size >= AUTH_CACHE_SIZE) this.templateCache.delete(this.templateCache.keys().next().value as string);
      this.templateCache.set(id, { at: Date.now(), template });
    }
    return template;
  }

  listTemplates(serviceId: string, type?: string): Promise<TemplateRow[]> {
    return this.repo.listTemplates(serviceId, type);
  }

  // ---------------------------------------------------------------- notifications

  /**
   * Stores notifications ready for delivery (each row is its own queue entry) and wakes delivery.
   * A text, voice or RCS message to a number that replied STOP is refused, checked as it is
   * stored (so a STOP counts at once, whichever process received it).
   */
  async queue(items: NewNotification[], options: { store?: boolean } = {}): Promise<NotificationsTable[]> {
    const now = new Date();
    const rows = items.map((n) => notificationRow(n, now));
    if (options.store === false) {
      if (rows.some((r) => OPT_OUT_CHANNELS.has(r.type)) && (await this.repo.optedOut(rows.map((r) => r.normalised_to))).size) throw messagingErrors.NOTIFY_BAD_REQUEST(OPTED_OUT_MESSAGE);
      return rows;
    }
    const refused = await this.writer.add(rows);
    this.onQueued();
    if (refused.length) throw messagingErrors.NOTIFY_BAD_REQUEST(OPTED_OUT_MESSAGE);
    return rows;
  }

  /**
   * A letter sent as a finished PDF (Notify's precompiled letter): stored with its file in one
   * transaction. It has no template; the nil id stands in, as Notify's hidden template does.
   */
  async queuePrecompiledLetter(actor: Actor, reference: string, pdf: Buffer, postage: string): Promise<NotificationsTable> {
    const now = new Date();
    const template = { id: PRECOMPILED_TEMPLATE, version: 1, type: 'letter' } as TemplateRow;
    const row = notificationRow(
      {
        serviceId: actor.serviceId as string,
        keyId: actor.id,
        keyType: actor.keyType as KeyType,
        template,
        recipient: 'Precompiled letter',
        normalisedTo: '',
        personalisation: {},
        rendered: { body: '', billableUnits: 1, postage, missing: [] },
        reference,
      },
      now,
    );
    await this.db.transaction(async (trx) => {
      await this.repo.insertNotifications([row], trx);
      await this.repo.insertLetterFile({ notification_id: row.id, pdf, created_at: now }, trx);
    });
    this.onQueued();
    return row;
  }

  getNotification(serviceId: string, id: string): Promise<NotificationsTable | undefined> {
    return isUuid(id) ? this.repo.findNotification(serviceId, id.toLowerCase()) : Promise.resolve(undefined);
  }

  render(template: TemplateRow, personalisation: Record<string, unknown>, language: 'en' | 'cy', service: { name: string }, address?: string[]): Rendered {
    return renderFor(template, personalisation, language, service, address);
  }

  /**
   * Notifications as staff and the API may see them: a confidential service's messages (sign-in
   * links and codes) keep their recipient and status but not their text or personalisation.
   * `reveal` shows them, for a development instance's inbox only.
   */
  async shown(rows: NotificationsTable[], reveal = false): Promise<NotificationsTable[]> {
    if (reveal || !rows.length) return rows;
    const confidential = new Set((await this.repo.listServices()).filter((s) => s.is_confidential).map((s) => s.id));
    return rows.map((n) => (confidential.has(n.service_id) ? { ...n, subject: n.subject === null ? null : HIDDEN_TEXT, body: HIDDEN_TEXT, personalisation_json: {} } : n));
  }

  /** Whether a notification's service is confidential: its text is never shown. */
  async isConfidential(n: Pick<NotificationsTable, 'service_id'>): Promise<boolean> {
    return !!(await this.repo.findService(n.service_id))?.is_confidential;
  }

  /** A template filled in to be stored: as render(), without an email's HTML (made again when it is sent). */
  renderToStore(template: TemplateRow, personalisation: Record<string, unknown>, language: 'en' | 'cy', service: { name: string }, address?: string[]): Rendered {
    return renderFor(template, personalisation, language, service, address, { html: false });
  }

  // ---------------------------------------------------------------- the console's reads

  /** Notifications created since `since`, counted by channel and status. */
  countByChannelAndStatus(since: Date): Promise<{ type: string; status: string; n: number }[]> {
    return this.repo.countByChannelAndStatus(since);
  }

  /** Notifications of every service, or of one, newest first: the console's lists and the development inbox. */
  findNotifications(filter: Parameters<MessagingRepository['findNotifications']>[0]): Promise<NotificationsTable[]> {
    return this.repo.findNotifications(filter);
  }

  /** A notification of any service, by id. */
  notificationById(id: string): Promise<NotificationsTable | undefined> {
    return isUuid(id) ? this.repo.findNotificationById(id.toLowerCase()) : Promise.resolve(undefined);
  }

  /** A precompiled letter's file; other letters are rendered again from their template. */
  letterFile(notificationId: string): Promise<Buffer | undefined> {
    return this.repo.letterFile(notificationId);
  }

  /** Every saved version of a template, newest first. */
  templateVersions(templateId: string): Promise<TemplateVersionsTable[]> {
    return this.repo.templateVersions(templateId);
  }

  /** Notifications created from `days[0]` by day (an index into `days`, the starts of days in order), channel and status: the delivery dashboard. */
  countByDayChannelAndStatus(days: Date[], serviceId?: string): Promise<{ day: number; type: string; status: string; n: number }[]> {
    return this.repo.countByDayChannelAndStatus(days, serviceId && isUuid(serviceId) ? serviceId.toLowerCase() : undefined);
  }

  /** The messages sent to a resident by preference, newest first (a resident's page in the console). */
  async notificationsForResident(residentId: string, limit = 20): Promise<NotificationsTable[]> {
    return isUuid(residentId) ? this.shown(await this.repo.notificationsForResident(residentId.toLowerCase(), Math.min(Math.max(limit, 1), 200))) : [];
  }

  // ---------------------------------------------------------------- received-text callbacks

  /**
   * Where the service is sent each text residents send to its number (Notify's received-text
   * callback): the same rules as setCallback, with a URL and token of its own. No URL turns it off.
   */
  async setInboundCallback(actor: Actor, serviceId: string, input: CallbackInput, origin: Origin = {}): Promise<ServiceView & { inboundCallbackUrl: string | null }> {
    const url = await this.setServiceCallback(actor, serviceId, input, origin, CALLBACK_KINDS.received);
    return { ...(await this.getService(serviceId)), inboundCallbackUrl: url };
  }

  /** A text received for the service, by id (received-text callbacks). */
  receivedText(serviceId: string, id: string): Promise<ReceivedTextsTable | undefined> {
    return isUuid(id) ? this.repo.findReceivedText(serviceId, id.toLowerCase()) : Promise.resolve(undefined);
  }

  // ---------------------------------------------------------------- a resident's data (residents' rights)

  /** Everything messaging holds about a resident (subject access): messages with their text unless confidential, pay links, texts received, opt-outs. */
  async exportResident(r: ResidentKey): Promise<HeldData> {
    const contacts = contactsOf(r);
    const [rows, payLinks, texts, optOuts, services] = await Promise.all([
      this.repo.notificationsAbout(r.id, contacts),
      this.repo.payLinksAbout(r.id, contacts),
      this.repo.receivedTextsFrom(r.mobile),
      this.repo.optOutsOf(r.mobile ? [r.mobile] : []),
      this.repo.listServices(),
    ]);
    return residentExport(rows, payLinks, texts, optOuts, services);
  }

  /**
   * Erasure: the resident's messages keep channel, status and dates (counts) and lose everything
   * personal; their texts to the council lose number and words. Pay links stay (the council's
   * accounts), reached only through messages that no longer say who they went to; opt-outs stay
   * so that a number that said STOP is never texted again. Can run again.
   */
  forgetResident(r: ResidentKey): Promise<Record<string, number>> {
    return this.repo.forgetResident(r.id, contactsOf(r), r.mobile, new Date());
  }

  /**
   * A resident's consent to messages ended, in the transaction that ended it (the residents module
   * calls this through the hook src/services.ts sets): their messages about the topic (any topic,
   * when `topic` is null: all their consents withdrawn, or erasure) that no provider has been
   * given yet are cancelled, with the reason in plain English. Returns how many.
   */
  async residentConsentEnded(w: { residentId: string; topic: { code: string; name: string } | null; source: string; at: Date }, trx: Executor = this.db.k): Promise<number> {
    const reason = w.topic
      ? `The resident withdrew their consent to messages about ${midSentence(w.topic.name)}.`
      : w.source === 'erasure'
        ? ERASED_REASON
        : 'The resident withdrew their consent to all messages.';
    return (await this.repo.cancelWaitingForResident(w.residentId, w.topic?.code ?? null, reason, w.at, trx)).length;
  }

  /** The messages sent to the resident by preference, newest first, for their contact history. */
  async residentHistory(r: ResidentKey, limit: number): Promise<ContactEntry[]> {
    return historyEntries(await this.repo.notificationsForResident(r.id, limit), await this.repo.listServices());
  }
}

/** A name as it reads inside a sentence: "Bin collections" → "bin collections"; "NHS news" stays. */
const midSentence = (name: string) => (/^[A-Z][a-z]/.test(name) ? name[0].toLowerCase() + name.slice(1) : name);

/** The row a notification starts as: waiting for delivery (or for its time, when scheduled). */
export function notificationRow(n: NewNotification, now: Date): NotificationsTable {
  const scheduled = n.scheduledFor && n.scheduledFor > now ? n.scheduledFor : null;
  return {
    id: newId(now.getTime()),
    service_id: n.serviceId,
    key_id: n.keyId,
    key_type: n.keyType,
    template_id: n.template.id,
    template_version: n.template.version,
    type: n.template.type,
    recipient: n.recipient,
    normalised_to: n.normalisedTo,
    address_json: n.address ?? null,
    reference: n.reference ?? null,
    personalisation_json: n.personalisation,
    language: n.language ?? 'en',
    subject: n.rendered.subject ?? null,
    body: n.rendered.body,
    billable_units: n.rendered.billableUnits,
    postage: n.rendered.postage ?? null,
    status: 'created',
    status_reason: null,
    provider: null,
    provider_ref: null,
    attempts: 0,
    next_attempt_at: scheduled ?? now,
    locked_until: null,
    locked_by: null,
    campaign_id: n.campaignId ?? null,
    row_number: n.rowNumber ?? null,
    created_by_name: n.createdByName ?? null,
    created_at: now,
    scheduled_for_at: scheduled,
    sent_at: null,
    completed_at: null,
    updated_at: now,
    resident_id: n.residentId ?? null,
    fallback_json: n.fallback?.length ? n.fallback : null,
    fallback_of: n.fallbackOf ?? null,
    reply_to: n.replyTo ?? null,
    unsubscribe_url: n.unsubscribeUrl ?? null,
    topic: n.topic ?? null,
  };
}

function versionRow(templateId: string, version: number, input: TemplateInput, actor: Actor, now: Date): TemplateVersionsTable {
  return {
    template_id: templateId,
    version,
    name: input.name.trim(),
    subject: input.subject?.trim() || null,
    body: input.body,
    subject_cy: input.subjectCy?.trim() || null,
    body_cy: input.bodyCy || null,
    options_json: { menu: input.menu, suggestions: input.suggestions, postage: input.postage },
    created_by: actor.label,
    created_at: now,
  };
}

function checkTemplate(input: TemplateInput): void {
  const needsSubject = input.type === 'email' || input.type === 'letter';
  if (needsSubject && !input.subject?.trim())
    throw messagingErrors.TEMPLATE_INVALID(undefined, [{ field: 'subject', message: `A ${input.type === 'email' ? 'subject line' : 'heading'} is required` }]);
  if (!needsSubject && input.subject?.trim()) throw messagingErrors.TEMPLATE_INVALID(undefined, [{ field: 'subject', message: `A ${input.type} template has no subject` }]);
  if (input.bodyCy !== undefined && needsSubject && !input.subjectCy?.trim() && input.bodyCy.trim())
    throw messagingErrors.TEMPLATE_INVALID(undefined, [{ field: 'subjectCy', message: 'The Welsh version needs a subject too' }]);
  if (input.menu && input.type !== 'voice') throw messagingErrors.TEMPLATE_INVALID(undefined, [{ field: 'menu', message: 'Only voice templates have a keypad menu' }]);
  if (input.suggestions && input.type !== 'rcs') throw messagingErrors.TEMPLATE_INVALID(undefined, [{ field: 'suggestions', message: 'Only RCS templates have suggested replies' }]);
}

function isCallbackUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname));
  } catch {
    return false;
  }
}

function toServiceView(r: MessageServicesTable): ServiceView {
  return {
    id: r.id,
    name: r.name,
    smsSender: r.sms_sender,
    emailFrom: r.email_from,
    emailReplyTo: r.email_reply_to,
    teamMembers: r.team_members_json,
    rateLimitPerMinute: r.rate_limit_per_minute,
    dailyLimit: r.daily_limit,
    callbackUrl: r.callback_url,
    confidential: !!r.is_confidential,
    createdAt: r.created_at,
  };
}

function toKeyView(r: { id: string; name: string; key_type: string; created_by: string; created_at: Date; revoked_at: Date | null; last_used_at: Date | null }): KeyView {
  return { id: r.id, name: r.name, keyType: r.key_type, createdBy: r.created_by, createdAt: r.created_at, revokedAt: r.revoked_at, lastUsedAt: r.last_used_at };
}

function toProviderView(r: MessageProvidersTable): ProviderView {
  return {
    id: r.id,
    channel: r.channel,
    kind: r.kind,
    name: r.name,
    priority: r.priority,
    settings: r.settings_json,
    hasSecrets: r.secrets_sealed !== null,
    enabled: r.is_enabled,
    createdAt: r.created_at,
  };
}
