import { type Actor, can, systemActor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import type { Db, Executor } from '../../platform/db/database.js';
import { isUniqueViolation } from '../../platform/db/dialect.js';
import { addDays, daysBetween, isDay, londonDay, londonInstant, londonMinutes } from '../../platform/dates.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import { isUuid, newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import type { Logger } from '../../services.js';
import type { EstateService, SiteView } from '../estate/index.js';
import type { MessagingService, NotifySending } from '../messaging/index.js';
import type { StaffService } from '../staff/index.js';
import { daysOf, daysText, freeStretches, isoWeekday, longDay, minutesOf, onUnit, timeOf, UNIT_MINUTES, unitsOf, WEEKDAY_NAMES } from './hours.js';
import { workforceErrors } from './workforce.errors.js';
import { type BookingRow, type HubClosuresTable, type HubSpacesTable, type HubsTable, LIVE, WorkforceRepository } from './workforce.repository.js';
import type {
  Availability,
  BookingCreate,
  BookingStatus,
  BookingView,
  CancelInput,
  ClosureCreate,
  ClosureView,
  HubCreate,
  HubUpdate,
  HubView,
  OccupancyDay,
  SpaceCreate,
  SpaceKind,
  SpaceUpdate,
  SpaceView,
} from './workforce.schema.js';

export const RELEASE_JOB = 'workforce.release_no_shows';
export const CLOSURE_JOB = 'workforce.tell_closure';
/** Estate sites that can be hubs: buildings staff can work in (community centres are council buildings). */
export const HUB_SITE_TYPES = ['library', 'council_building', 'nhs_site'] as const;
const MAX_DAYS_AHEAD = 90;
const MAX_CLOSURE_DAYS = 366;
/** Checking in opens this long before a booking starts. */
const CHECK_IN_EARLY_MS = 30 * 60_000;
const RELEASE_BATCH = 500;

/** The messaging service and template closures are told with: made once, then the council's to reword. */
export const HUBS_SERVICE = { name: 'Hybrid-working hubs', smsSender: 'HUBS' };
export const HUB_CLOSED_TEMPLATE = {
  name: 'Hub closed: bookings cancelled (email)',
  type: 'email' as const,
  subject: '((hub)) is closed: your booking is cancelled',
  body: 'Dear ((name)),\n\n((hub)) is closed ((dates)).\n\n^ ((reason))\n\nWe have cancelled your booking:\n\n((bookings))\n\nBook another space or another hub in the Weft console: ((link))',
};

export interface WorkforceDeps {
  db: Db;
  audit: AuditService;
  jobs: JobQueue;
  estate: Pick<EstateService, 'listSites' | 'getSite'>;
  messaging: Pick<MessagingService, 'ensureService' | 'getServiceRow' | 'findNotifications'>;
  notify: Pick<NotifySending, 'send' | 'checkDailyLimit'>;
  staff: Pick<StaffService, 'getUser'>;
  publicUrl: string;
  log: Logger;
}

/**
 * Hybrid-working hubs: estate sites with bookable desks and rooms. A booking claims its half
 * hours of the space and of the person in tables keyed by those claims, in the transaction that
 * writes it, so no two bookings can hold one desk (or one person) at once however they race. A
 * recurring job releases bookings not checked in within the hub's grace period; a closure cancels
 * the bookings it covers and a durable job emails each person through messaging.
 */
export class WorkforceService {
  readonly repo: WorkforceRepository;
  private ready?: Promise<{ actor: Actor; templateId: string }>;
  /** The time as every method without a `now` of its own sees it: tests set a fixed instant so they pass at any hour. */
  clock: () => Date = () => new Date();

  constructor(private readonly deps: WorkforceDeps) {
    this.repo = new WorkforceRepository(deps.db);
    deps.jobs.register(RELEASE_JOB, async () => {
      await this.releaseNoShows();
    });
    deps.jobs.register(CLOSURE_JOB, (p: { id: string }) => this.tellClosure(p.id), { maxAttempts: 10 });
  }

  // ---- hubs

  async createHub(actor: Actor, input: HubCreate, origin: Origin = {}, now = this.clock()): Promise<HubView> {
    const site = await this.deps.estate.getSite(input.siteId).catch((err) => {
      // Only "no such site" is the client's to fix; anything else (the database down) is a 5xx.
      if (err instanceof AppError && err.code === 'SITE_NOT_FOUND') return undefined;
      throw err;
    });
    const errors = this.hubErrors({ opens: input.opens ?? '08:00', closes: input.closes ?? '18:00' });
    if (!site) errors.unshift({ field: 'siteId', message: 'Choose a site from the estate' });
    else if (!(HUB_SITE_TYPES as readonly string[]).includes(site.type)) errors.unshift({ field: 'siteId', message: 'Choose a library, council building or NHS site' });
    if (errors.length) throw workforceErrors.HUB_INVALID(undefined, errors);
    if (await this.repo.findHubBySite((site as SiteView).id)) throw workforceErrors.HUB_SITE_TAKEN();
    const row: HubsTable = {
      id: newId(now.getTime()),
      site_id: (site as SiteView).id,
      opens: input.opens ?? '08:00',
      closes: input.closes ?? '18:00',
      open_days: daysText(input.openDays ?? [1, 2, 3, 4, 5]),
      grace_minutes: input.graceMinutes ?? 30,
      notes: input.notes?.trim() || null,
      is_active: true,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.deps.db.transaction(async (trx) => {
        await this.repo.insertHub(row, trx);
        await this.deps.audit.record({ actor, action: 'hubs.create', summary: `Made ${(site as SiteView).name} a hub`, targetType: 'hub', targetId: row.id, ...origin }, trx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw workforceErrors.HUB_SITE_TAKEN();
      throw err;
    }
    return this.getHub(row.id);
  }

  async updateHub(actor: Actor, id: string, input: HubUpdate, origin: Origin = {}, now = this.clock()): Promise<HubView> {
    const hub = await this.hubRow(id);
    const opens = input.opens ?? hub.opens;
    const closes = input.closes ?? hub.closes;
    const errors = this.hubErrors({ opens, closes });
    if (errors.length) throw workforceErrors.HUB_INVALID(undefined, errors);
    const set: Partial<HubsTable> = { opens, closes, updated_at: now };
    if (input.openDays) set.open_days = daysText(input.openDays);
    if (input.graceMinutes !== undefined) set.grace_minutes = input.graceMinutes;
    if (input.notes !== undefined) set.notes = input.notes?.trim() || null;
    if (input.isActive !== undefined) set.is_active = input.isActive;
    await this.deps.db.transaction(async (trx) => {
      // Taken alone, so no booking is made beside the check; bookings read the hub after this lock.
      await this.repo.lockHub(hub.id, trx, true);
      const openDays = daysOf(set.open_days ?? hub.open_days);
      const [from, to] = [minutesOf(opens) as number, minutesOf(closes) as number];
      const stranded = (await this.repo.liveBookingsOf(hub.id, now, trx)).filter((b) => set.is_active === false || !openDays.includes(isoWeekday(b.day)) || b.start_minute < from || b.end_minute > to);
      if (stranded.length) throw workforceErrors.HUB_BOOKINGS_AFFECTED(`Close the hub for those days first: ${bookingsWord(stranded.length)} affected.`);
      await this.repo.updateHub(hub.id, set, trx);
      await this.deps.audit.record({ actor, action: 'hubs.update', summary: `Changed hub ${hub.id}: ${Object.keys(input).join(', ')}`, targetType: 'hub', targetId: hub.id, ...origin }, trx);
    });
    return this.getHub(hub.id);
  }

  private hubErrors(h: { opens: string; closes: string }): FieldError[] {
    const errors: FieldError[] = [];
    const opens = minutesOf(h.opens);
    const closes = minutesOf(h.closes);
    if (opens === undefined || !onUnit(opens)) errors.push({ field: 'opens', message: 'Enter the opening time on the hour or half hour, like 08:30' });
    if (closes === undefined || !onUnit(closes)) errors.push({ field: 'closes', message: 'Enter the closing time on the hour or half hour, like 17:30' });
    else if (opens !== undefined && closes <= opens) errors.push({ field: 'closes', message: 'The closing time must be after the opening time' });
    return errors;
  }

  private async hubRow(id: string): Promise<HubsTable> {
    const hub = isUuid(id) ? await this.repo.findHub(id.toLowerCase()) : undefined;
    if (!hub) throw workforceErrors.HUB_NOT_FOUND();
    return hub;
  }

  async getHub(id: string): Promise<HubView> {
    const [view] = await this.views([await this.hubRow(id)]);
    return view;
  }

  async listHubs(options: { activeOnly?: boolean } = {}): Promise<HubView[]> {
    const rows = (await this.repo.listHubs()).filter((h) => !options.activeOnly || h.is_active);
    return (await this.views(rows)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Estate sites that could become hubs and are not yet. */
  async candidateSites(): Promise<SiteView[]> {
    const taken = new Set((await this.repo.listHubs()).map((h) => h.site_id));
    const out: SiteView[] = [];
    for (const type of HUB_SITE_TYPES) out.push(...(await this.deps.estate.listSites({ type, limit: 1000 })));
    return out.filter((s) => !taken.has(s.id)).sort((a, b) => a.name.localeCompare(b.name));
  }

  private async views(rows: HubsTable[]): Promise<HubView[]> {
    if (!rows.length) return [];
    const sites = new Map<string, SiteView>();
    for (let i = 0; i < rows.length; i += 500) {
      const ids = rows.slice(i, i + 500).map((r) => r.site_id);
      for (const s of await this.deps.estate.listSites({ ids, limit: ids.length })) sites.set(s.id, s);
    }
    const spaces = await this.repo.spacesOf(rows.map((r) => r.id));
    return rows.map((r) => {
      const site = sites.get(r.site_id);
      const c = site?.connectivity;
      return {
        id: r.id,
        siteId: r.site_id,
        name: site?.name ?? 'A site no longer in the estate',
        address: site?.address ?? '',
        postcode: site?.postcode ?? null,
        lat: site?.lat ?? null,
        lon: site?.lon ?? null,
        siteType: site?.type ?? 'unknown',
        connectivity: c ? { technology: c.technology, status: c.status, downMbps: c.downMbps, upMbps: c.upMbps } : null,
        opens: r.opens,
        closes: r.closes,
        openDays: daysOf(r.open_days),
        graceMinutes: r.grace_minutes,
        notes: r.notes,
        isActive: r.is_active,
        spaces: spaces.filter((s) => s.hub_id === r.id).map(spaceView),
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      };
    });
  }

  // ---- spaces

  async addSpace(actor: Actor, hubId: string, input: SpaceCreate, origin: Origin = {}, now = this.clock()): Promise<SpaceView> {
    const hub = await this.hubRow(hubId);
    const name = input.name.trim();
    if (!name) throw workforceErrors.HUB_SPACE_INVALID(undefined, [{ field: 'name', message: 'Enter the space’s name, like Desk 12' }]);
    const capacity = input.kind === 'desk' ? 1 : (input.capacity ?? 1);
    if (input.kind === 'desk' && input.capacity !== undefined && input.capacity !== 1)
      throw workforceErrors.HUB_SPACE_INVALID(undefined, [{ field: 'capacity', message: 'A desk seats one person: make it a meeting room to seat more' }]);
    const row: HubSpacesTable = {
      id: newId(now.getTime()),
      hub_id: hub.id,
      name,
      kind: input.kind,
      capacity,
      equipment_json: (input.equipment ?? []).map((e) => e.trim()).filter(Boolean),
      accessibility: input.accessibility?.trim() || null,
      is_active: true,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.deps.db.transaction(async (trx) => {
        await this.repo.insertSpace(row, trx);
        await this.deps.audit.record({ actor, action: 'hubs.space_add', summary: `Added ${name} to hub ${hub.id}`, targetType: 'hub_space', targetId: row.id, ...origin }, trx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw workforceErrors.HUB_SPACE_NAME_TAKEN();
      throw err;
    }
    return spaceView(row);
  }

  async updateSpace(actor: Actor, hubId: string, spaceId: string, input: SpaceUpdate, origin: Origin = {}, now = this.clock()): Promise<SpaceView> {
    const hub = await this.hubRow(hubId);
    const space = isUuid(spaceId) ? await this.repo.findSpace(spaceId.toLowerCase()) : undefined;
    if (!space || space.hub_id !== hub.id) throw workforceErrors.HUB_SPACE_NOT_FOUND();
    if (space.kind === 'desk' && input.capacity !== undefined && input.capacity !== 1)
      throw workforceErrors.HUB_SPACE_INVALID(undefined, [{ field: 'capacity', message: 'A desk seats one person: make it a meeting room to seat more' }]);
    if (input.name !== undefined && !input.name.trim()) throw workforceErrors.HUB_SPACE_INVALID(undefined, [{ field: 'name', message: 'Enter the space’s name, like Desk 12' }]);
    const set: Partial<HubSpacesTable> = { updated_at: now };
    if (input.name !== undefined) set.name = input.name.trim();
    if (input.capacity !== undefined) set.capacity = input.capacity;
    if (input.equipment !== undefined) set.equipment_json = input.equipment.map((e) => e.trim()).filter(Boolean);
    if (input.accessibility !== undefined) set.accessibility = input.accessibility?.trim() || null;
    if (input.isActive !== undefined) set.is_active = input.isActive;
    try {
      await this.deps.db.transaction(async (trx) => {
        await this.repo.lockHub(hub.id, trx, true);
        if (input.isActive === false) {
          const stranded = (await this.repo.liveBookingsOf(hub.id, now, trx)).filter((b) => b.space_id === space.id);
          if (stranded.length) throw workforceErrors.HUB_BOOKINGS_AFFECTED(`Cancel the bookings of ${space.name} first, or close the hub for those days: ${bookingsWord(stranded.length)} affected.`);
        }
        await this.repo.updateSpace(space.id, set, trx);
        await this.deps.audit.record(
          { actor, action: 'hubs.space_update', summary: `Changed ${space.name}: ${Object.keys(input).join(', ')}`, targetType: 'hub_space', targetId: space.id, ...origin },
          trx,
        );
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw workforceErrors.HUB_SPACE_NAME_TAKEN();
      throw err;
    }
    return spaceView((await this.repo.findSpace(space.id)) as HubSpacesTable);
  }

  async getSpace(id: string): Promise<SpaceView & { hubName: string }> {
    const space = isUuid(id) ? await this.repo.findSpace(id.toLowerCase()) : undefined;
    if (!space) throw workforceErrors.HUB_SPACE_NOT_FOUND();
    const hub = await this.getHub(space.hub_id);
    return { ...spaceView(space), hubName: hub.name };
  }

  // ---- availability and occupancy

  async availability(hubId: string, day: string, now = this.clock()): Promise<Availability> {
    const hub = await this.hubRow(hubId);
    if (!isDay(day)) throw workforceErrors.HUB_BOOKING_INVALID(undefined, [{ field: 'day', message: 'The date must be a real date' }]);
    const closedBecause = await this.closedBecause(hub, day);
    const opens = minutesOf(hub.opens) as number;
    const closes = minutesOf(hub.closes) as number;
    const today = londonDay(now);
    // Time already gone today is not free; a day gone is not free at all.
    const from = day < today ? closes : day === today ? Math.max(opens, Math.ceil(londonMinutes(now) / UNIT_MINUTES) * UNIT_MINUTES) : opens;
    const units = await this.repo.unitsOn(hub.id, day);
    const busyBy = new Map<string, Set<number>>();
    for (const u of units) {
      const set = busyBy.get(u.space_id) ?? new Set<number>();
      set.add(u.unit);
      busyBy.set(u.space_id, set);
    }
    const spaces = (await this.repo.spacesOf([hub.id])).filter((s) => s.is_active);
    const out = spaces.map((s) => {
      const busy = busyBy.get(s.id) ?? new Set<number>();
      const free = closedBecause ? [] : freeStretches(busy, from, closes);
      const taken = freeStretches(new Set(unitsOf(opens, closes).filter((u) => !busy.has(u))), opens, closes);
      return {
        ...spaceView(s),
        busy: taken.map((b) => ({ start: timeOf(b.start), end: timeOf(b.end) })),
        free: free.map((f) => ({ start: timeOf(f.start), end: timeOf(f.end) })),
        freeAllDay: !closedBecause && from === opens && busy.size === 0,
      };
    });
    return {
      hubId: hub.id,
      day,
      open: !closedBecause,
      closedBecause,
      opens: hub.opens,
      closes: hub.closes,
      spaces: out,
      freeDesks: out.filter((s) => s.kind === 'desk' && s.free.length > 0).length,
    };
  }

  /** Why a hub is closed on a day (a closure, or not a day it opens), or null when open. */
  private async closedBecause(hub: HubsTable, day: string, ex?: Executor): Promise<string | null> {
    if (!hub.is_active) return 'The hub is not taking bookings';
    if (!daysOf(hub.open_days).includes(isoWeekday(day))) return `The hub does not open on ${WEEKDAY_NAMES[isoWeekday(day) - 1]}s`;
    const [closure] = await this.repo.closuresBetween(hub.id, day, day, ex);
    return closure ? `Closed: ${closure.reason}` : null;
  }

  /** Per hub per day: spaces and seats, bookings made, checked in, no-shows and cancellations. */
  async occupancy(hubIds: string[], from: string, to: string): Promise<Map<string, OccupancyDay[]>> {
    const hubs = (await this.repo.listHubs()).filter((h) => hubIds.includes(h.id));
    const spaces = await this.repo.spacesOf(hubs.map((h) => h.id));
    const counts = await this.repo.countsBetween(
      hubs.map((h) => h.id),
      from,
      to,
    );
    const out = new Map<string, OccupancyDay[]>();
    for (const hub of hubs) {
      const own = spaces.filter((s) => s.hub_id === hub.id && s.is_active);
      const closures = await this.repo.closuresBetween(hub.id, from, to);
      const days: OccupancyDay[] = [];
      for (let day = from; day <= to; day = addDays(day, 1)) {
        const n = (status: BookingStatus) => Number(counts.find((c) => c.hub_id === hub.id && c.day === day && c.status === status)?.n ?? 0);
        days.push({
          day,
          open: hub.is_active && daysOf(hub.open_days).includes(isoWeekday(day)) && !closures.some((c) => c.from_day <= day && c.to_day >= day),
          spaces: own.length,
          seats: own.reduce((sum, s) => sum + s.capacity, 0),
          booked: n('booked') + n('checked_in') + n('checked_out') + n('released'),
          checkedIn: n('checked_in') + n('checked_out'),
          noShows: n('released'),
          cancelled: n('cancelled'),
        });
      }
      out.set(hub.id, days);
    }
    return out;
  }

  async hubOccupancy(hubId: string, from: string, to: string): Promise<OccupancyDay[]> {
    const hub = await this.hubRow(hubId);
    const errors: FieldError[] = [];
    if (!isDay(from)) errors.push({ field: 'from', message: 'The first day must be a real date' });
    if (!isDay(to)) errors.push({ field: 'to', message: 'The last day must be a real date' });
    else if (!errors.length && (to < from || daysBetween(from, to) > 92)) errors.push({ field: 'to', message: 'The last day must be on or after the first, and within 92 days of it' });
    if (errors.length) throw workforceErrors.HUB_BOOKING_INVALID(undefined, errors);
    return (await this.occupancy([hub.id], from, to)).get(hub.id) ?? [];
  }

  // ---- bookings

  /**
   * Books a space for a day or part of one. The claims of its half hours (the space's, the
   * person's) are the rule: a unique violation on either is someone else's booking, or the
   * person's own elsewhere, that got there first.
   */
  async book(actor: Actor, input: BookingCreate, origin: Origin = {}, now = this.clock()): Promise<BookingView> {
    const person = await this.personFor(actor, input.userId);
    const space = isUuid(input.spaceId) ? await this.repo.findSpaceForBooking(input.spaceId.toLowerCase()) : undefined;
    if (!space) throw workforceErrors.HUB_SPACE_NOT_FOUND();
    const errors: FieldError[] = [];
    const today = londonDay(now);
    if (!space.is_active) errors.push({ field: 'spaceId', message: 'That space is not taking bookings: choose another' });
    if (!isDay(input.day)) errors.push({ field: 'day', message: 'The date must be a real date' });
    else if (input.day < today) errors.push({ field: 'day', message: 'The date must be today or in the future' });
    else if (daysBetween(today, input.day) > MAX_DAYS_AHEAD) errors.push({ field: 'day', message: `The date must be within ${MAX_DAYS_AHEAD} days` });
    const opens = minutesOf(space.opens) as number;
    const closes = minutesOf(space.closes) as number;
    const whole = input.start === undefined && input.end === undefined;
    // A whole day booked today starts at the current half hour: the morning's half hours may be someone else's.
    const start = whole ? (input.day === today ? Math.max(opens, Math.floor(londonMinutes(now) / UNIT_MINUTES) * UNIT_MINUTES) : opens) : minutesOf(input.start ?? '');
    const end = whole ? closes : minutesOf(input.end ?? '');
    if (start === undefined || !onUnit(start)) errors.push({ field: 'start', message: 'Enter the start time on the hour or half hour, like 09:00' });
    else if (start < opens || start >= closes) errors.push({ field: 'start', message: `Start between ${space.opens} and ${space.closes}, when the hub is open` });
    if (end === undefined || !onUnit(end)) errors.push({ field: 'end', message: 'Enter the end time on the hour or half hour, like 13:00' });
    else if (end > closes) errors.push({ field: 'end', message: `End by ${space.closes}, when the hub closes` });
    else if (start !== undefined && end <= start) errors.push({ field: 'end', message: 'The end time must be after the start time' });
    else if (input.day === today && end <= londonMinutes(now)) errors.push({ field: 'end', message: 'That time has gone: choose a later one' });
    if (errors.length) throw workforceErrors.HUB_BOOKING_INVALID(undefined, errors);
    const from = start as number;
    const to = end as number;
    const startsAt = londonInstant(input.day, from);
    const row = {
      id: newId(now.getTime()),
      hub_id: space.hub_id,
      space_id: space.id,
      user_id: person.id,
      user_label: person.label,
      day: input.day,
      start_minute: from,
      end_minute: to,
      is_whole_day: whole,
      starts_at: startsAt,
      ends_at: londonInstant(input.day, to),
      // Booked after it started (the rest of today): the grace runs from the booking.
      release_at: new Date(Math.max(startsAt.getTime(), now.getTime()) + space.grace_minutes * 60_000),
      status: 'booked',
      checked_in_at: null,
      checked_out_at: null,
      cancelled_at: null,
      cancel_reason: null,
      closure_id: null,
      told_at: null,
      booked_by: actor.label,
      created_at: now,
    };
    const units = unitsOf(from, to);
    await this.deps.db.transaction(async (trx) => {
      // The hub and space as they are now that the hub is held: a change made since the read above counts.
      const hub = await this.repo.lockHub(space.hub_id, trx, false);
      const current = await this.repo.findSpace(space.id, trx);
      if (!hub || !current) throw workforceErrors.HUB_SPACE_NOT_FOUND();
      if (!current.is_active) throw workforceErrors.HUB_CLOSED(`${space.name} is not taking bookings. Choose another space.`);
      const closed = await this.closedBecause(hub, input.day, trx);
      if (closed) throw workforceErrors.HUB_CLOSED(`${closed}. Choose another day or another hub.`);
      if (from < (minutesOf(hub.opens) as number) || to > (minutesOf(hub.closes) as number))
        throw workforceErrors.HUB_CLOSED(`The hub is open from ${hub.opens} to ${hub.closes}. Choose a time then.`);
      await this.repo.insertBooking(row, trx);
      try {
        await this.repo.claimSpace(space.id, input.day, units, row.id, trx);
      } catch (err) {
        if (isUniqueViolation(err)) throw workforceErrors.HUB_SPACE_TAKEN();
        throw err;
      }
      try {
        await this.repo.claimPerson(person.id, input.day, units, row.id, trx);
      } catch (err) {
        if (isUniqueViolation(err)) throw person.id === actor.id ? workforceErrors.HUB_BOOKING_CLASH() : workforceErrors.HUB_BOOKING_CLASH(`${person.label} has another booking at that time.`);
        throw err;
      }
      const when = whole ? 'all day' : `${timeOf(from)}–${timeOf(to)}`;
      await this.deps.audit.record(
        { actor, action: 'hubs.book', summary: `Booked ${space.name} for ${person.label} on ${input.day}, ${when}`, targetType: 'hub_booking', targetId: row.id, ...origin },
        trx,
      );
    });
    return bookingView({ ...row, space_name: space.name, space_kind: space.kind }, await this.hubName(space.hub_id));
  }

  private async personFor(actor: Actor, userId: string | undefined): Promise<{ id: string; label: string }> {
    if (userId !== undefined && userId.toLowerCase() !== actor.id) {
      if (!can(actor, 'hubs:manage')) throw workforceErrors.HUB_BOOK_FOR_OTHERS_FORBIDDEN();
      const user = await this.deps.staff.getUser(userId.toLowerCase()).catch(() => undefined);
      if (!user?.is_active) throw workforceErrors.HUB_BOOKING_INVALID(undefined, [{ field: 'userId', message: 'Choose an active member of staff' }]);
      return { id: user.id, label: user.email };
    }
    if (actor.type !== 'user' || !actor.id) throw workforceErrors.HUB_BOOKING_PERSON_REQUIRED();
    return { id: actor.id, label: actor.label };
  }

  private hubNames = new Map<string, { name: string; at: number }>();
  /** A hub's name (its site's), kept a minute: every booking reply names it. */
  private async hubName(hubId: string): Promise<string> {
    const hit = this.hubNames.get(hubId);
    if (hit && Date.now() - hit.at < 60_000) return hit.name;
    const hub = await this.repo.findHub(hubId);
    const site = hub ? await this.deps.estate.getSite(hub.site_id).catch(() => undefined) : undefined;
    const name = site?.name ?? 'Hub';
    this.hubNames.set(hubId, { name, at: Date.now() });
    return name;
  }

  async getBooking(actor: Actor, id: string): Promise<BookingView> {
    const row = await this.ownBooking(actor, id);
    return bookingView(row, await this.hubName(row.hub_id));
  }

  private async ownBooking(actor: Actor, id: string): Promise<BookingRow> {
    const row = isUuid(id) ? await this.repo.findBooking(id.toLowerCase()) : undefined;
    if (!row) throw workforceErrors.HUB_BOOKING_NOT_FOUND();
    if (row.user_id !== actor.id && !can(actor, 'hubs:manage')) throw workforceErrors.HUB_BOOKING_NOT_YOURS();
    return row;
  }

  async myBookings(actor: Actor, now = this.clock(), limit = 100): Promise<BookingView[]> {
    if (actor.type !== 'user' || !actor.id) throw workforceErrors.HUB_BOOKING_PERSON_REQUIRED();
    const rows = await this.repo.bookingsOfUser(actor.id, addDays(londonDay(now), -7), limit);
    return Promise.all(rows.map(async (r) => bookingView(r, await this.hubName(r.hub_id))));
  }

  async hubBookings(hubId: string, day: string): Promise<BookingView[]> {
    const hub = await this.hubRow(hubId);
    if (!isDay(day)) throw workforceErrors.HUB_BOOKING_INVALID(undefined, [{ field: 'day', message: 'The date must be a real date' }]);
    const name = await this.hubName(hub.id);
    return (await this.repo.bookingsOfHubOn(hub.id, day)).map((r) => bookingView(r, name));
  }

  async cancel(actor: Actor, id: string, input: CancelInput = {}, origin: Origin = {}, now = this.clock()): Promise<BookingView> {
    const row = await this.ownBooking(actor, id);
    if (row.ends_at.getTime() <= now.getTime()) throw workforceErrors.HUB_BOOKING_STATE('The booking has ended: it cannot be cancelled.');
    const reason = input.reason?.trim() || (row.user_id === actor.id ? 'Cancelled by the person who booked' : `Cancelled by ${actor.label}`);
    await this.deps.db.transaction(async (trx) => {
      const ok = await this.repo.setStatus(row.id, LIVE, { status: 'cancelled', cancelled_at: now, cancel_reason: reason }, trx);
      if (!ok) throw workforceErrors.HUB_BOOKING_STATE(`The booking is ${statusWord(await this.statusOf(row.id, trx))}: it cannot be cancelled.`);
      await this.repo.release([row.id], trx);
      await this.deps.audit.record(
        { actor, action: 'hubs.cancel', summary: `Cancelled ${row.space_name} on ${row.day} for ${row.user_label}: ${reason}`, targetType: 'hub_booking', targetId: row.id, ...origin },
        trx,
      );
    });
    return this.getBooking(actor, row.id);
  }

  async checkIn(actor: Actor, id: string, origin: Origin = {}, now = this.clock()): Promise<BookingView> {
    const row = await this.ownBooking(actor, id);
    if (row.status !== 'booked') throw workforceErrors.HUB_BOOKING_STATE(`The booking is ${statusWord(row.status)}: only a booking not yet checked in can be checked in to.`);
    if (now.getTime() < row.starts_at.getTime() - CHECK_IN_EARLY_MS || now >= row.ends_at) throw workforceErrors.HUB_CHECK_IN_NOT_NOW();
    const [hub, space] = [await this.repo.findHub(row.hub_id), await this.repo.findSpace(row.space_id)];
    if (!hub?.is_active || !space?.is_active) throw workforceErrors.HUB_CLOSED(`${hub?.is_active ? row.space_name : 'The hub'} is not in use: you cannot check in. Ask a hub manager.`);
    await this.deps.db.transaction(async (trx) => {
      // The no-show job may have released it a moment ago: the status guard decides.
      const ok = await this.repo.setStatus(row.id, ['booked'], { status: 'checked_in', checked_in_at: now }, trx);
      if (!ok) throw workforceErrors.HUB_BOOKING_STATE(`The booking is ${statusWord(await this.statusOf(row.id, trx))}: it cannot be checked in to.`);
      await this.deps.audit.record({ actor, action: 'hubs.check_in', summary: `Checked in to ${row.space_name} on ${row.day}`, targetType: 'hub_booking', targetId: row.id, ...origin }, trx);
    });
    return this.getBooking(actor, row.id);
  }

  /** Checks out, giving back the rest of the booking's time for others to book. */
  async checkOut(actor: Actor, id: string, origin: Origin = {}, now = this.clock()): Promise<BookingView> {
    const row = await this.ownBooking(actor, id);
    if (row.status !== 'checked_in') throw workforceErrors.HUB_BOOKING_STATE(`The booking is ${statusWord(row.status)}: only a booking checked in to can be checked out of.`);
    const fromUnit = londonDay(now) === row.day ? Math.ceil(londonMinutes(now) / UNIT_MINUTES) : 0;
    await this.deps.db.transaction(async (trx) => {
      const ok = await this.repo.setStatus(row.id, ['checked_in'], { status: 'checked_out', checked_out_at: now }, trx);
      if (!ok) throw workforceErrors.HUB_BOOKING_STATE();
      if (fromUnit > 0) await this.repo.release([row.id], trx, fromUnit);
      await this.deps.audit.record({ actor, action: 'hubs.check_out', summary: `Checked out of ${row.space_name} on ${row.day}`, targetType: 'hub_booking', targetId: row.id, ...origin }, trx);
    });
    return this.getBooking(actor, row.id);
  }

  /** The QR code on a desk: the signed-in person's booking of it today, to check in to. */
  async bookingForQr(actor: Actor, spaceId: string, now = this.clock()): Promise<BookingView> {
    if (actor.type !== 'user' || !actor.id) throw workforceErrors.HUB_BOOKING_PERSON_REQUIRED();
    if (!isUuid(spaceId) || !(await this.repo.findSpace(spaceId.toLowerCase()))) throw workforceErrors.HUB_SPACE_NOT_FOUND();
    const rows = (await this.repo.userBookingOfSpace(actor.id, spaceId.toLowerCase(), londonDay(now))).filter((r) => r.status === 'booked' || r.status === 'checked_in');
    // The one that is on now, or the next one to come.
    const row = rows.find((r) => r.status === 'checked_in') ?? rows.find((r) => r.ends_at > now);
    if (!row) throw workforceErrors.HUB_NO_BOOKING_TODAY();
    return bookingView(row, await this.hubName(row.hub_id));
  }

  private async statusOf(id: string, ex: Executor): Promise<string> {
    return (await this.repo.findBooking(id, ex))?.status ?? 'gone';
  }

  /** The job: bookings not checked in within their hub's grace period are released as no-shows. */
  async releaseNoShows(now = this.clock()): Promise<number> {
    let total = 0;
    for (;;) {
      const due = (await this.repo.dueForRelease(now, RELEASE_BATCH)).map((r) => r.id);
      if (!due.length) return total;
      const done = await this.deps.db.transaction((trx) => this.repo.releaseNoShows(due, now, trx));
      total += done.length;
      if (done.length) this.deps.log.info({ released: done.length }, 'workforce: released bookings not checked in');
      if (due.length < RELEASE_BATCH) return total;
    }
  }

  // ---- closures

  /** Closes a hub for days: cancels every live booking then, with the reason, and queues telling each person. */
  async closeHub(actor: Actor, hubId: string, input: ClosureCreate, origin: Origin = {}, now = this.clock()): Promise<ClosureView> {
    const hub = await this.hubRow(hubId);
    const to = input.to ?? input.from;
    const errors: FieldError[] = [];
    const today = londonDay(now);
    if (!isDay(input.from)) errors.push({ field: 'from', message: 'The first day must be a real date' });
    else if (input.from < today) errors.push({ field: 'from', message: 'The first day must be today or in the future' });
    if (!isDay(to)) errors.push({ field: 'to', message: 'The last day must be a real date' });
    else if (isDay(input.from) && to < input.from) errors.push({ field: 'to', message: 'The last day must be on or after the first' });
    else if (isDay(input.from) && daysBetween(input.from, to) >= MAX_CLOSURE_DAYS) errors.push({ field: 'to', message: `Close it for at most ${MAX_CLOSURE_DAYS} days at a time` });
    if (!input.reason.trim()) errors.push({ field: 'reason', message: 'Enter the reason the hub is closed' });
    if (errors.length) throw workforceErrors.HUB_CLOSURE_INVALID(undefined, errors);
    const row: HubClosuresTable = {
      id: newId(now.getTime()),
      hub_id: hub.id,
      from_day: input.from,
      to_day: to,
      reason: input.reason.trim(),
      cancelled_count: 0,
      created_by: actor.label,
      created_at: now,
    };
    const name = await this.hubName(hub.id);
    await this.deps.db.transaction(async (trx) => {
      await this.repo.lockHub(hub.id, trx, true);
      await this.repo.insertClosure(row, trx);
      // Only bookings still to end: this morning's, over before the closure, stand as they were.
      const live = (await this.repo.liveBookingsBetween(hub.id, row.from_day, row.to_day, now, trx)).map((b) => b.id);
      // Only those this statement changed: one cancelled or checked out a moment ago is not the closure's.
      const ids = await this.repo.cancelMany(live, { status: 'cancelled', cancelled_at: now, cancel_reason: `Hub closed: ${row.reason}`, closure_id: row.id }, trx);
      await this.repo.release(ids, trx);
      row.cancelled_count = ids.length;
      await this.repo.setCancelledCount(row.id, ids.length, trx);
      if (ids.length) await this.deps.jobs.enqueue(CLOSURE_JOB, { id: row.id }, { idempotencyKey: `${CLOSURE_JOB}:${row.id}`, executor: trx });
      const days = row.from_day === row.to_day ? `on ${row.from_day}` : `from ${row.from_day} to ${row.to_day}`;
      await this.deps.audit.record(
        { actor, action: 'hubs.close', summary: `Closed ${name} ${days} (${row.reason}); ${ids.length} bookings cancelled`, targetType: 'hub_closure', targetId: row.id, ...origin },
        trx,
      );
    });
    this.deps.jobs.wake();
    return closureView(row, true);
  }

  /** A hub's closures; who closed it (a manager's name or email) only for those who manage hubs. */
  async closures(actor: Actor, hubId: string, now = this.clock()): Promise<ClosureView[]> {
    const hub = await this.hubRow(hubId);
    const withCreator = can(actor, 'hubs:manage');
    return (await this.repo.closuresOf(hub.id, addDays(londonDay(now), -30))).map((r) => closureView(r, withCreator));
  }

  /** The job: each person whose bookings a closure cancelled is emailed once, all their days in one message. */
  async tellClosure(closureId: string): Promise<void> {
    const closure = await this.repo.findClosure(closureId);
    if (!closure) return;
    const untold = await this.repo.untold(closure.id);
    if (!untold.length) return;
    const { actor, templateId } = await this.setup();
    const service = await this.deps.messaging.getServiceRow(actor.serviceId as string);
    if (!service) {
      this.ready = undefined;
      throw new Error('workforce: the hubs messaging service has gone; the job tries again and makes it anew');
    }
    const hub = await this.hubName(closure.hub_id);
    const byPerson = new Map<string, BookingRow[]>();
    for (const b of untold) byPerson.set(b.user_id, [...(byPerson.get(b.user_id) ?? []), b]);
    const dates = closure.from_day === closure.to_day ? `on ${longDay(closure.from_day)}` : `from ${longDay(closure.from_day)} to ${longDay(closure.to_day)}`;
    for (const [userId, bookings] of byPerson) {
      const user = await this.deps.staff.getUser(userId).catch(() => undefined);
      const email = user?.email ?? (bookings[0].user_label.includes('@') ? bookings[0].user_label : undefined);
      // One reference per closure and person: a run that sent and then died before marking them
      // told finds its message stored by messaging and does not send it again.
      const reference = `hub-closure-${closure.id}:${userId}`;
      const [sent] = email ? await this.deps.messaging.findNotifications({ serviceId: service.id, reference, limit: 1 }) : [];
      if (email && !sent) {
        try {
          await this.deps.notify.checkDailyLimit(service, 'email');
          await this.deps.notify.send(actor, {
            channel: 'email',
            templateId,
            to: email,
            personalisation: {
              name: user?.name ?? email,
              hub,
              dates,
              reason: closure.reason,
              bookings: bookings.map((b) => `* ${b.space_name}, ${longDay(b.day)}, ${b.is_whole_day ? 'all day' : `${timeOf(b.start_minute)} to ${timeOf(b.end_minute)}`}`).join('\n'),
              link: `${this.deps.publicUrl}/console/hubs`,
            },
            reference,
          });
        } catch (err) {
          if (!(err instanceof AppError) || !ONE_RECIPIENT.has(err.code)) {
            // The template archived, the service changed, the day's limit reached: set up afresh next time, and let the job try again.
            this.ready = undefined;
            throw err;
          }
          this.deps.log.warn({ closure: closure.id, code: err.code }, 'workforce: a member of staff could not be told of a hub closure');
        }
      }
      await this.repo.markTold(
        bookings.map((b) => b.id),
        new Date(),
      );
    }
  }

  private setup(): Promise<{ actor: Actor; templateId: string }> {
    this.ready ??= this.deps.messaging.ensureService(systemActor('weft hubs'), HUBS_SERVICE, [HUB_CLOSED_TEMPLATE]).then(
      ({ service, templates }) => ({
        actor: { ...systemActor('weft hubs'), serviceId: service.id, keyType: 'normal' },
        templateId: templates.get(HUB_CLOSED_TEMPLATE.name)?.id as string,
      }),
      (err) => {
        this.ready = undefined;
        throw err;
      },
    );
    return this.ready;
  }
}

function spaceView(s: HubSpacesTable): SpaceView {
  return { id: s.id, hubId: s.hub_id, name: s.name, kind: s.kind as SpaceKind, capacity: s.capacity, equipment: s.equipment_json ?? [], accessibility: s.accessibility, isActive: s.is_active };
}

function bookingView(r: BookingRow, hubName: string): BookingView {
  return {
    id: r.id,
    hubId: r.hub_id,
    hubName,
    spaceId: r.space_id,
    spaceName: r.space_name,
    spaceKind: r.space_kind as SpaceKind,
    userId: r.user_id,
    who: r.user_label,
    day: r.day,
    start: timeOf(r.start_minute),
    end: timeOf(r.end_minute),
    wholeDay: r.is_whole_day,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    releaseAt: r.release_at,
    status: r.status as BookingStatus,
    checkedInAt: r.checked_in_at,
    checkedOutAt: r.checked_out_at,
    cancelledAt: r.cancelled_at,
    cancelReason: r.cancel_reason,
    createdAt: r.created_at,
  };
}

function closureView(r: HubClosuresTable, withCreator: boolean): ClosureView {
  return { id: r.id, hubId: r.hub_id, from: r.from_day, to: r.to_day, reason: r.reason, cancelled: r.cancelled_count, ...(withCreator ? { createdBy: r.created_by } : {}), createdAt: r.created_at };
}

const bookingsWord = (n: number) => (n === 1 ? '1 booking is' : `${n} bookings are`);

/** Refusals about one person's address: a retry would change nothing, so they are logged and passed over. */
const ONE_RECIPIENT = new Set(['NOTIFY_INVALID_PHONE', 'NOTIFY_VALIDATION']);

function statusWord(status: string): string {
  return { booked: 'booked', checked_in: 'checked in', checked_out: 'checked out', cancelled: 'cancelled', released: 'released as a no-show' }[status] ?? status;
}
