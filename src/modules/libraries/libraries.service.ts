import type { Actor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import type { Db } from '../../platform/db/database.js';
import { formatDate } from '../../platform/web/i18n.js';
import type { MessagingService, ResidentSending } from '../messaging/index.js';
import type { HeldData, ResidentsService } from '../residents/index.js';
import { LibrariesRepository } from './libraries.repository.js';
import type { EventResult, ReservationReady } from './libraries.schema.js';
import { librariesErrors } from './libraries.errors.js';

/** The messaging service library messages come from, and its templates: made once, then the council's to reword. */
export const LIBRARY_SERVICE = { name: 'Libraries', smsSender: 'LIBRARY' };
export const RESERVATION_TEMPLATES = [
  {
    name: 'Reservation ready (text)',
    type: 'sms' as const,
    body: 'Your reserved item ((title)) is ready to collect from ((branch)). Please collect it by ((collect_by)).',
    bodyCy: 'Mae’r eitem a gadwyd gennych, ((title)), yn barod i’w chasglu o ((branch)). Casglwch hi erbyn ((collect_by_cy)).',
  },
  {
    name: 'Reservation ready (email)',
    type: 'email' as const,
    subject: 'Your reserved item is ready to collect',
    body: 'Dear ((name)),\n\n((title)) is ready to collect from ((branch)).\n\nPlease collect it by ((collect_by)). After that it goes to the next person waiting.',
    subjectCy: 'Mae’r eitem a gadwyd gennych yn barod i’w chasglu',
    bodyCy: 'Annwyl ((name)),\n\nMae ((title)) yn barod i’w chasglu o ((branch)).\n\nCasglwch hi erbyn ((collect_by_cy)). Ar ôl hynny bydd yn mynd i’r person nesaf sy’n aros.',
  },
  {
    name: 'Reservation ready (voice call)',
    type: 'voice' as const,
    body: 'This is your library. ((title)) is ready to collect from ((branch)). Please collect it by ((collect_by)).',
    bodyCy: 'Eich llyfrgell sydd yma. Mae ((title)) yn barod i’w chasglu o ((branch)). Casglwch hi erbyn ((collect_by_cy)).',
  },
  {
    name: 'Reservation ready (letter)',
    type: 'letter' as const,
    subject: 'Your reserved item is ready to collect',
    body: 'Dear ((name)),\n\n((title)) is ready to collect from ((branch)).\n\nPlease collect it by ((collect_by)).',
    subjectCy: 'Mae’r eitem a gadwyd gennych yn barod i’w chasglu',
    bodyCy: 'Annwyl ((name)),\n\nMae ((title)) yn barod i’w chasglu o ((branch)).\n\nCasglwch hi erbyn ((collect_by_cy)).',
  },
];
const TOPIC = 'library-reservations';
/** An event claimed this long ago with no message recorded is taken to have been cut short (a crash): it may be sent. */
const STALE_CLAIM_MS = 60_000;

/**
 * Libraries. The library system knows borrowers by card, so a resident links their card (or
 * staff do it for them); when a reservation is ready the library system posts an event and the
 * resident is told on the channel they prefer for library reservations, in their language, with
 * the next channel to fall back on. The library system's event id makes a repeated post send
 * nothing more.
 */
export class LibrariesService {
  readonly repo: LibrariesRepository;

  constructor(
    db: Db,
    private readonly audit: AuditService,
    private readonly residents: Pick<ResidentsService, 'get'>,
    private readonly messaging: MessagingService,
    private readonly residentSending: ResidentSending,
  ) {
    this.repo = new LibrariesRepository(db);
  }

  async reservationReady(actor: Actor, event: ReservationReady): Promise<EventResult> {
    const card = normaliseCard(event.cardNumber);
    const collectBy = new Date(`${event.collectBy}T12:00:00Z`);
    if (Number.isNaN(collectBy.getTime()) || collectBy.toISOString().slice(0, 10) !== event.collectBy)
      throw librariesErrors.LIBRARY_EVENT_INVALID(undefined, [{ field: 'collectBy', message: 'The date must be a real date, YYYY-MM-DD' }]);
    const { service, templates } = await this.messaging.ensureService(actor, LIBRARY_SERVICE, RESERVATION_TEMPLATES);
    const seen = await this.repo.findEvent(event.eventId);
    if (seen?.notification_id) return { eventId: event.eventId, notificationId: seen.notification_id, channel: null, duplicate: true };
    if (seen) {
      // Claimed before: sent after all (its reference says so), being sent now, or cut short by a crash.
      const [sent] = await this.messaging.repo.listNotifications({ serviceId: service.id, reference: event.eventId, limit: 1 });
      if (sent) {
        await this.repo.setNotification(event.eventId, sent.id);
        return { eventId: event.eventId, notificationId: sent.id, channel: sent.type, duplicate: true };
      }
      if (Date.now() - seen.received_at.getTime() < STALE_CLAIM_MS) return { eventId: event.eventId, notificationId: null, channel: null, duplicate: true };
    } else if (!(await this.repo.claimEvent({ event_id: event.eventId, kind: 'reservation_ready', card_number: card, notification_id: null, received_at: new Date() }))) {
      return { eventId: event.eventId, notificationId: null, channel: null, duplicate: true };
    }
    const linked = await this.repo.findCard(card);
    if (!linked) {
      await this.repo.releaseEvent(event.eventId);
      throw librariesErrors.LIBRARY_CARD_NOT_FOUND();
    }
    try {
      const row = await this.residentSending.send(
        { ...actor, id: null, serviceId: service.id, keyType: 'normal' },
        {
          residentId: linked.resident_id,
          templates: Object.fromEntries(RESERVATION_TEMPLATES.map((t) => [t.type, templates.get(t.name)?.id as string])),
          topic: TOPIC,
          personalisation: {
            title: event.title,
            branch: event.branch,
            collect_by: formatDate('en', collectBy),
            collect_by_cy: formatDate('cy', collectBy),
          },
          reference: event.eventId,
        },
      );
      await this.repo.setNotification(event.eventId, row.id);
      return { eventId: event.eventId, notificationId: row.id, channel: row.type, duplicate: false };
    } catch (err) {
      await this.repo.releaseEvent(event.eventId);
      throw err;
    }
  }

  async cards(residentId: string): Promise<string[]> {
    return (await this.repo.cardsOf((await this.residents.get(residentId)).id)).map((c) => c.card_number);
  }

  async linkCard(actor: Actor, residentId: string, cardNumber: string, origin: Origin = {}): Promise<string[]> {
    const resident = await this.residents.get(residentId);
    const card = normaliseCard(cardNumber);
    if (!(await this.repo.linkCard({ card_number: card, resident_id: resident.id, created_at: new Date() }))) throw librariesErrors.LIBRARY_CARD_TAKEN();
    await this.audit.record({ actor, action: 'libraries.card_link', summary: 'Linked a library card to a resident', targetType: 'resident', targetId: resident.id, ...origin });
    return this.cards(resident.id);
  }

  async unlinkCard(actor: Actor, residentId: string, cardNumber: string, origin: Origin = {}): Promise<string[]> {
    const resident = await this.residents.get(residentId);
    if (!(await this.repo.unlinkCard(normaliseCard(cardNumber), resident.id))) throw librariesErrors.LIBRARY_CARD_NOT_FOUND();
    await this.audit.record({ actor, action: 'libraries.card_unlink', summary: 'Removed a library card from a resident', targetType: 'resident', targetId: resident.id, ...origin });
    return this.cards(resident.id);
  }

  // ---------------------------------------------------------------- a resident's data (residents' rights)

  /** The resident's library cards and the reservation events about them (subject access). */
  async exportResident(r: { id: string }): Promise<HeldData> {
    const cards = await this.repo.cardsOf(r.id);
    const events = await this.repo.eventsFor(cards.map((c) => c.card_number));
    return {
      summary: [`Library cards: ${cards.length ? cards.map((c) => c.card_number).join(', ') : 'none'}; reservations the library told them of: ${events.length}.`],
      cards: cards.map((c) => ({ cardNumber: c.card_number, linkedAt: c.created_at })),
      events: events.map((e) => ({ eventId: e.event_id, kind: e.kind, cardNumber: e.card_number, notificationId: e.notification_id, receivedAt: e.received_at })),
    };
  }

  /** Erasure: the resident's cards unlinked, and forgotten by the events about them. Can run again. */
  forgetResident(r: { id: string }): Promise<{ cards: number; events: number }> {
    return this.repo.forgetResident(r.id);
  }
}

/** Card numbers as library systems print them, without spaces or dashes, upper case. */
export function normaliseCard(card: string): string {
  return card.replace(/[\s-]/g, '').toUpperCase();
}
