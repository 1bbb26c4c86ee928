import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { originOf as origin } from '../../platform/audit/origin.js';
import { newId } from '../../platform/ids.js';
import { ProblemResponses } from '../../platform/web/openapi.js';
import { contextErrors } from './context.errors.js';
import { AttrParams, DEFAULT_LIMIT, EntitiesQuery, EntityBody, EntityIdParams, EntityQuery, NgsiResponses, TemporalQuery, TypeParams, TypesQuery, WriteQuery } from './context.schema.js';
import { AGGREGATE_METHODS, type AggregateMethod, type ContextService, type TemporalAttribute, type TemporalRequest } from './context.service.js';
import {
  CONTEXT_PATH,
  checkAttributeName,
  checkBodyContext,
  commaList,
  contextDocument,
  type Entity,
  FormatError,
  InputError,
  isEntityId,
  isTypeName,
  linkHeader,
  parseOptions,
  type RenderOptions,
  renderEntity,
} from './ngsi-format.js';
import { GeoQueryError, parseGeoQuery } from './ngsi-geo.js';
import { parseQuery, QuerySyntaxError, safeRegex } from './ngsi-query.js';

const BASE = '/ngsi-ld/v1';
const read = { permission: 'telemetry:read' };
/** Creating and deleting entities changes the estate's context; updating attributes sends readings. */
const manage = { permission: 'estate:manage' };
const ingest = { permission: 'telemetry:ingest' };
const tags = ['ngsi-ld'];

type Dialect = 'json' | 'ld' | 'geojson';
const MEDIA: Record<Dialect, string> = { json: 'application/json', ld: 'application/ld+json', geojson: 'application/geo+json' };

/** The representation the client accepts best: application/json (default), application/ld+json or application/geo+json. */
function negotiate(request: FastifyRequest, allowGeo = true): Dialect {
  const header = request.headers.accept;
  if (!header) return 'json';
  const ranges = header
    .split(',')
    .map((part) => {
      const [type, ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { type: type.trim(), q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const r of ranges) {
    if (r.type === 'application/ld+json') return 'ld';
    if (r.type === 'application/json' || r.type === '*/*' || r.type === 'application/*') return 'json';
    if (r.type === 'application/geo+json' && allowGeo) return 'geojson';
  }
  throw contextErrors.NGSI_NOT_ACCEPTABLE(allowGeo ? undefined : 'Ask for application/json or application/ld+json.');
}

const parameter = (fn: () => unknown) => {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FormatError || err instanceof InputError) throw contextErrors.NGSI_PARAMETER_INVALID(err.message);
    throw err;
  }
};

function renderOptions(qs: { options?: string; format?: string; attrs?: string; pick?: string; omit?: string }): RenderOptions & { set: Set<string> } {
  return parameter(() => {
    const { format, set } = parseOptions(qs.options, qs.format);
    const names = (v: string | undefined, what: string) => {
      const list = commaList(v, what);
      return list ? new Set(list.map((n) => (n === 'id' || n === 'type' ? n : checkAttributeName(n)))) : undefined;
    };
    return { format, sysAttrs: set.has('sysAttrs'), attrs: names(qs.attrs, 'attrs'), pick: names(qs.pick, 'pick'), omit: names(qs.omit, 'omit'), set };
  }) as RenderOptions & { set: Set<string> };
}

/** Sends entities (or one) in the negotiated dialect, with the @context in a Link header or in the body. */
function sendEntities(reply: FastifyReply, dialect: Dialect, contextUrl: string, body: Entity[] | Entity, options: RenderOptions, status = 200) {
  const render = (e: Entity) => renderEntity(e, options, dialect === 'ld' ? contextUrl : undefined);
  reply.status(status).type(MEDIA[dialect]);
  if (dialect !== 'ld') reply.header('link', linkHeader(contextUrl));
  if (dialect === 'geojson') {
    const feature = (e: Entity) => {
      const { id, ...properties } = renderEntity(e, options);
      const location = (e.location as { value?: unknown } | undefined)?.value ?? null;
      return { id, type: 'Feature', geometry: location, properties };
    };
    return reply.send(Array.isArray(body) ? { type: 'FeatureCollection', features: body.map(feature) } : feature(body));
  }
  return reply.send(Array.isArray(body) ? body.map(render) : render(body));
}

const entityIdOf = (r: FastifyRequest) => (r.params as { entityId: string }).entityId;

function bodyOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw contextErrors.NGSI_ENTITY_INVALID('The body must be a JSON object.');
  try {
    checkBodyContext(body as Record<string, unknown>, String(request.headers['content-type'] ?? ''));
  } catch (err) {
    if (err instanceof InputError) throw contextErrors.NGSI_ENTITY_INVALID(err.message);
    throw err;
  }
  return body as Record<string, unknown>;
}

