import type { Db, Executor } from '../../platform/db/database.js';
import { toJson } from '../../platform/db/dialect.js';
import type { NotificationsTable } from './messaging.repository.js';

export interface PrintFile {
  postage: string;
  file: string;
  letters: number;
  pages: number;
  sheets: number;
}

export interface PrintBatchesTable {
  id: string;
  provider_id: string;
  provider_name: string;
  day: string;
  status: string;
  letter_count: number;
  pages: number;
  sheets: number;
  folder: string;
  files_json: PrintFile[];
  created_at: Date;
  ready_at: Date | null;
  dispatched_at: Date | null;
  dispatched_by: string | null;
}

export interface PrintBatchLettersTable {
  notification_id: string;
  batch_id: string;
  postage: string;
  pages: number | null;
  sheets: number | null;
  first_page: number | null;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    print_batches: PrintBatchesTable;
    print_batch_letters: PrintBatchLettersTable;
  }
}

/** What a batch needs of each of its letters to print it. */
export type BatchLetter = Pick<
  NotificationsTable,
  'id' | 'service_id' | 'template_id' | 'template_version' | 'reference' | 'address_json' | 'personalisation_json' | 'language' | 'created_at' | 'status'
> & { postage: string };

/** Where each letter landed: its pages and sheets, and its first page in its postage class's file. */
export interface Placed {
  id: string;
  pages: number;
  sheets: number;
  firstPage: number;
}

const CHUNK = 500;

/** The print batches' statements (print.ts). */
export class PrintRepository {
  constructor(private readonly db: Db) {}

  find(id: string, ex: Executor = this.db.k): Promise<PrintBatchesTable | undefined> {
    return ex.selectFrom('print_batches').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByDay(providerId: string, day: string, ex: Executor = this.db.k): Promise<PrintBatchesTable | undefined> {
    return ex.selectFrom('print_batches').selectAll().where('provider_id', '=', providerId).where('day', '=', day).executeTakeFirst();
  }

  /** Batches whose letters were taken but whose files were never finished (the job stopped). */
  building(providerId: string): Promise<PrintBatchesTable[]> {
    return this.db.k.selectFrom('print_batches').selectAll().where('status', '=', 'building').where('provider_id', '=', providerId).orderBy('id').execute();
  }

  /** Newest first, in pages of `limit` after `olderThanId` (ids are time-ordered). */
  list(limit: number, olderThanId?: string): Promise<PrintBatchesTable[]> {
    let q = this.db.k.selectFrom('print_batches').selectAll();
    if (olderThanId) q = q.where('id', '<', olderThanId);
    return q.orderBy('id', 'desc').limit(limit).execute();
  }

  async insert(row: PrintBatchesTable, ex: Executor): Promise<void> {
    await ex
      .insertInto('print_batches')
      .values({ ...row, files_json: toJson(row.files_json) as unknown as PrintFile[] })
      .execute();
  }

  /**
   * Takes every letter the provider accepted that is not being handed over right now: each
   * becomes `sending` (shown as accepted) and joins the batch. Returns what was taken.
   */
  async takeAccepted(batchId: string, providerName: string, at: Date, ex: Executor): Promise<number> {
    const taken = await ex
      .updateTable('notifications')
      .set({ status: 'sending', updated_at: at })
      .where('provider', '=', providerName)
      .where('type', '=', 'letter')
      .where('status', '=', 'accepted')
      .where('locked_by', 'is', null)
      .returning(['id', 'postage'])
      .execute();
    for (let i = 0; i < taken.length; i += CHUNK) {
      await ex
        .insertInto('print_batch_letters')
        .values(taken.slice(i, i + CHUNK).map((t) => ({ notification_id: t.id, batch_id: batchId, postage: t.postage ?? 'second', pages: null, sheets: null, first_page: null })))
        .execute();
    }
    return taken.length;
  }

  /** The batch's letters with what printing them needs, by postage class and then in the order they were sent. */
  letters(batchId: string): Promise<BatchLetter[]> {
    return this.db.k
      .selectFrom('print_batch_letters as b')
      .innerJoin('notifications as n', (j) => j.onRef('n.id', '=', 'b.notification_id'))
      .select(['n.id', 'n.service_id', 'n.template_id', 'n.template_version', 'n.reference', 'n.address_json', 'n.personalisation_json', 'n.language', 'n.created_at', 'n.status', 'b.postage'])
      .where('b.batch_id', '=', batchId)
      .orderBy('b.postage')
      .orderBy('b.notification_id')
      .execute();
  }

  /** Records where each letter landed, and bills each letter by its sheets as Notify does. */
  async place(placed: Placed[], ex: Executor): Promise<void> {
    for (const p of placed) {
      await ex.updateTable('print_batch_letters').set({ pages: p.pages, sheets: p.sheets, first_page: p.firstPage }).where('notification_id', '=', p.id).execute();
      await ex.updateTable('notifications').set({ billable_units: p.sheets }).where('id', '=', p.id).execute();
    }
  }

  /** A letter that cannot be printed leaves its batch with a final status. */
  async fail(batchId: string, failure: { id: string; status: string; reason: string }, at: Date, ex: Executor): Promise<{ id: string; service_id: string; status: string } | undefined> {
    await ex.deleteFrom('print_batch_letters').where('batch_id', '=', batchId).where('notification_id', '=', failure.id).execute();
    return ex
      .updateTable('notifications')
      .set({ status: failure.status, status_reason: failure.reason.slice(0, 500), completed_at: at, updated_at: at })
      .where('id', '=', failure.id)
      .where('status', '=', 'sending')
      .returning(['id', 'service_id', 'status'])
      .executeTakeFirst();
  }

  async update(id: string, fields: Partial<PrintBatchesTable>, ex: Executor = this.db.k): Promise<void> {
    const set: Record<string, unknown> = { ...fields };
    if (fields.files_json) set.files_json = toJson(fields.files_json);
    await ex
      .updateTable('print_batches')
      .set(set as Partial<PrintBatchesTable>)
      .where('id', '=', id)
      .execute();
  }

  /** Ready → dispatched, once: false when the batch was not ready. */
  async markDispatched(id: string, at: Date, by: string, ex: Executor): Promise<boolean> {
    const res = await ex.updateTable('print_batches').set({ status: 'dispatched', dispatched_at: at, dispatched_by: by }).where('id', '=', id).where('status', '=', 'ready').executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** The batch's letters leave the print room: delivered (shown as received). Returns what changed. */
  deliverLetters(batchId: string, at: Date, ex: Executor): Promise<{ id: string; service_id: string; status: string }[]> {
    return ex
      .updateTable('notifications')
      .set({ status: 'delivered', completed_at: at, updated_at: at })
      .where('id', 'in', (eb) => eb.selectFrom('print_batch_letters').select('notification_id').where('batch_id', '=', batchId))
      .where('status', '=', 'sending')
      .returning(['id', 'service_id', 'status'])
      .execute();
  }
}
