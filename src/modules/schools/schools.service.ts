import { type Actor, systemActor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import type { Db } from '../../platform/db/database.js';
import { londonDay } from '../../platform/dates.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import { formatDate } from '../../platform/web/i18n.js';
import type { EstateService } from '../estate/index.js';
import type { Campaigns, MessagingService } from '../messaging/index.js';
import type { ClosureInput, ClosureView } from './schools.schema.js';
import { type ClosedSchool, type SchoolClosuresTable, SchoolsRepository } from './schools.repository.js';
import { schoolsErrors } from './schools.errors.js';

export const ANNOUNCE_JOB = 'schools.announce';
const TOPIC = 'school-closures';
const MAX_DAYS_AHEAD = 60;
const DAY_MS = 86_400_000;

/** The messaging service and templates closures are sent with: made once, then the council's to word as it likes. */
export const CLOSURE_SERVICE = { name: 'School closures', smsSender: 'SCHOOLS' };
export const CLOSURE_TEMPLATES = [
  {
    name: 'School closed (text)',
    type: 'sms' as const,
    body: '((school)) is closed on ((date)): ((reason)). Please keep children at home.',
    bodyCy: 'Mae ((school)) ar gau ar ((date_cy)): ((reason_cy)). Cadwch y plant gartref.',
  },
  {
    name: 'School closed (email)',
    type: 'email' as const,
    subject: '((school)) is closed on ((date))',
    body: 'Dear ((name)),\n\n((school)) is closed on ((date)).\n\n^ ((reason))\n\nPlease keep children at home. We will tell you when it opens again.',
    subjectCy: 'Mae ((school)) ar gau ar ((date_cy))',
    bodyCy: 'Annwyl ((name)),\n\nMae ((school)) ar gau ar ((date_cy)).\n\n^ ((reason_cy))\n\nCadwch y plant gartref. Byddwn yn rhoi gwybod i chi pan fydd yn ailagor.',
  },
  {
    name: 'School closed (voice call)',
    type: 'voice' as const,
    body: 'This is a message from the council. ((school)) is closed on ((date)) because ((reason)). Please keep children at home.',
    bodyCy: 'Neges gan y cyngor yw hon. Mae ((school)) ar gau ar ((date_cy)) oherwydd ((reason_cy)). Cadwch y plant gartref.',
  },
];

/**
 * School closures. An officer names schools, a day and a reason; a durable job makes a campaign
 * for each school to the residents subscribed to it (for the school, or within their distance
 * of it), urgent so quiet hours do not hold it, and starts it at once. The closure's page adds
 * up every school's progress.
 */
export class SchoolsService {
  readonly repo: SchoolsRepository;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly jobs: JobQueue,
    private readonly estate: Pick<EstateService, 'listSites'>,
    private readonly messaging: MessagingService,
    private readonly campaigns: Campaigns,
  ) {
    this.repo = new SchoolsRepository(db);
    jobs.register(ANNOUNCE_JOB, (p: { id: string }) => this.announce(p.id), { maxAttempts: 10 });
  }

  /** Records the closure and queues its announcement in one transaction; the job tells everyone. */
  async close(actor: Actor, input: ClosureInput, origin: Origin = {}, now = new Date()): Promise<ClosureView> {
    const schools = await this.checked(input, now);
    const row: SchoolClosuresTable = {
      id: newId(now.getTime()),
      closed_on: input.closedOn,
      reason: input.reason.trim(),
      reason_cy: input.reasonCy?.trim() || null,
      schools_json: schools.map((s) => ({ siteId: s.id, name: s.name, campaignId: null, subscribers: null })),
      status: 'announcing',
      created_by: actor.label,
      created_at: now,
      announced_at: null,
    };
    await this.db.transaction(async (trx) => {
      await this.repo.insert(row, trx);
      await this.jobs.enqueue(ANNOUNCE_JOB, { id: row.id }, { idempotencyKey: `schools.announce:${row.id}`, executor: trx });
      const names = schools.map((s) => s.name).join(', ');
      await this.audit.record({ actor, action: 'schools.close', summary: `Closed ${names} on ${row.closed_on}`, targetType: 'school_closure', targetId: row.id, ...origin }, trx);
    });
    this.jobs.wake();
    return this.get(row.id);
  }

  /**
   * The job: a campaign a school, made and started. Run again after a crash it carries on: a
   * school with a campaign already is only started if it is still a draft.
   */
  async announce(id: string): Promise<void> {
    const closure = await this.repo.find(id);
    if (!closure || closure.status === 'announced') return;
    // The campaigns carry the officer's name; the job acts for them.
    const actor = systemActor(closure.created_by);
    const { service, templates } = await this.messaging.ensureService(actor, CLOSURE_SERVICE, CLOSURE_TEMPLATES);
    const byChannel = Object.fromEntries(CLOSURE_TEMPLATES.map((t) => [t.type, templates.get(t.name)?.id as string]));
    const when = new Date(`${closure.closed_on}T12:00:00Z`);
    const schools: ClosedSchool[] = closure.schools_json.map((s) => ({ ...s }));
    for (const school of schools) {
      if (!school.campaignId) {
        try {
          const c = await this.campaigns.create(actor, service.id, {
            name: `${school.name} closed on ${closure.closed_on}`,
            audience: { topic: TOPIC, siteIds: [school.siteId] },
            templates: byChannel,
            personalisation: {
              school: school.name,
              date: formatDate('en', when),
              date_cy: formatDate('cy', when),
              reason: closure.reason,
              reason_cy: closure.reason_cy ?? closure.reason,
            },
            urgent: true,
          });
          school.campaignId = c.id;
          school.subscribers = c.recipientCount;
        } catch (err) {
          if (!(err instanceof AppError && err.code === 'CAMPAIGN_AUDIENCE_EMPTY')) throw err;
          school.subscribers = 0;
        }
        await this.repo.setSchools(closure.id, schools);
      }
      if (school.campaignId && (await this.campaigns.get(school.campaignId)).status === 'draft') await this.campaigns.start(actor, school.campaignId);
    }
    await this.repo.markAnnounced(closure.id, new Date());
  }

  async get(id: string): Promise<ClosureView> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.find(id.toLowerCase()) : undefined;
    if (!row) throw schoolsErrors.CLOSURE_NOT_FOUND();
    return this.toView(row);
  }

  async list(limit = 50): Promise<ClosureView[]> {
    return Promise.all((await this.repo.list(limit)).map((r) => this.toView(r, false)));
  }

  /** Closures from today on, soonest first: the portal's planned closures. */
  async upcoming(now = new Date(), limit = 50): Promise<ClosureView[]> {
    return Promise.all((await this.repo.from(londonDay(now), limit)).map((r) => this.toView(r, false)));
  }

  /** Every school a school, and a real day from today to MAX_DAYS_AHEAD ahead. */
  private async checked(input: ClosureInput, now: Date) {
    const errors: FieldError[] = [];
    const ids = [...new Set(input.siteIds.map((id) => id.toLowerCase()))];
    const sites = ids.length ? await this.estate.listSites({ ids, type: 'school', limit: ids.length }) : [];
    if (!ids.length) errors.push({ field: 'siteIds', message: 'Choose at least one school' });
    else if (sites.length !== ids.length) errors.push({ field: 'siteIds', message: 'Choose schools from the list: one of them is not a school' });
    const day = new Date(`${input.closedOn}T00:00:00Z`);
    const today = londonDay(now);
    if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== input.closedOn) errors.push({ field: 'closedOn', message: 'The date must be a real date' });
    else if (input.closedOn < today) errors.push({ field: 'closedOn', message: 'The date must be today or in the future' });
    else if (day.getTime() - new Date(`${today}T00:00:00Z`).getTime() > MAX_DAYS_AHEAD * DAY_MS) errors.push({ field: 'closedOn', message: `The date must be within ${MAX_DAYS_AHEAD} days` });
    if (!input.reason.trim()) errors.push({ field: 'reason', message: 'Enter the reason the school is closed' });
    if (errors.length) throw schoolsErrors.CLOSURE_INVALID(undefined, errors);
    return ids.map((id) => sites.find((s) => s.id === id) as (typeof sites)[number]);
  }

  private async toView(r: SchoolClosuresTable, withProgress = true): Promise<ClosureView> {
    const progress = { residents: 0, made: 0, skipped: 0, byStatus: {} as Record<string, number> };
    if (withProgress)
      for (const s of r.schools_json) {
        if (!s.campaignId) continue;
        const c = await this.campaigns.get(s.campaignId);
        progress.residents += c.recipientCount;
        progress.made += c.createdCount;
        progress.skipped += c.skippedCount;
        for (const [status, n] of Object.entries(c.progress)) progress.byStatus[status] = (progress.byStatus[status] ?? 0) + n;
      }
    return {
      id: r.id,
      closedOn: r.closed_on,
      reason: r.reason,
      reasonCy: r.reason_cy,
      status: r.status === 'announced' ? 'announced' : 'announcing',
      schools: r.schools_json,
      createdBy: r.created_by,
      createdAt: r.created_at,
      announcedAt: r.announced_at,
      progress,
    };
  }
}
