import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import type { Actor } from '../../platform/auth/actor.js';
import type { Db } from '../../platform/db/database.js';
import { toJson } from '../../platform/db/dialect.js';
import type { FieldError } from '../../platform/errors.js';
import type { EventBus } from '../../platform/events/index.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../services.js';
import type { EstateService } from '../estate/index.js';
import type { ReadingEvent, TelemetryService } from '../telemetry/index.js';
import { ActionsRepository } from './actions.repository.js';
import { ALARM_CHANGED, type AlarmChanged, AlarmsService } from './alarms.service.js';
import { DAQI_POLLUTANTS, type DaqiReading, isPollutant, overallDaqi, type Pollutant, worstDaqi } from './daqi.js';
import { ruleSentence, type ScopeNames } from './describe.js';
import { DeviceDirectory } from './directory.js';
import { type AlarmSink, type EngineReading, type History, metricsOf, type Phase, RuleEngine, type SinkRaise } from './engine.js';
import { EscalationRepository } from './escalation.repository.js';
import { rulesErrors } from './rules.errors.js';
import { type RulesTable, RulesRepository } from './rules.repository.js';
import type { Action, Condition, RuleCreate, RuleView, Scope, Severity } from './rules.schema.js';

export const RULES_CHANGED = 'rules.changed';
export const SILENCE_JOB = 'rules.silence';
const MINUTE = 60_000;
const DAQI_CACHE_MS = 60_000;

/** Today's index of each monitor and each area. */
export interface DaqiNow {
  devices: Map<string, DaqiReading>;
  areas: Map<string, DaqiReading>;
}

export interface RulesDeps {
  db: Db;
  audit: AuditService;
  events: EventBus;
  estate: EstateService;
  telemetry: TelemetryService;
  jobs: import('../../platform/jobs/index.js').JobQueue;
  log: Logger;
  now?: () => Date;
}

export interface TrialResult {
  hours: number;
  readings: number;
  fired: number;
  alarms: { subjectId: string; subjectName: string | null; at: Date; value: number | null; message: string }[];
}

/** A row's JSON as stored (parsed by the driver) or as about to be written (text). */
const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

