import type { Actor } from '../../platform/auth/actor.js';
import type { AuditEvent, AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import type { ConsentsRepository } from './consents.repository.js';
import { purposeName } from './consents.wording.js';
import type { ResidentsRepository } from './residents.repository.js';
import type { ConsentView, ContactEntry, ErasureReport, HeldData, ResidentDataHolder, ResidentKey, ResidentView, SubscriptionView, TopicView } from './residents.schema.js';
import type { Origin } from './residents.service.js';
import type { SubscriptionsRepository } from './subscriptions.repository.js';

/** What the rights need of the rest of the residents module. */
export interface RightsDeps {
  db: Db;
  audit: AuditService;
  residentsRepo: ResidentsRepository;
  subsRepo: SubscriptionsRepository;
  consentsRepo: ConsentsRepository;
  get(id: string): Promise<ResidentView>;
  subscriptions(resident: ResidentView): Promise<SubscriptionView[]>;
  consents(residentId: string): Promise<ConsentView[]>;
  topics(): Promise<TopicView[]>;
}

/** A subject access export: the residents module's own records, each holder's under its name, the audit rows about them, and a summary to read. */
export type ResidentExport = {
  format: 'weft-subject-access/1';
  exportedAt: Date;
  residentId: string;
  /** the export in plain English, line by line */
  summary: string[];
  resident: ResidentView;
  subscriptions: SubscriptionView[];
  consents: ConsentView[];
  audit: AuditRow[];
} & Record<string, unknown>;

interface AuditRow {
  at: Date;
  action: string;
  outcome: string;
  summary: string;
  /** you (the resident), staff, a council system, … : staff are not named */
  by: string;
  /** the address it came from, when it was the resident's own */
  ip: string | null;
}

const RESERVED = new Set(['format', 'exportedAt', 'residentId', 'summary', 'resident', 'subscriptions', 'consents', 'audit']);
const AUDIT_PAGE = 500;
const ACTORS: Record<string, string> = { user: 'staff', key: 'a council system', service: 'a council system', integration: 'a council system', system: 'Weft', anonymous: 'someone not signed in' };
const LONDON = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'long', timeStyle: 'short' });
export const london = (at: Date) => LONDON.format(at);

/** A resident's key for other modules: their id and the contact points things were sent to. */
export const keyOf = (r: ResidentView): ResidentKey => ({ id: r.id, email: r.email, mobile: r.mobile });

/**
 * Subject access and erasure: everything Weft holds about a resident, from this module and from
 * every module registered as a holder of residents' data, exported; or erased (personal data
 * removed or anonymised, counts kept), each holder in its own transaction and then the resident's
 * own record last, so an erasure cut short is finished by running it again. Both audited.
 */
export class ResidentRights {
  private readonly holders: ResidentDataHolder[] = [];

  constructor(private readonly deps: RightsDeps) {}

  register(...holders: ResidentDataHolder[]): void {
    for (const h of holders) {
      if (RESERVED.has(h.name) || this.holders.some((x) => x.name === h.name)) throw new Error(`A holder of residents’ data cannot be called ${h.name}`);
      this.holders.push(h);
    }
  }

  /** The names of the modules registered as holders. */
  holderNames(): string[] {
    return this.holders.map((h) => h.name);
  }

  async export(actor: Actor, residentId: string, origin: Origin = {}): Promise<ResidentExport> {
    const resident = await this.deps.get(residentId);
    const key = keyOf(resident);
    const [subscriptions, consents, audit, topics] = await Promise.all([this.deps.subscriptions(resident), this.deps.consents(resident.id), this.auditRows(resident.id), this.deps.topics()]);
    const held: Record<string, HeldData> = {};
    for (const h of this.holders) held[h.name] = await h.export(key);
    const exportedAt = new Date();
    const summary = [
      ...profileSummary(resident, exportedAt),
      ...subscriptionsSummary(subscriptions, topics),
      ...consentsSummary(consents, topics),
      ...Object.values(held).flatMap((h) => h.summary),
      `Records of who looked at or changed these details, and of signing in: ${audit.length}. Staff are not named in this export.`,
    ];
    await this.deps.audit.record({
      actor,
      action: 'residents.export',
      summary: 'Exported everything Weft holds about a resident (subject access)',
      targetType: 'resident',
      targetId: resident.id,
      changes: { modules: ['residents', ...Object.keys(held)] },
      ...origin,
    });
    return { format: 'weft-subject-access/1', exportedAt, residentId: resident.id, summary, resident, subscriptions, consents, ...held, audit };
  }