const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

function durationSeconds(text: string): number {
  const m = DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) throw contextErrors.NGSI_PARAMETER_INVALID('aggrPeriodDuration must be an ISO 8601 duration, like PT1H, PT15M or P1D.');
  return Number(m[1] ?? 0) * 86_400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
}

function instant(text: string | undefined, name: string): Date | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw contextErrors.NGSI_PARAMETER_INVALID(`${name} must be a date and time with a time zone, like 2026-03-02T08:00:00Z.`);
  return new Date(ms);
}

/** A temporal entity: instances (normalised or as temporalValues pairs) or aggregated values per period. */
function renderTemporal(entity: Entity, attributes: Record<string, TemporalAttribute>, simplified: boolean) {
  const out: Record<string, unknown> = { id: entity.id, type: entity.type };
  for (const [name, a] of Object.entries(attributes)) {
    if (a.kind === 'aggregated') {
      const v: Record<string, unknown> = { type: a.type };
      const period = (p: { start: Date; end: Date }, value: number) => [a.scale === 1 ? value : Math.round(value * a.scale * 1e6) / 1e6, p.start.toISOString(), p.end.toISOString()];
      for (const m of a.methods) {
        v[m] = a.periods.map((p) =>
          m === 'totalCount' ? [p.count, p.start.toISOString(), p.end.toISOString()] : period(p, m === 'avg' ? p.sum / p.count : m === 'sum' ? p.sum : m === 'min' ? p.min : p.max),
        );
      }
      out[name] = v;
    } else if (simplified) out[name] = { type: a.type, values: a.instances.map((i) => [i.value, i.at ?? null]) };
    else out[name] = a.instances.map((i) => ({ type: a.type, value: i.value, ...(i.at ? { observedAt: i.at } : {}), ...(a.unitCode ? { unitCode: a.unitCode } : {}) }));
  }
  return out;
}

