/**
 * NGSI-LD representations: entities are held normalised ({ type: 'Property', value })
 * and rendered normalised, concise or as key-values; attributes are picked or
 * omitted; @context travels in a Link header (application/json) or in the body
 * (application/ld+json). Input in the normalised or concise form is checked and
 * normalised here too.
 */

export type Attribute = Record<string, unknown> & { type: string };
export type Entity = { id: string; type: string } & Record<string, unknown>;

export const CORE_CONTEXT = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld';
/** The Smart Data Models contexts for the domains Weft maps its estate to. */
export const SMART_DATA_MODEL_CONTEXTS = [
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/context.jsonld',
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld',
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Device/master/context.jsonld',
  'https://raw.githubusercontent.com/smart-data-models/dataModel.Building/master/context.jsonld',
];
export const CONTEXT_PATH = '/ngsi-ld/v1/jsonldContexts/weft';
/** Terms Weft uses beyond the four domain contexts: its own metrics, and fillingLevel from the waste model. */
export const WEFT_TERMS_NAMESPACE = 'urn:weft:terms:';
const EXTRA_TERMS: Record<string, string> = {
  fillingLevel: 'https://smartdatamodels.org/dataModel.WasteManagement/fillingLevel',
  ...Object.fromEntries(['uprn', 'occupied', 'heartbeat', 'fall', 'pressed', 'motion', 'open', 'countIn', 'countOut', 'energyKwh', 'powerW'].map((t) => [t, `${WEFT_TERMS_NAMESPACE}${t}`])),
};

/** The JSON-LD context document served at CONTEXT_PATH. */
export function contextDocument(): Record<string, unknown> {
  return { '@context': [...SMART_DATA_MODEL_CONTEXTS, EXTRA_TERMS, CORE_CONTEXT] };
}

export function linkHeader(contextUrl: string): string {
  return `<${contextUrl}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`;
}

// ---- Options ----

export type Format = 'normalized' | 'concise' | 'keyValues';

export interface RenderOptions {
  format: Format;
  sysAttrs: boolean;
  /** attribute names to keep (attrs); undefined keeps all */
  attrs?: Set<string>;
  /** member names to keep (pick) or drop (omit), id and type included */
  pick?: Set<string>;
  omit?: Set<string>;
}

export const OPTIONS = ['keyValues', 'simplified', 'concise', 'normalized', 'sysAttrs', 'noOverwrite', 'temporalValues', 'aggregatedValues'] as const;
export type Option = (typeof OPTIONS)[number];

export class FormatError extends Error {}

/** Splits a comma list (options, attrs, pick, type), refusing empty items. */
export function commaList(value: string | undefined, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim());
  if (!items.length || items.some((s) => !s)) throw new FormatError(`${what} must be a comma-separated list with no empty items.`);
  return items;
}

export function parseOptions(options?: string, format?: string): { format: Format; set: Set<Option> } {
  const set = new Set<Option>();
  for (const o of commaList(options, 'options') ?? []) {
    if (!(OPTIONS as readonly string[]).includes(o)) throw new FormatError(`"${o}" is not an option this broker knows: use ${OPTIONS.join(', ')}.`);
    set.add(o as Option);
  }
  let f: Format = 'normalized';
  if (format !== undefined) {
    if (format === 'simplified' || format === 'keyValues') f = 'keyValues';
    else if (format === 'concise' || format === 'normalized') f = format;
    else throw new FormatError('format must be normalized, concise or simplified.');
  } else if (set.has('keyValues') || set.has('simplified')) f = 'keyValues';
  else if (set.has('concise')) f = 'concise';
  const chosen = ['keyValues', 'simplified', 'concise', 'normalized'].filter((o) => set.has(o as Option));
  if (chosen.length > 1 && !(chosen.length === 2 && chosen.includes('keyValues') && chosen.includes('simplified'))) throw new FormatError('Choose one of keyValues, concise or normalized.');
  return { format: f, set };
}

// ---- Rendering ----

