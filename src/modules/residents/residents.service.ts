import type { Actor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import type { FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { checkEmail, checkPhone } from '../messaging/recipients.js';
import { type ResidentRow, ResidentsRepository } from './residents.repository.js';
import { residentsErrors } from './residents.errors.js';
import type { ContactChannel, ResidentInput, ResidentView } from './residents.schema.js';

export interface Origin {
  ip?: string;
  requestId?: string;
}

/** The order channels are tried in when a resident has said nothing for a topic. */
export const DEFAULT_CHANNELS: ContactChannel[] = ['email', 'sms', 'letter'];
const UK_TIME = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/**
 * Residents as the council reaches them: contact points, language, accessibility needs, quiet
 * hours and preferred channels per topic. Every change, and every look at a record by staff, is
 * audited; the audit keeps no contact details.
 */
export class ResidentsService {
  readonly repo: ResidentsRepository;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
  ) {
    this.repo = new ResidentsRepository(db);
  }

  async create(actor: Actor, input: ResidentInput, origin: Origin = {}): Promise<ResidentView> {
    const fields = checked(input);
    const now = new Date();
    const id = newId();
    await this.db.transaction(async (trx) => {
      await this.repo.insert(
        {
          id,
          name: input.name.trim(),
          email: fields.email ?? null,
          mobile: fields.mobile ?? null,
          landline: fields.landline ?? null,
          address_json: input.address?.map((l) => l.trim()) ?? null,
          language: input.language ?? 'en',
          is_large_print: input.largePrint ?? false,
          is_voice_preferred: input.prefersVoice ?? false,
          quiet_from: input.quietFrom ?? null,
          quiet_to: input.quietTo ?? null,
          created_at: now,
          updated_at: now,
        },
        trx,
      );
      await this.repo.replacePreferences(id, input.preferences ?? {}, trx);
      await this.audit.record({ actor, action: 'residents.create', summary: 'Added a resident', targetType: 'resident', targetId: id, ...origin }, trx);
    });
    return this.get(id);
  }

  async update(actor: Actor, id: string, input: ResidentInput, origin: Origin = {}): Promise<ResidentView> {
    const before = await this.get(id);
    const fields = checked(input);
    await this.db.transaction(async (trx) => {
      await this.repo.update(
        before.id,
        {
          name: input.name.trim(),
          email: fields.email ?? null,
          mobile: fields.mobile ?? null,
          landline: fields.landline ?? null,
          address_json: input.address?.map((l) => l.trim()) ?? null,
          language: input.language ?? before.language,
          is_large_print: input.largePrint ?? before.largePrint,
          is_voice_preferred: input.prefersVoice ?? before.prefersVoice,
          quiet_from: input.quietFrom === undefined ? before.quietFrom : input.quietFrom,
          quiet_to: input.quietTo === undefined ? before.quietTo : input.quietTo,
          updated_at: new Date(),
        },
        trx,
      );
      if (input.preferences) await this.repo.replacePreferences(before.id, input.preferences, trx);
      // Which fields changed, never their values: the audit log is not a copy of personal data.
      await this.audit.record({ actor, action: 'residents.update', summary: 'Changed a resident’s details', targetType: 'resident', targetId: before.id, changes: Object.keys(input), ...origin }, trx);
    });
    return this.get(before.id);
  }

  async get(id: string): Promise<ResidentView> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.find(id.toLowerCase()) : undefined;
    if (!row) throw residentsErrors.RESIDENT_NOT_FOUND();
    return toView(row, (await this.repo.preferences(row.id)) as Record<string, ContactChannel[]>);
  }

  /** A staff member looking at a resident's record: audited. */
  async view(actor: Actor, id: string, origin: Origin = {}): Promise<ResidentView> {
    const resident = await this.get(id);
    await this.audit.record({ actor, action: 'residents.view', summary: 'Looked at a resident’s record', targetType: 'resident', targetId: resident.id, ...origin });
    return resident;
  }

  async search(actor: Actor, text: string | undefined, limit = 50, origin: Origin = {}): Promise<ResidentView[]> {
    const rows = await this.repo.search(text?.trim() || undefined, Math.min(Math.max(limit, 1), 200));
    await this.audit.record({ actor, action: 'residents.search', summary: `Searched residents (${rows.length} found)`, targetType: 'resident', ...origin });
    return rows.map((r) => toView(r, {}));
  }

  /** The channels to try for a topic, in the resident's order; the default order when they have none. */
  channelsFor(resident: ResidentView, topic: string | undefined): ContactChannel[] {
    const chosen = (topic && resident.preferences[topic]) || resident.preferences['*'] || (resident.prefersVoice ? ['voice', ...DEFAULT_CHANNELS] : DEFAULT_CHANNELS);
    return [...chosen];
  }
}

/**
 * When a message that is not urgent may go: now, or the end of the resident's quiet hours (UK
 * time; a span past midnight, 21:00 to 08:00, works). On the night the clocks change it can be an
 * hour out.
 */
export function quietUntil(resident: Pick<ResidentView, 'quietFrom' | 'quietTo'>, now: Date): Date | null {
  if (!resident.quietFrom || !resident.quietTo || resident.quietFrom === resident.quietTo) return null;
  const [h, m] = UK_TIME.format(now).split(':').map(Number);
  const minute = h * 60 + m;
  const from = minutesOf(resident.quietFrom);
  const to = minutesOf(resident.quietTo);
  const quiet = from < to ? minute >= from && minute < to : minute >= from || minute < to;
  if (!quiet) return null;
  const wait = (to - minute + 1440) % 1440;
  return new Date(now.getTime() - (now.getTime() % 60_000) + wait * 60_000);
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

function checked(input: ResidentInput): { email?: string | null; mobile?: string | null; landline?: string | null } {
  const errors: FieldError[] = [];
  const out: { email?: string | null; mobile?: string | null; landline?: string | null } = {};
  if (input.email) {
    const c = checkEmail(input.email);
    if (c.ok) out.email = c.normalised;
    else errors.push({ field: 'email', message: 'Enter an email address in the correct format, like name@example.com' });
  }
  if (input.mobile) {
    const c = checkPhone(input.mobile);
    if (c.ok) out.mobile = c.normalised;
    else errors.push({ field: 'mobile', message: 'Enter a UK mobile number, like 07700 900 982' });
  }
  if (input.landline) {
    const digits = input.landline.replace(/[\s()-]/g, '');
    if (/^(\+44|0)[1-9]\d{8,9}$/.test(digits)) out.landline = digits.replace(/^0/, '+44');
    else errors.push({ field: 'landline', message: 'Enter a UK phone number, like 01632 960 001' });
  }
  if ((input.quietFrom && !input.quietTo) || (!input.quietFrom && input.quietTo)) errors.push({ field: 'quietTo', message: 'Give both the start and the end of quiet hours' });
  if (errors.length) throw residentsErrors.RESIDENT_INVALID(undefined, errors);
  return out;
}

function toView(r: ResidentRow, preferences: Record<string, ContactChannel[]>): ResidentView {
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    mobile: r.mobile,
    landline: r.landline,
    address: r.address_json,
    language: r.language === 'cy' ? 'cy' : 'en',
    largePrint: r.is_large_print,
    prefersVoice: r.is_voice_preferred,
    quietFrom: r.quiet_from,
    quietTo: r.quiet_to,
    preferences,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
