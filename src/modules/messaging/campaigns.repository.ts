import { sql } from 'kysely';
import type { Db, Executor } from '../../platform/db/database.js';
import { toJson } from '../../platform/db/dialect.js';

const jsonOrNull = (v: unknown) => (v === null || v === undefined ? null : toJson(v));

export interface CampaignsTable {
  id: string;
  service_id: string;
  template_id: string;
  template_version: number;
  name: string;
  status: string;
  recipient_count: number;
  created_count: number;
  rate_per_minute: number | null;
  scheduled_for_at: Date | null;
  created_by: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
  /** residents subscribed to a topic in areas or at sites; null for a file of recipients */
  audience_json: { topic: string; areaIds: string[]; siteIds: string[] } | null;
  /** an audience campaign's template and version for each channel it may go on */
  templates_json: Partial<Record<string, { id: string; version: number }>> | null;
  /** the values every message of an audience campaign shares */
  personalisation_json: Record<string, string> | null;
  is_urgent: boolean;
  /** residents of the audience reached on none of the campaign's channels: no message made */
  skipped_count: number;
}

export interface CampaignFilesTable {
  campaign_id: string;
  csv: string;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    campaigns: CampaignsTable;
    campaign_files: CampaignFilesTable;
  }
}

/** Campaigns and the bulk work on their notifications. */
export class CampaignsRepository {
  constructor(private readonly db: Db) {}

  async insert(row: CampaignsTable, csv: string, ex: Executor): Promise<void> {
    await ex
      .insertInto('campaigns')
      .values({ ...row, audience_json: jsonOrNull(row.audience_json), templates_json: jsonOrNull(row.templates_json), personalisation_json: jsonOrNull(row.personalisation_json) } as never)
      .execute();
    await ex.insertInto('campaign_files').values({ campaign_id: row.id, csv }).execute();
  }

  find(id: string, ex: Executor = this.db.k): Promise<CampaignsTable | undefined> {
    return ex.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(serviceId?: string, limit = 100): Promise<CampaignsTable[]> {
    let q = this.db.k.selectFrom('campaigns').selectAll();
    if (serviceId) q = q.where('service_id', '=', serviceId);
    return q.orderBy('created_at', 'desc').limit(limit).execute();
  }

  async update(id: string, fields: Partial<CampaignsTable>, ex: Executor = this.db.k): Promise<void> {
    await ex.updateTable('campaigns').set(fields).where('id', '=', id).execute();
  }

  async file(id: string): Promise<string | undefined> {
    return (await this.db.k.selectFrom('campaign_files').select('csv').where('campaign_id', '=', id).executeTakeFirst())?.csv;
  }

  async dropFile(id: string, ex: Executor): Promise<void> {
    await ex.deleteFrom('campaign_files').where('campaign_id', '=', id).execute();
  }

  /** Notifications of a campaign by status. */
  async progress(id: string): Promise<Record<string, number>> {
    const rows = await this.db.k
      .selectFrom('notifications')
      .select(['status', (e) => e.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', id)
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /** Pause: the campaign's waiting notifications stop being due. */
  async hold(id: string, ex: Executor): Promise<void> {
    await ex.updateTable('notifications').set({ next_attempt_at: null }).where('campaign_id', '=', id).where('status', '=', 'created').execute();
  }

  /** Resume: the held notifications are due again, spaced by the campaign's rate (a minute's worth a minute) when it has one. */
  async release(id: string, now: Date, ratePerMinute: number | null, ex: Executor): Promise<void> {
    const held = (q: any) => q.where('campaign_id', '=', id).where('status', '=', 'created').where('next_attempt_at', 'is', null);
    if (!ratePerMinute) {
      // A resident's quiet hours (scheduled_for_at) still hold after a pause.
      const at = this.db.dialect === 'sqlite' ? now.getTime() : now;
      await held(ex.updateTable('notifications').set({ next_attempt_at: sql<Date>`CASE WHEN scheduled_for_at > ${at} THEN scheduled_for_at ELSE ${at} END` })).execute();
      return;
    }
    const first = await held(ex.selectFrom('notifications').select((e: any) => e.fn.min('row_number').as('n'))).executeTakeFirst();
    const from = Number(first?.n ?? 0);
    const gap = 60_000 / ratePerMinute;
    const at =
      this.db.dialect === 'sqlite'
        ? sql<Date>`${now.getTime()} + CAST((row_number - ${from}) * ${gap} AS INTEGER)`
        : sql<Date>`${now}::timestamptz + (row_number - ${from}::int) * ${gap}::float8 * interval '1 millisecond'`;
    await held(ex.updateTable('notifications').set({ next_attempt_at: at })).execute();
  }

  /** Cancel: what has not gone yet never will. */
  async cancelUnsent(id: string, now: Date, ex: Executor): Promise<number> {
    const res = await ex
      .updateTable('notifications')
      .set({ status: 'cancelled', next_attempt_at: null, completed_at: now, updated_at: now })
      .where('campaign_id', '=', id)
      .where('status', '=', 'created')
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }
}
