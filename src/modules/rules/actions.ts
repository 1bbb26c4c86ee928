import { createHmac, randomBytes } from 'node:crypto';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import { type Actor, systemActor } from '../../platform/auth/actor.js';
import { seal, unseal } from '../../platform/auth/secrets.js';
import type { Db } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../services.js';
import type { EstateService } from '../estate/index.js';
import type { Campaigns } from '../messaging/index.js';
import type { RequestsService } from '../requests/index.js';
import { alarmView } from './alarms.service.js';
import { ActionsRepository, type AlarmActionsTable, type WebhookDeliveriesTable } from './actions.repository.js';
import { daqiBand } from './daqi.js';
import { escalationErrors } from './escalation.errors.js';
import type { DeliveryQuery, DeliveryView } from './escalation.schema.js';
import type { AlarmsTable, RulesRepository } from './rules.repository.js';
import type { Action, RuleCreate } from './rules.schema.js';
import type { StaffAlerts, StaffTarget } from './staff-alerts.js';

/** One episode, one message: a rule tells an area's residents at most once in this many hours. */
export const RESIDENT_MESSAGE_GAP_HOURS = 12;
export const WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_ATTEMPTS = 5;
const SECRET_PURPOSE = 'rules.webhook-secret';
const HOUR = 3_600_000;

type ActionOf<T extends Action['type']> = Extract<Action, { type: T }>;
type Attempt = { attempt: number; last: boolean };
type Outcome = Pick<AlarmActionsTable, 'status' | 'ref' | 'note'> & { area?: string | null };

/** `sha256=<hex>`: the HMAC-SHA256 of the exact body bytes under the secret, as X-Weft-Signature carries it. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface AlarmActionsDeps {
  db: Db;
  rulesRepo: RulesRepository;
  audit: AuditService;
  estate: Pick<EstateService, 'getDevice' | 'getSite' | 'listAreas'>;
  campaigns: Pick<Campaigns, 'create' | 'start' | 'list' | 'get'>;
  requests: Pick<RequestsService, 'submit' | 'list'>;
  staffAlerts: StaffAlerts;
  secret: string;
  log: Logger;
  now?: () => Date;
}

/**
 * A rule's actions for an alarm, each run by the durable `rules.action` job (ALARM_ACTION_JOB,
 * queued once per action in the transaction that raises the alarm). Each does its work once per
 * alarm (recorded in `alarm_actions`); a webhook is tried until it answers 2xx, five attempts
 * with the queue's back-off, every attempt in `webhook_deliveries`.
 */
export class AlarmActions {
  readonly repo: ActionsRepository;
  private readonly now: () => Date;
  private readonly system = systemActor('weft alarms');

  constructor(private readonly deps: AlarmActionsDeps) {
    this.repo = new ActionsRepository(deps.db);
    this.now = deps.now ?? (() => new Date());
  }

  /** The job: runs one action of the alarm's rule, as the rule stood when it raised the alarm. */
  async run(payload: { alarmId: string; index: number }, attempt = 1, maxAttempts = WEBHOOK_ATTEMPTS): Promise<void> {
    const alarm = await this.deps.rulesRepo.findAlarm(payload.alarmId);
    if (!alarm) return;
    const action = (await this.actionsOf(alarm))[payload.index];
    if (!action || (await this.repo.findAction(alarm.id, payload.index))) return;
    const outcome = await this.perform(alarm, action, payload.index, { attempt, last: attempt >= maxAttempts });
    if (!outcome) return;
    await this.repo.recordAction({
      alarm_id: alarm.id,
      action_index: payload.index,
      type: action.type,
      rule_id: alarm.rule_id,
      area_id: outcome.area ?? null,
      status: outcome.status,
      ref: outcome.ref,
      note: outcome.note,
      created_at: this.now(),
    });
    if (outcome.note) await this.history(alarm, outcome.note);
  }

  private perform(alarm: AlarmsTable, action: Action, index: number, attempt: Attempt): Promise<Outcome | undefined> {
    switch (action.type) {
      case 'notify_staff':
        return this.notifyStaff(alarm, action);
      case 'notify_residents':
        return this.notifyResidents(alarm, action, index);
      case 'webhook':
        return this.webhook(alarm, action, index, attempt);
      case 'service_request':
        return this.serviceRequest(alarm, action, index);
    }
  }

