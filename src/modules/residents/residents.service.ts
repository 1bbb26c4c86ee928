import type { Actor } from '../../platform/auth/actor.js';
import type { Origin as AuditOrigin } from '../../platform/audit/origin.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db, Executor } from '../../platform/db/database.js';
import type { FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { checkEmail, checkPhone } from '../messaging/recipients.js';
import { AUDIENCE_PAGE, AudienceFinder } from './audience.service.js';
import { type ConsentEndedHook, ConsentsRepository } from './consents.repository.js';
import { Consents } from './consents.service.js';
import { type ResidentExport, ResidentRights } from './rights.service.js';
import { type ResidentRow, ResidentsRepository } from './residents.repository.js';
import { residentsErrors } from './residents.errors.js';
import type {
  Audience,
  ConsentView,
  ContactChannel,
  ContactEntry,
  ErasureReport,
  ResidentDataHolder,
  ResidentInput,
  ResidentView,
  SiteChoice,
  SubscriptionInput,
  SubscriptionView,
} from './residents.schema.js';
import { type ResidentsEstate, Subscriptions, UUID } from './subscriptions.service.js';
import { SubscriptionsRepository } from './subscriptions.repository.js';
import { Topics } from './topics.service.js';

/** Where a change came from: the audit's address and request id, and for consents the page or route it was given on (portal:/account/…, staff:console, api). */
export type Origin = AuditOrigin & { source?: string };

/** The order channels are tried in when a resident has said nothing for a topic. */
export const DEFAULT_CHANNELS: ContactChannel[] = ['email', 'sms', 'letter'];
/** Roughly the United Kingdom: a home outside this box is a mistake. */
export const UK_BOUNDS = { minLat: 49, maxLat: 61, minLon: -9, maxLon: 2.5 };
const HOMES_PAGE = 2000;
const MANY_CHUNK = 5000;
const UK_TIME = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/**
 * Residents as the council reaches them: contact points, language, accessibility needs, quiet
 * hours, preferred channels per topic, their home and their subscriptions. Every change, and
 * every look at a record by staff, is audited; the audit keeps no contact details.
 */
/** How far apart two servers' clocks may be when one records a withdrawal and another checks for it. */
const CLOCK_GRACE_MS = 60_000;

export class ResidentsService {
  readonly repo: ResidentsRepository;
  /** the topics residents subscribe to (staff: topics:manage) */
  readonly topics: Topics;
  private readonly subs: Subscriptions;
  private readonly audience: AudienceFinder;
  private readonly subsRepo: SubscriptionsRepository;
  private readonly consentsRepo: ConsentsRepository;
  private readonly consents: Consents;
  private readonly rights: ResidentRights;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly estate: ResidentsEstate,
  ) {
    this.repo = new ResidentsRepository(db);
    this.subsRepo = new SubscriptionsRepository(db);
    this.topics = new Topics(db, audit, this.subsRepo);
    this.subs = new Subscriptions(db, audit, estate, this.subsRepo, this.topics);
    this.audience = new AudienceFinder(this.subsRepo, estate, this.topics);
    this.consentsRepo = new ConsentsRepository(db);
    this.consents = new Consents(db, audit, this.consentsRepo, this.topics, this.subsRepo, this.repo);
    this.rights = new ResidentRights({
      db,
      audit,
      residentsRepo: this.repo,
      subsRepo: this.subsRepo,
      consentsRepo: this.consentsRepo,
      get: (id) => this.get(id),
      subscriptions: (r) => this.subs.list(r),
      consents: (id) => this.consents.list(id),
      topics: () => this.topics.list(),
    });
  }

  /**
   * Adds a resident. The actor is staff for them, or (a function of the new id) the resident
   * themself signing up in the portal, so the audit names them as its actor.
   */
  async create(actor: Actor | ((id: string) => Actor), input: ResidentInput, origin: Origin = {}): Promise<ResidentView> {
    const row = await this.newRow(input);
    const who = typeof actor === 'function' ? actor(row.id) : actor;
    await this.db.transaction(async (trx) => {
      await this.store(who, row, input, origin, trx);
      await this.audit.record({ actor: who, action: 'residents.create', summary: 'Added a resident', targetType: 'resident', targetId: row.id, ...origin }, trx);
    });
    return this.get(row.id);
  }

  /**
   * Adds many residents at once (an import, the demo county): every one checked first, then stored
   * in one transaction with one audit row for the lot; a bad one stores none. Returns their ids, in order.
   */
  async importMany(actor: Actor, inputs: ResidentInput[], origin: Origin = {}): Promise<string[]> {
    const rows: ResidentRow[] = [];
    for (const input of inputs) rows.push(await this.newRow(input));
    await this.db.transaction(async (trx) => {
      for (let i = 0; i < rows.length; i++) await this.store(actor, rows[i], inputs[i], origin, trx);
      await this.audit.record({ actor, action: 'residents.import', summary: `Added ${rows.length} residents`, targetType: 'resident', changes: { count: rows.length }, ...origin }, trx);
    });
    return rows.map((r) => r.id);
  }

  private async newRow(input: ResidentInput): Promise<ResidentRow> {
    const fields = checked(input);
    const home = await this.homeOf(input, null);
    const now = new Date();
    return {
      id: newId(),
      name: input.name.trim(),
      email: fields.email ?? null,
      mobile: fields.mobile ?? null,
      landline: fields.landline ?? null,
      address_json: input.address?.map((l) => l.trim()) ?? null,
      language: input.language ?? 'en',
      is_large_print: input.largePrint ?? false,
      is_voice_preferred: input.prefersVoice ?? false,
      quiet_from: input.quietFrom ?? null,
      quiet_to: input.quietTo ?? null,
      ...home,
      created_at: now,
      updated_at: now,
      erased_at: null,
    } as ResidentRow;
  }

  private async store(actor: Actor, row: ResidentRow, input: ResidentInput, origin: Origin, trx: Executor): Promise<void> {
    await this.repo.insert(row as never, trx);
    await this.repo.replacePreferences(row.id, input.preferences ?? {}, trx);
    await this.consents.giveForTopics(actor, { id: row.id, language: input.language ?? 'en' }, Object.keys(input.preferences ?? {}), origin, trx);
  }

  /** Replaces the resident's details with `input` (contact points and address not given are removed). */
  async update(actor: Actor, id: string, input: ResidentInput, origin: Origin = {}, changed: string[] = Object.keys(input)): Promise<ResidentView> {
    const before = notErased(await this.get(id));
    const fields = checked(input);
    const home = await this.homeOf(input, before);
    await this.db.transaction(async (trx) => {
      await this.repo.update(
        before.id,
        {
          name: input.name.trim(),
          email: fields.email ?? null,
          mobile: fields.mobile ?? null,
          landline: fields.landline ?? null,
          address_json: input.address?.map((l) => l.trim()) ?? null,
          language: input.language ?? before.language,
          is_large_print: input.largePrint ?? before.largePrint,
          is_voice_preferred: input.prefersVoice ?? before.prefersVoice,
          quiet_from: input.quietFrom === undefined ? before.quietFrom : input.quietFrom,
          quiet_to: input.quietTo === undefined ? before.quietTo : input.quietTo,
          ...home,
          updated_at: new Date(),
        },
        trx,
      );
      if (home.area_id !== before.areaId) await this.subsRepo.setHomeArea(before.id, home.area_id, trx);
      if (input.preferences) {
        await this.repo.replacePreferences(before.id, input.preferences, trx);
        // A channel order chosen for a topic is consent to messages about it.
        await this.consents.giveForTopics(actor, before, chosenTopics(before.preferences, input.preferences), origin, trx);
      }
      // Which fields changed, never their values: the audit log is not a copy of personal data.
      await this.audit.record({ actor, action: 'residents.update', summary: 'Changed a resident’s details', targetType: 'resident', targetId: before.id, changes: changed, ...origin }, trx);
    });
    return this.get(before.id);
  }

  /** Changes only the fields given, the rest kept as they are (the portal's one-question forms); the audit names those fields. */
  async change(actor: Actor, id: string, changes: Partial<ResidentInput>, origin: Origin = {}): Promise<ResidentView> {
    const r = await this.get(id);
    return this.update(actor, r.id, { ...inputOf(r), ...changes }, origin, Object.keys(changes));
  }

  /**
   * The resident whose email address or mobile number this is (normalised: lower case, 447…),
   * for signing in; when staff have given it to more than one, the one added first.
   */
  async findByContact(channel: 'email' | 'mobile', normalised: string): Promise<ResidentView | undefined> {
    const row = await this.repo.findByContact(channel, normalised);
    return row && this.viewOf(row);
  }

  async get(id: string): Promise<ResidentView> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.find(id.toLowerCase()) : undefined;
    if (!row) throw residentsErrors.RESIDENT_NOT_FOUND();
    return this.viewOf(row);
  }

  private async viewOf(row: ResidentRow): Promise<ResidentView> {
    const [preferences, withdrawn] = await Promise.all([this.repo.preferences(row.id), this.consentsRepo.withdrawnTopics([row.id])]);
    return toView(row, preferences as Record<string, ContactChannel[]>, withdrawn.get(row.id));
  }

  /** The residents with these ids that exist, with their preferences, in the order given; for sending to many at once. */
  async getMany(ids: string[]): Promise<ResidentView[]> {
    const wanted = [...new Set(ids.map((id) => id.toLowerCase()).filter((id) => UUID.test(id)))];
    const found = new Map<string, ResidentView>();
    for (let i = 0; i < wanted.length; i += MANY_CHUNK) {
      const chunk = wanted.slice(i, i + MANY_CHUNK);
      const [rows, preferences, withdrawn] = await Promise.all([this.repo.findMany(chunk), this.repo.preferencesOf(chunk), this.consentsRepo.withdrawnTopics(chunk)]);
      for (const r of rows) found.set(r.id, toView(r, (preferences.get(r.id) ?? {}) as Record<string, ContactChannel[]>, withdrawn.get(r.id)));
    }
    return ids.flatMap((id) => found.get(id.toLowerCase()) ?? []);
  }

  /**
   * Of these residents, those whose consent to messages about `topic` has ended (withdrawn since,
   * or erased): one statement, for a sender to check again once its rows are stored.
   */
  async consentEndedFor(residentIds: string[], topic: string): Promise<string[]> {
    const [withdrawn, erased] = await Promise.all([this.consentsRepo.withdrawnTopics(residentIds), this.repo.erasedAmong(residentIds)]);
    return residentIds.filter((id) => withdrawn.get(id)?.includes(topic) || erased.has(id));
  }

  /**
   * consentEndedFor for many residents whose consents were read at `since` (a campaign chunk):
   * only those with a withdrawal or an erasure since then (a minute's grace for clocks) are
   * looked at again, so the usual answer, none, takes two small reads.
   */
  async consentEndedSince(residentIds: string[], topic: string, since: Date): Promise<string[]> {
    const from = new Date(since.getTime() - CLOCK_GRACE_MS);
    const [withdrawn, erased] = await Promise.all([this.consentsRepo.withdrawnSince(from), this.repo.erasedSince(from)]);
    const changed = new Set([...withdrawn, ...erased]);
    const among = residentIds.filter((id) => changed.has(id));
    return among.length ? this.consentEndedFor(among, topic) : [];
  }

  /** A staff member looking at a resident's record: audited. */
  async view(actor: Actor, id: string, origin: Origin = {}): Promise<ResidentView> {
    const resident = await this.get(id);
    await this.audit.record({ actor, action: 'residents.view', summary: 'Looked at a resident’s record', targetType: 'resident', targetId: resident.id, ...origin });
    return resident;
  }

  async search(actor: Actor, text: string | undefined, limit = 50, origin: Origin = {}): Promise<ResidentView[]> {
    const rows = await this.repo.search(text?.trim() || undefined, Math.min(Math.max(limit, 1), 200));
    await this.audit.record({ actor, action: 'residents.search', summary: `Searched residents (${rows.length} found)`, targetType: 'resident', ...origin });
    return rows.map((r) => toView(r, {}));
  }

  /** The home columns for a create or an update: a new point is placed in its area (fields not given stay as they were). */
  private async homeOf(input: ResidentInput, before: ResidentView | null) {
    const location = input.location === undefined ? (before?.location ?? null) : input.location;
    const postcode = input.postcode === undefined ? (before?.postcode ?? null) : input.postcode && normalisePostcode(input.postcode);
    const areaId = input.location === undefined ? (before?.areaId ?? null) : location ? ((await this.estate.areaFor(location.lat, location.lon))?.id ?? null) : null;
    return { postcode: postcode || null, latitude: location?.lat ?? null, longitude: location?.lon ?? null, area_id: areaId };
  }

  /**
   * Places every resident's home in the area it lies in now, and their home subscriptions with it,
   * a page at a time; for after the estate's areas are imported again (residents are not moved by
   * the import itself). Returns how many moved.
   */
  async replaceHomes(): Promise<number> {
    const areaOf = await this.estate.areas.finder();
    let moved = 0;
    let after: string | null = null;
    for (;;) {
      const homes = await this.repo.homes(after, HOMES_PAGE);
      const changes = homes.map((h) => ({ id: h.id, from: h.area_id, to: areaOf(h.latitude, h.longitude) })).filter((c) => c.to !== c.from);
      if (changes.length)
        await this.db.transaction(async (trx) => {
          for (const c of changes) {
            await this.repo.setArea(c.id, c.to, trx);
            await this.subsRepo.setHomeArea(c.id, c.to, trx);
          }
        });
      moved += changes.length;
      if (homes.length < HOMES_PAGE) return moved;
      after = homes[homes.length - 1].id;
    }
  }

  // ---------------------------------------------------------------- subscriptions

  /** A resident's subscriptions, by topic. */
  async subscriptions(residentId: string): Promise<SubscriptionView[]> {
    return this.subs.list(await this.get(residentId));
  }

  /** A staff member looking at a resident's subscriptions: audited as a look at their record. */
  async viewSubscriptions(actor: Actor, residentId: string, origin: Origin = {}): Promise<SubscriptionView[]> {
    return this.subs.list(await this.view(actor, residentId, origin));
  }

  /** The council's areas (wards first), to choose from and to name. */
  async areas(): Promise<{ id: string; name: string }[]> {
    return (await this.estate.listAreas()).map((a) => ({ id: a.id, name: a.name }));
  }

  /** The sites a resident may choose to subscribe to, nearest their home first. */
  async siteChoices(residentId: string): Promise<SiteChoice[]> {
    return this.subs.siteChoices(await this.get(residentId));
  }

  /** Subscribes a resident (the actor: staff for them, or the resident in the portal); audited. */
  async subscribe(actor: Actor, residentId: string, input: SubscriptionInput, origin: Origin = {}): Promise<SubscriptionView> {
    const resident = notErased(await this.get(residentId));
    // Subscribing to a topic is consent to messages about it, recorded with the subscription.
    return this.subs.subscribe(actor, resident, input, origin, (trx) => this.consents.giveForTopics(actor, resident, [input.topic], origin, trx));
  }

  /** Many subscriptions at once (an import, the demo county): all checked, then stored in one transaction, one audit row. */
  async subscribeMany(actor: Actor, items: { residentId: string; input: SubscriptionInput }[], origin: Origin = {}): Promise<number> {
    const residents = new Map((await this.getMany(items.map((i) => i.residentId))).map((r) => [r.id, r]));
    const ready: { resident: ResidentView; row: Awaited<ReturnType<Subscriptions['prepare']>> }[] = [];
    for (const item of items) {
      const resident = residents.get(item.residentId.toLowerCase());
      if (!resident) throw residentsErrors.RESIDENT_NOT_FOUND();
      ready.push({ resident: notErased(resident), row: await this.subs.prepare(resident, item.input) });
    }
    await this.db.transaction(async (trx) => {
      for (const { resident, row } of ready) {
        await this.subs.store(row, trx);
        await this.consents.giveForTopics(actor, resident, [row.topic], origin, trx);
      }
      await this.audit.record({ actor, action: 'residents.subscribe_many', summary: `Added ${ready.length} subscriptions`, targetType: 'resident', changes: { count: ready.length }, ...origin }, trx);
    });
    return ready.length;
  }

  async unsubscribe(actor: Actor, residentId: string, subscriptionId: string, origin: Origin = {}): Promise<void> {
    await this.subs.unsubscribe(actor, await this.get(residentId), subscriptionId.toLowerCase(), origin);
  }

  /**
   * Resident ids subscribed to the topic in any of the areas or at any of the sites, each once,
   * in id order, a page at a time. AUDIENCE_EMPTY when neither list names anything.
   */
  audienceIds(audience: Audience, pageSize = AUDIENCE_PAGE): AsyncGenerator<string[]> {
    return this.audience.ids(audience, pageSize);
  }

  /** How many residents audienceIds gives. */
  countAudience(audience: Audience): Promise<number> {
    return this.audience.count(audience);
  }

  /** The channels to try for a topic, in the resident's order; the default order when they have none; none when they withdrew consent to it. */
  channelsFor(resident: ResidentView, topic: string | undefined): ContactChannel[] {
    if (topic && resident.withdrawnTopics.includes(topic)) return [];
    const chosen = (topic && resident.preferences[topic]) || resident.preferences['*'] || (resident.prefersVoice ? ['voice', ...DEFAULT_CHANNELS] : DEFAULT_CHANNELS);
    return [...chosen];
  }

  // ---------------------------------------------------------------- consents

  /** A resident's consents, newest first. */
  async consentsOf(residentId: string): Promise<ConsentView[]> {
    return this.consents.list((await this.get(residentId)).id);
  }

  /** Records a consent the resident gave (staff or a council system; the portal gives them by subscribing). */
  async giveConsent(actor: Actor, residentId: string, purpose: string, origin: Origin = {}): Promise<ConsentView> {
    return this.consents.give(actor, notErased(await this.get(residentId)), purpose, origin);
  }

  /**
   * Something to do whenever a resident's consent to messages ends (a topic's withdrawn; all of
   * them on erasure), in the transaction that ends it: src/services.ts has messaging cancel the
   * messages still waiting that the consent covered. A hook, because messaging depends on residents.
   */
  onConsentEnded(hook: ConsentEndedHook): void {
    this.consentsRepo.onEnded(hook);
  }

  /** Withdraws a consent; for a topic, the resident's subscriptions to it and channel order for it go too, and their messages about it still waiting are cancelled. */
  async withdrawConsent(actor: Actor, residentId: string, consentId: string, origin: Origin = {}): Promise<ConsentView> {
    return this.consents.withdraw(actor, await this.get(residentId), consentId, origin);
  }

  // ---------------------------------------------------------------- subject access and erasure

  /** Modules holding residents' data (src/services.ts registers them), reached by export, erasure and contact history. */
  registerHolder(...holders: ResidentDataHolder[]): void {
    this.rights.register(...holders);
  }

  /** Everything Weft holds about the resident, with a summary to read (subject access); audited. */
  exportResident(actor: Actor, residentId: string, origin: Origin = {}): Promise<ResidentExport> {
    return this.rights.export(actor, residentId, origin);
  }

  /** Removes or anonymises the resident's personal data everywhere, keeping counts; audited. Running it again finishes one cut short. */
  erase(actor: Actor, residentId: string, origin: Origin = {}): Promise<ErasureReport> {
    return this.rights.erase(actor, residentId, origin);
  }

  /** A staff member looking at a resident's contact history: audited as a look at their record. */
  async contactHistory(actor: Actor, residentId: string, limit = 100, origin: Origin = {}): Promise<{ resident: ResidentView; entries: ContactEntry[] }> {
    const resident = await this.view(actor, residentId, origin);
    return { resident, entries: await this.rights.history(resident, Math.min(Math.max(limit, 1), 500)) };
  }
}