  async erase(actor: Actor, residentId: string, origin: Origin = {}): Promise<ErasureReport> {
    const resident = await this.deps.get(residentId);
    const key = keyOf(resident);
    const changed: Record<string, Record<string, number>> = {};
    // Each holder commits on its own and can run again: the resident's own record goes last, so
    // an erasure cut short still has the contact points the holders look things up by.
    for (const h of this.holders) changed[h.name] = await h.erase(key);
    const erasedAt = new Date();
    await this.deps.db.transaction(async (trx) => {
      const subscriptions = await this.deps.subsRepo.deleteAll(resident.id, trx);
      const consentsWithdrawn = await this.deps.consentsRepo.withdrawAll(resident.id, erasedAt, 'erasure', trx);
      const preferences = await this.deps.residentsRepo.anonymise(resident.id, erasedAt, trx);
      changed.residents = { resident: 1, subscriptions, preferences, consentsWithdrawn };
      await this.deps.audit.record(
        {
          actor,
          action: 'residents.erase',
          summary: 'Erased a resident’s personal data (the record stays, anonymised, for counts)',
          targetType: 'resident',
          targetId: resident.id,
          changes: changed,
          ...origin,
        },
        trx,
      );
    });
    return { residentId: resident.id, erasedAt, changed };
  }

  /** The resident's contact history, newest first: messages, requests, consents and signing in. */
  async history(resident: ResidentView, limit: number): Promise<ContactEntry[]> {
    const key = keyOf(resident);
    const [consents, topics, signIns] = await Promise.all([this.deps.consents(resident.id), this.deps.topics(), this.deps.audit.search({ targetId: resident.id, action: 'portal.sign_in', limit })]);
    const entries: ContactEntry[] = [...consentEntries(consents, topics), ...signIns.map(signInEntry)];
    for (const h of this.holders) if (h.history) entries.push(...(await h.history(key, limit)));
    return entries.sort((a, b) => b.at.getTime() - a.at.getTime()).slice(0, limit);
  }

  /** Every audit row about the resident or by them, newest first; staff unnamed. */
  private async auditRows(residentId: string): Promise<AuditRow[]> {
    const rows = new Map<string, AuditEvent>();
    for (const by of ['targetId', 'actorId'] as const) {
      let before: string | undefined;
      for (;;) {
        const page = await this.deps.audit.search(by === 'targetId' ? { targetId: residentId, before, limit: AUDIT_PAGE } : { actorId: residentId, before, limit: AUDIT_PAGE });
        for (const r of page) rows.set(r.id, r);
        if (page.length < AUDIT_PAGE) break;
        before = page[page.length - 1].id;
      }
    }
    return [...rows.values()]
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .map((r) => {
        const own = r.actor_type === 'resident' && r.actor_id === residentId;
        return { at: r.occurred_at, action: r.action, outcome: r.outcome, summary: r.summary, by: own ? 'you' : (ACTORS[r.actor_type] ?? r.actor_type), ip: own ? r.ip : null };
      });
  }
}

const CHANNELS: Record<string, string> = { email: 'email', sms: 'text message', voice: 'voice call', rcs: 'RCS message', letter: 'letter' };
const ukMobile = (m: string | null) => (m?.startsWith('44') ? `0${m.slice(2)}` : m);

