import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { can } from '../../platform/auth/actor.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import type { UploadedFile } from '../../platform/web/forms.js';
import { errorFor, errorList } from '../../platform/web/web.js';
import { BUILTIN_DECODERS } from '../telemetry/index.js';
import { estateErrors } from './estate.errors.js';
import { filterFrom, type EstateRouteDeps } from './estate.routes.js';
import { originOf as origin } from '../../platform/audit/origin.js';
import {
  AREA_KINDS,
  CONNECTIVITY_STATUS_NAMES,
  CONNECTIVITY_STATUSES,
  CONNECTIVITY_TECHNOLOGIES,
  DEVICE_STATUSES,
  type DeviceCreate,
  type DeviceView,
  IdParams,
  ListQuery,
  type Profile,
  ProfileCreate,
  ProfileUpdate,
  SITE_TYPE_NAMES,
  SITE_TYPES,
  type SiteCreate,
  type SiteView,
  TECHNOLOGY_NAMES,
} from './estate.schema.js';
import { deviceInput, rowErrors, SITE_COLUMNS, siteInput } from './imports.js';
import { isPersonalType } from './mapping.js';
import { rolloutChart, rolloutTables } from './rollout.js';

const VIEWS = 'modules/estate/views';
const readPage = { permission: 'estate:read', page: 'console' as const };
const managePage = { permission: 'estate:manage', page: 'console' as const };
/** Site and device forms: the service then asks for homes:manage (a home) or estate:manage (anything else). */
const writePage = { permission: ['estate:manage', 'homes:manage'], page: 'console' as const };
const PAGE_SIZE = 50;
const DATE_FIELDS = ['planned_at', 'ordered_at', 'installed_at', 'live_at'];
/** the site form's fields: the import's columns without the id */
const SITE_FIELDS: string[] = SITE_COLUMNS.filter((c) => c !== 'id');
const DEVICE_FIELDS = ['name', 'serial', 'profile', 'site_id', 'external_id', 'lat', 'lon', 'firmware'];

const options = <T extends string>(keys: readonly T[], names: Record<T, string> | null, selected: unknown, any?: string) => [
  ...(any !== undefined ? [{ value: '', text: any }] : []),
  ...keys.map((k) => ({ value: k, text: names ? names[k] : k, selected: k === selected })),
];

/** Filters from a GET form: empty fields are ignored, bad ones dropped (the page says so). */
function listQuery(request: FastifyRequest): { query: ListQuery; raw: Record<string, string>; invalid: boolean } {
  const raw = Object.fromEntries(Object.entries(request.query as Record<string, string>).filter(([k, v]) => v !== '' && k !== 'limit'));
  const converted = Value.Convert(ListQuery, { ...raw });
  const valid = Value.Check(ListQuery, converted);
  return { query: valid ? (converted as ListQuery) : {}, raw, invalid: !valid };
}

/** The URL of the next page: the same filters, after the last row shown. */
function pagerUrls(path: string, raw: Record<string, string>, items: { id: string }[]) {
  const { after, ...rest } = raw;
  const next = items.length === PAGE_SIZE ? `${path}?${new URLSearchParams({ ...rest, after: items[items.length - 1].id })}` : null;
  const first = after ? `${path}?${new URLSearchParams(rest)}` : null;
  return { next, first, exportQuery: new URLSearchParams(rest).toString() };
}

function formError(err: unknown, field: string): FieldError[] {
  if (err instanceof AppError && err.status < 500) return err.fields.length ? err.fields.map((f) => ({ field: columnOf(f.field), message: f.message })) : [{ field, message: err.message }];
  throw err;
}

const COLUMN_OF: Record<string, string> = { siteId: 'site_id', externalId: 'external_id', ownerTeam: 'owner_team' };
const columnOf = (field: string) => COLUMN_OF[field] ?? field;

