import { hostname } from 'node:os';
import type { Client, PublishPacket, Subscription } from 'aedes';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { Counter, register } from 'prom-client';
import { type BrokerHooks, CONSUMED } from '../../platform/mqtt/broker.js';
import { AppError } from '../../platform/errors.js';
import type { DeviceAuth } from '../estate/index.js';
import { type DecodedReading, decodePayload } from './decoders.js';

/**
 * MQTT ingest: devices publish readings to `weft/devices/{deviceId}/telemetry` (or
 * `…/events`). Either the embedded broker hands each publish to Weft in-process
 * (brokerHooks), or Weft subscribes to an external broker with a shared subscription
 * (ExternalSubscriber). Both decode with the device's profile and write through a
 * micro-batcher, and acknowledge a QoS 1 message only after its readings are
 * committed: an acknowledged reading is never lost.
 */

/** The slice of EstateService MQTT ingest needs. */
export interface MqttDeviceDirectory {
  deviceForMqtt(username: string, password: string): Promise<DeviceAuth | undefined>;
  deviceAuth(deviceId: string): Promise<DeviceAuth | undefined>;
  noteSeen(deviceId: string, at: Date, battery?: number): void;
}

export interface IngestOutcome {
  accepted: number;
  duplicates: number;
  quarantined: unknown[];
}

/** The slice of TelemetryService MQTT ingest needs. */
export interface MqttTelemetrySink {
  ingest(device: DeviceAuth, readings: DecodedReading[], source: 'mqtt'): Promise<IngestOutcome>;
}

export interface MqttLog {
  info: (...args: any[]) => void;
  warn: (...args: any[]) => void;
  error: (...args: any[]) => void;
}

export const TOPIC_ROOT = 'weft/devices';
const LEAVES = new Set(['telemetry', 'events']);

/** The device id and leaf of a device topic, or undefined for any other topic. */
export function parseDeviceTopic(topic: string): { deviceId: string; leaf: string } | undefined {
  const parts = topic.split('/');
  if (parts.length !== 4 || parts[0] !== 'weft' || parts[1] !== 'devices' || !parts[2] || !LEAVES.has(parts[3])) return undefined;
  return { deviceId: parts[2], leaf: parts[3] };
}

const OUTCOMES = { messages: 'received', malformed: 'malformed', rejected: 'rejected', unknownDevices: 'unknown_device', denied: 'denied', failedBatches: 'failed' } as const;
type Outcome = keyof typeof OUTCOMES;

/** Every IngestStats alive, so a Prometheus scrape can add up what they counted since the last one. */
const liveStats = new Set<WeakRef<IngestStats>>();

/**
 * MQTT messages by how they ended, for Prometheus (prom-client's default registry, which
 * /metrics includes). Counted in plain fields on the hot path and added up when scraped.
 */
const messagesCounter: Counter<'outcome'> =
  (register.getSingleMetric('weft_mqtt_messages_total') as Counter<'outcome'> | undefined) ??
  new Counter({
    name: 'weft_mqtt_messages_total',
    help: 'MQTT ingest: messages received, and those malformed, refused by telemetry, for unknown devices, denied by the ACL (with failed sign-ins), or in batches that failed to commit',
    labelNames: ['outcome'],
    collect() {
      for (const ref of liveStats) {
        const stats = ref.deref();
        if (stats) stats.report((outcome, n) => messagesCounter.inc({ outcome }, n));
        else liveStats.delete(ref);
      }
    },
  });

/** Counters since start, for the console, the logs, Prometheus and the tests. */
export class IngestStats {
  messages = 0;
  readings = 0;
  accepted = 0;
  duplicates = 0;
  quarantined = 0;
  /** payloads the device's profile cannot decode */
  malformed = 0;
  /** messages whose readings telemetry refused as a whole (an AppError) */
  rejected = 0;
  /** messages for device ids Weft does not know (external broker) */
  unknownDevices = 0;
  /** publishes and subscriptions refused by the ACL, and failed sign-ins */
  denied = 0;
  /** batches that failed to commit (database trouble); their QoS 1 messages were not acknowledged */
  failedBatches = 0;
  readonly #reported: Partial<Record<Outcome, number>> = {};