function profileSummary(r: ResidentView, at: Date): string[] {
  const lines = [`Everything Weft held about resident ${r.id} on ${london(at)} (UK time).`];
  if (r.erasedAt) lines.push(`Their personal data was erased on ${london(r.erasedAt)}: what is left is kept only for counts.`);
  lines.push(
    `Name: ${r.name}. Email: ${r.email ?? 'none'}. Mobile: ${ukMobile(r.mobile) ?? 'none'}. Landline: ${r.landline ?? 'none'}.`,
    `Postal address: ${r.address?.join(', ') ?? 'none'}. Home: ${r.postcode ?? 'no postcode'}${r.location ? `, at ${r.location.lat}, ${r.location.lon}` : ''}.`,
    `Language: ${r.language === 'cy' ? 'Welsh' : 'English'}. Large print: ${r.largePrint ? 'yes' : 'no'}. Prefers voice calls: ${r.prefersVoice ? 'yes' : 'no'}. Quiet hours: ${r.quietFrom ? `${r.quietFrom} to ${r.quietTo}` : 'none'}.`,
  );
  const orders = Object.entries(r.preferences).map(([topic, channels]) => `${topic === '*' ? 'any other topic' : topic}: ${channels.map((c) => CHANNELS[c] ?? c).join(', then ')}`);
  lines.push(`Channel order: ${orders.length ? orders.join('; ') : 'the council’s usual order'}.`);
  lines.push(`Added on ${london(r.createdAt)}; last changed on ${london(r.updatedAt)}.`);
  return lines;
}

const topicName = (topics: TopicView[], code: string | null) => (code ? (topics.find((t) => t.code === code)?.name ?? code) : '');

function subscriptionsSummary(subs: SubscriptionView[], topics: TopicView[]): string[] {
  const where = (s: SubscriptionView) =>
    s.kind === 'home' ? 'where they live' : s.kind === 'area' ? `in ${s.areaName ?? 'an area'}` : s.kind === 'radius' ? `within ${s.radiusMetres} metres of home` : `at ${s.siteName ?? 'a place'}`;
  return [`Subscriptions: ${subs.length ? subs.map((s) => `${topicName(topics, s.topic)} ${where(s)}`).join('; ') : 'none'}.`];
}

function consentsSummary(consents: ConsentView[], topics: TopicView[]): string[] {
  if (!consents.length) return ['Consents: none recorded.'];
  return [
    `Consents: ${consents.length}, ${consents.filter((c) => !c.withdrawnAt).length} in force.`,
    ...consents.map(
      (c) =>
        `- ${purposeName(c.purpose, 'en', topicName(topics, c.topic))}: “${c.wording}”, given on ${london(c.givenAt)} through ${c.source}${c.withdrawnAt ? `, withdrawn on ${london(c.withdrawnAt)}` : ''}.`,
    ),
  ];
}

function consentEntries(consents: ConsentView[], topics: TopicView[]): ContactEntry[] {
  return consents.flatMap((c) => {
    const name = purposeName(c.purpose, 'en', topicName(topics, c.topic));
    const given: ContactEntry = {
      at: c.givenAt,
      kind: 'consent',
      title: `Consent given: ${name}`,
      detail: `“${c.wording}” (through ${c.source})`,
      status: c.withdrawnAt ? 'withdrawn' : 'in force',
      href: null,
    };
    if (!c.withdrawnAt) return [given];
    return [given, { at: c.withdrawnAt, kind: 'consent', title: `Consent withdrawn: ${name}`, detail: `Through ${c.withdrawnSource ?? 'unknown'}`, status: 'withdrawn', href: null }];
  });
}

function signInEntry(e: AuditEvent): ContactEntry {
  return { at: e.occurred_at, kind: 'sign-in', title: e.outcome === 'ok' ? 'Signed in to the portal' : 'A sign-in failed', detail: e.summary, status: e.outcome, href: null };
}
