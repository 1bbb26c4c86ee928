/**
 * For the portal's tests: the secret in the last message sent to a contact point (read from the
 * database, as only test code may), and a browser without JavaScript that keeps its cookies and
 * posts forms as a browser does (urlencoded, with the page's CSRF token).
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { allMessages } from '../../../src/platform/web/i18n.js';
import type { Services } from '../../../src/services.js';

export interface Sent {
  id: string;
  serviceId: string;
  recipient: string;
  language: string;
  subject: string | null;
  body: string;
  reference: string | null;
  residentId: string | null;
  personalisation: Record<string, string>;
}

/** Every message sent to this contact point (normalised: lower case, 447…), oldest first. */
export async function sentTo(services: Services, normalised: string): Promise<Sent[]> {
  const rows = await services.db.k
    .selectFrom('notifications')
    .select(['id', 'service_id', 'recipient', 'language', 'subject', 'body', 'reference', 'resident_id', 'personalisation_json'])
    .where('normalised_to', '=', normalised)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    serviceId: r.service_id,
    recipient: r.recipient,
    language: r.language,
    subject: r.subject,
    body: r.body,
    reference: r.reference,
    residentId: r.resident_id,
    personalisation: r.personalisation_json as Record<string, string>,
  }));
}

/** The link (its token) or code in the last message to this contact point. */
export async function lastSecret(services: Services, normalised: string): Promise<{ token?: string; code?: string; path?: string }> {
  const sent = (await sentTo(services, normalised)).at(-1);
  if (!sent) throw new Error(`nothing was sent to ${normalised}`);
  const { link, code } = sent.personalisation;
  if (code) return { code };
  const path = new URL(link).pathname;
  return { token: path.split('/').at(-1), path };
}

const CSRF = /name="_csrf" value="([^"]+)"/;
let visitors = 0;

/** A browser with JavaScript off: it follows nothing by itself, keeps cookies, and posts forms urlencoded. */
export class Visitor {
  readonly cookies = new Map<string, string>();
  csrf = '';
  /** each visitor comes from an address of its own (the limits count per address) */
  readonly remoteAddress = `10.${Math.floor(++visitors / 250) % 250}.${visitors % 250}.${1 + Math.floor(Math.random() * 250)}`;

  constructor(
    private readonly app: FastifyInstance,
    private readonly headers: Record<string, string> = {},
  ) {}

  get cookie(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.keep(await this.app.inject({ method: 'GET', url, remoteAddress: this.remoteAddress, headers: { ...this.headers, ...headers, cookie: this.cookie } }));
  }

  /** Posts a form with the CSRF token of the last page seen (unless `csrf` is false). */
  async post(url: string, form: Record<string, string | string[]> = {}, options: { csrf?: boolean } = {}): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams();
    if (options.csrf !== false) body.append('_csrf', this.csrf);
    for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one);
    return this.keep(
      await this.app.inject({
        method: 'POST',
        url,
        remoteAddress: this.remoteAddress,
        headers: { ...this.headers, cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: body.toString(),
      }),
    );
  }

  /** GETs a page, then posts its form to `url` (the same page unless given). */
  async submit(page: string, form: Record<string, string | string[]> = {}, url = page): Promise<LightMyRequestResponse> {
    await this.get(page);
    return this.post(url, form);
  }

  private keep(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
      const gone = c.value === '' || c.maxAge === 0 || (c.expires && c.expires.getTime() < Date.now());
      if (gone) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const token = CSRF.exec(res.body)?.[1];
    if (token) this.csrf = token;
    return res;
  }
}

/** The texts of the GOV.UK error summary's links, in order. */
export function summaryErrors(html: string): string[] {
  const summary = /govuk-error-summary__list"[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '';
  return [...summary.matchAll(/<a href="(#[^"]+)">([^<]*)<\/a>/g)].map((m) => `${m[1]} ${m[2].trim()}`);
}

/** The page's <h1> text. */
export function heading(html: string): string {
  return (/<h1[^>]*>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? '').replace(/<[^>]+>/g, '').trim();
}

/** The page's text as a person reads it: no tags, no scripts, entities as characters. */
export function visibleText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&#x27;/g, '’')
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ');
}

export interface EnglishCheck {
  /** the catalogues whose English must not be left on a Welsh page */
  namespaces: string[];
  /** leave out what the page marks lang="en" (staff's own English: categories' questions and notices) */
  markedEnglish?: boolean;
  /** GOV.UK Frontend's own English defaults too */
  govukDefaults?: boolean;
}

/**
 * English texts left on a Welsh page: every English text of the catalogues that differs from its
 * Welsh (the fixed parts of those with placeholders), leaving out what the Welsh itself contains
 * and the language switch, which names each language in itself on purpose.
 */
export function englishLeftOn(html: string, check: EnglishCheck): string[] {
  const shown = check.markedEnglish ? html.replace(/<(\w+)[^>]* lang="en"[^>]*>[\s\S]*?<\/\1>/g, ' ') : html;
  const text = visibleText(shown.replace(/<nav class="govuk-language-navigation[\s\S]*?<\/nav>/, ''));
  const welsh = [...allMessages().values()].flatMap((m) => Object.values(m.cy)).join('\n');
  const found: string[] = [];
  for (const ns of check.namespaces) {
    const { en, cy } = allMessages().get(ns) as { en: Record<string, string>; cy: Record<string, string> };
    for (const [id, english] of Object.entries(en)) {
      if (english === cy[id]) continue;
      for (const part of english.split(/\{\w+\}/).map((p) => p.trim())) if (part.length >= 6 && !welsh.includes(part) && text.includes(part)) found.push(part);
    }
  }
  if (check.govukDefaults) for (const govuk of ['Error:', 'Success', 'There is a problem', 'Back', 'Menu']) if (new RegExp(`(^|[^\\w])${govuk}([^\\w]|$)`).test(text)) found.push(govuk);
  return found;
}
