import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { originOf as origin } from '../../platform/audit/origin.js';
import { can } from '../../platform/auth/actor.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import { errorFor, errorList } from '../../platform/web/web.js';
import { answersFrom, questionErrors, questionFields } from './questions.js';
import { filterOf, type RequestsRouteDeps, redacted } from './requests.routes.js';
import {
  Attribute,
  type CategoryCreate,
  type CategoryView,
  DATATYPES,
  IdParams,
  ListQuery,
  type RequestCreate,
  type RequestStatus,
  STATUS_NAMES,
  STATUS_TAGS,
  STATUSES,
  TRANSITIONS,
} from './requests.schema.js';
import { checkAnswers, type RequestsService } from './requests.service.js';

const VIEWS = 'modules/requests/views';
const readPage = { permission: 'requests:read', page: 'console' as const };
const managePage = { permission: 'requests:manage', page: 'console' as const };
const configurePage = { permission: 'requests:configure', page: 'console' as const };
const PAGE_SIZE = 50;

// TypeBox's own checker (the queue's filter form) knows only the formats it is told; ajv's uuid, for the ids.
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v));

/** What each move is called on the request page's form. */
const MOVE_NAMES: Record<RequestStatus, string> = {
  open: 'Reopen',
  acknowledged: 'Acknowledge',
  in_progress: 'Start work (in progress)',
  fixed: 'Fixed',
  closed: 'Close',
  not_ours: 'Not the council’s responsibility',
  duplicate: 'Duplicate',
};

const names = { statusNames: STATUS_NAMES, statusTags: STATUS_TAGS };

function formError(err: unknown, field: string): FieldError[] {
  if (err instanceof AppError && err.status < 500) return err.fields.length ? err.fields : [{ field, message: err.message }];
  throw err;
}

export function requestsPages(deps: RequestsRouteDeps) {
  return async (app: FastifyInstance) => {
    await app.register(queuePages(deps));
    await app.register(recordPages(deps));
    await app.register(requestPages(deps));
    await app.register(categoryPages(deps));
  };
}

/** The queue's filters from the GET form: empty fields ignored, bad ones dropped (the page says so). */
function queueQuery(request: FastifyRequest) {
  const given = request.query as Record<string, string>;
  const raw = Object.fromEntries(Object.entries(given).filter(([k, v]) => v !== '' && k !== 'limit'));
  // With no status chosen at all, the queue shows what is still open.
  if (!('status' in given)) raw.status = 'open_all';
  const converted = Value.Convert(ListQuery, { ...raw });
  const valid = Value.Check(ListQuery, converted);
  return { query: valid ? (converted as ListQuery) : { status: 'open_all' as const }, raw, invalid: !valid };
}

function queuePages({ requests, config }: RequestsRouteDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/requests', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const { query, raw, invalid } = queueQuery(request);
      const filter = { ...filterOf(query), limit: PAGE_SIZE };
      const [items, total, { categories, teams }, areas] = await Promise.all([requests.list(filter), requests.count(filter), requests.names(), areaList(requests)]);
      const { after, ...rest } = raw;
      const select = (list: { value: string; text: string }[], chosen: string | undefined, any = 'Any') => [{ value: '', text: any }, ...list.map((o) => ({ ...o, selected: o.value === chosen }))];
      return reply.page(`${VIEWS}/queue.njk`, {
        pageTitle: 'Service requests',
        items: items.map((r) => redacted(r, request.actor)),
        total,
        query: raw,
        invalid,
        next: items.length === PAGE_SIZE ? `/console/requests?${new URLSearchParams({ ...rest, after: items[items.length - 1].id })}` : null,
        first: after ? `/console/requests?${new URLSearchParams(rest)}` : null,
        teamItems: select(
          [...teams.values()].map((t) => ({ value: t.id, text: t.name })),
          raw.team,
        ),
        categoryItems: select(
          [...categories.values()].map((c) => ({ value: c.code, text: c.name })),
          raw.category,
        ),
        areaItems: select(
          areas.map((a) => ({ value: a.id, text: a.name })),
          raw.area,
        ),
        statusItems: select([{ value: 'open_all', text: 'Open (any)' }, { value: 'closed_all', text: 'Closed (any)' }, ...STATUSES.map((s) => ({ value: s, text: STATUS_NAMES[s] }))], raw.status),
        overdueChecked: raw.overdue === 'true',
        map: {
          tileUrl: config.mapTileUrl,
          attribution: config.mapAttribution,
          areasUrl: '/api/v1/areas.geojson',
          requestsUrl: `/api/v1/requests.geojson?${new URLSearchParams({ ...rest, limit: '500' })}`,
        },
        canConfigure: can(request.actor, 'requests:configure'),
        canManage: can(request.actor, 'requests:manage'),
        ...names,
      });
    });
  };
}