function ruleView(r: RulesTable): RuleView {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    version: r.version,
    enabled: r.is_enabled,
    scope: json<Scope>(r.scope_json),
    condition: json<Condition>(r.condition_json),
    severity: r.severity as Severity,
    actions: json<Action[]>(r.actions_json),
    teamId: r.team_id,
    escalationPolicyId: r.escalation_policy_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Checks beyond the schema's: what a rule must make sense of. */
export function ruleProblems(input: RuleCreate): FieldError[] {
  const c = input.condition;
  const out: FieldError[] = [];
  const add = (field: string, message: string) => out.push({ field: `condition.${field}`, message });
  if (c.type === 'rolling_mean' && !c.bands?.length && (c.op === undefined || c.value === undefined)) add('value', 'Give a comparison and a value, or bands');
  if (c.type === 'rolling_mean' && c.bands?.length && (c.op !== undefined || c.value !== undefined)) add('bands', 'Give either bands or a comparison and a value, not both');
  if ((c.type === 'threshold' || (c.type === 'rolling_mean' && !c.bands)) && c.clearValue !== undefined && c.value !== undefined) {
    const above = (c.op ?? '>').startsWith('>');
    if (above ? c.clearValue > c.value : c.clearValue < c.value)
      add('clearValue', above ? 'The clear value must be at or below the value that raises the alarm' : 'The clear value must be at or above the value that raises the alarm');
  }
  if (c.type === 'occupancy' && (c.freeBelow === undefined) === (c.freePercentBelow === undefined)) add('freeBelow', 'Give free spaces below a number, or below a percentage (one of them)');
  if (c.type === 'occupancy' && c.clearAt !== undefined && c.clearAt < (c.freeBelow ?? c.freePercentBelow ?? 0)) add('clearAt', 'The alarm must clear at or above the number that raises it');
  if ((c.type === 'no_data' || c.type === 'event') && c.hours && c.hours.from === c.hours.to) add('hours', 'The hours must start and end at different times');
  return out;
}

/**
 * Rules (versioned, validated, enabled or disabled, tried on past data) and the engine that runs
 * them on each batch of readings this process stores. Several processes each run the engine
 * on what they ingest; an alarm is still raised once (see AlarmsService).
 */
export class RulesService {
  readonly repo: RulesRepository;
  private readonly escalation: EscalationRepository;
  private readonly actionsRepo: ActionsRepository;
  readonly alarms: AlarmsService;
  readonly directory: DeviceDirectory;
  readonly engine: RuleEngine;
  private readonly now: () => Date;
  private stops: (() => void)[] = [];
  private started = false;
  private daqiCache: { at: number; value: Promise<DaqiNow> } | undefined;

  constructor(private readonly deps: RulesDeps) {
    this.now = deps.now ?? (() => new Date());
    this.repo = new RulesRepository(deps.db);
    this.escalation = new EscalationRepository(deps.db);
    this.actionsRepo = new ActionsRepository(deps.db);
    this.alarms = new AlarmsService(deps.db, this.repo, deps.audit, deps.events, deps.jobs, this.now);
    this.directory = new DeviceDirectory(deps.estate);
    this.engine = new RuleEngine({ sink: this.sink(), state: this.stateStore(), history: this.history(), directory: this.directory, log: deps.log });
  }

  /** Loads rules, their state and open alarms, and starts checking readings as they are stored. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.reload();
    this.engine.loadState((await this.repo.allState()).map((s) => ({ ruleId: s.rule_id, subjectId: s.subject_id, phase: s.phase as Phase, since: s.since_at.getTime() })));
    this.engine.setOpen((await this.repo.openKeys()).map((r) => r.open_key as string));
    this.stops.push(
      this.deps.telemetry.onReadings((batch: ReadingEvent[]) => {
        // New pollution readings here: today's index is worked out again when next asked for.
        if (this.daqiCache && batch.some((r) => isPollutant(r.metric))) this.daqiCache = undefined;
        this.engine.accept(batch);
      }),
    );
    this.stops.push(
      this.deps.events.on(RULES_CHANGED, () => {
        this.directory.invalidate();
        return this.reload();
      }),
    );
    this.stops.push(this.deps.events.on('estate.changed', () => this.directory.invalidate()));
    this.stops.push(
      this.deps.events.on(ALARM_CHANGED, (p: AlarmChanged) => {
        this.engine.noteOpen(p.key, p.openKey !== null);
      }),
    );
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0)) stop();
    await this.engine.idle();
    this.started = false;
  }

  /** Takes readings directly (tests, the simulator in one process): the same path telemetry's listener takes. */
  accept(batch: EngineReading[]): void {
    this.engine.accept(batch);
  }

  idle(): Promise<void> {
    return this.engine.idle();
  }

  private async reload(): Promise<void> {
    this.engine.setRules((await this.repo.listRules()).map(ruleView));
  }

  // ---------------------------------------------------------------- rules

  async list(options: { includeDisabled?: boolean } = { includeDisabled: true }): Promise<RuleView[]> {
    return (await this.repo.listRules(options)).map(ruleView);
  }

  async get(id: string): Promise<RuleView> {
    const row = await this.repo.findRule(id);
    if (!row) throw rulesErrors.RULE_NOT_FOUND();
    return ruleView(row);
  }

  async versions(id: string) {
    await this.get(id);
    return (await this.repo.versions(id)).map((v) => ({ version: v.version, rule: json<RuleCreate>(v.body_json), actorType: v.actor_type, actorId: v.actor_id, createdAt: v.created_at }));
  }

  async create(actor: Actor, input: RuleCreate, origin: Origin = {}): Promise<RuleView> {
    await this.check(input);
    const now = this.now();
    const row = this.row(newId(now.getTime()), input, 1, now, now);
    await this.deps.db.transaction(async (trx) => {
      await this.repo.insertRule(trx, row, this.version(row, input, actor, now));
      await this.deps.audit.record({ actor, action: 'rules.create', summary: `Rule created: ${input.name}`, targetType: 'rule', targetId: row.id, ...origin }, trx);
    });
    await this.deps.events.emit(RULES_CHANGED, { id: row.id });
    return ruleView(row);
  }

  /** A new version of the rule; its state starts again (the condition may mean something else now). */
  async update(actor: Actor, id: string, input: RuleCreate, origin: Origin = {}): Promise<RuleView> {
    await this.check(input);
    const before = await this.get(id);
    const now = this.now();
    const row = this.row(id, input, before.version + 1, before.createdAt, now);
    await this.deps.db.transaction(async (trx) => {
      await this.repo.updateRule(trx, row, this.version(row, input, actor, now));
      await this.deps.audit.record({ actor, action: 'rules.update', summary: `Rule changed: ${input.name} (version ${row.version})`, targetType: 'rule', targetId: id, ...origin }, trx);
    });
    await this.repo.dropState(id);
    await this.deps.events.emit(RULES_CHANGED, { id });
    return ruleView(row);
  }

  async setEnabled(actor: Actor, id: string, enabled: boolean, origin: Origin = {}): Promise<RuleView> {
    const before = await this.get(id);
    const row = { ...this.row(id, { ...before, enabled }, before.version, before.createdAt, this.now()) };
    await this.deps.db.transaction(async (trx) => {
      await this.repo.updateRule(trx, row, null);
      await this.deps.audit.record(
        { actor, action: enabled ? 'rules.enable' : 'rules.disable', summary: `Rule ${enabled ? 'enabled' : 'disabled'}: ${before.name}`, targetType: 'rule', targetId: id, ...origin },
        trx,
      );
    });
    if (!enabled) await this.repo.dropState(id);
    await this.deps.events.emit(RULES_CHANGED, { id });
    return ruleView(row);
  }

  /** The sentence the console shows for a rule, with the names of what it watches. */
  async sentence(rule: { condition: Condition; severity: Severity; scope: Scope }): Promise<string> {
    return ruleSentence(rule, await this.names());
  }

  async names(): Promise<ScopeNames> {
    const devices = await this.directory.all();
    const sites = new Map<string, string>();
    for (const d of devices) if (d.siteId && d.siteName) sites.set(d.siteId, d.siteName);
    const profiles = new Map((await this.deps.estate.listProfiles()).map((p) => [p.key, p.name]));
    return { areas: await this.directory.areas(), sites, devices: new Map(devices.map((d) => [d.id, d.name])), profiles };
  }

  private async check(input: RuleCreate): Promise<void> {
    const problems = ruleProblems(input);
    const profiles = new Set((await this.deps.estate.listProfiles()).map((p) => p.key));
    for (const [i, p] of (input.scope.profiles ?? []).entries()) if (!profiles.has(p)) problems.push({ field: `scope.profiles.${i}`, message: `There is no device profile ${p}` });
    if (input.escalationPolicyId && !(await this.escalation.findPolicy(input.escalationPolicyId)))
      problems.push({ field: 'escalationPolicyId', message: 'There is no escalation policy with this id' });
    for (const [i, action] of (input.actions ?? []).entries())
      if (action.type === 'webhook' && action.secretRef && !(await this.actionsRepo.findSecret(action.secretRef)))
        problems.push({ field: `actions.${i}.secretRef`, message: `There is no webhook secret named ${action.secretRef}: add it first` });
    if (problems.length) throw rulesErrors.RULE_INVALID(undefined, problems);
  }

  private row(id: string, input: RuleCreate, version: number, createdAt: Date, now: Date): RulesTable {
    return {
      id,
      name: input.name.trim(),
      description: input.description?.trim() ?? '',
      version,
      is_enabled: input.enabled ?? true,
      condition_type: input.condition.type,
      scope_json: toJson(input.scope),
      condition_json: toJson(input.condition),
      severity: input.severity,
      actions_json: toJson(input.actions ?? []),
      team_id: input.teamId ?? null,
      escalation_policy_id: input.escalationPolicyId ?? null,
      created_at: createdAt,
      updated_at: now,
      deleted_at: null,
    };
  }

  private version(row: RulesTable, input: RuleCreate, actor: Actor, now: Date) {
    return { rule_id: row.id, version: row.version, body_json: toJson(input), actor_type: actor.type, actor_id: actor.id, created_at: now };
  }

  // ---------------------------------------------------------------- trying a rule on past data

  /** What the rule would have done over the last hours of stored readings: no alarm is raised, nothing is sent. */
  async trial(input: RuleCreate, hours = 24): Promise<TrialResult> {
    await this.check(input);
    const rule: RuleView = { ...ruleView(this.row('00000000-0000-4000-8000-000000000000', input, 0, this.now(), this.now())), enabled: true };
    const result: TrialResult = { hours, readings: 0, fired: 0, alarms: [] };
    const sink: AlarmSink = {
      raise: async (r: SinkRaise) => {
        result.fired++;
        if (result.alarms.length < 50) result.alarms.push({ subjectId: r.subjectId, subjectName: r.subjectName, at: r.at, value: r.value ?? null, message: r.message });
        return true;
      },
      clear: async (ruleId, subjectId) => {
        trialEngine.noteOpen(`${ruleId}|${subjectId}`, false);
      },
    };
    const trialEngine = new RuleEngine({ sink, directory: this.directory, log: this.deps.log });
    trialEngine.setRules([rule]);
    const to = this.now();
    const from = new Date(to.getTime() - hours * 3_600_000);
    const readings = await this.pastReadings(rule, from, to);
    result.readings = readings.length;
    let nextTick = from.getTime() + 5 * MINUTE;
    for (const r of readings) {
      while (rule.condition.type === 'no_data' && r.at.getTime() >= nextTick) {
        await trialEngine.checkSilence(nextTick);
        nextTick += 5 * MINUTE;
      }
      await trialEngine.process([r]);
    }
    if (rule.condition.type === 'no_data') for (; nextTick <= to.getTime(); nextTick += 5 * MINUTE) await trialEngine.checkSilence(nextTick);
    return result;
  }

  private async pastReadings(rule: RuleView, from: Date, to: Date): Promise<EngineReading[]> {
    this.directory.invalidate();
    const devices = await this.directory.inScope(rule.scope);
    let metrics = metricsOf(rule.condition);
    const out: EngineReading[] = [];
    for (const d of devices.slice(0, 2000)) {
      if (metrics.includes('*')) metrics = (await this.deps.estate.getProfile(d.profile)).metrics.map((m) => m.name);
      for (const metric of metrics) for (const p of await this.deps.telemetry.range(d.id, metric, from, to)) out.push({ deviceId: d.id, metric, value: p.value, at: p.at });
    }
    return out.sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  // ---------------------------------------------------------------- time-based conditions

  /** The job's work: "no data" alarms for devices silent too long. */
  async checkSilence(now = this.now()): Promise<number> {
    return this.engine.checkSilence(now.getTime(), async (devices, metric) => {
      const out = new Map<string, number>();
      for (let i = 0; i < devices.length; i += 5000) {
        const ids = devices.slice(i, i + 5000).map((d) => d.id);
        for (const row of await this.deps.telemetry.latest(ids, metric ? [metric] : undefined)) out.set(row.deviceId, Math.max(out.get(row.deviceId) ?? 0, row.at.getTime()));
      }
      return out;
    });
  }

  /** Today's index of each monitor and each area, as this process has seen them. */
  async daqi(): Promise<DaqiNow> {
    const now = this.now().getTime();
    if (!this.daqiCache || now - this.daqiCache.at > DAQI_CACHE_MS) this.daqiCache = { at: now, value: this.daqiFromStore(new Date(now)) };
    try {
      return await this.daqiCache.value;
    } catch (err) {
      this.daqiCache = undefined;
      throw err;
    }
  }

  /**
   * Each air-quality monitor's index from its stored readings (so any process can answer, and a
   * restart loses nothing), and each area's from its worst monitor.
   */
  private async daqiFromStore(now: Date): Promise<DaqiNow> {
    const profiles = new Set((await this.deps.estate.listProfiles()).filter((p) => p.metrics.some((m) => isPollutant(m.name))).map((p) => p.key));
    const devices = (await this.directory.all()).filter((d) => profiles.has(d.profile));
    const out: DaqiNow = { devices: new Map(), areas: new Map() };
    const byArea = new Map<string, DaqiReading[]>();
    for (const d of devices) {
      const means: Partial<Record<Pollutant, number>> = {};
      for (const spec of DAQI_POLLUTANTS) {
        const rows = await this.deps.telemetry.aggregate(d.id, spec.pollutant, new Date(now.getTime() - spec.windowMinutes * MINUTE), now, 60);
        let sum = 0;
        let count = 0;
        for (const r of rows) {
          sum += r.mean * r.count;
          count += r.count;
        }
        if (count) means[spec.pollutant] = sum / count;
      }
      const reading = overallDaqi(means);
      if (!reading) continue;
      out.devices.set(d.id, reading);
      if (d.areaId) byArea.set(d.areaId, [...(byArea.get(d.areaId) ?? []), reading]);
    }
    for (const [id, list] of byArea) out.areas.set(id, worstDaqi(list) as DaqiReading);
    return out;
  }

  // ---------------------------------------------------------------- wiring

  private sink(): AlarmSink {
    return {
      raise: async (r) => !!(await this.alarms.raise(r)),
      clear: async (ruleId, subjectId, note) => {
        await this.alarms.clearByRule(ruleId, subjectId, note);
      },
    };
  }

  private stateStore() {
    return {
      save: (ruleId: string, subjectId: string, phase: Phase, since: number) =>
        this.repo.saveState({ rule_id: ruleId, subject_id: subjectId, phase, since_at: new Date(since), updated_at: this.now() }).catch((err) => {
          this.deps.log.error({ err, ruleId }, 'could not save a rule’s state');
        }),
    };
  }

  private history(): History {
    return {
      minutes: async (deviceId, metric, from, to) => (await this.deps.telemetry.aggregate(deviceId, metric, from, to, 60)).filter((r) => r.count > 0),
      latest: async (deviceIds, metric) => (await this.deps.telemetry.latest(deviceIds, [metric])).map((r) => ({ deviceId: r.deviceId, value: r.value, at: r.at })),
    };
  }

  // ---------------------------------------------------------------- read-only, for the console and the API

  /** Each car park (sites of type car_park): its bays (parking-bay devices there) and how many are occupied, from their latest `occupied` readings. */
  async carParks(): Promise<CarParkAvailability[]> {
    const [sites, bays] = await Promise.all([this.deps.estate.listSites({ type: 'car_park', limit: 100_000 }), this.deps.estate.listDevices({ profileKey: 'parking-bay', limit: 1_000_000 })]);
    const latest = new Map<string, { value: number; at: Date }>();
    for (let i = 0; i < bays.length; i += 5000)
      for (const r of await this.deps.telemetry.latest(
        bays.slice(i, i + 5000).map((b) => b.id),
        ['occupied'],
      ))
        latest.set(r.deviceId, r);
    return sites.map((site) => {
      const readings = bays.filter((b) => b.siteId === site.id).map((b) => latest.get(b.id));
      const known = readings.filter((r) => r !== undefined);
      const occupied = known.filter((r) => r.value).length;
      const free = known.length - occupied;
      const newest = known.reduce<Date | null>((a, r) => (a && a > r.at ? a : r.at), null);
      const percentFree = readings.length ? Math.round((free / readings.length) * 1000) / 10 : null;
      return {
        siteId: site.id,
        name: site.name,
        areaId: site.areaId,
        areaName: site.areaName,
        lat: site.lat,
        lon: site.lon,
        bays: readings.length,
        occupied,
        free,
        noReading: readings.length - known.length,
        percentFree,
        updatedAt: newest,
      };
    });
  }
}

export interface CarParkAvailability {
  siteId: string;
  name: string;
  areaId: string | null;
  areaName: string | null;
  lat: number | null;
  lon: number | null;
  bays: number;
  occupied: number;
  free: number;
  noReading: number;
  percentFree: number | null;
  updatedAt: Date | null;
}
