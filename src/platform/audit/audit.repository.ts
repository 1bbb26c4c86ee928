import type { Db, Executor } from '../db/database.js';
import { ilike } from '../db/dialect.js';

export interface AuditEventsTable {
  id: string;
  occurred_at: Date;
  actor_type: string;
  actor_id: string | null;
  actor_label: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  ip: string | null;
  request_id: string | null;
  summary: string;
  changes_json: unknown;
}

declare module '../db/tables.js' {
  interface Tables {
    audit_events: AuditEventsTable;
  }
}

export interface AuditQuery {
  q?: string;
  action?: string;
  actorId?: string;
  targetType?: string;
  targetId?: string;
  outcome?: string;
  from?: Date;
  to?: Date;
  /** keyset paging: ids are time-ordered UUIDs, so "before this id" is "older than this event" */
  before?: string;
  limit: number;
}

export class AuditRepository {
  constructor(private readonly db: Db) {}

  async insert(row: AuditEventsTable, ex: Executor = this.db.k): Promise<void> {
    await ex.insertInto('audit_events').values(row).execute();
  }

  async search(query: AuditQuery): Promise<AuditEventsTable[]> {
    let q = this.db.k.selectFrom('audit_events').selectAll();
    if (query.q) {
      const like = `%${query.q.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      const op = ilike(this.db.dialect);
      q = q.where((eb) => eb.or([eb('summary', op, like), eb('actor_label', op, like), eb('action', op, like)]));
    }
    if (query.action) q = q.where('action', '=', query.action);
    if (query.actorId) q = q.where('actor_id', '=', query.actorId);
    if (query.targetType) q = q.where('target_type', '=', query.targetType);
    if (query.targetId) q = q.where('target_id', '=', query.targetId);
    if (query.outcome) q = q.where('outcome', '=', query.outcome);
    if (query.from) q = q.where('occurred_at', '>=', query.from);
    if (query.to) q = q.where('occurred_at', '<', query.to);
    if (query.before) q = q.where('id', '<', query.before);
    return q.orderBy('id', 'desc').limit(query.limit).execute();
  }
}
