import { type Actor, systemActor } from '../../platform/auth/actor.js';
import type { Logger } from '../../services.js';
import type { MessagingService, NotifySending } from '../messaging/index.js';
import type { TeamView } from '../requests/index.js';
import type { StaffService } from '../staff/index.js';
import type { Db } from '../../platform/db/database.js';
import { EscalationRepository } from './escalation.repository.js';
import type { StepChannel } from './escalation.schema.js';
import type { AlarmsTable } from './rules.repository.js';

/** The built-in messaging service staff alarms go out from; staff may reword its templates in the console. */
export const ALARMS_SERVICE = { name: 'Alarms', smsSender: 'ALARMS' };
export const ALARM_TEMPLATES = {
  email: {
    name: 'Alarm for staff (email)',
    type: 'email' as const,
    subject: '((severity)) alarm: ((rule))',
    body: '((message))\n\nWhere: ((subject))\nRaised: ((raised))\n\n((note))\n\nSee the alarm and acknowledge it: ((link))',
  },
  sms: {
    name: 'Alarm for staff (text)',
    type: 'sms' as const,
    body: '((severity)) alarm: ((message)) ((note)) Acknowledge: ((link))',
  },
};

/** Whom to tell: one member of staff, all of a team (its email address), or whoever is on call for a team. */
export type StaffTarget = { kind: 'user'; userId: string } | { kind: 'team'; teamId: string } | { kind: 'on_call'; teamId: string };

export interface Recipient {
  /** who, for the alarm's history: "Sam Carer (on call for Care)" */
  label: string;
  email: string | null;
  phone: string | null;
}

export interface StaffAlertsDeps {
  messaging: MessagingService;
  notify: NotifySending;
  staff: Pick<StaffService, 'getUser'>;
  teams: () => Promise<TeamView[]>;
  db: Db;
  publicUrl: string;
  log: Logger;
}

const LONDON = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'medium', timeStyle: 'short' });
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Tells staff of an alarm by email or text, from the built-in "Alarms" messaging service (made
 * once with `ensureService`). Staff accounts have an email address and no mobile: texts go to
 * the mobile of an on-call shift, and anyone without one is emailed instead.
 */
export class StaffAlerts {
  private ready?: Promise<{ actor: Actor; templates: Record<StepChannel, string> }>;
  private readonly rotas: EscalationRepository;

  constructor(private readonly deps: StaffAlertsDeps) {
    this.rotas = new EscalationRepository(deps.db);
  }

  /** The people a target names at a moment; `missing` says why there is nobody. */
  async resolve(target: StaffTarget, at: Date): Promise<{ recipients: Recipient[]; missing?: string }> {
    if (target.kind === 'user') return this.user(target.userId, at, '');
    const team = (await this.deps.teams()).find((t) => t.id === target.teamId);
    if (!team) return { recipients: [], missing: `there is no team ${target.teamId}` };
    if (target.kind === 'on_call') {
      const shift = await this.rotas.shiftAt(team.id, at);
      if (shift) {
        const found = await this.user(shift.user_id, at, ` (on call for ${team.name})`);
        if (found.recipients.length) return { recipients: found.recipients.map((r) => ({ ...r, phone: shift.phone ?? r.phone })) };
      }
    }
    if (!team.email) return { recipients: [], missing: `nobody is on call for ${team.name} and the team has no email address` };
    return { recipients: [{ label: `${team.name} (${team.email})`, email: team.email, phone: null }] };
  }

  /** Sends the alarm to each recipient on the channel (a text only where there is a mobile); returns who was told how. */
  async send(alarm: AlarmsTable, recipients: Recipient[], channel: StepChannel, note: string): Promise<string[]> {
    const { actor, templates } = await this.setup();
    const personalisation = {
      severity: capital(alarm.severity),
      rule: alarm.rule_name,
      message: alarm.message,
      subject: alarm.subject_name ?? alarm.subject_id,
      raised: LONDON.format(alarm.raised_at),
      note,
      link: `${this.deps.publicUrl}/console/alarms/${alarm.id}`,
    };
    const told: string[] = [];
    for (const r of recipients) {
      const by: StepChannel | undefined = channel === 'sms' && r.phone ? 'sms' : r.email ? 'email' : undefined;
      if (!by) continue;
      try {
        await this.deps.notify.send(actor, { channel: by, templateId: templates[by], to: by === 'sms' ? (r.phone as string) : (r.email as string), personalisation, reference: `alarm-${alarm.id}` });
        told.push(`${r.label} by ${by === 'sms' ? 'text' : 'email'}`);
      } catch (err) {
        // A number that replied STOP, or an address Notify's checks refuse: nothing a retry would change.
        const code = (err as { code?: string }).code ?? '';
        if (!code.startsWith('NOTIFY_')) throw err;
        this.deps.log.warn({ alarm: alarm.id, code }, 'rules: a member of staff could not be sent an alarm');
      }
    }
    return told;
  }

  private async user(id: string, at: Date, why: string): Promise<{ recipients: Recipient[]; missing?: string }> {
    const user = await this.deps.staff.getUser(id).catch(() => undefined);
    if (!user?.is_active) return { recipients: [], missing: `there is no active member of staff ${id}` };
    const shift = await this.rotas.shiftOfUserAt(id, at);
    return { recipients: [{ label: `${user.name}${why}`, email: user.email, phone: shift?.phone ?? null }] };
  }

  private setup(): Promise<{ actor: Actor; templates: Record<StepChannel, string> }> {
    this.ready ??= this.deps.messaging.ensureService(systemActor('weft alarms'), ALARMS_SERVICE, Object.values(ALARM_TEMPLATES)).then(
      ({ service, templates }) => ({
        actor: { ...systemActor('weft alarms'), serviceId: service.id, keyType: 'normal' },
        templates: { email: templates.get(ALARM_TEMPLATES.email.name)?.id as string, sms: templates.get(ALARM_TEMPLATES.sms.name)?.id as string },
      }),
      (err) => {
        this.ready = undefined;
        throw err;
      },
    );
    return this.ready;
  }
}
