import type { Actor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db, Executor } from '../../platform/db/database.js';
import { isUniqueViolation } from '../../platform/db/dialect.js';
import { newId } from '../../platform/ids.js';
import type { Language } from '../../platform/web/i18n.js';
import type { ConsentsRepository, ResidentConsentsTable } from './consents.repository.js';
import { currentWording, NAMED_PURPOSES, topicOf, topicPurpose, wordingText } from './consents.wording.js';
import { residentsErrors } from './residents.errors.js';
import type { ResidentsRepository } from './residents.repository.js';
import type { ConsentView, ResidentView } from './residents.schema.js';
import type { Origin } from './residents.service.js';
import type { SubscriptionsRepository } from './subscriptions.repository.js';
import type { Topics } from './topics.service.js';

const TOPIC_PURPOSE = /^messages:[a-z0-9-]{1,60}$/;

/** Where a consent was given or withdrawn: the page or route the caller names, else what the actor is. */
export function sourceOf(actor: Actor, origin: Origin): string {
  if (origin.source) return origin.source.slice(0, 200);
  return actor.type === 'resident' ? 'portal' : actor.type === 'key' ? 'api' : actor.type === 'user' ? 'staff:console' : actor.type;
}

/**
 * Residents' consents: what they agreed to, on which words, when and where, and taking it back.
 * Subscribing to a topic, or choosing channels for one, gives consent to messages about it;
 * withdrawing that consent removes the topic's subscriptions and channel order, so audiences and
 * sending by preference leave the resident out (channelsFor gives no channel for a withdrawn topic).
 */
