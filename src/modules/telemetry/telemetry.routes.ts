import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../../platform/auth/actor.js';
import { AppError } from '../../platform/errors.js';
import { eventStreamsFor } from '../../platform/web/sse.js';
import { ProblemResponses } from '../../platform/web/openapi.js';
import { serveAssets } from '../../platform/web/web.js';
import type { DeviceAuth, DeviceView, EstateService } from '../estate/index.js';
import { telemetryErrors } from './telemetry.errors.js';
import {
  AggregatesList,
  AggregatesQuery,
  BUCKETS,
  CsvQuery,
  DeviceLatest,
  DeviceParams,
  IngestBody,
  IngestResultSchema,
  LatestBody,
  LatestList,
  LatestQuery,
  NearbyList,
  NearbyQuery,
  QuarantineList,
  QuarantineQuery,
  ReadingsList,
  RangeQuery,
  StreamQuery,
} from './telemetry.schema.js';
import { type ReadingEvent, readingsFromBody, type TelemetryService } from './telemetry.service.js';

const VIEWS = 'modules/telemetry/views';
const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), 'public');
const UPLOT = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
const DAY_MS = 86_400_000;
const MAX_STREAM_DEVICES = 10_000;
/** The map page's table and markers: more devices than this are counted, not shown. */
const MAP_ROWS = 500;
/** 10,000 readings with long metric names and ISO times fit in well under this. */
const INGEST_BODY_LIMIT = 4 * 1024 * 1024;

const iso = (d: Date) => d.toISOString();
const londonTime = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'medium', timeStyle: 'medium' });
/** Times on pages: UK time, to the second (readings arrive seconds apart). */
const shown = <T extends { at: Date }>(rows: T[]) => rows.map((r) => ({ ...r, time: londonTime.format(r.at) }));
const list = (v: string | undefined) => (v ? v.split(',').filter(Boolean) : undefined);

export interface TelemetryRouteOptions {
  telemetry: TelemetryService;
  estate: EstateService;
  /** the live map's tiles (config.mapTileUrl, config.mapAttribution); without a tile URL it draws on a blank background */
  config?: { mapTileUrl?: string; mapAttribution?: string };
}

/** How the live map colours a profile's devices: by one metric, in bands (each up to and including max). */
interface MapBands {
  metric: string;
  bands: { key: string; label: string; max: number }[];
}

/**
 * Air quality by NO2 in the bands of the UK Daily Air Quality Index (hourly mean, µg/m³);
 * parking bays by occupancy. Other profiles are shown without bands.
 */
const MAP_BANDS: Record<string, MapBands> = {
  'air-quality': {
    metric: 'no2',
    bands: [
      { key: 'low', label: 'Low: 0 to 200 µg/m³', max: 200 },
      { key: 'moderate', label: 'Moderate: above 200, up to 400 µg/m³', max: 400 },
      { key: 'high', label: 'High: above 400, up to 600 µg/m³', max: 600 },
      { key: 'very-high', label: 'Very high: above 600 µg/m³', max: Number.MAX_VALUE },
    ],
  },
  'parking-bay': {
    metric: 'occupied',
    bands: [
      { key: 'free', label: 'Free', max: 0 },
      { key: 'occupied', label: 'Occupied', max: Number.MAX_VALUE },
    ],
  },
};

/** JSON to embed in a page's <script type="application/json">: nothing in it can end the element. */
const embeddedJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