  private async actionsOf(alarm: AlarmsTable): Promise<Action[]> {
    const version = (await this.deps.rulesRepo.versions(alarm.rule_id)).find((v) => v.version === alarm.rule_version);
    const body = (typeof version?.body_json === 'string' ? JSON.parse(version.body_json) : version?.body_json) as RuleCreate | undefined;
    return body?.actions ?? [];
  }

  // ---------------------------------------------------------------- staff

  private async notifyStaff(alarm: AlarmsTable, action: ActionOf<'notify_staff'>): Promise<Outcome> {
    const targets = staffTargets(action, alarm.team_id);
    if (!targets.length) return { status: 'skipped', ref: null, note: 'Nobody to tell: the rule names no one and the alarm has no team.' };
    const at = this.now();
    const recipients = [];
    const missing: string[] = [];
    for (const target of targets) {
      const found = await this.deps.staffAlerts.resolve(target, at);
      recipients.push(...found.recipients);
      if (found.missing) missing.push(found.missing);
    }
    const told = await this.deps.staffAlerts.send(alarm, recipients, 'email', '');
    const note = told.length ? `Told ${told.join(', ')}.` : `Told nobody: ${missing.join('; ') || 'no one could be reached'}.`;
    return { status: told.length ? 'sent' : 'skipped', ref: null, note };
  }

  // ---------------------------------------------------------------- residents

  private async notifyResidents(alarm: AlarmsTable, action: ActionOf<'notify_residents'>, index: number): Promise<Outcome> {
    const areaId = await this.areaOf(alarm);
    if (!areaId) return { status: 'skipped', ref: null, note: 'Residents were not told: the alarm has no area.' };
    const areaName = (await this.deps.estate.listAreas()).find((a) => a.id === areaId)?.name ?? areaId;
    const since = new Date(this.now().getTime() - RESIDENT_MESSAGE_GAP_HOURS * HOUR);
    const earlier = await this.repo.lastResidentMessage(alarm.rule_id, areaId, since, alarm.id);
    if (earlier)
      return {
        status: 'skipped',
        area: areaId,
        ref: null,
        note: `Residents in ${areaName} were not told again: this rule told them within ${RESIDENT_MESSAGE_GAP_HOURS} hours (alarm ${earlier.alarm_id}).`,
      };
    const name = `Alarm ${alarm.id} (${index + 1}): ${alarm.rule_name} in ${areaName}`.slice(0, 200);
    let campaign = (await this.deps.campaigns.list(action.serviceId)).find((c) => c.name === name);
    if (!campaign) {
      try {
        campaign = await this.deps.campaigns.create(this.system, action.serviceId, {
          name,
          audience: { topic: action.topic, areaIds: [areaId] },
          templates: action.templates,
          personalisation: residentValues(alarm, areaName),
          urgent: false,
        });
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        const why = err.code === 'CAMPAIGN_AUDIENCE_EMPTY' ? `nobody in ${areaName} is subscribed to ${action.topic}` : err.message;
        return { status: err.code === 'CAMPAIGN_AUDIENCE_EMPTY' ? 'skipped' : 'failed', area: areaId, ref: null, note: `Residents were not told: ${why}` };
      }
    }
    if (campaign.status === 'draft') await this.deps.campaigns.start(this.system, campaign.id);
    return { status: 'sent', area: areaId, ref: campaign.id, note: `Told ${campaign.recipientCount} residents subscribed to ${action.topic} in ${areaName} (campaign ${campaign.id}).` };
  }

  private async areaOf(alarm: AlarmsTable): Promise<string | null> {
    if (alarm.area_id) return alarm.area_id;
    if (alarm.device_id) return (await this.deps.estate.getDevice(alarm.device_id).catch(() => undefined))?.areaId ?? null;
    if (alarm.site_id) return (await this.deps.estate.getSite(alarm.site_id).catch(() => undefined))?.areaId ?? null;
    return null;
  }

  // ---------------------------------------------------------------- webhooks

