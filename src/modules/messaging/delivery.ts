import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { unseal } from '../../platform/auth/secrets.js';
import type { Logger } from '../../services.js';
import type { DueRow, MessagingRepository, MessageProvidersTable, NotificationsTable, Outcome } from './messaging.repository.js';
import { type MessagingService, PROVIDER_PURPOSE, type StatusContext } from './messaging.service.js';
import { type Accepted, type OutgoingMessage, type Provider, ProviderError } from './providers/provider.js';
import { CHANNELS } from './messaging.schema.js';
import { SMOKE_TEST_RECIPIENTS, TEST_KEY_OUTCOMES } from './recipients.js';
import { SmtpProvider } from './providers/smtp.js';
import { TokenBucket } from './token-bucket.js';

/**
 * Inbox deliveries a statement. Large, because on PostgreSQL each one leaves dead index entries
 * at the head of the due index that the next has to step over: fewer, bigger batches step less.
 */
const BATCH = 5000;
/** Messages for providers claimed at a time: at 16 at a time and 15 s timeouts, well inside the lock. */
const PROVIDER_BATCH = 64;
const LOCK_MS = 5 * 60_000;
const MAX_ATTEMPTS = 5;
const SEND_CONCURRENCY = 16;
const MIN_GAP_MS = 25;

/** The development inbox: messages stay in Weft, readable in the console, marked delivered. */
export const INBOX = 'inbox';

/** With a test key every message is simulated; with any key, Notify's smoke-test recipients are (they are not even stored from the API). */
export function simulatedOutcome(row: Pick<NotificationsTable, 'key_type' | 'normalised_to'>): string | undefined {
  if (row.key_type === 'test') return TEST_KEY_OUTCOMES[row.normalised_to] ?? 'delivered';
  return SMOKE_TEST_RECIPIENTS.has(row.normalised_to) ? 'delivered' : undefined;
}

export type ProviderFactory = (row: MessageProvidersTable, secrets: Record<string, string>) => Provider;

const FACTORIES: Record<string, ProviderFactory> = {
  smtp: (row, secrets) => new SmtpProvider(row.id, row.name, { ...(row.settings_json as { host: string; port: number }), password: secrets.password }),
};

/** Other modules' provider kinds (Twilio-compatible, Notify relay, webhooks, print) register here. */
export function registerProviderKind(kind: string, factory: ProviderFactory): void {
  FACTORIES[kind] = factory;
}

export interface ProviderHealth {
  id: string;
  name: string;
  kind: string;
  channel: string;
  sent: number;
  failed: number;
  lastError: string | null;
  lastErrorAt: Date | null;
  lastSuccessAt: Date | null;
}

/**
 * Takes due notifications from the table and hands them to providers. Each row is claimed
 * (locked for LOCK_MS) and marked `sending` with its provider before the provider is called,
 * so a worker that dies mid-send leaves a row that says where it went: the next claim asks that
 * provider (lookup) instead of sending again, or, when the provider cannot be asked (SMTP),
 * records a technical failure rather than risk a second copy.
 */
export class Delivery {
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private providers?: { at: number; byChannel: Map<string, Provider[]> };
  /** Puts a notification's tracked short links into its email HTML (payments.ts), when set. */
  trackLinks?: (notificationId: string, html: string) => Promise<string>;
  /** Channels whose messages go to the development inbox (see providersByChannel). */
  private inboxChannels: string[] = [];
  readonly health = new Map<string, ProviderHealth>();
  /** Providers' sending rates (settings.ratePerSecond), in this process. */
  private rates = new Map<string, TokenBucket>();
  private loop?: Promise<void>;
  private stopping = false;
  private wakeUp?: () => void;
  private woken = false;

