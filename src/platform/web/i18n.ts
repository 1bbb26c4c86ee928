/**
 * English and Welsh for residents' pages. Each module declares its texts once, as `{ en, cy }`
 * objects keyed by stable ids (defineMessages); views call `t('namespace.id', { name })`; a page
 * chooses its language with chooseLanguage() and shows the switch from languageSwitch(). Staff
 * pages give no language and stay English. See README.md.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type nunjucks from 'nunjucks';

export const LANGUAGES = ['en', 'cy'] as const;
export type Language = (typeof LANGUAGES)[number];
/** Remembers a resident's choice, on pages that say they may set it. */
export const LANGUAGE_COOKIE = 'weft_lang';
const COOKIE_DAYS = 365;

/** One module's texts: every English id has its Welsh. */
export interface Messages {
  en: Record<string, string>;
  cy: Record<string, string>;
}

/** A module's own translator: ids without the namespace, checked by TypeScript. */
export type Translator<K extends string> = (lang: Language, id: K, params?: Record<string, unknown>) => string;

const catalogues = new Map<string, Messages>();
const PLACEHOLDER = /\{(\w+)\}/g;

/**
 * Registers a module's texts under `namespace` ("messaging.payLink"): views ask for
 * "messaging.payLink.paidTitle". TypeScript checks a literal catalogue has each id in both
 * languages; missingTranslations() checks every catalogue registered (a unit test runs it).
 */
export function defineMessages<K extends string>(namespace: string, messages: { en: Record<K, string>; cy: Record<K, string> }): Translator<K> {
  if (catalogues.has(namespace)) throw new Error(`The messages ${namespace} are declared twice`);
  catalogues.set(namespace, messages);
  return (lang, id, params) => translate(lang, `${namespace}.${id}`, params);
}

/** Every catalogue registered so far, by namespace. */
export function allMessages(): ReadonlyMap<string, Messages> {
  return catalogues;
}

/**
 * What is wrong with the catalogues: an English id with no Welsh (or empty Welsh), a Welsh id
 * with no English, or a Welsh text whose {placeholders} are not the English one's.
 */
export function missingTranslations(all: ReadonlyMap<string, Messages> = catalogues): string[] {
  const problems: string[] = [];
  for (const [namespace, { en, cy }] of all) {
    for (const [id, english] of Object.entries(en)) {
      const welsh = cy[id];
      if (typeof welsh !== 'string' || !welsh.trim()) problems.push(`${namespace}.${id} has no Welsh`);
      else if (placeholdersOf(english) !== placeholdersOf(welsh)) problems.push(`${namespace}.${id}: the Welsh has {${placeholdersOf(welsh)}}, the English {${placeholdersOf(english)}}`);
    }
    for (const id of Object.keys(cy)) if (!(id in en)) problems.push(`${namespace}.${id} is Welsh with no English`);
  }
  return problems;
}

function placeholdersOf(text: string): string {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))].sort().join(',');
}

/**
 * The text of `key` ("namespace.id") in `lang`, its {name} placeholders filled from `params`.
 * An unknown key or a missing parameter is a mistake in the code: it throws, and tests find it.
 */
export function translate(lang: string | undefined, key: string, params: Record<string, unknown> = {}): string {
  const dot = key.lastIndexOf('.');
  const messages = catalogues.get(key.slice(0, dot));
  const id = key.slice(dot + 1);
  const english = messages?.en[id];
  if (!messages || english === undefined) throw new Error(`There is no message ${key}`);
  const text = (lang === 'cy' && messages.cy[id]) || english;
  return text.replace(PLACEHOLDER, (_m, name: string) => {
    if (!(name in params)) throw new Error(`The message ${key} needs {${name}}`);
    return String(params[name]);
  });
}

export function asLanguage(value: unknown): Language | undefined {
  return value === 'en' || value === 'cy' ? value : undefined;
}

// ---------------------------------------------------------------- choosing the language

export interface LanguageChoice {
  /** the language stored for the resident, or for what they followed (a pay link's) */
  stored?: string | null;
  /**
   * Only pages that say so read and set the weft_lang cookie, with these cookie settings. Pages
   * that must set no cookie (short links) leave it out: their switch carries ?lang= instead.
   */
  cookie?: { secure: boolean };
}

/**
 * The language of a page: `?lang=cy|en`, then (where the page allows it) the weft_lang cookie,
 * then the stored language, then the browser's Accept-Language, then English. With `cookie`, a
 * language asked for by ?lang= is remembered in the cookie.
 */
export function chooseLanguage(request: FastifyRequest, reply: FastifyReply, choice: LanguageChoice = {}): Language {
  const asked = asLanguage((request.query as Record<string, unknown> | undefined)?.lang);
  const remembered = choice.cookie ? asLanguage(request.cookies?.[LANGUAGE_COOKIE]) : undefined;
  if (asked && choice.cookie && asked !== remembered) {
    reply.setCookie(LANGUAGE_COOKIE, asked, { path: '/', httpOnly: true, sameSite: 'lax', secure: choice.cookie.secure, maxAge: COOKIE_DAYS * 86_400 });
  }
  return asked ?? remembered ?? asLanguage(choice.stored) ?? fromAcceptLanguage(request.headers['accept-language']);
}

