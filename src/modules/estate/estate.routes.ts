import { createRequire } from 'node:module';
import { originOf as origin } from '../../platform/audit/origin.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import type { Actor } from '../../platform/auth/actor.js';
import { platformErrors } from '../../platform/errors.js';
import { ProblemResponses } from '../../platform/web/openapi.js';
import { serveAssets } from '../../platform/web/web.js';
import { estateErrors } from './estate.errors.js';
import { type ImportView, startedBy } from './estate.imports.js';
import { estatePages } from './estate.pages.js';
import {
  Area,
  AreaImportOptions,
  CreatedDevice,
  Device,
  DeviceCreate,
  type DeviceUpdate,
  DeviceUpdate as DeviceUpdateSchema,
  type DeviceView,
  type EstateFilter,
  IdParams,
  ImportAccepted,
  ImportStatus,
  ListQuery,
  Postcode,
  PostcodeParams,
  ProfileCreate,
  ProfileSchema,
  ProfileUpdate,
  Site,
  SiteCreate,
  type SiteUpdate,
  SiteUpdate as SiteUpdateSchema,
  type SiteView,
} from './estate.schema.js';
import type { EstateService } from './estate.service.js';

export type EstateRouteDeps = { estate: EstateService; config: Pick<Config, 'importBodyLimit' | 'mapTileUrl' | 'mapAttribution'> };

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const TAGS = ['estate'];
const NotFound = { 404: ProblemResponses[400] };

export function siteToApi(s: SiteView) {
  return { ...s, createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString(), connectivity: s.connectivity && { ...s.connectivity, updatedAt: s.connectivity.updatedAt.toISOString() } };
}

export function deviceToApi(d: DeviceView) {
  return {
    ...d,
    lastSeenAt: iso(d.lastSeenAt),
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    credentialsRotatedAt: d.credentialsRotatedAt.toISOString(),
    decommissionedAt: iso(d.decommissionedAt),
  };
}

/** Query parameters → the service's filter; homes only for those who may see them. */
export function filterFrom(q: ListQuery, actor: Actor, estate: EstateService): EstateFilter {
  const numbers = (s: string) => s.split(',').map(Number);
  const f: EstateFilter = {
    siteId: q.siteId?.toLowerCase(),
    areaId: q.areaId?.toLowerCase(),
    profileKey: q.profile,
    type: q.type as EstateFilter['type'],
    status: q.status as EstateFilter['status'],
    technology: q.technology as EstateFilter['technology'],
    connectivityStatus: q.connectivityStatus as EstateFilter['connectivityStatus'],
    q: q.q?.trim() || undefined,
    lowBattery: q.lowBattery,
    includeDecommissioned: q.includeDecommissioned,
    includePersonal: estate.maySeeHomes(actor),
    limit: q.limit ?? 100,
    after: q.after?.toLowerCase(),
  };
  if (q.bbox) {
    const [minLon, minLat, maxLon, maxLat] = numbers(q.bbox);
    if (!(minLon <= maxLon && minLat <= maxLat))
      throw platformErrors.VALIDATION_FAILED(undefined, [{ field: 'querystring:bbox', message: 'Give the box as minLon,minLat,maxLon,maxLat, each minimum below its maximum' }]);
    f.bbox = [minLon, minLat, maxLon, maxLat];
  }
  if (q.near) {
    const [lat, lon, metres] = numbers(q.near);
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180 || metres > 100_000)
      throw platformErrors.VALIDATION_FAILED(undefined, [{ field: 'querystring:near', message: 'Give lat,lon,metres with metres at most 100000' }]);
    f.near = { lat, lon, metres };
  }
  return f;
}

const page = <T>(items: T[], limit: number, id: (t: T) => string) => ({ items, next: items.length === limit ? id(items[items.length - 1]) : null });
const Page = (item: object) => Type.Object({ items: Type.Array(item as never), next: Type.Union([Type.String(), Type.Null()], { description: 'pass as `after` for the next page' }) });
const CsvBody = Type.String({ description: 'RFC 4180 CSV with a header row' });

const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), 'public');
const LEAFLET = join(dirname(createRequire(import.meta.url).resolve('leaflet/package.json')), 'dist');

export function estateRoutes(deps: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    // The map script and styles, and Leaflet from its npm package, served as files (pages allow no inline script).
    await serveAssets(app, { prefix: '/assets/estate/', root: [PUBLIC, LEAFLET], files: ['estate-map.mjs', 'estate.css', 'leaflet-src.esm.js', 'leaflet.css'] });
    await app.register(siteApi(deps));
    await app.register(deviceApi(deps));
    await app.register(profileAndAreaApi(deps));
    await app.register(importApi(deps));
    await app.register(postcodeApi(deps));
    await app.register(estatePages(deps));
  };
}