const areaList = (requests: RequestsService) => requests.listAreas();

/** The banner after a change, by the `saved` it redirects with. */
const SAVED: Record<string, string> = { update: 'Update saved.', merged: 'Merged as a duplicate.', recorded: 'Request recorded.' };

// ---------------------------------------------------------------- recording a request for someone

const RECORD_FIELDS = ['description', 'latitude', 'longitude', 'address', 'postcode', 'areaId', 'contact', 'reporterName', 'reporterEmail', 'reporterPhone', 'language'];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The form's text fields, trimmed. */
function recordValues(body: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(RECORD_FIELDS.map((f) => [f, typeof body[f] === 'string' ? (body[f] as string).trim() : '']));
}

/** The point typed, both or neither: numbers, or the errors that say what to fix. */
function pointFrom(v: Record<string, string>, errors: FieldError[]): { lat: number; lon: number } | undefined {
  if (!v.latitude && !v.longitude) return undefined;
  const lat = Number(v.latitude);
  const lon = Number(v.longitude);
  if (!v.latitude || !v.longitude) errors.push({ field: v.latitude ? 'longitude' : 'latitude', message: 'Enter both the latitude and the longitude, or neither' });
  else if (!Number.isFinite(lat) || lat < -90 || lat > 90) errors.push({ field: 'latitude', message: 'Enter the latitude in degrees, like 52.3061' });
  else if (!Number.isFinite(lon) || lon < -180 || lon > 180) errors.push({ field: 'longitude', message: 'Enter the longitude in degrees, like -2.4457' });
  else return { lat, lon };
  return undefined;
}

/**
 * The request staff record from the form, or what is wrong with it. The reporter is a resident
 * found by their email or mobile (told on their own channel, in their language), or the details typed.
 */
async function recordInput(requests: RequestsService, category: CategoryView, body: Record<string, unknown>) {
  const v = recordValues(body);
  const errors: FieldError[] = [];
  if (!v.description) errors.push({ field: 'description', message: 'Enter a description of the problem' });
  else if (v.description.length > 4000) errors.push({ field: 'description', message: 'Enter a description of 4,000 characters or fewer' });
  const point = pointFrom(v, errors);
  if (!point && !v.address && !errors.some((e) => e.field === 'latitude' || e.field === 'longitude'))
    errors.push({ field: 'address', message: 'Enter where the problem is (a street, a landmark), or its latitude and longitude' });
  if (v.address.length > 500) errors.push({ field: 'address', message: 'Enter where the problem is in 500 characters or fewer' });
  if (v.postcode.length > 10) errors.push({ field: 'postcode', message: 'Enter a postcode, like SW1A 1AA' });
  const found = v.contact ? await requests.reporterByContact(v.contact) : undefined;
  if (found === 'invalid') errors.push({ field: 'contact', message: 'Enter an email address or a UK mobile number, like 07700 900 982' });
  else if (v.contact && !found) errors.push({ field: 'contact', message: 'No resident has this email address or mobile number: check it, or leave it empty and type the reporter’s details' });
  if (v.reporterEmail && !EMAIL.test(v.reporterEmail)) errors.push({ field: 'reporterEmail', message: 'Enter an email address in the correct format, like name@example.com' });
  if (v.reporterName.length > 200) errors.push({ field: 'reporterName', message: 'Enter a name of 200 characters or fewer' });
  if (v.reporterPhone.length > 30) errors.push({ field: 'reporterPhone', message: 'Enter a phone number of 30 characters or fewer' });
  const resident = found && found !== 'invalid' ? found : undefined;
  const answers = answersFrom(category.attributes, body);
  errors.push(...answerErrors(category, answers));
  const input: RequestCreate = {
    category: category.code,
    description: v.description,
    ...(point ?? {}),
    ...(v.address ? { address: v.address } : {}),
    ...(v.postcode ? { postcode: v.postcode } : {}),
    attributes: answers,
    ...(resident ? { residentId: resident.id } : { reporterName: v.reporterName || undefined, reporterEmail: v.reporterEmail || undefined, reporterPhone: v.reporterPhone || undefined }),
    ...(resident ? {} : { language: v.language === 'cy' ? ('cy' as const) : ('en' as const) }),
  };
  return { values: v, errors, input, areaId: point ? null : v.areaId || null, resident };
}

