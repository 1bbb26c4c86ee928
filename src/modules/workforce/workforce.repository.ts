import { sql } from 'kysely';
import type { Db, Executor } from '../../platform/db/database.js';
import { toJson } from '../../platform/db/dialect.js';

export interface HubsTable {
  id: string;
  site_id: string;
  opens: string;
  closes: string;
  open_days: string;
  grace_minutes: number;
  notes: string | null;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface HubSpacesTable {
  id: string;
  hub_id: string;
  name: string;
  kind: string;
  capacity: number;
  equipment_json: string[];
  accessibility: string | null;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface HubClosuresTable {
  id: string;
  hub_id: string;
  from_day: string;
  to_day: string;
  reason: string;
  cancelled_count: number;
  created_by: string;
  created_at: Date;
}

export interface HubBookingsTable {
  id: string;
  hub_id: string;
  space_id: string;
  user_id: string;
  user_label: string;
  day: string;
  start_minute: number;
  end_minute: number;
  is_whole_day: boolean;
  starts_at: Date;
  ends_at: Date;
  release_at: Date;
  status: string;
  checked_in_at: Date | null;
  checked_out_at: Date | null;
  cancelled_at: Date | null;
  cancel_reason: string | null;
  closure_id: string | null;
  told_at: Date | null;
  booked_by: string;
  created_at: Date;
}

export interface HubSpaceUnitsTable {
  space_id: string;
  day: string;
  unit: number;
  booking_id: string;
}

export interface HubPersonUnitsTable {
  user_id: string;
  day: string;
  unit: number;
  booking_id: string;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    hubs: HubsTable;
    hub_spaces: HubSpacesTable;
    hub_closures: HubClosuresTable;
    hub_bookings: HubBookingsTable;
    hub_space_units: HubSpaceUnitsTable;
    hub_person_units: HubPersonUnitsTable;
  }
}

/** A booking with the names of its space and the space's kind. */
export type BookingRow = HubBookingsTable & { space_name: string; space_kind: string };

/** Bookings that still hold their space. */
export const LIVE = ['booked', 'checked_in'] as const;

/** Hubs, their spaces, closures and bookings: the only SQL of the workforce module. */
export class WorkforceRepository {
  constructor(private readonly db: Db) {}

  // ---- hubs

  async insertHub(row: HubsTable, ex: Executor): Promise<void> {
    await ex.insertInto('hubs').values(row).execute();
  }

