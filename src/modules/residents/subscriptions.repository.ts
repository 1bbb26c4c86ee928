import type { Db, Executor } from '../../platform/db/database.js';
import { inList } from '../../platform/db/dialect.js';

export interface TopicsTable {
  code: string;
  name: string;
  name_cy: string | null;
  description: string | null;
  is_enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface ResidentSubscriptionsTable {
  id: string;
  resident_id: string;
  topic: string;
  kind: string;
  /** the area id (area), the site id (site) or '' (home, radius): what makes a subscription unique */
  scope: string;
  /** area: the named area; home: the resident's home area, kept in step with their home */
  area_id: string | null;
  site_id: string | null;
  radius_m: number | null;
  created_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    topics: TopicsTable;
    resident_subscriptions: ResidentSubscriptionsTable;
  }
}

/** A radius subscription with its resident's home. */
export interface RadiusRow {
  id: string;
  resident_id: string;
  radius_m: number;
  latitude: number | null;
  longitude: number | null;
  area_id: string | null;
}

/** Topics, subscriptions and the audience's index ranges: the SQL of subscriptions. */
export class SubscriptionsRepository {
  constructor(private readonly db: Db) {}

  // ---------------------------------------------------------------- topics

  listTopics(ex: Executor = this.db.k): Promise<TopicsTable[]> {
    return ex.selectFrom('topics').selectAll().orderBy('name').execute();
  }

  findTopic(code: string): Promise<TopicsTable | undefined> {
    return this.db.k.selectFrom('topics').selectAll().where('code', '=', code).executeTakeFirst();
  }

  async insertTopic(row: TopicsTable, ex: Executor): Promise<void> {
    await ex.insertInto('topics').values(row).execute();
  }

  async updateTopic(code: string, fields: Partial<TopicsTable>, ex: Executor): Promise<void> {
    await ex.updateTable('topics').set(fields).where('code', '=', code).execute();
  }

  // ---------------------------------------------------------------- a resident's subscriptions

  forResident(residentId: string): Promise<ResidentSubscriptionsTable[]> {
    return this.db.k.selectFrom('resident_subscriptions').selectAll().where('resident_id', '=', residentId).orderBy('topic').orderBy('created_at').orderBy('id').execute();
  }

  find(residentId: string, id: string): Promise<ResidentSubscriptionsTable | undefined> {
    return this.db.k.selectFrom('resident_subscriptions').selectAll().where('id', '=', id).where('resident_id', '=', residentId).executeTakeFirst();
  }

  findScope(row: Pick<ResidentSubscriptionsTable, 'resident_id' | 'topic' | 'kind' | 'scope'>): Promise<{ id: string } | undefined> {
    return this.db.k
      .selectFrom('resident_subscriptions')
      .select('id')
      .where('resident_id', '=', row.resident_id)
      .where('topic', '=', row.topic)
      .where('kind', '=', row.kind)
      .where('scope', '=', row.scope)
      .executeTakeFirst();
  }

  async insert(row: ResidentSubscriptionsTable, ex: Executor): Promise<void> {
    await ex.insertInto('resident_subscriptions').values(row).execute();
  }

  async delete(id: string, ex: Executor): Promise<void> {
    await ex.deleteFrom('resident_subscriptions').where('id', '=', id).execute();
  }

  /** A resident's subscriptions to a topic, removed (their consent to it withdrawn); returns how many. */
  async deleteTopic(residentId: string, topic: string, ex: Executor): Promise<number> {
    const res = await ex.deleteFrom('resident_subscriptions').where('resident_id', '=', residentId).where('topic', '=', topic).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** Every subscription of a resident's, removed (erasure); returns how many. */
  async deleteAll(residentId: string, ex: Executor): Promise<number> {
    const res = await ex.deleteFrom('resident_subscriptions').where('resident_id', '=', residentId).executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  /** A home subscription follows the home: its area becomes the home's. */
  async setHomeArea(residentId: string, areaId: string | null, ex: Executor): Promise<void> {
    await ex.updateTable('resident_subscriptions').set({ area_id: areaId }).where('resident_id', '=', residentId).where('kind', '=', 'home').execute();
  }

  // ---------------------------------------------------------------- the audience

  /** Residents with a home or area subscription to the topic in the area, after a resident id, in id order. */
  async areaPage(topic: string, areaId: string, after: string | null, limit: number): Promise<string[]> {
    let q = this.db.k.selectFrom('resident_subscriptions').select('resident_id').where('topic', '=', topic).where('area_id', '=', areaId);
    if (after) q = q.where('resident_id', '>', after);
    return (await q.orderBy('resident_id').limit(limit).execute()).map((r) => r.resident_id);
  }

  /** Residents subscribed to the topic at the site, after a resident id, in id order. */
  async sitePage(topic: string, siteId: string, after: string | null, limit: number): Promise<string[]> {
    let q = this.db.k.selectFrom('resident_subscriptions').select('resident_id').where('topic', '=', topic).where('site_id', '=', siteId);
    if (after) q = q.where('resident_id', '>', after);
    return (await q.orderBy('resident_id').limit(limit).execute()).map((r) => r.resident_id);
  }

  /** The sites anyone is subscribed to on the topic (only among `among`, when given). */
  async subscribedSites(topic: string, among?: string[]): Promise<string[]> {
    if (among && !among.length) return [];
    let q = this.db.k.selectFrom('resident_subscriptions').select('site_id').distinct().where('topic', '=', topic);
    q = among ? q.where(inList(this.db.dialect, 'site_id', among)) : q.where('site_id', 'is not', null);
    const rows = await q.execute();
    return rows.map((r) => r.site_id as string);
  }

  /** The topic's radius subscriptions with their residents' homes, by subscription id, a page at a time. */
  radiusPage(topic: string, after: string | null, limit: number): Promise<RadiusRow[]> {
    let q = this.db.k
      .selectFrom('resident_subscriptions as s')
      .innerJoin('residents as r', 'r.id', 's.resident_id')
      .select(['s.id', 's.resident_id', 's.radius_m', 'r.latitude', 'r.longitude', 'r.area_id'])
      .where('s.topic', '=', topic)
      .where('s.radius_m', 'is not', null);
    if (after) q = q.where('s.id', '>', after);
    return q.orderBy('s.id').limit(limit).execute() as Promise<RadiusRow[]>;
  }

  /** How many residents have a home or area subscription in the areas, or a subscription at the sites. */
  async countMatching(topic: string, areaIds: string[], siteIds: string[]): Promise<number> {
    const row = await this.matching(topic, areaIds, siteIds)
      .select((e) => e.fn.count<number>('resident_id').distinct().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Which of these residents countMatching counts. */
  async matchingAmong(topic: string, areaIds: string[], siteIds: string[], residentIds: string[]): Promise<string[]> {
    const rows = await this.matching(topic, areaIds, siteIds).select('resident_id').distinct().where('resident_id', 'in', residentIds).execute();
    return rows.map((r) => r.resident_id);
  }

  private matching(topic: string, areaIds: string[], siteIds: string[]) {
    return this.db.k
      .selectFrom('resident_subscriptions')
      .where('topic', '=', topic)
      .where((e) => e.or([...(areaIds.length ? [e('area_id', 'in', areaIds)] : []), ...(siteIds.length ? [e('site_id', 'in', siteIds)] : [])]));
  }
}