/** English or Welsh, whichever the browser prefers (by q); English when it names neither. */
export function fromAcceptLanguage(header: string | undefined): Language {
  let best: Language = 'en';
  let bestQ = 0;
  for (const part of (header ?? '').split(',')) {
    const [tag, ...options] = part.split(';').map((s) => s.trim());
    const lang = asLanguage(tag.toLowerCase().split('-')[0]);
    const q = Number(options.find((o) => o.startsWith('q='))?.slice(2) ?? 1);
    if (lang && Number.isFinite(q) && q > bestQ) {
      best = lang;
      bestQ = q;
    }
  }
  return best;
}

// ---------------------------------------------------------------- on the page

const MONTHS: Record<Language, string[]> = {
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
  cy: ['Ionawr', 'Chwefror', 'Mawrth', 'Ebrill', 'Mai', 'Mehefin', 'Gorffennaf', 'Awst', 'Medi', 'Hydref', 'Tachwedd', 'Rhagfyr'],
};
const londonParts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'numeric', year: 'numeric' });
const pounds = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' });

/** "5 December 2026", "5 Rhagfyr 2026": the day in Europe/London, month names from our list (not the ICU build's). */
export function formatDate(lang: Language, at: Date): string {
  const parts = londonParts.formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return `${part('day')} ${MONTHS[lang][part('month') - 1]} ${part('year')}`;
}

/** £70.00 in both languages (Welsh writes sums of money as English does). */
export function formatMoney(_lang: Language, pence: number): string {
  return pounds.format(pence / 100);
}

/**
 * What the layout needs for a residents' page in `lang`: the language (for `t` and `<html lang>`),
 * and the service name and footer links in that language (the English ones are web.ts's).
 */
export function pageLanguage(lang: Language) {
  const t = (id: string) => translate(lang, `platform.${id}`);
  return {
    lang,
    htmlLang: lang === 'cy' ? 'cy' : 'en-GB',
    serviceName: t('serviceName'),
    footerLinks: [
      { href: '/api/docs', text: t('apiDocumentation') },
      { href: '/console', text: t('staffSignIn') },
    ],
  };
}

/**
 * The language switch, as options for GOV.UK Frontend's language navigation: each language
 * named in itself, the page's own as the current one, the other a link to `hrefFor(lang)`
 * with `lang` and `hreflang` set and a hidden description written in that language.
 */
export function languageSwitch(lang: Language, hrefFor: (lang: Language) => string) {
  return {
    ariaLabel: translate(lang, 'platform.language'),
    classes: 'govuk-!-margin-top-2 govuk-!-margin-bottom-2',
    items: LANGUAGES.map((l) =>
      l === lang
        ? { text: translate(l, 'platform.languageName'), lang: l, current: true }
        : { text: translate(l, 'platform.languageName'), lang: l, hrefLang: l, href: hrefFor(l), languageDescriptionText: translate(l, 'platform.changeLanguage') },
    ),
  };
}

/**
 * Adds `t(key, params)` to the views: it translates into the page's `lang` (English when the
 * page gives none, so staff pages are unchanged).
 */
export function addTranslations(env: nunjucks.Environment): void {
  env.addGlobal('t', function t(this: { ctx?: { lang?: unknown } } | undefined, key: string, params?: Record<string, unknown>) {
    return translate(asLanguage(this?.ctx?.lang) ?? 'en', key, params);
  });
}

// ---------------------------------------------------------------- the layout's own texts

defineMessages('platform', {
  en: {
    serviceName: 'Council services',
    skipLink: 'Skip to main content',
    errorPrefix: 'Error:',
    errorSummaryTitle: 'There is a problem',
    serviceInformation: 'Service information',
    apiDocumentation: 'API documentation',
    staffSignIn: 'Staff sign in',
    supportLinks: 'Support links',
    licenceBefore: 'All content is available under the',
    licenceName: 'Open Government Licence v3.0',
    licenceAfter: ', except where otherwise stated',
    copyright: '© Crown copyright',
    language: 'Language',
    // Each language's name and its switch's hidden description are written in that language.
    languageName: 'English',
    changeLanguage: 'Change the language to English',
  },
  cy: {
    serviceName: 'Gwasanaethau’r cyngor',
    skipLink: 'Neidio i’r prif gynnwys',
    errorPrefix: 'Gwall:',
    errorSummaryTitle: 'Mae problem wedi codi',
    serviceInformation: 'Gwybodaeth am y gwasanaeth',
    apiDocumentation: 'Dogfennaeth API',
    staffSignIn: 'Mewngofnodi staff',
    supportLinks: 'Dolenni cymorth',
    licenceBefore: 'Mae’r holl gynnwys ar gael o dan y',
    licenceName: 'Drwydded Llywodraeth Agored v3.0',
    licenceAfter: ', oni nodir yn wahanol',
    copyright: '© Hawlfraint y Goron',
    language: 'Iaith',
    languageName: 'Cymraeg',
    changeLanguage: 'Newid yr iaith i’r Gymraeg',
  },
});
