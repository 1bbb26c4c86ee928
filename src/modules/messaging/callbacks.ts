import { unseal } from '../../platform/auth/secrets.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import type { Logger } from '../../services.js';
import type { MessagingService } from './messaging.service.js';
import { notifyTime } from './notify.mapping.js';

export const CALLBACK_JOB = 'messaging.callback';
export const CALLBACK_PURPOSE = 'weft messaging callback token';
/** Notify's rule: five more tries, five minutes apart. */
export const CALLBACK_ATTEMPTS = 6;
export const CALLBACK_RETRY_MS = 5 * 60_000;
const TIMEOUT_MS = 5000;
/** Statuses a service is told about (Notify does not call back for pending). */
const CALLBACK_STATUSES = new Set(['delivered', 'permanent-failure', 'temporary-failure', 'technical-failure']);

export interface StatusChange {
  id: string;
  service_id: string;
  status: string;
}

/** A job a status change calls for (a callback, a resident's next channel), with its idempotency key. */
export interface StatusJob {
  name: string;
  payload: unknown;
  key: string;
}

/** Thrown for an answer worth trying again: the job queue retries it. */
class TryAgain extends Error {}

/**
 * Delivery-status callbacks, as GOV.UK Notify sends them: a POST of the notification's final
 * status to the service's callback URL with its bearer token, through a durable job, retried
 * five times five minutes apart on a timeout, a network error, a 5xx or a 429 (not on another 4xx).
 */
export class Callbacks {
  constructor(
    private readonly messaging: MessagingService,
    jobs: JobQueue,
    private readonly secret: string,
    private readonly log: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    jobs.register(CALLBACK_JOB, (p: { id: string; serviceId: string }) => this.send(p), { maxAttempts: CALLBACK_ATTEMPTS, retryDelayMs: () => CALLBACK_RETRY_MS });
  }

  /**
   * The callback jobs for changes that reached a final status, for services that asked for them
   * (`withCallback`, looked up beforehand): worked out without the database, so they can be queued
   * in the transaction that records the status.
   */
  static jobsFor(changes: StatusChange[], withCallback: ReadonlySet<string>): StatusJob[] {
    return changes
      .filter((c) => CALLBACK_STATUSES.has(c.status) && withCallback.has(c.service_id))
      .map((c) => ({ name: CALLBACK_JOB, payload: { id: c.id, serviceId: c.service_id }, key: `callback:${c.id}:${c.status}` }));
  }

  private async send(p: { id: string; serviceId: string }): Promise<void> {
    const service = await this.messaging.getServiceRow(p.serviceId);
    const n = await this.messaging.getNotification(p.serviceId, p.id);
    // Notify calls back for emails and text messages (and Weft for calls and RCS), not for letters.
    if (!service?.callback_url || !n || n.type === 'letter') return;
    const body = {
      id: n.id,
      reference: n.reference,
      to: n.recipient,
      status: n.status,
      created_at: notifyTime(n.created_at),
      completed_at: notifyTime(n.completed_at ?? n.updated_at),
      sent_at: notifyTime(n.sent_at),
      notification_type: n.type,
      template_id: n.template_id,
      template_version: n.template_version,
    };
    const token = service.callback_token_sealed ? unseal(this.secret, CALLBACK_PURPOSE, service.callback_token_sealed) : '';
    const refused = await postCallback(this.fetchImpl, { url: service.callback_url, token, name: service.name }, body);
    if (refused) this.log.warn({ service: service.id, notification: n.id, status: refused }, 'delivery-status callback refused; not retried');
  }
}

/**
 * POSTs one callback as Notify does (JSON, the bearer token, a 5-second timeout). Throws on a
 * timeout, a network error, a 5xx or a 429, so the job queue tries again; returns the status of
 * any other refusal (4xx, or a redirect, which is not followed), which is not retried, or undefined when the service took it. Shared by
 * delivery-status and received-text callbacks (inbound-callbacks.ts).
 */
export async function postCallback(fetchImpl: typeof fetch, to: { url: string; token: string; name: string }, body: unknown): Promise<number | undefined> {
  let res: Response;
  try {
    res = await fetchImpl(to.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${to.token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      // A redirect is not followed: it could lead past the https-only rule, or inside the council's network.
      redirect: 'manual',
    });
  } catch (err) {
    throw new TryAgain(`The callback to ${to.name} failed: ${(err as Error).message}`);
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.status >= 500 || res.status === 429) throw new TryAgain(`The callback to ${to.name} answered ${res.status}`);
  return res.status >= 300 ? res.status : undefined;
}