/** An erased resident's record stays as it is. */
function notErased(r: ResidentView): ResidentView {
  if (r.erasedAt) throw residentsErrors.RESIDENT_ERASED();
  return r;
}

/** The topics whose channel order is new or different in `after`: those the resident has just chosen. */
function chosenTopics(before: Record<string, string[]>, after: Record<string, string[]>): string[] {
  return Object.keys(after).filter((t) => t !== '*' && after[t].join() !== (before[t] ?? []).join());
}

/**
 * When a message that is not urgent may go: now, or the end of the resident's quiet hours (UK
 * time; a span past midnight, 21:00 to 08:00, works). On the night the clocks change it can be an
 * hour out.
 */
export function quietUntil(resident: Pick<ResidentView, 'quietFrom' | 'quietTo'>, now: Date): Date | null {
  if (!resident.quietFrom || !resident.quietTo || resident.quietFrom === resident.quietTo) return null;
  const [h, m] = UK_TIME.format(now).split(':').map(Number);
  const minute = h * 60 + m;
  const from = minutesOf(resident.quietFrom);
  const to = minutesOf(resident.quietTo);
  const quiet = from < to ? minute >= from && minute < to : minute >= from || minute < to;
  if (!quiet) return null;
  const wait = (to - minute + 1440) % 1440;
  return new Date(now.getTime() - (now.getTime() % 60_000) + wait * 60_000);
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

function checked(input: ResidentInput): { email?: string | null; mobile?: string | null; landline?: string | null } {
  const errors: FieldError[] = [];
  const out: { email?: string | null; mobile?: string | null; landline?: string | null } = {};
  if (input.email) {
    const c = checkEmail(input.email);
    if (c.ok) out.email = c.normalised;
    else errors.push({ field: 'email', message: 'Enter an email address in the correct format, like name@example.com' });
  }
  if (input.mobile) {
    const c = checkPhone(input.mobile);
    if (c.ok) out.mobile = c.normalised;
    else errors.push({ field: 'mobile', message: 'Enter a UK mobile number, like 07700 900 982' });
  }
  if (input.landline) {
    const digits = input.landline.replace(/[\s()-]/g, '');
    if (/^(\+44|0)[1-9]\d{8,9}$/.test(digits)) out.landline = digits.replace(/^0/, '+44');
    else errors.push({ field: 'landline', message: 'Enter a UK phone number, like 01632 960 001' });
  }
  if ((input.quietFrom && !input.quietTo) || (!input.quietFrom && input.quietTo)) errors.push({ field: 'quietTo', message: 'Give both the start and the end of quiet hours' });
  if (input.postcode && !normalisePostcode(input.postcode)) errors.push({ field: 'postcode', message: 'Enter a real postcode, like SW1A 1AA' });
  const at = input.location;
  if (at && !(at.lat >= UK_BOUNDS.minLat && at.lat <= UK_BOUNDS.maxLat && at.lon >= UK_BOUNDS.minLon && at.lon <= UK_BOUNDS.maxLon)) {
    errors.push({ field: 'location', message: `Give a point in the UK: latitude from ${UK_BOUNDS.minLat} to ${UK_BOUNDS.maxLat}, longitude from ${UK_BOUNDS.minLon} to ${UK_BOUNDS.maxLon}` });
  }
  if (errors.length) throw residentsErrors.RESIDENT_INVALID(undefined, errors);
  return out;
}

/** A UK postcode upper case with one space before the inward code (SW1A 1AA), or '' if it is not one. */
export function normalisePostcode(text: string): string {
  const compact = text.toUpperCase().replace(/\s+/g, '');
  if (!/^([A-Z]{1,2}[0-9][A-Z0-9]?|GIR)[0-9][A-Z]{2}$/.test(compact)) return '';
  return `${compact.slice(0, -3)} ${compact.slice(-3)}`;
}

function toView(r: ResidentRow, preferences: Record<string, ContactChannel[]>, withdrawnTopics: string[] = []): ResidentView {
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    mobile: r.mobile,
    landline: r.landline,
    address: r.address_json,
    language: r.language === 'cy' ? 'cy' : 'en',
    largePrint: r.is_large_print,
    prefersVoice: r.is_voice_preferred,
    quietFrom: r.quiet_from,
    quietTo: r.quiet_to,
    preferences,
    postcode: r.postcode,
    location: r.latitude !== null && r.longitude !== null ? { lat: Number(r.latitude), lon: Number(r.longitude) } : null,
    areaId: r.area_id,
    withdrawnTopics,
    erasedAt: r.erased_at ?? null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** A resident as the API's input: what update() is given to keep every field as it is. */
export function inputOf(r: ResidentView): ResidentInput {
  return {
    name: r.name,
    email: r.email,
    mobile: r.mobile,
    landline: r.landline,
    address: r.address,
    language: r.language,
    largePrint: r.largePrint,
    prefersVoice: r.prefersVoice,
    quietFrom: r.quietFrom,
    quietTo: r.quietTo,
  };
}
