import type { Db } from '../../platform/db/database.js';

export interface LibraryCardsTable {
  card_number: string;
  resident_id: string;
  created_at: Date;
}

export interface LibraryEventsTable {
  event_id: string;
  kind: string;
  card_number: string;
  notification_id: string | null;
  received_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    library_cards: LibraryCardsTable;
    library_events: LibraryEventsTable;
  }
}

/** Library cards and the events the library system posts: the only SQL of the libraries module. */
export class LibrariesRepository {
  constructor(private readonly db: Db) {}

  findCard(cardNumber: string): Promise<LibraryCardsTable | undefined> {
    return this.db.k.selectFrom('library_cards').selectAll().where('card_number', '=', cardNumber).executeTakeFirst();
  }

  cardsOf(residentId: string): Promise<LibraryCardsTable[]> {
    return this.db.k.selectFrom('library_cards').selectAll().where('resident_id', '=', residentId).orderBy('created_at').execute();
  }

  /** Links a card to a resident; false when the card is someone else's already. */
  async linkCard(row: LibraryCardsTable): Promise<boolean> {
    const res = await this.db.k
      .insertInto('library_cards')
      .values(row)
      .onConflict((oc) => oc.column('card_number').doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0) === 1) return true;
    return (await this.findCard(row.card_number))?.resident_id === row.resident_id;
  }

  async unlinkCard(cardNumber: string, residentId: string): Promise<boolean> {
    const res = await this.db.k.deleteFrom('library_cards').where('card_number', '=', cardNumber).where('resident_id', '=', residentId).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }

  findEvent(eventId: string): Promise<LibraryEventsTable | undefined> {
    return this.db.k.selectFrom('library_events').selectAll().where('event_id', '=', eventId).executeTakeFirst();
  }

  /** Claims an event id; false when it was posted before. */
  async claimEvent(row: LibraryEventsTable): Promise<boolean> {
    const res = await this.db.k
      .insertInto('library_events')
      .values(row)
      .onConflict((oc) => oc.column('event_id').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async setNotification(eventId: string, notificationId: string): Promise<void> {
    await this.db.k.updateTable('library_events').set({ notification_id: notificationId }).where('event_id', '=', eventId).execute();
  }

  async releaseEvent(eventId: string): Promise<void> {
    await this.db.k.deleteFrom('library_events').where('event_id', '=', eventId).where('notification_id', 'is', null).execute();
  }

  // ---------------------------------------------------------------- a resident's data (residents' rights)

  /** The events the library system posted about these cards. */
  eventsFor(cardNumbers: string[]): Promise<LibraryEventsTable[]> {
    return cardNumbers.length ? this.db.k.selectFrom('library_events').selectAll().where('card_number', 'in', cardNumbers).orderBy('received_at').execute() : Promise.resolve([]);
  }

  /** Erasure, in one transaction: the resident's cards go, and their events forget the card (the event id stays, so a repeat still sends nothing). */
  async forgetResident(residentId: string): Promise<{ cards: number; events: number }> {
    return this.db.transaction(async (trx) => {
      const cards = trx.selectFrom('library_cards').select('card_number').where('resident_id', '=', residentId);
      const events = await trx.updateTable('library_events').set({ card_number: '' }).where('card_number', 'in', cards).executeTakeFirst();
      const removed = await trx.deleteFrom('library_cards').where('resident_id', '=', residentId).executeTakeFirst();
      return { cards: Number(removed.numDeletedRows), events: Number(events.numUpdatedRows) };
    });
  }
}