  constructor(
    private readonly messaging: MessagingService,
    private readonly repo: MessagingRepository,
    private readonly secret: string,
    private readonly log: Logger,
    private readonly options: { pollMs?: number; timeoutMs?: number } = {},
  ) {}

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.work();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    this.loop = undefined;
    for (const list of this.providers?.byChannel.values() ?? []) for (const p of list) await p.close?.();
    this.providers = undefined;
  }

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Providers changed: build them again at the next batch. */
  reloadProviders(): void {
    const old = this.providers;
    this.providers = undefined;
    for (const list of old?.byChannel.values() ?? []) for (const p of list) void p.close?.();
  }

  private async work(): Promise<void> {
    while (!this.stopping) {
      let handled = 0;
      const started = Date.now();
      try {
        handled = await this.runOnce();
      } catch (err) {
        this.log.error({ err }, 'delivery batch failed');
      }
      if (handled >= BATCH || this.stopping) continue;
      await this.sleep(this.options.pollMs ?? 250);
      // Woken early by new work: let a little gather, so a busy API is delivered in batches, not a claim per message.
      const gap = MIN_GAP_MS - (Date.now() - started);
      if (gap > 0 && !this.stopping) await new Promise((resolve) => setTimeout(resolve, gap));
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.woken = false;
        done();
      };
    });
  }

  /**
   * One round: the inbox's due messages in one statement, then up to PROVIDER_BATCH due messages
   * for providers (and anything simulated) claimed and sent. Returns how many it took.
   */
  async runOnce(): Promise<number> {
    const now = new Date();
    const providers = await this.providersByChannel();
    const simulatedTo = [...SMOKE_TEST_RECIPIENTS];
    const context = await this.messaging.statusContext();
    const inboxed = await this.repo.deliverDueToInbox(now, this.inboxChannels, simulatedTo, BATCH, (rows, trx) => this.messaging.queueStatusJobsFor(rows, context, trx));
    if (inboxed.length >= BATCH) return inboxed.length;
    const sendable = CHANNELS.filter((c) => providers.get(c)?.length);
    const batch = await this.repo.claimDue(this.workerId, now, new Date(now.getTime() + LOCK_MS), PROVIDER_BATCH, sendable, simulatedTo);
    if (!batch.length) return inboxed.length;
    const outcomes: Outcome[] = [];
    const toSend: DueRow[] = [];
    for (const row of batch) {
      const simulated = simulatedOutcome(row);
      if (simulated) outcomes.push({ id: row.id, status: simulated, provider: 'simulated', providerRef: row.id, sentAt: now, completedAt: now });
      else toSend.push(row);
    }
    await this.record(outcomes, batch, context);
    if (toSend.length) await this.sendAll(await this.repo.notificationsByIds(toSend.map((r) => r.id)), providers);
    return inboxed.length + batch.length;
  }

  /**
   * Records outcomes (fenced on this worker's lock), and in the same transaction queues what
   * their statuses call for (callbacks, a resident's next channel): a crash loses neither.
   */
  private async record(outcomes: Outcome[], rows: Pick<NotificationsTable, 'id' | 'service_id'>[], context?: StatusContext): Promise<void> {
    if (!outcomes.length) return;
    const ctx = context ?? (await this.messaging.statusContext());
    const serviceOf = new Map(rows.map((r) => [r.id, r.service_id]));
    const changes = outcomes.map((o) => ({ id: o.id, service_id: serviceOf.get(o.id) as string, status: o.status }));
    await this.repo.recordOutcomes(this.workerId, outcomes, new Date(), (trx) => this.messaging.queueStatusJobsFor(changes, ctx, trx));
  }

  /**
   * Sends, SEND_CONCURRENCY at a time, recording each outcome as soon as it is known. A row whose
   * delivery throws is left claimed: when its lock runs out it is in doubt, and reconciled.
   */
  private async sendAll(rows: NotificationsTable[], providers: Map<string, Provider[]>): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(SEND_CONCURRENCY, rows.length) }, async () => {
        while (next < rows.length) {
          const row = rows[next++];
          try {
            const outcome = await this.deliver(row, providers.get(row.type) ?? []);
            if (outcome === 'skipped') await this.repo.release(this.workerId, row.id);
            else await this.record([outcome], [row]);
          } catch (err) {
            this.log.error({ err, notification: row.id }, 'delivery of a notification failed; it will be checked again when its claim runs out');
          }
        }
      }),
    );
  }

  /** One notification through its channel's providers in order, reconciling a send left in doubt. */
  private async deliver(row: NotificationsTable, providers: Provider[]): Promise<Outcome | 'skipped'> {
    const message = await this.message(row);
    // Handed to a provider before (a receipt may even have moved it on) and claimed again: in doubt.
    if (row.status !== 'created' && row.provider) {
      const earlier = providers.find((p) => p.name === row.provider);
      if (!earlier?.lookup)
        return {
          id: row.id,
          status: 'technical-failure',
          reason: `The last attempt through ${row.provider} stopped before it answered; not sent again in case it arrived.`,
          provider: row.provider,
          completedAt: new Date(),
        };
      const found = await this.reconcile(row, earlier, message);
      if (found !== 'not found') return found;
    }
    let lastError = 'No provider is enabled for this channel.';
    for (const provider of providers) {
      // A provider with a sending rate: over it, the message waits its turn (no failover: nothing failed).
      const bucket = this.rates.get(provider.id);
      if (bucket && !bucket.take()) return { id: row.id, status: 'created', reason: null, provider: provider.name, retryAt: new Date(Date.now() + Math.max(bucket.wait(), 50)) };
      if (!(await this.repo.markInFlight(this.workerId, row.id, provider.name, new Date()))) return 'skipped';
      try {
        const accepted = await provider.send(message);
        this.note(provider, true);
        return this.accepted(row, provider, accepted);
      } catch (err) {
        const e = err instanceof ProviderError ? err : new ProviderError(String((err as Error)?.message ?? err), 'temporary');
        this.note(provider, false, e.message);
        lastError = `${provider.name}: ${e.message}`;
        if (e.kind === 'permanent') return { id: row.id, status: 'permanent-failure', reason: lastError, provider: provider.name, completedAt: new Date() };
        if (e.kind === 'unknown' && provider.lookup) {
          const found = await this.reconcile(row, provider, message);
          if (found !== 'not found') return found;
        } else if (e.kind === 'unknown') {
          return { id: row.id, status: 'technical-failure', reason: `${lastError}. Not sent again in case it arrived.`, provider: provider.name, completedAt: new Date() };
        }
      }
    }
    const attempts = row.attempts + 1;
    if (attempts >= MAX_ATTEMPTS) return { id: row.id, status: 'technical-failure', reason: lastError, provider: providers.at(-1)?.name ?? INBOX, completedAt: new Date() };
    // Back to waiting, not "sending": nothing is out there.
    return { id: row.id, status: 'created', reason: lastError, provider: providers.at(-1)?.name ?? INBOX, retryAt: new Date(Date.now() + 30_000 * 2 ** (attempts - 1)) };
  }

  /**
   * Asks a provider whether it took a message whose answer was lost. When it cannot say (the
   * lookup fails), the message stays in doubt and is asked about again later: never sent again
   * on a guess.
   */
  private async reconcile(row: NotificationsTable, provider: Provider, message: OutgoingMessage): Promise<Outcome | 'not found'> {
    try {
      const found = await provider.lookup?.(row.id, message);
      return found ? this.accepted(row, provider, found) : 'not found';
    } catch (err) {
      return {
        id: row.id,
        status: 'sending',
        reason: `Checking with ${provider.name} whether it took the message: ${(err as Error).message}`,
        provider: provider.name,
        retryAt: new Date(Date.now() + 60_000),
      };
    }
  }

  private accepted(row: NotificationsTable, provider: Provider, a: Accepted): Outcome {
    const now = new Date();
    const final = a.status === 'delivered';
    return { id: row.id, status: row.type === 'letter' && !final ? 'accepted' : a.status, provider: provider.name, providerRef: a.reference, sentAt: now, completedAt: final ? now : null };
  }

  private note(provider: Provider, ok: boolean, error?: string): void {
    const h = this.health.get(provider.id) ?? {
      id: provider.id,
      name: provider.name,
      kind: provider.kind,
      channel: provider.channel,
      sent: 0,
      failed: 0,
      lastError: null,
      lastErrorAt: null,
      lastSuccessAt: null,
    };
    if (ok) {
      h.sent++;
      h.lastSuccessAt = new Date();
    } else {
      h.failed++;
      h.lastError = error ?? null;
      h.lastErrorAt = new Date();
    }
    this.health.set(provider.id, h);
  }

  /** What a provider is given: the stored text, and for email the HTML rendered again from the template's version. */
  private async message(row: NotificationsTable): Promise<OutgoingMessage> {
    const service = (await this.messaging.serviceForAuth(row.service_id))?.row;
    const m: OutgoingMessage = {
      id: row.id,
      channel: row.type,
      to: row.normalised_to,
      from: '',
      text: row.body,
      subject: row.subject ?? undefined,
      reference: row.reference,
      address: row.address_json ?? undefined,
      language: row.language === 'cy' ? 'cy' : 'en',
    };
    if (row.type === 'voice' || row.type === 'rcs') {
      const options = (await this.messaging.getTemplate(row.template_id, row.template_version)).options_json;
      m.menu = options.menu;
      m.suggestions = options.suggestions;
    }
    if (row.type === 'email') {
      const template = await this.messaging.getTemplate(row.template_id, row.template_version);
      const rendered = this.messaging.render(template, row.personalisation_json, row.language as 'en' | 'cy', { name: service?.name ?? '' });
      m.html = rendered.html && this.trackLinks ? await this.trackLinks(row.id, rendered.html) : rendered.html;
      m.from = service ? `"${service.name.replace(/"/g, '')}" <${service.email_from}>` : '';
      m.replyTo = row.reply_to ?? service?.email_reply_to;
      const mailto = `<mailto:${row.reply_to ?? service?.email_reply_to ?? service?.email_from}?subject=unsubscribe>`;
      // With the sender's one-click link, mail clients can unsubscribe in one step (RFC 8058).
      m.headers = row.unsubscribe_url ? { 'List-Unsubscribe': `<${row.unsubscribe_url}>, ${mailto}`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : { 'List-Unsubscribe': mailto };
    } else m.from = row.reply_to ?? service?.sms_sender ?? '';
    return m;
  }

  /**
   * The enabled providers by channel, and which channels go to the development inbox: those
   * with an enabled provider of kind inbox, or with no provider set up at all (a fresh Weft).
   * A channel whose providers are all turned off is neither: its messages wait.
   */
  private async providersByChannel(): Promise<Map<string, Provider[]>> {
    if (this.providers && Date.now() - this.providers.at < 60_000) return this.providers.byChannel;
    const byChannel = new Map<string, Provider[]>();
    const configured = new Set<string>();
    const inbox = new Set<string>();
    for (const row of await this.repo.listProviders()) {
      if (row.kind === INBOX) {
        if (row.is_enabled) inbox.add(row.channel);
        continue;
      }
      configured.add(row.channel);
      if (!row.is_enabled) continue;
      const factory = FACTORIES[row.kind];
      if (!factory) {
        this.log.warn({ provider: row.name, kind: row.kind }, 'unknown provider kind');
        continue;
      }
      const secrets = row.secrets_sealed ? (JSON.parse(unseal(this.secret, PROVIDER_PURPOSE, row.secrets_sealed)) as Record<string, string>) : {};
      const list = byChannel.get(row.channel) ?? [];
      list.push(factory(row, secrets));
      const rate = Number((row.settings_json as { ratePerSecond?: unknown }).ratePerSecond);
      if (rate > 0 && this.rates.get(row.id)?.perMinute !== rate * 60) this.rates.set(row.id, new TokenBucket(rate * 60, Math.max(1, Math.ceil(rate))));
      byChannel.set(row.channel, list);
    }
    this.inboxChannels = CHANNELS.filter((c) => !byChannel.get(c)?.length && (inbox.has(c) || !configured.has(c)));
    this.providers = { at: Date.now(), byChannel };
    return byChannel;
  }
}