const SYS = new Set(['createdAt', 'modifiedAt', 'deletedAt']);
const META = new Set(['type', 'value', 'object', 'objectList', 'valueList', 'languageMap', 'vocab', 'json', 'observedAt', 'unitCode', 'datasetId', 'instanceId', 'createdAt', 'modifiedAt']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isAttribute(v: unknown): v is Attribute {
  return (
    isObject(v) && typeof v.type === 'string' && ['Property', 'Relationship', 'GeoProperty', 'LanguageProperty', 'ListProperty', 'ListRelationship', 'VocabProperty', 'JsonProperty'].includes(v.type)
  );
}

/** The value an attribute stands for in key-values form. */
export function simpleValue(a: Attribute): unknown {
  switch (a.type) {
    case 'Relationship':
      return a.object;
    case 'LanguageProperty':
      return a.languageMap;
    case 'ListProperty':
      return a.valueList;
    case 'ListRelationship':
      return a.objectList;
    case 'VocabProperty':
      return a.vocab;
    case 'JsonProperty':
      return a.json;
    default:
      return a.value;
  }
}

function renderAttribute(a: Attribute, options: RenderOptions): unknown {
  if (options.format === 'keyValues') return simpleValue(a);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) {
    if (SYS.has(k) && !options.sysAttrs) continue;
    out[k] = !META.has(k) && isAttribute(v) ? renderAttribute(v, options) : Array.isArray(v) && !META.has(k) && v.every(isAttribute) ? v.map((x) => renderAttribute(x, options)) : v;
  }
  if (options.format === 'normalized') return out;
  delete out.type;
  const keys = Object.keys(out);
  if (keys.length === 1 && keys[0] === 'value') {
    const v = out.value;
    if (a.type === 'Property' && (typeof v !== 'object' || v === null)) return v;
    if (a.type === 'GeoProperty') return v;
  }
  return out;
}

/** Renders one entity in the requested form; `context` is added as @context when given. */
export function renderEntity(entity: Entity, options: RenderOptions, context?: unknown): Record<string, unknown> {
  const keep = (name: string) => (!options.pick || options.pick.has(name)) && !options.omit?.has(name);
  const out: Record<string, unknown> = {};
  if (keep('id')) out.id = entity.id;
  if (keep('type')) out.type = entity.type;
  if (options.sysAttrs) {
    if (entity.createdAt) out.createdAt = entity.createdAt;
    if (entity.modifiedAt) out.modifiedAt = entity.modifiedAt;
  }
  for (const [name, value] of Object.entries(entity)) {
    if (name === 'id' || name === 'type' || SYS.has(name) || name === '@context') continue;
    if (options.attrs && !options.attrs.has(name)) continue;
    if (!keep(name)) continue;
    out[name] = Array.isArray(value) ? value.map((v) => renderAttribute(v as Attribute, options)) : renderAttribute(value as Attribute, options);
  }
  if (context !== undefined) out['@context'] = context;
  return out;
}

// ---- Values Weft writes ----

export const prop = (value: unknown, extra: Record<string, unknown> = {}): Attribute => ({ type: 'Property', value, ...extra });
export const rel = (object: string | string[], extra: Record<string, unknown> = {}): Attribute => ({ type: 'Relationship', object, ...extra });
export const geo = (lon: number, lat: number): Attribute => ({ type: 'GeoProperty', value: { type: 'Point', coordinates: [lon, lat] } });
export const dateTime = (d: Date) => ({ '@type': 'DateTime', '@value': d.toISOString() });

// ---- Input ----

export class InputError extends Error {}

const ENTITY_ID = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]{1,255}$/;
const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const RESERVED = new Set(['id', 'type', '@context', 'scope', 'createdAt', 'modifiedAt', 'deletedAt', 'observedAt', 'unitCode', 'datasetId', 'instanceId']);
const MAX_ATTRIBUTES = 200;

export function isEntityId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= 256 && ENTITY_ID.test(id);
}

export function isTypeName(t: unknown): t is string {
  return typeof t === 'string' && TYPE_NAME.test(t);
}

/**
 * A full IRI of a known vocabulary is compacted to its short term, so a client that
 * expands its payload (https://smartdatamodels.org/dataModel.Environment/no2) and one
 * that does not (no2) reach the same attribute.
 */
export function compactName(name: string): string {
  const m = /^https:\/\/(smartdatamodels\.org\/dataModel\.[A-Za-z]+|schema\.org|uri\.etsi\.org\/ngsi-ld\/default-context)\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(name);
  if (m) return m[2];
  if (name.startsWith(WEFT_TERMS_NAMESPACE)) return name.slice(WEFT_TERMS_NAMESPACE.length);
  return name;
}

export function checkAttributeName(raw: string): string {
  const name = compactName(raw);
  if (RESERVED.has(name)) throw new InputError(`"${name}" is reserved by NGSI-LD and cannot be an attribute name.`);
  if (!ATTRIBUTE_NAME.test(name)) throw new InputError(`"${raw}" is not an attribute name this broker accepts: use letters, digits and underscores, starting with a letter.`);
  return name;
}

function isGeoJson(v: unknown): boolean {
  return isObject(v) && typeof v.type === 'string' && ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'].includes(v.type) && Array.isArray(v.coordinates);
}

/**
 * Normalises one attribute given in the normalised or concise form. Checks the shape
 * (a Relationship has an object URI, a GeoProperty a GeoJSON geometry, observedAt a
 * date-time) and normalises sub-attributes the same way.
 */
