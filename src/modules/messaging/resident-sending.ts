import type { Actor } from '../../platform/auth/actor.js';
import type { ResidentsService, ResidentView } from '../residents/index.js';
import { quietUntil } from '../residents/index.js';
import type { StatusChange } from './callbacks.js';
import { messagingErrors } from './messaging.errors.js';
import type { NotificationsTable } from './messaging.repository.js';
import type { Channel } from './messaging.schema.js';
import type { MessagingService } from './messaging.service.js';
import type { KeyType } from './notify.auth.js';
import { missingPersonalisationMessage } from './render/index.js';

export interface ResidentSendRequest {
  residentId: string;
  /** a template for each channel the message may go on */
  templates: Partial<Record<Channel, string>>;
  /** the topic the resident's preferences are looked up by (bin-collections, library-reservations, …) */
  topic?: string;
  personalisation: Record<string, unknown>;
  reference?: string | null;
  /** urgent messages (a school closed today) ignore quiet hours */
  urgent?: boolean;
}

/** Statuses after which the next channel is tried. */
const FAILED = new Set(['permanent-failure', 'temporary-failure', 'technical-failure']);

/** Where a resident can be reached on a channel, if anywhere. */
function contactFor(resident: ResidentView, channel: Channel): { recipient: string; normalised: string; address?: string[] } | undefined {
  switch (channel) {
    case 'email':
      return resident.email ? { recipient: resident.email, normalised: resident.email } : undefined;
    case 'sms':
    case 'rcs':
      return resident.mobile ? { recipient: `+${resident.mobile}`, normalised: resident.mobile } : undefined;
    case 'voice': {
      const number = resident.mobile ?? resident.landline?.replace(/^\+/, '');
      return number ? { recipient: `+${number}`, normalised: number } : undefined;
    }
    case 'letter':
      return resident.address ? { recipient: resident.address[0], normalised: resident.address.join(', ').toLowerCase(), address: resident.address } : undefined;
  }
}

/**
 * Sending to a resident on the channel they prefer for the topic, in their language, outside
 * their quiet hours unless urgent. The channels after the first that the message has a template
 * for and the resident a contact point for are kept on the notification; when it fails, the
 * next is sent (RCS → SMS → voice → letter, or whatever order the resident chose).
 */
export class ResidentSending {
  constructor(
    private readonly messaging: MessagingService,
    private readonly residents: ResidentsService,
  ) {}

  async send(actor: Actor, req: ResidentSendRequest): Promise<NotificationsTable> {
    const resident = await this.residents.get(req.residentId).catch(() => {
      throw messagingErrors.NOTIFY_BAD_REQUEST('Resident not found');
    });
    const chain = this.residents
      .channelsFor(resident, req.topic)
      .filter((c) => req.templates[c] && contactFor(resident, c))
      .map((channel) => ({ channel, templateId: req.templates[channel] as string }));
    if (!chain.length) throw messagingErrors.NOTIFY_BAD_REQUEST('The resident cannot be reached on any channel this message has a template for');
    const service = actor.serviceId as string;
    // Every template is checked now, so a fallback cannot fail later for a missing placeholder.
    for (const step of chain) await this.template(service, step.channel, step.templateId, req.personalisation, resident.language);
    const scheduledFor = req.urgent ? null : quietUntil(resident, new Date());
    return this.queue(actor.id, actor.keyType as KeyType, service, resident, chain, req.personalisation, req.reference ?? null, scheduledFor, null);
  }

  /** The status hook: a failed notification with channels left goes again on the next one. */
  async statusChanged(changes: StatusChange[]): Promise<void> {
    for (const c of changes) {
      if (!FAILED.has(c.status)) continue;
      const failed = await this.messaging.getNotification(c.service_id, c.id);
      if (!failed?.resident_id || !failed.fallback_json?.length) continue;
      const resident = await this.residents.get(failed.resident_id).catch(() => undefined);
      if (!resident) continue;
      const chain = failed.fallback_json.filter((s) => contactFor(resident, s.channel as Channel));
      if (!chain.length) continue;
      await this.queue(failed.key_id, failed.key_type as KeyType, failed.service_id, resident, chain, failed.personalisation_json, failed.reference, null, failed.id);
    }
  }

  private async template(serviceId: string, channel: Channel, templateId: string, personalisation: Record<string, unknown>, language: 'en' | 'cy') {
    const template = await this.messaging.currentTemplate(templateId);
    if (!template || template.service_id !== serviceId) throw messagingErrors.NOTIFY_BAD_REQUEST('Template not found');
    if (template.type !== channel) throw messagingErrors.NOTIFY_BAD_REQUEST(`${template.type} template is not suitable for ${channel} notification`);
    const service = await this.messaging.getService(serviceId);
    const rendered = this.messaging.render(template, personalisation, language, service);
    if (rendered.missing.length) throw messagingErrors.NOTIFY_BAD_REQUEST(missingPersonalisationMessage(rendered.missing));
    if (rendered.problem) throw messagingErrors.NOTIFY_BAD_REQUEST(rendered.problem);
    return { template, rendered };
  }

  private async queue(
    keyId: string | null,
    keyType: KeyType,
    serviceId: string,
    resident: ResidentView,
    chain: { channel: Channel | string; templateId: string }[],
    personalisation: Record<string, unknown>,
    reference: string | null,
    scheduledFor: Date | null,
    fallbackOf: string | null,
  ): Promise<NotificationsTable> {
    const [first, ...rest] = chain;
    const channel = first.channel as Channel;
    const { template, rendered } = await this.template(serviceId, channel, first.templateId, personalisation, resident.language);
    const contact = contactFor(resident, channel) as NonNullable<ReturnType<typeof contactFor>>;
    const [row] = await this.messaging.queue([
      {
        serviceId,
        keyId,
        keyType,
        template,
        recipient: contact.recipient,
        normalisedTo: contact.normalised,
        address: contact.address ?? null,
        personalisation,
        rendered,
        reference,
        language: resident.language,
        scheduledFor,
        residentId: resident.id,
        fallback: rest,
        fallbackOf,
      },
    ]);
    return row;
  }
}