/** Day, month and year boxes → YYYY-MM-DD; left as typed when not a date, so the check reports it. */
function dateFrom(body: Record<string, unknown>, name: string): string {
  const [d, m, y] = ['day', 'month', 'year'].map((p) => String(body[`${name}-${p}`] ?? '').trim());
  if (!d && !m && !y) return '';
  return `${y.padStart(4, '0')}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
}

function siteCells(body: Record<string, unknown>): Record<string, string> {
  const cells: Record<string, string> = {};
  for (const f of SITE_FIELDS) cells[f] = String(body[f] ?? '').trim();
  for (const f of DATE_FIELDS) cells[f] = dateFrom(body, f);
  cells.tags = cells.tags.replace(/,/g, ';');
  return cells;
}

function siteToCells(s: SiteView): Record<string, string> {
  const c = s.connectivity;
  const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  return {
    type: s.type,
    name: s.name,
    address: s.address,
    postcode: str(s.postcode),
    uprn: str(s.uprn),
    lat: str(s.lat),
    lon: str(s.lon),
    tags: s.tags.join(', '),
    owner_team: str(s.ownerTeam),
    technology: str(c?.technology),
    connectivity_status: str(c?.status),
    down_mbps: str(c?.downMbps),
    up_mbps: str(c?.upMbps),
    provider: str(c?.provider),
    circuit_ref: str(c?.circuitRef),
    planned_at: str(c?.plannedAt),
    ordered_at: str(c?.orderedAt),
    installed_at: str(c?.installedAt),
    live_at: str(c?.liveAt),
  };
}

/** The date input's three boxes from YYYY-MM-DD (or from what was typed). */
function dateItems(value: string, hasError: boolean) {
  const [y, m, d] = value ? value.split('-') : ['', '', ''];
  const cls = (w: number) => `govuk-input--width-${w}${hasError ? ' govuk-input--error' : ''}`;
  return [
    { name: 'day', label: 'Day', value: d?.replace(/^0/, ''), classes: cls(2) },
    { name: 'month', label: 'Month', value: m?.replace(/^0/, ''), classes: cls(2) },
    { name: 'year', label: 'Year', value: y?.replace(/^0+/, ''), classes: cls(4) },
  ];
}

function fieldErrors(fields: FieldError[], names: string[]) {
  return Object.fromEntries(names.map((f) => [f, errorFor(fields, f)]));
}

/** The error summary links dates to their day box. */
function summary(fields: FieldError[]) {
  return errorList(fields).map((e) => (DATE_FIELDS.includes(e.href.slice(1)) ? { ...e, href: `${e.href}-day` } : e));
}

export function estatePages(deps: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    await app.register(overviewPages(deps));
    await app.register(sitePages(deps));
    await app.register(devicePages(deps));
    await app.register(profilePages(deps));
    await app.register(importPages(deps));
  };
}

function overviewPages({ estate, config }: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/estate', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const includePersonal = estate.maySeeHomes(request.actor);
      const [sites, health, areas, profiles] = await Promise.all([estate.countSites({ includePersonal }), estate.health({ includePersonal }), estate.listAreas(), estate.listProfiles()]);
      return reply.page(`${VIEWS}/estate.njk`, {
        pageTitle: 'Estate',
        sites,
        health,
        areas: areas.length,
        profiles: profiles.length,
        canManage: estate.mayWrite(request.actor, false),
        canAddHome: estate.mayWrite(request.actor, true),
      });
    });

    app.get('/console/estate/rollout', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const areaId = String((request.query as { areaId?: string }).areaId ?? '');
      const rollout = await estate.rollout({ includePersonal: estate.maySeeHomes(request.actor) });
      const area = rollout.areas.find((a) => a.id === areaId);
      const tables = rolloutTables(rollout, area?.id);
      return reply.page(`${VIEWS}/rollout.njk`, {
        pageTitle: area ? `Connectivity rollout in ${area.name}` : 'Connectivity rollout',
        ...tables,
        chart: rolloutChart(tables.byType),
        area,
        areaItems: [{ value: '', text: 'All areas' }, ...rollout.areas.map((a) => ({ value: a.id, text: a.name, selected: a.id === area?.id }))],
        map: mapContext(config, area ? `/api/v1/sites.geojson?areaId=${area.id}` : '/api/v1/sites.geojson'),
      });
    });

    app.get('/console/estate/health', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const health = await estate.health({ includePersonal: estate.maySeeHomes(request.actor) });
      const profiles = new Map((await estate.listProfiles()).map((p) => [p.key, p.name]));
      return reply.page(`${VIEWS}/health.njk`, {
        pageTitle: 'Device health',
        health,
        profiles: Object.fromEntries(profiles),
        sites: health.bySite.slice(0, 100),
        moreSites: Math.max(0, health.bySite.length - 100),
      });
    });

    app.get('/console/estate/areas', { config: readPage, schema: { hide: true } }, async (request, reply) => showAreas(request, reply, []));

    const showAreas = async (request: FastifyRequest, reply: FastifyReply, fields: FieldError[], flash?: string) =>
      reply.page(
        `${VIEWS}/areas.njk`,
        {
          pageTitle: 'Areas',
          areas: await estate.listAreas(),
          canManage: can(request.actor, 'estate:manage'),
          kindItems: AREA_KINDS.map((k) => ({ value: k, text: k === 'ward' ? 'Wards' : 'Neighbourhoods', checked: k === 'ward' })),
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, ['file', 'kind']),
          flash,
          map: mapContext(config, null),
        },
        fields.length ? 400 : 200,
      );

    app.post('/console/estate/areas', { config: managePage, bodyLimit: config.importBodyLimit, schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const file = body.file as UploadedFile | undefined;
      if (!file || typeof file !== 'object' || !file.content.trim()) return showAreas(request, reply, [{ field: 'file', message: 'Choose a GeoJSON file' }]);
      let geojson: unknown;
      try {
        geojson = JSON.parse(file.content);
      } catch {
        return showAreas(request, reply, [{ field: 'file', message: 'The file is not valid JSON. Choose a GeoJSON file' }]);
      }
      try {
        request.audited = true;
        const kind = AREA_KINDS.includes(body.kind as never) ? (body.kind as 'ward') : 'ward';
        const r = await estate.importAreas(request.actor, geojson, { kind }, origin(request));
        return showAreas(
          request,
          reply,
          [],
          `Imported ${r.created + r.updated} areas (${r.created} new, ${r.updated} changed). ${r.placed.sites} sites and ${r.placed.devices} devices moved to a different area.`,
        );
      } catch (err) {
        const fields = formError(err, 'file');
        return showAreas(request, reply, [{ field: 'file', message: fields.map((f) => f.message).join('. ') }]);
      }
    });
  };
}

function mapContext(config: EstateRouteDeps['config'], sitesUrl: string | null) {
  return { tileUrl: config.mapTileUrl, attribution: config.mapAttribution, sitesUrl, areasUrl: '/api/v1/areas.geojson' };
}

function sitePages({ estate }: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/estate/sites', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const { query, raw, invalid } = listQuery(request);
      const filter = { ...filterFrom(query, request.actor, estate), limit: PAGE_SIZE };
      const [sites, total, areas] = await Promise.all([estate.listSites(filter), estate.countSites({ ...filter, limit: undefined }), estate.listAreas()]);
      const homes = estate.maySeeHomes(request.actor);
      const types = SITE_TYPES.filter((t) => homes || t !== 'home');
      return reply.page(`${VIEWS}/sites.njk`, {
        pageTitle: 'Sites',
        sites,
        total,
        query: raw,
        invalid,
        ...pagerUrls('/console/estate/sites', raw, sites),
        typeItems: options(types, SITE_TYPE_NAMES, raw.type, 'Any'),
        technologyItems: options(CONNECTIVITY_TECHNOLOGIES, TECHNOLOGY_NAMES, raw.technology, 'Any'),
        statusItems: options(CONNECTIVITY_STATUSES, CONNECTIVITY_STATUS_NAMES, raw.connectivityStatus, 'Any'),
        areaItems: [{ value: '', text: 'Any' }, ...areas.map((a) => ({ value: a.id, text: a.name, selected: a.id === raw.areaId }))],
        areaNames: Object.fromEntries(areas.map((a) => [a.id, a.name])),
        canManage: estate.mayWrite(request.actor, false),
        canAddHome: estate.mayWrite(request.actor, true),
        ...names,
      });
    });

    const showForm = async (request: FastifyRequest, reply: FastifyReply, site: SiteView | null, values: Record<string, string>, fields: FieldError[]) => {
      const err = fieldErrors(fields, SITE_FIELDS);
      // Only the types this person may write: the care team, holding homes:manage alone, gets the resident's home only.
      const types = writableTypes(request);
      const onlyHomes = types.every(isPersonalType);
      return reply.page(
        `${VIEWS}/site-form.njk`,
        {
          pageTitle: site ? `Change ${site.name}` : onlyHomes ? 'Add a resident’s home' : 'Add a site',
          site,
          values,
          errors: summary(fields),
          fieldErrors: err,
          submitText: site ? 'Save changes' : onlyHomes ? 'Add home' : 'Add site',
          typeItems: types.map((t) => ({ value: t, text: SITE_TYPE_NAMES[t], checked: t === values.type || types.length === 1 })),
          technologyItems: options(CONNECTIVITY_TECHNOLOGIES, TECHNOLOGY_NAMES, values.technology, 'No connectivity recorded'),
          statusItems: options(CONNECTIVITY_STATUSES, CONNECTIVITY_STATUS_NAMES, values.connectivity_status, 'Not known'),
          dates: Object.fromEntries(DATE_FIELDS.map((f) => [f, dateItems(values[f] ?? '', !!err[f])])),
        },
        fields.length ? 400 : 200,
      );
    };

    const writableTypes = (request: FastifyRequest) => SITE_TYPES.filter((t) => estate.mayWrite(request.actor, isPersonalType(t)));

    /** A site this person may change: homes exist only for those who may see or change them. */
    const writable = async (request: FastifyRequest) => {
      const site = await estate.getSite((request.params as { id: string }).id, { includePersonal: estate.maySeeHomes(request.actor) || estate.mayWrite(request.actor, true) });
      estate.checkWrite(request.actor, site.isPersonal);
      return site;
    };

    app.get('/console/estate/sites/new', { config: writePage, schema: { hide: true } }, async (request, reply) => showForm(request, reply, null, {}, []));

    app.post('/console/estate/sites/new', { config: writePage, schema: { hide: true } }, async (request, reply) => {
      const cells = siteCells(request.body as Record<string, unknown>);
      const input = siteInput(cells);
      const errors = rowErrors('sites', 0, input).map((e) => ({ field: e.field, message: e.message }));
      if (errors.length) return showForm(request, reply, null, cells, errors);
      try {
        request.audited = true;
        const site = await estate.createSite(request.actor, input as SiteCreate, origin(request));
        return reply.redirect(`/console/estate/sites/${site.id}?saved=created`, 303);
      } catch (err) {
        return showForm(request, reply, null, cells, formError(err, 'type'));
      }
    });

    app.get('/console/estate/sites/:id', { config: readPage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const site = await estate.getSite((request.params as { id: string }).id, { includePersonal: estate.maySeeHomes(request.actor) });
      const devices = await estate.listDevices({ siteId: site.id, includePersonal: true, limit: 500 });
      const saved = (request.query as { saved?: string }).saved;
      const flash = saved === 'created' ? 'Site added.' : saved === 'changed' ? 'Changes saved.' : undefined;
      return reply.page(`${VIEWS}/site.njk`, { pageTitle: site.name, site, devices, flash, canManage: estate.mayWrite(request.actor, site.isPersonal), ...names });
    });

    app.get('/console/estate/sites/:id/edit', { config: writePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const site = await writable(request);
      return showForm(request, reply, site, siteToCells(site), []);
    });

    app.post('/console/estate/sites/:id/edit', { config: writePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const site = await writable(request);
      const cells = siteCells(request.body as Record<string, unknown>);
      const input = siteInput(cells);
      const errors = rowErrors('sites', 0, input).map((e) => ({ field: e.field, message: e.message }));
      if (errors.length) return showForm(request, reply, site, cells, errors);
      try {
        request.audited = true;
        await estate.updateSite(request.actor, site.id, { ...(input as SiteCreate), connectivity: (input as SiteCreate).connectivity ?? null }, origin(request));
        return reply.redirect(`/console/estate/sites/${site.id}?saved=changed`, 303);
      } catch (err) {
        return showForm(request, reply, site, cells, formError(err, 'type'));
      }
    });

    app.post('/console/estate/sites/:id/delete', { config: writePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      request.audited = true;
      await estate.deleteSite(request.actor, (request.params as { id: string }).id, origin(request));
      return reply.redirect('/console/estate/sites', 303);
    });
  };
}

const names = { typeNames: SITE_TYPE_NAMES, technologyNames: TECHNOLOGY_NAMES, statusNames: CONNECTIVITY_STATUS_NAMES };

function devicePages({ estate }: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    const findHomes = (request: FastifyRequest) => estate.maySeeHomes(request.actor) || estate.mayWrite(request.actor, true);
    app.get('/console/estate/devices', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const { query, raw, invalid } = listQuery(request);
      const filter = { ...filterFrom(query, request.actor, estate), limit: PAGE_SIZE };
      const [devices, total, profiles, areas] = await Promise.all([estate.listDevices(filter), estate.countDevices({ ...filter, limit: undefined }), estate.listProfiles(), estate.listAreas()]);
      return reply.page(`${VIEWS}/devices.njk`, {
        pageTitle: 'Devices',
        devices,
        total,
        query: raw,
        invalid,
        ...pagerUrls('/console/estate/devices', raw, devices),
        profileItems: [{ value: '', text: 'Any' }, ...profiles.map((p) => ({ value: p.key, text: p.name, selected: p.key === raw.profile }))],
        statusItems: options(DEVICE_STATUSES, { active: 'Online', offline: 'Offline', decommissioned: 'Decommissioned' }, raw.status, 'Online or offline'),
        areaItems: [{ value: '', text: 'Any' }, ...areas.map((a) => ({ value: a.id, text: a.name, selected: a.id === raw.areaId }))],
        profileNames: Object.fromEntries(profiles.map((p) => [p.key, p.name])),
        canManage: estate.mayWrite(request.actor, false),
      });
    });

    const showForm = async (request: FastifyRequest, reply: FastifyReply, device: DeviceView | null, values: Record<string, string>, fields: FieldError[]) => {
      const profiles = await estate.listProfiles();
      let site: SiteView | null = null;
      if (values.site_id) site = await estate.getSite(values.site_id, { includePersonal: findHomes(request) }).catch(() => null);
      return reply.page(
        `${VIEWS}/device-form.njk`,
        {
          pageTitle: device ? `Change ${device.name}` : 'Add a device',
          device,
          site: site && estate.mayWrite(request.actor, site.isPersonal) ? site : null,
          // Only the care team's homes, for someone who may not write the rest of the estate.
          homesOnly: !estate.mayWrite(request.actor, false),
          values,
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, DEVICE_FIELDS),
          profileItems: [{ value: '', text: 'Choose a kind of device' }, ...profiles.map((p) => ({ value: p.key, text: p.name, selected: p.key === values.profile }))],
        },
        fields.length ? 400 : 200,
      );
    };

    const deviceCells = (body: Record<string, unknown>) => Object.fromEntries(DEVICE_FIELDS.map((f) => [f, String(body[f] ?? '').trim()]));
    const check = (request: FastifyRequest, cells: Record<string, string>) => {
      const input = deviceInput(cells);
      const errors = rowErrors('devices', 0, input).map((e) => ({ field: e.field, message: e.message }));
      // A device outside any home is the wider estate's: without estate:manage it must be in a home.
      if (!cells.site_id && !estate.mayWrite(request.actor, false) && !errors.some((e) => e.field === 'site_id'))
        errors.push({ field: 'site_id', message: 'Enter the id of the resident’s home the device is in' });
      return { input: input as DeviceCreate, errors };
    };
    /** Where a write went wrong: who may use a site, or the site itself, belong to the site field. */
    const fieldOf = (err: unknown, otherwise: string) =>
      err instanceof AppError && (err.code.startsWith('SITE') || err.code === 'PERSONAL_SITE_FORBIDDEN' || err.code === 'ESTATE_MANAGE_REQUIRED') ? 'site_id' : otherwise;

    app.get('/console/estate/devices/new', { config: writePage, schema: { hide: true } }, async (request, reply) => {
      const siteId = String((request.query as { siteId?: string }).siteId ?? '');
      return showForm(request, reply, null, { site_id: siteId }, []);
    });

    app.post('/console/estate/devices/new', { config: writePage, schema: { hide: true } }, async (request, reply) => {
      const cells = deviceCells(request.body as Record<string, unknown>);
      const { input, errors } = check(request, cells);
      if (errors.length) return showForm(request, reply, null, cells, errors);
      try {
        request.audited = true;
        const { device, credentials } = await estate.createDevice(request.actor, input, origin(request));
        return reply.page(`${VIEWS}/credentials.njk`, { pageTitle: 'Device added', heading: 'Device added', device, credentials });
      } catch (err) {
        return showForm(request, reply, null, cells, formError(err, fieldOf(err, 'serial')));
      }
    });

    const visible = (request: FastifyRequest) => estate.getDevice((request.params as { id: string }).id, { includePersonal: estate.maySeeHomes(request.actor) });
    /** A device this person may change. */
    const writable = async (request: FastifyRequest) => {
      const device = await estate.getDevice((request.params as { id: string }).id, { includePersonal: findHomes(request) });
      estate.checkWrite(request.actor, device.isPersonal);
      return device;
    };

    app.get('/console/estate/devices/:id', { config: readPage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const device = await visible(request);
      const profile = await estate.getProfile(device.profileId);
      const saved = (request.query as { saved?: string }).saved;
      const flash = saved === 'changed' ? 'Changes saved.' : saved === 'decommissioned' ? 'Device decommissioned. Its credentials no longer work.' : undefined;
      return reply.page(`${VIEWS}/device.njk`, { pageTitle: device.name, device, profile, flash, canManage: estate.mayWrite(request.actor, device.isPersonal) });
    });

    app.get('/console/estate/devices/:id/edit', { config: writePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const d = await writable(request);
      const s = (v: unknown) => (v === null || v === undefined ? '' : String(v));
      return showForm(
        request,
        reply,
        d,
        {
          name: d.name,
          serial: d.serial,
          profile: d.profileKey,
          site_id: s(d.siteId),
          external_id: s(d.externalId),
          lat: d.ownPosition ? s(d.lat) : '',
          lon: d.ownPosition ? s(d.lon) : '',
          firmware: s(d.firmware),
        },
        [],
      );
    });

    app.post('/console/estate/devices/:id/edit', { config: writePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const device = await writable(request);
      const cells = deviceCells(request.body as Record<string, unknown>);
      const { input, errors } = check(request, cells);
      if (errors.length) return showForm(request, reply, device, cells, errors);
      try {
        request.audited = true;
        await estate.updateDevice(request.actor, device.id, input, origin(request));
        return reply.redirect(`/console/estate/devices/${device.id}?saved=changed`, 303);
      } catch (err) {
        return showForm(request, reply, device, cells, formError(err, fieldOf(err, 'serial')));
      }
    });

    app.post('/console/estate/devices/:id/credentials', { config: writePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      request.audited = true;
      const { device, credentials } = await estate.rotateCredentials(request.actor, (request.params as { id: string }).id, origin(request));
      return reply.page(`${VIEWS}/credentials.njk`, { pageTitle: 'New credentials issued', heading: 'New credentials issued', device, credentials, rotated: true });
    });

    app.post('/console/estate/devices/:id/decommission', { config: writePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      request.audited = true;
      const device = await estate.decommissionDevice(request.actor, (request.params as { id: string }).id, origin(request));
      return reply.redirect(`/console/estate/devices/${device.id}?saved=decommissioned`, 303);
    });
  };
}

function importPages({ estate, config }: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    const showForm = async (reply: FastifyReply, kind: string, fields: FieldError[]) =>
      reply.page(
        `${VIEWS}/import.njk`,
        {
          pageTitle: 'Import from CSV',
          kindItems: [
            { value: 'sites', text: 'Sites', checked: kind === 'sites' },
            { value: 'devices', text: 'Devices', checked: kind === 'devices' },
          ],
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, ['kind', 'file']),
          imports: await estate.imports.listImports(),
        },
        fields.length ? 400 : 200,
      );

    app.get('/console/estate/import', { config: managePage, schema: { hide: true } }, async (request, reply) => showForm(reply, String((request.query as { kind?: string }).kind ?? ''), []));

    app.post('/console/estate/import', { config: managePage, bodyLimit: config.importBodyLimit, schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const kind = String(body.kind ?? '');
      const file = body.file as UploadedFile | undefined;
      const errors: FieldError[] = [];
      if (kind !== 'sites' && kind !== 'devices') errors.push({ field: 'kind', message: 'Choose whether the file holds sites or devices' });
      if (!file || typeof file !== 'object' || !file.content.trim()) errors.push({ field: 'file', message: 'Choose a CSV file' });
      if (errors.length) return showForm(reply, kind, errors);
      request.audited = true;
      const id = await estate.imports.startImport(request.actor, kind as 'sites' | 'devices', (file as UploadedFile).content, (file as UploadedFile).filename || null, origin(request));
      return reply.redirect(`/console/estate/imports/${id}`, 303);
    });

    app.get('/console/estate/imports/:id', { config: managePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const job = await estate.imports.getImport((request.params as { id: string }).id);
      const running = job.status !== 'done' && job.status !== 'failed';
      const percent = job.totalRows ? Math.floor((job.checkedRows / job.totalRows) * 100) : 0;
      return reply.page(`${VIEWS}/import-status.njk`, { pageTitle: `Import of ${job.kind}`, job, running, percent, mine: job.createdBy === request.actor.id });
    });

    app.post('/console/estate/imports/:id/credentials', { config: managePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      request.audited = true;
      const csv = await estate.imports.takeImportCredentials(request.actor, (request.params as { id: string }).id, origin(request));
      return reply.type('text/csv; charset=utf-8').header('cache-control', 'no-store').header('content-disposition', 'attachment; filename="device-credentials.csv"').send(csv);
    });
  };
}

// ---------------------------------------------------------------- profiles

/** Blank metric rows on a new profile's form; a form shows at least this many, and two spare. */
const METRIC_ROWS = 8;
const MAX_METRIC_ROWS = 50;
const METRIC_KINDS = ['measure', 'state', 'event'] as const;
const METRIC_PARTS = ['name', 'unit', 'kind', 'min', 'max'] as const;
const PROFILE_FIELDS = ['name', 'key', 'description', 'report_interval', 'offline_tolerance', 'battery_low', 'raw_retention_days'];
/** The form's names for the schema's properties. */
const PROFILE_COLUMN: Record<string, string> = {
  reportIntervalSeconds: 'report_interval',
  offlineTolerance: 'offline_tolerance',
  batteryLowPercent: 'battery_low',
  rawRetentionDays: 'raw_retention_days',
};
/** The schema's rules in plain words, by form field (a metric's part for its rows). */
const PROFILE_MESSAGES: Record<string, string> = {
  name: 'Enter a name of up to 100 characters',
  key: 'Enter a key of 2 to 40 characters: lower-case letters, digits and hyphens, starting with a letter or digit',
  description: 'Enter a description of up to 1,000 characters',
  report_interval: 'Enter how often it reports, in seconds, as a whole number from 1 to 604800 (a week)',
  offline_tolerance: 'Enter how many report intervals of silence mark a device offline, as a number from 1 to 100',
  battery_low: 'Enter the low-battery level as a whole number from 0 to 100',
  raw_retention_days: 'Enter how many days to keep raw readings, as a whole number from 1 to 3650',
  'metric-name': 'Enter a metric name: up to 40 lower-case letters, digits and underscores, starting with a letter',
  'metric-unit': 'Enter a unit of up to 20 characters',
  'metric-kind': 'Choose measure, state or event',
  'metric-min': 'Enter the smallest valid value as a number, or leave it empty',
  'metric-max': 'Enter the largest valid value as a number, or leave it empty',
  builtin_name: 'Choose a built-in decoder',
  json_fields: 'Write each mapping on its own line as metric = path, like no2 = data.no2',
};

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
/** A number when it is one; otherwise what was typed, so the schema reports it (empty: left out). */
const numberOr = (v: string) => (v === '' ? undefined : NUMBER.test(v) ? Number(v) : v);

function profileCells(body: Record<string, unknown>): Record<string, string> {
  const cells: Record<string, string> = {};
  const str = (k: string) => String(body[k] ?? '').trim();
  for (const f of [...PROFILE_FIELDS, 'decoder_type', 'builtin_name']) cells[f] = str(f);
  cells.json_fields = String(body.json_fields ?? '').trim();
  for (let i = 0; i < MAX_METRIC_ROWS; i++) for (const p of METRIC_PARTS) if (body[`metrics-${i}-${p}`] !== undefined) cells[`metrics-${i}-${p}`] = str(`metrics-${i}-${p}`);
  return cells;
}

function profileToCells(p: Profile): Record<string, string> {
  const cells: Record<string, string> = {
    name: p.name,
    key: p.key,
    description: p.description,
    report_interval: String(p.reportIntervalSeconds),
    offline_tolerance: String(p.offlineTolerance),
    battery_low: String(p.batteryLowPercent),
    raw_retention_days: String(p.rawRetentionDays),
    decoder_type: p.decoder.type,
    builtin_name: p.decoder.type === 'builtin' ? p.decoder.name : '',
    json_fields:
      p.decoder.type === 'json' && p.decoder.fields
        ? Object.entries(p.decoder.fields)
            .map(([m, path]) => `${m} = ${path}`)
            .join('\n')
        : '',
  };
  p.metrics.forEach((m, i) => {
    cells[`metrics-${i}-name`] = m.name;
    cells[`metrics-${i}-unit`] = m.unit;
    cells[`metrics-${i}-kind`] = m.kind;
    cells[`metrics-${i}-min`] = m.min === undefined ? '' : String(m.min);
    cells[`metrics-${i}-max`] = m.max === undefined ? '' : String(m.max);
  });
  return cells;
}

/**
 * The form as the API's body (ProfileCreate or ProfileUpdate) and its errors, checked with the
 * API's own schema; only what a form adds (rows, mapping lines, the decoders on offer) is checked here.
 * A bytes decoder is kept as it is: it is changed through the API.
 */
function profileInput(cells: Record<string, string>, existing: Profile | null): { input: Record<string, unknown>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const rows: number[] = [];
  const metrics: Record<string, unknown>[] = [];
  for (let i = 0; i < MAX_METRIC_ROWS; i++) {
    if (!METRIC_PARTS.some((p) => cells[`metrics-${i}-${p}`])) continue;
    const c = (p: string) => cells[`metrics-${i}-${p}`] ?? '';
    const m: Record<string, unknown> = { name: c('name'), unit: c('unit'), kind: c('kind') || undefined };
    if (c('min') !== '') m.min = numberOr(c('min'));
    if (c('max') !== '') m.max = numberOr(c('max'));
    rows.push(i);
    metrics.push(m);
  }
  if (!metrics.length) errors.push({ field: 'metrics-0-name', message: 'Add at least one metric' });

  let decoder: Record<string, unknown> | undefined;
  if (cells.decoder_type === 'json') {
    const fields: Record<string, string> = {};
    for (const line of cells.json_fields
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)) {
      const [metric, path, ...rest] = line.split('=').map((s) => s.trim());
      if (!metric || !path || rest.length) {
        errors.push({ field: 'json_fields', message: `${PROFILE_MESSAGES.json_fields}. This line is not: ${line}` });
        break;
      }
      fields[metric] = path;
    }
    decoder = Object.keys(fields).length ? { type: 'json', fields } : { type: 'json' };
  } else if (cells.decoder_type === 'builtin') {
    if (!Object.hasOwn(BUILTIN_DECODERS, cells.builtin_name)) errors.push({ field: 'builtin_name', message: PROFILE_MESSAGES.builtin_name });
    decoder = { type: 'builtin', name: cells.builtin_name };
  } else if (!(cells.decoder_type === 'bytes' && existing?.decoder.type === 'bytes')) {
    errors.push({ field: 'decoder_type', message: 'Choose how its data is decoded' });
  }

  const input: Record<string, unknown> = {
    ...(existing ? {} : { key: cells.key }),
    name: cells.name,
    description: cells.description,
    metrics,
    reportIntervalSeconds: numberOr(cells.report_interval),
    offlineTolerance: numberOr(cells.offline_tolerance),
    batteryLowPercent: numberOr(cells.battery_low),
    rawRetentionDays: numberOr(cells.raw_retention_days),
    ...(decoder ? { decoder } : {}),
  };
  const schema = existing ? ProfileUpdate : ProfileCreate;
  const seen = new Set(errors.map((e) => e.field));
  for (const e of Value.Errors(schema, input)) {
    const [prop, index, part] = e.path.replace(/^\//, '').split('/');
    let field: string;
    let message: string;
    if (prop === 'metrics' && index !== undefined && part) {
      field = `metrics-${rows[Number(index)]}-${part}`;
      message = PROFILE_MESSAGES[`metric-${part}`];
    } else if (prop === 'metrics') {
      field = 'metrics-0-name';
      message = `Add between 1 and ${MAX_METRIC_ROWS} metrics`;
    } else if (prop === 'decoder') {
      field = cells.decoder_type === 'builtin' ? 'builtin_name' : 'json_fields';
      message = PROFILE_MESSAGES[field];
    } else {
      field = PROFILE_COLUMN[prop] ?? prop;
      message = PROFILE_MESSAGES[field] ?? e.message;
    }
    if (seen.has(field)) continue;
    seen.add(field);
    errors.push({ field, message });
  }
  // The summary lists errors in the order of the form.
  const order = [...PROFILE_FIELDS, ...Array.from({ length: MAX_METRIC_ROWS }, (_, i) => METRIC_PARTS.map((p) => `metrics-${i}-${p}`)).flat(), 'decoder_type', 'json_fields', 'builtin_name'];
  errors.sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field));
  return { input, errors };
}

function profilePages({ estate }: EstateRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/estate/profiles', { config: readPage, schema: { hide: true } }, async (request, reply) =>
      reply.page(`${VIEWS}/profiles.njk`, { pageTitle: 'Device profiles', profiles: await estate.listProfiles(), canManage: can(request.actor, 'estate:manage') }),
    );

    const showForm = async (reply: FastifyReply, profile: Profile | null, values: Record<string, string>, fields: FieldError[]) => {
      const filled = Math.max(-1, ...Object.keys(values).flatMap((k) => (/^metrics-(\d+)-/.exec(k) && values[k] ? [Number(/^metrics-(\d+)-/.exec(k)?.[1])] : []))) + 1;
      const rowCount = Math.min(MAX_METRIC_ROWS, Math.max(METRIC_ROWS, profile ? filled + 2 : filled));
      const err = fieldErrors(fields, [...PROFILE_FIELDS, 'decoder_type', 'json_fields', 'builtin_name']);
      const metricRows = Array.from({ length: rowCount }, (_, i) => {
        const part = (p: string) => ({ id: `metrics-${i}-${p}`, value: values[`metrics-${i}-${p}`] ?? '', error: errorFor(fields, `metrics-${i}-${p}`) });
        const kind = part('kind');
        return {
          number: i + 1,
          name: part('name'),
          unit: part('unit'),
          min: part('min'),
          max: part('max'),
          kind: { ...kind, items: [{ value: '', text: 'Choose' }, ...METRIC_KINDS.map((k) => ({ value: k, text: k, selected: k === kind.value }))] },
        };
      });
      const keepBytes = profile?.decoder.type === 'bytes';
      return reply.page(
        `${VIEWS}/profile-form.njk`,
        {
          pageTitle: profile ? `Change ${profile.name}` : 'Add a device profile',
          profile,
          values,
          errors: errorList(fields),
          fieldErrors: err,
          metricRows,
          decoderType: values.decoder_type,
          keepBytes,
          builtinItems: [
            { value: '', text: 'Choose a decoder' },
            ...Object.entries(BUILTIN_DECODERS).map(([name, d]) => ({ value: name, text: `${name}: ${d.description}`, selected: name === values.builtin_name })),
          ],
        },
        fields.length ? 400 : 200,
      );
    };

    /** A profile of the council's own: built-in ones cannot be changed, here as through the API. */
    const custom = async (request: FastifyRequest) => {
      const profile = await estate.getProfile((request.params as { id: string }).id);
      if (profile.isBuiltIn) throw estateErrors.PROFILE_BUILT_IN();
      return profile;
    };

    app.get('/console/estate/profiles/new', { config: managePage, schema: { hide: true } }, async (_request, reply) =>
      showForm(reply, null, { decoder_type: 'json', report_interval: '900', offline_tolerance: '3', battery_low: '20', raw_retention_days: '90' }, []),
    );

    app.post('/console/estate/profiles/new', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const cells = profileCells(request.body as Record<string, unknown>);
      const { input, errors } = profileInput(cells, null);
      if (errors.length) return showForm(reply, null, cells, errors);
      try {
        request.audited = true;
        const profile = await estate.createProfile(request.actor, input as ProfileCreate, origin(request));
        return reply.redirect(`/console/estate/profiles/${profile.key}?saved=created`, 303);
      } catch (err) {
        return showForm(reply, null, cells, formError(err, 'key'));
      }
    });

    app.get('/console/estate/profiles/:id', { config: readPage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const profile = await estate.getProfile((request.params as { id: string }).id);
      const saved = (request.query as { saved?: string }).saved;
      const flash = saved === 'created' ? 'Device profile added.' : saved === 'changed' ? 'Changes saved.' : undefined;
      return reply.page(`${VIEWS}/profile.njk`, {
        pageTitle: profile.name,
        profile,
        decoder: JSON.stringify(profile.decoder, null, 2),
        flash,
        canChange: !profile.isBuiltIn && can(request.actor, 'estate:manage'),
      });
    });

    app.get('/console/estate/profiles/:id/edit', { config: managePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const profile = await custom(request);
      return showForm(reply, profile, profileToCells(profile), []);
    });

    app.post('/console/estate/profiles/:id/edit', { config: managePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const profile = await custom(request);
      const cells = { ...profileCells(request.body as Record<string, unknown>), key: profile.key };
      const { input, errors } = profileInput(cells, profile);
      if (errors.length) return showForm(reply, profile, cells, errors);
      try {
        request.audited = true;
        await estate.updateProfile(request.actor, profile.id, input as ProfileUpdate, origin(request));
        return reply.redirect(`/console/estate/profiles/${profile.key}?saved=changed`, 303);
      } catch (err) {
        return showForm(reply, profile, cells, formError(err, 'name'));
      }
    });
  };
}
