import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { safeNext } from '../../platform/auth/auth.plugin.js';
import { originOf } from '../../platform/audit/origin.js';
import { toAppError } from '../../platform/error-handler.js';
import { AppError } from '../../platform/errors.js';
import { asLanguage, chooseLanguage, LANGUAGE_COOKIE, type Language, languageSwitch, pageLanguage } from '../../platform/web/i18n.js';
import type { ResidentsService, ResidentView } from '../residents/index.js';
import { type PortalId, portalText } from './portal.messages.js';
import { LIMITS } from './portal.schema.js';
import type { PortalOrigin, PortalService } from './portal.service.js';

export const VIEWS = 'modules/portal/views';
/** The resident's session; the code a browser waits for; the sign-up of someone no resident is yet. */
export const RESIDENT_COOKIE = 'weft_resident';
export const CODE_COOKIE = 'weft_portal_code';
export const SIGNUP_COOKIE = 'weft_portal_signup';

/** The resident's own pages: only a resident's session holds the permission (see index.ts). */
export const residentPage = { permission: 'portal:account', page: 'portal' as const };
/** Pages anyone may see (signing in, confirming a link): listed in test/platform/auth/routes.test.ts. */
export const openPage = { public: true, page: 'portal' as const };
/** Routes whose address carries a link's secret: their requests are not logged (only warnings and errors are). */
export const secretInPath = { config: openPage, logLevel: 'warn' as const, schema: { hide: true } };

export interface PortalDeps {
  portal: PortalService;
  residents: ResidentsService;
  secureCookies: boolean;
}

/** A mistake on a form: the field it belongs to and the catalogue text that says what to do. */
export interface FormError {
  field: string;
  id: PortalId;
  params?: Record<string, unknown>;
}

/** What a resident's page needs: them, and the page's language (theirs unless they switch). */
export interface Here {
  lang: Language;
  resident?: ResidentView;
}

export const origin = (request: FastifyRequest): PortalOrigin => ({ ...originOf(request), ip: request.ip });
export const body = (request: FastifyRequest) => (request.body ?? {}) as Record<string, unknown>;
export const param = (request: FastifyRequest, name: string) => String((request.params as Record<string, string>)[name] ?? '');
export const query = (request: FastifyRequest) => (request.query ?? {}) as Record<string, unknown>;
export const str = (v: unknown): string => (Array.isArray(v) ? str(v[0]) : typeof v === 'string' ? v.trim() : '');
export const nextFrom = (v: unknown): string | null => safeNext(v, '') || null;

/** Mobiles are kept as 447…; people read and type them as 07… */
export const ukMobile = (m: string | null) => (m?.startsWith('44') ? `0${m.slice(2)}` : (m ?? ''));
export const ukLandline = (l: string | null) => (l?.startsWith('+44') ? `0${l.slice(3)}` : (l ?? ''));

/**
 * The page's language: ?lang=, the weft_lang cookie, the resident's own, the browser's. A
 * signed-in resident who switches language has it saved to their record (messages follow it).
 */
export async function here(deps: PortalDeps, request: FastifyRequest, reply: FastifyReply): Promise<Here> {
  const resident = request.actor.type === 'resident' ? await deps.residents.get(request.actor.id as string) : undefined;
  const lang = chooseLanguage(request, reply, { stored: resident?.language, cookie: { secure: deps.secureCookies } });
  const asked = asLanguage(query(request).lang);
  if (resident && asked && asked !== resident.language) {
    request.audited = true;
    return { lang, resident: await deps.residents.change(request.actor, resident.id, { language: asked }, origin(request)) };
  }
  return { lang, resident };
}

/** Remembers a language chosen on a form as the switch would. */
export function rememberLanguage(reply: FastifyReply, lang: Language, secure: boolean): void {
  reply.setCookie(LANGUAGE_COOKIE, lang, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: 365 * 86_400 });
}

export function setCookie(reply: FastifyReply, name: string, value: string, secure: boolean, minutes: number): void {
  reply.setCookie(name, value, { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: minutes * 60 });
}

export function setSessionCookie(reply: FastifyReply, token: string, secure: boolean): void {
  setCookie(reply, RESIDENT_COOKIE, token, secure, LIMITS.sessionDays * 24 * 60);
}

export function clearCookie(reply: FastifyReply, name: string): void {
  reply.clearCookie(name, { path: '/' });
}

/** The URL of this page in another language: its path and query, with lang set. */
function urlIn(request: FastifyRequest, lang: Language): string {
  const url = new URL(request.url, 'http://x');
  url.searchParams.set('lang', lang);
  return `${url.pathname}${url.search}`;
}

/**
 * Renders a portal page in `lang`: the layout's texts, the language switch, the resident's
 * menu when signed in, and form errors as the GOV.UK error summary and messages (translated).
 */
