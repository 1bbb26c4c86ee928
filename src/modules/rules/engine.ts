import type { Logger } from '../../services.js';
import { londonMinutes } from '../../platform/dates.js';
import type { Raise } from './alarms.service.js';
import { daqiBand, DAQI_POLLUTANTS, type DaqiReading, isPollutant, overallDaqi, type Pollutant, pollutantSpec, worstDaqi } from './daqi.js';
import { conditionWords, metricName } from './describe.js';
import { type DeviceDirectory, type DeviceInfo, inScope } from './directory.js';
import type { Condition, Hours, Op, RuleView, Severity, SubjectType } from './rules.schema.js';
import { WINDOWS } from './rules.schema.js';
import { MinuteSeries } from './windows.js';

const MINUTE = 60_000;
const DAQI_METRICS = DAQI_POLLUTANTS.map((p) => p.pollutant as string);
const ANY = '*';

/** A reading as the engine takes it (telemetry's ReadingEvent has these and more). */
export interface EngineReading {
  deviceId: string;
  metric: string;
  value: number;
  at: Date;
}

/** Where the engine's decisions go: the alarms service, or a counter when a rule is tried on past data. */
export interface AlarmSink {
  raise(r: SinkRaise): Promise<boolean>;
  clear(ruleId: string, subjectId: string, note: string): Promise<void>;
}

/** An alarm the engine raises: what the alarms service stores. */
export type SinkRaise = Raise;

/** Where state goes so a restart carries on: the repository, or nowhere for a trial run. */
export interface StateStore {
  save(ruleId: string, subjectId: string, phase: Phase, since: number): Promise<void>;
}

/** Past data for windows after a restart: minute buckets and latest values from telemetry. */
export interface History {
  minutes(deviceId: string, metric: string, from: Date, to: Date): Promise<{ at: Date; count: number; mean: number }[]>;
  latest(deviceIds: string[], metric: string): Promise<{ deviceId: string; value: number; at: Date }[]>;
}

export type Phase = 'ok' | 'pending' | 'firing';
interface SubjectState {
  phase: Phase;
  since: number;
}

interface Matched {
  /** rules checked on each reading */
  rules: RuleView[];
  /** air quality index rules, checked once a batch per device */
  daqi: RuleView[];
  /** minutes of this metric's readings to keep for the device; 0 for none */
  window: number;
}

interface Decision {
  breach: boolean;
  clear: boolean;
  value: number;
  severity?: Severity;
  /** the words for the alarm or its clearing; left out by the checks run on every reading, whose words `wordsFor` works out only when an alarm is raised or cleared */
  text?: string;
  /** the band a banded rolling mean is in */
  band?: Band;
}

/** A band of a rolling mean, as the rule's schema defines it. */
type Band = NonNullable<Extract<Condition, { type: 'rolling_mean' }>['bands']>[number];

/** Work that waits on the database (a state saved, an alarm raised); nothing when a check changes nothing. */
type Maybe = Promise<void> | undefined;

interface Subject {
  type: SubjectType;
  id: string;
  name: string | null;
  device: DeviceInfo;
}

export interface EngineOptions {
  sink: AlarmSink;
  state?: StateStore;
  history?: History;
  directory: DeviceDirectory;
  log?: Pick<Logger, 'error' | 'warn'>;
  /** London time of day for `hours` conditions: injectable for tests */
  timeOfDay?: (at: number) => number;
}

const compare = (v: number, op: Op, x: number) => (op === '>' ? v > x : op === '>=' ? v >= x : op === '<' ? v < x : v <= x);
const round = (v: number) => Math.round(v * 100) / 100;

const clockMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether a time of day is within hours (from later than to spans midnight). */
export function withinHours(minutes: number, hours: Hours | undefined): boolean {
  if (!hours) return true;
  const from = clockMinutes(hours.from);
  const to = clockMinutes(hours.to);
  return from <= to ? minutes >= from && minutes < to : minutes >= from || minutes < to;
}

/** Minutes since the hours began today (0 outside them); for silence measured only within them. */
function minutesIntoHours(minutes: number, hours: Hours): number {
  const from = clockMinutes(hours.from);
  return (minutes - from + 1440) % 1440;
}

