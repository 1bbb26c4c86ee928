import type { ExpressionBuilder } from 'kysely';
import type { Db, Executor } from '../../platform/db/database.js';
import type { Tables } from '../../platform/db/tables.js';

export interface ParkingBatchesTable {
  id: string;
  service_id: string;
  file_name: string | null;
  follow_up_days: number;
  /** sending or sent */
  status: string;
  notices: number;
  total_pence: number;
  job_id: string | null;
  created_by: string;
  created_at: Date;
  sent_at: Date | null;
}

export interface ParkingNoticesTable {
  id: string;
  batch_id: string;
  row_number: number;
  pcn: string;
  vrm: string;
  /** 'Erased' once the keeper's personal data is erased */
  keeper_name: string;
  /** normalised (447…); null once erased */
  mobile: string | null;
  /** lower case; null once erased */
  email: string | null;
  channel: 'sms' | 'email';
  amount_pence: number;
  issued_on: string;
  contravention: string;
  location: string;
  language: 'en' | 'cy';
  /** queued, sending, sent or failed */
  status: string;
  attempts: number;
  failure: string | null;
  pay_link_id: string | null;
  notification_id: string | null;
  sent_at: Date | null;
  created_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    parking_batches: ParkingBatchesTable;
    parking_notices: ParkingNoticesTable;
  }
}

/** PostgreSQL takes at most 65,535 parameters a statement; 20 columns a notice. */
const INSERT_CHUNK = 1000;
const LOOKUP_CHUNK = 1000;

/** Batches of penalty charge notices and the notices in them: the only SQL of the parking module. */
export class ParkingRepository {
  constructor(private readonly db: Db) {}

  async insertBatch(batch: ParkingBatchesTable, notices: ParkingNoticesTable[], ex: Executor): Promise<void> {
    await ex.insertInto('parking_batches').values(batch).execute();
    for (let i = 0; i < notices.length; i += INSERT_CHUNK)
      await ex
        .insertInto('parking_notices')
        .values(notices.slice(i, i + INSERT_CHUNK))
        .execute();
  }

