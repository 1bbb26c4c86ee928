import type { Actor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db, Executor } from '../../platform/db/database.js';
import { isUniqueViolation } from '../../platform/db/dialect.js';
import type { FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { EstateService } from '../estate/index.js';
import { residentsErrors } from './residents.errors.js';
import { distanceMetres } from '../estate/geo.js';
import { RADIUS_LIMITS, type ResidentView, type SiteChoice, type SubscriptionInput, type SubscriptionKind, type SubscriptionView } from './residents.schema.js';
import type { Origin } from './residents.service.js';
import type { ResidentSubscriptionsTable, SubscriptionsRepository } from './subscriptions.repository.js';
import type { Topics } from './topics.service.js';

/** What residents need of the estate: its areas (to place homes) and its sites (to subscribe to). */
export type ResidentsEstate = Pick<EstateService, 'areaFor' | 'listAreas' | 'listSites' | 'areas'>;

/** The kinds of site offered as choices (any other site of the estate, but a home, may be given by id). */
const CHOICE_SITE_TYPES = ['school', 'library', 'park', 'car_park'] as const;
const MOST_CHOICES = 2000;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A resident's subscriptions: a topic at home, in a named area, within a radius of home, or at a
 * site of the estate. Staff call these for a resident; the portal will call them with the resident
 * as the actor. Audited, naming the topic and the kind only.
 */
export class Subscriptions {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly estate: ResidentsEstate,
    private readonly repo: SubscriptionsRepository,
    private readonly topics: Topics,
  ) {}

  async list(resident: ResidentView): Promise<SubscriptionView[]> {
    const rows = await this.repo.forResident(resident.id);
    const areas = new Map((await this.estate.listAreas()).map((a) => [a.id, a.name]));
    const siteIds = [...new Set(rows.flatMap((r) => (r.site_id ? [r.site_id] : [])))];
    const sites = new Map(siteIds.length ? (await this.estate.listSites({ ids: siteIds, limit: siteIds.length })).map((s) => [s.id, s.name]) : []);
    return rows.map((r) => toView(r, areas, sites));
  }

  /** Schools, libraries, parks and car parks, nearest the resident's home first (by name when they have none). */
  async siteChoices(resident: ResidentView): Promise<SiteChoice[]> {
    const sites = (await Promise.all(CHOICE_SITE_TYPES.map((type) => this.estate.listSites({ type, limit: MOST_CHOICES })))).flat();
    const home = resident.location;
    const choices = sites.map((s) => ({
      id: s.id,
      name: s.name,
      type: s.type,
      metres: home && s.lat !== null && s.lon !== null ? Math.round(distanceMetres(home.lat, home.lon, s.lat, s.lon)) : null,
    }));
    return choices.sort((a, b) => (a.metres ?? Infinity) - (b.metres ?? Infinity) || a.name.localeCompare(b.name));
  }

  /** `also` runs in the subscription's transaction (the residents service records consent there). */
  async subscribe(actor: Actor, resident: ResidentView, input: SubscriptionInput, origin: Origin = {}, also?: (trx: Executor) => Promise<void>): Promise<SubscriptionView> {
    const topic = await this.topics.get(input.topic);
    if (!topic.enabled) throw residentsErrors.TOPIC_DISABLED();
    const { row, siteName } = await this.rowFor(resident, input);
    if (await this.repo.findScope(row)) throw residentsErrors.SUBSCRIPTION_EXISTS();
    try {
      await this.db.transaction(async (trx) => {
        await this.repo.insert(row, trx);
        // The topic and the kind only: where a resident follows (a school, an area) is theirs.
        const summary = `Subscribed a resident to ${topic.code} (${row.kind})`;
        await this.audit.record(
          { actor, action: 'residents.subscribe', summary, targetType: 'resident', targetId: resident.id, changes: { subscription: row.id, topic: row.topic, kind: row.kind }, ...origin },
          trx,
        );
        await also?.(trx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw residentsErrors.SUBSCRIPTION_EXISTS();
      throw err;
    }
    const areas = new Map((await this.estate.listAreas()).map((a) => [a.id, a.name]));
    return toView(row, areas, new Map(row.site_id && siteName ? [[row.site_id, siteName]] : []));
  }

  /** A subscription checked and ready to store (for many at once: `store` each in one transaction). */
  async prepare(resident: ResidentView, input: SubscriptionInput): Promise<ResidentSubscriptionsTable> {
    const topic = await this.topics.get(input.topic);
    if (!topic.enabled) throw residentsErrors.TOPIC_DISABLED();
    return (await this.rowFor(resident, input)).row;
  }

  async store(row: ResidentSubscriptionsTable, trx: Executor): Promise<void> {
    try {
      await this.repo.insert(row, trx);
    } catch (err) {
      if (isUniqueViolation(err)) throw residentsErrors.SUBSCRIPTION_EXISTS();
      throw err;
    }
  }

  async unsubscribe(actor: Actor, resident: ResidentView, subscriptionId: string, origin: Origin = {}): Promise<void> {
    const row = UUID.test(subscriptionId) ? await this.repo.find(resident.id, subscriptionId) : undefined;
    if (!row) throw residentsErrors.SUBSCRIPTION_NOT_FOUND();
    await this.db.transaction(async (trx) => {
      await this.repo.delete(row.id, trx);
      const summary = `Unsubscribed a resident from ${row.topic} (${row.kind})`;
      await this.audit.record(
        { actor, action: 'residents.unsubscribe', summary, targetType: 'resident', targetId: resident.id, changes: { subscription: row.id, topic: row.topic, kind: row.kind }, ...origin },
        trx,
      );
    });
  }

  /** The row for a subscription, or SUBSCRIPTION_INVALID naming each field that is wrong for its kind. */
  private async rowFor(resident: ResidentView, input: SubscriptionInput): Promise<{ row: ResidentSubscriptionsTable; siteName?: string }> {
    const errors = fieldsForKind(input);
    const kind = input.kind;
    if ((kind === 'home' || kind === 'radius') && !resident.location) {
      errors.push({ field: 'kind', message: `Add the resident’s home location first: a ${kind} subscription follows their home` });
    } else if (kind === 'home' && !resident.areaId) {
      errors.push({ field: 'kind', message: 'The resident’s home is in none of the council’s areas: choose an area, a radius or a site instead' });
    }
    const areaId = input.areaId?.toLowerCase();
    const siteId = input.siteId?.toLowerCase();
    if (kind === 'area' && areaId && !(await this.estate.listAreas()).some((a) => a.id === areaId)) errors.push({ field: 'areaId', message: 'Choose one of the council’s areas' });
    const [site] = kind === 'site' && siteId && UUID.test(siteId) ? await this.estate.listSites({ ids: [siteId], limit: 1 }) : [];
    if (kind === 'site' && siteId && !site) errors.push({ field: 'siteId', message: 'Choose a site of the council’s estate' });
    if (errors.length) throw residentsErrors.SUBSCRIPTION_INVALID(undefined, errors);
    const row = {
      id: newId(),
      resident_id: resident.id,
      topic: input.topic,
      kind,
      scope: (kind === 'area' ? areaId : kind === 'site' ? siteId : '') ?? '',
      area_id: kind === 'area' ? (areaId ?? null) : kind === 'home' ? resident.areaId : null,
      site_id: kind === 'site' ? (siteId ?? null) : null,
      radius_m: kind === 'radius' ? (input.radiusMetres ?? null) : null,
      created_at: new Date(),
    };
    return { row, siteName: site?.name };
  }
}

/** Each kind takes its own field and no other's. */
function fieldsForKind(input: SubscriptionInput): FieldError[] {
  const errors: FieldError[] = [];
  const wanted: Record<SubscriptionKind, string | undefined> = { home: undefined, area: 'areaId', radius: 'radiusMetres', site: 'siteId' };
  const messages: Record<string, string> = {
    areaId: 'Choose the area',
    siteId: 'Choose the site',
    radiusMetres: `Enter a distance from ${RADIUS_LIMITS.min} to ${RADIUS_LIMITS.max.toLocaleString('en-GB')} metres`,
  };
  for (const field of ['areaId', 'siteId', 'radiusMetres'] as const) {
    const given = input[field] !== undefined && input[field] !== null;
    if (field === wanted[input.kind] && !given) errors.push({ field, message: messages[field] });
    if (field !== wanted[input.kind] && given) errors.push({ field, message: `Leave this out: a ${input.kind} subscription has no ${field}` });
  }
  const r = input.radiusMetres;
  if (input.kind === 'radius' && r !== undefined && (!Number.isInteger(r) || r < RADIUS_LIMITS.min || r > RADIUS_LIMITS.max)) errors.push({ field: 'radiusMetres', message: messages.radiusMetres });
  return errors;
}

function toView(r: ResidentSubscriptionsTable, areas: Map<string, string>, sites: Map<string, string>): SubscriptionView {
  return {
    id: r.id,
    topic: r.topic,
    kind: r.kind as SubscriptionKind,
    areaId: r.area_id,
    areaName: r.area_id ? (areas.get(r.area_id) ?? null) : null,
    siteId: r.site_id,
    siteName: r.site_id ? (sites.get(r.site_id) ?? null) : null,
    radiusMetres: r.radius_m,
    createdAt: r.created_at,
  };
}