/**
 * The rules engine: each batch of stored readings is checked against the rules whose metric and
 * scope it matches, as it arrives (no polling). Per rule and subject it keeps a state — ok,
 * pending (the condition holds but not yet for long enough) or firing — in memory, and saves it
 * on every change, so a restart carries on where it was. Windows (rolling means, DAQI, rate of
 * change) are minute buckets per device and metric, warmed from telemetry after a restart.
 * Time is the readings' own; silence (no data) is checked by `checkSilence(now)` from a job.
 */
export class RuleEngine {
  private rules = new Map<string, RuleView>();
  private byMetric = new Map<string, RuleView[]>();
  /** per device (as the directory last described it): the rules each of its metrics goes to */
  private matched = new Map<string, { device: DeviceInfo; metrics: Map<string, Matched> }>();
  private states = new Map<string, SubjectState>();
  private series = new Map<string, MinuteSeries>();
  private warming = new Map<string, Promise<void>>();
  private deviceDaqi = new Map<string, { areaId: string | null; reading: DaqiReading }>();
  private occupancy = new Map<string, Map<string, number>>();
  private occupancyWarm = new Set<string>();
  private bays = new Map<string, { from: DeviceInfo[]; rule: RuleView; bays: DeviceInfo[] }>();
  private lastSeen = new Map<string, number>();
  private openKeys = new Set<string>();
  private tail: Promise<void> = Promise.resolve();
  private readonly timeOfDay: (at: number) => number;
  /** readings waiting or being checked, for the benchmark's and tests' `idle()` */
  pending = 0;

  constructor(private readonly o: EngineOptions) {
    this.timeOfDay = o.timeOfDay ?? londonMinutes;
  }

  // ---------------------------------------------------------------- set-up

  setRules(rules: RuleView[]): void {
    this.rules = new Map(rules.filter((r) => r.enabled).map((r) => [r.id, r]));
    this.byMetric = new Map();
    this.matched = new Map();
    this.bays = new Map();
    for (const rule of this.rules.values()) {
      for (const metric of metricsOf(rule.condition)) {
        const list = this.byMetric.get(metric) ?? [];
        list.push(rule);
        this.byMetric.set(metric, list);
      }
    }
    for (const key of this.states.keys()) if (!this.rules.has(key.slice(0, key.indexOf('|')))) this.states.delete(key);
  }

  loadState(rows: { ruleId: string; subjectId: string; phase: Phase; since: number }[]): void {
    for (const r of rows) this.states.set(`${r.ruleId}|${r.subjectId}`, { phase: r.phase, since: r.since });
  }

  setOpen(keys: Iterable<string>): void {
    this.openKeys = new Set(keys);
  }

  noteOpen(key: string, open: boolean): void {
    if (open) this.openKeys.add(key);
    else this.openKeys.delete(key);
  }

  // ---------------------------------------------------------------- readings

  /** Takes a batch as telemetry hands it over; batches are checked one after another, in order. */
  accept(batch: EngineReading[]): void {
    if (!batch.length) return;
    this.pending += batch.length;
    this.tail = this.tail.then(() =>
      this.process(batch)
        .catch((err) => this.o.log?.error({ err }, 'the rules engine could not check a batch of readings'))
        .finally(() => {
          this.pending -= batch.length;
        }),
    );
  }

  /** Resolves once every batch accepted so far has been checked. */
  idle(): Promise<void> {
    return this.tail;
  }

  async process(batch: EngineReading[]): Promise<void> {
    // The index of a monitor moves with the means of five pollutants: worked out once a batch (one upload).
    const daqi = new Map<DeviceInfo, EngineReading>();
    for (const r of batch) {
      if (!this.byMetric.has(r.metric) && !this.byMetric.has(ANY)) continue;
      const device = this.o.directory.peek(r.deviceId) ?? (await this.o.directory.get(r.deviceId));
      if (!device) continue;
      const matched = this.rulesFor(device, r.metric);
      if (matched.window) {
        const warming = this.addToSeries(device, r, matched.window);
        if (warming) await warming;
      }
      if (matched.daqi.length) daqi.set(device, r);
      // Most readings change nothing: those checks run without a promise, the rest wait their turn.
      for (const rule of matched.rules) {
        const work = this.check(rule, device, r);
        if (work) await work;
      }
    }
    for (const [device, r] of daqi) for (const rule of this.rulesFor(device, r.metric).daqi) await this.check(rule, device, r);
  }

