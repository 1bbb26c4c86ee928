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
import type { ResidentsService, ResidentView } from '../residents/index.js';
import { quietUntil } from '../residents/index.js';
import type { Channel } from './messaging.schema.js';
import { cancelWhereConsentEnded, channelChain, contactFor, numbersOf } from './resident-sending.js';

export const EXPAND_JOB = 'messaging.campaign_expand';
/** Rows made into notifications per transaction. */
export const CHUNK = 5000;
export const MAX_ROWS = 1_000_000;
const MAX_REPORTED = 100;

/** Residents subscribed to a topic in any of some areas or at any of some sites. */
export interface CampaignAudience {
  topic: string;
  areaIds?: string[];
  siteIds?: string[];
}

/**
 * A campaign is either a file of recipients for one template (`templateId`, `csv`), or an
 * audience of residents (`audience`, `templates`), each sent on the channel they prefer for the
 * topic, in their language, with the values in `personalisation` and their own ((name)).
 */
export interface CampaignInput {
  name: string;
  /** messages a minute; none: as fast as delivery goes */
  ratePerMinute?: number;
  templateId?: string;
  csv?: string;
  audience?: CampaignAudience;
  /** a template for each channel the messages may go on */
  templates?: Partial<Record<Channel, string>>;
  personalisation?: Record<string, string>;
  /** urgent messages (a school closed today) are not held by residents' quiet hours */
  urgent?: boolean;
}