export function show(
  request: FastifyRequest,
  reply: FastifyReply,
  lang: Language,
  template: string,
  context: Record<string, unknown> & { title: PortalId; titleParams?: Record<string, unknown> },
  errors: FormError[] = [],
  status?: number,
) {
  const t = (id: PortalId, params?: Record<string, unknown>) => portalText(lang, id, params);
  const fieldErrors: Record<string, { text: string; visuallyHiddenText: string }> = {};
  for (const e of errors) fieldErrors[e.field] ??= { text: t(e.id, e.params), visuallyHiddenText: t('error') };
  const path = request.url.split('?')[0];
  return reply.page(
    `${VIEWS}/${template}`,
    {
      ...pageLanguage(lang),
      languageSwitch: languageSwitch(lang, (l) => urlIn(request, l)),
      signedIn: request.actor.type === 'resident',
      menu: [
        { href: '/account', text: t('navAccount'), current: path === '/account' },
        { href: '/account/messages', text: t('navMessages'), current: path === '/account/messages' },
        { href: '/report', text: t('navReport'), current: path === '/report' || path.startsWith('/report/') },
        { href: '/reports', text: t('navReports'), current: path === '/reports' || path.startsWith('/reports/') },
      ],
      ...context,
      pageTitle: t(context.title, context.titleParams),
      errors: errors.filter((e, i) => errors.findIndex((x) => x.field === e.field) === i).map((e) => ({ text: t(e.id, e.params), href: `#${e.field}` })),
      fieldErrors,
    },
    status ?? (errors.length ? 400 : 200),
  );
}

/** A page that says what happened and what to do next, with a button or a link onwards. */
export function showProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  lang: Language,
  status: number,
  problem: { title: PortalId; lines: { id: PortalId; params?: Record<string, unknown> }[]; button?: { id: PortalId; href: string } },
) {
  return show(
    request,
    reply,
    lang,
    'problem.njk',
    { title: problem.title, lines: problem.lines.map((l) => portalText(lang, l.id, l.params)), button: problem.button && { text: portalText(lang, problem.button.id), href: problem.button.href } },
    [],
    status,
  );
}

/** How each refusal a resident can meet reads on its own page. */
const PROBLEMS: Record<string, { title: PortalId; lines: { id: PortalId; params?: Record<string, unknown> }[]; button?: { id: PortalId; href: string } }> = {
  PORTAL_TOO_MANY_REQUESTS: { title: 'tooManyTitle', lines: [{ id: 'tooManyBody', params: { perContact: LIMITS.perContactPerHour } }, { id: 'tooManyWait' }] },
  PORTAL_LINK_INVALID: {
    title: 'linkInvalidTitle',
    lines: [{ id: 'linkInvalidBody', params: { minutes: LIMITS.linkMinutes } }, { id: 'linkInvalidCopied' }],
    button: { id: 'askAgain', href: '/sign-in' },
  },
  PORTAL_CODE_EXPIRED: { title: 'codeExpiredTitle', lines: [{ id: 'codeExpiredBody', params: { minutes: LIMITS.codeMinutes } }], button: { id: 'codeAgain', href: '/sign-in' } },
  PORTAL_CODE_LOCKED: { title: 'codeLockedTitle', lines: [{ id: 'codeLockedBody' }], button: { id: 'codeAgain', href: '/sign-in' } },
  PORTAL_SIGN_UP_EXPIRED: { title: 'signUpExpiredTitle', lines: [{ id: 'signUpExpiredBody', params: { minutes: LIMITS.signUpMinutes } }], button: { id: 'signInAgain', href: '/sign-in' } },
  CSRF_INVALID: { title: 'problemTitle', lines: [{ id: 'formExpired' }] },
  RATE_LIMITED: { title: 'problemTitle', lines: [{ id: 'rateLimited' }] },
  // A body larger than the route takes (the report form's allows a 5 MB photo) is refused before it is read.
  BODY_TOO_LARGE: { title: 'problemTitle', lines: [{ id: 'photoTooLargeBody' }] },
};

/** A refusal from a service as its page, when it has one of its own; anything else is thrown on. */
export function problemPage(request: FastifyRequest, reply: FastifyReply, lang: Language, err: unknown, hrefs: Partial<Record<string, string>> = {}) {
  if (!(err instanceof AppError) || !PROBLEMS[err.code]) throw err;
  const p = PROBLEMS[err.code];
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  const href = hrefs[err.code];
  return showProblem(request, reply, lang, err.status, { ...p, button: p.button && { ...p.button, href: href ?? p.button.href } });
}

/**
 * The portal's own error pages, in the visitor's language: an expired form, too many requests,
 * a page or record that is not there, or our own failure (with the request id, never internals).
 */
export function installProblemPages(app: FastifyInstance, deps: PortalDeps): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const err = toAppError(error);
    if (err.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: err.code }, 'request refused');
    const lang = chooseLanguage(request, reply, { cookie: { secure: deps.secureCookies } });
    if (PROBLEMS[err.code]) return problemPage(request, reply, lang, err);
    if (err.status === 404) return showProblem(request, reply, lang, 404, { title: 'notFoundTitle', lines: [{ id: 'notFoundBody' }] });
    if (err.status >= 500) return showProblem(request, reply, lang, err.status, { title: 'serverTitle', lines: [{ id: 'serverBody', params: { requestId: request.id } }] });
    for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    return showProblem(request, reply, lang, err.status, { title: 'problemTitle', lines: [{ id: 'problemGeneric' }] });
  });
}

/** Options for a GOV.UK select from values and their texts, the chosen one selected. */
export function options(items: { value: string; text: string }[], chosen: string) {
  return items.map((i) => ({ ...i, selected: i.value === chosen }));
}