  findBatch(id: string): Promise<ParkingBatchesTable | undefined> {
    return this.db.k.selectFrom('parking_batches').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listBatches(limit: number): Promise<ParkingBatchesTable[]> {
    return this.db.k.selectFrom('parking_batches').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  async setJob(batchId: string, jobId: string, ex: Executor): Promise<void> {
    await ex.updateTable('parking_batches').set({ job_id: jobId, status: 'sending', sent_at: null }).where('id', '=', batchId).execute();
  }

  async markBatchSent(batchId: string, at: Date): Promise<void> {
    await this.db.k.updateTable('parking_batches').set({ status: 'sent', sent_at: at }).where('id', '=', batchId).where('status', '=', 'sending').execute();
  }

  /** The penalty charge notice numbers, of those given, that Weft holds already, with their batch's date. */
  async existingPcns(pcns: string[]): Promise<Map<string, Date>> {
    const out = new Map<string, Date>();
    for (let i = 0; i < pcns.length; i += LOOKUP_CHUNK) {
      const rows = await this.db.k
        .selectFrom('parking_notices as n')
        .innerJoin('parking_batches as b', (j) => j.onRef('b.id', '=', 'n.batch_id'))
        .select(['n.pcn', 'b.created_at'])
        .where('n.pcn', 'in', pcns.slice(i, i + LOOKUP_CHUNK))
        .execute();
      for (const r of rows) out.set(r.pcn, r.created_at);
    }
    return out;
  }

  notices(batchId: string): Promise<ParkingNoticesTable[]> {
    return this.db.k.selectFrom('parking_notices').selectAll().where('batch_id', '=', batchId).orderBy('row_number').execute();
  }

  findNotice(id: string): Promise<ParkingNoticesTable | undefined> {
    return this.db.k.selectFrom('parking_notices').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Notices of a batch still to send: queued, or claimed by a run that did not finish. */
  unsent(batchId: string, limit: number): Promise<ParkingNoticesTable[]> {
    return this.db.k.selectFrom('parking_notices').selectAll().where('batch_id', '=', batchId).where('status', 'in', ['queued', 'sending']).orderBy('row_number').limit(limit).execute();
  }

  /**
   * Claims a notice for sending: the notice as it is now, only for the caller that saw it with
   * `attempts` claims, so two runs that both find it (one whose job lock ran out, and its
   * successor) cannot both send, and neither sends to a keeper erased since it looked.
   */
  claim(id: string, attempts: number): Promise<ParkingNoticesTable | undefined> {
    return this.db.k
      .updateTable('parking_notices')
      .set({ status: 'sending', attempts: attempts + 1 })
      .where('id', '=', id)
      .where('attempts', '=', attempts)
      .where('status', 'in', ['queued', 'sending'])
      .returningAll()
      .executeTakeFirst();
  }

  /** Records a notice sent; false when its keeper was erased while it was being sent (no contact point left). */
  async markSent(id: string, sent: { payLinkId: string; notificationId: string; at: Date }): Promise<boolean> {
    const row = await this.db.k
      .updateTable('parking_notices')
      .set({ status: 'sent', failure: null, pay_link_id: sent.payLinkId, notification_id: sent.notificationId, sent_at: sent.at })
      .where('id', '=', id)
      .returning(['mobile', 'email'])
      .executeTakeFirst();
    return !!(row?.mobile || row?.email);
  }

  async markFailed(id: string, failure: string): Promise<void> {
    await this.db.k.updateTable('parking_notices').set({ status: 'failed', failure }).where('id', '=', id).execute();
  }

  /** Failed notices go back in the queue, but those of erased keepers (no one to send to); returns how many. */
  async requeueFailed(batchId: string, ex: Executor): Promise<number> {
    const res = await ex
      .updateTable('parking_notices')
      .set({ status: 'queued', failure: null })
      .where('batch_id', '=', batchId)
      .where('status', '=', 'failed')
      .where((e) => e.or([e('mobile', 'is not', null), e('email', 'is not', null)]))
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  // ---- a resident's data (subject access and erasure; the residents module calls through the service)

  /** The notices to a keeper's mobile or email (both normalised), oldest first; by the partial index on each. */
  ofKeeper(keeper: Keeper): Promise<ParkingNoticesTable[]> {
    if (!keeper.mobile && !keeper.email) return Promise.resolve([]);
    return this.db.k
      .selectFrom('parking_notices')
      .selectAll()
      .where((e) => ofKeeper(e, keeper))
      .orderBy('created_at')
      .orderBy('row_number')
      .orderBy('id')
      .execute();
  }

  /** Batches by id. */
  batches(ids: string[]): Promise<ParkingBatchesTable[]> {
    return ids.length ? this.db.k.selectFrom('parking_batches').selectAll().where('id', 'in', ids).execute() : Promise.resolve([]);
  }

  /**
   * Erasure: the keeper's notices lose name, mobile, email and registration (pcn, amounts, dates
   * and status stay, for the council's accounts); those not sent yet are marked not sent, with
   * `failure`, so no run sends them. Erased notices match no one, so running it again changes
   * nothing. Returns how many notices were erased, and the pay links they were sent with.
   */
  async forgetKeeper(keeper: Keeper, erased: { name: string; failure: string }, ex: Executor): Promise<{ notices: number; payLinkIds: string[] }> {
    if (!keeper.mobile && !keeper.email) return { notices: 0, payLinkIds: [] };
    await ex
      .updateTable('parking_notices')
      .set({ status: 'failed', failure: erased.failure })
      .where((e) => ofKeeper(e, keeper))
      .where('status', '=', 'queued')
      .execute();
    const rows = await ex
      .updateTable('parking_notices')
      .set({ keeper_name: erased.name, mobile: null, email: null, vrm: '' })
      .where((e) => ofKeeper(e, keeper))
      .returning('pay_link_id')
      .execute();
    return { notices: rows.length, payLinkIds: rows.flatMap((r) => (r.pay_link_id ? [r.pay_link_id] : [])) };
  }

  async countByStatus(batchId: string): Promise<Record<string, number>> {
    const rows = await this.db.k
      .selectFrom('parking_notices')
      .select((e) => ['status', e.fn.countAll<number>().as('n')])
      .where('batch_id', '=', batchId)
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}

/** A keeper as a resident is known: their normalised mobile and email. */
export interface Keeper {
  mobile: string | null;
  email: string | null;
}

/** Notices to the keeper's mobile or email: an OR of two equalities, each answered by its partial index. */
function ofKeeper(e: ExpressionBuilder<Tables, 'parking_notices'>, keeper: Keeper) {
  return e.or([...(keeper.mobile ? [e('mobile', '=', keeper.mobile)] : []), ...(keeper.email ? [e('email', '=', keeper.email)] : [])]);
}