const read = { permission: 'estate:read' };
const manage = { permission: 'estate:manage' };
/** Writing a site or a device: the service then asks for homes:manage (a home) or estate:manage (anything else). */
const write = { permission: ['estate:manage', 'homes:manage'] };
const homes = (r: FastifyRequest, estate: EstateService) => ({ includePersonal: estate.maySeeHomes(r.actor) });

function siteApi({ estate, config }: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get(
      '/api/v1/sites',
      { config: read, schema: { tags: TAGS, summary: 'List sites (homes only with homes:read)', querystring: ListQuery, response: { 200: Page(Site), ...ProblemResponses } } },
      async (request) => {
        const f = filterFrom(request.query as ListQuery, request.actor, estate);
        return page((await estate.listSites(f)).map(siteToApi), f.limit as number, (s) => s.id);
      },
    );

    app.post(
      '/api/v1/sites',
      {
        config: write,
        schema: { tags: TAGS, summary: 'Create a site (a resident’s home needs homes:manage; any other site estate:manage)', body: SiteCreate, response: { 201: Site, ...ProblemResponses } },
      },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(siteToApi(await estate.createSite(request.actor, request.body as SiteCreate, origin(request))));
      },
    );

    app.get(
      '/api/v1/sites/export.csv',
      { config: read, schema: { tags: TAGS, summary: 'Sites as CSV (the import’s columns, plus area and times)', querystring: ListQuery } },
      async (request, reply) => {
        const f = { ...filterFrom(request.query as ListQuery, request.actor, estate), limit: undefined, after: undefined };
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="sites.csv"')
          .send(await estate.imports.exportSitesCsv(f));
      },
    );

    app.post(
      '/api/v1/sites/import',
      {
        config: manage,
        bodyLimit: config.importBodyLimit,
        schema: {
          tags: TAGS,
          summary: 'Import sites from CSV: every row is checked first; all are written, or none',
          body: CsvBody,
          consumes: ['text/csv'],
          response: { 201: Type.Object({ imported: Type.Integer() }), ...ProblemResponses },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const { count } = await estate.importSites(request.actor, csvBody(request), origin(request));
        return reply.status(201).send({ imported: count });
      },
    );

    app.get(
      '/api/v1/sites.geojson',
      { config: read, schema: { tags: TAGS, summary: 'Sites with a position, as GeoJSON points with their connectivity', querystring: ListQuery } },
      async (request, reply) => {
        const f = { ...filterFrom(request.query as ListQuery, request.actor, estate), limit: 20_000 };
        const sites = await estate.listSites(f);
        return reply.type('application/geo+json').send({
          type: 'FeatureCollection',
          features: sites
            .filter((s) => s.lat !== null && s.lon !== null)
            .map((s) => ({
              type: 'Feature',
              id: s.id,
              geometry: { type: 'Point', coordinates: [s.lon, s.lat] },
              properties: { id: s.id, name: s.name, type: s.type, areaId: s.areaId, technology: s.connectivity?.technology ?? null, status: s.connectivity?.status ?? null },
            })),
        });
      },
    );

    app.get('/api/v1/sites/:id', { config: read, schema: { tags: TAGS, summary: 'One site', params: IdParams, response: { 200: Site, ...NotFound, ...ProblemResponses } } }, async (request) =>
      siteToApi(await estate.getSite((request.params as { id: string }).id, homes(request, estate))),
    );

    app.patch(
      '/api/v1/sites/:id',
      {
        config: write,
        schema: { tags: TAGS, summary: 'Change a site (connectivity: null removes it)', params: IdParams, body: SiteUpdateSchema, response: { 200: Site, ...NotFound, ...ProblemResponses } },
      },
      async (request) => {
        request.audited = true;
        return siteToApi(await estate.updateSite(request.actor, (request.params as { id: string }).id, request.body as SiteUpdate, origin(request)));
      },
    );

    app.delete(
      '/api/v1/sites/:id',
      { config: write, schema: { tags: TAGS, summary: 'Delete a site that has no devices', params: IdParams, response: { ...NotFound, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        await estate.deleteSite(request.actor, (request.params as { id: string }).id, origin(request));
        return reply.status(204).send();
      },
    );

    app.get(
      '/api/v1/estate/rollout',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'Site counts by type × connectivity technology × status × area',
          response: {
            200: Type.Object({
              rows: Type.Array(
                Type.Object({
                  type: Type.String(),
                  technology: Type.Union([Type.String(), Type.Null()]),
                  status: Type.Union([Type.String(), Type.Null()]),
                  areaId: Type.Union([Type.String(), Type.Null()]),
                  count: Type.Integer(),
                }),
              ),
              areas: Type.Array(Area),
            }),
            ...ProblemResponses,
          },
        },
      },
      async (request) => estate.rollout(homes(request, estate)),
    );

    const Tally = { active: Type.Integer(), offline: Type.Integer(), lowBattery: Type.Integer(), total: Type.Integer() };
    app.get(
      '/api/v1/estate/health',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'Fleet health: devices online, offline and low on battery, by profile and by site',
          response: {
            200: Type.Object({
              totals: Type.Object(Tally),
              byProfile: Type.Array(Type.Object({ profileKey: Type.String(), ...Tally })),
              bySite: Type.Array(Type.Object({ siteId: Type.Union([Type.String(), Type.Null()]), siteName: Type.Union([Type.String(), Type.Null()]), ...Tally })),
            }),
            ...ProblemResponses,
          },
        },
      },
      async (request) => estate.health(homes(request, estate)),
    );
  };
}