/** The NGSI-LD API (a subset of ETSI GS CIM 009) at /ngsi-ld/v1/. */
export function contextRoutes(deps: { context: ContextService; publicUrl: string }) {
  const { context } = deps;
  const contextUrl = `${deps.publicUrl}${CONTEXT_PATH}`;
  return async (app: FastifyInstance) => {
    // JSON-LD processors fetch the @context without credentials: it is a vocabulary, not data.
    app.get(CONTEXT_PATH, { config: { public: true }, schema: { tags, summary: 'The JSON-LD @context of Weft’s NGSI-LD entities' } }, async (_request, reply) =>
      reply.type('application/ld+json').header('cache-control', 'public, max-age=3600').send(contextDocument()),
    );

    app.get(
      `${BASE}/entities`,
      { config: read, schema: { tags, summary: 'Query entities by type, id, q, attributes and geo-query', querystring: EntitiesQuery, response: { ...NgsiResponses, ...ProblemResponses } } },
      async (request, reply) => {
        const qs = request.query as EntitiesQuery;
        const dialect = negotiate(request);
        const options = renderOptions(qs);
        const types = parameter(() => commaList(qs.type?.replace(/\|/g, ','), 'type')) as string[] | undefined;
        if (types?.some((t) => !isTypeName(t))) throw contextErrors.NGSI_PARAMETER_INVALID('type must be entity type names, like AirQualityObserved,ParkingSpot.');
        const ids = parameter(() => commaList(qs.id, 'id')) as string[] | undefined;
        if (ids?.some((i) => !isEntityId(i))) throw contextErrors.NGSI_PARAMETER_INVALID('id must be entity ids (URIs), comma-separated.');
        let idPattern: RegExp | undefined;
        if (qs.idPattern !== undefined) {
          try {
            idPattern = safeRegex(qs.idPattern);
          } catch (err) {
            throw contextErrors.NGSI_PARAMETER_INVALID(`idPattern: ${(err as Error).message}`);
          }
        }
        let q: ReturnType<typeof parseQuery> | undefined;
        if (qs.q !== undefined) {
          try {
            q = parseQuery(qs.q);
          } catch (err) {
            if (err instanceof QuerySyntaxError) throw contextErrors.NGSI_QUERY_INVALID(`The q parameter is not a valid NGSI-LD query. ${err.message}`);
            throw err;
          }
        }
        let geo: ReturnType<typeof parseGeoQuery>;
        try {
          geo = parseGeoQuery(qs);
        } catch (err) {
          if (err instanceof GeoQueryError) throw contextErrors.NGSI_GEOQUERY_INVALID(err.message);
          throw err;
        }
        if (!types && !ids && !idPattern && !q && !options.attrs && !geo)
          throw contextErrors.NGSI_PARAMETER_INVALID('Say which entities you want: give at least one of type, id, idPattern, q, attrs or a geo-query.');
        const limit = qs.limit ?? DEFAULT_LIMIT;
        if (limit === 0 && !qs.count) throw contextErrors.NGSI_PARAMETER_INVALID('limit=0 only makes sense with count=true.');
        const { entities, total } = await context.query(context.viewer(request.actor), {
          types,
          ids,
          idPattern,
          q,
          attrs: options.attrs ? [...options.attrs] : undefined,
          geo,
          limit,
          offset: qs.offset ?? 0,
          count: qs.count,
        });
        if (qs.count) reply.header('NGSILD-Results-Count', String(total));
        return sendEntities(reply, dialect, contextUrl, entities, options);
      },
    );

    app.get(
      `${BASE}/entities/:entityId`,
      { config: read, schema: { tags, summary: 'One entity by id', params: EntityIdParams, querystring: EntityQuery, response: { ...NgsiResponses, ...ProblemResponses } } },
      async (request, reply) => {
        const qs = request.query as EntityQuery;
        const dialect = negotiate(request);
        const options = renderOptions(qs);
        const entity = await context.get(context.viewer(request.actor), entityIdOf(request));
        if (qs.type && qs.type !== entity.type) throw contextErrors.NGSI_ENTITY_NOT_FOUND(`There is no ${qs.type} with the id ${entity.id}.`);
        return sendEntities(reply, dialect, contextUrl, entity, options);
      },
    );

    app.post(
      `${BASE}/entities`,
      { config: manage, schema: { tags, summary: 'Create an entity (a Device becomes a Weft device)', body: EntityBody, response: { ...NgsiResponses, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        const created = await context.create(request.actor, bodyOf(request), origin(request));
        reply.status(201).header('location', `${BASE}/entities/${encodeURIComponent(created.id)}`);
        if (!created.device) return reply.send();
        // The device's credentials are shown this once, as when a device is created through the estate API.
        return reply.header('cache-control', 'no-store').type('application/json').send({ id: created.id, weftDevice: created.device });
      },
    );

    app.delete(
      `${BASE}/entities/:entityId`,
      { config: manage, schema: { tags, summary: 'Delete an entity created through this API', params: EntityIdParams, response: { ...NgsiResponses, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        await context.deleteEntity(context.viewer(request.actor), entityIdOf(request), origin(request));
        return reply.status(204).send();
      },
    );

    const update = (mode: 'update' | 'append') => async (request: FastifyRequest, reply: FastifyReply) => {
      const body = bodyOf(request);
      const options = parameter(() => parseOptions((request.query as WriteQuery).options)) as { set: Set<string> };
      request.audited = true;
      const result = await context.updateAttributes(context.viewer(request.actor), entityIdOf(request), body, mode, { noOverwrite: options.set.has('noOverwrite') }, origin(request));
      if (!result.notUpdated.length) return reply.status(204).send();
      return reply.status(207).type('application/json').send(result);
    };

    app.patch(
      `${BASE}/entities/:entityId/attrs`,
      {
        config: ingest,
        schema: {
          tags,
          summary: 'Update attributes (readings for a Weft device)',
          params: EntityIdParams,
          querystring: WriteQuery,
          body: EntityBody,
          response: { ...NgsiResponses, ...ProblemResponses },
        },
      },
      update('update'),
    );

    app.post(
      `${BASE}/entities/:entityId/attrs`,
      {
        config: ingest,
        schema: {
          tags,
          summary: 'Append attributes (readings for a Weft device)',
          params: EntityIdParams,
          querystring: WriteQuery,
          body: EntityBody,
          response: { ...NgsiResponses, ...ProblemResponses },
        },
      },
      update('append'),
    );

    app.patch(
      `${BASE}/entities/:entityId/attrs/:attrId`,
      { config: ingest, schema: { tags, summary: 'Update one attribute (a reading for a Weft device)', params: AttrParams, body: EntityBody, response: { ...NgsiResponses, ...ProblemResponses } } },
      async (request, reply) => {
        const { attrId } = request.params as { attrId: string };
        const name = parameter(() => checkAttributeName(attrId)) as string;
        request.audited = true;
        await context.updateAttribute(context.viewer(request.actor), entityIdOf(request), name, bodyOf(request), origin(request));
        return reply.status(204).send();
      },
    );

    app.delete(
      `${BASE}/entities/:entityId/attrs/:attrId`,
      { config: manage, schema: { tags, summary: 'Delete an attribute of an entity created through this API', params: AttrParams, response: { ...NgsiResponses, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        const { attrId } = request.params as { attrId: string };
        await context.deleteAttribute(context.viewer(request.actor), entityIdOf(request), parameter(() => checkAttributeName(attrId)) as string, origin(request));
        return reply.status(204).send();
      },
    );

    app.get(
      `${BASE}/temporal/entities/:entityId`,
      {
        config: read,
        schema: { tags, summary: 'The history of an entity’s attributes, raw or aggregated', params: EntityIdParams, querystring: TemporalQuery, response: { ...NgsiResponses, ...ProblemResponses } },
      },
      async (request, reply) => {
        const qs = request.query as TemporalQuery;
        const dialect = negotiate(request, false);
        const options = new Set(parameter(() => commaList(qs.options, 'options')) as string[] | undefined);
        const unknownOption = [...options].find((o) => !['temporalValues', 'aggregatedValues', 'sysAttrs', 'normalized'].includes(o));
        if (unknownOption) throw contextErrors.NGSI_PARAMETER_INVALID(`"${unknownOption}" is not an option of temporal queries: use temporalValues or aggregatedValues.`);
        if (qs.format !== undefined && !['normalized', 'temporalValues', 'aggregatedValues'].includes(qs.format))
          throw contextErrors.NGSI_PARAMETER_INVALID('format must be normalized, temporalValues or aggregatedValues.');
        const simplified = options.has('temporalValues') || qs.format === 'temporalValues';
        const aggregated = options.has('aggregatedValues') || qs.format === 'aggregatedValues' || qs.aggrMethods !== undefined;
        const timeAt = instant(qs.timeAt, 'timeAt');
        const endTimeAt = instant(qs.endTimeAt, 'endTimeAt');
        if (qs.timerel && !timeAt) throw contextErrors.NGSI_PARAMETER_INVALID(`timerel=${qs.timerel} needs timeAt.`);
        if (qs.timerel === 'between' && !endTimeAt) throw contextErrors.NGSI_PARAMETER_INVALID('timerel=between needs endTimeAt.');
        if (!qs.timerel && (timeAt || endTimeAt)) throw contextErrors.NGSI_PARAMETER_INVALID('timeAt and endTimeAt need timerel (before, after or between).');
        if (timeAt && endTimeAt && endTimeAt <= timeAt) throw contextErrors.NGSI_PARAMETER_INVALID('endTimeAt must be after timeAt.');
        const attrs = parameter(() => commaList(qs.attrs, 'attrs')?.map(checkAttributeName)) as string[] | undefined;
        const req: TemporalRequest = { attrs, timerel: qs.timerel, timeAt, endTimeAt, lastN: qs.lastN };
        if (aggregated) {
          const methods = (parameter(() => commaList(qs.aggrMethods, 'aggrMethods')) as string[] | undefined) ?? ['avg', 'min', 'max', 'totalCount'];
          const unknown = methods.filter((m) => !(AGGREGATE_METHODS as readonly string[]).includes(m));
          if (unknown.length) throw contextErrors.NGSI_PARAMETER_INVALID(`aggrMethods may be ${AGGREGATE_METHODS.join(', ')}; not ${unknown.join(', ')}.`);
          req.aggregate = { methods: methods as AggregateMethod[], periodSeconds: qs.aggrPeriodDuration ? durationSeconds(qs.aggrPeriodDuration) : undefined };
        }
        const { entity, attributes } = await context.temporal(context.viewer(request.actor), entityIdOf(request), req);
        const body = renderTemporal(entity, attributes, simplified);
        reply.type(MEDIA[dialect]);
        if (dialect === 'ld') body['@context'] = contextUrl;
        else reply.header('link', linkHeader(contextUrl));
        return reply.send(body);
      },
    );

    app.get(
      `${BASE}/types`,
      { config: read, schema: { tags, summary: 'The entity types there are, with how many of each', querystring: TypesQuery, response: { ...NgsiResponses, ...ProblemResponses } } },
      async (request, reply) => {
        const dialect = negotiate(request, false);
        const types = await context.types(context.viewer(request.actor));
        const details = (request.query as { details?: boolean }).details;
        const body: Record<string, unknown> | Record<string, unknown>[] = details
          ? types.map((t) => ({ id: t.typeName, type: 'EntityType', typeName: t.typeName, attributeNames: t.attributeNames, entityCount: t.entityCount }))
          : { id: `urn:ngsi-ld:EntityTypeList:${newId()}`, type: 'EntityTypeList', typeList: types.map((t) => t.typeName) };
        reply.type(MEDIA[dialect]);
        if (dialect === 'ld') {
          if (Array.isArray(body)) for (const b of body) b['@context'] = contextUrl;
          else body['@context'] = contextUrl;
        } else reply.header('link', linkHeader(contextUrl));
        return reply.send(body);
      },
    );

    app.get(
      `${BASE}/types/:type`,
      { config: read, schema: { tags, summary: 'One entity type: how many entities and which attributes', params: TypeParams, response: { ...NgsiResponses, ...ProblemResponses } } },
      async (request, reply) => {
        const dialect = negotiate(request, false);
        const name = (request.params as { type: string }).type;
        const t = (await context.types(context.viewer(request.actor))).find((x) => x.typeName === name);
        if (!t) throw contextErrors.NGSI_ENTITY_NOT_FOUND(`There are no entities of type ${name}.`);
        const body: Record<string, unknown> = {
          id: t.typeName,
          type: 'EntityTypeInfo',
          typeName: t.typeName,
          entityCount: t.entityCount,
          attributeDetails: t.attributeNames.map((a) => ({ id: a, type: 'Attribute', attributeName: a })),
        };
        reply.type(MEDIA[dialect]);
        if (dialect === 'ld') body['@context'] = contextUrl;
        else reply.header('link', linkHeader(contextUrl));
        return reply.send(body);
      },
    );
  };
}
