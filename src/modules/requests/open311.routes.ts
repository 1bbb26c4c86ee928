import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditService } from '../../platform/audit/audit.service.js';
import { originOf } from '../../platform/audit/origin.js';
import { type Actor, can } from '../../platform/auth/actor.js';
import type { AuthService } from '../../platform/auth/auth.service.js';
import { toAppError } from '../../platform/error-handler.js';
import { CONTENT_TYPES, type Open311Format, parseW3c, render, renderErrors, w3cDate } from './open311.format.js';
import { requestsErrors } from './requests.errors.js';
import type { PublicRow } from './requests.repository.js';
import { type CategoryView, isOpen, OPEN_STATUSES, CLOSED_STATUSES, type RequestStatus, STATUS_NAMES, type TeamView } from './requests.schema.js';
import type { RequestsService } from './requests.service.js';

export interface Open311Deps {
  requests: RequestsService;
  auth: AuthService;
  audit: AuditService;
  publicUrl: string;
  organisationName: () => string;
}

export const OPEN311_PREFIX = '/open311/v2';
const SPECIFICATION = 'http://wiki.open311.org/GeoReport_v2';
const DAY = 86_400_000;
const MAX_SPAN_DAYS = 90;
const MAX_RESULTS = 1000;
const TAGS = ['open311'];
/** When this endpoint last changed what it offers (discovery's changeset). */
const CHANGESET = new Date(Date.UTC(2026, 11, 4));
/** Open311 clients send api_key in the form and no browser credentials: CSRF does not apply. */
const open = { public: true, csrf: false } as const;

/** Our statuses in mySociety's extended Open311 statuses (lower case, as GET servicerequestupdates gives them). */
export const EXTENDED_STATUS: Record<RequestStatus, string> = {
  open: 'open',
  acknowledged: 'investigating',
  in_progress: 'in_progress',
  fixed: 'fixed',
  closed: 'closed',
  not_ours: 'not_councils_responsibility',
  duplicate: 'duplicate',
};

type Params = { format?: string; code?: string; id?: string; token?: string };
type Fields = Record<string, string | string[] | undefined>;

const Query = Type.Object({}, { additionalProperties: Type.Union([Type.String(), Type.Array(Type.String())]) });
const FormatParam = { format: Type.String({ description: 'json or xml' }) };

/**
 * Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) with mySociety's
 * servicerequestupdates extension, for FixMyStreet and other clients. Reads are public and
 * carry no reporter's details; writes need an API key holding open311:submit, as the form's
 * api_key or an Authorization bearer. Errors are the spec's `errors` in the asked-for format.
 */