  /** The rules a device's readings of a metric go to, and the window they need kept, worked out once per device and metric. */
  private rulesFor(device: DeviceInfo, metric: string): Matched {
    let byMetric = this.matched.get(device.id);
    if (!byMetric || byMetric.device !== device) {
      byMetric = { device, metrics: new Map() };
      this.matched.set(device.id, byMetric);
    }
    let m = byMetric.metrics.get(metric);
    if (!m) {
      const rules = [...(this.byMetric.get(metric) ?? []), ...(this.byMetric.get(ANY) ?? [])].filter((rule) => inScope(rule.scope, device));
      let window = 0;
      for (const rule of rules) for (const [name, minutes] of windowsOf(rule.condition)) if (name === metric) window = Math.max(window, minutes);
      // A monitor's index needs every pollutant's window, whichever reading comes first.
      if (isPollutant(metric) && this.needsDaqi(device)) window = Math.max(window, pollutantMinutes(metric));
      m = { rules: rules.filter((rule) => rule.condition.type !== 'daqi'), daqi: rules.filter((rule) => rule.condition.type === 'daqi'), window };
      byMetric.metrics.set(metric, m);
    }
    return m;
  }

  private needsDaqi(device: DeviceInfo): boolean {
    for (const rule of this.byMetric.get('no2') ?? []) if (rule.condition.type === 'daqi' && inScope(rule.scope, device)) return true;
    return false;
  }

  /** Adds the reading to its window; a promise only when the window is new and warming from stored readings. */
  private addToSeries(device: DeviceInfo, r: EngineReading, window: number): Promise<void> | undefined {
    const key = `${device.id}|${r.metric}`;
    const s = this.series.get(key);
    if (s) {
      if (s.windowMinutes < window) s.grow(window);
      const warming = this.warming.get(key);
      if (warming) return warming.then(() => s.add(r.at.getTime(), r.value));
      s.add(r.at.getTime(), r.value);
      return undefined;
    }
    const fresh = new MinuteSeries(window);
    this.series.set(key, fresh);
    if (!this.o.history) {
      fresh.add(r.at.getTime(), r.value);
      return undefined;
    }
    return this.warm(key, fresh, device.id, r.metric, r.at.getTime()).then(() => fresh.add(r.at.getTime(), r.value));
  }

  private warm(key: string, s: MinuteSeries, deviceId: string, metric: string, at: number): Promise<void> {
    const run = (async () => {
      try {
        const rows = await (this.o.history as History).minutes(deviceId, metric, new Date(at - s.windowMinutes * MINUTE), new Date(at));
        for (const row of rows) s.addBucket(Math.floor(row.at.getTime() / MINUTE), row.mean * row.count, row.count);
      } catch (err) {
        this.o.log?.warn({ err, deviceId, metric }, 'could not warm a rule window from stored readings');
      } finally {
        this.warming.delete(key);
      }
    })();
    this.warming.set(key, run);
    return run;
  }

  private check(rule: RuleView, device: DeviceInfo, r: EngineReading): Maybe {
    const c = rule.condition;
    switch (c.type) {
      case 'threshold':
        return this.step(rule, deviceSubject(device), compared(c, r.value), r);
      case 'rolling_mean': {
        const s = this.series.get(`${device.id}|${c.metric}`);
        const mean = s ? s.mean(WINDOWS[c.window]) : Number.NaN;
        if (Number.isNaN(mean)) return;
        return this.step(rule, deviceSubject(device), c.bands?.length ? banded(c.bands, mean, c.clearValue) : compared(c, mean), r);
      }
      case 'rate_of_change': {
        const s = this.series.get(`${device.id}|${c.metric}`);
        const before = s ? s.valueAgo(c.perMinutes) : Number.NaN;
        if (Number.isNaN(before)) return;
        const rise = r.value - before;
        return this.step(rule, deviceSubject(device), { breach: rise > c.rise, clear: rise <= c.rise, value: round(rise) }, r);
      }
      case 'daqi':
        return this.checkDaqi(rule, c.atLeast, c.per ?? 'area', device, r);
      case 'event': {
        if (r.value !== (c.value ?? 1) || !withinHours(this.timeOfDay(r.at.getTime()), c.hours)) return;
        return this.fire(rule, deviceSubject(device), { breach: true, clear: false, value: r.value, text: conditionWords(c) }, r);
      }
      case 'occupancy':
        return this.checkOccupancy(rule, c, device, r);
      case 'no_data':
        return this.heard(rule, device, r);
    }
  }

