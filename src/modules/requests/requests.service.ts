import { randomBytes } from 'node:crypto';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import { type Actor, systemActor } from '../../platform/auth/actor.js';
import type { Db, Executor } from '../../platform/db/database.js';
import { isUniqueViolation } from '../../platform/db/dialect.js';
import type { FieldError } from '../../platform/errors.js';
import type { EventBus } from '../../platform/events/index.js';
import { newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import type { Logger } from '../../services.js';
import type { EstateService } from '../estate/index.js';
import type { MessagingService, ResidentSending } from '../messaging/index.js';
import { checkEmail, checkPhone } from '../messaging/recipients.js';
import type { ResidentsService, ResidentView } from '../residents/index.js';
import { ReporterMessages, TELL_REPORTER_JOB } from './reporter-messages.js';
import { requestsErrors } from './requests.errors.js';
import { type Open311Search, type PublicRow, type RequestCategoriesTable, RequestsRepository, type RequestsTable, type RequestUpdatesTable } from './requests.repository.js';
import {
  type Attribute,
  type CategoryCreate,
  type CategoryUpdate,
  type CategoryView,
  CLOSED_STATUSES,
  isOpen,
  OPEN_STATUSES,
  PHOTO_MAX_BYTES,
  PHOTO_PATH,
  PHOTO_TYPES,
  type PhotoType,
  type PhotoUpload,
  type PublicRequestView,
  type RequestCreate,
  type RequestFilter,
  type RequestStatus,
  type RequestView,
  STATUS_NAMES,
  type TeamCreate,
  type TeamView,
  TRANSITIONS,
  type UpdateCreate,
  type UpdateView,
} from './requests.schema.js';

export { TELL_REPORTER_JOB } from './reporter-messages.js';

export interface RequestsDeps {
  db: Db;
  audit: AuditService;
  events: EventBus;
  estate: EstateService;
  residents: ResidentsService;
  messaging: MessagingService;
  residentSending: ResidentSending;
  jobs: JobQueue;
  log: Logger;
  /** Weft's public address: a photo's media_url is absolute, as Open311 shows it to other systems */
  publicUrl: string;
}

/** How a request arrived: the portal, staff on someone's behalf, Open311 (FixMyStreet among its clients). */
export type Source = 'portal' | 'staff' | 'open311' | 'fixmystreet';

export interface SubmitOptions {
  source: Source;
  origin?: Origin;
  /** FixMyStreet's id for the report */
  externalId?: string | null;
  addressId?: string | null;
  /** the area to route to when there is no point (staff who know where, without a map) */
  areaId?: string | null;
  /** a photo (JPEG or PNG, 5 MB at most), kept with the request; media_url points at it */
  photo?: PhotoUpload;
}

/** A change of a request: a status, a message, public or internal, by whom and from where. */
export interface Change extends UpdateCreate {
  source?: Source | 'console';
  externalId?: string | null;
  at?: Date;
}

const CATEGORY_CACHE_MS = 30_000;
// Crockford's base32 without I, L, O and U: easy to read out on the phone.
const REFERENCE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const HOUR = 3_600_000;

export function newReference(): string {
  const bytes = randomBytes(8);
  let out = '';
  for (const b of bytes) out += REFERENCE_ALPHABET[b & 31];
  return out;
}

const uuidLike = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

interface Catalogue {
  at: number;
  categories: Map<string, CategoryView>;
  teams: Map<string, TeamView>;
}

/**
 * Service requests: categories with per-area routing to teams, the lifecycle with public updates
 * and internal notes, duplicates merged, and the reporter told of each public update.
 */
export class RequestsService {
  readonly repo: RequestsRepository;
  private readonly reporters: ReporterMessages;
  private catalogue?: Promise<Catalogue>;

  constructor(private readonly deps: RequestsDeps) {
    this.repo = new RequestsRepository(deps.db);
    this.reporters = new ReporterMessages(this.repo, deps.messaging, deps.residents, deps.residentSending, deps.log);
    deps.jobs.register(TELL_REPORTER_JOB, async (payload: { updateId: string }) => {
      await this.tellReporter(payload.updateId);
    });
  }

  // ---------------------------------------------------------------- teams and categories

  private loadCatalogue(): Promise<Catalogue> {
    const cached = this.catalogue;
    if (cached) return cached.then((c) => (Date.now() - c.at < CATEGORY_CACHE_MS ? c : this.reloadCatalogue()));
    return this.reloadCatalogue();
  }

  private reloadCatalogue(): Promise<Catalogue> {
    const loading = Promise.all([this.repo.listCategories(), this.repo.listRoutes(), this.repo.listTeams()]).then(([categories, routes, teams]) => ({
      at: Date.now(),
      teams: new Map(teams.map((t) => [t.id, { id: t.id, name: t.name, email: t.email }])),
      categories: new Map(
        categories.map((c) => [
          c.code,
          toCategoryView(
            c,
            routes.filter((r) => r.category_code === c.code),
          ),
        ]),
      ),
    }));
    this.catalogue = loading;
    loading.catch(() => {
      if (this.catalogue === loading) this.catalogue = undefined;
    });
    return loading;
  }

  async listCategories(options: { enabledOnly?: boolean } = {}): Promise<CategoryView[]> {
    const all = [...(await this.loadCatalogue()).categories.values()];
    return options.enabledOnly ? all.filter((c) => c.enabled) : all;
  }

  async getCategory(code: string): Promise<CategoryView> {
    const category = (await this.loadCatalogue()).categories.get(code);
    if (!category) throw requestsErrors.CATEGORY_NOT_FOUND();
    return category;
  }

  async listTeams(): Promise<TeamView[]> {
    return [...(await this.loadCatalogue()).teams.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async createTeam(actor: Actor, input: TeamCreate, origin: Origin = {}): Promise<TeamView> {
    const now = new Date();
    const row = { id: newId(), name: input.name.trim(), email: input.email?.trim() || null, created_at: now, updated_at: now };
    try {
      await this.deps.db.transaction(async (trx) => {
        await this.repo.insertTeam(row, trx);
        await this.deps.audit.record({ actor, action: 'requests.team_create', summary: `Created team ${row.name}`, targetType: 'request_team', targetId: row.id, ...origin }, trx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw requestsErrors.TEAM_NAME_TAKEN();
      throw err;
    }
    await this.reloadCatalogue();
    return { id: row.id, name: row.name, email: row.email };
  }

  async createCategory(actor: Actor, input: CategoryCreate, origin: Origin = {}): Promise<CategoryView> {
    await this.checkTeamsAndAreas(input);
    checkAttributeDefinitions(input.attributes ?? []);
    const now = new Date();
    const row: RequestCategoriesTable = {
      code: input.code,
      name: input.name.trim(),
      name_cy: input.nameCy?.trim() || null,
      group_name: input.group.trim(),
      description: input.description?.trim() ?? '',
      keywords: (input.keywords ?? []).map((k) => k.trim()).join(','),
      target_hours: input.targetHours,
      service_notice: input.serviceNotice?.trim() || null,
      attributes_json: JSON.stringify(input.attributes ?? []),
      default_team_id: input.defaultTeamId ?? null,
      is_enabled: input.enabled ?? true,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.deps.db.transaction(async (trx) => {
        await this.repo.insertCategory(row, trx);
        await this.repo.replaceRoutes(row.code, input.routes ?? [], trx);
        await this.deps.audit.record({ actor, action: 'requests.category_create', summary: `Created category ${row.name}`, targetType: 'request_category', targetId: row.code, ...origin }, trx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw requestsErrors.CATEGORY_CODE_TAKEN();
      throw err;
    }
    await this.reloadCatalogue();
    return this.getCategory(row.code);
  }

  async updateCategory(actor: Actor, code: string, input: CategoryUpdate, origin: Origin = {}): Promise<CategoryView> {
    const before = await this.getCategory(code);
    await this.checkTeamsAndAreas(input);
    if (input.attributes) checkAttributeDefinitions(input.attributes);
    const fields: Partial<RequestCategoriesTable> = { updated_at: new Date() };
    if (input.name !== undefined) fields.name = input.name.trim();
    if (input.nameCy !== undefined) fields.name_cy = input.nameCy?.trim() || null;
    if (input.group !== undefined) fields.group_name = input.group.trim();
    if (input.description !== undefined) fields.description = input.description.trim();
    if (input.keywords !== undefined) fields.keywords = input.keywords.map((k) => k.trim()).join(',');
    if (input.targetHours !== undefined) fields.target_hours = input.targetHours;
    if (input.serviceNotice !== undefined) fields.service_notice = input.serviceNotice?.trim() || null;
    if (input.attributes !== undefined) fields.attributes_json = JSON.stringify(input.attributes);
    if (input.defaultTeamId !== undefined) fields.default_team_id = input.defaultTeamId;
    if (input.enabled !== undefined) fields.is_enabled = input.enabled;
    await this.deps.db.transaction(async (trx) => {
      await this.repo.updateCategory(code, fields, trx);
      if (input.routes) await this.repo.replaceRoutes(code, input.routes, trx);
      const changed = Object.keys(input).sort();
      await this.deps.audit.record(
        {
          actor,
          action: 'requests.category_update',
          summary: `Changed category ${before.name}: ${changed.join(', ')}`,
          targetType: 'request_category',
          targetId: code,
          changes: { fields: changed },
          ...origin,
        },
        trx,
      );
    });
    await this.reloadCatalogue();
    return this.getCategory(code);
  }

  private async checkTeamsAndAreas(input: CategoryUpdate): Promise<void> {
    const { teams } = await this.reloadCatalogue();
    const teamIds = [input.defaultTeamId, ...(input.routes ?? []).map((r) => r.teamId)].filter((t): t is string => !!t);
    const missing = teamIds.find((t) => !teams.has(t));
    if (missing) throw requestsErrors.TEAM_NOT_FOUND(`There is no team with the id ${missing}.`);
    if (input.routes?.length) {
      const areas = new Set((await this.deps.estate.listAreas()).map((a) => a.id));
      const unknown = input.routes.find((r) => !areas.has(r.areaId));
      if (unknown) throw requestsErrors.ROUTE_AREA_NOT_FOUND(`There is no area with the id ${unknown.areaId}.`);
    }
  }

  // ---------------------------------------------------------------- making requests

  /**
   * A report from a resident in the portal (or anyone, with no resident id): placed in its
   * area, routed to a team, due by the category's target. Returns what the reporter may see.
   */
  async create(report: RequestCreate, reporterResidentId: string | null = null, origin: Origin = {}, photo?: PhotoUpload): Promise<PublicRequestView> {
    const actor: Actor = reporterResidentId ? { type: 'resident', id: reporterResidentId, label: 'resident', permissions: new Set(), roles: [] } : systemActor('weft portal');
    const row = await this.submit(actor, { ...report, residentId: reporterResidentId ?? undefined }, { source: 'portal', origin, photo });
    return this.get(row.id);
  }

  /** Any report: checks the category, its questions and the location; writes it with its audit row. */
  async submit(actor: Actor, input: RequestCreate, options: SubmitOptions): Promise<RequestsTable> {
    const category = await this.getCategory(input.category);
    if (!category.enabled) throw requestsErrors.CATEGORY_DISABLED();
    const hasPoint = input.lat !== undefined || input.lon !== undefined;
    if (hasPoint && (input.lat === undefined || input.lon === undefined))
      throw requestsErrors.LOCATION_REQUIRED('Give both a latitude and a longitude.', [{ field: input.lat === undefined ? 'lat' : 'lon', message: 'Give both a latitude and a longitude' }]);
    if (!hasPoint && !input.address?.trim() && !options.addressId) throw requestsErrors.LOCATION_REQUIRED(undefined, [{ field: 'lat', message: 'Give a latitude and longitude, or an address' }]);
    const attributes = checkAnswers(category.attributes, input.attributes ?? {});
    const photoType = options.photo ? checkPhoto(options.photo) : undefined;
    const resident = input.residentId ? await this.deps.residents.get(input.residentId) : undefined;
    const area = hasPoint ? await this.deps.estate.areaFor(input.lat as number, input.lon as number) : await this.chosenArea(options.areaId);
    const now = new Date();
    const photo = options.photo && photoType && { id: newId(now.getTime()), content_type: photoType, bytes: options.photo.bytes, created_at: now };
    const row: RequestsTable = {
      id: newId(now.getTime()),
      reference: newReference(),
      token: randomBytes(12).toString('base64url'),
      category_code: category.code,
      status: 'open',
      description: input.description.trim(),
      lat: input.lat ?? null,
      lon: input.lon ?? null,
      address: input.address?.trim() || null,
      address_id: options.addressId ?? null,
      postcode: input.postcode?.trim().toUpperCase() || null,
      area_id: area?.id ?? null,
      team_id: routeFor(category, area?.id ?? null),
      reporter_resident_id: resident?.id ?? null,
      reporter_name: input.reporterName?.trim() || resident?.name || null,
      reporter_email: input.reporterEmail?.trim().toLowerCase() || resident?.email || null,
      reporter_phone: input.reporterPhone?.trim() || null,
      language: input.language ?? resident?.language ?? 'en',
      source: options.source,
      submitted_by: actor.type === 'key' || actor.type === 'user' ? actor.id : null,
      external_id: options.externalId ?? null,
      attributes_json: JSON.stringify(attributes),
      media_url: photo ? `${this.deps.publicUrl}${PHOTO_PATH}${photo.id}.${PHOTO_TYPES[photo.content_type]}` : (input.mediaUrl ?? null),
      status_notes: null,
      duplicate_of: null,
      created_at: now,
      updated_at: now,
      due_at: new Date(now.getTime() + category.targetHours * HOUR),
      acknowledged_at: null,
      closed_at: null,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.deps.db.transaction(async (trx) => {
          await this.repo.insertRequest(row, trx);
          if (photo) await this.repo.insertPhoto({ ...photo, request_id: row.id }, trx);
          await this.deps.audit.record(
            { actor, action: 'requests.create', summary: `Reported ${category.name} (${row.reference}) via ${options.source}`, targetType: 'request', targetId: row.id, ...options.origin },
            trx,
          );
        });
        break;
      } catch (err) {
        // A reference drawn twice (one in a trillion a time): draw another.
        if (!isUniqueViolation(err) || attempt >= 3) throw err;
        row.reference = newReference();
      }
    }
    await this.deps.events.emit('request.updated', { id: row.id, status: row.status, created: true });
    return row;
  }

  /** The area staff chose for a request without a point, checked; none when they chose none. */
  private async chosenArea(areaId: string | null | undefined) {
    if (!areaId) return undefined;
    const area = (await this.deps.estate.listAreas()).find((a) => a.id === areaId);
    if (!area) throw requestsErrors.REQUEST_AREA_NOT_FOUND(undefined, [{ field: 'areaId', message: 'Choose one of the council’s areas' }]);
    return area;
  }

  /**
   * The resident whose email address or UK mobile number this is (as typed), for staff recording
   * a request on their behalf: undefined when no resident has it, 'invalid' when it is neither.
   */
  async reporterByContact(text: string): Promise<ResidentView | undefined | 'invalid'> {
    const value = text.trim();
    const checked = value.includes('@') ? checkEmail(value) : checkPhone(value);
    if (!checked.ok) return 'invalid';
    return this.deps.residents.findByContact(value.includes('@') ? 'email' : 'mobile', checked.normalised);
  }

  // ---------------------------------------------------------------- reading

  /** A request by its id or its reference, or undefined. */
  async find(idOrReference: string): Promise<RequestsTable | undefined> {
    if (uuidLike(idOrReference)) return this.repo.findById(idOrReference.toLowerCase());
    return /^[0-9A-Za-z]{8}$/.test(idOrReference) ? this.repo.findByReference(idOrReference.toUpperCase()) : undefined;
  }

  private async found(idOrReference: string): Promise<RequestsTable> {
    const row = await this.find(idOrReference);
    if (!row) throw requestsErrors.REQUEST_NOT_FOUND();
    return row;
  }

  /** What a resident (or anyone) may see of a request: public fields and public updates only. */
  async get(idOrReference: string): Promise<PublicRequestView> {
    const row = await this.found(idOrReference);
    const [updates, category, duplicateOf] = await Promise.all([
      this.repo.updatesOf(row.id, true),
      this.getCategory(row.category_code),
      row.duplicate_of ? this.repo.referencesOf([row.duplicate_of]) : [],
    ]);
    return {
      ...publicFields(row, category),
      duplicateOf: duplicateOf[0]?.reference ?? null,
      updates: updates.map((u) => ({ ...toUpdateView(u), author: u.source === 'fixmystreet' ? 'FixMyStreet' : 'Council' })),
    };
  }

  /**
   * One of a resident's own reports by its reference, as get() shows it; another resident's
   * is REQUEST_NOT_FOUND, exactly as a reference that does not exist.
   */
  async getForResident(reference: string, residentId: string): Promise<PublicRequestView> {
    const row = /^[0-9A-Za-z]{8}$/.test(reference) ? await this.repo.findByReference(reference.toUpperCase()) : undefined;
    if (!row || row.reporter_resident_id !== residentId) throw requestsErrors.REQUEST_NOT_FOUND();
    return this.get(row.id);
  }

  /** A photo by the last part of its address ({id}.jpg or {id}.png), for anyone. */
  async photo(name: string): Promise<{ contentType: PhotoType; bytes: Buffer }> {
    const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(jpg|png)$/.exec(name);
    const row = m ? await this.repo.findPhoto(m[1]) : undefined;
    if (!row || PHOTO_TYPES[row.content_type as PhotoType] !== m?.[2]) throw requestsErrors.PHOTO_NOT_FOUND();
    return { contentType: row.content_type as PhotoType, bytes: row.bytes };
  }

  /** A resident's own reports, newest first, public fields only. */
  async listForResident(residentId: string, limit = 100): Promise<PublicRequestView[]> {
    if (!uuidLike(residentId)) return [];
    const rows = await this.repo.list({ residentId: residentId.toLowerCase(), limit }, new Date());
    const categories = (await this.loadCatalogue()).categories;
    return rows.map((r) => ({ ...publicFields(r, categories.get(r.category_code)), duplicateOf: null, updates: [] }));
  }

  /** Staff: one request with everything, and its whole history. */
  async detail(idOrReference: string): Promise<{ request: RequestView; updates: UpdateView[] }> {
    const row = await this.found(idOrReference);
    const [updates, views] = await Promise.all([this.repo.updatesOf(row.id, false), this.views([row])]);
    return { request: views[0], updates: updates.map(toUpdateView) };
  }

  async list(filter: RequestFilter): Promise<RequestView[]> {
    return this.views(await this.repo.list(filter, new Date()));
  }

  count(filter: RequestFilter): Promise<number> {
    return this.repo.count({ ...filter, after: undefined }, new Date());
  }

  countByStatus(filter: RequestFilter) {
    return this.repo.countByStatus(filter, new Date());
  }

  private async views(rows: RequestsTable[]): Promise<RequestView[]> {
    const { categories, teams } = await this.loadCatalogue();
    const areas = new Map((await this.deps.estate.listAreas()).map((a) => [a.id, a.name]));
    const duplicateIds = rows.map((r) => r.duplicate_of).filter((d): d is string => !!d);
    const references = new Map((await this.repo.referencesOf(duplicateIds)).map((r) => [r.id, r.reference]));
    const now = Date.now();
    return rows.map((r) => toView(r, categories.get(r.category_code), r.team_id ? teams.get(r.team_id) : undefined, r.area_id ? (areas.get(r.area_id) ?? null) : null, references, now));
  }

  // ---------------------------------------------------------------- the lifecycle

  /**
   * A status change, a public update or an internal note, written with its update row and its
   * audit row in one transaction; a public one queues the job that tells the reporter.
   */
  async addUpdate(actor: Actor, idOrReference: string, change: Change, origin: Origin = {}): Promise<UpdateView> {
    const target = await this.found(idOrReference);
    const message = change.message.trim();
    if (!change.status && !message) throw requestsErrors.MESSAGE_REQUIRED(undefined, [{ field: 'message', message: 'Write a message, or choose a new status' }]);
    if (!change.public && !message) throw requestsErrors.MESSAGE_REQUIRED('An internal note needs a message.', [{ field: 'message', message: 'Write the internal note' }]);
    const update = await this.deps.db.transaction(async (trx) => {
      const row = (await this.repo.lockById(target.id, trx)) as RequestsTable;
      if (change.externalId) {
        const seen = await this.repo.findUpdateByExternal(row.id, change.externalId, trx);
        if (seen) return { update: seen, fresh: false };
      }
      if (change.status) checkTransition(row.status, change.status);
      const at = change.at ?? new Date();
      const update = this.updateRow(actor, row, { status: change.status ?? null, message, isPublic: change.public, source: change.source ?? 'console', externalId: change.externalId ?? null, at });
      await this.repo.updateRequest(row.id, requestChanges(row, change.status, change.public ? message : '', at), trx);
      await this.record(actor, row, update, trx, origin);
      return { update, fresh: true };
    });
    if (update.fresh) await this.afterChange(target.id, update.update);
    return toUpdateView(update.update);
  }

  /**
   * Closes a request as a duplicate of another (by id or reference): a public update on it points
   * at the original, and the original gets an internal note. Both reporters stay as they were.
   */
  async merge(actor: Actor, idOrReference: string, intoIdOrReference: string, message: string | undefined, origin: Origin = {}): Promise<UpdateView> {
    const duplicate = await this.found(idOrReference);
    const original = await this.find(intoIdOrReference);
    if (!original) throw requestsErrors.REQUEST_NOT_FOUND('There is no request with that id or reference to merge into.', [{ field: 'into', message: 'Enter the reference of the original request' }]);
    const result = await this.deps.db.transaction(async (trx) => {
      const dup = (await this.repo.lockById(duplicate.id, trx)) as RequestsTable;
      const into = (await this.repo.lockById(original.id, trx)) as RequestsTable;
      if (dup.id === into.id || !isOpen(dup.status) || into.status === 'duplicate')
        throw requestsErrors.MERGE_INVALID(undefined, [{ field: 'into', message: 'Enter the reference of another request that is not a duplicate, and merge only open requests' }]);
      const at = new Date();
      const text = message?.trim() || `This problem has already been reported as ${into.reference}. We will deal with it there.`;
      const update = this.updateRow(actor, dup, { status: 'duplicate', message: text, isPublic: true, source: 'console', externalId: null, at });
      await this.repo.updateRequest(dup.id, { ...requestChanges(dup, 'duplicate', text, at), duplicate_of: into.id }, trx);
      await this.record(actor, dup, update, trx, origin, `Merged ${dup.reference} into ${into.reference}`);
      const note = this.updateRow(actor, into, { status: null, message: `${dup.reference} was merged into this request as a duplicate.`, isPublic: false, source: 'console', externalId: null, at });
      await this.repo.insertUpdate(note, trx);
      await this.repo.updateRequest(into.id, { updated_at: at }, trx);
      return update;
    });
    await this.afterChange(duplicate.id, result);
    return toUpdateView(result);
  }

  private updateRow(
    actor: Actor,
    row: RequestsTable,
    u: { status: RequestStatus | null; message: string; isPublic: boolean; source: string; externalId: string | null; at: Date },
  ): RequestUpdatesTable {
    return {
      id: newId(u.at.getTime()),
      request_id: row.id,
      is_public: u.isPublic,
      from_status: u.status ? row.status : null,
      status: u.status,
      message: u.message,
      author_type: actor.type,
      author_id: actor.id,
      author_label: actor.label,
      source: u.source,
      external_id: u.externalId,
      created_at: u.at,
    };
  }

  private async record(actor: Actor, row: RequestsTable, update: RequestUpdatesTable, trx: Executor, origin: Origin, summary?: string): Promise<void> {
    await this.repo.insertUpdate(update, trx);
    const what = update.status ? `${STATUS_NAMES[row.status]} → ${STATUS_NAMES[update.status as RequestStatus]}` : update.is_public ? 'public update' : 'internal note';
    await this.deps.audit.record(
      {
        actor,
        action: update.status ? 'requests.status_change' : update.is_public ? 'requests.public_update' : 'requests.internal_note',
        summary: summary ?? `${row.reference}: ${what}`,
        targetType: 'request',
        targetId: row.id,
        changes: update.status ? { status: [row.status, update.status] } : undefined,
        ...origin,
      },
      trx,
    );
    if (update.is_public && this.shouldTell(row, update)) await this.deps.jobs.enqueue(TELL_REPORTER_JOB, { updateId: update.id }, { idempotencyKey: `tell:${update.id}`, executor: trx });
  }

  /** FixMyStreet tells its own users of updates; its own users' comments are not echoed back to anyone. */
  private shouldTell(row: RequestsTable, update: RequestUpdatesTable): boolean {
    return row.source !== 'fixmystreet' && update.source !== 'fixmystreet' && (!!row.reporter_resident_id || !!row.reporter_email);
  }

  private async afterChange(id: string, update: RequestUpdatesTable): Promise<void> {
    this.deps.jobs.wake();
    await this.deps.events.emit('request.updated', { id, status: update.status, updateId: update.id });
  }

  /** The job: tells the reporter of one public update. */
  async tellReporter(updateId: string): Promise<string> {
    const update = await this.repo.findUpdate(updateId);
    if (!update?.is_public) return 'nobody';
    const request = await this.repo.findById(update.request_id);
    if (!request) return 'nobody';
    const category = await this.getCategory(request.category_code);
    return this.reporters.tell(request, update, { en: category.name, cy: category.nameCy || category.name });
  }

  /** The messaging service and templates reporters are told through (made on first use). */
  messagingSetup() {
    return this.reporters.setup();
  }

  // ---------------------------------------------------------------- Open311's reads

  open311Search(search: Open311Search): Promise<PublicRow[]> {
    return this.repo.open311Search(search);
  }

  tokenLookup(token: string) {
    return token.length <= 64 ? this.repo.findByToken(token) : Promise.resolve(undefined);
  }

  publicUpdatesBetween(from: Date, to: Date, limit: number) {
    return this.repo.publicUpdatesBetween(from, to, limit);
  }

  /** Records FixMyStreet's id for a request that came without one. */
  async noteExternalId(row: RequestsTable, externalId: string): Promise<void> {
    if (!row.external_id) await this.deps.db.transaction((trx) => this.repo.updateRequest(row.id, { external_id: externalId }, trx));
  }

  /** The estate's areas (wards first), for routing rules and filters. */
  listAreas() {
    return this.deps.estate.listAreas();
  }

  /** The areas' boundaries as GeoJSON, for the maps a report's place is chosen on. */
  areasGeoJson() {
    return this.deps.estate.imports.areasGeoJson();
  }

  /** The catalogue as it is now (categories, teams), for pages and Open311. */
  async names(): Promise<{ categories: Map<string, CategoryView>; teams: Map<string, TeamView> }> {
    const { categories, teams } = await this.loadCatalogue();
    return { categories, teams };
  }

  // ---------------------------------------------------------------- a reporter's data (residents' rights)

  /** The requests a resident reported (theirs, or from their email with no resident named), each with its public updates (subject access). */
  async exportResident(r: { id: string; email: string | null }): Promise<{ summary: string[]; requests: Record<string, unknown>[] }> {
    const [rows, { categories }] = await Promise.all([this.repo.reportedBy(r.id, r.email), this.loadCatalogue()]);
    const requests = [];
    for (const row of rows) {
      const updates = await this.repo.updatesOf(row.id, true);
      requests.push({
        ...publicFields(row, categories.get(row.category_code)),
        reporter: { name: row.reporter_name, email: row.reporter_email, phone: row.reporter_phone },
        source: row.source,
        attributes: row.attributes_json,
        publicUpdates: updates.map((u) => ({ at: u.created_at, status: u.status, message: u.message })),
      });
    }
    const list = rows.map((x) => `${x.reference} ${categories.get(x.category_code)?.name ?? x.category_code} (${STATUS_NAMES[x.status].toLowerCase()})`);
    return { summary: [`Problems they reported: ${rows.length}${list.length ? `: ${list.join('; ')}` : ''}.`], requests };
  }

  /** Erasure: their requests stay, counted and public, without reporter or resident. Can run again. */
  forgetResident(r: { id: string; email: string | null }): Promise<{ requests: number; updates: number }> {
    return this.repo.forgetReporter(r.id, r.email);
  }

  /** The requests a resident reported, newest first, for their contact history. */
  async residentHistory(r: { id: string }, limit: number) {
    const [rows, { categories }] = await Promise.all([this.repo.reportedBy(r.id, null, limit), this.loadCatalogue()]);
    return rows.map((x) => ({
      at: x.created_at,
      kind: 'request' as const,
      title: `Reported ${categories.get(x.category_code)?.name ?? x.category_code} (${x.reference})`,
      detail: x.description.slice(0, 200),
      status: STATUS_NAMES[x.status],
      href: `/console/requests/${x.id}`,
    }));
  }
}

// ---------------------------------------------------------------- rules

const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A photo's type from its first bytes (a file's name or declared type proves nothing): JPEG or PNG, 5 MB at most. */
export function checkPhoto(photo: PhotoUpload): PhotoType {
  const type = photo.bytes.subarray(0, 3).equals(JPEG) ? 'image/jpeg' : photo.bytes.subarray(0, 8).equals(PNG) ? 'image/png' : undefined;
  if (!type) throw requestsErrors.PHOTO_INVALID(undefined, [{ field: 'photo', message: 'Choose a JPEG or PNG photo' }]);
  if (photo.bytes.length > PHOTO_MAX_BYTES) throw requestsErrors.PHOTO_TOO_LARGE(undefined, [{ field: 'photo', message: 'Choose a photo of 5 MB or less' }]);
  return type;
}

export function checkTransition(from: RequestStatus, to: RequestStatus): void {
  if (!TRANSITIONS[from].includes(to))
    throw requestsErrors.TRANSITION_INVALID(`A request that is ${STATUS_NAMES[from].toLowerCase()} cannot become ${STATUS_NAMES[to].toLowerCase()}.`, [
      { field: 'status', message: 'Choose one of the statuses offered' },
    ]);
}

/** The team a category's request in an area goes to: the area's rule, else the category's default. */
export function routeFor(category: CategoryView, areaId: string | null): string | null {
  return (areaId && category.routes.find((r) => r.areaId === areaId)?.teamId) || category.defaultTeamId;
}

function requestChanges(row: RequestsTable, status: RequestStatus | undefined, publicMessage: string, at: Date): Partial<RequestsTable> {
  const fields: Partial<RequestsTable> = { updated_at: at };
  if (publicMessage) fields.status_notes = publicMessage.slice(0, 1000);
  if (!status) return fields;
  fields.status = status;
  if (!publicMessage) fields.status_notes = STATUS_NAMES[status];
  if (status !== 'open' && !row.acknowledged_at) fields.acknowledged_at = at;
  fields.closed_at = CLOSED_STATUSES.includes(status) ? at : null;
  if (status === 'open') fields.duplicate_of = null;
  return fields;
}

function checkAttributeDefinitions(attributes: Attribute[]): void {
  const codes = new Set<string>();
  attributes.forEach((a, i) => {
    if (codes.has(a.code)) throw requestsErrors.ATTRIBUTES_INVALID(undefined, [{ field: `attributes/${i}/code`, message: `The code ${a.code} is used twice` }]);
    codes.add(a.code);
    if ((a.datatype === 'singlevaluelist' || a.datatype === 'multivaluelist') && !a.values?.length)
      throw requestsErrors.ATTRIBUTES_INVALID(undefined, [{ field: `attributes/${i}/values`, message: 'A list needs its values' }]);
  });
}

/** The answers to a category's questions, checked against their definitions; unknown ones are dropped. */
export function checkAnswers(definitions: Attribute[], answers: Record<string, string | string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const problems: FieldError[] = [];
  for (const a of definitions) {
    if (a.variable === false) continue;
    const raw = answers[a.code];
    const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((v) => String(v).trim()).filter(Boolean);
    const field = `attribute[${a.code}]`;
    if (!values.length) {
      if (a.required) problems.push({ field, message: `Answer: ${a.description}` });
      continue;
    }
    const problem = answerProblem(a, values);
    if (problem) problems.push({ field, message: problem });
    else out[a.code] = a.datatype === 'multivaluelist' ? values : values[0];
  }
  if (problems.length) throw requestsErrors.ATTRIBUTES_INVALID(`${problems.map((p) => `${p.field}: ${p.message}`).join('. ')}.`, problems);
  return out;
}

function answerProblem(a: Attribute, values: string[]): string | undefined {
  const keys = new Set((a.values ?? []).map((v) => v.key));
  switch (a.datatype) {
    case 'number':
      return Number.isFinite(Number(values[0])) ? undefined : 'Give a number';
    case 'datetime':
      return Number.isNaN(Date.parse(values[0])) ? 'Give a date and time (ISO 8601)' : undefined;
    case 'singlevaluelist':
      return values.length === 1 && keys.has(values[0]) ? undefined : `Choose one of ${[...keys].join(', ')}`;
    case 'multivaluelist':
      return values.every((v) => keys.has(v)) ? undefined : `Choose from ${[...keys].join(', ')}`;
    default:
      return values[0].length > 1000 ? 'Use at most 1,000 characters' : undefined;
  }
}

// ---------------------------------------------------------------- mapping

function toCategoryView(c: RequestCategoriesTable, routes: { area_id: string; team_id: string }[]): CategoryView {
  return {
    code: c.code,
    name: c.name,
    nameCy: c.name_cy,
    group: c.group_name,
    description: c.description,
    keywords: c.keywords ? c.keywords.split(',').filter(Boolean) : [],
    targetHours: c.target_hours,
    serviceNotice: c.service_notice,
    attributes: (c.attributes_json as Attribute[]) ?? [],
    defaultTeamId: c.default_team_id,
    routes: routes.map((r) => ({ areaId: r.area_id, teamId: r.team_id })),
    enabled: c.is_enabled,
  };
}

function publicFields(r: RequestsTable, category: CategoryView | undefined): Omit<PublicRequestView, 'updates' | 'duplicateOf'> {
  return {
    id: r.id,
    reference: r.reference,
    category: r.category_code,
    categoryName: category?.name ?? r.category_code,
    status: r.status,
    statusNotes: r.status_notes,
    description: r.description,
    lat: r.lat,
    lon: r.lon,
    address: r.address,
    postcode: r.postcode,
    mediaUrl: r.media_url,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    dueAt: r.due_at,
    closedAt: r.closed_at,
  };
}

function toView(r: RequestsTable, category: CategoryView | undefined, team: TeamView | undefined, areaName: string | null, references: Map<string, string>, now: number): RequestView {
  return {
    ...publicFields(r, category),
    token: r.token,
    areaId: r.area_id,
    areaName,
    teamId: r.team_id,
    teamName: team?.name ?? null,
    reporter: { residentId: r.reporter_resident_id, name: r.reporter_name, email: r.reporter_email, phone: r.reporter_phone },
    language: r.language === 'cy' ? 'cy' : 'en',
    source: r.source,
    externalId: r.external_id,
    attributes: (r.attributes_json as Record<string, string | string[]>) ?? {},
    acknowledgedAt: r.acknowledged_at,
    duplicateOf: r.duplicate_of ? { id: r.duplicate_of, reference: references.get(r.duplicate_of) ?? '' } : null,
    overdue: OPEN_STATUSES.includes(r.status) && r.due_at.getTime() < now,
  };
}

function toUpdateView(u: RequestUpdatesTable): UpdateView {
  return {
    id: u.id,
    public: u.is_public,
    fromStatus: (u.from_status as RequestStatus | null) ?? null,
    status: (u.status as RequestStatus | null) ?? null,
    message: u.message,
    author: u.author_label,
    source: u.source,
    createdAt: u.created_at,
  };
}