export function open311Routes(deps: Open311Deps) {
  const { requests } = deps;
  const jurisdiction = jurisdictionOf(deps.publicUrl);

  return async (app: FastifyInstance) => {
    app.setErrorHandler((error, request, reply) => {
      const err = toAppError(error as Error);
      if (err.status >= 500) request.log.error({ err: error }, 'open311 request failed');
      // The spec answers a missing or wrong key with 403, whatever the reason.
      const status = err.status === 401 ? 403 : err.status;
      const description = err.code === 'VALIDATION_FAILED' && err.fields.length ? err.fields.map((f) => `${f.field}: ${f.message}`).join('; ') : err.message;
      return send(reply, formatOf(request, false), renderErrors(formatOf(request, false), [{ code: status, description }]), status);
    });
    app.setNotFoundHandler((request, reply) => send(reply, formatOf(request, false), renderErrors(formatOf(request, false), [{ code: 404, description: 'There is nothing at this address.' }]), 404));

    const checked = (request: FastifyRequest): Open311Format => {
      const format = formatOf(request, true);
      const fields = { ...(request.query as Fields), ...((request.body as Fields | undefined) ?? {}) };
      const given = one(fields.jurisdiction_id);
      if (given && given !== jurisdiction) throw requestsErrors.GEOREPORT_JURISDICTION_NOT_FOUND(`The jurisdiction_id ${given} was not found: this endpoint serves ${jurisdiction}.`);
      return format;
    };
    const schema = (summary: string, params: Record<string, unknown> = {}) => ({ tags: TAGS, summary, params: Type.Object({ ...FormatParam, ...params }), querystring: Query });

    app.get('/discovery.:format', { config: open, schema: schema('Service discovery') }, async (request, reply) => {
      const format = checked(request);
      const changeset = w3cDate(CHANGESET);
      const body = {
        changeset,
        contact: `${deps.organisationName()}: ${deps.publicUrl}`,
        key_service: `Ask ${deps.organisationName()} for an API key with the open311:submit permission.`,
        endpoints: [{ specification: SPECIFICATION, url: `${deps.publicUrl}${OPEN311_PREFIX}`, changeset, type: 'production', formats: ['text/xml', 'application/json'] }],
      };
      return send(reply, format, render(format, 'discovery', body));
    });

    app.get('/services.:format', { config: open, schema: schema('GET Service List: the categories taking reports') }, async (request, reply) => {
      const format = checked(request);
      const services = (await requests.listCategories({ enabledOnly: true })).map(toService);
      return send(reply, format, render(format, 'services', services));
    });

    app.get('/services/:code.:format', { config: open, schema: schema('GET Service Definition: a category’s questions', { code: Type.String() }) }, async (request, reply) => {
      const format = checked(request);
      const category = await requests.getCategory(String((request.params as Params).code));
      if (!category.enabled) throw requestsErrors.CATEGORY_NOT_FOUND();
      return send(reply, format, render(format, 'service_definition', toDefinition(category)));
    });

    app.post('/requests.:format', { config: open, schema: { tags: TAGS, summary: 'POST Service Request (api_key with open311:submit)', params: Type.Object(FormatParam) } }, async (request, reply) => {
      const format = checked(request);
      const actor = await keyActor(request, deps);
      const body = (request.body ?? {}) as Fields;
      const { input, externalId, addressId } = submission(body);
      request.audited = true;
      const row = await requests.submit(actor, input, { source: externalId ? 'fixmystreet' : 'open311', externalId, addressId, origin: originOf(request) });
      const category = await requests.getCategory(row.category_code);
      return send(reply, format, render(format, 'service_requests', [{ service_request_id: row.reference, service_notice: serviceNotice(category) }]));
    });

    app.get('/requests.:format', { config: open, schema: schema('GET Service Requests: by id, service, status and requested date (90 days, 1,000 at most)') }, async (request, reply) => {
      const format = checked(request);
      const query = request.query as Fields;
      const rows = await requests.open311Search(searchOf(query));
      return send(reply, format, render(format, 'service_requests', await toRequests(requests, rows, one(query.extensions) === 'true', deps)));
    });

    app.get('/requests/:id.:format', { config: open, schema: schema('GET Service Request', { id: Type.String() }) }, async (request, reply) => {
      const format = checked(request);
      const id = String((request.params as Params).id).toUpperCase();
      const rows = /^[0-9A-Z]{8}$/.test(id) ? await requests.open311Search({ references: [id], from: new Date(0), to: new Date(), limit: 1 }) : [];
      if (!rows.length) throw requestsErrors.REQUEST_NOT_FOUND();
      return send(reply, format, render(format, 'service_requests', await toRequests(requests, rows, one((request.query as Fields).extensions) === 'true', deps)));
    });

    app.get('/tokens/:token.:format', { config: open, schema: schema('GET service_request_id from a token', { token: Type.String() }) }, async (request, reply) => {
      const format = checked(request);
      const found = await requests.tokenLookup(String((request.params as Params).token));
      if (!found) throw requestsErrors.GEOREPORT_TOKEN_NOT_FOUND();
      return send(reply, format, render(format, 'service_requests', [{ service_request_id: found.reference, token: found.token }]));
    });

    app.get(
      '/servicerequestupdates.:format',
      { config: open, schema: schema('GET Service Request Updates (mySociety’s extension): public updates between start_date and end_date') },
      async (request, reply) => {
        const format = checked(request);
        const query = request.query as Fields;
        const { from, to } = window(one(query.start_date), one(query.end_date), 1);
        const updates = await requests.publicUpdatesBetween(from, to, MAX_RESULTS);
        const body = updates.map((u) => ({
          update_id: u.id,
          service_request_id: u.reference,
          status: EXTENDED_STATUS[(u.status ?? u.request_status) as RequestStatus],
          updated_datetime: w3cDate(u.created_at),
          description: u.message,
          media_url: '',
          ...(u.external_id ? { fixmystreet_id: u.external_id } : {}),
        }));
        return send(reply, format, render(format, 'service_request_updates', body));
      },
    );

    app.post(
      '/servicerequestupdates.:format',
      { config: open, schema: { tags: TAGS, summary: 'POST Service Request Update (mySociety’s extension; api_key with open311:submit)', params: Type.Object(FormatParam) } },
      async (request, reply) => {
        const format = checked(request);
        const actor = await keyActor(request, deps);
        const body = (request.body ?? {}) as Fields;
        const missing = ['service_request_id', 'status', 'updated_datetime', 'description'].filter((k) => one(body[k]) === undefined);
        const externalId = one(body.update_id) ?? one(body.update_id_ext);
        if (!externalId) missing.push('update_id');
        if (missing.length) throw requestsErrors.GEOREPORT_BAD_REQUEST(`${missing.join(', ')} ${missing.length === 1 ? 'was' : 'were'} not provided.`);
        if (!parseW3c(one(body.updated_datetime) as string)) throw requestsErrors.GEOREPORT_BAD_REQUEST('updated_datetime must be a W3C date-time, such as 2026-12-04T09:30:00Z.');
        const row = await requests.find(one(body.service_request_id) as string);
        if (!row) throw requestsErrors.REQUEST_NOT_FOUND();
        const ext = one(body.service_request_id_ext);
        if (ext) await requests.noteExternalId(row, ext);
        request.audited = true;
        const update = await requests.addUpdate(
          actor,
          row.id,
          { status: statusFromFixMyStreet(String(one(body.status)), row.status), message: one(body.description) ?? '', public: true, source: 'fixmystreet', externalId },
          originOf(request),
        );
        return send(reply, format, render(format, 'service_request_updates', [{ update_id: update.id }]));
      },
    );
  };
}

