import { sql } from 'kysely';
import type { Db, Executor } from '../../platform/db/database.js';
import { ilike } from '../../platform/db/dialect.js';
import type { RequestFilter, RequestStatus } from './requests.schema.js';

export interface RequestTeamsTable {
  id: string;
  name: string;
  email: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface RequestCategoriesTable {
  code: string;
  name: string;
  name_cy: string | null;
  group_name: string;
  description: string;
  keywords: string;
  target_hours: number;
  service_notice: string | null;
  attributes_json: unknown;
  default_team_id: string | null;
  is_enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface RequestRoutesTable {
  category_code: string;
  area_id: string;
  team_id: string;
}

export interface RequestsTable {
  id: string;
  reference: string;
  token: string;
  category_code: string;
  status: RequestStatus;
  description: string;
  lat: number | null;
  lon: number | null;
  address: string | null;
  address_id: string | null;
  postcode: string | null;
  area_id: string | null;
  team_id: string | null;
  reporter_resident_id: string | null;
  reporter_name: string | null;
  reporter_email: string | null;
  reporter_phone: string | null;
  language: string;
  source: string;
  submitted_by: string | null;
  external_id: string | null;
  attributes_json: unknown;
  media_url: string | null;
  status_notes: string | null;
  duplicate_of: string | null;
  created_at: Date;
  updated_at: Date;
  due_at: Date;
  acknowledged_at: Date | null;
  closed_at: Date | null;
}

export interface RequestUpdatesTable {
  id: string;
  request_id: string;
  is_public: boolean;
  from_status: string | null;
  status: string | null;
  message: string;
  author_type: string;
  author_id: string | null;
  author_label: string;
  source: string;
  external_id: string | null;
  created_at: Date;
}

/** A photo sent with a report (JPEG or PNG, checked by its first bytes). */
export interface RequestPhotosTable {
  id: string;
  request_id: string;
  content_type: string;
  bytes: Buffer;
  created_at: Date;
}

export interface RequestSetupTable {
  name: string;
  ref: string;
  created_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    request_teams: RequestTeamsTable;
    request_categories: RequestCategoriesTable;
    request_routes: RequestRoutesTable;
    requests: RequestsTable;
    request_updates: RequestUpdatesTable;
    request_setup: RequestSetupTable;
    request_photos: RequestPhotosTable;
  }
}

/** The columns Open311's GET requests answers with: no reporter, nothing internal. */
export const PUBLIC_COLUMNS = [
  'id',
  'reference',
  'category_code',
  'status',
  'status_notes',
  'description',
  'team_id',
  'created_at',
  'updated_at',
  'due_at',
  'closed_at',
  'address',
  'address_id',
  'postcode',
  'lat',
  'lon',
  'media_url',
  'duplicate_of',
  'external_id',
] as const;
export type PublicRow = Pick<RequestsTable, (typeof PUBLIC_COLUMNS)[number]>;

export interface Open311Search {
  references?: string[];
  categories?: string[];
  statuses?: readonly RequestStatus[];
  from: Date;
  to: Date;
  limit: number;
}

export class RequestsRepository {
  constructor(private readonly db: Db) {}

  // ---------------------------------------------------------------- teams and categories

  listTeams(): Promise<RequestTeamsTable[]> {
    return this.db.k.selectFrom('request_teams').selectAll().orderBy('name').execute();
  }

  async insertTeam(row: RequestTeamsTable, ex: Executor = this.db.k): Promise<void> {
    await ex.insertInto('request_teams').values(row).execute();
  }

  listCategories(): Promise<RequestCategoriesTable[]> {
    return this.db.k.selectFrom('request_categories').selectAll().orderBy('group_name').orderBy('name').execute();
  }

  listRoutes(): Promise<RequestRoutesTable[]> {
    return this.db.k.selectFrom('request_routes').selectAll().execute();
  }

  async insertCategory(row: RequestCategoriesTable, ex: Executor): Promise<void> {
    await ex.insertInto('request_categories').values(row).execute();
  }

  async updateCategory(code: string, fields: Partial<RequestCategoriesTable>, ex: Executor): Promise<void> {
    await ex.updateTable('request_categories').set(fields).where('code', '=', code).execute();
  }

  async replaceRoutes(code: string, routes: { areaId: string; teamId: string }[], ex: Executor): Promise<void> {
    await ex.deleteFrom('request_routes').where('category_code', '=', code).execute();
    if (routes.length)
      await ex
        .insertInto('request_routes')
        .values(routes.map((r) => ({ category_code: code, area_id: r.areaId, team_id: r.teamId })))
        .execute();
  }

