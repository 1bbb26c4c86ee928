import type { Actor } from '../auth/actor.js';
import type { Db, Executor } from '../db/database.js';
import { toJson } from '../db/dialect.js';
import { newId } from '../ids.js';
import { type AuditEventsTable, type AuditQuery, AuditRepository } from './audit.repository.js';

export interface AuditEntry {
  actor: Actor;
  /** module.verb, e.g. "staff.user_create" */
  action: string;
  outcome?: 'ok' | 'denied' | 'failed';
  summary: string;
  targetType?: string;
  targetId?: string | null;
  /** what changed: { field: [before, after] } or a short object; never secrets */
  changes?: unknown;
  ip?: string;
  requestId?: string;
}

export type AuditEvent = AuditEventsTable;

/** The append-only record of who did what. The table refuses UPDATE and DELETE. */
export class AuditService {
  private readonly repo: AuditRepository;

  constructor(db: Db) {
    this.repo = new AuditRepository(db);
  }

  /** Records one event; pass the transaction of the change so both land or neither does. */
  async record(entry: AuditEntry, ex?: Executor): Promise<void> {
    await this.repo.insert(
      {
        id: newId(),
        occurred_at: new Date(),
        actor_type: entry.actor.type,
        actor_id: entry.actor.id,
        actor_label: entry.actor.label,
        action: entry.action,
        target_type: entry.targetType ?? null,
        target_id: entry.targetId ?? null,
        outcome: entry.outcome ?? 'ok',
        ip: entry.ip ?? null,
        request_id: entry.requestId ?? null,
        summary: entry.summary.slice(0, 1000),
        changes_json: entry.changes === undefined ? null : toJson(entry.changes),
      },
      ex,
    );
  }

  search(query: AuditQuery): Promise<AuditEvent[]> {
    return this.repo.search(query);
  }
}