/** What an audience campaign needs of the residents module. */
export type CampaignResidents = Pick<ResidentsService, 'channelsFor' | 'audienceIds' | 'getMany' | 'consentEndedFor' | 'consentEndedSince' | 'topics'>;

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
  /** an audience campaign's residents, templates by channel, shared values and urgency; null for a file */
  audience: { topic: string; areaIds: string[]; siteIds: string[] } | null;
  templates: Partial<Record<string, { id: string; version: number }>> | null;
  personalisation: Record<string, string> | null;
  urgent: boolean;
  /** residents reached on none of the campaign's channels (no contact point, or opted out) */
  skippedCount: number;
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
    private readonly residents: CampaignResidents,
  ) {
    this.repo = new CampaignsRepository(db);
    jobs.register(EXPAND_JOB, (p: { id: string }) => this.expand(p.id), { maxAttempts: 10 });
  }

  /** Checks the file against the template; saves a draft only when every row is right. */
  async create(actor: Actor, serviceId: string, input: CampaignInput, origin: Origin = {}): Promise<CampaignView> {
    const service = await this.messaging.getService(serviceId);
    if (input.audience) return this.createForAudience(actor, service, input, input.audience, origin);
    if (!input.templateId || !input.csv || input.templates) throw messagingErrors.CAMPAIGN_INVALID('Give either a template and a file of recipients, or an audience and a template for each channel.');
    const template = await this.messaging.getTemplate(input.templateId);
    if (template.service_id !== service.id) throw messagingErrors.TEMPLATE_NOT_FOUND();
    const file = this.check(template, input.csv, service);
    const row = draftRow(actor, service.id, input, template, file.count, NOT_AN_AUDIENCE);
    return this.saveDraft(actor, row, input.csv, `Checked ${file.count} recipients for campaign ${row.name}`, origin);
  }

  /** A checked draft and its list, saved with its audit row. */
  private async saveDraft(actor: Actor, row: CampaignsTable, list: string, summary: string, origin: Origin): Promise<CampaignView> {
    await this.db.transaction(async (trx) => {
      await this.repo.insert(row, list, trx);
      await this.audit.record({ actor, action: 'messaging.campaign_create', summary, targetType: 'campaign', targetId: row.id, ...origin }, trx);
    });
    return this.get(row.id);
  }

  /**
   * An audience campaign: every template checked (its service, its channel, the values it needs),
   * then the residents the audience comes to are fixed, in order, as the campaign's list; a
   * draft waits to be started like any other.
   */
  private async createForAudience(actor: Actor, service: { id: string; name: string }, input: CampaignInput, audience: CampaignAudience, origin: Origin): Promise<CampaignView> {
    if (input.csv || input.templateId) throw messagingErrors.CAMPAIGN_INVALID('Give either a template and a file of recipients, or an audience and a template for each channel, not both.');
    const templates = await this.audienceTemplates(service.id, input.templates ?? {}, input.personalisation ?? {});
    const target = { topic: audience.topic, areaIds: [...new Set(audience.areaIds ?? [])], siteIds: [...new Set(audience.siteIds ?? [])] };
    const ids: string[] = [];
    for await (const page of this.residents.audienceIds(target)) {
      for (const id of page) ids.push(id);
      if (ids.length > MAX_ROWS) throw messagingErrors.CAMPAIGN_INVALID(`The audience is more than ${MAX_ROWS} residents: a campaign can have at most ${MAX_ROWS}.`);
    }
    if (!ids.length) throw messagingErrors.CAMPAIGN_AUDIENCE_EMPTY();
    const first = Object.values(templates)[0] as TemplateRow;
    const row = draftRow(actor, service.id, input, first, ids.length, {
      audience_json: target,
      templates_json: Object.fromEntries(Object.entries(templates).map(([channel, t]) => [channel, { id: t.id, version: t.version }])),
      personalisation_json: input.personalisation ?? {},
      is_urgent: input.urgent ?? false,
      skipped_count: 0,
    });
    return this.saveDraft(actor, row, ids.join('\n'), `Found ${ids.length} residents subscribed to ${target.topic} for campaign ${row.name}`, origin);
  }

  /** Each channel's template: the service's, of that channel, and given every value it needs but the resident's name and address. */
  private async audienceTemplates(serviceId: string, byChannel: Partial<Record<Channel, string>>, personalisation: Record<string, string>): Promise<Partial<Record<Channel, TemplateRow>>> {
    const out: Partial<Record<Channel, TemplateRow>> = {};
    const errors: FieldError[] = [];
    const given = new Set([
      ...Object.entries(personalisation)
        .filter(([, v]) => String(v).trim())
        .map(([k]) => placeholderKey(k)),
      'name',
    ]);
    for (const [channel, id] of Object.entries(byChannel) as [Channel, string][]) {
      const template = /^[0-9a-f-]{36}$/i.test(id) ? await this.messaging.currentTemplate(id.toLowerCase()) : undefined;
      if (!template || template.service_id !== serviceId) {
        errors.push({ field: `templates.${channel}`, message: 'Choose a template of this service' });
        continue;
      }
      if (template.type !== channel) {
        errors.push({ field: `templates.${channel}`, message: `Choose a ${channel} template for ${channel}: this one is for ${template.type}` });
        continue;
      }
      const missing = sharedValuesFor(template).filter((n) => !given.has(placeholderKey(n)));
      if (missing.length) errors.push({ field: `templates.${channel}`, message: `Give a value for ${missing.map((m) => `((${m}))`).join(', ')}: every message needs it` });
      out[channel] = template;
    }
    if (!Object.keys(byChannel).length) errors.push({ field: 'templates', message: 'Choose a template for at least one channel' });
    if (errors.length) throw messagingErrors.CAMPAIGN_INVALID(errors.map((e) => e.message).join('. '), errors);
    return out;
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
    let sent = 0;
    for (const type of c.templates ? Object.keys(c.templates) : [template.type]) sent += await this.messaging.repo.countSentSince(service.id, today, type);
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
    const file = await this.repo.file(id);
    if (file === undefined) return;
    const service = (await this.messaging.serviceForAuth(first.service_id))?.row;
    if (!service) return;
    const make = first.audience_json ? await this.audienceMaker(first, file, service.name) : await this.fileMaker(first, file, service.name);
    const total = first.recipient_count;
    for (;;) {
      const c = await this.repo.find(id);
      if (c?.status !== 'sending' || c.created_count >= total) break;
      const start = c.created_count;
      const end = Math.min(total, start + CHUNK);
      const now = new Date();
      const { made, skipped } = await make(c, start, end, now);
      await this.db.transaction(async (trx) => {
        const fresh = await this.repo.find(id, trx);
        if (fresh?.status !== 'sending' || fresh.created_count !== start) return;
        await this.messaging.repo.insertNotifications(made, trx);
        const done = end >= total;
        await this.repo.update(id, { created_count: end, skipped_count: fresh.skipped_count + skipped, updated_at: now, ...(done ? { status: 'sent', finished_at: now } : {}) }, trx);
        if (done) await this.repo.dropFile(id, trx);
      });
      // The chunk read its residents' consents after `now`: only what ended since needs a look.
      if (first.audience_json) await cancelWhereConsentEnded(this.messaging, this.residents, residentsOf(made), (first.audience_json as { topic: string }).topic, now);
      this.messaging.onQueued();
    }
  }

  /**
   * Makes a file's rows start to end into notifications: one pass over the file, started again
   * only if someone else moved the count.
   */
  private async fileMaker(first: CampaignsTable, csv: string, serviceName: string): Promise<ChunkMaker> {
    const template = await this.messaging.getTemplate(first.template_id, first.template_version);
    const columns = headerOf(csv).map((h) => h.trim());
    const recipientAt = recipientIndex(template, columns);
    const noOptOuts = template.type === 'email' || template.type === 'letter';
    let rows = recipientRows(csv);
    let at = 0;
    return async (c, start, end, now) => {
      if (at > start) {
        rows = recipientRows(csv);
        at = 0;
      }
      for (; at < start; at++) rows.next();
      const made: NotificationsTable[] = [];
      for (; at < end; at++) made.push(this.notification(c, template, serviceName, columns, recipientAt, rows.next().value as string[], at + 1, now));
      const blocked = noOptOuts ? new Set<string>() : await this.messaging.repo.optedOut(made.map((n) => n.normalised_to));
      for (const n of made) {
        if (!blocked.has(n.normalised_to)) continue;
        Object.assign(n, { status: 'permanent-failure', status_reason: 'The recipient opted out: they replied STOP.', next_attempt_at: null, completed_at: now });
      }
      return { made, skipped: 0 };
    };
  }

  /**
   * Makes residents start to end of an audience campaign's list into notifications, each on the
   * first channel they prefer for the topic that the campaign has a template for and they can be
   * reached on, the others kept to fall back on; in their language; held by their quiet hours
   * unless urgent. A resident reached on none (or erased since) is counted as skipped.
   */
  private async audienceMaker(first: CampaignsTable, list: string, serviceName: string): Promise<ChunkMaker> {
    const ids = list.split('\n');
    const pinned = Object.entries(first.templates_json ?? {}) as [Channel, { id: string; version: number }][];
    const templates = new Map<string, TemplateRow>();
    for (const [channel, t] of pinned) templates.set(channel, await this.messaging.getTemplate(t.id, t.version));
    const byChannel = Object.fromEntries(pinned.map(([channel, t]) => [channel, t.id])) as Partial<Record<Channel, string>>;
    const topic = (first.audience_json as { topic: string }).topic;
    return async (c, start, end, now) => {
      const residents = await this.residents.getMany(ids.slice(start, end));
      const optedOut = await this.messaging.repo.optedOut(residents.flatMap(numbersOf));
      const made: NotificationsTable[] = [];
      let skipped = end - start - residents.length;
      const position = new Map(ids.slice(start, end).map((id, i) => [id, start + i + 1]));
      for (const resident of residents) {
        const n = this.residentNotification(c, resident, topic, channelChain(this.residents, resident, topic, byChannel, optedOut), templates, serviceName, position.get(resident.id) as number, now);
        if (n) made.push(n);
        else skipped++;
      }
      return { made, skipped };
    };
  }

  private residentNotification(
    c: CampaignsTable,
    resident: ResidentView,
    topic: string,
    chain: { channel: Channel; templateId: string }[],
    templates: Map<string, TemplateRow>,
    serviceName: string,
    rowNumber: number,
    now: Date,
  ): NotificationsTable | undefined {
    if (!chain.length) return undefined;
    const [step, ...rest] = chain;
    const template = templates.get(step.channel) as TemplateRow;
    const contact = contactFor(resident, step.channel);
    if (!contact) return undefined;
    const personalisation = { ...(c.personalisation_json ?? {}), name: resident.name };
    const rendered = this.messaging.renderToStore(template, personalisation, resident.language, { name: serviceName }, contact.address);
    if (rendered.problem || rendered.missing.length) return undefined;
    const row = notificationRow(
      {
        serviceId: c.service_id,
        keyId: null,
        keyType: 'normal',
        template,
        recipient: contact.recipient,
        normalisedTo: contact.normalised,
        address: contact.address ?? null,
        personalisation,
        rendered,
        language: resident.language,
        scheduledFor: c.is_urgent ? null : quietUntil(resident, now),
        residentId: resident.id,
        topic,
        fallback: rest,
        campaignId: c.id,
        rowNumber,
        createdByName: c.created_by,
      },
      now,
    );
    if (c.rate_per_minute) row.next_attempt_at = new Date(Math.max(row.next_attempt_at?.getTime() ?? now.getTime(), rateSlot(c, rowNumber, now)));
    return row;
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
    const rendered = this.messaging.renderToStore(template, personalisation, 'en', { name: serviceName }, address ?? undefined);
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
    if (c.rate_per_minute) row.next_attempt_at = new Date(rateSlot(c, rowNumber, now));
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
      const r = this.messaging.renderToStore(template, personalisationOf(plan.columns, cells), 'en', service);
      if (r.problem) return r.problem;
    }
    return undefined;
  }
}