function deviceApi({ estate, config }: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get(
      '/api/v1/devices',
      { config: read, schema: { tags: TAGS, summary: 'List devices (those in homes only with homes:read)', querystring: ListQuery, response: { 200: Page(Device), ...ProblemResponses } } },
      async (request) => {
        const f = filterFrom(request.query as ListQuery, request.actor, estate);
        return page((await estate.listDevices(f)).map(deviceToApi), f.limit as number, (d) => d.id);
      },
    );

    app.post(
      '/api/v1/devices',
      {
        config: write,
        schema: { tags: TAGS, summary: 'Register a device; its credentials are in this response only', body: DeviceCreate, response: { 201: CreatedDevice, ...NotFound, ...ProblemResponses } },
      },
      async (request, reply) => {
        request.audited = true;
        const { device, credentials } = await estate.createDevice(request.actor, request.body as DeviceCreate, origin(request));
        return reply
          .status(201)
          .header('cache-control', 'no-store')
          .send({ device: deviceToApi(device), credentials });
      },
    );

    app.get('/api/v1/devices/export.csv', { config: read, schema: { tags: TAGS, summary: 'Devices as CSV (never their credentials)', querystring: ListQuery } }, async (request, reply) => {
      const f = { ...filterFrom(request.query as ListQuery, request.actor, estate), limit: undefined, after: undefined };
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="devices.csv"')
        .send(await estate.imports.exportDevicesCsv(f));
    });

    app.post(
      '/api/v1/devices/import',
      {
        config: manage,
        bodyLimit: config.importBodyLimit,
        schema: {
          tags: TAGS,
          summary: 'Import devices from CSV; answers with each device’s new credentials as CSV, this once',
          description: 'Every row is checked first; all are written, or none. The answer is text/csv: id, name, serial, token, mqtt_username, mqtt_password.',
          body: CsvBody,
          consumes: ['text/csv'],
          produces: ['text/csv'],
          response: { 201: Type.String({ description: 'text/csv' }), ...ProblemResponses },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const result = await estate.importDevices(request.actor, csvBody(request), origin(request));
        return reply
          .status(201)
          .type('text/csv; charset=utf-8')
          .header('cache-control', 'no-store')
          .header('content-disposition', 'attachment; filename="device-credentials.csv"')
          .header('x-imported', String(result.count))
          .send(result.credentialsCsv);
      },
    );

    app.get('/api/v1/devices/:id', { config: read, schema: { tags: TAGS, summary: 'One device', params: IdParams, response: { 200: Device, ...NotFound, ...ProblemResponses } } }, async (request) =>
      deviceToApi(await estate.getDevice((request.params as { id: string }).id, homes(request, estate))),
    );

    app.patch(
      '/api/v1/devices/:id',
      { config: write, schema: { tags: TAGS, summary: 'Change a device', params: IdParams, body: DeviceUpdateSchema, response: { 200: Device, ...NotFound, ...ProblemResponses } } },
      async (request) => {
        request.audited = true;
        return deviceToApi(await estate.updateDevice(request.actor, (request.params as { id: string }).id, request.body as DeviceUpdate, origin(request)));
      },
    );

    app.post(
      '/api/v1/devices/:id/credentials',
      {
        config: write,
        schema: { tags: TAGS, summary: 'Issue new credentials; the old ones stop working at once', params: IdParams, response: { 200: CreatedDevice, ...NotFound, ...ProblemResponses } },
      },
      async (request, reply) => {
        request.audited = true;
        const { device, credentials } = await estate.rotateCredentials(request.actor, (request.params as { id: string }).id, origin(request));
        return reply.header('cache-control', 'no-store').send({ device: deviceToApi(device), credentials });
      },
    );

    app.post(
      '/api/v1/devices/:id/decommission',
      {
        config: write,
        schema: { tags: TAGS, summary: 'Decommission a device: it keeps its history and can no longer send data', params: IdParams, response: { 200: Device, ...NotFound, ...ProblemResponses } },
      },
      async (request) => {
        request.audited = true;
        return deviceToApi(await estate.decommissionDevice(request.actor, (request.params as { id: string }).id, origin(request)));
      },
    );
  };
}