// ---------------------------------------------------------------- the request and the reply

function send(reply: FastifyReply, format: Open311Format, body: string, status = 200) {
  return reply.status(status).type(CONTENT_TYPES[format]).header('cache-control', 'no-store').send(body);
}

/** The format asked for; in error replies, XML (the required format) when it is neither. */
function formatOf(request: FastifyRequest, strict: boolean): Open311Format {
  const asked = (request.params as Params | undefined)?.format ?? /\.(json|xml)(\?|$)/.exec(request.url)?.[1];
  if (asked === 'json' || asked === 'xml') return asked;
  if (strict) throw requestsErrors.GEOREPORT_BAD_FORMAT();
  return 'xml';
}

const one = (v: string | string[] | undefined): string | undefined => {
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? undefined : s.trim();
};

/** The jurisdiction this endpoint serves: the host of its public address, without www. */
export function jurisdictionOf(publicUrl: string): string {
  return new URL(publicUrl).hostname.replace(/^www\./, '');
}

/** The key in the form (api_key) or the Authorization header; it must hold open311:submit. */
async function keyActor(request: FastifyRequest, deps: Open311Deps): Promise<Actor> {
  let actor: Actor | undefined = request.actor?.type === 'key' ? request.actor : undefined;
  const given = one((request.body as Fields | undefined)?.api_key) ?? one((request.query as Fields).api_key);
  if (!actor && given) actor = await deps.auth.actorForKey(given);
  if (!actor) throw requestsErrors.GEOREPORT_API_KEY_INVALID(given ? 'Invalid api_key received -- can’t proceed.' : 'api_key was not provided -- can’t proceed.');
  if (!can(actor, 'open311:submit')) {
    await deps.audit.record({ actor, action: 'auth.forbidden', outcome: 'denied', summary: `Refused ${request.method} ${request.url.split('?')[0]}: needs open311:submit`, ...originOf(request) });
    throw requestsErrors.GEOREPORT_API_KEY_INVALID('The api_key does not have the open311:submit permission -- can’t proceed.');
  }
  return actor;
}