/** The answers to the category's questions, checked by the service's own rules. */
function answerErrors(category: CategoryView, answers: Record<string, string | string[]>): FieldError[] {
  try {
    checkAnswers(category.attributes, answers);
    return [];
  } catch (err) {
    return recordErrors(err);
  }
}

/** A refusal of the service as the form's errors: the questions' by question, the rest where they belong. */
function recordErrors(err: unknown): FieldError[] {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  if (err.code === 'ATTRIBUTES_INVALID') return questionErrors(err);
  if (err.code === 'REQUEST_AREA_NOT_FOUND') return [{ field: 'areaId', message: 'Choose one of the areas listed' }];
  if (err.code === 'LOCATION_REQUIRED') return [{ field: 'address', message: 'Enter where the problem is (a street, a landmark), or its latitude and longitude' }];
  return [{ field: 'description', message: err.message }];
}

/** "Record a request": a category first (its questions depend on it), then the request and who reported it. */
function recordPages({ requests }: RequestsRouteDeps) {
  return async (app: FastifyInstance) => {
    const form = async (reply: FastifyReply, category: CategoryView | undefined, values: Record<string, string>, answers: Record<string, string | string[]>, fields: FieldError[] = []) => {
      const [categories, areas] = await Promise.all([requests.listCategories({ enabledOnly: true }), areaList(requests)]);
      const fieldNames = [...RECORD_FIELDS, 'category', ...(category?.attributes ?? []).map((a) => `attr-${a.code}`)];
      return reply.page(
        `${VIEWS}/record.njk`,
        {
          pageTitle: category ? `Record a request: ${category.name}` : 'Record a request',
          category,
          categoryItems: [{ value: '', text: 'Choose a category' }, ...categories.map((c) => ({ value: c.code, text: `${c.group}: ${c.name}`, selected: c.code === category?.code }))],
          questions: category ? questionFields(category.attributes, answers) : [],
          areaItems: [{ value: '', text: 'Not known (or from the latitude and longitude)' }, ...areas.map((a) => ({ value: a.id, text: a.name, selected: a.id === values.areaId }))],
          languageItems: [
            { value: 'en', text: 'English', selected: values.language !== 'cy' },
            { value: 'cy', text: 'Welsh', selected: values.language === 'cy' },
          ],
          values,
          errors: errorList(fields),
          fieldErrors: Object.fromEntries(fieldNames.map((f) => [f, errorFor(fields, f)])),
        },
        fields.length ? 400 : 200,
      );
    };

    const enabled = async (code: string) => (await requests.listCategories({ enabledOnly: true })).find((c) => c.code === code);

    app.get('/console/requests/new', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const code = String((request.query as Record<string, unknown>).category ?? '');
      const category = code ? await enabled(code) : undefined;
      const fields = code && !category ? [{ field: 'category', message: 'Choose a category that is taking reports' }] : [];
      return form(reply, category, recordValues({}), {}, fields);
    });

    app.post('/console/requests/new', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const category = await enabled(String(body.category ?? ''));
      if (!category) return form(reply, undefined, recordValues({}), {}, [{ field: 'category', message: 'Choose a category that is taking reports' }]);
      const { values, errors, input, areaId } = await recordInput(requests, category, body);
      if (errors.length) return form(reply, category, values, input.attributes ?? {}, errors);
      try {
        request.audited = true;
        const row = await requests.submit(request.actor, input, { source: 'staff', origin: origin(request), areaId });
        return reply.redirect(`/console/requests/${row.id}?saved=recorded`, 303);
      } catch (err) {
        return form(reply, category, values, input.attributes ?? {}, recordErrors(err));
      }
    });
  };
}