  findHub(id: string, ex: Executor = this.db.k): Promise<HubsTable | undefined> {
    return ex.selectFrom('hubs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findHubBySite(siteId: string): Promise<HubsTable | undefined> {
    return this.db.k.selectFrom('hubs').selectAll().where('site_id', '=', siteId).executeTakeFirst();
  }

  listHubs(): Promise<HubsTable[]> {
    return this.db.k.selectFrom('hubs').selectAll().orderBy('created_at').execute();
  }

  async updateHub(id: string, set: Partial<HubsTable>, ex: Executor): Promise<void> {
    await ex.updateTable('hubs').set(set).where('id', '=', id).execute();
  }

  /**
   * Holds the hub against a closure while a booking is made (PostgreSQL: bookings share the lock,
   * a closure takes it alone), so a booking cannot slip in beside a closure it did not see. SQLite
   * runs one transaction at a time and needs no lock. The hub as it is once held is returned:
   * what a booking checks must be read after the lock, not before.
   */
  lockHub(id: string, ex: Executor, exclusive: boolean): Promise<HubsTable | undefined> {
    const q = ex.selectFrom('hubs').selectAll().where('id', '=', id);
    if (this.db.dialect !== 'postgres') return q.executeTakeFirst();
    return (exclusive ? q.forUpdate() : q.forShare()).executeTakeFirst();
  }

  // ---- spaces

  async insertSpace(row: HubSpacesTable, ex: Executor): Promise<void> {
    await ex
      .insertInto('hub_spaces')
      .values({ ...row, equipment_json: toJson(row.equipment_json) as never })
      .execute();
  }

  async updateSpace(id: string, set: Partial<HubSpacesTable>, ex: Executor): Promise<void> {
    const values = { ...set, ...(set.equipment_json ? { equipment_json: toJson(set.equipment_json) as never } : {}) };
    await ex.updateTable('hub_spaces').set(values).where('id', '=', id).execute();
  }

  findSpace(id: string, ex: Executor = this.db.k): Promise<HubSpacesTable | undefined> {
    return ex.selectFrom('hub_spaces').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A space with what booking it needs to know of its hub, in one statement. */
  findSpaceForBooking(id: string) {
    return this.db.k
      .selectFrom('hub_spaces as s')
      .innerJoin('hubs as h', 'h.id', 's.hub_id')
      .select(['s.id', 's.hub_id', 's.name', 's.kind', 's.is_active', 'h.opens', 'h.closes', 'h.open_days', 'h.grace_minutes', 'h.is_active as hub_active', 'h.site_id'])
      .where('s.id', '=', id)
      .executeTakeFirst();
  }

  spacesOf(hubIds: string[]): Promise<HubSpacesTable[]> {
    if (!hubIds.length) return Promise.resolve([]);
    return this.db.k.selectFrom('hub_spaces').selectAll().where('hub_id', 'in', hubIds).orderBy('hub_id').orderBy('kind').orderBy('name').execute();
  }

  // ---- closures

  async insertClosure(row: HubClosuresTable, ex: Executor): Promise<void> {
    await ex.insertInto('hub_closures').values(row).execute();
  }

  findClosure(id: string): Promise<HubClosuresTable | undefined> {
    return this.db.k.selectFrom('hub_closures').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Closures of a hub touching the days from…to. */
  closuresBetween(hubId: string, from: string, to: string, ex: Executor = this.db.k): Promise<HubClosuresTable[]> {
    return ex.selectFrom('hub_closures').selectAll().where('hub_id', '=', hubId).where('to_day', '>=', from).where('from_day', '<=', to).orderBy('from_day').execute();
  }

  closuresOf(hubId: string, fromDay: string): Promise<HubClosuresTable[]> {
    return this.db.k.selectFrom('hub_closures').selectAll().where('hub_id', '=', hubId).where('to_day', '>=', fromDay).orderBy('from_day').execute();
  }

  // ---- bookings

  async insertBooking(row: HubBookingsTable, ex: Executor): Promise<void> {
    await ex.insertInto('hub_bookings').values(row).execute();
  }

  /** The space's half hours: fails with a unique violation if any is held. */
  async claimSpace(spaceId: string, day: string, units: number[], bookingId: string, ex: Executor): Promise<void> {
    await ex
      .insertInto('hub_space_units')
      .values(units.map((unit) => ({ space_id: spaceId, day, unit, booking_id: bookingId })))
      .execute();
  }

  /** The person's half hours: fails with a unique violation if they are booked elsewhere then. */
  async claimPerson(userId: string, day: string, units: number[], bookingId: string, ex: Executor): Promise<void> {
    await ex
      .insertInto('hub_person_units')
      .values(units.map((unit) => ({ user_id: userId, day, unit, booking_id: bookingId })))
      .execute();
  }

  /** Gives back a booking's half hours, all of them or those from a unit on. */
  async release(bookingIds: string[], ex: Executor, fromUnit = 0): Promise<void> {
    if (!bookingIds.length) return;
    for (const table of ['hub_space_units', 'hub_person_units'] as const) {
      let q = ex.deleteFrom(table).where('booking_id', 'in', bookingIds);
      if (fromUnit > 0) q = q.where('unit', '>=', fromUnit);
      await q.execute();
    }
  }

  private bookings(ex: Executor = this.db.k) {
    return ex.selectFrom('hub_bookings as b').innerJoin('hub_spaces as s', 's.id', 'b.space_id').selectAll('b').select(['s.name as space_name', 's.kind as space_kind']);
  }

  findBooking(id: string, ex: Executor = this.db.k): Promise<BookingRow | undefined> {
    return this.bookings(ex).where('b.id', '=', id).executeTakeFirst();
  }

  bookingsOfUser(userId: string, fromDay: string, limit: number): Promise<BookingRow[]> {
    return this.bookings().where('b.user_id', '=', userId).where('b.day', '>=', fromDay).orderBy('b.day').orderBy('b.start_minute').limit(limit).execute();
  }

  bookingsOfHubOn(hubId: string, day: string): Promise<BookingRow[]> {
    return this.bookings().where('b.hub_id', '=', hubId).where('b.day', '=', day).orderBy('s.name').orderBy('b.start_minute').execute();
  }

  /** The user's live booking of a space on a day that covers or comes nearest a minute. */
  userBookingOfSpace(userId: string, spaceId: string, day: string): Promise<BookingRow[]> {
    return this.bookings().where('b.user_id', '=', userId).where('b.space_id', '=', spaceId).where('b.day', '=', day).orderBy('b.start_minute').execute();
  }

  /** Moves a booking on from one status to another; false if it was no longer in that status. */
  async setStatus(id: string, from: readonly string[], set: Partial<HubBookingsTable>, ex: Executor): Promise<boolean> {
    const r = await ex.updateTable('hub_bookings').set(set).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Live bookings of a hub from…to that have not ended by `now`, for the closure that cancels them. */
  liveBookingsBetween(hubId: string, from: string, to: string, now: Date, ex: Executor): Promise<{ id: string }[]> {
    return ex.selectFrom('hub_bookings').select('id').where('hub_id', '=', hubId).where('day', '>=', from).where('day', '<=', to).where('status', 'in', LIVE).where('ends_at', '>', now).execute();
  }

  /** Live bookings of a hub that have not ended by `now`: those a change to the hub or a space would strand. */
  liveBookingsOf(hubId: string, now: Date, ex: Executor): Promise<Pick<HubBookingsTable, 'id' | 'space_id' | 'day' | 'start_minute' | 'end_minute'>[]> {
    return ex.selectFrom('hub_bookings').select(['id', 'space_id', 'day', 'start_minute', 'end_minute']).where('hub_id', '=', hubId).where('status', 'in', LIVE).where('ends_at', '>', now).execute();
  }

  /** Cancels those of the bookings still live; returns the ids it changed. */
  async cancelMany(ids: string[], set: Partial<HubBookingsTable>, ex: Executor): Promise<string[]> {
    const done: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await ex
        .updateTable('hub_bookings')
        .set(set)
        .where('id', 'in', ids.slice(i, i + 500))
        .where('status', 'in', LIVE)
        .returning('id')
        .execute();
      done.push(...rows.map((r) => r.id));
    }
    return done;
  }

  async setCancelledCount(id: string, n: number, ex: Executor): Promise<void> {
    await ex.updateTable('hub_closures').set({ cancelled_count: n }).where('id', '=', id).execute();
  }

  /** A closure's cancelled bookings whose people have not been told yet. */
  untold(closureId: string): Promise<BookingRow[]> {
    return this.bookings().where('b.closure_id', '=', closureId).where('b.told_at', 'is', null).orderBy('b.user_id').orderBy('b.day').orderBy('b.start_minute').execute();
  }

  async markTold(ids: string[], at: Date): Promise<void> {
    if (ids.length) await this.db.k.updateTable('hub_bookings').set({ told_at: at }).where('id', 'in', ids).execute();
  }

  /** Booked and not checked in by their release time. */
  dueForRelease(now: Date, limit: number): Promise<{ id: string }[]> {
    return this.db.k.selectFrom('hub_bookings').select('id').where('status', '=', 'booked').where('release_at', '<=', now).orderBy('release_at').limit(limit).execute();
  }

  async releaseNoShows(ids: string[], now: Date, ex: Executor): Promise<string[]> {
    const released = await ex
      .updateTable('hub_bookings')
      .set({ status: 'released', cancelled_at: now, cancel_reason: 'Not checked in in time' })
      .where('id', 'in', ids)
      .where('status', '=', 'booked')
      .returning('id')
      .execute();
    const done = released.map((r) => r.id);
    await this.release(done, ex);
    return done;
  }

  /** Half hours held in a hub's spaces on a day. */
  unitsOn(hubId: string, day: string): Promise<{ space_id: string; unit: number }[]> {
    return this.db.k
      .selectFrom('hub_space_units as u')
      .innerJoin('hub_spaces as s', 's.id', 'u.space_id')
      .select(['u.space_id', 'u.unit'])
      .where('s.hub_id', '=', hubId)
      .where('u.day', '=', day)
      .orderBy('u.space_id')
      .orderBy('u.unit')
      .execute();
  }

  /** Bookings of a hub by day and status, from…to. */
  countsBetween(hubIds: string[], from: string, to: string) {
    if (!hubIds.length) return Promise.resolve([]);
    return this.db.k
      .selectFrom('hub_bookings')
      .select(['hub_id', 'day', 'status', sql<number>`count(*)`.as('n')])
      .where('hub_id', 'in', hubIds)
      .where('day', '>=', from)
      .where('day', '<=', to)
      .groupBy(['hub_id', 'day', 'status'])
      .execute();
  }
}