/** POST requests' fields as a report: attribute[code] and attribute[code][] answers, FixMyStreet's ids. */
function submission(body: Fields) {
  const code = one(body.service_code);
  if (!code) throw requestsErrors.GEOREPORT_BAD_REQUEST('service_code was not provided.');
  const attributes: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(body)) {
    const m = /^attribute\[([^\]]+)\](\[\])?$/.exec(key);
    if (m && value !== undefined) attributes[m[1]] = m[2] ? [value].flat() : (one(value) ?? '');
  }
  const externalId = one(attributes.fixmystreet_id as string | undefined) ?? one(body.service_request_id_ext) ?? null;
  delete attributes.fixmystreet_id;
  const number = (name: string) => {
    const text = one(body[name]);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n)) throw requestsErrors.GEOREPORT_BAD_REQUEST(`${name} must be a number in WGS84 degrees.`);
    return n;
  };
  const lat = number('lat');
  const lon = number('long') ?? number('lon');
  if ((lat !== undefined && Math.abs(lat) > 90) || (lon !== undefined && Math.abs(lon) > 180)) throw requestsErrors.GEOREPORT_BAD_REQUEST('lat and long must be WGS84 degrees.');
  const description = one(body.description) ?? '';
  if (description.length > 4000) throw requestsErrors.GEOREPORT_BAD_REQUEST('description is limited to 4,000 characters.');
  const email = one(body.email);
  if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw requestsErrors.GEOREPORT_BAD_REQUEST('email is not an email address.');
  const media = one(body.media_url);
  if (media && !/^https?:\/\/\S+$/.test(media)) throw requestsErrors.GEOREPORT_BAD_REQUEST('media_url must be an http or https URL.');
  const name = [one(body.first_name), one(body.last_name)].filter(Boolean).join(' ');
  return {
    externalId,
    addressId: one(body.address_id) ?? null,
    input: {
      category: code,
      description,
      lat,
      lon,
      address: one(body.address_string)?.slice(0, 500),
      attributes,
      mediaUrl: media?.slice(0, 2000),
      reporterName: name ? name.slice(0, 200) : undefined,
      reporterEmail: email?.slice(0, 320),
      reporterPhone: one(body.phone)?.slice(0, 30),
    },
  };
}

/** A time window from W3C dates: at most 90 days; with neither, the last `defaultDays` days. */
function window(start: string | undefined, end: string | undefined, defaultDays: number): { from: Date; to: Date } {
  const parse = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const at = parseW3c(text);
    if (!at) throw requestsErrors.GEOREPORT_BAD_REQUEST(`${name} must be a W3C date-time, such as 2026-12-04T09:30:00Z.`);
    return at;
  };
  const from = parse('start_date', start);
  const to = parse('end_date', end);
  const span = MAX_SPAN_DAYS * DAY;
  if (from && to) {
    if (to < from) throw requestsErrors.GEOREPORT_BAD_REQUEST('end_date is before start_date.');
    if (to.getTime() - from.getTime() > span) throw requestsErrors.GEOREPORT_BAD_REQUEST(`start_date and end_date may not span more than ${MAX_SPAN_DAYS} days.`);
    return { from, to };
  }
  if (from) return { from, to: new Date(from.getTime() + span) };
  if (to) return { from: new Date(to.getTime() - span), to };
  const now = new Date();
  return { from: new Date(now.getTime() - defaultDays * DAY), to: now };
}

