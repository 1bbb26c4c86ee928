import { type Actor, systemActor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import type { Db } from '../../platform/db/database.js';
import { addDays, daysBetween, isDay, londonDay } from '../../platform/dates.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { JobQueue } from '../../platform/jobs/index.js';
import { formatDate } from '../../platform/web/i18n.js';
import type { EstateService } from '../estate/index.js';
import type { Campaigns, MessagingService } from '../messaging/index.js';
import { type CollectionChangesTable, type CollectionRoundsTable, WasteRepository } from './waste.repository.js';
import type { ChangeInput, Collection, RoundInput, RoundView } from './waste.schema.js';
import { wasteErrors } from './waste.errors.js';

export const REMINDERS_JOB = 'waste.reminders';
const TOPIC = 'bin-collections';
/** A reminder claimed but not yet made (a run cut short): the next run makes it. */
const IN_PROGRESS = -1;

export const WASTE_SERVICE = { name: 'Waste and recycling', smsSender: 'BINS' };
export const REMINDER_TEMPLATES = [
  {
    name: 'Collection reminder (text)',
    type: 'sms' as const,
    body: 'Reminder: ((bin)) is collected on ((date)). Please put it out by 7am.',
    bodyCy: 'Nodyn atgoffa: caiff ((bin_cy)) ei gasglu ar ((date_cy)). Rhowch ef allan erbyn 7am.',
  },
  {
    name: 'Collection reminder (email)',
    type: 'email' as const,
    subject: 'Bin collection on ((date)): ((bin))',
    body: 'Dear ((name)),\n\n((bin)) is collected on ((date)).\n\nPlease put it out by 7am.((moved?? The day has changed this week: ((reason)).))',
    subjectCy: 'Casglu biniau ar ((date_cy)): ((bin_cy))',
    bodyCy: 'Annwyl ((name)),\n\nCaiff ((bin_cy)) ei gasglu ar ((date_cy)).\n\nRhowch ef allan erbyn 7am.((moved?? Mae’r diwrnod wedi newid yr wythnos hon: ((reason)).))',
  },
  {
    name: 'Collection reminder (voice call)',
    type: 'voice' as const,
    body: 'This is the council. ((bin)) is collected on ((date)). Please put it out by 7am.',
    bodyCy: 'Y cyngor sydd yma. Caiff ((bin_cy)) ei gasglu ar ((date_cy)). Rhowch ef allan erbyn 7am.',
  },
];

/**
 * Bin collections. A round serves some areas, empties one bin, on a weekday every one to four
 * weeks from a first collection day; single days move (bank holidays). Each evening the
 * reminders job finds the rounds collecting tomorrow and sends the residents subscribed to bin
 * collections in their areas a reminder on their channel, in their language (not in their quiet
 * hours): one campaign a round a day, never two.
 */
export class WasteService {
  readonly repo: WasteRepository;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    jobs: JobQueue,
    private readonly estate: Pick<EstateService, 'listAreas'>,
    private readonly messaging: MessagingService,
    private readonly campaigns: Campaigns,
  ) {
    this.repo = new WasteRepository(db);
    jobs.register(REMINDERS_JOB, (p: { day?: string } | null) => this.remind(p?.day ?? addDays(londonDay(new Date()), 1)).then(() => undefined));
  }

  async createRound(actor: Actor, input: RoundInput, origin: Origin = {}): Promise<RoundView> {
    await this.checkRound(input);
    const now = new Date();
    const row: CollectionRoundsTable = {
      id: newId(now.getTime()),
      name: input.name.trim(),
      bin: input.bin.trim(),
      bin_cy: input.binCy?.trim() || null,
      area_ids_json: input.areaIds.map((id) => id.toLowerCase()),
      first_day: input.firstDay,
      every_weeks: input.everyWeeks,
      is_enabled: input.enabled ?? true,
      created_at: now,
      updated_at: now,
    };
    await this.db.transaction(async (trx) => {
      await this.repo.insertRound(row, trx);
      await this.audit.record({ actor, action: 'waste.round_create', summary: `Added the collection round ${row.name}`, targetType: 'collection_round', targetId: row.id, ...origin }, trx);
    });
    return this.round(row.id);
  }

  async updateRound(actor: Actor, id: string, input: RoundInput, origin: Origin = {}): Promise<RoundView> {
    const before = await this.round(id);
    await this.checkRound(input);
    await this.db.transaction(async (trx) => {
      await this.repo.updateRound(
        before.id,
        {
          name: input.name.trim(),
          bin: input.bin.trim(),
          bin_cy: input.binCy?.trim() || null,
          area_ids_json: input.areaIds.map((a) => a.toLowerCase()),
          first_day: input.firstDay,
          every_weeks: input.everyWeeks,
          is_enabled: input.enabled ?? before.enabled,
          updated_at: new Date(),
        },
        trx,
      );
      await this.audit.record({ actor, action: 'waste.round_update', summary: `Changed the collection round ${input.name}`, targetType: 'collection_round', targetId: before.id, ...origin }, trx);
    });
    return this.round(before.id);
  }

  async round(id: string): Promise<RoundView> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.findRound(id.toLowerCase()) : undefined;
    if (!row) throw wasteErrors.ROUND_NOT_FOUND();
    return toView(row, await this.repo.changes([row.id]));
  }

  async rounds(): Promise<RoundView[]> {
    const [rows, changes] = await Promise.all([this.repo.rounds(), this.repo.changes()]);
    return rows.map((r) =>
      toView(
        r,
        changes.filter((c) => c.round_id === r.id),
      ),
    );
  }

  /** Moves one collection day (a bank holiday): the usual day must be one of the round's. */
  async moveCollection(actor: Actor, roundId: string, input: ChangeInput, origin: Origin = {}): Promise<RoundView> {
    const round = await this.round(roundId);
    const errors: FieldError[] = [];
    if (!isDay(input.usualDay) || !isUsualDay(round, input.usualDay))
      errors.push({ field: 'usualDay', message: `Choose a day the round collects on: it comes every ${round.everyWeeks === 1 ? 'week' : `${round.everyWeeks} weeks`} from ${round.firstDay}` });
    if (!isDay(input.movedTo)) errors.push({ field: 'movedTo', message: 'The new day must be a real date' });
    else if (isDay(input.usualDay) && Math.abs(daysBetween(input.usualDay, input.movedTo)) > 7) errors.push({ field: 'movedTo', message: 'The new day must be within a week of the usual one' });
    if (errors.length) throw wasteErrors.COLLECTION_CHANGE_INVALID(undefined, errors);
    await this.db.transaction(async (trx) => {
      await this.repo.putChange({ round_id: round.id, usual_day: input.usualDay, moved_to: input.movedTo, reason: input.reason?.trim() || null }, trx);
      await this.audit.record(
        { actor, action: 'waste.collection_move', summary: `Moved ${round.name}’s collection of ${input.usualDay} to ${input.movedTo}`, targetType: 'collection_round', targetId: round.id, ...origin },
        trx,
      );
    });
    return this.round(round.id);
  }

  async unmoveCollection(actor: Actor, roundId: string, usualDay: string, origin: Origin = {}): Promise<RoundView> {
    const round = await this.round(roundId);
    await this.db.transaction(async (trx) => {
      if (!(await this.repo.deleteChange(round.id, usualDay, trx))) throw wasteErrors.COLLECTION_CHANGE_NOT_FOUND();
      await this.audit.record(
        { actor, action: 'waste.collection_unmove', summary: `Put ${round.name}’s collection of ${usualDay} back`, targetType: 'collection_round', targetId: round.id, ...origin },
        trx,
      );
    });
    return this.round(round.id);
  }

  /** What is collected on a day, across every round turned on: usual days not moved away, and days moved to it. */
  async collectionsOn(day: string): Promise<Collection[]> {
    const out: Collection[] = [];
    for (const round of (await this.rounds()).filter((r) => r.enabled)) {
      const moved = round.changes.find((c) => c.usualDay === day);
      if (isUsualDay(round, day) && !moved) out.push({ roundId: round.id, round: round.name, bin: round.bin, day, usualDay: day, reason: null });
      for (const c of round.changes.filter((ch) => ch.movedTo === day)) out.push({ roundId: round.id, round: round.name, bin: round.bin, day, usualDay: c.usualDay, reason: c.reason });
    }
    return out;
  }

  /** A round's next collections from a day, moves applied: for the console and the portal. */
  async upcoming(roundId: string, from: string, count = 6): Promise<Collection[]> {
    const round = await this.round(roundId);
    const out: Collection[] = [];
    let usual = firstUsualOnOrAfter(round, addDays(from, -7));
    while (out.length < count) {
      const moved = round.changes.find((c) => c.usualDay === usual);
      const day = moved?.movedTo ?? usual;
      if (day >= from) out.push({ roundId: round.id, round: round.name, bin: round.bin, day, usualDay: usual, reason: moved?.reason ?? null });
      usual = addDays(usual, 7 * round.everyWeeks);
    }
    return out.sort((a, b) => a.day.localeCompare(b.day));
  }

  /**
   * The reminders job: for each round collecting on `day`, a campaign to the residents subscribed
   * to bin collections in its areas, claimed first so two runs make one. Returns the reminders made.
   */
  async remind(day: string): Promise<{ roundId: string; campaignId: string | null; residents: number }[]> {
    const made: { roundId: string; campaignId: string | null; residents: number }[] = [];
    const collections = await this.collectionsOn(day);
    if (!collections.length) return made;
    const actor = systemActor('bin collection reminders');
    const { service, templates } = await this.messaging.ensureService(actor, WASTE_SERVICE, REMINDER_TEMPLATES);
    const byChannel = Object.fromEntries(REMINDER_TEMPLATES.map((t) => [t.type, templates.get(t.name)?.id as string]));
    const when = new Date(`${day}T12:00:00Z`);
    for (const c of collections) {
      const existing = await this.repo.findReminder(c.roundId, day);
      if (existing && existing.residents !== IN_PROGRESS) continue;
      if (!existing && !(await this.repo.claimReminder({ round_id: c.roundId, collection_day: day, campaign_id: null, residents: IN_PROGRESS, created_at: new Date() }))) continue;
      const round = await this.round(c.roundId);
      let campaignId: string | null = null;
      let residents = 0;
      try {
        const campaign = await this.campaigns.create(actor, service.id, {
          name: `${round.name}: ${round.bin} on ${day}`,
          audience: { topic: TOPIC, areaIds: round.areaIds },
          templates: byChannel,
          personalisation: {
            bin: round.bin,
            bin_cy: round.binCy ?? round.bin,
            date: formatDate('en', when),
            date_cy: formatDate('cy', when),
            moved: c.usualDay !== c.day ? 'yes' : '',
            reason: c.reason ?? 'a bank holiday',
          },
        });
        await this.campaigns.start(actor, campaign.id);
        campaignId = campaign.id;
        residents = campaign.recipientCount;
      } catch (err) {
        if (!(err instanceof AppError && err.code === 'CAMPAIGN_AUDIENCE_EMPTY')) throw err;
      }
      await this.repo.setReminder(c.roundId, day, { campaign_id: campaignId, residents });
      made.push({ roundId: c.roundId, campaignId, residents });
    }
    return made;
  }

  private async checkRound(input: RoundInput): Promise<void> {
    const errors: FieldError[] = [];
    const known = new Set((await this.estate.listAreas()).map((a) => a.id));
    if (input.areaIds.some((id) => !known.has(id.toLowerCase()))) errors.push({ field: 'areaIds', message: 'Choose areas from the estate’s list' });
    if (!isDay(input.firstDay)) errors.push({ field: 'firstDay', message: 'The first collection day must be a real date' });
    if (!input.name.trim()) errors.push({ field: 'name', message: 'Enter a name for the round' });
    if (!input.bin.trim()) errors.push({ field: 'bin', message: 'Enter the bin the round empties' });
    if (errors.length) throw wasteErrors.ROUND_INVALID(undefined, errors);
  }
}

function toView(r: CollectionRoundsTable, changes: CollectionChangesTable[]): RoundView {
  return {
    id: r.id,
    name: r.name,
    bin: r.bin,
    binCy: r.bin_cy,
    areaIds: r.area_ids_json,
    firstDay: r.first_day,
    everyWeeks: r.every_weeks,
    enabled: !!r.is_enabled,
    changes: changes.map((c) => ({ usualDay: c.usual_day, movedTo: c.moved_to, reason: c.reason })),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function isUsualDay(round: Pick<RoundView, 'firstDay' | 'everyWeeks'>, day: string): boolean {
  const d = daysBetween(round.firstDay, day);
  return d >= 0 && d % (7 * round.everyWeeks) === 0;
}

function firstUsualOnOrAfter(round: Pick<RoundView, 'firstDay' | 'everyWeeks'>, day: string): string {
  const period = 7 * round.everyWeeks;
  const d = daysBetween(round.firstDay, day);
  return d <= 0 ? round.firstDay : addDays(round.firstDay, Math.ceil(d / period) * period);
}
