import type { Actor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import type { FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import { CsvError, csvRows, isBlankRow } from '../../platform/csv.js';
import { type CampaignsTable, CampaignsRepository } from './campaigns.repository.js';
import { messagingErrors } from './messaging.errors.js';
import type { NotificationsTable, TemplateRow } from './messaging.repository.js';
import { type MessagingService, notificationRow, type Origin } from './messaging.service.js';
import { checkEmail, checkPhone } from './recipients.js';
import { addressLinesFromPersonalisation, checkPostalAddress, placeholderKey, placeholders, SMS_CHAR_COUNT_LIMIT } from './render/index.js';

export const EXPAND_JOB = 'messaging.campaign_expand';
/** Rows made into notifications per transaction. */
export const CHUNK = 5000;
export const MAX_ROWS = 1_000_000;
const MAX_REPORTED = 100;

export interface CampaignInput {
  templateId: string;
  name: string;
  csv: string;
  /** messages a minute; none: as fast as delivery goes */
  ratePerMinute?: number;
}

export interface CampaignView {
  id: string;
  serviceId: string;
  templateId: string;
  templateVersion: number;
  name: string;
  status: string;
  recipientCount: number;
  createdCount: number;
  ratePerMinute: number | null;
  scheduledFor: Date | null;
  createdBy: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** notifications by status */
  progress: Record<string, number>;
}

const RECIPIENT_COLUMN: Record<string, string> = { email: 'email address', sms: 'phone number', voice: 'phone number', rcs: 'phone number' };

interface CheckedFile {
  header: string[];
  /** rows of recipients (blank lines not counted) */
  count: number;
}

/**
 * Campaigns: a template sent to every row of a CSV. The file is checked whole first, as Notify
 * checks a spreadsheet: every row, errors by row number, nothing saved unless it is clean. Then
 * a draft waits to be started (now or at a time); a job turns rows into notifications in chunks,
 * each chunk and the campaign's count in one transaction, so a crash repeats no row and loses
 * none. Pause holds what has not gone; resume releases it; cancel stops it for good.
 */
export class Campaigns {
  readonly repo: CampaignsRepository;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly messaging: MessagingService,
    private readonly jobs: JobQueue,
  ) {
    this.repo = new CampaignsRepository(db);
    jobs.register(EXPAND_JOB, (p: { id: string }) => this.expand(p.id), { maxAttempts: 10 });
  }

  /** Checks the file against the template; saves a draft only when every row is right. */
  async create(actor: Actor, serviceId: string, input: CampaignInput, origin: Origin = {}): Promise<CampaignView> {
    const service = await this.messaging.getService(serviceId);
    const template = await this.messaging.getTemplate(input.templateId);
    if (template.service_id !== service.id) throw messagingErrors.TEMPLATE_NOT_FOUND();
    const file = this.check(template, input.csv, service);
    const now = new Date();
    const row: CampaignsTable = {
      id: newId(),
      service_id: service.id,
      template_id: template.id,
      template_version: template.version,
      name: input.name.trim(),
      status: 'draft',
      recipient_count: file.count,
      created_count: 0,
      rate_per_minute: input.ratePerMinute ?? null,
      scheduled_for_at: null,
      created_by: actor.label,
      created_at: now,
      started_at: null,
      finished_at: null,
      updated_at: now,
    };
    await this.db.transaction(async (trx) => {
      await this.repo.insert(row, input.csv, trx);
      await this.audit.record(
        { actor, action: 'messaging.campaign_create', summary: `Checked ${file.count} recipients for campaign ${row.name}`, targetType: 'campaign', targetId: row.id, ...origin },
        trx,
      );
    });
    return this.get(row.id);
  }

  async get(id: string): Promise<CampaignView> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.find(id.toLowerCase()) : undefined;
    if (!row) throw messagingErrors.CAMPAIGN_NOT_FOUND();
    return toView(row, await this.repo.progress(row.id));
  }

  async list(serviceId?: string): Promise<CampaignView[]> {
    return (await this.repo.list(serviceId)).map((r) => toView(r, {}));
  }

  /** Starts a draft now, or at `scheduledFor`. Refused if it would take the service past its daily limit. */
  async start(actor: Actor, id: string, scheduledFor: Date | null = null, origin: Origin = {}): Promise<CampaignView> {
    const c = await this.get(id);
    if (c.status !== 'draft') throw messagingErrors.CAMPAIGN_STATE(`This campaign is ${c.status}: only a draft can be started.`);
    const service = await this.messaging.getService(c.serviceId);
    const template = await this.messaging.getTemplate(c.templateId, c.templateVersion);
    const today = new Date(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    const sent = await this.messaging.repo.countSentSince(service.id, today, template.type);
    if (!scheduledFor && sent + c.recipientCount > service.dailyLimit)
      throw messagingErrors.CAMPAIGN_OVER_DAILY_LIMIT(
        `Sending ${c.recipientCount} messages would take ${service.name} past its daily limit of ${service.dailyLimit} (${sent} sent today). Schedule it for another day or send fewer.`,
      );
    const now = new Date();
    const at = scheduledFor && scheduledFor > now ? scheduledFor : null;
    // The job is queued in the same transaction: a started campaign always has one to carry it on.
    await this.db.transaction(async (trx) => {
      await this.repo.update(c.id, { status: at ? 'scheduled' : 'sending', scheduled_for_at: at, started_at: at ? null : now, updated_at: now }, trx);
      await this.jobs.enqueue(EXPAND_JOB, { id: c.id }, { runAt: at ?? now, idempotencyKey: `campaign:${c.id}:start`, executor: trx });
      await this.audit.record(
        {
          actor,
          action: 'messaging.campaign_start',
          summary: at ? `Scheduled campaign ${c.name} for ${at.toISOString()}` : `Started campaign ${c.name}`,
          targetType: 'campaign',
          targetId: c.id,
          ...origin,
        },
        trx,
      );
    });
    this.jobs.wake();
    return this.get(c.id);
  }

  async pause(actor: Actor, id: string, origin: Origin = {}): Promise<CampaignView> {
    const c = await this.get(id);
    if (c.status !== 'sending' && c.status !== 'scheduled' && c.status !== 'sent') throw messagingErrors.CAMPAIGN_STATE(`This campaign is ${c.status}: only a campaign that is sending can be paused.`);
    await this.db.transaction(async (trx) => {
      await this.repo.update(c.id, { status: 'paused', updated_at: new Date() }, trx);
      await this.repo.hold(c.id, trx);
      await this.audit.record({ actor, action: 'messaging.campaign_pause', summary: `Paused campaign ${c.name}`, targetType: 'campaign', targetId: c.id, ...origin }, trx);
    });
    return this.get(c.id);
  }

  /** Releases what pause held; a campaign paused before its time goes back to waiting for it. */
  async resume(actor: Actor, id: string, origin: Origin = {}): Promise<CampaignView> {
    const c = await this.get(id);
    if (c.status !== 'paused') throw messagingErrors.CAMPAIGN_STATE(`This campaign is ${c.status}: only a paused campaign can be resumed.`);
    const now = new Date();
    const expanded = c.createdCount >= c.recipientCount;
    const later = !c.startedAt && c.scheduledFor && c.scheduledFor > now ? c.scheduledFor : null;
    const status = expanded ? 'sent' : later ? 'scheduled' : 'sending';
    await this.db.transaction(async (trx) => {
      await this.repo.update(c.id, { status, started_at: later ? null : (c.startedAt ?? now), updated_at: now }, trx);
      await this.repo.release(c.id, now, c.ratePerMinute, trx);
      if (!expanded) await this.jobs.enqueue(EXPAND_JOB, { id: c.id }, { runAt: later ?? now, idempotencyKey: `campaign:${c.id}:resume:${now.getTime()}`, executor: trx });
      await this.audit.record({ actor, action: 'messaging.campaign_resume', summary: `Resumed campaign ${c.name}`, targetType: 'campaign', targetId: c.id, ...origin }, trx);
    });
    this.jobs.wake();
    this.messaging.onQueued();
    return this.get(c.id);
  }

  async cancel(actor: Actor, id: string, origin: Origin = {}): Promise<CampaignView> {
    const c = await this.get(id);
    if (c.status === 'cancelled') return c;
    const now = new Date();
    let cancelled = 0;
    await this.db.transaction(async (trx) => {
      await this.repo.update(c.id, { status: 'cancelled', finished_at: now, updated_at: now }, trx);
      cancelled = await this.repo.cancelUnsent(c.id, now, trx);
      await this.repo.dropFile(c.id, trx);
      await this.audit.record({ actor, action: 'messaging.campaign_cancel', summary: `Cancelled campaign ${c.name} (${cancelled} not sent)`, targetType: 'campaign', targetId: c.id, ...origin }, trx);
    });
    return this.get(c.id);
  }

  /**
   * The job: makes the campaign's rows into notifications, CHUNK at a time, from where it got to.
   * Stops when the campaign is paused or cancelled; a retry after a crash carries on.
   */
  async expand(id: string): Promise<void> {
    const first = await this.repo.find(id);
    if (!first || (first.status !== 'sending' && first.status !== 'scheduled')) return;
    if (first.status === 'scheduled') await this.repo.update(id, { status: 'sending', started_at: new Date(), updated_at: new Date() });
    const csv = await this.repo.file(id);
    if (csv === undefined) return;
    const service = (await this.messaging.serviceForAuth(first.service_id))?.row;
    const template = await this.messaging.getTemplate(first.template_id, first.template_version);
    if (!service) return;
    const columns = headerOf(csv).map((h) => h.trim());
    const recipientAt = recipientIndex(template, columns);
    const optedOut = template.type === 'email' || template.type === 'letter' ? new Set<string>() : undefined;
    const total = first.recipient_count;
    // One pass over the file, a chunk at a time; started again only if someone else moved the count.
    let rows = recipientRows(csv);
    let at = 0;
    for (;;) {
      const c = await this.repo.find(id);
      if (c?.status !== 'sending' || c.created_count >= total) break;
      const start = c.created_count;
      if (at > start) {
        rows = recipientRows(csv);
        at = 0;
      }
      for (; at < start; at++) rows.next();
      const end = Math.min(total, start + CHUNK);
      const now = new Date();
      const made: NotificationsTable[] = [];
      for (; at < end; at++) made.push(this.notification(c, template, service.name, columns, recipientAt, rows.next().value as string[], at + 1, now));
      const blocked = optedOut ?? (await this.messaging.repo.optedOut(made.map((n) => n.normalised_to)));
      for (const n of made) {
        if (!blocked.has(n.normalised_to)) continue;
        Object.assign(n, { status: 'permanent-failure', status_reason: 'The recipient opted out: they replied STOP.', next_attempt_at: null, completed_at: now });
      }
      await this.db.transaction(async (trx) => {
        const fresh = await this.repo.find(id, trx);
        if (fresh?.status !== 'sending' || fresh.created_count !== start) return;
        await this.messaging.repo.insertNotifications(made, trx);
        const done = end >= total;
        await this.repo.update(id, { created_count: end, updated_at: now, ...(done ? { status: 'sent', finished_at: now } : {}) }, trx);
        if (done) await this.repo.dropFile(id, trx);
      });
      this.messaging.onQueued();
    }
  }

  private notification(c: CampaignsTable, template: TemplateRow, serviceName: string, columns: string[], recipientAt: number[], cells: string[], rowNumber: number, now: Date): NotificationsTable {
    const personalisation = personalisationOf(columns, cells);
    let recipient: string;
    let normalised: string;
    let address: string[] | null = null;
    if (template.type === 'letter') {
      const check = checkPostalAddress(addressLinesFromPersonalisation(personalisation));
      address = check.lines;
      recipient = check.lines[0] ?? '';
      normalised = check.lines.join(', ').toLowerCase();
    } else {
      recipient = (cells[recipientAt[0]] ?? '').trim();
      const checked = template.type === 'email' ? checkEmail(recipient) : checkPhone(recipient);
      normalised = checked.ok ? checked.normalised : recipient;
    }
    const rendered = this.messaging.render(template, personalisation, 'en', { name: serviceName }, address ?? undefined);
    const row = notificationRow(
      {
        serviceId: c.service_id,
        keyId: null,
        keyType: 'normal',
        template,
        recipient,
        normalisedTo: normalised,
        address,
        personalisation,
        rendered,
        campaignId: c.id,
        rowNumber,
        createdByName: c.created_by,
      },
      now,
    );
    if (c.rate_per_minute) row.next_attempt_at = new Date(Math.max(now.getTime(), (c.started_at ?? now).getTime() + Math.floor(((rowNumber - 1) * 60_000) / c.rate_per_minute)));
    return row;
  }

  /** Every row checked before anything is saved; errors named by row, as a person counts them (the header is row 1). */
  check(template: TemplateRow, csv: string, service: { name: string }): CheckedFile {
    let header: string[];
    try {
      header = headerOf(csv);
    } catch (err) {
      if (err instanceof CsvError) throw messagingErrors.CAMPAIGN_CSV_INVALID(`Row ${err.row}: ${err.message}`);
      throw err;
    }
    const columns = header.map((h) => h.trim());
    const keys = new Set(columns.map(placeholderKey));
    const needed = placeholders([template.subject ?? '', template.body]);
    const problems: string[] = [];
    const recipientAt = recipientIndex(template, columns);
    if (template.type !== 'letter' && recipientAt[0] === -1) problems.push(`The file needs a column called ‘${RECIPIENT_COLUMN[template.type]}’.`);
    if (template.type === 'letter' && !keys.has('addressline1')) problems.push('The file needs address columns: ‘address line 1’, ‘address line 2’ and so on, and ‘postcode’.');
    const missingColumns = needed.filter((n) => !keys.has(placeholderKey(n)) && !isAddressKey(placeholderKey(n)));
    if (missingColumns.length) problems.push(`The file needs ${missingColumns.length === 1 ? 'a column' : 'columns'} for ${missingColumns.map((m) => `‘${m}’`).join(', ')}.`);
    if (problems.length)
      throw messagingErrors.CAMPAIGN_CSV_INVALID(
        problems.join(' '),
        problems.map((message) => ({ field: 'file', message })),
      );
    const plan = this.plan(template, columns);
    const errors: FieldError[] = [];
    let count = 0;
    let rows = 0;
    try {
      for (const cells of recipientRows(csv)) {
        rows++;
        if (rows > MAX_ROWS) throw messagingErrors.CAMPAIGN_CSV_INVALID(`The file has more than ${MAX_ROWS} rows: a campaign can have at most ${MAX_ROWS}.`);
        const message = this.rowProblem(template, plan, recipientAt, cells, service);
        if (!message) continue;
        count++;
        if (errors.length < MAX_REPORTED) errors.push({ field: `row ${rows + 1}`, message: `Row ${rows + 1}: ${message}` });
      }
    } catch (err) {
      if (err instanceof CsvError) throw messagingErrors.CAMPAIGN_CSV_INVALID(`Row ${err.row}: ${err.message}`);
      throw err;
    }
    if (!rows) throw messagingErrors.CAMPAIGN_CSV_INVALID('The file has no rows of recipients.');
    if (count)
      throw messagingErrors.CAMPAIGN_CSV_INVALID(
        `The file has ${count} ${count === 1 ? 'row' : 'rows'} with a problem${count > errors.length ? ` (the first ${errors.length} are listed)` : ''}. Nothing was saved: correct them and upload the file again.`,
        errors,
      );
    return { header, count: rows };
  }

  /** What every row is checked against, worked out once per file. */
  private plan(template: TemplateRow, columns: string[]): RowPlan {
    const optional = optionalKeys(template);
    const required: { name: string; at: number }[] = [];
    for (const name of placeholders([template.subject ?? '', template.body])) {
      const at = columns.findIndex((c) => placeholderKey(c) === placeholderKey(name));
      if (at !== -1 && !optional.has(placeholderKey(name))) required.push({ name, at });
    }
    // A text message whose fixed words plus every value cannot pass the limit needs no rendering to check.
    const fixed = template.body.replace(/\(\([^()]*\)\)/g, '').length;
    return { columns, required, fixedSmsLength: template.type === 'sms' ? fixed : 0 };
  }

  private rowProblem(template: TemplateRow, plan: RowPlan, recipientAt: number[], cells: string[], service: { name: string }): string | undefined {
    if (template.type === 'letter') {
      const check = checkPostalAddress(addressLinesFromPersonalisation(personalisationOf(plan.columns, cells)));
      if (!check.ok) return check.errors[0];
    } else {
      const to = (cells[recipientAt[0]] ?? '').trim();
      if (!to) return `${RECIPIENT_COLUMN[template.type]}: Missing`;
      const checked = template.type === 'email' ? checkEmail(to) : checkPhone(to);
      if (!checked.ok) return `${RECIPIENT_COLUMN[template.type]}: ${checked.message}`;
    }
    const empty = plan.required.filter((r) => !(cells[r.at] ?? '').trim()).map((r) => r.name);
    if (empty.length) return `${empty.join(', ')}: Missing`;
    if (template.type === 'sms') {
      let longest = plan.fixedSmsLength;
      for (const c of cells) longest += c.length;
      if (plan.fixedSmsLength > 0 && longest <= SMS_CHAR_COUNT_LIMIT) return undefined;
      const r = this.messaging.render(template, personalisationOf(plan.columns, cells), 'en', service);
      if (r.problem) return r.problem;
    }
    return undefined;
  }
}

interface RowPlan {
  columns: string[];
  required: { name: string; at: number }[];
  fixedSmsLength: number;
}

/** Placeholders used only as optional-content flags, ((flag??text)): an empty value just hides the text. */
function optionalKeys(template: TemplateRow): Set<string> {
  const text = `${template.subject ?? ''}\n${template.body}`;
  const flags = new Set([...text.matchAll(/\(\(([^()]+?)\?\?/g)].map((m) => placeholderKey(m[1])));
  const plain = new Set([...text.matchAll(/\(\(([^()?]+)\)\)/g)].map((m) => placeholderKey(m[1])));
  return new Set([...flags].filter((f) => !plain.has(f)));
}

function personalisationOf(columns: string[], cells: string[]): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  for (let j = 0; j < columns.length; j++) p[columns[j]] = cells[j] ?? '';
  return p;
}

function isAddressKey(key: string): boolean {
  return /^addressline[1-7]$/.test(key) || key === 'postcode';
}

function recipientIndex(template: TemplateRow, columns: string[]): number[] {
  if (template.type === 'letter') return [];
  const want = placeholderKey(RECIPIENT_COLUMN[template.type]);
  return [columns.findIndex((c) => placeholderKey(c) === want)];
}

/** The header: the file's first line that is not blank. */
function headerOf(csv: string): string[] {
  for (const row of csvRows(csv)) if (!isBlankRow(row)) return row;
  return [];
}

/** The rows after the header, blank lines skipped. */
function* recipientRows(csv: string): Generator<string[]> {
  let header = true;
  for (const row of csvRows(csv)) {
    if (isBlankRow(row)) continue;
    if (header) header = false;
    else yield row;
  }
}

function toView(r: CampaignsTable, progress: Record<string, number>): CampaignView {
  return {
    id: r.id,
    serviceId: r.service_id,
    templateId: r.template_id,
    templateVersion: r.template_version,
    name: r.name,
    status: r.status,
    recipientCount: r.recipient_count,
    createdCount: r.created_count,
    ratePerMinute: r.rate_per_minute,
    scheduledFor: r.scheduled_for_at,
    createdBy: r.created_by,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    progress,
  };
}