  // ---------------------------------------------------------------- requests

  async insertRequest(row: RequestsTable, ex: Executor): Promise<void> {
    await ex.insertInto('requests').values(row).execute();
  }

  async insertRequests(rows: RequestsTable[], ex: Executor = this.db.k): Promise<void> {
    for (let i = 0; i < rows.length; i += 200)
      await ex
        .insertInto('requests')
        .values(rows.slice(i, i + 200))
        .execute();
  }

  async insertUpdates(rows: RequestUpdatesTable[], ex: Executor = this.db.k): Promise<void> {
    for (let i = 0; i < rows.length; i += 200)
      await ex
        .insertInto('request_updates')
        .values(rows.slice(i, i + 200))
        .execute();
  }

  findById(id: string, ex: Executor = this.db.k): Promise<RequestsTable | undefined> {
    return ex.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByReference(reference: string): Promise<RequestsTable | undefined> {
    return this.db.k.selectFrom('requests').selectAll().where('reference', '=', reference).executeTakeFirst();
  }

  findByToken(token: string): Promise<Pick<RequestsTable, 'reference' | 'token'> | undefined> {
    return this.db.k.selectFrom('requests').select(['reference', 'token']).where('token', '=', token).executeTakeFirst();
  }

  /** Locks the row for a change (PostgreSQL); SQLite has one writer. */
  lockById(id: string, ex: Executor): Promise<RequestsTable | undefined> {
    let q = ex.selectFrom('requests').selectAll().where('id', '=', id);
    if (this.db.dialect === 'postgres') q = q.forUpdate();
    return q.executeTakeFirst();
  }

  async updateRequest(id: string, fields: Partial<RequestsTable>, ex: Executor): Promise<void> {
    await ex.updateTable('requests').set(fields).where('id', '=', id).execute();
  }

  referencesOf(ids: string[]): Promise<{ id: string; reference: string }[]> {
    if (!ids.length) return Promise.resolve([]);
    return this.db.k.selectFrom('requests').select(['id', 'reference']).where('id', 'in', ids).execute();
  }

  /** The console's and the staff API's lists: newest first, keyset-paged by id (UUID v7, so by time). */
  list(f: RequestFilter, now: Date): Promise<RequestsTable[]> {
    let q = this.filtered(f, now).selectAll().orderBy('id', 'desc');
    if (f.after) q = q.where('id', '<', f.after);
    return q.limit(f.limit ?? 100).execute();
  }

  async count(f: RequestFilter, now: Date): Promise<number> {
    const row = await this.filtered(f, now)
      .select((e) => e.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private filtered(f: RequestFilter, now: Date) {
    let q = this.db.k.selectFrom('requests');
    if (f.teamId) q = q.where('team_id', '=', f.teamId);
    if (f.category) q = q.where('category_code', '=', f.category);
    if (f.statuses?.length) q = q.where('status', 'in', [...f.statuses]);
    if (f.areaId) q = q.where('area_id', '=', f.areaId);
    if (f.residentId) q = q.where('reporter_resident_id', '=', f.residentId);
    if (f.overdue) q = q.where('due_at', '<', now).where('status', 'in', ['open', 'acknowledged', 'in_progress']);
    if (f.q) {
      // Wildcards typed in the box match themselves, roughly: they are dropped.
      const like = `%${f.q.replace(/[%_\\]/g, '')}%`;
      const op = ilike(this.db.dialect);
      const reference = f.q.toUpperCase();
      q = q.where((e) => e.or([e('reference', '=', reference), e('description', op, like), e('address', op, like)]));
    }
    return q;
  }

  /** Counts by status for the console's overview of a filter. */
  countByStatus(f: RequestFilter, now: Date): Promise<{ status: string; n: number }[]> {
    return this.filtered({ ...f, statuses: undefined }, now)
      .select(['status', (e) => e.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
  }

  /** Open311's GET requests: one index range (by service code and date, or by date), newest first. */
  open311Search(s: Open311Search): Promise<PublicRow[]> {
    let q = this.db.k.selectFrom('requests').select(PUBLIC_COLUMNS);
    if (s.references) return q.where('reference', 'in', s.references).orderBy('created_at', 'desc').limit(s.limit).execute();
    q = q.where('created_at', '>=', s.from).where('created_at', '<=', s.to);
    if (s.categories?.length === 1) q = q.where('category_code', '=', s.categories[0]);
    else if (s.categories?.length) q = q.where('category_code', 'in', s.categories);
    if (s.statuses?.length) q = q.where('status', 'in', [...s.statuses]);
    return q.orderBy('created_at', 'desc').limit(s.limit).execute();
  }

  // ---------------------------------------------------------------- updates

  async insertUpdate(row: RequestUpdatesTable, ex: Executor): Promise<void> {
    await ex.insertInto('request_updates').values(row).execute();
  }

  updatesOf(requestId: string, publicOnly: boolean): Promise<RequestUpdatesTable[]> {
    let q = this.db.k.selectFrom('request_updates').selectAll().where('request_id', '=', requestId);
    if (publicOnly) q = q.where(sql<boolean>`is_public = true`);
    return q.orderBy('created_at').orderBy('id').execute();
  }

  findUpdate(id: string): Promise<RequestUpdatesTable | undefined> {
    return this.db.k.selectFrom('request_updates').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findUpdateByExternal(requestId: string, externalId: string, ex: Executor = this.db.k): Promise<RequestUpdatesTable | undefined> {
    return ex.selectFrom('request_updates').selectAll().where('request_id', '=', requestId).where('external_id', '=', externalId).executeTakeFirst();
  }

  /** Public updates in a time window, with their request's reference and FixMyStreet id (GET servicerequestupdates). */
  publicUpdatesBetween(from: Date, to: Date, limit: number) {
    return this.db.k
      .selectFrom('request_updates as u')
      .innerJoin('requests as r', 'r.id', 'u.request_id')
      .select(['u.id', 'u.status', 'u.message', 'u.created_at', 'r.reference', 'r.status as request_status', 'r.external_id', 'r.media_url'])
      .where(sql<boolean>`u.is_public = true`)
      .where('u.created_at', '>=', from)
      .where('u.created_at', '<=', to)
      .orderBy('u.created_at')
      .limit(limit)
      .execute();
  }

  // ---------------------------------------------------------------- photos

  async insertPhoto(row: RequestPhotosTable, ex: Executor): Promise<void> {
    await ex.insertInto('request_photos').values(row).execute();
  }

  async findPhoto(id: string): Promise<Pick<RequestPhotosTable, 'content_type' | 'bytes'> | undefined> {
    const row = await this.db.k.selectFrom('request_photos').select(['content_type', 'bytes']).where('id', '=', id).executeTakeFirst();
    return row && { content_type: row.content_type, bytes: Buffer.from(row.bytes) };
  }

  // ---------------------------------------------------------------- messaging set-up

  async setup(): Promise<Map<string, string>> {
    const rows = await this.db.k.selectFrom('request_setup').select(['name', 'ref']).execute();
    return new Map(rows.map((r) => [r.name, r.ref]));
  }

  async recordSetup(name: string, ref: string, at: Date): Promise<void> {
    await this.db.k
      .insertInto('request_setup')
      .values({ name, ref, created_at: at })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }

  // ---------------------------------------------------------------- a reporter's data (residents' rights)

  /** Requests a resident reported: linked to them, or (with `email`) from their email address with no resident named; oldest first. */
  reportedBy(residentId: string, email: string | null, limit = 10_000): Promise<RequestsTable[]> {
    return this.db.k.selectFrom('requests').selectAll().where(reporterIs(residentId, email)).orderBy('created_at', 'desc').limit(limit).execute();
  }

  /** Erasure, in one transaction: the requests stay (counts, the public record) without reporter or resident; their own updates lose their id. */
  async forgetReporter(residentId: string, email: string | null): Promise<{ requests: number; updates: number }> {
    return this.db.transaction(async (trx) => {
      // Their photos may show them, their home or their car: deleted, and the requests no longer point at them.
      const theirs = trx.selectFrom('requests').select('id').where(reporterIs(residentId, email));
      await trx.deleteFrom('request_photos').where('request_id', 'in', theirs).execute();
      const requests = await trx
        .updateTable('requests')
        .set({ reporter_resident_id: null, reporter_name: null, reporter_email: null, reporter_phone: null, media_url: null })
        .where(reporterIs(residentId, email))
        .executeTakeFirst();
      const updates = await trx.updateTable('request_updates').set({ author_id: null }).where('author_type', '=', 'resident').where('author_id', '=', residentId).executeTakeFirst();
      return { requests: Number(requests.numUpdatedRows), updates: Number(updates.numUpdatedRows) };
    });
  }
}

/** A resident's requests: linked to them, or from their email address with no resident named. */
function reporterIs(residentId: string, email: string | null) {
  return (e: import('kysely').ExpressionBuilder<import('../../platform/db/tables.js').Tables, 'requests'>) =>
    e.or([e('reporter_resident_id', '=', residentId), ...(email ? [e.and([e('reporter_resident_id', 'is', null), e('reporter_email', '=', email)])] : [])]);
}