  private async webhook(alarm: AlarmsTable, action: ActionOf<'webhook'>, index: number, { attempt, last }: Attempt): Promise<Outcome | undefined> {
    const id = `${alarm.id}:${index}`;
    const body = JSON.stringify({ event: 'alarm.raised', id, alarm: alarmView(alarm), rule: { id: alarm.rule_id, name: alarm.rule_name, version: alarm.rule_version } });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'Weft', 'x-weft-delivery': id };
    const log = (statusCode: number | null, error: string | null, started: number) =>
      this.repo.insertDelivery({
        id: newId(),
        alarm_id: alarm.id,
        rule_id: alarm.rule_id,
        action_index: index,
        url: action.url,
        attempt,
        status_code: statusCode,
        error,
        duration_ms: Date.now() - started,
        created_at: this.now(),
      });
    const started = Date.now();
    if (action.secretRef) {
      const secret = await this.secretOf(action.secretRef);
      if (!secret) {
        await log(null, `There is no webhook secret named ${action.secretRef}.`, started);
        // Tried again with back-off: the secret may be set meanwhile.
        if (last) return { status: 'failed', ref: null, note: `Webhook to ${action.url} not sent: there is no webhook secret named ${action.secretRef}.` };
        throw new Error(`webhook: there is no secret named ${action.secretRef}`);
      }
      headers['x-weft-signature'] = webhookSignature(secret, body);
    }
    const { status, error } = await post(action.url, headers, body);
    await log(status, error, started);
    if (status !== null && status >= 200 && status < 300) return { status: 'sent', ref: String(status), note: `Webhook to ${action.url} answered ${status} (attempt ${attempt}).` };
    // A 4xx other than 408 and 429 will not change by trying again.
    if (status !== null && status < 500 && status !== 408 && status !== 429)
      return { status: 'failed', ref: String(status), note: `Webhook to ${action.url} refused it with ${status}; not tried again.` };
    if (last) return { status: 'failed', ref: status === null ? null : String(status), note: `Webhook to ${action.url} failed ${attempt} times (last: ${status ?? error}); not tried again.` };
    throw new Error(`webhook ${action.url}: ${status ?? error}`);
  }

  private async secretOf(name: string): Promise<string | undefined> {
    const row = await this.repo.findSecret(name);
    return row ? unseal(this.deps.secret, SECRET_PURPOSE, row.secret_sealed) : undefined;
  }

  async listSecrets() {
    return (await this.repo.listSecrets()).map((s) => ({ name: s.name, createdAt: s.created_at, updatedAt: s.updated_at }));
  }

  /** Sets a named webhook secret (made when not given), sealed; the secret is in the answer this once. */
  async putSecret(actor: Actor, name: string, given: string | undefined, origin: Origin = {}): Promise<{ name: string; secret: string }> {
    const secret = given ?? randomBytes(32).toString('base64url');
    const now = this.now();
    await this.deps.db.transaction(async (trx) => {
      await this.repo.putSecret(trx, { name, secret_sealed: seal(this.deps.secret, SECRET_PURPOSE, secret), created_at: now, updated_at: now });
      await this.deps.audit.record({ actor, action: 'rules.webhook_secret_set', summary: `Webhook secret ${name} set`, targetType: 'webhook_secret', targetId: name, ...origin }, trx);
    });
    return { name, secret };
  }

  async deleteSecret(actor: Actor, name: string, origin: Origin = {}): Promise<void> {
    await this.deps.db.transaction(async (trx) => {
      if (!(await this.repo.deleteSecret(trx, name))) throw escalationErrors.WEBHOOK_SECRET_NOT_FOUND();
      await this.deps.audit.record({ actor, action: 'rules.webhook_secret_delete', summary: `Webhook secret ${name} deleted`, targetType: 'webhook_secret', targetId: name, ...origin }, trx);
    });
  }

  async deliveries(q: DeliveryQuery): Promise<DeliveryView[]> {
    return (await this.repo.listDeliveries({ alarmId: q.alarm, ruleId: q.rule, limit: q.limit ?? 100 })).map(deliveryView);
  }

  // ---------------------------------------------------------------- service requests

  private async serviceRequest(alarm: AlarmsTable, action: ActionOf<'service_request'>, index: number): Promise<Outcome> {
    const marker = `weft-alarm:${alarm.id}:${index}`;
    // After a crash between the request and its record, the request is found, not made again.
    const made = (await this.deps.requests.list({ q: alarm.id, category: action.category, limit: 10 })).find((r) => r.externalId === marker);
    if (made) return { status: 'sent', ref: made.reference, note: `Service request ${made.reference} raised.` };
    const place = await this.placeOf(alarm);
    try {
      const row = await this.deps.requests.submit(
        this.system,
        { category: action.category, description: `${alarm.message}\n\nRaised by Weft from alarm ${alarm.id} (rule: ${alarm.rule_name}).`, lat: place.lat, lon: place.lon, address: place.address },
        { source: 'staff', externalId: marker, areaId: place.areaId ?? null },
      );
      return { status: 'sent', ref: row.reference, note: `Service request ${row.reference} raised.` };
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      return { status: 'failed', ref: null, note: `No service request was raised: ${err.message}` };
    }
  }

  /** Where the alarm is: the device's position (or its site's), else the site's address, else the area by name. */
  private async placeOf(alarm: AlarmsTable): Promise<{ lat?: number; lon?: number; address?: string; areaId?: string }> {
    const device = alarm.device_id ? await this.deps.estate.getDevice(alarm.device_id).catch(() => undefined) : undefined;
    if (device?.lat != null && device.lon != null) return { lat: device.lat, lon: device.lon };
    const site = alarm.site_id ? await this.deps.estate.getSite(alarm.site_id).catch(() => undefined) : undefined;
    if (site?.lat != null && site.lon != null) return { lat: site.lat, lon: site.lon };
    if (site?.address) return { address: site.address, areaId: site.areaId ?? undefined };
    const areaId = alarm.area_id ?? device?.areaId ?? undefined;
    const area = areaId ? (await this.deps.estate.listAreas()).find((a) => a.id === areaId) : undefined;
    return area ? { address: area.name, areaId: area.id } : { address: alarm.subject_name ?? alarm.subject_id };
  }

  private async history(alarm: AlarmsTable, note: string): Promise<void> {
    await this.deps.rulesRepo.insertEvent(this.deps.db.k, { id: newId(), alarm_id: alarm.id, kind: 'action', actor_type: 'system', actor_id: null, note, created_at: this.now() });
  }
}