export function normaliseAttribute(name: string, input: unknown, depth = 0): Attribute {
  if (depth > 3) throw new InputError(`${name}: attributes may be nested at most three deep.`);
  let a: Record<string, unknown>;
  if (isAttribute(input)) a = { ...input };
  else if (isObject(input) && 'object' in input) a = { type: 'Relationship', ...input };
  else if (isObject(input) && 'languageMap' in input) a = { type: 'LanguageProperty', ...input };
  else if (isObject(input) && 'value' in input) a = { type: isGeoJson(input.value) ? 'GeoProperty' : 'Property', ...input };
  else if (isGeoJson(input)) a = { type: 'GeoProperty', value: input };
  else if (isObject(input) && typeof input.type === 'string')
    throw new InputError(`${name}: "${input.type}" is not an attribute type this broker supports: use Property, Relationship, GeoProperty or LanguageProperty.`);
  else if (input === null || input === undefined) throw new InputError(`${name}: an attribute needs a value.`);
  else a = { type: 'Property', value: input };

  switch (a.type) {
    case 'Property':
      if (!('value' in a) || a.value === null || a.value === undefined) throw new InputError(`${name}: a Property needs a value.`);
      break;
    case 'Relationship':
      if (![a.object].flat().every(isEntityId)) throw new InputError(`${name}: a Relationship's object must be the URI of an entity.`);
      break;
    case 'GeoProperty':
      if (!isGeoJson(a.value)) throw new InputError(`${name}: a GeoProperty's value must be a GeoJSON geometry, like { "type": "Point", "coordinates": [-1.2577, 51.752] }.`);
      break;
    case 'LanguageProperty':
      if (!isObject(a.languageMap) || !Object.values(a.languageMap).every((v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'))))
        throw new InputError(`${name}: a LanguageProperty's languageMap maps language tags to strings.`);
      break;
    default:
      throw new InputError(`${name}: "${a.type}" is not an attribute type this broker supports: use Property, Relationship, GeoProperty or LanguageProperty.`);
  }
  if (a.observedAt !== undefined && (typeof a.observedAt !== 'string' || Number.isNaN(Date.parse(a.observedAt))))
    throw new InputError(`${name}: observedAt must be a date and time, like 2026-01-31T09:30:00Z.`);
  if (a.unitCode !== undefined && (typeof a.unitCode !== 'string' || a.unitCode.length > 10)) throw new InputError(`${name}: unitCode must be a UN/CEFACT unit code, like GQ or CEL.`);
  if (a.datasetId !== undefined && !isEntityId(a.datasetId)) throw new InputError(`${name}: datasetId must be a URI.`);
  const out: Attribute = { type: a.type as string };
  for (const [k, v] of Object.entries(a)) {
    if (k === 'type' || k === 'createdAt' || k === 'modifiedAt' || k === 'instanceId') continue;
    if (META.has(k)) out[k] = v;
    else {
      const sub = checkAttributeName(k);
      out[sub] = normaliseAttribute(`${name}.${sub}`, v, depth + 1);
    }
  }
  if (out.observedAt) out.observedAt = new Date(out.observedAt as string).toISOString();
  return out;
}

/** Normalises the attributes of a request body (everything but id, type and @context). */
export function normaliseAttributes(body: Record<string, unknown>, skip: string[] = ['id', 'type', '@context']): Record<string, Attribute> {
  const out: Record<string, Attribute> = {};
  const entries = Object.entries(body).filter(([k]) => !skip.includes(k));
  if (entries.length > MAX_ATTRIBUTES) throw new InputError(`An entity may have at most ${MAX_ATTRIBUTES} attributes.`);
  for (const [raw, value] of entries) {
    const name = checkAttributeName(raw);
    if (Array.isArray(value) && value.length && value.every((v) => isObject(v) && ('type' in v || 'value' in v || 'object' in v) && 'datasetId' in v))
      throw new InputError(`${name}: attributes with several instances (datasetId) are not supported by this broker.`);
    out[name] = normaliseAttribute(name, value);
  }
  return out;
}

/** Reads and checks the @context of an application/ld+json body: a URL, an object or a list of them. */
export function checkBodyContext(body: Record<string, unknown>, contentType: string): void {
  const isLd = contentType.includes('application/ld+json');
  if (isLd && body['@context'] === undefined) throw new InputError('A body sent as application/ld+json must carry its @context.');
  if (!isLd && body['@context'] !== undefined) throw new InputError('A body sent as application/json must not carry @context: send it in a Link header, or send the body as application/ld+json.');
  if (isLd) {
    const items = [body['@context']].flat();
    if (!items.every((c) => (typeof c === 'string' && /^https?:\/\//.test(c)) || isObject(c))) throw new InputError('@context must be a URL, an object, or a list of them.');
  }
}