  /** A reading for a "no data" rule: remembered, and the rule's alarm for the device cleared if it was silent. */
  private heard(rule: RuleView, device: DeviceInfo, r: EngineReading): Maybe {
    const at = r.at.getTime();
    const key = `${rule.id}|${device.id}`;
    this.lastSeen.set(key, Math.max(at, this.lastSeen.get(key) ?? 0));
    if (!this.openKeys.has(key) && this.states.get(key)?.phase !== 'firing') return;
    return (async () => {
      await this.setState(rule.id, device.id, 'ok', at);
      this.openKeys.delete(key);
      await this.o.sink.clear(rule.id, device.id, `${metricName(r.metric)} arrived again at ${r.at.toISOString()}.`);
    })();
  }

  private async checkDaqi(rule: RuleView, atLeast: number, per: 'device' | 'area', device: DeviceInfo, r: EngineReading): Promise<void> {
    const reading = this.deviceIndex(device);
    if (!reading) return;
    if (per === 'device') {
      const d = { breach: reading.index >= atLeast, clear: reading.index < atLeast, value: reading.index, text: daqiText(reading) };
      return this.step(rule, deviceSubject(device), d, r);
    }
    if (!device.areaId) return;
    const inArea: DaqiReading[] = [];
    for (const [id, entry] of this.deviceDaqi) {
      if (entry.areaId !== device.areaId) continue;
      const other = id === device.id ? device : this.o.directory.peek(id);
      if (other && inScope(rule.scope, other)) inArea.push(entry.reading);
    }
    const worst = worstDaqi(inArea) as DaqiReading;
    const name = (await this.o.directory.areaName(device.areaId)) ?? device.areaId;
    const d = { breach: worst.index >= atLeast, clear: worst.index < atLeast, value: worst.index, text: `${daqiText(worst)} in ${name}` };
    return this.step(rule, { type: 'area', id: device.areaId, name, device }, d, r);
  }

  /** The device's index from each pollutant's mean over its averaging period, remembered for the map. */
  private deviceIndex(device: DeviceInfo): DaqiReading | undefined {
    const means: Partial<Record<Pollutant, number>> = {};
    for (const spec of DAQI_POLLUTANTS) {
      const s = this.series.get(`${device.id}|${spec.pollutant}`);
      if (s) means[spec.pollutant] = s.mean(spec.windowMinutes);
    }
    const reading = overallDaqi(means);
    if (reading) this.deviceDaqi.set(device.id, { areaId: device.areaId, reading });
    return reading;
  }

  private async checkOccupancy(rule: RuleView, c: Extract<Condition, { type: 'occupancy' }>, device: DeviceInfo, r: EngineReading): Promise<void> {
    if (!device.siteId) return;
    const metric = c.metric ?? 'occupied';
    const bays = this.baysInScope(rule, device.siteId, await this.o.directory.atSite(device.siteId));
    const occupied = await this.occupiedAt(device.siteId, metric, bays);
    occupied.set(device.id, r.value ? 1 : 0);
    let taken = 0;
    for (const bay of bays) taken += occupied.get(bay.id) ?? 0;
    const free = bays.length - taken;
    const percent = bays.length ? (free / bays.length) * 100 : 0;
    const byNumber = c.freeBelow !== undefined;
    const breach = byNumber ? free < (c.freeBelow as number) : percent < (c.freePercentBelow ?? 0);
    const clear = byNumber ? free >= (c.clearAt ?? (c.freeBelow as number) + 2) : percent >= (c.clearAt ?? (c.freePercentBelow ?? 0) + 5);
    const text = `${free} of ${bays.length} spaces free at ${device.siteName ?? device.siteId}`;
    return this.step(rule, { type: 'site', id: device.siteId, name: device.siteName, device }, { breach, clear, value: free, text }, r);
  }

