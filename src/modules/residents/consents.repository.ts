import type { Db, Executor } from '../../platform/db/database.js';
import { inList } from '../../platform/db/dialect.js';
import { topicOf } from './consents.wording.js';

export interface ResidentConsentsTable {
  id: string;
  resident_id: string;
  /** messages:<topic>, or a named purpose (marketing, surveys) */
  purpose: string;
  wording_version: string;
  /** the words the resident was shown, in the language they were shown in */
  wording: string;
  language: string;
  /** where it was given: portal:/account/…, staff:console, api */
  source: string;
  given_at: Date;
  withdrawn_at: Date | null;
  withdrawn_source: string | null;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    resident_consents: ResidentConsentsTable;
  }
}

/** A resident's consent to messages that has just ended: on one topic, or (`topic` null) on every topic. */
export interface ConsentEnded {
  residentId: string;
  /** the topic withdrawn, with its name as staff see it; null: all their consents at once (erasure) */
  topic: { code: string; name: string } | null;
  /** where it was withdrawn: portal:/account/…, staff:console, api, erasure */
  source: string;
  at: Date;
}

/** Run in the transaction that ends a consent (messaging cancels the messages still waiting that it covered). */
export type ConsentEndedHook = (ended: ConsentEnded, trx: Executor) => Promise<unknown>;

/** Residents' consents: the SQL of consents.service.ts. */
export class ConsentsRepository {
  private readonly endedHooks: ConsentEndedHook[] = [];

  constructor(private readonly db: Db) {}

  /**
   * Adds a hook run whenever consent to messages ends. Both ways a consent ends (`withdraw`,
   * `withdrawAll`) run through here, inside their transaction, so nothing can withdraw a consent
   * and leave the messages it covered waiting to go.
   */
  onEnded(hook: ConsentEndedHook): void {
    this.endedHooks.push(hook);
  }

  /** A resident's consents, newest first. */
  forResident(residentId: string, ex: Executor = this.db.k): Promise<ResidentConsentsTable[]> {
    return ex.selectFrom('resident_consents').selectAll().where('resident_id', '=', residentId).orderBy('given_at', 'desc').orderBy('id', 'desc').execute();
  }

  find(residentId: string, id: string): Promise<ResidentConsentsTable | undefined> {
    return this.db.k.selectFrom('resident_consents').selectAll().where('resident_id', '=', residentId).where('id', '=', id).executeTakeFirst();
  }

  /** The purposes a resident has a consent in force for, among these. */
  async inForce(residentId: string, purposes: string[], ex: Executor): Promise<Set<string>> {
    if (!purposes.length) return new Set();
    const rows = await ex.selectFrom('resident_consents').select('purpose').where('resident_id', '=', residentId).where('purpose', 'in', purposes).where('withdrawn_at', 'is', null).execute();
    return new Set(rows.map((r) => r.purpose));
  }

  async insert(rows: ResidentConsentsTable[], ex: Executor): Promise<void> {
    if (rows.length) await ex.insertInto('resident_consents').values(rows).execute();
  }

  /** Withdraws a consent in force; false when it was withdrawn already. For messages about a topic, the hooks run (in `ex`). */
  async withdraw(id: string, at: Date, source: string, ex: Executor): Promise<boolean> {
    const row = await ex
      .updateTable('resident_consents')
      .set({ withdrawn_at: at, withdrawn_source: source })
      .where('id', '=', id)
      .where('withdrawn_at', 'is', null)
      .returning(['resident_id', 'purpose'])
      .executeTakeFirst();
    if (!row) return false;
    const code = topicOf(row.purpose);
    if (code && this.endedHooks.length) {
      const topic = await ex.selectFrom('topics').select('name').where('code', '=', code).executeTakeFirst();
      await this.ended({ residentId: row.resident_id, topic: { code, name: topic?.name ?? code }, source, at }, ex);
    }
    return true;
  }

  /** Withdraws every consent of the resident's still in force (erasure); returns how many. The hooks run for every topic (in `ex`), whether any was in force or not. */
  async withdrawAll(residentId: string, at: Date, source: string, ex: Executor): Promise<number> {
    const res = await ex
      .updateTable('resident_consents')
      .set({ withdrawn_at: at, withdrawn_source: source })
      .where('resident_id', '=', residentId)
      .where('withdrawn_at', 'is', null)
      .executeTakeFirst();
    await this.ended({ residentId, topic: null, source, at }, ex);
    return Number(res.numUpdatedRows);
  }

  private async ended(ended: ConsentEnded, ex: Executor): Promise<void> {
    for (const hook of this.endedHooks) await hook(ended, ex);
  }

  /** Residents who withdrew a consent to messages at or after `since`. */
  async withdrawnSince(since: Date): Promise<string[]> {
    const rows = await this.db.k.selectFrom('resident_consents').select('resident_id').distinct().where('withdrawn_at', '>=', since).where('purpose', 'like', 'messages:%').execute();
    return rows.map((r) => r.resident_id);
  }

  /**
   * The topics each of these residents has withdrawn their consent to messages about (a withdrawn
   * `messages:` consent and none in force since), by resident.
   */
  async withdrawnTopics(residentIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (!residentIds.length) return out;
    const rows = await this.db.k
      .selectFrom('resident_consents')
      .select(['resident_id', 'purpose', 'withdrawn_at'])
      .where(inList(this.db.dialect, 'resident_id', residentIds))
      .where('purpose', 'like', 'messages:%')
      .execute();
    const inForce = new Set(rows.filter((r) => !r.withdrawn_at).map((r) => `${r.resident_id} ${r.purpose}`));
    for (const r of rows) {
      if (!r.withdrawn_at || inForce.has(`${r.resident_id} ${r.purpose}`)) continue;
      const topics = out.get(r.resident_id) ?? [];
      const topic = r.purpose.slice('messages:'.length);
      if (!topics.includes(topic)) topics.push(topic);
      out.set(r.resident_id, topics);
    }
    return out;
  }
}