function searchOf(query: Fields) {
  const list = (name: string) =>
    one(query[name])
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const references = list('service_request_id');
  if (references) return { references: references.map((r) => r.toUpperCase()).slice(0, MAX_RESULTS), from: new Date(0), to: new Date(), limit: MAX_RESULTS };
  const statuses = list('status');
  const bad = statuses?.find((s) => s !== 'open' && s !== 'closed');
  if (bad) throw requestsErrors.GEOREPORT_BAD_REQUEST(`status must be open or closed, not ${bad}.`);
  const wanted = statuses && !(statuses.includes('open') && statuses.includes('closed')) ? (statuses.includes('open') ? OPEN_STATUSES : CLOSED_STATUSES) : undefined;
  return { ...window(one(query.start_date), one(query.end_date), MAX_SPAN_DAYS), categories: list('service_code'), statuses: wanted, limit: MAX_RESULTS };
}

/** FixMyStreet's status on an update from its users: reopening, or marking fixed or closed, changes ours. */
function statusFromFixMyStreet(status: string, current: RequestStatus): 'open' | 'fixed' | 'closed' | undefined {
  const s = status.toUpperCase();
  if ((s === 'OPEN' || s === 'REOPEN') && !isOpen(current)) return 'open';
  if (s === 'FIXED' && isOpen(current)) return 'fixed';
  if (s === 'CLOSED' && isOpen(current)) return 'closed';
  return undefined;
}

// ---------------------------------------------------------------- shapes

function serviceNotice(c: CategoryView): string {
  return c.serviceNotice ?? `We aim to deal with reports of ${c.name.toLowerCase()} within ${c.targetHours} hours.`;
}

function toService(c: CategoryView) {
  return { service_code: c.code, service_name: c.name, description: c.description, metadata: c.attributes.length > 0, type: 'realtime', keywords: c.keywords.join(', '), group: c.group };
}

function toDefinition(c: CategoryView) {
  return {
    service_code: c.code,
    attributes: c.attributes.map((a, i) => ({
      variable: a.variable !== false,
      code: a.code,
      datatype: a.datatype,
      required: a.required,
      datatype_description: a.datatypeDescription ?? null,
      order: i + 1,
      description: a.description,
      ...(a.values?.length ? { values: a.values.map((v) => ({ key: v.key, name: v.name })) } : {}),
    })),
  };
}

async function toRequests(requests: RequestsService, rows: PublicRow[], extensions: boolean, deps: Open311Deps) {
  const { categories, teams } = await requests.names();
  const duplicates = extensions ? new Map((await requests.repo.referencesOf(rows.map((r) => r.duplicate_of).filter((d): d is string => !!d))).map((r) => [r.id, r.reference])) : undefined;
  const council = deps.organisationName();
  return rows.map((r) => toRequest(r, categories.get(r.category_code), r.team_id ? teams.get(r.team_id) : undefined, council, duplicates));
}

/** One request as Open311 shows it: the spec's public fields only, never the reporter. */
function toRequest(r: PublicRow, category: CategoryView | undefined, team: TeamView | undefined, council: string, duplicates?: Map<string, string>) {
  const closed = !isOpen(r.status);
  const out: Record<string, string | number | null | Record<string, string | null>> = {
    service_request_id: r.reference,
    status: closed ? 'closed' : 'open',
    status_notes: r.status_notes ?? (r.status === 'open' ? null : STATUS_NAMES[r.status]),
    service_name: category?.name ?? r.category_code,
    service_code: r.category_code,
    description: r.description || null,
    agency_responsible: team?.name ?? council,
    service_notice: category ? serviceNotice(category) : null,
    requested_datetime: w3cDate(r.created_at),
    updated_datetime: w3cDate(closed ? (r.closed_at ?? r.updated_at) : r.updated_at),
    expected_datetime: w3cDate(r.due_at),
    address: r.address,
    address_id: r.address_id,
    zipcode: r.postcode,
    lat: r.lat,
    long: r.lon,
    media_url: r.media_url,
  };
  if (duplicates)
    out.extended_attributes = {
      status: EXTENDED_STATUS[r.status],
      duplicate_of: r.duplicate_of ? (duplicates.get(r.duplicate_of) ?? null) : null,
      fixmystreet_id: r.external_id,
    };
  return out;
}
