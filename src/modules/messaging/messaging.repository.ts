import type BetterSqlite3 from 'better-sqlite3';
import { type ExpressionBuilder, sql } from 'kysely';
import type { Db, Executor } from '../../platform/db/database.js';
import type { Tables } from '../../platform/db/tables.js';
import { inList, toJson } from '../../platform/db/dialect.js';

export interface MessageServicesTable {
  id: string;
  name: string;
  sms_sender: string;
  email_from: string;
  email_reply_to: string | null;
  team_members_json: string[];
  rate_limit_per_minute: number;
  daily_limit: number;
  callback_url: string | null;
  callback_token_sealed: string | null;
  inbound_callback_url: string | null;
  inbound_callback_token_sealed: string | null;
  /** its messages carry secrets (sign-in links and codes): their text is never shown to staff */
  is_confidential: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface MessageKeysTable {
  id: string;
  service_id: string;
  name: string;
  key_type: string;
  secret_sealed: string;
  created_by: string;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export interface TemplatesTable {
  id: string;
  service_id: string;
  name: string;
  type: string;
  version: number;
  is_archived: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface TemplateVersionsTable {
  template_id: string;
  version: number;
  name: string;
  subject: string | null;
  body: string;
  subject_cy: string | null;
  body_cy: string | null;
  options_json: TemplateOptions;
  created_by: string;
  created_at: Date;
}

export interface TemplateOptions {
  /** voice: keypad choices read at the end */
  menu?: { key: string; label: string }[];
  /** RCS: suggested replies */
  suggestions?: string[];
  /** letters: first or second class, or europe/rest-of-world */
  postage?: string;
}

export interface NotificationsTable {
  id: string;
  service_id: string;
  key_id: string | null;
  key_type: string;
  template_id: string;
  template_version: number;
  type: string;
  recipient: string;
  normalised_to: string;
  address_json: string[] | null;
  reference: string | null;
  personalisation_json: Record<string, unknown>;
  language: string;
  subject: string | null;
  body: string;
  billable_units: number;
  postage: string | null;
  status: string;
  status_reason: string | null;
  provider: string | null;
  provider_ref: string | null;
  attempts: number;
  next_attempt_at: Date | null;
  locked_until: Date | null;
  locked_by: string | null;
  campaign_id: string | null;
  row_number: number | null;
  created_by_name: string | null;
  created_at: Date;
  scheduled_for_at: Date | null;
  sent_at: Date | null;
  completed_at: Date | null;
  updated_at: Date;
  /** the resident it went to, when sent by preference */
  resident_id: string | null;
  /** channels still to try if this one fails: [{channel, templateId}] */
  fallback_json: { channel: string; templateId: string }[] | null;
  /** the notification this one follows after a failure */
  fallback_of: string | null;
  /** the email reply-to address or text message sender chosen by id, when not the service's own */
  reply_to: string | null;
  /** the one-click unsubscribe link the sender gave (email) */
  unsubscribe_url: string | null;
  /** the topic of a message sent to a resident by preference (its consent covers it), else null */
  topic: string | null;
  /** set when its consent ended while it was being handed to a provider: a retry asked for then cancels it instead (not inserted: null) */
  cancel_reason?: string | null;
}

export interface MessageSendersTable {
  id: string;
  service_id: string;
  kind: 'email_reply_to' | 'sms_sender';
  value: string;
  created_at: Date;
}

export interface MessageProvidersTable {
  id: string;
  channel: string;
  kind: string;
  name: string;
  priority: number;
  settings_json: Record<string, unknown>;
  secrets_sealed: string | null;
  is_enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface LetterFilesTable {
  notification_id: string;
  pdf: Buffer;
  created_at: Date;
}

export interface OptOutsTable {
  normalised_to: string;
  keyword: string;
  created_at: Date;
}

export interface ReceivedTextsTable {
  id: string;
  service_id: string;
  user_number: string;
  notify_number: string;
  content: string;
  provider: string;
  provider_ref: string | null;
  created_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    message_services: MessageServicesTable;
    message_keys: MessageKeysTable;
    templates: TemplatesTable;
    template_versions: TemplateVersionsTable;
    notifications: NotificationsTable;
    message_providers: MessageProvidersTable;
    message_senders: MessageSendersTable;
    opt_outs: OptOutsTable;
    letter_files: LetterFilesTable;
    received_texts: ReceivedTextsTable;
  }
}

/** Why a message waiting for an erased resident was cancelled. */
export const ERASED_REASON = 'The resident’s personal data was erased';

/** Statuses an outcome being recorded does not overwrite (receipts and cancellations win). */
const KEPT_STATUSES = ['delivered', 'permanent-failure', 'temporary-failure', 'received', 'cancelled', 'pending', 'sent'];

const DUE_COLUMNS = ['id', 'service_id', 'type', 'key_type', 'normalised_to', 'status', 'provider', 'attempts'] as const;
/** What delivery routes a claimed notification by. */
export type DueRow = Pick<NotificationsTable, (typeof DUE_COLUMNS)[number]>;

export type TemplateRow = TemplatesTable & Omit<TemplateVersionsTable, 'template_id' | 'version' | 'name' | 'created_at'> & { version_created_at: Date };

export interface NotificationFilter {
  serviceId: string;
  type?: string;
  statuses?: string[];
  reference?: string;
  olderThanId?: string;
  /** Notify lists only notifications sent with keys of the caller's type */
  keyType?: string;
  /** with campaigns' notifications too (Notify's include_jobs) */
  includeCampaigns?: boolean;
  limit: number;
}

export interface Outcome {
  id: string;
  status: string;
  reason?: string | null;
  provider: string;
  providerRef?: string | null;
  sentAt?: Date;
  completedAt?: Date | null;
  /** when to try again; undefined: nothing more to do */
  retryAt?: Date;
}

/** The console's list of notifications: any service unless one is named. */
export interface ConsoleNotificationFilter {
  serviceId?: string;
  type?: string;
  statuses?: string[];
  reference?: string;
  provider?: string;
  olderThanId?: string;
  limit: number;
}

/** The smallest UUID v7 of an instant: every id made at or after it sorts at or after this one. */
const lowestIdAt = (at: Date) => {
  const h = Math.max(0, at.getTime()).toString(16).padStart(12, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-0000-0000-000000000000`;
};

/** Rows carry JSON columns as values; the database gets them as text (jsonb on PostgreSQL parses it). */
const jsonColumns = <T extends object>(_db: Db, row: T): T => {
  const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
  for (const key of Object.keys(out)) if (key.endsWith('_json') && out[key] !== null && out[key] !== undefined) out[key] = toJson(out[key]);
  return out as T;
};

/** The notifications columns in insert order, with their PostgreSQL types for json_to_recordset. */
const COLUMNS: [keyof NotificationsTable, string][] = [
  ['id', 'uuid'],
  ['service_id', 'uuid'],
  ['key_id', 'uuid'],
  ['key_type', 'text'],
  ['template_id', 'uuid'],
  ['template_version', 'int'],
  ['type', 'text'],
  ['recipient', 'text'],
  ['normalised_to', 'text'],
  ['address_json', 'jsonb'],
  ['reference', 'text'],
  ['personalisation_json', 'jsonb'],
  ['language', 'text'],
  ['subject', 'text'],
  ['body', 'text'],
  ['billable_units', 'int'],
  ['postage', 'text'],
  ['status', 'text'],
  ['status_reason', 'text'],
  ['provider', 'text'],
  ['provider_ref', 'text'],
  ['attempts', 'int'],
  ['next_attempt_at', 'timestamptz'],
  ['locked_until', 'timestamptz'],
  ['locked_by', 'text'],
  ['campaign_id', 'uuid'],
  ['row_number', 'int'],
  ['created_by_name', 'text'],
  ['created_at', 'timestamptz'],
  ['scheduled_for_at', 'timestamptz'],
  ['sent_at', 'timestamptz'],
  ['completed_at', 'timestamptz'],
  ['updated_at', 'timestamptz'],
  ['resident_id', 'uuid'],
  ['fallback_json', 'jsonb'],
  ['fallback_of', 'uuid'],
  ['reply_to', 'text'],
  ['unsubscribe_url', 'text'],
  ['topic', 'text'],
];

/** Per column, how a value goes to SQLite: JSON as text, times as epoch ms. */
const SQLITE_CELLS: ((row: NotificationsTable) => unknown)[] = COLUMNS.map(([c, type]) => {
  if (type === 'jsonb') return (row) => (row[c] === null || row[c] === undefined ? null : toJson(row[c]));
  if (type === 'timestamptz') return (row) => (row[c] as Date | null)?.getTime() ?? null;
  return (row) => row[c] ?? null;
});
/** Channels a STOP reply blocks. */
const OPT_OUT_CHANNELS = new Set(['sms', 'voice', 'rcs']);
const PG_NAMES = COLUMNS.map(([c]) => c).join(', ');

/** Whether a column holds one value in every row (only nulls and scalars count: objects are compared by nothing). */
function sameInEveryRow(rows: NotificationsTable[], column: keyof NotificationsTable): boolean {
  const first = rows[0][column] ?? null;
  if (first instanceof Date) {
    const at = first.getTime();
    return rows.every((r) => r[column] instanceof Date && (r[column] as Date).getTime() === at);
  }
  if (first !== null && typeof first === 'object') return false;
  return rows.every((r) => (r[column] ?? null) === first);
}

/**
 * The rows as PostgreSQL reads them fastest: a column with one value in every row (a campaign
 * chunk's service, template, times and status) goes once, as one record; the rest go as a
 * recordset without their empty cells. Parsing a JSON object's keys was most of an insert's cost
 * when every row carried all 39.
 */
function pgRowsOf(rows: NotificationsTable[]): { constants: string; constantRecord: string; varying: string; varyingRecord: string; cell: (column: keyof NotificationsTable) => string } {
  const shared: [keyof NotificationsTable, string][] = [];
  const varying: [keyof NotificationsTable, string][] = [];
  for (const column of COLUMNS) (rows.length > 1 && sameInEveryRow(rows, column[0]) ? shared : varying).push(column);
  const one: Record<string, unknown> = {};
  for (const [c] of shared) one[c] = rows[0][c];
  const many = rows.map((row) => {
    const cells: Record<string, unknown> = {};
    for (const [c] of varying) if (row[c] !== null && row[c] !== undefined) cells[c] = row[c];
    return cells;
  });
  const record = (columns: [keyof NotificationsTable, string][]) => columns.map(([c, type]) => `${c} ${type}`).join(', ') || 'none_ text';
  const once = new Set(shared.map(([c]) => c));
  return {
    constants: JSON.stringify(one),
    constantRecord: record(shared),
    varying: JSON.stringify(many),
    varyingRecord: record(varying),
    cell: (column) => (once.has(column) ? `k.${column}` : `u.${column}`),
  };
}

/** Every statement of the messaging module. */
export class MessagingRepository {
  private insertStmt?: BetterSqlite3.Statement;
  private blockedStmt?: BetterSqlite3.Statement;

  constructor(private readonly db: Db) {}

  // ---- services and keys

  async insertService(row: MessageServicesTable, ex: Executor = this.db.k): Promise<void> {
    await ex.insertInto('message_services').values(jsonColumns(this.db, row)).execute();
  }

  findService(id: string): Promise<MessageServicesTable | undefined> {
    return this.db.k.selectFrom('message_services').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listServices(): Promise<MessageServicesTable[]> {
    return this.db.k.selectFrom('message_services').selectAll().orderBy('name').execute();
  }

  async updateService(id: string, fields: Partial<MessageServicesTable>, ex: Executor = this.db.k): Promise<void> {
    await ex.updateTable('message_services').set(jsonColumns(this.db, fields)).where('id', '=', id).execute();
  }

  async insertKey(row: MessageKeysTable, ex: Executor = this.db.k): Promise<void> {
    await ex.insertInto('message_keys').values(row).execute();
  }

  keysOf(serviceId: string): Promise<MessageKeysTable[]> {
    return this.db.k.selectFrom('message_keys').selectAll().where('service_id', '=', serviceId).orderBy('created_at').execute();
  }

  async revokeKey(serviceId: string, id: string, at: Date, ex: Executor = this.db.k): Promise<boolean> {
    const res = await ex.updateTable('message_keys').set({ revoked_at: at }).where('service_id', '=', serviceId).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  // ---- senders (reply-to addresses, text message senders)

  async insertSender(row: MessageSendersTable, ex: Executor = this.db.k): Promise<void> {
    await ex.insertInto('message_senders').values(row).execute();
  }

  sendersOf(serviceId: string): Promise<MessageSendersTable[]> {
    return this.db.k.selectFrom('message_senders').selectAll().where('service_id', '=', serviceId).orderBy('created_at').execute();
  }

  async touchKey(id: string, at: Date): Promise<void> {
    await this.db.k.updateTable('message_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  // ---- templates

  async archiveTemplate(id: string, at: Date, ex: Executor): Promise<void> {
    await ex.updateTable('templates').set({ is_archived: true, updated_at: at }).where('id', '=', id).execute();
  }

  async insertTemplate(template: TemplatesTable, version: TemplateVersionsTable, ex: Executor): Promise<void> {
    await ex.insertInto('templates').values(template).execute();
    await ex.insertInto('template_versions').values(jsonColumns(this.db, version)).execute();
  }

  async insertTemplateVersion(version: TemplateVersionsTable, fields: Partial<TemplatesTable>, ex: Executor): Promise<void> {
    await ex.insertInto('template_versions').values(jsonColumns(this.db, version)).execute();
    await ex.updateTable('templates').set(fields).where('id', '=', version.template_id).execute();
  }

  private templateQuery() {
    return this.db.k
      .selectFrom('templates as t')
      .innerJoin('template_versions as v', (j) => j.onRef('v.template_id', '=', 't.id'))
      .selectAll('t')
      .select(['v.subject', 'v.body', 'v.subject_cy', 'v.body_cy', 'v.options_json', 'v.created_by', 'v.created_at as version_created_at']);
  }

  /** A template at a version (its current one by default). */
  async findTemplate(id: string, version?: number): Promise<TemplateRow | undefined> {
    const q = this.templateQuery().where('t.id', '=', id);
    return version === undefined
      ? q.whereRef('v.version', '=', 't.version').executeTakeFirst()
      : q
          .where('v.version', '=', version)
          .executeTakeFirst()
          .then((r) => r && { ...r, version });
  }

  listTemplates(serviceId: string, type?: string): Promise<TemplateRow[]> {
    let q = this.templateQuery().where('t.service_id', '=', serviceId).where('t.is_archived', '=', false).whereRef('v.version', '=', 't.version');
    if (type) q = q.where('t.type', '=', type);
    return q.orderBy('t.name').execute();
  }

  templateVersions(id: string): Promise<TemplateVersionsTable[]> {
    return this.db.k.selectFrom('template_versions').selectAll().where('template_id', '=', id).orderBy('version', 'desc').execute();
  }

  // ---- notifications

  /**
   * Inserts notifications in bulk: a prepared statement a row on SQLite, one statement with the
   * rows as a JSON parameter on PostgreSQL. A campaign row already made (same campaign and row
   * number) is skipped, so a chunk run again after a crash adds nothing twice. Given a
   * transaction, runs inside it; otherwise in a transaction of its own.
   *
   * With `unlessOptedOut`, a text, voice or RCS message to a number that replied STOP is not
   * stored, checked in the same statement (PostgreSQL) or transaction (SQLite) as the insert;
   * the ids of those refused are returned.
   */
  async insertNotifications(rows: NotificationsTable[], trx?: Executor, options: { unlessOptedOut?: boolean } = {}): Promise<Set<string>> {
    if (!rows.length) return new Set();
    if (this.db.dialect === 'sqlite') {
      const raw = this.db.driver.sqlite as BetterSqlite3.Database;
      this.insertStmt ??= raw.prepare(
        `INSERT INTO notifications (${PG_NAMES}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (campaign_id, row_number) WHERE campaign_id IS NOT NULL DO NOTHING`,
      );
      const stmt = this.insertStmt;
      const refused = new Set<string>();
      const insertAll = () => {
        const blocked = options.unlessOptedOut ? this.blockedNow(raw, rows) : undefined;
        const values = new Array(SQLITE_CELLS.length);
        for (const row of rows) {
          if (blocked?.has(row.normalised_to) && OPT_OUT_CHANNELS.has(row.type)) {
            refused.add(row.id);
            continue;
          }
          for (let i = 0; i < SQLITE_CELLS.length; i++) values[i] = SQLITE_CELLS[i](row);
          stmt.run(values);
        }
      };
      // The raw handle is the connection a transaction holds, so inside one this joins it; alone,
      // holding Kysely's connection keeps it out of anyone else's transaction.
      if (trx) insertAll();
      else await this.db.k.connection().execute(async () => raw.transaction(insertAll)());
      return refused;
    }
    // The rows as two JSON parameters: native JSON.stringify here, one parse there.
    const p = pgRowsOf(rows);
    const unlessOptedOut = options.unlessOptedOut
      ? sql`WHERE NOT (${sql.raw(p.cell('type'))} IN ('sms', 'voice', 'rcs') AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.normalised_to = ${sql.raw(p.cell('normalised_to'))}))`
      : sql``;
    const inserted = await sql<{ id: string }>`INSERT INTO notifications (${sql.raw(PG_NAMES)})
      SELECT ${sql.raw(COLUMNS.map(([c]) => p.cell(c)).join(', '))} FROM json_to_recordset(${p.varying}::json) AS u(${sql.raw(p.varyingRecord)})
      CROSS JOIN json_to_record(${p.constants}::json) AS k(${sql.raw(p.constantRecord)}) ${unlessOptedOut}
      ON CONFLICT (campaign_id, row_number) WHERE campaign_id IS NOT NULL DO NOTHING
      RETURNING id`.execute(trx ?? this.db.k);
    if (!options.unlessOptedOut || inserted.rows.length === rows.length) return new Set();
    const stored = new Set(inserted.rows.map((r) => r.id));
    return new Set(rows.filter((r) => !stored.has(r.id)).map((r) => r.id));
  }

  /** The numbers among the rows that have opted out, read on the raw SQLite handle inside its transaction. */
  private blockedNow(raw: BetterSqlite3.Database, rows: NotificationsTable[]): Set<string> {
    const numbers = [...new Set(rows.filter((r) => OPT_OUT_CHANNELS.has(r.type)).map((r) => r.normalised_to))];
    if (!numbers.length) return new Set();
    this.blockedStmt ??= raw.prepare('SELECT normalised_to FROM opt_outs WHERE normalised_to IN (SELECT value FROM json_each(?))');
    const found = this.blockedStmt.all(JSON.stringify(numbers)) as { normalised_to: string }[];
    return new Set(found.map((r) => r.normalised_to));
  }

  findNotification(serviceId: string, id: string): Promise<NotificationsTable | undefined> {
    return this.db.k.selectFrom('notifications').selectAll().where('service_id', '=', serviceId).where('id', '=', id).executeTakeFirst();
  }

  /** Newest first, in pages of `limit`, after `olderThanId` when given (ids are time-ordered). */
  listNotifications(f: NotificationFilter): Promise<NotificationsTable[]> {
    let q = this.db.k.selectFrom('notifications').selectAll().where('service_id', '=', f.serviceId);
    if (f.type) q = q.where('type', '=', f.type);
    if (f.statuses?.length) q = q.where('status', 'in', f.statuses);
    if (f.reference !== undefined) q = q.where('reference', '=', f.reference);
    if (f.olderThanId) q = q.where('id', '<', f.olderThanId);
    if (f.keyType) q = q.where('key_type', '=', f.keyType);
    if (f.includeCampaigns === false) q = q.where('campaign_id', 'is', null);
    return q.orderBy('id', 'desc').limit(f.limit).execute();
  }

  async countSentSince(serviceId: string, since: Date, type: string): Promise<number> {
    const row = await this.db.k
      .selectFrom('notifications')
      .select((e) => e.fn.countAll<number>().as('n'))
      .where('service_id', '=', serviceId)
      .where('created_at', '>=', since)
      .where('type', '=', type)
      .where('key_type', '!=', 'test')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Claims up to `limit` due notifications for this worker until `lockedUntil`: those whose
   * next attempt has come and that nobody holds (or whose holder's lock ran out). Returns what
   * routing needs; the rest of a row is read only when it goes to a provider.
   */
  async claimDue(workerId: string, now: Date, lockedUntil: Date, limit: number, channels: string[], simulated: string[]): Promise<DueRow[]> {
    // Channels with a provider to send through; on any channel, what is only simulated (test keys, Notify's smoke-test recipients).
    const due = this.db.k
      .selectFrom('notifications')
      .select('id')
      .where('next_attempt_at', '<=', now)
      .where((e) => e.or([e('locked_until', 'is', null), e('locked_until', '<', now)]))
      .where((e) => e.or([...(channels.length ? [e('type', 'in', channels)] : []), e('key_type', '=', 'test'), e('normalised_to', 'in', simulated)]))
      .orderBy('next_attempt_at')
      .limit(limit);
    const picked = this.db.dialect === 'postgres' ? due.forUpdate().skipLocked() : due;
    return this.claiming((trx) => trx.updateTable('notifications').set({ locked_by: workerId, locked_until: lockedUntil }).where('id', 'in', picked).returning(DUE_COLUMNS).execute());
  }

  /**
   * A claim of the first due rows, in a transaction. PostgreSQL's planner is told not to sort:
   * while a campaign's rows pour in its statistics lag (it thinks a few rows are due), so it would
   * read and sort every due row to take the first `limit`, a cost that grows with the backlog
   * (228 s of a million-row campaign's 307). notifications_due holds them in order already.
   */
  private claiming<T>(work: (trx: Executor) => Promise<T>): Promise<T> {
    return this.db.transaction(async (trx) => {
      if (this.db.dialect === 'postgres') await sql`SET LOCAL enable_sort = off`.execute(trx);
      return work(trx);
    });
  }

  /**
   * The development inbox's fast path: due notifications on channels with no provider, from
   * live and team keys (test keys and Notify's smoke-test recipients are simulated instead),
   * delivered where they lie in one statement, claim and outcome at once. Returns what changed.
   */
  async deliverDueToInbox(
    now: Date,
    channels: string[],
    simulated: string[],
    limit: number,
    alsoInTransaction?: (rows: { id: string; service_id: string; status: string }[], trx: Executor) => Promise<void>,
  ): Promise<{ id: string; service_id: string; status: string }[]> {
    if (!channels.length) return [];
    let due = this.db.k
      .selectFrom('notifications')
      .select('id')
      .where('next_attempt_at', '<=', now)
      .where((e) => e.or([e('locked_until', 'is', null), e('locked_until', '<', now)]))
      .where('type', 'in', channels)
      .where('key_type', '!=', 'test')
      .where('normalised_to', 'not in', simulated)
      .orderBy('next_attempt_at')
      .limit(limit);
    if (this.db.dialect === 'postgres') due = due.forUpdate().skipLocked();
    return this.claiming(async (trx) => {
      const rows = await trx
        .updateTable('notifications')
        .set({
          status: sql`CASE WHEN type = 'letter' THEN 'received' ELSE 'delivered' END`,
          provider: 'inbox',
          provider_ref: sql`id`,
          attempts: sql`attempts + 1`,
          sent_at: now,
          completed_at: now,
          next_attempt_at: null,
          locked_by: null,
          locked_until: null,
          updated_at: now,
        })
        .where('id', 'in', due)
        .returning(['id', 'service_id', 'status'])
        .execute();
      if (rows.length) await alsoInTransaction?.(rows, trx);
      return rows;
    });
  }

  notificationsByIds(ids: string[]): Promise<NotificationsTable[]> {
    return ids.length ? this.db.k.selectFrom('notifications').selectAll().where('id', 'in', ids).execute() : Promise.resolve([]);
  }

  /**
   * Marks a claimed row as handed to a provider whose answer is awaited. Refused (false) when
   * this worker no longer holds it, or it was cancelled or paused meanwhile: then it is not sent.
   */
  async markInFlight(workerId: string, id: string, provider: string, at: Date): Promise<boolean> {
    const res = await this.db.k
      .updateTable('notifications')
      .set({ status: 'sending', provider, attempts: sql`attempts + 1`, updated_at: at })
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('status', 'in', ['created', 'sending', 'pending', 'sent'])
      .where('next_attempt_at', 'is not', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /**
   * Cancels a resident's notifications that no provider has been given yet (`created`: waiting
   * for their time, quiet hours, a campaign's rate or a retry), on one topic or, with `topic`
   * null, on any; in the caller's transaction. A row a delivery worker has claimed but not yet
   * marked in flight is cancelled too: markInFlight then refuses it and nothing is sent. A row
   * already `sending` has gone, or may have, and is left. Found through `notifications_resident`.
   * Returns the ids cancelled.
   */
  async cancelWaitingForResident(residentId: string, topic: string | null, reason: string, at: Date, ex: Executor): Promise<string[]> {
    const rows = await this.waitingForResident(ex, residentId, topic)
      .set({ status: 'cancelled', status_reason: reason, next_attempt_at: null, completed_at: at, updated_at: at })
      .returning('id')
      .execute();
    // One being handed to a provider now may go; should the provider ask for a retry, it is cancelled then (recordOutcomes).
    const sending = ex.updateTable('notifications').set({ cancel_reason: reason, updated_at: at }).where('resident_id', '=', residentId).where('status', '=', 'sending');
    await (topic === null ? sending : sending.where('topic', '=', topic)).execute();
    return rows.map((r) => r.id);
  }

  /** The statement that finds a resident's waiting notifications, before its SET (its plan is tested). */
  waitingForResident(ex: Executor, residentId: string, topic: string | null) {
    const q = ex.updateTable('notifications').where('resident_id', '=', residentId).where('status', '=', 'created');
    return topic === null ? q : q.where('topic', '=', topic);
  }

  /** Lets go of a claimed row without changing it (it was paused or cancelled while claimed). */
  async release(workerId: string, id: string): Promise<void> {
    await this.db.k.updateTable('notifications').set({ locked_by: null, locked_until: null }).where('id', '=', id).where('locked_by', '=', workerId).execute();
  }

  /** A time as a statement's value where nothing else tells PostgreSQL its type (a CASE of values). */
  private time(at: Date) {
    return this.db.dialect === 'postgres' ? sql`${at}::timestamptz` : sql`${at}`;
  }

  /** Records what became of claimed rows; fenced on this worker's lock. */
  async recordOutcomes(workerId: string, outcomes: Outcome[], at: Date, alsoInTransaction?: (trx: Executor) => Promise<void>): Promise<void> {
    if (!outcomes.length) return;
    await this.db.transaction(async (trx) => {
      for (const o of outcomes) {
        // A retry of a row whose consent ended while it was with the provider is a cancellation, with the reason kept for it.
        const retry = o.status === 'created';
        const cancelledNow = retry ? sql`cancel_reason IS NOT NULL` : sql`FALSE`;
        await trx
          .updateTable('notifications')
          .set({
            // A receipt can land while the send is still being recorded, and a campaign can be
            // cancelled: a status they wrote that is further on than "sending" stays.
            status: sql`CASE WHEN status IN (${sql.join(KEPT_STATUSES)}) THEN status WHEN ${cancelledNow} THEN 'cancelled' ELSE ${o.status} END`,
            // A row cancelled while claimed (consent withdrawn, a campaign cancelled) keeps its
            // reason and is never due again, even when this outcome asked for a retry.
            status_reason: sql`CASE WHEN status = 'cancelled' THEN status_reason WHEN ${cancelledNow} THEN cancel_reason ELSE ${o.reason ?? null} END`,
            provider: o.provider,
            provider_ref: o.providerRef ?? null,
            sent_at: o.sentAt ?? null,
            completed_at: sql`CASE WHEN status IN (${sql.join(KEPT_STATUSES)}) THEN completed_at WHEN ${cancelledNow} THEN ${this.time(at)} ELSE ${o.completedAt ?? null} END`,
            next_attempt_at: o.retryAt ? sql`CASE WHEN status = 'cancelled' OR ${cancelledNow} THEN NULL ELSE ${this.time(o.retryAt)} END` : null,
            locked_by: null,
            locked_until: null,
            updated_at: at,
          })
          .where('id', '=', o.id)
          .where('locked_by', '=', workerId)
          .execute();
      }
      await alsoInTransaction?.(trx);
    });
  }

  inbox(limit: number, olderThanId?: string): Promise<NotificationsTable[]> {
    let q = this.db.k.selectFrom('notifications').selectAll().where('provider', '=', 'inbox');
    if (olderThanId) q = q.where('id', '<', olderThanId);
    return q.orderBy('id', 'desc').limit(limit).execute();
  }

  async insertLetterFile(row: LetterFilesTable, ex: Executor = this.db.k): Promise<void> {
    await ex.insertInto('letter_files').values(row).execute();
  }

  async letterFile(notificationId: string): Promise<Buffer | undefined> {
    const row = await this.db.k.selectFrom('letter_files').select('pdf').where('notification_id', '=', notificationId).executeTakeFirst();
    return row ? Buffer.from(row.pdf) : undefined;
  }

  // ---- providers

  listProviders(channel?: string): Promise<MessageProvidersTable[]> {
    let q = this.db.k.selectFrom('message_providers').selectAll();
    if (channel) q = q.where('channel', '=', channel);
    return q.orderBy('channel').orderBy('priority').execute();
  }

  async insertProvider(row: MessageProvidersTable, ex: Executor = this.db.k): Promise<void> {
    await ex.insertInto('message_providers').values(jsonColumns(this.db, row)).execute();
  }

  async deleteProvider(id: string, ex: Executor = this.db.k): Promise<void> {
    await ex.deleteFrom('message_providers').where('id', '=', id).execute();
  }

  async updateProvider(id: string, fields: Partial<MessageProvidersTable>, ex: Executor = this.db.k): Promise<void> {
    await ex.updateTable('message_providers').set(jsonColumns(this.db, fields)).where('id', '=', id).execute();
  }

  // ---- opt-outs and received texts

  async optedOut(normalisedTo: string[]): Promise<Set<string>> {
    if (!normalisedTo.length) return new Set();
    const rows = await this.db.k
      .selectFrom('opt_outs')
      .select('normalised_to')
      .where(inList(this.db.dialect, 'normalised_to', normalisedTo))
      .execute();
    return new Set(rows.map((r) => r.normalised_to));
  }

  async insertOptOut(row: OptOutsTable, ex: Executor = this.db.k): Promise<void> {
    await ex
      .insertInto('opt_outs')
      .values(row)
      .onConflict((oc) => oc.column('normalised_to').doNothing())
      .execute();
  }

  async insertReceivedText(row: ReceivedTextsTable, ex: Executor = this.db.k): Promise<void> {
    await ex.insertInto('received_texts').values(row).execute();
  }

  listReceivedTexts(serviceId: string, olderThanId: string | undefined, limit: number): Promise<ReceivedTextsTable[]> {
    let q = this.db.k.selectFrom('received_texts').selectAll().where('service_id', '=', serviceId);
    if (olderThanId) q = q.where('id', '<', olderThanId);
    return q.orderBy('id', 'desc').limit(limit).execute();
  }

  // ---- the console

  /**
   * Notifications created since `since`, counted by channel and status. Ids are time-ordered,
   * so the primary key bounds the scan to the period.
   */
  async countByChannelAndStatus(since: Date): Promise<{ type: string; status: string; n: number }[]> {
    const rows = await this.db.k
      .selectFrom('notifications')
      .select(['type', 'status', (e) => e.fn.countAll<number>().as('n')])
      .where('id', '>=', lowestIdAt(since))
      .where('created_at', '>=', since)
      .groupBy(['type', 'status'])
      .execute();
    return rows.map((r) => ({ type: r.type, status: r.status, n: Number(r.n) }));
  }

  /** Notifications of every service (or one), newest first, in pages of `limit` after `olderThanId`. */
  findNotifications(f: ConsoleNotificationFilter): Promise<NotificationsTable[]> {
    let q = this.db.k.selectFrom('notifications').selectAll();
    if (f.serviceId) q = q.where('service_id', '=', f.serviceId);
    if (f.type) q = q.where('type', '=', f.type);
    if (f.statuses?.length) q = q.where('status', 'in', f.statuses);
    if (f.reference) q = q.where('reference', '=', f.reference);
    if (f.provider) q = q.where('provider', '=', f.provider);
    if (f.olderThanId) q = q.where('id', '<', f.olderThanId);
    return q.orderBy('id', 'desc').limit(f.limit).execute();
  }

  findNotificationById(id: string): Promise<NotificationsTable | undefined> {
    return this.db.k.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
  }

  // ---- provider receipts, keypresses and inbound texts (receipts.service.ts)

  findProvider(id: string): Promise<MessageProvidersTable | undefined> {
    return this.db.k.selectFrom('message_providers').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The notification a receipt is about, sent through one of `providers` (by name): by the provider's reference, or by Weft's id (which the provider was given). */
  findSentThrough(providers: string[], match: { providerRef?: string; id?: string }): Promise<NotificationsTable | undefined> {
    const { providerRef, id } = match;
    if ((!providerRef && !id) || !providers.length) return Promise.resolve(undefined);
    return this.db.k
      .selectFrom('notifications')
      .selectAll()
      .where('provider', 'in', providers)
      .where((e) => e.or([...(providerRef ? [e('provider_ref', '=', providerRef)] : []), ...(id ? [e('id', '=', id)] : [])]))
      .executeTakeFirst();
  }

  /**
   * A delivery receipt: moves a notification sent through `provider` to `status`, but only
   * from one of the statuses in `from` (so receipts arriving out of order never take a final
   * status back). A final status records completed_at and stops any retry that was waiting;
   * the provider's reference is kept when the receipt beat delivery's own record of it.
   * Returns the updated row, or undefined when nothing changed.
   */
  async recordReceipt(
    r: { id: string; provider: string; status: string; reason?: string | null; providerRef?: string; final: boolean; at: Date },
    from: readonly string[],
    alsoInTransaction?: (row: NotificationsTable, trx: Executor) => Promise<void>,
  ): Promise<NotificationsTable | undefined> {
    if (!from.length) return undefined;
    const fields: Record<string, unknown> = { status: r.status, updated_at: r.at };
    if (r.reason) fields.status_reason = r.reason;
    if (r.final) Object.assign(fields, { completed_at: r.at, next_attempt_at: null });
    if (r.providerRef) fields.provider_ref = sql`coalesce(provider_ref, ${r.providerRef})`;
    return this.db.transaction(async (trx) => {
      const row = await trx
        .updateTable('notifications')
        .set(fields as Partial<NotificationsTable>)
        .where('id', '=', r.id)
        .where('provider', '=', r.provider)
        .where('status', 'in', [...from])
        .returningAll()
        .executeTakeFirst();
      if (row) await alsoInTransaction?.(row, trx);
      return row;
    });
  }

  /** Notifications sent through `provider` still waiting for a final status, least recently updated first (receipts by polling). */
  awaitingReceipts(provider: string, statuses: readonly string[], limit: number): Promise<NotificationsTable[]> {
    return this.db.k
      .selectFrom('notifications')
      .selectAll()
      .where('provider', '=', provider)
      .where('status', 'in', [...statuses])
      .where('provider_ref', 'is not', null)
      .where('locked_by', 'is', null)
      .orderBy('updated_at')
      .limit(limit)
      .execute();
  }

  /** What a person did in reply on a voice call (the key pressed), kept as the notification's status reason. */
  async recordKeypress(id: string, provider: string, text: string, at: Date): Promise<boolean> {
    const res = await this.db.k.updateTable('notifications').set({ status_reason: text, updated_at: at }).where('id', '=', id).where('provider', '=', provider).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async removeOptOut(normalisedTo: string, ex: Executor = this.db.k): Promise<boolean> {
    const res = await ex.deleteFrom('opt_outs').where('normalised_to', '=', normalisedTo).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  // ---- the console's delivery dashboard and residents' pages

  /**
   * Notifications created from `days[0]`, counted by day, channel and status, of one service or
   * all. `days` are the starts of the days in order (London midnights, worked out by the caller);
   * `day` in the answer is an index into them. Ids bound the scan as in countByChannelAndStatus.
   */
  async countByDayChannelAndStatus(days: Date[], serviceId?: string): Promise<{ day: number; type: string; status: string; n: number }[]> {
    if (!days.length) return [];
    const whens = days.map((d, i) => sql`when created_at >= ${d} then ${sql.lit(i)}`).reverse();
    const day = sql<number>`case ${sql.join(whens, sql` `)} end`;
    let q = this.db.k
      .selectFrom('notifications')
      .select([day.as('day_index'), 'type', 'status', (e) => e.fn.countAll<number>().as('n')])
      .where('id', '>=', lowestIdAt(days[0]))
      .where('created_at', '>=', days[0]);
    if (serviceId) q = q.where('service_id', '=', serviceId);
    // Grouped by the select's alias: PostgreSQL would not see two copies of the CASE, with their own parameters, as one expression.
    const rows = await q.groupBy([sql`day_index`, 'type', 'status']).execute();
    return rows.map((r) => ({ day: Number(r.day_index), type: r.type, status: r.status, n: Number(r.n) }));
  }

  /** A resident's notifications, newest first. */
  notificationsForResident(residentId: string, limit: number): Promise<NotificationsTable[]> {
    return this.db.k.selectFrom('notifications').selectAll().where('resident_id', '=', residentId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  // ---- received-text callbacks (inbound-callbacks.ts)

  findReceivedText(serviceId: string, id: string): Promise<ReceivedTextsTable | undefined> {
    return this.db.k.selectFrom('received_texts').selectAll().where('service_id', '=', serviceId).where('id', '=', id).executeTakeFirst();
  }

  // ---- a resident's data (subject access and erasure; the residents module calls through the service)

  /** A resident's notifications (sent by preference, or by anyone to one of their contact points without naming a resident), oldest first. */
  notificationsAbout(residentId: string, contacts: string[]): Promise<NotificationsTable[]> {
    return this.db.k.selectFrom('notifications').selectAll().where(aboutResident(residentId, contacts)).orderBy('created_at').orderBy('id').execute();
  }

  /** The pay links those notifications carried (a resident's reminders belong to the link of their first message). */
  payLinksAbout(residentId: string, contacts: string[]) {
    const ids = this.db.k.selectFrom('notifications').select('id').where(aboutResident(residentId, contacts));
    return this.db.k
      .selectFrom('pay_links')
      .select(['id', 'notification_id', 'amount_pence', 'reference', 'description', 'status', 'paid_amount_pence', 'paid_at', 'created_at'])
      .where('notification_id', 'in', ids)
      .orderBy('created_at')
      .execute();
  }

  receivedTextsFrom(mobile: string | null): Promise<ReceivedTextsTable[]> {
    return mobile ? this.db.k.selectFrom('received_texts').selectAll().where('user_number', '=', mobile).orderBy('created_at').execute() : Promise.resolve([]);
  }

  optOutsOf(numbers: string[]): Promise<OptOutsTable[]> {
    return numbers.length ? this.db.k.selectFrom('opt_outs').selectAll().where('normalised_to', 'in', numbers).execute() : Promise.resolve([]);
  }

  /**
   * Erasure, in one transaction: a resident's notifications not yet sent are cancelled, and all of
   * them lose their recipient, address, text, personalisation and resident (channel, status, dates
   * and provider stay, for counts); precompiled letters go; texts they sent lose number and words.
   * What is erased no longer matches, so running it again changes nothing.
   */
  async forgetResident(residentId: string, contacts: string[], mobile: string | null, at: Date): Promise<{ cancelled: number; notifications: number; letterFiles: number; receivedTexts: number }> {
    return this.db.transaction(async (trx) => {
      const about = aboutResident(residentId, contacts);
      const cancelled = await trx
        .updateTable('notifications')
        .set({ status: 'cancelled', status_reason: ERASED_REASON, next_attempt_at: null, completed_at: at, updated_at: at })
        .where(about)
        .where('status', '=', 'created')
        .executeTakeFirst();
      const letters = await trx.deleteFrom('letter_files').where('notification_id', 'in', trx.selectFrom('notifications').select('id').where(about)).executeTakeFirst();
      const blanked = await trx
        .updateTable('notifications')
        .set({ recipient: '', normalised_to: '', address_json: null, personalisation_json: toJson({}) as never, subject: null, body: '', unsubscribe_url: null, resident_id: null, updated_at: at })
        .where(about)
        .executeTakeFirst();
      const texts = mobile ? await trx.updateTable('received_texts').set({ user_number: '', content: '' }).where('user_number', '=', mobile).executeTakeFirst() : undefined;
      return {
        cancelled: Number(cancelled.numUpdatedRows),
        notifications: Number(blanked.numUpdatedRows),
        letterFiles: Number(letters.numDeletedRows),
        receivedTexts: Number(texts?.numUpdatedRows ?? 0),
      };
    });
  }
}

/** Notifications about a resident: theirs by preference, or sent to one of their contact points with no resident named (sign-in messages, API sends). */
function aboutResident(residentId: string, contacts: string[]) {
  return (e: ExpressionBuilder<Tables, 'notifications'>) =>
    e.or([e('resident_id', '=', residentId), ...(contacts.length ? [e.and([e('resident_id', 'is', null), e('normalised_to', 'in', contacts)])] : [])]);
}