function profileAndAreaApi({ estate, config }: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get('/api/v1/profiles', { config: read, schema: { tags: TAGS, summary: 'Device profiles', response: { 200: Type.Array(ProfileSchema), ...ProblemResponses } } }, async () =>
      estate.listProfiles(),
    );

    app.post(
      '/api/v1/profiles',
      { config: manage, schema: { tags: TAGS, summary: 'Create a device profile', body: ProfileCreate, response: { 201: ProfileSchema, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await estate.createProfile(request.actor, request.body as ProfileCreate, origin(request)));
      },
    );

    app.get(
      '/api/v1/profiles/:id',
      { config: read, schema: { tags: TAGS, summary: 'One device profile, by key or id', params: IdParams, response: { 200: ProfileSchema, ...NotFound, ...ProblemResponses } } },
      async (request) => estate.getProfile((request.params as { id: string }).id),
    );

    app.patch(
      '/api/v1/profiles/:id',
      {
        config: manage,
        schema: { tags: TAGS, summary: 'Change a device profile (not a built-in one)', params: IdParams, body: ProfileUpdate, response: { 200: ProfileSchema, ...NotFound, ...ProblemResponses } },
      },
      async (request) => {
        request.audited = true;
        return estate.updateProfile(request.actor, (request.params as { id: string }).id, request.body as ProfileUpdate, origin(request));
      },
    );

    app.delete(
      '/api/v1/profiles/:id',
      { config: manage, schema: { tags: TAGS, summary: 'Delete an unused device profile of your own', params: IdParams, response: { ...NotFound, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        await estate.deleteProfile(request.actor, (request.params as { id: string }).id, origin(request));
        return reply.status(204).send();
      },
    );

    app.get('/api/v1/areas', { config: read, schema: { tags: TAGS, summary: 'Areas (wards and neighbourhoods)', response: { 200: Type.Array(Area), ...ProblemResponses } } }, async () =>
      estate.listAreas(),
    );

    app.get('/api/v1/areas.geojson', { config: read, schema: { tags: TAGS, summary: 'Areas with their boundaries, as a GeoJSON FeatureCollection' } }, async (_request, reply) =>
      reply.type('application/geo+json').send(await estate.imports.areasGeoJson()),
    );

    app.post(
      '/api/v1/areas/import',
      {
        config: manage,
        bodyLimit: config.importBodyLimit,
        schema: {
          tags: TAGS,
          summary: 'Import areas from a GeoJSON FeatureCollection (matched by code, else name); every site and device is placed again',
          querystring: AreaImportOptions,
          body: Type.Object({ type: Type.Literal('FeatureCollection'), features: Type.Array(Type.Any(), { minItems: 1 }) }),
          response: {
            200: Type.Object({ created: Type.Integer(), updated: Type.Integer(), placed: Type.Object({ sites: Type.Integer(), devices: Type.Integer() }) }),
            ...ProblemResponses,
          },
        },
      },
      async (request) => {
        request.audited = true;
        return estate.importAreas(request.actor, request.body, request.query as AreaImportOptions, origin(request));
      },
    );

    app.delete(
      '/api/v1/areas/:id',
      { config: manage, schema: { tags: TAGS, summary: 'Delete an area; its sites and devices are placed again', params: IdParams, response: { ...NotFound, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        await estate.imports.deleteArea(request.actor, (request.params as { id: string }).id, origin(request));
        return reply.status(204).send();
      },
    );
  };
}

/** What the API shows of an import: progress, errors when failed, counts when done; never credentials. */
export function importToApi(job: ImportView, actor: Actor) {
  const self = `/api/v1/imports/${job.id}`;
  const credentials = job.kind === 'devices' && job.status === 'done' && job.hasCredentials && startedBy(job, actor);
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    fileName: job.fileName,
    totalRows: job.totalRows,
    checkedRows: job.checkedRows,
    writtenRows: job.writtenRows,
    errors: job.status === 'failed' ? job.errors : [],
    credentialsAvailable: credentials,
    createdAt: job.createdAt.toISOString(),
    finishedAt: iso(job.finishedAt),
    links: credentials ? { self, credentials: `${self}/credentials` } : { self },
  };
}

/**
 * CSV imports in the background: POST answers 202 at once with the import's URL, and a GET there
 * shows its progress. An import is the business of whoever started it (the same person or API key):
 * to anyone else it does not exist. The console shows every import to estate:manage holders, as before.
 */
function importApi({ estate, config }: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    const mine = async (request: FastifyRequest) => {
      const job = await estate.imports.getImport((request.params as { id: string }).id);
      if (!startedBy(job, request.actor)) throw estateErrors.IMPORT_NOT_FOUND();
      return job;
    };

    for (const kind of ['sites', 'devices'] as const) {
      app.post(
        `/api/v1/imports/${kind}`,
        {
          config: manage,
          bodyLimit: config.importBodyLimit,
          schema: {
            tags: TAGS,
            summary: `Import ${kind} from CSV in the background: answers 202 at once; follow Location for progress`,
            description: `The columns are those of POST /api/v1/${kind}/import, which does the same while you wait. Every row is checked first; all are written, or none.${
              kind === 'devices' ? ' The devices’ credentials are not in the progress; whoever started the import may POST to its credentials link, once, within 24 hours.' : ''
            }`,
            body: CsvBody,
            consumes: ['text/csv'],
            response: { 202: ImportAccepted, ...ProblemResponses },
          },
        },
        async (request, reply) => {
          request.audited = true;
          const id = await estate.imports.startImport(request.actor, kind, csvBody(request), null, origin(request));
          const self = `/api/v1/imports/${id}`;
          const job = await estate.imports.getImport(id);
          return reply.status(202).header('location', self).send({ id, kind, status: job.status, links: { self } });
        },
      );
    }

    app.get(
      '/api/v1/imports/:id',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'The progress of an import you started: queued, checking, writing, done (with counts) or failed (with row errors)',
          params: IdParams,
          response: { 200: ImportStatus, ...NotFound, ...ProblemResponses },
        },
      },
      async (request, reply) => {
        const job = await mine(request);
        const running = job.status !== 'done' && job.status !== 'failed';
        if (running) reply.header('retry-after', '2');
        return reply.header('cache-control', 'no-store').send(importToApi(job, request.actor));
      },
    );

    app.post(
      '/api/v1/imports/:id/credentials',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'The credentials a devices import made, as CSV: once, to whoever started it, within 24 hours',
          description: 'The answer is text/csv: id, name, serial, token, mqtt_username, mqtt_password. A second request answers 410 IMPORT_RESULT_GONE.',
          params: IdParams,
          produces: ['text/csv'],
          response: { 200: Type.String({ description: 'text/csv' }), 410: ProblemResponses[400], ...NotFound, ...ProblemResponses },
        },
      },
      async (request, reply) => {
        request.audited = true;
        const job = await mine(request);
        const csv = await estate.imports.takeImportCredentials(request.actor, job.id, origin(request));
        return reply.type('text/csv; charset=utf-8').header('cache-control', 'no-store').header('content-disposition', 'attachment; filename="device-credentials.csv"').send(csv);
      },
    );
  };
}

/** The council's postcode list (loaded with `weft import postcodes`): where a postcode is. Postcodes' centres are public: estate:read is enough. */
function postcodeApi({ estate }: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get(
      '/api/v1/postcodes/:postcode',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'Where a postcode is: its centre and the area it lies in, from the council’s postcode list',
          description:
            'Case and spaces do not matter: sw1a1aa, SW1A1AA and SW1A%201AA are the same postcode. A text that is not a UK postcode answers 400 POSTCODE_INVALID; a postcode not in the list, 404 POSTCODE_NOT_FOUND.',
          params: PostcodeParams,
          response: { 200: Postcode, ...NotFound, ...ProblemResponses },
        },
      },
      async (request) => estate.getPostcode((request.params as { postcode: string }).postcode),
    );
  };
}

function csvBody(request: FastifyRequest): string {
  if (typeof request.body !== 'string') throw platformErrors.UNSUPPORTED_MEDIA_TYPE('Send the file as text/csv.');
  return request.body;
}