function requestPages({ requests }: RequestsRouteDeps) {
  return async (app: FastifyInstance) => {
    const show = async (request: FastifyRequest, reply: FastifyReply, fields: FieldError[] = [], values: Record<string, string> = {}, flash?: string) => {
      const { request: r, updates } = await requests.detail((request.params as { id: string }).id);
      const category = await requests.getCategory(r.category).catch(() => undefined);
      const moves = TRANSITIONS[r.status].map((s) => ({ value: s, text: MOVE_NAMES[s], checked: values.status === s }));
      return reply.page(
        `${VIEWS}/request.njk`,
        {
          pageTitle: `Request ${r.reference}`,
          r: redacted(r, request.actor),
          updates,
          attributes: answersOf(category?.attributes ?? [], r.attributes),
          canManage: can(request.actor, 'requests:manage'),
          statusItems: [{ value: '', text: 'No change of status', checked: !values.status }, ...moves],
          visibilityItems: [
            { value: 'public', text: 'Public update', hint: { text: 'Shown on Open311 and the portal; the reporter is told' }, checked: values.visibility !== 'internal' },
            { value: 'internal', text: 'Internal note', hint: { text: 'Only staff see it' }, checked: values.visibility === 'internal' },
          ],
          canMerge: r.status === 'open' || r.status === 'acknowledged' || r.status === 'in_progress',
          values,
          errors: errorList(fields),
          fieldErrors: { status: errorFor(fields, 'status'), message: errorFor(fields, 'message'), into: errorFor(fields, 'into') },
          flash,
          ...names,
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/requests/:id', { config: readPage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const saved = (request.query as { saved?: string }).saved;
      return show(request, reply, [], {}, SAVED[saved ?? '']);
    });

    app.post('/console/requests/:id/update', { config: managePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, string>;
      const values = { status: String(body.status ?? ''), message: String(body.message ?? '').trim(), visibility: body.visibility === 'internal' ? 'internal' : 'public' };
      if (values.status && !STATUSES.includes(values.status as RequestStatus)) return show(request, reply, [{ field: 'status', message: 'Choose one of the statuses offered' }], values);
      try {
        request.audited = true;
        await requests.addUpdate(
          request.actor,
          (request.params as { id: string }).id,
          { status: (values.status || undefined) as Exclude<RequestStatus, 'duplicate'> | undefined, message: values.message, public: values.visibility === 'public' },
          origin(request),
        );
      } catch (err) {
        return show(request, reply, formError(err, 'message'), values);
      }
      return reply.redirect(`/console/requests/${(request.params as { id: string }).id}?saved=update`, 303);
    });

    app.post('/console/requests/:id/merge', { config: managePage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, string>;
      const values = { into: String(body.into ?? '').trim(), mergeMessage: String(body.mergeMessage ?? '').trim() };
      if (!values.into) return show(request, reply, [{ field: 'into', message: 'Enter the reference of the original request' }], values);
      try {
        request.audited = true;
        await requests.merge(request.actor, (request.params as { id: string }).id, values.into, values.mergeMessage || undefined, origin(request));
      } catch (err) {
        return show(
          request,
          reply,
          formError(err, 'into').map((f) => ({ ...f, field: 'into' })),
          values,
        );
      }
      return reply.redirect(`/console/requests/${(request.params as { id: string }).id}?saved=merged`, 303);
    });
  };
}

function answersOf(definitions: Attribute[], answers: Record<string, string | string[]>) {
  return definitions
    .filter((a) => answers[a.code] !== undefined)
    .map((a) => {
      const keys = [answers[a.code]].flat();
      const label = (k: string) => a.values?.find((v) => v.key === k)?.name ?? k;
      return { question: a.description, answer: keys.map(label).join(', ') };
    });
}

// ---------------------------------------------------------------- categories and teams

const FIELDS = ['code', 'name', 'nameCy', 'group', 'description', 'keywords', 'targetHours', 'serviceNotice', 'defaultTeamId', 'attributes', 'enabled'];

function categoryValues(c: CategoryView): Record<string, string> {
  return {
    code: c.code,
    name: c.name,
    nameCy: c.nameCy ?? '',
    group: c.group,
    description: c.description,
    keywords: c.keywords.join(', '),
    targetHours: String(c.targetHours),
    serviceNotice: c.serviceNotice ?? '',
    defaultTeamId: c.defaultTeamId ?? '',
    attributes: c.attributes.length ? JSON.stringify(c.attributes, null, 2) : '',
    enabled: c.enabled ? 'yes' : 'no',
    ...Object.fromEntries(c.routes.map((r) => [`route-${r.areaId}`, r.teamId])),
  };
}

/** The form's fields as a category: numbers, lists and the questions' JSON; problems by field. */
function categoryInput(body: Record<string, string>, areaIds: string[]): { input: CategoryCreate; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const text = (k: string) => String(body[k] ?? '').trim();
  if (!/^[a-z0-9][a-z0-9_-]{0,49}$/.test(text('code'))) errors.push({ field: 'code', message: 'Enter a code of lower-case letters, digits, - and _, such as potholes' });
  if (!text('name')) errors.push({ field: 'name', message: 'Enter the category’s name' });
  if (!text('group')) errors.push({ field: 'group', message: 'Enter a group, such as Roads' });
  const hours = Number(text('targetHours'));
  if (!Number.isInteger(hours) || hours < 1 || hours > 8760) errors.push({ field: 'targetHours', message: 'Enter the target in whole hours, from 1 to 8760' });
  let attributes: Attribute[] = [];
  if (text('attributes')) {
    try {
      attributes = JSON.parse(text('attributes'));
      if (!Array.isArray(attributes) || !attributes.every((a) => Value.Check(Attribute, a))) throw new Error('not attributes');
    } catch {
      errors.push({ field: 'attributes', message: 'Enter the questions as a JSON list, each with code, description, datatype and required' });
    }
  }
  const routes = areaIds.filter((id) => text(`route-${id}`)).map((areaId) => ({ areaId, teamId: text(`route-${areaId}`) }));
  return {
    errors,
    input: {
      code: text('code'),
      name: text('name'),
      nameCy: text('nameCy') || null,
      group: text('group'),
      description: text('description'),
      keywords: text('keywords')
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
      targetHours: hours,
      serviceNotice: text('serviceNotice') || null,
      attributes,
      defaultTeamId: text('defaultTeamId') || null,
      routes,
      enabled: text('enabled') !== 'no',
    },
  };
}

function categoryPages({ requests }: RequestsRouteDeps) {
  return async (app: FastifyInstance) => {
    const list = async (_request: FastifyRequest, reply: FastifyReply, fields: FieldError[] = [], values: Record<string, string> = {}, flash?: string) => {
      const { categories, teams } = await requests.names();
      return reply.page(
        `${VIEWS}/categories.njk`,
        {
          pageTitle: 'Request categories',
          categories: [...categories.values()],
          teams: [...teams.values()],
          teamNames: Object.fromEntries([...teams.values()].map((t) => [t.id, t.name])),
          values,
          errors: errorList(fields),
          fieldErrors: { teamName: errorFor(fields, 'teamName'), teamEmail: errorFor(fields, 'teamEmail') },
          flash,
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/requests/categories', { config: configurePage, schema: { hide: true } }, async (request, reply) => {
      const saved = (request.query as { saved?: string }).saved;
      return list(request, reply, [], {}, saved === 'team' ? 'Team added.' : saved === 'category' ? 'Category saved.' : undefined);
    });

    app.post('/console/requests/teams', { config: configurePage, schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, string>;
      const values = { teamName: String(body.teamName ?? '').trim(), teamEmail: String(body.teamEmail ?? '').trim() };
      if (!values.teamName) return list(request, reply, [{ field: 'teamName', message: 'Enter the team’s name' }], values);
      if (values.teamEmail && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.teamEmail))
        return list(request, reply, [{ field: 'teamEmail', message: 'Enter an email address, such as highways@example.gov.uk' }], values);
      try {
        request.audited = true;
        await requests.createTeam(request.actor, { name: values.teamName, email: values.teamEmail || null }, origin(request));
      } catch (err) {
        return list(
          request,
          reply,
          formError(err, 'teamName').map((f) => ({ ...f, field: 'teamName' })),
          values,
        );
      }
      return reply.redirect('/console/requests/categories?saved=team', 303);
    });

    const form = async (_request: FastifyRequest, reply: FastifyReply, category: CategoryView | null, values: Record<string, string>, fields: FieldError[]) => {
      const [{ teams }, areas] = await Promise.all([requests.names(), areaList(requests)]);
      const teamItems = (chosen: string | undefined, none: string) => [{ value: '', text: none }, ...[...teams.values()].map((t) => ({ value: t.id, text: t.name, selected: t.id === chosen }))];
      return reply.page(
        `${VIEWS}/category-form.njk`,
        {
          pageTitle: category ? `Change ${category.name}` : 'Add a category',
          category,
          values,
          errors: errorList(fields),
          fieldErrors: Object.fromEntries(FIELDS.map((f) => [f, errorFor(fields, f)])),
          defaultTeamItems: teamItems(values.defaultTeamId, 'No default team'),
          routeRows: areas.map((a) => ({ id: a.id, name: a.name, items: teamItems(values[`route-${a.id}`], 'The default team') })),
          enabledItems: [
            { value: 'yes', text: 'Yes, it takes reports', checked: values.enabled !== 'no' },
            { value: 'no', text: 'No, it is turned off', checked: values.enabled === 'no' },
          ],
          datatypes: DATATYPES.join(', '),
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/requests/categories/new', { config: configurePage, schema: { hide: true } }, async (request, reply) => form(request, reply, null, { targetHours: '120' }, []));

    app.post('/console/requests/categories/new', { config: configurePage, schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, string>;
      const { input, errors } = categoryInput(
        body,
        (await areaList(requests)).map((a) => a.id),
      );
      if (errors.length) return form(request, reply, null, body, errors);
      try {
        request.audited = true;
        await requests.createCategory(request.actor, input, origin(request));
      } catch (err) {
        return form(request, reply, null, body, formError(err, 'code'));
      }
      return reply.redirect('/console/requests/categories?saved=category', 303);
    });

    app.get('/console/requests/categories/:code', { config: configurePage, schema: { hide: true } }, async (request, reply) => {
      const category = await requests.getCategory((request.params as { code: string }).code);
      return form(request, reply, category, categoryValues(category), []);
    });

    app.post('/console/requests/categories/:code', { config: configurePage, schema: { hide: true } }, async (request, reply) => {
      const category = await requests.getCategory((request.params as { code: string }).code);
      const body = { ...((request.body ?? {}) as Record<string, string>), code: category.code };
      const { input, errors } = categoryInput(
        body,
        (await areaList(requests)).map((a) => a.id),
      );
      if (errors.length) return form(request, reply, category, body, errors);
      const { code: _code, ...changes } = input;
      try {
        request.audited = true;
        await requests.updateCategory(request.actor, category.code, changes, origin(request));
      } catch (err) {
        return form(request, reply, category, body, formError(err, 'name'));
      }
      return reply.redirect('/console/requests/categories?saved=category', 303);
    });
  };
}