  constructor() {
    liveStats.add(new WeakRef(this));
  }

  add(key: Outcome): void {
    this[key]++;
  }

  /** Hands over what was counted since the last call, by Prometheus outcome. */
  report(emit: (outcome: string, n: number) => void): void {
    for (const key of Object.keys(OUTCOMES) as Outcome[]) {
      const n = this[key] - (this.#reported[key] ?? 0);
      if (n > 0) emit(OUTCOMES[key], n);
      this.#reported[key] = this[key];
    }
  }

  snapshot() {
    return { ...this };
  }
}

// ---------------------------------------------------------------------------
// Micro-batcher

type Done = (err?: Error) => void;
interface Entry {
  device: DeviceAuth;
  readings: DecodedReading[];
  done?: Done;
}

export interface BatcherOptions {
  /** a batch is written at once when it holds this many readings */
  maxReadings?: number;
  /** otherwise, this long after its first reading arrived */
  maxDelayMs?: number;
  /** above this many readings waiting, QoS 0 publishers are held until a batch commits */
  highWater?: number;
  /** devices written at once within a batch (PostgreSQL has a pool; SQLite one writer) */
  concurrency?: number;
}

/**
 * Collects decoded readings from many messages and writes them with one
 * telemetry.ingest call per device per batch. One batch is written at a time; what
 * arrives meanwhile forms the next. Each message's `done` is called after its batch
 * committed, in the order the messages arrived (MQTT wants PUBACKs in order).
 */
export class IngestBatcher {
  private entries: Entry[] = [];
  private pendingReadings = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private waiters: (() => void)[] = [];
  readonly maxReadings: number;
  readonly maxDelayMs: number;
  readonly highWater: number;
  readonly concurrency: number;

  constructor(
    private readonly sink: (device: DeviceAuth, readings: DecodedReading[]) => Promise<IngestOutcome>,
    private readonly stats: IngestStats,
    private readonly log: MqttLog,
    options: BatcherOptions = {},
  ) {
    this.maxReadings = options.maxReadings ?? 5000;
    this.maxDelayMs = options.maxDelayMs ?? 5;
    this.highWater = options.highWater ?? 50_000;
    this.concurrency = options.concurrency ?? 1;
  }

  /** Readings waiting to be written (not counting the batch being written). */
  get pending(): number {
    return this.pendingReadings;
  }

  get overHighWater(): boolean {
    return this.pendingReadings >= this.highWater;
  }

  add(device: DeviceAuth, readings: DecodedReading[], done?: Done): void {
    this.entries.push({ device, readings, done });
    this.pendingReadings += readings.length;
    if (this.running) return; // the running write picks these up when it finishes
    if (this.pendingReadings >= this.maxReadings) this.start();
    else this.timer ??= setTimeout(() => this.start(), this.maxDelayMs);
  }

  /** Resolves once the waiting readings drop below the high-water mark. */
  belowHighWater(): Promise<void> {
    if (!this.overHighWater) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Writes everything waiting and resolves when it is committed (and acknowledged). */
  async flush(): Promise<void> {
    while (this.entries.length || this.running) {
      if (!this.running) this.start();
      await this.running;
    }
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.running || !this.entries.length) return;
    this.running = (async () => {
      try {
        while (this.entries.length) {
          const batch = this.entries;
          this.entries = [];
          this.pendingReadings = 0;
          this.releaseWaiters();
          await this.write(batch);
        }
      } finally {
        this.running = undefined;
      }
    })();
  }