/** Whom a notify_staff action names; with no one named, the alarm's team. */
export function staffTargets(action: ActionOf<'notify_staff'>, alarmTeam: string | null): StaffTarget[] {
  const out: StaffTarget[] = [];
  if (action.userId) out.push({ kind: 'user', userId: action.userId });
  const team = action.teamId ?? (action.userId ? undefined : alarmTeam);
  if (team) out.push(action.onCall ? { kind: 'on_call', teamId: team } : { kind: 'team', teamId: team });
  return out;
}

/** The values every resident's message may use: ((area)), ((index)), ((band)), ((message)), ((rule)), ((severity)). */
function residentValues(alarm: AlarmsTable, areaName: string): Record<string, string> {
  const index = alarm.value === null ? '' : String(alarm.value);
  return {
    area: areaName,
    index,
    band: alarm.condition_type === 'daqi' && alarm.value !== null ? daqiBand(alarm.value) : '',
    message: alarm.message,
    rule: alarm.rule_name,
    severity: alarm.severity,
  };
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number | null; error: string | null }> {
  try {
    // Redirects are not followed: a signed body goes only where the rule says.
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
    await res.body?.cancel();
    return { status: res.status, error: null };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { status: null, error: (e.name === 'TimeoutError' ? `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} seconds` : (e.cause?.code ?? e.message)).slice(0, 500) };
  }
}

function deliveryView(r: WebhookDeliveriesTable): DeliveryView {
  return {
    id: r.id,
    alarmId: r.alarm_id,
    ruleId: r.rule_id,
    actionIndex: r.action_index,
    url: r.url,
    attempt: r.attempt,
    statusCode: r.status_code,
    error: r.error,
    durationMs: r.duration_ms,
    at: r.created_at,
  };
}