export class Consents {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly repo: ConsentsRepository,
    private readonly topics: Topics,
    private readonly subsRepo: SubscriptionsRepository,
    private readonly residentsRepo: ResidentsRepository,
  ) {}

  async list(residentId: string): Promise<ConsentView[]> {
    return (await this.repo.forResident(residentId)).map(toView);
  }

  /**
   * Records consent to messages about each topic that has none in force, within the caller's
   * transaction (a subscription or a channel order being saved); audited, naming the purposes.
   */
  async giveForTopics(actor: Actor, resident: Pick<ResidentView, 'id' | 'language'>, topics: string[], origin: Origin, trx: Executor): Promise<void> {
    const wanted = [...new Set(topics.filter((t) => t !== '*').map(topicPurpose))];
    const held = await this.repo.inForce(resident.id, wanted, trx);
    const rows = await this.rows(
      resident,
      wanted.filter((p) => !held.has(p)),
      sourceOf(actor, origin),
      trx,
    );
    await this.repo.insert(rows, trx);
    for (const row of rows) await this.recordGiven(actor, resident.id, row, origin, trx);
  }

  /** Staff (or a system) recording a consent the resident gave them: a named purpose or messages:<topic>. Giving one in force again changes nothing. */
  async give(actor: Actor, resident: ResidentView, purpose: string, origin: Origin): Promise<ConsentView> {
    await this.checkPurpose(purpose);
    const [row] = await this.rows(resident, [purpose], sourceOf(actor, origin), this.db.k);
    try {
      await this.db.transaction(async (trx) => {
        if ((await this.repo.inForce(resident.id, [purpose], trx)).size) return;
        await this.repo.insert([row], trx);
        await this.recordGiven(actor, resident.id, row, origin, trx);
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    return (await this.list(resident.id)).find((c) => c.purpose === purpose && !c.withdrawnAt) as ConsentView;
  }

  /**
   * Withdraws a consent. For messages about a topic, the resident's subscriptions to it and
   * their channel order for it go too, in the same transaction; audited.
   */
  async withdraw(actor: Actor, resident: ResidentView, consentId: string, origin: Origin): Promise<ConsentView> {
    const row = /^[0-9a-f-]{36}$/i.test(consentId) ? await this.repo.find(resident.id, consentId.toLowerCase()) : undefined;
    if (!row) throw residentsErrors.CONSENT_NOT_FOUND();
    if (row.withdrawn_at) throw residentsErrors.CONSENT_WITHDRAWN();
    const topic = topicOf(row.purpose);
    await this.db.transaction(async (trx) => {
      if (!(await this.repo.withdraw(row.id, new Date(), sourceOf(actor, origin), trx))) throw residentsErrors.CONSENT_WITHDRAWN();
      const removed = topic ? await this.stopTopic(resident, topic, trx) : { subscriptions: 0, preference: false };
      await this.audit.record(
        {
          actor,
          action: 'residents.consent_withdraw',
          summary: `Withdrew a resident’s consent to ${row.purpose}`,
          targetType: 'resident',
          targetId: resident.id,
          changes: { consent: row.id, purpose: row.purpose, source: sourceOf(actor, origin), ...removed },
          ...origin,
        },
        trx,
      );
    });
    return toView((await this.repo.find(resident.id, row.id)) as ResidentConsentsTable);
  }

  /** The topic's subscriptions and channel order, removed. */
  private async stopTopic(resident: ResidentView, topic: string, trx: Executor): Promise<{ subscriptions: number; preference: boolean }> {
    const subscriptions = await this.subsRepo.deleteTopic(resident.id, topic, trx);
    const preference = await this.residentsRepo.deletePreference(resident.id, topic, trx);
    return { subscriptions, preference };
  }

  private async checkPurpose(purpose: string): Promise<void> {
    if ((NAMED_PURPOSES as readonly string[]).includes(purpose)) return;
    const topic = TOPIC_PURPOSE.test(purpose) ? (topicOf(purpose) as string) : '';
    const known = topic && (await this.topics.list()).some((t) => t.code === topic);
    if (!known) throw residentsErrors.CONSENT_INVALID(undefined, [{ field: 'purpose', message: `Give ${NAMED_PURPOSES.join(' or ')}, or messages:<topic> for one of the council’s topics` }]);
  }

  /** New consent rows, on the current words in the resident's language (the topic named as they see it); read within `ex`, the caller's transaction. */
  private async rows(resident: Pick<ResidentView, 'id' | 'language'>, purposes: string[], source: string, ex: Executor): Promise<ResidentConsentsTable[]> {
    if (!purposes.length) return [];
    const topics = new Map((await this.subsRepo.listTopics(ex)).map((t) => [t.code, { name: t.name, nameCy: t.name_cy }]));
    const lang: Language = resident.language;
    const now = new Date();
    return purposes.map((purpose) => {
      const code = topicOf(purpose) ?? '';
      const topic = topics.get(code);
      const name = (lang === 'cy' && topic?.nameCy) || topic?.name || code;
      const version = currentWording(purpose);
      return {
        id: newId(),
        resident_id: resident.id,
        purpose,
        wording_version: version,
        wording: wordingText(version, lang, name),
        language: lang,
        source,
        given_at: now,
        withdrawn_at: null,
        withdrawn_source: null,
      };
    });
  }

  private recordGiven(actor: Actor, residentId: string, row: ResidentConsentsTable, origin: Origin, trx: Executor): Promise<void> {
    return this.audit.record(
      {
        actor,
        action: 'residents.consent_give',
        summary: `Recorded a resident’s consent to ${row.purpose}`,
        targetType: 'resident',
        targetId: residentId,
        changes: { consent: row.id, purpose: row.purpose, wording: row.wording_version, source: row.source },
        ...origin,
      },
      trx,
    );
  }
}

export function toView(r: ResidentConsentsTable): ConsentView {
  return {
    id: r.id,
    purpose: r.purpose,
    topic: topicOf(r.purpose),
    wordingVersion: r.wording_version,
    wording: r.wording,
    language: r.language === 'cy' ? 'cy' : 'en',
    source: r.source,
    givenAt: r.given_at,
    withdrawnAt: r.withdrawn_at,
    withdrawnSource: r.withdrawn_source,
  };
}
