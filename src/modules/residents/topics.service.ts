import type { Actor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import { isUniqueViolation } from '../../platform/db/dialect.js';
import type { FieldError } from '../../platform/errors.js';
import { residentsErrors } from './residents.errors.js';
import { TOPIC_PATTERN, type TopicInput, type TopicUpdate, type TopicView } from './residents.schema.js';
import type { Origin } from './residents.service.js';
import type { SubscriptionsRepository, TopicsTable } from './subscriptions.repository.js';

const CODE = new RegExp(TOPIC_PATTERN);

/**
 * The topics residents subscribe to, configured by staff (topics:manage). A topic is turned off,
 * never deleted: subscriptions and messages keep its code.
 */
export class Topics {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly repo: SubscriptionsRepository,
  ) {}

  async list(): Promise<TopicView[]> {
    return (await this.repo.listTopics()).map(toView);
  }

  async get(code: string): Promise<TopicView> {
    const row = CODE.test(code) ? await this.repo.findTopic(code) : undefined;
    if (!row) throw residentsErrors.TOPIC_NOT_FOUND();
    return toView(row);
  }

  async create(actor: Actor, input: TopicInput, origin: Origin = {}): Promise<TopicView> {
    const code = input.code.trim();
    const fields = checked({ ...input, code });
    if (await this.repo.findTopic(code)) throw residentsErrors.TOPIC_TAKEN();
    const now = new Date();
    const row: TopicsTable = {
      code,
      name: fields.name as string,
      name_cy: fields.name_cy ?? null,
      description: fields.description ?? null,
      is_enabled: input.enabled ?? true,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.transaction(async (trx) => {
        await this.repo.insertTopic(row, trx);
        await this.audit.record({ actor, action: 'residents.topic_create', summary: `Added the topic ${code}`, targetType: 'topic', targetId: code, ...origin }, trx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw residentsErrors.TOPIC_TAKEN();
      throw err;
    }
    return toView(row);
  }

  async update(actor: Actor, code: string, input: TopicUpdate, origin: Origin = {}): Promise<TopicView> {
    const before = await this.get(code);
    const fields: Partial<TopicsTable> = { ...checked(input), updated_at: new Date() };
    if (input.enabled !== undefined) fields.is_enabled = input.enabled;
    const summary = input.enabled === false && before.enabled ? `Turned off the topic ${code}` : input.enabled && !before.enabled ? `Turned on the topic ${code}` : `Changed the topic ${code}`;
    await this.db.transaction(async (trx) => {
      await this.repo.updateTopic(code, fields, trx);
      await this.audit.record({ actor, action: 'residents.topic_update', summary, targetType: 'topic', targetId: code, changes: Object.keys(input), ...origin }, trx);
    });
    return this.get(code);
  }
}

/** The topic's fields, trimmed (empty optional ones as null), or TOPIC_INVALID naming each field that is wrong. */
function checked(input: TopicUpdate & { code?: string }): Partial<TopicsTable> {
  const errors: FieldError[] = [];
  const out: Partial<TopicsTable> = {};
  if (input.code !== undefined && !CODE.test(input.code)) errors.push({ field: 'code', message: 'Enter a code of up to 60 lower-case letters, numbers and hyphens, like bin-collections' });
  if (input.name !== undefined) {
    out.name = input.name.trim();
    if (!out.name || out.name.length > 100) errors.push({ field: 'name', message: 'Enter a name of up to 100 characters' });
  }
  if (input.nameCy !== undefined) {
    out.name_cy = input.nameCy?.trim() || null;
    if ((out.name_cy?.length ?? 0) > 100) errors.push({ field: 'nameCy', message: 'Enter a Welsh name of up to 100 characters' });
  }
  if (input.description !== undefined) {
    out.description = input.description?.trim() || null;
    if ((out.description?.length ?? 0) > 500) errors.push({ field: 'description', message: 'Enter a description of up to 500 characters' });
  }
  if (input.code !== undefined && input.name === undefined) errors.push({ field: 'name', message: 'Enter a name of up to 100 characters' });
  if (errors.length) throw residentsErrors.TOPIC_INVALID(undefined, errors);
  return out;
}

function toView(r: TopicsTable): TopicView {
  return { code: r.code, name: r.name, nameCy: r.name_cy, description: r.description, enabled: r.is_enabled, createdAt: r.created_at, updatedAt: r.updated_at };
}