  private releaseWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async write(batch: Entry[]): Promise<void> {
    // One write per device, in chunks of at most maxReadings (telemetry takes 10,000 at most).
    const groups = new Map<string, { device: DeviceAuth; chunks: Entry[][]; size: number }>();
    for (const e of batch) {
      let g = groups.get(e.device.deviceId);
      if (!g) {
        g = { device: e.device, chunks: [[]], size: 0 };
        groups.set(e.device.deviceId, g);
      }
      if (g.size + e.readings.length > this.maxReadings && g.size > 0) {
        g.chunks.push([]);
        g.size = 0;
      }
      g.chunks[g.chunks.length - 1].push(e);
      g.size += e.readings.length;
    }
    const tasks: { device: DeviceAuth; entries: Entry[] }[] = [];
    for (const g of groups.values()) for (const entries of g.chunks) tasks.push({ device: g.device, entries });
    const failures = new Map<Entry, Error>();
    let next = 0;
    const worker = async () => {
      while (next < tasks.length) {
        const task = tasks[next++];
        await this.writeEntries(task.device, task.entries, failures);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, tasks.length) }, worker));
    for (const e of batch) {
      try {
        e.done?.(failures.get(e));
      } catch (err) {
        this.log.error({ err }, 'mqtt ingest: acknowledging a message failed');
      }
    }
  }

  /**
   * Writes one device's messages in one call. When telemetry refuses the whole (an
   * AppError: one message's readings are bad), the halves are written apart until the
   * bad message is found, so the others are kept.
   */
  private async writeEntries(device: DeviceAuth, entries: Entry[], failures: Map<Entry, Error>): Promise<void> {
    const readings = entries.length === 1 ? entries[0].readings : entries.flatMap((e) => e.readings);
    try {
      this.count(await this.sink(device, readings));
    } catch (err) {
      if (!(err instanceof AppError)) {
        this.stats.add('failedBatches');
        this.log.error({ err, deviceId: device.deviceId }, 'mqtt ingest: writing a batch failed; its QoS 1 messages are not acknowledged');
        for (const e of entries) failures.set(e, err as Error);
        return;
      }
      if (entries.length === 1) return this.reject(device, err);
      const half = Math.ceil(entries.length / 2);
      await this.writeEntries(device, entries.slice(0, half), failures);
      await this.writeEntries(device, entries.slice(half), failures);
    }
  }

  private count(result: IngestOutcome): void {
    this.stats.accepted += result.accepted;
    this.stats.duplicates += result.duplicates;
    this.stats.quarantined += result.quarantined.length;
  }

  private reject(device: DeviceAuth, err: AppError): void {
    this.stats.add('rejected');
    this.log.warn({ deviceId: device.deviceId, code: err.code, detail: err.message }, 'mqtt ingest: readings refused');
  }
}

/** Logs at most one line per device per minute for repeated bad input. */
class QuietLog {
  private readonly last = new Map<string, number>();
  constructor(private readonly log: MqttLog) {}
  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if ((this.last.get(key) ?? 0) > now - 60_000) return;
    if (this.last.size > 10_000) this.last.clear();
    this.last.set(key, now);
    this.log.warn(fields, message);
  }
}

export interface MqttIngestDeps {
  estate: MqttDeviceDirectory;
  telemetry: MqttTelemetrySink;
  log: MqttLog;
  batch?: BatcherOptions;
}

