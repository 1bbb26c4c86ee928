import type { Actor } from '../../platform/auth/actor.js';
import { isUniqueViolation } from '../../platform/db/dialect.js';
import type { ResidentsService, ResidentView } from '../residents/index.js';
import { quietUntil } from '../residents/index.js';
import type { StatusChange, StatusJob } from './callbacks.js';
import { messagingErrors } from './messaging.errors.js';
import type { NotificationsTable } from './messaging.repository.js';
import type { Channel } from './messaging.schema.js';
import type { MessagingService } from './messaging.service.js';
import type { KeyType } from './notify.auth.js';
import type { NotifySending } from './notify.service.js';
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

export const FALLBACK_JOB = 'messaging.fallback';

/** Statuses after which the next channel is tried. */
const FAILED = new Set(['permanent-failure', 'temporary-failure', 'technical-failure']);

/** Where a resident can be reached on a channel, if anywhere. */
export function contactFor(resident: ResidentView, channel: Channel): { recipient: string; normalised: string; address?: string[] } | undefined {
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

/** The numbers of a resident's that an opt-out (STOP) can block. */
export function numbersOf(resident: ResidentView): string[] {
  return [resident.mobile, resident.landline?.replace(/^\+/, '')].filter((x): x is string => !!x);
}

/**
 * The channels to try for a resident, in their order for the topic, kept to those the message
 * has a template for and the resident can be reached on. Empty: they cannot be reached.
 */
export function channelChain(
  residents: Pick<ResidentsService, 'channelsFor'>,
  resident: ResidentView,
  topic: string | undefined,
  templates: Partial<Record<Channel, string>>,
  optedOut: Set<string>,
): { channel: Channel; templateId: string }[] {
  return residents
    .channelsFor(resident, topic)
    .filter((c) => templates[c] && reachable(resident, c, optedOut))
    .map((channel) => ({ channel, templateId: templates[channel] as string }));
}

/** A channel the resident has a contact point on and has not opted out of (STOP) on. */
function reachable(resident: ResidentView, channel: Channel, optedOut: Set<string>): boolean {
  const contact = contactFor(resident, channel);
  return !!contact && !(channel !== 'email' && channel !== 'letter' && optedOut.has(contact.normalised));
}

/**
 * Consent can end between a sender's check and its rows being stored, when the withdrawal's own
 * cancelling found nothing to cancel yet: checked again once the rows are in (one statement for
 * a whole chunk), and what the ended consent covered cancelled.
 */
export async function cancelWhereConsentEnded(
  messaging: MessagingService,
  residents: Pick<ResidentsService, 'consentEndedFor' | 'consentEndedSince' | 'topics'>,
  residentIds: string[],
  topic: string | null,
  readAt?: Date,
): Promise<void> {
  if (!topic || !residentIds.length) return;
  const ended = readAt ? await residents.consentEndedSince(residentIds, topic, readAt) : await residents.consentEndedFor(residentIds, topic);
  if (!ended.length) return;
  const name = (await residents.topics.list()).find((t) => t.code === topic)?.name ?? topic;
  for (const residentId of ended) await messaging.residentConsentEnded({ residentId, topic: { code: topic, name }, source: 'a check after sending', at: new Date() });
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
    private readonly limits: Pick<NotifySending, 'checkDailyLimit' | 'countSent'>,
  ) {}

  async send(actor: Actor, req: ResidentSendRequest): Promise<NotificationsTable> {
    const resident = await this.residents.get(req.residentId).catch(() => {
      throw messagingErrors.NOTIFY_BAD_REQUEST('Resident not found');
    });
    // A team key may only reach the team: residents are not the team.
    if (actor.keyType === 'team') throw messagingErrors.NOTIFY_BAD_REQUEST('Can’t send to this recipient using a team-only API key');
    const optedOut = await this.messaging.repo.optedOut(numbersOf(resident));
    const chain = channelChain(this.residents, resident, req.topic, req.templates, optedOut);
    if (!chain.length) throw messagingErrors.NOTIFY_BAD_REQUEST('The resident cannot be reached on any channel this message has a template for');
    const service = actor.serviceId as string;
    // Every template is checked now, so a fallback cannot fail later for a missing placeholder.
    // ((name)) is the resident's own unless the sender gives one.
    const personalisation = { name: resident.name, ...req.personalisation };
    for (const step of chain) await this.template(service, step.channel, step.templateId, personalisation, resident.language);
    const scheduledFor = req.urgent ? null : quietUntil(resident, new Date());
    const serviceRow = (await this.messaging.serviceForAuth(service))?.row;
    const counted = actor.keyType !== 'test' && serviceRow;
    if (counted) await this.limits.checkDailyLimit(serviceRow, chain[0].channel);
    const row = await this.queue(actor.id, actor.keyType as KeyType, service, resident, chain, personalisation, req.reference ?? null, scheduledFor, null, req.topic ?? null);
    if (counted) this.limits.countSent(serviceRow, chain[0].channel);
    await cancelWhereConsentEnded(this.messaging, this.residents, [resident.id], req.topic ?? null);
    return row;
  }

  /** The jobs failures call for: each failed notification is looked at once, and sent on its next channel if it has one. */
  static jobsFor(changes: StatusChange[]): StatusJob[] {
    return changes.filter((c) => FAILED.has(c.status)).map((c) => ({ name: FALLBACK_JOB, payload: { id: c.id, serviceId: c.service_id }, key: `fallback:${c.id}` }));
  }

  /**
   * The job: a failed notification sent to a resident goes again on their next channel, unless
   * they have since withdrawn their consent to its topic or been erased.
   */
  async fallback(c: { id: string; serviceId: string }): Promise<void> {
    // A failure can be reported twice (a receipt and an outcome): the job's key and the unique fallback_of make it one.
    const failed = await this.messaging.getNotification(c.serviceId, c.id);
    if (!failed?.resident_id || !failed.fallback_json?.length || !FAILED.has(failed.status)) return;
    const resident = await this.residents.get(failed.resident_id).catch(() => undefined);
    if (!resident || resident.erasedAt) return;
    if (failed.topic && resident.withdrawnTopics.includes(failed.topic)) return;
    const optedOut = await this.messaging.repo.optedOut(numbersOf(resident));
    const chain = failed.fallback_json.filter((s) => reachable(resident, s.channel as Channel, optedOut));
    if (!chain.length) return;
    try {
      await this.queue(failed.key_id, failed.key_type as KeyType, failed.service_id, resident, chain, failed.personalisation_json, failed.reference, null, failed.id, failed.topic);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    await cancelWhereConsentEnded(this.messaging, this.residents, [resident.id], failed.topic);
  }

  private async template(serviceId: string, channel: Channel, templateId: string, personalisation: Record<string, unknown>, language: 'en' | 'cy') {
    const template = await this.messaging.currentTemplate(templateId);
    if (!template || template.service_id !== serviceId) throw messagingErrors.NOTIFY_BAD_REQUEST('Template not found');
    if (template.type !== channel) throw messagingErrors.NOTIFY_BAD_REQUEST(`${template.type} template is not suitable for ${channel} notification`);
    const service = await this.messaging.getService(serviceId);
    const rendered = this.messaging.renderToStore(template, personalisation, language, service);
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
    topic: string | null,
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
        topic,
      },
    ]);
    return row;
  }
}
