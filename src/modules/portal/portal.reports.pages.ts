import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, platformErrors } from '../../platform/errors.js';
import { formatDate, type Language } from '../../platform/web/i18n.js';
import type { EstateService } from '../estate/index.js';
import { normalisePostcode, type ResidentView } from '../residents/index.js';
import {
  type Attribute,
  answersFrom,
  type CategoryView,
  checkAnswers,
  checkPhoto,
  PHOTO_MAX_BYTES,
  PHOTO_PATH,
  type PhotoUpload,
  type PublicRequestView,
  questionField,
  questionFields,
  type RequestCreate,
  type RequestStatus,
  type RequestsService,
  STATUS_TAGS,
} from '../requests/index.js';
import { type PortalId, portalText } from './portal.messages.js';
import { body, type FormError, here, origin, type PortalDeps, param, residentPage, show, str } from './portal.pages.js';

/** The portal's pages, with what reporting a problem needs: the requests service, the map's tiles and the postcode list. */
export interface ReportsDeps extends PortalDeps {
  requests: RequestsService;
  map: { tileUrl: string; attribution: string };
  /** the council's postcode list (the estate's), to place a report given only a postcode */
  postcodes: Pick<EstateService, 'lookupPostcode'>;
}

/** Where a postcode's centre is, from the council's list; undefined when the list lacks it. */
type FindPostcode = (postcode: string) => Promise<{ lat: number; lon: number } | undefined>;

const DESCRIPTION_MAX = 2000;
const PLACE_MAX = 500;
/** A 5 MB photo and the form's text; anything larger is refused before it is read (BODY_TOO_LARGE). */
const REPORT_BODY_LIMIT = PHOTO_MAX_BYTES + 512 * 1024;
const UK = { minLat: 49, maxLat: 61, minLon: -9, maxLon: 2.5 };

type T = (id: PortalId, params?: Record<string, unknown>) => string;
const translator =
  (lang: Language): T =>
  (id, params) =>
    portalText(lang, id, params);

const STATUS_TEXT: Record<RequestStatus, PortalId> = {
  open: 'statusOpen',
  acknowledged: 'statusAcknowledged',
  in_progress: 'statusInProgress',
  fixed: 'statusFixed',
  closed: 'statusClosed',
  not_ours: 'statusNotOurs',
  duplicate: 'statusDuplicate',
};
const ANSWER_ERRORS: Record<Attribute['datatype'], PortalId> = {
  string: 'errorAnswerLong',
  text: 'errorAnswerLong',
  number: 'errorAnswerNumber',
  datetime: 'errorAnswerDate',
  singlevaluelist: 'errorAnswerChoice',
  multivaluelist: 'errorAnswerChoice',
};

const londonTime = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const when = (t: T, lang: Language, at: Date) => t('dateAt', { date: formatDate(lang, at), time: londonTime.format(at) });
const status = (t: T, s: RequestStatus) => ({ text: t(STATUS_TEXT[s]), classes: STATUS_TAGS[s] });
/** A category's name in the page's language; `english` marks one with no Welsh name, for lang="en". */
const nameOf = (c: Pick<CategoryView, 'name' | 'nameCy'> | undefined, fallback: string, lang: Language) => {
  const welsh = lang === 'cy' && c?.nameCy;
  return { text: welsh || c?.name || fallback, english: lang === 'cy' && !welsh };
};

// ---------------------------------------------------------------- the form with a photo

/** A file sent with the form: its name and its bytes. */
interface Upload {
  filename: string;
  bytes: Buffer;
}
type Fields = Record<string, unknown>;

/**
 * A multipart form as fields (a repeated name as a list) and files as bytes. The platform's
 * parser reads files as text, which would spoil a photo: this one is installed for these pages only.
 */