/** A message's readings, or undefined when its payload is malformed (counted and logged here). */
function decodeMessage(auth: DeviceAuth, leaf: string, payload: Buffer, arrivedAt: Date, stats: IngestStats, quiet: QuietLog): DecodedReading[] | undefined {
  try {
    if (leaf === 'events') {
      // An event may be just its name: {"event": "fall"} or "fall".
      const text = payload.length <= 64 ? payload.toString('utf8').trim() : '';
      const name = /^[a-z][a-z0-9_]{0,39}$/.test(text) ? text : /^\{\s*"event"\s*:\s*"([a-z][a-z0-9_]{0,39})"\s*\}$/.exec(text)?.[1];
      if (name) return [{ metric: name, value: 1, at: arrivedAt }];
    }
    return decodePayload(auth.profile.decoder, payload, auth.profile.metrics, { defaultAt: arrivedAt });
  } catch (err) {
    stats.add('malformed');
    const code = err instanceof AppError ? err.code : 'PAYLOAD_MALFORMED';
    quiet.warn(
      `malformed:${auth.deviceId}`,
      { deviceId: auth.deviceId, code, detail: (err as Error).message },
      'mqtt ingest: payload not decoded (counted; further ones from this device are not logged for a minute)',
    );
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Embedded broker

const RECHECK_MS = 60_000;

interface DeviceState {
  auth: DeviceAuth;
  checkedAt: number;
  telemetryTopic: string;
  eventsTopic: string;
  /** weft/devices/{id}/ */
  root: string;
}

export interface EmbeddedIngest {
  hooks: BrokerHooks;
  stats: IngestStats;
  batcher: IngestBatcher;
}

/**
 * The hooks that make the embedded broker a device gateway: devices sign in with
 * their id and MQTT password; each may publish only to its own telemetry and events
 * topics and subscribe only under its own topic (for commands). A publish is decoded
 * and batched inside the broker's authorizePublish, whose callback — which sends the
 * PUBACK for QoS 1 — runs after the batch is committed.
 */
export function embeddedIngest(deps: MqttIngestDeps): EmbeddedIngest {
  const stats = new IngestStats();
  const quiet = new QuietLog(deps.log);
  const clients = new WeakMap<Client, DeviceState>();
  const batcher = new IngestBatcher((device, readings) => deps.telemetry.ingest(device, readings, 'mqtt'), stats, deps.log, deps.batch);

  const hooks: BrokerHooks = {
    authenticate(client, username, password, done) {
      const refuse = (code: 3 | 4, message: string) => done(Object.assign(new Error(message), { returnCode: code }), false);
      if (!username || !password?.length) {
        stats.add('denied');
        return refuse(4, 'A device signs in with its id as the username and its MQTT password.');
      }
      deps.estate.deviceForMqtt(username, password.toString('utf8')).then(
        (auth) => {
          if (!auth) {
            stats.add('denied');
            quiet.warn(`auth:${username.slice(0, 64)}`, { username: username.slice(0, 64) }, 'mqtt: sign-in refused');
            return refuse(4, 'Bad username or password.');
          }
          const root = `${TOPIC_ROOT}/${auth.deviceId}/`;
          clients.set(client, { auth, checkedAt: Date.now(), telemetryTopic: `${root}telemetry`, eventsTopic: `${root}events`, root });
          done(null, true);
        },
        (err) => {
          deps.log.error({ err }, 'mqtt: checking device credentials failed');
          refuse(3, 'Weft cannot check credentials just now.');
        },
      );
    },

    authorizePublish(client, packet, callback) {
      const state = clients.get(client);
      // Compared with the device's own topics, worked out once at sign-in.
      const leaf = state ? (packet.topic === state.telemetryTopic ? 'telemetry' : packet.topic === state.eventsTopic ? 'events' : undefined) : undefined;
      if (!state || !leaf) {
        stats.add('denied');
        quiet.warn(`acl:${state?.auth.deviceId}`, { deviceId: state?.auth.deviceId, topic: packet.topic.slice(0, 200) }, 'mqtt: publish refused by the ACL; device disconnected');
        return callback(new Error('A device may publish only to its own telemetry and events topics.'));
      }
      // Weft takes the message in: it is acknowledged but not routed to MQTT subscribers,
      // and never retained (retained telemetry would only pile up in the broker's memory).
      packet.retain = false;
      (packet as PublishPacket & { [CONSUMED]?: boolean })[CONSUMED] = true;
      if (Date.now() - state.checkedAt > RECHECK_MS) {
        // Pick up profile changes, rotated credentials and decommissioning while connected.
        deps.estate.deviceAuth(state.auth.deviceId).then(
          (auth) => {
            if (!auth) return callback(new Error('This device is no longer registered.'));
            state.auth = auth;
            state.checkedAt = Date.now();
            handle(state.auth, leaf, packet, callback);
          },
          () => handle(state.auth, leaf, packet, callback),
        );
        return;
      }
      handle(state.auth, leaf, packet, callback);
    },

    authorizeSubscribe(client, subscription: Subscription, callback) {
      const state = clients.get(client);
      if (state && subscription.topic.startsWith(state.root)) return callback(null, subscription);
      stats.add('denied');
      return callback(null, null);
    },

    async drain() {
      await batcher.flush();
    },
  };

  function handle(auth: DeviceAuth, leaf: string, packet: PublishPacket, callback: (error?: Error | null) => void): void {
    stats.add('messages');
    const arrivedAt = new Date();
    const readings = decodeMessage(auth, leaf, packet.payload as Buffer, arrivedAt, stats, quiet);
    if (!readings) {
      deps.estate.noteSeen(auth.deviceId, arrivedAt);
      // Acknowledged: sending it again would not make it decodable.
      callback(null);
      return;
    }
    stats.readings += readings.length;
    if (packet.qos > 0) batcher.add(auth, readings, (err) => callback(err ?? null));
    else if (!batcher.overHighWater) {
      batcher.add(auth, readings);
      callback(null);
    }
    // QoS 0 has no acknowledgement to hold back, so hold the publisher instead (TCP backpressure).
    else batcher.add(auth, readings, () => callback(null));
  }

  return { hooks, stats, batcher };
}

// ---------------------------------------------------------------------------
// External broker

export interface ExternalSubscriberOptions extends MqttIngestDeps {
  url: string;
  /** stable per process, so the broker keeps its session (and queued messages) across restarts */
  clientId?: string;
  /** the shared-subscription group; processes in one group split the messages */
  group?: string;
  /** how long the broker keeps the session while Weft is away, in seconds */
  sessionExpirySeconds?: number;
  /** QoS 1 messages the broker may send before Weft acknowledges (MQTT 5 Receive Maximum) */
  receiveMaximum?: number;
}

/** The reason code a broker gives when another connection took over this client id. */
const SESSION_TAKEN_OVER = 0x8e;

/**
 * Weft as a subscriber of an external broker (Mosquitto, EMQX). It subscribes to
 * `$share/{group}/weft/devices/+/telemetry` (and `…/events`) at QoS 1 with a
 * persistent MQTT 5 session, so several ingest processes split the load and
 * messages wait in the broker while Weft restarts. The broker authenticates devices
 * and enforces their ACL; Weft trusts the device id in the topic.
 *
 * PUBACKs are sent after the batch holding the message is committed, in the order
 * the messages arrived. If a batch cannot be written, Weft drops the connection
 * without acknowledging, so the broker delivers those messages again.
 */
export class ExternalSubscriber {
  readonly stats = new IngestStats();
  readonly batcher: IngestBatcher;
  readonly clientId: string;
  private client?: MqttClient;
  private readonly quiet: QuietLog;
  private acks: { id: number; ready: boolean }[] = [];
  private ackHead = 0;
  private generation = 0;
  private stopping = false;

  constructor(private readonly options: ExternalSubscriberOptions) {
    this.clientId = options.clientId || `weft-${hostname()}`.slice(0, 64);
    this.quiet = new QuietLog(options.log);
    this.batcher = new IngestBatcher((device, readings) => options.telemetry.ingest(device, readings, 'mqtt'), this.stats, options.log, options.batch);
  }

  get topics(): string[] {
    const group = this.options.group ?? 'weft';
    return [...LEAVES].map((leaf) => `$share/${group}/${TOPIC_ROOT}/+/${leaf}`);
  }

  /** Connects and subscribes; resolves once the first subscription is granted. */
  async start(): Promise<void> {
    const client = mqtt.connect(this.options.url, {
      clientId: this.clientId,
      protocolVersion: 5,
      clean: false,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: 2_000,
      properties: { sessionExpiryInterval: this.options.sessionExpirySeconds ?? 86_400, receiveMaximum: this.options.receiveMaximum ?? 1000 },
    });
    this.client = client;
    client.handleMessage = (packet, callback) => this.onMessage(packet, callback);
    client.on('close', () => {
      // Unacknowledged messages come again on the next connection; forget their slots.
      this.generation++;
      this.acks = [];
      this.ackHead = 0;
    });
    client.on('disconnect', (packet) => {
      if (packet.reasonCode === SESSION_TAKEN_OVER) {
        this.options.log.error({ clientId: this.clientId }, 'mqtt: another process connected with the same client id; this one stops. Give each ingest process its own WEFT_MQTT_CLIENT_ID.');
        client.end(true);
      }
    });
    client.on('error', (err) => this.options.log.warn({ err: err.message, clientId: this.clientId }, 'mqtt: external broker connection error'));
    let first: { resolve: () => void; reject: (err: Error) => void } | undefined;
    const subscribed = new Promise<void>((resolve, reject) => {
      first = { resolve, reject };
    });
    // Subscribing again on every connection is harmless and covers a broker that lost the session.
    client.on('connect', () => {
      client.subscribe(this.topics, { qos: 1 }, (err) => {
        if (err) {
          const refused = new Error(`The broker refused the subscription to device topics (${err.message}).`);
          if (first) first.reject(refused);
          else this.options.log.error({ err }, 'mqtt: subscribing to device topics failed');
        } else first?.resolve();
        first = undefined;
      });
    });
    const timer = setTimeout(() => first?.reject(new Error(`no answer from ${redact(this.options.url)} within 15 seconds`)), 15_000);
    const early = (err: Error) => first?.reject(err);
    client.once('error', early);
    try {
      await subscribed;
    } catch (err) {
      client.end(true);
      throw err;
    } finally {
      clearTimeout(timer);
      client.removeListener('error', early);
    }
    this.options.log.info({ url: redact(this.options.url), clientId: this.clientId, topics: this.topics }, 'mqtt: subscribed to the external broker');
  }

  /** Stops taking messages, commits and acknowledges those held, then disconnects (the session stays). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.batcher.flush();
    const client = this.client;
    if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  private onMessage(packet: IPublishPacket, callback: (err?: Error) => void): void {
    if (this.stopping) {
      // Not acknowledged: the broker delivers it again when Weft is back.
      callback(packet.qos > 0 ? DEFERRED : undefined);
      return;
    }
    const ack = packet.qos > 0 ? this.reserveAck(packet.messageId as number) : undefined;
    // mqtt.js handles one message at a time and would send the PUBACK when called back
    // without an error; calling back with a marker lets it read on without acknowledging.
    const release = () => callback(packet.qos > 0 ? DEFERRED : undefined);
    if (this.batcher.overHighWater) this.batcher.belowHighWater().then(release);
    else release();
    this.process(packet).then(
      () => ack?.(),
      (err) => this.fail(err),
    );
  }

  private async process(packet: IPublishPacket): Promise<void> {
    this.stats.add('messages');
    const arrivedAt = new Date();
    const topic = parseDeviceTopic(packet.topic);
    const auth = topic ? await this.options.estate.deviceAuth(topic.deviceId) : undefined;
    if (!topic || !auth) {
      this.stats.add('unknownDevices');
      this.quiet.warn(`unknown:${topic?.deviceId}`, { topic: packet.topic.slice(0, 200) }, 'mqtt: message for an unknown device dropped');
      return;
    }
    const readings = decodeMessage(auth, topic.leaf, packet.payload as Buffer, arrivedAt, this.stats, this.quiet);
    if (!readings) {
      this.options.estate.noteSeen(auth.deviceId, arrivedAt);
      return;
    }
    this.stats.readings += readings.length;
    await new Promise<void>((resolve, reject) => this.batcher.add(auth, readings, (err) => (err ? reject(err) : resolve())));
  }

  /** Reserves this message's place in the acknowledgement order; the returned function marks it committed. */
  private reserveAck(messageId: number): () => void {
    const slot = { id: messageId, ready: false };
    const generation = this.generation;
    this.acks.push(slot);
    return () => {
      if (generation !== this.generation) return;
      slot.ready = true;
      while (this.ackHead < this.acks.length && this.acks[this.ackHead].ready) {
        sendPuback(this.client as MqttClient, this.acks[this.ackHead].id);
        this.ackHead++;
      }
      if (this.ackHead > 1024 && this.ackHead * 2 > this.acks.length) {
        this.acks = this.acks.slice(this.ackHead);
        this.ackHead = 0;
      }
    };
  }

  private fail(err: Error): void {
    this.options.log.error({ err }, 'mqtt: a batch could not be written; reconnecting so the broker delivers its messages again');
    // Dropping the connection without acknowledging is how MQTT asks for redelivery.
    this.client?.stream?.destroy();
  }
}

/** The marker passed to mqtt.js's handleMessage callback to hold back its automatic PUBACK. */
const DEFERRED = Object.assign(new Error('acknowledged after commit'), { weftDeferred: true });

/**
 * mqtt.js has no public call to acknowledge a message later, so this uses the one
 * its own handlers use to send a PUBACK.
 */
function sendPuback(client: MqttClient, messageId: number): void {
  (client as unknown as { _sendPacket(packet: object): void })._sendPacket({ cmd: 'puback', messageId });
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'mqtt://…';
  }
}