  /** The bays at a site a rule covers, worked out again only when the directory's list of the site changes. */
  private baysInScope(rule: RuleView, siteId: string, atSite: DeviceInfo[]): DeviceInfo[] {
    const key = `${rule.id}|${siteId}`;
    const cached = this.bays.get(key);
    if (cached && cached.from === atSite && cached.rule === rule) return cached.bays;
    const bays = atSite.filter((d) => inScope(rule.scope, d));
    this.bays.set(key, { from: atSite, rule, bays });
    return bays;
  }

  private async occupiedAt(siteId: string, metric: string, bays: DeviceInfo[]): Promise<Map<string, number>> {
    const key = `${siteId}|${metric}`;
    let map = this.occupancy.get(key);
    if (!map) {
      map = new Map();
      this.occupancy.set(key, map);
    }
    if (this.o.history && !this.occupancyWarm.has(key)) {
      this.occupancyWarm.add(key);
      for (const row of await this.o.history.latest(
        bays.map((b) => b.id),
        metric,
      ))
        if (!map.has(row.deviceId)) map.set(row.deviceId, row.value ? 1 : 0);
    }
    return map;
  }

  // ---------------------------------------------------------------- state

  /** Moves a rule's state for a subject on; returns work only when the state changes. */
  private step(rule: RuleView, subject: Subject, d: Decision, r: EngineReading): Maybe {
    const key = `${rule.id}|${subject.id}`;
    const at = r.at.getTime();
    const state = this.states.get(key);
    const phase = state?.phase ?? 'ok';
    if (phase === 'firing') {
      if (!d.clear) return;
      return (async () => {
        await this.setState(rule.id, subject.id, 'ok', at);
        this.openKeys.delete(key);
        await this.o.sink.clear(rule.id, subject.id, `Cleared: ${d.text ?? wordsFor(rule.condition, d)}.`);
      })();
    }
    if (!d.breach) return phase === 'pending' ? this.setState(rule.id, subject.id, 'ok', at) : undefined;
    const hold = holdOf(rule.condition) * MINUTE;
    if (phase === 'ok' && hold > 0) return this.setState(rule.id, subject.id, 'pending', at);
    if (phase === 'pending' && at - (state as SubjectState).since < hold) return;
    return (async () => {
      await this.setState(rule.id, subject.id, 'firing', at);
      await this.fire(rule, subject, d, r);
    })();
  }

  private fire(rule: RuleView, subject: Subject, d: Decision, r: EngineReading): Maybe {
    const key = `${rule.id}|${subject.id}`;
    if (this.openKeys.has(key)) return;
    this.openKeys.add(key);
    const { device } = subject;
    return this.o.sink
      .raise({
        rule,
        subjectType: subject.type,
        subjectId: subject.id,
        subjectName: subject.name,
        deviceId: subject.type === 'device' ? device.id : null,
        siteId: subject.type === 'area' ? null : device.siteId,
        areaId: device.areaId,
        metric: rule.condition.type === 'daqi' || rule.condition.type === 'occupancy' ? r.metric : ((rule.condition as { metric?: string }).metric ?? r.metric),
        value: d.value,
        readingAt: r.at,
        severity: d.severity ?? rule.severity,
        message: `${d.text ?? wordsFor(rule.condition, d)}${subject.name && subject.type === 'device' ? ` (${subject.name})` : ''}.`,
        at: r.at,
      })
      .then(() => undefined);
  }

  private async setState(ruleId: string, subjectId: string, phase: Phase, since: number): Promise<void> {
    this.states.set(`${ruleId}|${subjectId}`, { phase, since });
    await this.o.state?.save(ruleId, subjectId, phase, since);
  }

  // ---------------------------------------------------------------- silence