async function readUpload(raw: Buffer, contentType: string): Promise<Fields> {
  const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
  const out: Fields = {};
  for (const [name, value] of form.entries()) {
    if (name === '__proto__' || name === 'constructor' || name === 'prototype') continue;
    if (typeof value !== 'string') {
      // A file input left empty still sends a part: no name, no bytes.
      if (value.size || value.name) out[name] = { filename: value.name, bytes: Buffer.from(await value.arrayBuffer()) } satisfies Upload;
      continue;
    }
    const had = out[name];
    out[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return out;
}

const isUpload = (v: unknown): v is Upload => !!v && typeof v === 'object' && Buffer.isBuffer((v as Upload).bytes);

/** What the resident typed, kept to show the form again. */
interface ReportValues {
  where: string;
  place: string;
  postcode: string;
  lat: string;
  lon: string;
  description: string;
}

/** The map's point from the hidden fields (set only by its script): a place in the UK, or an error. */
function pointFrom(v: ReportValues): { point?: { lat: number; lon: number }; error?: FormError } {
  if (!v.lat && !v.lon) return {};
  const lat = Number(v.lat);
  const lon = Number(v.lon);
  const inUk = lat >= UK.minLat && lat <= UK.maxLat && lon >= UK.minLon && lon <= UK.maxLon;
  return inUk ? { point: { lat, lon } } : { error: { field: 'place', id: 'errorPointAgain' } };
}

/** The category's questions checked by the requests service's own rules, as the portal's messages. */
function answerErrors(definitions: Attribute[], answers: Record<string, string | string[]>): FormError[] {
  try {
    checkAnswers(definitions, answers);
    return [];
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'ATTRIBUTES_INVALID') throw err;
    return err.fields.flatMap((f) => {
      const a = definitions.find((d) => f.field === `attribute[${d.code}]`);
      if (!a) return [];
      return [{ field: questionField(a.code), id: answers[a.code] === undefined ? 'errorAnswerMissing' : ANSWER_ERRORS[a.datatype], params: { question: a.description } }];
    });
  }
}

function photoError(photo: Upload | undefined): FormError[] {
  if (!photo) return [];
  try {
    checkPhoto(photo);
    return [];
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return [{ field: 'photo', id: err.code === 'PHOTO_TOO_LARGE' ? 'errorPhotoSize' : 'errorPhotoType' }];
  }
}

/**
 * The report from the form, or what is wrong with it, in the form's order. "At or near my home"
 * places it at the resident's home. "Somewhere else" needs the map's point, a description of
 * where, or a postcode in the council's postcode list. The map's point wins; without one, a
 * postcode found in the list places the report at the postcode's centre (so it reaches the area's
 * team) and is kept. A postcode not in the list is an error only when nothing else says where:
 * beside a description it is kept unplaced, as the list lags new postcodes by months.
 */
async function reportFrom(b: Fields, category: CategoryView, r: ResidentView, findPostcode: FindPostcode) {
  const values: ReportValues = {
    where: r.location ? str(b.where) : 'elsewhere',
    place: str(b.place),
    postcode: str(b.postcode),
    lat: str(b.lat),
    lon: str(b.lon),
    description: str(b.description),
  };
  const answers = answersFrom(category.attributes, b);
  const photo = isUpload(b.photo) ? b.photo : undefined;
  const { point, error: pointError } = values.where === 'elsewhere' ? pointFrom(values) : {};
  const typed = values.postcode ? normalisePostcode(values.postcode) : '';
  const lookUp = values.where === 'elsewhere' && !point && !pointError && typed;
  const centre = lookUp ? await findPostcode(typed) : undefined;
  const errors: FormError[] = [];
  if (values.where !== 'home' && values.where !== 'elsewhere') errors.push({ field: 'where', id: 'errorWhereMissing' });
  if (values.place.length > PLACE_MAX) errors.push({ field: 'place', id: 'errorPlaceLong', params: { max: PLACE_MAX } });
  else if (pointError) errors.push(pointError);
  else if (values.where === 'elsewhere' && !point && !centre && !values.place) errors.push(lookUp ? { field: 'postcode', id: 'errorPostcodeUnknown' } : { field: 'place', id: 'errorPlaceMissing' });
  if (values.postcode && !typed) errors.push({ field: 'postcode', id: 'errorPostcode' });
  errors.push(...answerErrors(category.attributes, answers));
  if (!values.description) errors.push({ field: 'description', id: 'errorDescriptionMissing' });
  else if (values.description.length > DESCRIPTION_MAX) errors.push({ field: 'description', id: 'errorDescriptionLong', params: { max: DESCRIPTION_MAX.toLocaleString('en-GB') } });
  errors.push(...photoError(photo));
  const at = values.where === 'home' ? r.location : (point ?? centre);
  const postcode = typed || (values.where === 'home' ? r.postcode : null);
  const input: RequestCreate = {
    category: category.code,
    description: values.description,
    ...(at ? { lat: at.lat, lon: at.lon } : {}),
    ...(values.place ? { address: values.place } : {}),
    ...(postcode ? { postcode } : {}),
    attributes: answers,
  };
  return { values, answers, photo: photo && ({ bytes: photo.bytes } satisfies PhotoUpload), errors, input };
}

/** A refusal of the requests service, should one get past the form's own checks, on the form's fields. */
function refusalErrors(err: unknown, category: CategoryView, answers: Record<string, string | string[]>): FormError[] {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  if (err.code === 'PHOTO_TOO_LARGE') return [{ field: 'photo', id: 'errorPhotoSize' }];
  if (err.code === 'PHOTO_INVALID') return [{ field: 'photo', id: 'errorPhotoType' }];
  if (err.code === 'LOCATION_REQUIRED') return [{ field: 'place', id: 'errorPlaceMissing' }];
  if (err.code === 'ATTRIBUTES_INVALID') return answerErrors(category.attributes, answers);
  throw err;
}

/** Where a report is, as lines: what they wrote, the postcode, a point on the map. */
function whereLines(t: T, r: PublicRequestView): string[] {
  const point = r.lat !== null && r.lon !== null ? t('wherePoint', { lat: r.lat.toFixed(5), lon: r.lon.toFixed(5) }) : '';
  const lines = [r.address ?? '', r.postcode ?? '', point].filter(Boolean);
  return lines.length ? lines : [t('notGiven')];
}

/** The path of a report's photo when it is one of ours (sent with the report), for the page to show. */
function photoPath(mediaUrl: string | null): string | undefined {
  try {
    const path = mediaUrl ? new URL(mediaUrl).pathname : '';
    return path.startsWith(PHOTO_PATH) ? path : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- the pages

/** "Report a problem" (a category, then where, what and a photo), its confirmation, and "Your reports". */
export function reportPages(deps: ReportsDeps) {
  const { requests, residents } = deps;
  const findPostcode: FindPostcode = (postcode) => deps.postcodes.lookupPostcode(postcode);

  const enabledCategory = async (code: string) => (await requests.listCategories({ enabledOnly: true })).find((c) => c.code === code);

  /** The first question: the category, grouped as the council groups them. */
  const chooser = async (request: FastifyRequest, reply: FastifyReply, lang: Language, chosen: string, errors: FormError[] = []) => {
    const groups = new Map<string, { id: string; value: string; text: string; english: boolean; hint: string; checked: boolean }[]>();
    for (const c of await requests.listCategories({ enabledOnly: true })) {
      const items = groups.get(c.group) ?? [];
      // The first choice has the field's own id, so the error summary's link lands on it.
      const id = groups.size === 0 && items.length === 0 ? 'category' : `category-${c.code}`;
      items.push({ id, value: c.code, ...nameOf(c, c.code, lang), hint: c.description, checked: c.code === chosen });
      groups.set(c.group, items);
    }
    return show(request, reply, lang, 'report-category.njk', { title: 'reportChooseTitle', groups: [...groups].map(([name, items]) => ({ name, items })) }, errors);
  };

  /** The second: where, the category's questions, what the problem is and a photo. */
  const reportForm = async (
    request: FastifyRequest,
    reply: FastifyReply,
    who: { lang: Language; r: ResidentView },
    category: CategoryView,
    form: { values: Partial<ReportValues>; answers: Record<string, string | string[]>; photoSent?: boolean },
    errors: FormError[] = [],
  ) => {
    const { lang, r } = who;
    const t = translator(lang);
    const area = r.areaId ? (await residents.areas()).find((a) => a.id === r.areaId)?.name : undefined;
    const name = nameOf(category, category.code, lang);
    return show(
      request,
      reply,
      lang,
      'report.njk',
      {
        title: 'reportFormTitle',
        titleParams: { category: name.text },
        category: { code: category.code, notice: category.serviceNotice },
        values: form.values,
        questions: questionFields(category.attributes, form.answers),
        hasHome: !!r.location,
        homeHint: [r.postcode ?? '', area ? t('homeInArea', { area }) : ''].filter(Boolean).join(', '),
        map: { ...deps.map, areasUrl: '/report/areas.geojson', home: r.location },
        descriptionMax: DESCRIPTION_MAX.toLocaleString('en-GB'),
        photoAgain: !!form.photoSent && errors.length > 0 && !errors.some((e) => e.field === 'photo'),
        backHref: '/report',
      },
      errors,
    );
  };

  /** The signed-in resident and the page's language. */
  const resident = async (request: FastifyRequest, reply: FastifyReply) => {
    const { lang, resident: r } = await here(deps, request, reply);
    return { lang, r: r as ResidentView };
  };

  return async (app: FastifyInstance) => {
    // Files as bytes on these pages only (see readUpload).
    app.removeContentTypeParser('multipart/form-data');
    app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (request, raw, done) => {
      readUpload(raw as Buffer, String(request.headers['content-type'])).then(
        (fields) => done(null, fields),
        () => done(platformErrors.VALIDATION_FAILED('The form upload could not be read. Choose the file again and resubmit.'), undefined),
      );
    });

    app.get('/report', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await resident(request, reply);
      return chooser(request, reply, lang, '');
    });

    app.post('/report', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await resident(request, reply);
      const code = str(body(request).category);
      if (!code || !(await enabledCategory(code))) return chooser(request, reply, lang, '', [{ field: 'category', id: 'errorCategoryMissing' }]);
      return reply.redirect(`/report/${encodeURIComponent(code)}`, 303);
    });

    // The council's areas, for the map the place is chosen on (boundaries are public information).
    app.get('/report/areas.geojson', { config: residentPage, schema: { hide: true } }, async (_request, reply) => reply.type('application/geo+json').send(await requests.areasGeoJson()));

    app.get('/report/:category', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const category = await enabledCategory(param(request, 'category'));
      if (!category) throw platformErrors.NOT_FOUND();
      const h = await resident(request, reply);
      return reportForm(request, reply, h, category, { values: { where: '' }, answers: {} });
    });

    app.post('/report/:category', { config: residentPage, bodyLimit: REPORT_BODY_LIMIT, schema: { hide: true } }, async (request, reply) => {
      const category = await enabledCategory(param(request, 'category'));
      if (!category) return reply.redirect('/report', 303);
      const h = await resident(request, reply);
      const report = await reportFrom(body(request), category, h.r, findPostcode);
      const form = { values: report.values, answers: report.answers, photoSent: !!report.photo };
      if (report.errors.length) return reportForm(request, reply, h, category, form, report.errors);
      try {
        request.audited = true;
        const made = await requests.create(report.input, h.r.id, origin(request), report.photo);
        return reply.redirect(`/report/sent/${made.reference}`, 303);
      } catch (err) {
        if (err instanceof AppError && err.code === 'CATEGORY_DISABLED') return reply.redirect('/report', 303);
        return reportForm(request, reply, h, category, form, refusalErrors(err, category, report.answers));
      }
    });

    app.get('/report/sent/:reference', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, r } = await resident(request, reply);
      const made = await requests.getForResident(param(request, 'reference'), r.id);
      return show(request, reply, lang, 'report-sent.njk', { title: 'sentTitle', reference: made.reference, due: formatDate(lang, made.dueAt) });
    });

    app.get('/reports', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, r } = await resident(request, reply);
      const t = translator(lang);
      const [mine, { categories }] = await Promise.all([requests.listForResident(r.id), requests.names()]);
      const rows = mine.map((m) => ({
        reference: m.reference,
        category: nameOf(categories.get(m.category), m.categoryName, lang),
        reported: formatDate(lang, m.createdAt),
        status: status(t, m.status),
      }));
      return show(request, reply, lang, 'reports.njk', { title: 'navReports', rows });
    });

    // Only the resident's own: another resident's reference is "Page not found", as one that does not exist.
    app.get('/reports/:reference', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, r } = await resident(request, reply);
      const t = translator(lang);
      const report = await requests.getForResident(param(request, 'reference'), r.id);
      const { categories } = await requests.names();
      return show(request, reply, lang, 'report-detail.njk', {
        title: 'reportTitle',
        titleParams: { reference: report.reference },
        report,
        category: nameOf(categories.get(report.category), report.categoryName, lang),
        status: status(t, report.status),
        reported: when(t, lang, report.createdAt),
        due: report.closedAt ? undefined : formatDate(lang, report.dueAt),
        closed: report.closedAt ? formatDate(lang, report.closedAt) : undefined,
        where: whereLines(t, report),
        photo: photoPath(report.mediaUrl),
        updates: report.updates.map((u) => ({ when: when(t, lang, u.createdAt), status: u.status ? t('updateStatus', { status: t(STATUS_TEXT[u.status]) }) : '', message: u.message })),
        backHref: '/reports',
      });
    });
  };
}