export function telemetryRoutes(deps: TelemetryRouteOptions) {
  const { telemetry, estate, config } = deps;

  /** A device the caller may see: homes' devices need homes:read, and otherwise do not exist. */
  const visibleDevice = (actor: Actor, id: string): Promise<DeviceView> => estate.getDevice(id, { includePersonal: estate.maySeeHomes(actor) });

  const range = (q: { from?: string; to?: string }, defaultSpanMs = DAY_MS) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - defaultSpanMs);
    return { from, to };
  };

  /** The device a write is for: a device's own token, or an API key naming a device. */
  async function ingestDevice(actor: Actor, deviceId: string | undefined): Promise<DeviceAuth> {
    if (actor.type === 'device') {
      if (deviceId && deviceId.toLowerCase() !== actor.id) throw telemetryErrors.DEVICE_MISMATCH();
      deviceId = actor.id as string;
    } else if (!deviceId) throw telemetryErrors.DEVICE_ID_REQUIRED();
    const device = await estate.deviceAuth(deviceId);
    if (!device) throw telemetryErrors.DEVICE_UNAVAILABLE();
    return device;
  }

  /** Devices named by a query, less those the caller may not see. */
  async function devicesFor(actor: Actor, q: { deviceIds?: string[]; siteId?: string; areaId?: string; profile?: string }): Promise<DeviceView[]> {
    const includePersonal = estate.maySeeHomes(actor);
    if (q.deviceIds) {
      if (q.deviceIds.length > 10_000) throw telemetryErrors.TOO_MANY_DEVICES();
      const ids = q.deviceIds.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)).map((id) => id.toLowerCase());
      return ids.length ? estate.listDevices({ ids, includePersonal, includeDecommissioned: true, limit: ids.length }) : [];
    }
    if (!q.siteId && !q.areaId && !q.profile) throw telemetryErrors.QUERY_INVALID();
    if (q.siteId) await estate.getSite(q.siteId, { includePersonal });
    return estate.listDevices({ siteId: q.siteId, areaId: q.areaId, profileKey: q.profile, includePersonal, limit: 10_000 });
  }

  const latestValues = async (devices: DeviceView[], metrics?: string[]) =>
    (
      await telemetry.latest(
        devices.map((d) => d.id),
        metrics,
      )
    ).map((r) => ({ deviceId: r.deviceId, metric: r.metric, value: r.value, at: iso(r.at) }));

  return async (app: FastifyInstance) => {
    // The live page's script and styles, and uPlot for its chart from the npm package: files, as pages allow no inline script.
    await serveAssets(app, { prefix: '/assets/telemetry/', root: PUBLIC, files: ['live.js', 'telemetry-map.mjs', 'telemetry.css'] });
    await serveAssets(app, { prefix: '/assets/uplot/', root: UPLOT, files: ['uPlot.esm.js', 'uPlot.min.css'], maxAge: '1d' });

    const read = { permission: 'telemetry:read' };
    const tags = ['telemetry'];

    // ---- Ingest ----
    app.post(
      '/api/v1/telemetry',
      {
        config: { permission: 'telemetry:ingest' },
        bodyLimit: INGEST_BODY_LIMIT,
        // The body schema documents the shapes; readingsFromBody and ingest check every reading
        // themselves (naming the one at fault), so Ajv need not walk 10,000 of them first.
        validatorCompiler: () => () => true,
        schema: {
          tags,
          summary: 'Send readings: with a device token (Authorization: Bearer wdev_…), or an API key with telemetry:ingest naming deviceId',
          body: IngestBody,
          response: { 200: IngestResultSchema, ...ProblemResponses },
        },
      },
      async (request) => {
        const { deviceId, readings } = readingsFromBody(request.body);
        const device = await ingestDevice(request.actor, deviceId);
        return telemetry.ingest(device, readings, 'http');
      },
    );

    // ---- Latest values ----
    app.get(
      '/api/v1/devices/:id/latest',
      { config: read, schema: { tags, summary: 'The latest value of each metric of a device', params: DeviceParams, response: { 200: DeviceLatest, ...ProblemResponses } } },
      async (request) => {
        const device = await visibleDevice(request.actor, (request.params as { id: string }).id);
        const values = (await telemetry.latest([device.id])).map((r) => ({ metric: r.metric, value: r.value, at: iso(r.at) }));
        return { deviceId: device.id, name: device.name, values };
      },
    );

    app.get(
      '/api/v1/telemetry/latest',
      {
        config: read,
        schema: { tags, summary: 'Latest values of many devices: by ids, site, area or profile', querystring: LatestQuery, response: { 200: LatestList, ...ProblemResponses } },
      },
      async (request) => {
        const q = request.query as LatestQuery;
        const devices = await devicesFor(request.actor, { ...q, deviceIds: list(q.deviceIds) });
        return { values: await latestValues(devices, list(q.metrics)) };
      },
    );

    app.post(
      '/api/v1/telemetry/latest',
      {
        config: read,
        schema: { tags, summary: 'Latest values of up to 10,000 devices named in the body (a read: nothing changes)', body: LatestBody, response: { 200: LatestList, ...ProblemResponses } },
      },
      async (request) => {
        // A query sent as POST because 10,000 ids do not fit in a URL; it changes nothing, so there is nothing to audit.
        request.audited = true;
        const body = request.body as LatestBody;
        const devices = await devicesFor(request.actor, { deviceIds: body.deviceIds });
        return { values: await latestValues(devices, body.metrics) };
      },
    );

    // ---- Ranges, aggregates, export ----
    app.get(
      '/api/v1/devices/:id/readings',
      {
        config: read,
        schema: {
          tags,
          summary: 'Raw readings of one metric in [from, to), oldest first (at most 31 days; default the last 24 hours)',
          params: DeviceParams,
          querystring: RangeQuery,
          response: { 200: ReadingsList, ...ProblemResponses },
        },
      },
      async (request) => {
        const q = request.query as RangeQuery;
        const device = await visibleDevice(request.actor, (request.params as { id: string }).id);
        const { from, to } = range(q);
        const rows = await telemetry.range(device.id, q.metric, from, to, q.limit);
        return { deviceId: device.id, metric: q.metric, readings: rows.map((r) => ({ at: iso(r.at), value: r.value })) };
      },
    );

    app.get(
      '/api/v1/devices/:id/aggregates',
      {
        config: read,
        schema: {
          tags,
          summary: 'Count, min, max and mean of one metric per bucket (1m to 1d, UTC); default the last 24 hours',
          params: DeviceParams,
          querystring: AggregatesQuery,
          response: { 200: AggregatesList, ...ProblemResponses },
        },
      },
      async (request) => {
        const q = request.query as AggregatesQuery;
        const device = await visibleDevice(request.actor, (request.params as { id: string }).id);
        const { from, to } = range(q);
        const rows = await telemetry.aggregate(device.id, q.metric, from, to, BUCKETS[q.bucket as keyof typeof BUCKETS]);
        return { deviceId: device.id, metric: q.metric, bucket: q.bucket, buckets: rows.map((r) => ({ ...r, at: iso(r.at) })) };
      },
    );

    app.get(
      '/api/v1/devices/:id/readings.csv',
      {
        config: read,
        schema: {
          tags,
          summary: 'Raw readings as CSV (device_id, metric, time, value), streamed; at most 366 days; default the last 24 hours',
          params: DeviceParams,
          querystring: CsvQuery,
          produces: ['text/csv'],
        },
      },
      async (request, reply) => {
        const q = request.query as CsvQuery;
        const device = await visibleDevice(request.actor, (request.params as { id: string }).id);
        const { from, to } = range(q);
        const rows = telemetry.exportCsv(device.id, q.metric, from, to);
        const name = `${device.id}${q.metric ? `-${q.metric}` : ''}-${from.toISOString().slice(0, 10)}.csv`;
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).header('cache-control', 'no-store').send(Readable.from(rows));
      },
    );

    app.get(
      '/api/v1/telemetry/nearby',
      {
        config: read,
        schema: {
          tags,
          summary: 'Devices within a bounding box, or a radius of a point, with their latest values',
          querystring: NearbyQuery,
          response: { 200: NearbyList, ...ProblemResponses },
        },
      },
      async (request) => {
        const q = request.query as NearbyQuery;
        const includePersonal = estate.maySeeHomes(request.actor);
        let devices: DeviceView[];
        if (q.bbox) {
          const [minLon, minLat, maxLon, maxLat] = q.bbox.split(',').map(Number);
          if (!(minLon <= maxLon && minLat <= maxLat)) throw telemetryErrors.QUERY_INVALID('The bounding box must be minLon,minLat,maxLon,maxLat with each minimum below its maximum.');
          devices = await estate.listDevices({ bbox: [minLon, minLat, maxLon, maxLat], includePersonal, limit: q.limit });
        } else if (q.lat !== undefined && q.lon !== undefined && q.radius !== undefined) {
          devices = await estate.listDevices({ near: { lat: q.lat, lon: q.lon, metres: q.radius }, includePersonal, limit: q.limit });
        } else throw telemetryErrors.QUERY_INVALID('Give a bounding box (bbox=minLon,minLat,maxLon,maxLat), or lat, lon and radius in metres.');
        const values = await telemetry.latest(
          devices.map((d) => d.id),
          list(q.metrics),
        );
        const byDevice = new Map<string, { metric: string; value: number; at: string }[]>();
        for (const v of values) {
          const arr = byDevice.get(v.deviceId) ?? [];
          arr.push({ metric: v.metric, value: v.value, at: iso(v.at) });
          byDevice.set(v.deviceId, arr);
        }
        return { devices: devices.map((d) => ({ id: d.id, name: d.name, profileKey: d.profileKey, lat: d.lat, lon: d.lon, values: byDevice.get(d.id) ?? [] })) };
      },
    );

    // ---- Quarantine ----
    const quarantineFor = async (actor: Actor, q: QuarantineQuery) => {
      if (q.deviceId) await visibleDevice(actor, q.deviceId);
      const limit = q.limit ?? 100;
      const rows = await telemetry.listQuarantine({ deviceId: q.deviceId?.toLowerCase(), before: q.before, limit });
      let visible = rows;
      if (!q.deviceId && !estate.maySeeHomes(actor) && rows.length) {
        const ids = [...new Set(rows.map((r) => r.device_id))];
        const seen = new Set((await estate.listDevices({ ids, includePersonal: false, includeDecommissioned: true, limit: ids.length })).map((d) => d.id));
        visible = rows.filter((r) => seen.has(r.device_id));
      }
      return { rows: visible, next: rows.length === limit ? rows[rows.length - 1].id : null };
    };

    app.get(
      '/api/v1/telemetry/quarantine',
      {
        config: read,
        schema: { tags, summary: 'Quarantined readings (unknown metrics, values out of range), newest first', querystring: QuarantineQuery, response: { 200: QuarantineList, ...ProblemResponses } },
      },
      async (request) => {
        const { rows, next } = await quarantineFor(request.actor, request.query as QuarantineQuery);
        return {
          items: rows.map((r) => ({ id: r.id, deviceId: r.device_id, metric: r.metric, at: iso(r.measured_at), value: r.value, reason: r.reason, source: r.source, receivedAt: iso(r.received_at) })),
          next,
        };
      },
    );

    // ---- Live ----
    const streams = eventStreamsFor(app);

    app.get(
      '/api/v1/telemetry/stream',
      {
        config: read,
        schema: {
          tags,
          summary: 'Live readings as Server-Sent Events (event "readings", data: a JSON array): of a device, of a site, or of a metric (optionally in an area)',
          querystring: StreamQuery,
          produces: ['text/event-stream'],
        },
      },
      async (request, reply) => {
        const q = request.query as StreamQuery;
        const mayHomes = estate.maySeeHomes(request.actor);
        if (q.deviceId) await visibleDevice(request.actor, q.deviceId);
        else if (q.siteId) await estate.getSite(q.siteId, { includePersonal: mayHomes });
        else if (!q.metric && !q.profile) throw telemetryErrors.QUERY_INVALID('Say what to follow: give deviceId, siteId, metric or profile (with areaId to keep to one area).');
        const deviceId = q.deviceId?.toLowerCase();
        const siteId = q.siteId?.toLowerCase();
        const areaId = q.areaId?.toLowerCase();
        // Readings carry no profile: the devices of the profile are those there are when the stream opens.
        const ofProfile = q.profile ? new Set((await estate.listDevices({ profileKey: q.profile, areaId, includePersonal: mayHomes, limit: MAX_STREAM_DEVICES })).map((d) => d.id)) : undefined;
        const wanted = (r: ReadingEvent) =>
          (!deviceId || r.deviceId === deviceId) &&
          (!siteId || r.siteId === siteId) &&
          (!areaId || r.areaId === areaId) &&
          (!q.metric || r.metric === q.metric) &&
          (!ofProfile || ofProfile.has(r.deviceId)) &&
          (mayHomes || !r.isPersonal);

        streams.open(request, reply, (send) =>
          telemetry.onReadings((batch) => {
            const mine = batch.filter(wanted);
            if (mine.length)
              send(
                'readings',
                mine.map((r) => ({ deviceId: r.deviceId, metric: r.metric, value: r.value, at: iso(r.at) })),
              );
          }),
        );
      },
    );

    // ---- Console pages ----
    const page = { permission: 'telemetry:read', page: 'console' as const };

    app.get('/console/telemetry', { config: page, schema: { hide: true, querystring: { type: 'object', properties: { deviceId: { type: 'string', maxLength: 60 } } } } }, async (request, reply) => {
      const { deviceId } = request.query as { deviceId?: string };
      const includePersonal = estate.maySeeHomes(request.actor);
      const devices = await estate.listDevices({ includePersonal, limit: 1000 });
      let device: DeviceView | undefined;
      let values: { metric: string; value: number; at: Date; time: string }[] = [];
      let error: string | undefined;
      if (deviceId) {
        try {
          device = await visibleDevice(request.actor, deviceId);
          values = shown(await telemetry.latest([device.id]));
        } catch (err) {
          if (!(err instanceof AppError) || err.status !== 404) throw err;
          error = 'There is no device with that id. Choose one from the list.';
        }
      }
      return reply.page(
        `${VIEWS}/telemetry.njk`,
        {
          pageTitle: device ? `Telemetry: ${device.name}` : 'Telemetry',
          deviceItems: [{ value: '', text: 'Choose a device' }, ...devices.map((d) => ({ value: d.id, text: `${d.name} (${d.profileKey})`, selected: d.id === device?.id }))],
          device,
          values,
          errors: error ? [{ text: error, href: '#deviceId' }] : undefined,
          fieldError: error ? { text: error } : undefined,
        },
        error ? 400 : 200,
      );
    });

    app.get(
      '/console/telemetry/devices/:id',
      { config: page, schema: { hide: true, params: DeviceParams, querystring: { type: 'object', properties: { metric: { type: 'string', maxLength: 100 } } } } },
      async (request, reply) => {
        const device = await visibleDevice(request.actor, (request.params as { id: string }).id);
        const latest = await telemetry.latest([device.id]);
        const profile = await estate.getProfile(device.profileKey);
        const metrics = [...new Set([...profile.metrics.map((m) => m.name), ...latest.map((l) => l.metric)])];
        const requested = (request.query as { metric?: string }).metric;
        const metric = requested && metrics.includes(requested) ? requested : (latest[0]?.metric ?? metrics[0]);
        const recent = metric ? await telemetry.recent(device.id, metric, 30) : [];
        const unit = profile.metrics.find((m) => m.name === metric)?.unit ?? '';
        return reply.page(`${VIEWS}/device-live.njk`, {
          pageTitle: `Live readings: ${device.name}`,
          device,
          lastSeen: device.lastSeenAt ? londonTime.format(device.lastSeenAt) : undefined,
          latest: shown(latest),
          units: Object.fromEntries(profile.metrics.map((m) => [m.name, m.unit])),
          metricItems: metrics.map((m) => ({ value: m, text: m, selected: m === metric })),
          metric,
          unit,
          recent: shown(recent),
        });
      },
    );

    app.get(
      '/console/telemetry/map',
      {
        config: page,
        schema: { hide: true, querystring: { type: 'object', properties: { profile: { type: 'string', maxLength: 100 }, areaId: { type: 'string', maxLength: 60 } } } },
      },
      async (request, reply) => {
        const q = request.query as { profile?: string; areaId?: string };
        const includePersonal = estate.maySeeHomes(request.actor);
        const [profiles, areas] = await Promise.all([estate.listProfiles(), estate.listAreas()]);
        const profileKey = q.profile || 'air-quality';
        const profile = profiles.find((p) => p.key === profileKey);
        const area = q.areaId ? areas.find((a) => a.id === q.areaId?.toLowerCase()) : undefined;
        const errors: { text: string; href: string }[] = [];
        if (!profile) errors.push({ text: 'There is no kind of device with that name. Choose one from the list', href: '#profile' });
        if (q.areaId && !area) errors.push({ text: 'There is no area with that id. Choose one from the list', href: '#areaId' });
        const filter = { profileKey, areaId: area?.id, includePersonal };
        const devices = errors.length ? [] : await estate.listDevices({ ...filter, limit: MAP_ROWS + 1 });
        const more = devices.length > MAP_ROWS ? (await estate.countDevices(filter)) - MAP_ROWS : 0;
        const shownDevices = devices.slice(0, MAP_ROWS);
        const latest = shownDevices.length ? await telemetry.latest(shownDevices.map((d) => d.id)) : [];
        const byDevice = new Map<string, Map<string, { value: number; at: Date }>>();
        for (const l of latest) {
          const m = byDevice.get(l.deviceId) ?? new Map();
          m.set(l.metric, { value: l.value, at: l.at });
          byDevice.set(l.deviceId, m);
        }
        const metrics = profile?.metrics ?? [];
        const units = Object.fromEntries(metrics.map((m) => [m.name, m.unit]));
        const areaNames = new Map(areas.map((a) => [a.id, a.name]));
        const rows = shownDevices.map((d) => {
          const values = byDevice.get(d.id) ?? new Map<string, { value: number; at: Date }>();
          const newest = [...values.values()].reduce<Date | undefined>((t, v) => (!t || v.at > t ? v.at : t), undefined);
          return {
            device: d,
            areaName: d.areaId ? (areaNames.get(d.areaId) ?? '') : '',
            cells: metrics.map((m) => {
              const v = values.get(m.name);
              return v ? `${v.value}${m.unit ? ` ${m.unit}` : ''}` : '';
            }),
            time: newest ? londonTime.format(newest) : undefined,
          };
        });
        const bands = MAP_BANDS[profileKey];
        const mapData = {
          profile: profileKey,
          metric: bands?.metric ?? null,
          bands: bands?.bands.map((b) => ({ key: b.key, max: b.max === Number.MAX_VALUE ? null : b.max })) ?? [],
          units,
          metrics: metrics.map((m) => m.name),
          tileUrl: config?.mapTileUrl ?? '',
          attribution: config?.mapAttribution ?? '',
          streamUrl: `/api/v1/telemetry/stream?profile=${encodeURIComponent(profileKey)}${area ? `&areaId=${area.id}` : ''}`,
          devices: shownDevices
            .filter((d) => d.lat !== null && d.lon !== null)
            .map((d) => ({
              id: d.id,
              name: d.name,
              siteName: d.siteName,
              lat: d.lat,
              lon: d.lon,
              values: Object.fromEntries([...(byDevice.get(d.id) ?? new Map<string, { value: number; at: Date }>())].map(([k, v]) => [k, { value: v.value, at: iso(v.at) }])),
            })),
        };
        return reply.page(
          `${VIEWS}/map.njk`,
          {
            pageTitle: 'Live map of devices',
            profile,
            profileItems: profiles.map((p) => ({ value: p.key, text: p.name, selected: p.key === profileKey })),
            areaItems: [{ value: '', text: 'All areas' }, ...areas.map((a) => ({ value: a.id, text: a.name, selected: a.id === area?.id }))],
            area,
            metrics,
            rows,
            more,
            bands: bands ? { metric: bands.metric, unit: units[bands.metric] ?? '', items: bands.bands } : undefined,
            mapData: embeddedJson(mapData),
            errors: errors.length ? errors : undefined,
            profileError: errors.find((e) => e.href === '#profile'),
            areaError: errors.find((e) => e.href === '#areaId'),
          },
          errors.length ? 400 : 200,
        );
      },
    );

    app.get('/console/telemetry/quarantine', { config: page, schema: { hide: true, querystring: QuarantineQuery } }, async (request, reply) => {
      const q = request.query as QuarantineQuery;
      const { rows, next } = await quarantineFor(request.actor, q);
      const shownRows = rows.map((r) => ({ ...r, received: londonTime.format(r.received_at) }));
      return reply.page(`${VIEWS}/quarantine.njk`, { pageTitle: 'Quarantined readings', rows: shownRows, next, deviceId: q.deviceId ?? '' });
    });
  };
}