  /**
   * Raises "no data" alarms for devices silent for longer than their rule allows (within its hours,
   * silence counted from when the hours began). `lastHeard` gives stored times for devices this
   * process has not heard from itself.
   */
  async checkSilence(now: number, lastHeard?: (devices: DeviceInfo[], metric: string | undefined) => Promise<Map<string, number>>): Promise<number> {
    let raised = 0;
    for (const rule of this.rules.values()) {
      const c = rule.condition;
      if (c.type !== 'no_data') continue;
      const minutes = this.timeOfDay(now);
      if (!withinHours(minutes, c.hours)) continue;
      const devices = await this.o.directory.inScope(rule.scope);
      const stored = lastHeard ? await lastHeard(devices, c.metric) : new Map<string, number>();
      const windowStart = c.hours ? now - minutesIntoHours(minutes, c.hours) * MINUTE : Number.NEGATIVE_INFINITY;
      for (const device of devices) {
        const key = `${rule.id}|${device.id}`;
        if (this.openKeys.has(key)) continue;
        const heard = Math.max(this.lastSeen.get(key) ?? Number.NEGATIVE_INFINITY, stored.get(device.id) ?? Number.NEGATIVE_INFINITY);
        const from = Math.max(heard, windowStart);
        if (!Number.isFinite(from) || now - from < c.forMinutes * MINUTE) continue;
        const silent = Math.round((now - from) / MINUTE);
        const text = `No ${c.metric ? metricName(c.metric) : 'data'} for ${silent} minutes${Number.isFinite(heard) ? '' : ' (never heard)'}`;
        await this.setState(rule.id, device.id, 'firing', now);
        await this.fire(rule, deviceSubject(device), { breach: true, clear: false, value: silent, text }, { deviceId: device.id, metric: c.metric ?? ANY, value: silent, at: new Date(now) });
        raised++;
      }
    }
    return raised;
  }
}

const pollutantMinutes = (metric: string) => pollutantSpec(metric as Pollutant).windowMinutes;
const opWords = (op: Op) => ({ '>': 'above', '>=': 'at or above', '<': 'below', '<=': 'at or below' })[op];
const daqiText = (r: DaqiReading) => `Air quality index ${r.index} (${daqiBand(r.index)}, from ${metricName(r.pollutant)})`;

const deviceSubject = (device: DeviceInfo): Subject => ({ type: 'device', id: device.id, name: device.name, device });

function compared(c: { op?: Op; value?: number; clearValue?: number }, v: number): Decision {
  const op = c.op ?? '>';
  const value = c.value as number;
  return { breach: compare(v, op, value), clear: !compare(v, op, c.clearValue ?? value), value: round(v) };
}

/** The words for a decision of the checks that leave them out (see Decision.text). */
function wordsFor(c: Condition, d: Decision): string {
  switch (c.type) {
    case 'threshold':
      return `${metricName(c.metric)} is ${d.value}${crossed(c, d)}`;
    case 'rolling_mean': {
      const text = `${metricName(c.metric)} ${c.window} mean is ${d.value}`;
      if (!c.bands?.length) return `${text}${crossed(c, d)}`;
      return d.band ? `${text}${d.band.label ? ` (${d.band.label})` : ''}, above ${d.band.above}` : text;
    }
    case 'rate_of_change':
      return `${metricName(c.metric)} rose by ${d.value} in ${c.perMinutes} minutes`;
    default:
      return conditionWords(c);
  }
}

const crossed = (c: { op?: Op; value?: number }, d: Decision) => (d.breach ? `, ${opWords(c.op ?? '>')} ${c.value}` : '');

function banded(bands: Band[], mean: number, clearValue: number | undefined): Decision {
  const sorted = [...bands].sort((a, b) => b.above - a.above);
  const band = sorted.find((b) => mean > b.above);
  const lowest = sorted[sorted.length - 1].above;
  return {
    breach: !!band,
    clear: mean <= (clearValue ?? lowest),
    value: round(mean),
    severity: band?.severity,
    band,
  };
}

function holdOf(c: Condition): number {
  return c.type === 'threshold' || c.type === 'rolling_mean' ? (c.forMinutes ?? 0) : 0;
}

/** The metrics whose readings a condition looks at; '*' for any. */
export function metricsOf(c: Condition): string[] {
  switch (c.type) {
    case 'daqi':
      return DAQI_METRICS;
    case 'occupancy':
      return [c.metric ?? 'occupied'];
    case 'no_data':
      return [c.metric ?? ANY];
    case 'lone_worker':
      // raised by the lone-worker visits' deadline job, never by readings
      return [];
    default:
      return [c.metric];
  }
}

/** The windows (minutes of minute buckets) a condition needs per metric. */
export function windowsOf(c: Condition): [string, number][] {
  switch (c.type) {
    case 'rolling_mean':
      return [[c.metric, WINDOWS[c.window]]];
    case 'rate_of_change':
      return [[c.metric, c.perMinutes + 1]];
    case 'daqi':
      return DAQI_POLLUTANTS.map((p) => [p.pollutant, p.windowMinutes]);
    default:
      return [];
  }
}

export { isPollutant };