/** Makes rows start to end of a campaign into notifications; `skipped` counts rows that make none. */
type ChunkMaker = (c: CampaignsTable, start: number, end: number, now: Date) => Promise<{ made: NotificationsTable[]; skipped: number }>;

/** A new draft: its list checked, nothing made yet. */
function draftRow(
  actor: Actor,
  serviceId: string,
  input: CampaignInput,
  template: TemplateRow,
  count: number,
  audience: Pick<CampaignsTable, 'audience_json' | 'templates_json' | 'personalisation_json' | 'is_urgent' | 'skipped_count'>,
): CampaignsTable {
  const now = new Date();
  return {
    id: newId(),
    service_id: serviceId,
    template_id: template.id,
    template_version: template.version,
    name: input.name.trim(),
    status: 'draft',
    recipient_count: count,
    created_count: 0,
    rate_per_minute: input.ratePerMinute ?? null,
    scheduled_for_at: null,
    created_by: actor.label,
    created_at: now,
    started_at: null,
    finished_at: null,
    updated_at: now,
    ...audience,
  };
}

/** A campaign's fields that a file of recipients leaves empty. */
const NOT_AN_AUDIENCE = { audience_json: null, templates_json: null, personalisation_json: null, is_urgent: false, skipped_count: 0 };

/** When a rate-limited campaign's row is due: a minute's worth a minute from the start. */
function rateSlot(c: CampaignsTable, rowNumber: number, now: Date): number {
  return Math.max(now.getTime(), (c.started_at ?? now).getTime() + Math.floor(((rowNumber - 1) * 60_000) / (c.rate_per_minute as number)));
}

interface RowPlan {
  columns: string[];
  required: { name: string; at: number }[];
  fixedSmsLength: number;
}

/**
 * The values an audience campaign gives every message of a template: its placeholders (English
 * and Welsh) but the resident's ((name)), a letter's address and optional-content flags.
 */
export function sharedValuesFor(template: TemplateRow): string[] {
  const optional = optionalKeys(template);
  return placeholders([template.subject ?? '', template.body, template.subject_cy ?? '', template.body_cy ?? '']).filter((n) => {
    const key = placeholderKey(n);
    return key !== 'name' && !optional.has(key) && !(template.type === 'letter' && isAddressKey(key));
  });
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
    audience: r.audience_json,
    templates: r.templates_json,
    personalisation: r.personalisation_json,
    urgent: !!r.is_urgent,
    skippedCount: r.skipped_count ?? 0,
  };
}

/** The residents a chunk of notifications goes to. */
const residentsOf = (rows: NotificationsTable[]) => rows.flatMap((r) => (r.resident_id ? [r.resident_id] : []));
