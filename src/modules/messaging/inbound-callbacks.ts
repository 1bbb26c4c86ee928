import { unseal } from '../../platform/auth/secrets.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import type { Logger } from '../../services.js';
import { CALLBACK_ATTEMPTS, CALLBACK_RETRY_MS, postCallback } from './callbacks.js';
import type { ReceivedTextsTable } from './messaging.repository.js';
import type { MessagingService } from './messaging.service.js';
import { notifyTime } from './notify.mapping.js';

export const INBOUND_CALLBACK_JOB = 'messaging.inbound_callback';
export const INBOUND_CALLBACK_PURPOSE = 'weft messaging inbound callback token';

/**
 * Received-text callbacks, as GOV.UK Notify sends them: each text a resident sends to a
 * service's number is POSTed to the service's inbound callback URL with its own bearer token,
 * through a durable job, with the delivery-status callbacks' rules (callbacks.ts): five more
 * tries, five minutes apart, on a timeout, a network error, a 5xx or a 429.
 */
export class InboundCallbacks {
  constructor(
    private readonly messaging: MessagingService,
    private readonly jobs: JobQueue,
    private readonly secret: string,
    private readonly log: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    jobs.register(INBOUND_CALLBACK_JOB, (p: { id: string; serviceId: string }) => this.send(p), { maxAttempts: CALLBACK_ATTEMPTS, retryDelayMs: () => CALLBACK_RETRY_MS });
  }

  /** Queues a callback for each text kept for a service that set an inbound callback URL. */
  async received(texts: Pick<ReceivedTextsTable, 'id' | 'service_id'>[]): Promise<void> {
    for (const t of texts) {
      const service = (await this.messaging.serviceForAuth(t.service_id))?.row;
      if (!service?.inbound_callback_url) continue;
      await this.jobs.enqueue(INBOUND_CALLBACK_JOB, { id: t.id, serviceId: t.service_id }, { idempotencyKey: `inbound-callback:${t.id}` });
    }
  }

  private async send(p: { id: string; serviceId: string }): Promise<void> {
    const service = await this.messaging.getServiceRow(p.serviceId);
    const text = await this.messaging.receivedText(p.serviceId, p.id);
    // The service turned its callback off, or the text is gone: nothing to tell.
    if (!service?.inbound_callback_url || !text) return;
    const body = {
      id: text.id,
      source_number: text.user_number,
      destination_number: text.notify_number,
      message: text.content,
      date_received: notifyTime(text.created_at),
    };
    const token = service.inbound_callback_token_sealed ? unseal(this.secret, INBOUND_CALLBACK_PURPOSE, service.inbound_callback_token_sealed) : '';
    const refused = await postCallback(this.fetchImpl, { url: service.inbound_callback_url, token, name: service.name }, body);
    if (refused) this.log.warn({ service: service.id, receivedText: text.id, status: refused }, 'received-text callback refused; not retried');
  }
}
