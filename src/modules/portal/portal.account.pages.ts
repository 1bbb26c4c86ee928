import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.js';
import type { Language } from '../../platform/web/i18n.js';
import { readForm } from '../../platform/web/forms.js';
import { checkPostalAddress } from '../messaging/render/index.js';
import { normalisePostcode, type ResidentView } from '../residents/index.js';
import { portalErrors } from './portal.errors.js';
import { type PortalId, portalText } from './portal.messages.js';
import {
  body,
  CODE_COOKIE,
  clearCookie,
  type FormError,
  here,
  secretInPath,
  origin,
  type PortalDeps,
  param,
  problemPage,
  query,
  rememberLanguage,
  residentPage,
  setCookie,
  show,
  str,
  ukLandline,
  ukMobile,
} from './portal.pages.js';
import { DetailsForm, EmailForm, HomeForm, LanguageForm, LIMITS, MobileForm, QuietForm } from './portal.schema.js';
import { codeError, formErrors, wrongCode } from './portal.sign-in.pages.js';

/** What a banner says after a change, by the `saved` the change redirects with. */
const SAVED: Record<string, PortalId> = {
  welcome: 'welcome',
  details: 'saved',
  home: 'saved',
  accessibility: 'saved',
  language: 'saved',
  quiet: 'saved',
  channels: 'saved',
  email: 'savedEmail',
  'email-removed': 'removedEmail',
  mobile: 'savedMobile',
  'mobile-removed': 'removedMobile',
  subscribed: 'subscribed',
  unsubscribed: 'unsubscribed',
};

/** The banner for ?saved=, in the page's language. */
export function savedNotice(request: FastifyRequest, lang: Language): string | undefined {
  const id = SAVED[str(query(request).saved)];
  return id && portalText(lang, id);
}

/** Where a form shared by both account pages goes back to. */
export const backTo = (v: unknown) => (v === 'messages' ? '/account/messages' : '/account');

/** A refusal of the residents service as errors on the portal's fields, in the portal's words. */
const RESIDENT_FIELDS: Record<string, FormError> = {
  name: { field: 'name', id: 'errorName' },
  landline: { field: 'landline', id: 'errorLandline' },
  postcode: { field: 'postcode', id: 'errorPostcode' },
  location: { field: 'latitude', id: 'errorPointUk' },
  quietTo: { field: 'quietTo', id: 'errorQuietTo' },
  quietFrom: { field: 'quietFrom', id: 'errorQuietFrom' },
  email: { field: 'email', id: 'errorEmailInvalid' },
  mobile: { field: 'mobile', id: 'errorMobileInvalid' },
};
export function residentErrors(err: unknown): FormError[] {
  if (!(err instanceof AppError) || err.code !== 'RESIDENT_INVALID') throw err;
  return err.fields.map((f) => RESIDENT_FIELDS[f.field] ?? { field: 'name', id: 'problemGeneric' });
}

/** 21:00, 9:30, 21.00 as HH:MM; undefined when it is not a time. */
export const hhmm = (t: string) => {
  const m = /^(\d{1,2})[:.](\d{2})$/.exec(t);
  return m && Number(m[1]) < 24 && Number(m[2]) < 60 ? `${m[1].padStart(2, '0')}:${m[2]}` : undefined;
};

/** The address typed in the textarea, one line a line, or the error that says what is wrong. */
function addressFrom(text: string): { lines: string[] | null; error?: FormError } {
  const lines = text
    .split(/\r\n?|\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (!lines.length) return { lines: null };
  if (lines.length < 3 || lines.length > 7 || lines.some((l) => l.length > 200)) return { lines, error: { field: 'address', id: 'errorAddressLines' } };
  if (!checkPostalAddress(lines).ok) return { lines, error: { field: 'address', id: 'errorAddressPost' } };
  return { lines };
}

/** A home from the form: a postcode and a point, each optional (the residents service checks that the point is in the UK). */
function homeFrom(v: { postcode: string; latitude: string; longitude: string }) {
  const errors: FormError[] = [];
  if (v.postcode && !normalisePostcode(v.postcode)) errors.push({ field: 'postcode', id: 'errorPostcode' });
  const lat = v.latitude ? Number(v.latitude) : null;
  const lon = v.longitude ? Number(v.longitude) : null;
  if (lat !== null && !Number.isFinite(lat)) errors.push({ field: 'latitude', id: 'errorLatitude' });
  if (lon !== null && !Number.isFinite(lon)) errors.push({ field: 'longitude', id: 'errorLongitude' });
  if ((lat === null) !== (lon === null)) errors.push({ field: lat === null ? 'latitude' : 'longitude', id: 'errorPointBoth' });
  const located = lat !== null && lon !== null && Number.isFinite(lat) && Number.isFinite(lon);
  return { input: { postcode: v.postcode || null, location: located ? { lat, lon } : null }, errors };
}

const HOME_FIELDS = ['postcode', 'latitude', 'longitude'];

/** Quiet hours from the form: none (both empty), or a start and an end in HH:MM. */
export function quietFrom(v: { quietFrom: string; quietTo: string }) {
  const errors: FormError[] = [];
  if (!v.quietFrom && !v.quietTo) return { input: { quietFrom: null, quietTo: null }, errors };
  const from = v.quietFrom ? hhmm(v.quietFrom) : undefined;
  const to = v.quietTo ? hhmm(v.quietTo) : undefined;
  if (!from) errors.push({ field: 'quietFrom', id: v.quietFrom ? 'errorQuietFrom' : 'errorQuietBoth' });
  if (!to) errors.push({ field: 'quietTo', id: v.quietTo ? 'errorQuietTo' : 'errorQuietBoth' });
  if (from && to && from === to) errors.push({ field: 'quietTo', id: 'errorQuietSame' });
  return { input: { quietFrom: from ?? null, quietTo: to ?? null }, errors };
}

/** "My account": the resident's details, each with a page to change it. */
export function accountPages(deps: PortalDeps) {
  const { portal, residents, secureCookies: secure } = deps;

  /** The resident's details, as the summary list shows them. */
  const summary = async (r: ResidentView, lang: Language) => {
    const t = (id: PortalId, params?: Record<string, unknown>) => portalText(lang, id, params);
    const areas = r.areaId ? await residents.areas() : [];
    const area = areas.find((a) => a.id === r.areaId)?.name;
    const home = [r.postcode ?? '', r.location ? (area ? t('homeInArea', { area }) : t('homeNoArea')) : t('homeNoPoint')].filter(Boolean);
    const needs = [r.largePrint ? t('largePrint') : '', r.prefersVoice ? t('prefersVoice') : ''].filter(Boolean);
    return {
      name: r.name,
      email: r.email ?? t('notGiven'),
      mobile: r.mobile ? ukMobile(r.mobile) : t('notGiven'),
      landline: r.landline ? ukLandline(r.landline) : t('notGiven'),
      address: r.address?.length ? r.address : [t('notGiven')],
      home,
      language: t(r.language === 'cy' ? 'languageCy' : 'languageEn'),
      needs: needs.length ? needs : [t('noNeeds')],
      quiet: r.quietFrom && r.quietTo ? t('quietSpan', { from: r.quietFrom, to: r.quietTo }) : t('quietNone'),
    };
  };

  /** Renders one of the account's forms. */
  const form = (request: FastifyRequest, reply: FastifyReply, lang: Language, template: string, context: Record<string, unknown> & { title: PortalId }, errors: FormError[] = []) =>
    show(request, reply, lang, template, { backHref: backTo(context.back), ...context }, errors);

  return async (app: FastifyInstance) => {
    app.get('/account', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      const r = resident as ResidentView;
      return show(request, reply, lang, 'account.njk', { title: 'accountTitle', r, s: await summary(r, lang), notice: savedNotice(request, lang) });
    });

    // ------------------------------------------------------------ name, landline and postal address

    const detailsForm = (request: FastifyRequest, reply: FastifyReply, lang: Language, values: Record<string, string>, errors: FormError[] = []) =>
      form(request, reply, lang, 'details.njk', { title: 'detailsTitle', values }, errors);

    app.get('/account/details', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident: r } = await here(deps, request, reply);
      return detailsForm(request, reply, lang, { name: r?.name ?? '', landline: ukLandline(r?.landline ?? null), address: (r?.address ?? []).join('\n') });
    });

    app.post('/account/details', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      const { value, errors } = readForm(DetailsForm, body(request));
      const values = { name: str(value.name), landline: str(value.landline), address: typeof value.address === 'string' ? value.address : '' };
      const address = addressFrom(values.address);
      const all = [...formErrors(errors), ...(address.error ? [address.error] : [])];
      if (all.length) return detailsForm(request, reply, lang, values, all);
      try {
        request.audited = true;
        await residents.change(request.actor, request.actor.id as string, { name: values.name, landline: values.landline || null, address: address.lines }, origin(request));
        return reply.redirect('/account?saved=details', 303);
      } catch (err) {
        return detailsForm(request, reply, lang, values, residentErrors(err));
      }
    });

    // ------------------------------------------------------------ where they live

    const homeForm = (request: FastifyRequest, reply: FastifyReply, lang: Language, values: Record<string, string>, errors: FormError[] = []) =>
      form(request, reply, lang, 'home.njk', { title: 'homeTitle', values }, errors);

    app.get('/account/home', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident: r } = await here(deps, request, reply);
      const at = r?.location;
      return homeForm(request, reply, lang, { postcode: r?.postcode ?? '', latitude: at ? String(at.lat) : '', longitude: at ? String(at.lon) : '' });
    });

    app.post('/account/home', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      const { value, errors } = readForm(HomeForm, body(request));
      const values = { postcode: str(value.postcode), latitude: str(value.latitude), longitude: str(value.longitude) };
      const home = homeFrom(values);
      const all = [...formErrors(errors), ...home.errors].sort((a, b) => HOME_FIELDS.indexOf(a.field) - HOME_FIELDS.indexOf(b.field));
      if (all.length) return homeForm(request, reply, lang, values, all);
      try {
        request.audited = true;
        await residents.change(request.actor, request.actor.id as string, home.input, origin(request));
        return reply.redirect('/account?saved=home', 303);
      } catch (err) {
        return homeForm(request, reply, lang, values, residentErrors(err));
      }
    });

    // ------------------------------------------------------------ email address: a link to the new one

    const emailForm = (request: FastifyRequest, reply: FastifyReply, lang: Language, r: ResidentView, value: string, errors: FormError[] = []) =>
      form(request, reply, lang, 'email.njk', { title: r.email ? 'emailTitle' : 'emailAddTitle', current: r.email, canRemove: !!(r.email && r.mobile), value }, errors);

    app.get('/account/email', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      return emailForm(request, reply, lang, resident as ResidentView, '');
    });

    app.post('/account/email', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      const { value, errors } = readForm(EmailForm, body(request));
      const email = str(value.email);
      const r = resident as ResidentView;
      if (errors.length) return emailForm(request, reply, lang, r, email, formErrors(errors));
      try {
        await portal.requestEmailChange(request.actor, email, lang, origin(request));
        return reply.redirect('/account/email/check', 303);
      } catch (err) {
        const code = err instanceof AppError ? err.code : '';
        if (code === 'PORTAL_CONTACT_INVALID') return emailForm(request, reply, lang, r, email, [{ field: 'email', id: 'errorEmailInvalid' }]);
        if (code === 'PORTAL_CONTACT_UNCHANGED') return emailForm(request, reply, lang, r, email, [{ field: 'email', id: 'errorEmailSame' }]);
        return problemPage(request, reply, lang, err);
      }
    });

    app.get('/account/email/check', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      return show(request, reply, lang, 'check-email.njk', { title: 'checkEmailTitle', body: 'emailCheckBody', minutes: LIMITS.linkMinutes, againHref: '/account/email' });
    });

    // The link is the proof of the new address: it works without a session, in any browser.
    app.get('/account/email/confirm/:token', secretInPath, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      if (!(await portal.linkWorks(param(request, 'token'), 'email-change'))) return problemPage(request, reply, lang, portalErrors.PORTAL_LINK_INVALID(), { PORTAL_LINK_INVALID: '/account/email' });
      return show(request, reply, lang, 'confirm.njk', { title: 'emailConfirmTitle', lead: 'emailConfirmBody', action: request.url.split('?')[0] });
    });

    app.post('/account/email/confirm/:token', secretInPath, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      try {
        request.audited = true;
        await portal.confirmEmailChange(param(request, 'token'), origin(request));
      } catch (err) {
        return problemPage(request, reply, lang, err, { PORTAL_LINK_INVALID: '/account/email' });
      }
      if (request.actor.type === 'resident') return reply.redirect('/account?saved=email', 303);
      return show(request, reply, lang, 'done.njk', { title: 'emailChangedTitle', lead: 'emailChangedBody', href: '/sign-in', button: 'signInButton' });
    });

    app.post('/account/email/remove', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      try {
        request.audited = true;
        await portal.removeContact(request.actor, 'email', origin(request));
        return reply.redirect('/account?saved=email-removed', 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'PORTAL_CONTACT_NEEDED') throw err;
        return emailForm(request, reply, lang, resident as ResidentView, '', [{ field: 'email', id: 'errorContactNeeded' }]);
      }
    });

    // ------------------------------------------------------------ mobile number: a code to the new one

    const mobileForm = (request: FastifyRequest, reply: FastifyReply, lang: Language, r: ResidentView, value: string, errors: FormError[] = []) =>
      form(request, reply, lang, 'mobile.njk', { title: r.mobile ? 'mobileTitle' : 'mobileAddTitle', current: r.mobile && ukMobile(r.mobile), canRemove: !!(r.email && r.mobile), value }, errors);

    app.get('/account/mobile', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      return mobileForm(request, reply, lang, resident as ResidentView, '');
    });

    app.post('/account/mobile', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      const { value, errors } = readForm(MobileForm, body(request));
      const mobile = str(value.mobile);
      const r = resident as ResidentView;
      if (errors.length) return mobileForm(request, reply, lang, r, mobile, formErrors(errors));
      try {
        const browser = await portal.requestMobileChange(request.actor, mobile, lang, origin(request));
        setCookie(reply, CODE_COOKIE, browser, secure, LIMITS.codeMinutes);
        return reply.redirect('/account/mobile/code', 303);
      } catch (err) {
        const code = err instanceof AppError ? err.code : '';
        if (code === 'PORTAL_CONTACT_INVALID') return mobileForm(request, reply, lang, r, mobile, [{ field: 'mobile', id: 'errorMobileInvalid' }]);
        if (code === 'PORTAL_CONTACT_UNCHANGED') return mobileForm(request, reply, lang, r, mobile, [{ field: 'mobile', id: 'errorMobileSame' }]);
        return problemPage(request, reply, lang, err);
      }
    });

    const mobileCode = async (request: FastifyRequest, reply: FastifyReply, lang: Language, errors: FormError[] = []) => {
      const pending = await portal.pendingCode(request.cookies[CODE_COOKIE], 'mobile-change');
      if (!pending) return problemPage(request, reply, lang, portalErrors.PORTAL_CODE_EXPIRED(), { PORTAL_CODE_EXPIRED: '/account/mobile' });
      return form(request, reply, lang, 'code.njk', { title: 'codeTitle', mobile: ukMobile(pending.contact), action: '/account/mobile/code', againHref: '/account/mobile' }, errors);
    };

    app.get('/account/mobile/code', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      return mobileCode(request, reply, lang);
    });

    app.post('/account/mobile/code', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      const code = str(body(request).code);
      const wrong = codeError(code);
      if (wrong) return mobileCode(request, reply, lang, [wrong]);
      const browser = request.cookies[CODE_COOKIE] ?? '';
      try {
        request.audited = true;
        await portal.confirmMobileChange(request.actor, browser, code, origin(request));
        clearCookie(reply, CODE_COOKIE);
        return reply.redirect('/account?saved=mobile', 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'PORTAL_CODE_WRONG')
          return problemPage(request, reply, lang, err, { PORTAL_CODE_EXPIRED: '/account/mobile', PORTAL_CODE_LOCKED: '/account/mobile' });
        return mobileCode(request, reply, lang, [wrongCode((await portal.pendingCode(browser, 'mobile-change'))?.triesLeft ?? 1)]);
      }
    });

    app.post('/account/mobile/remove', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      try {
        request.audited = true;
        await portal.removeContact(request.actor, 'mobile', origin(request));
        return reply.redirect('/account?saved=mobile-removed', 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'PORTAL_CONTACT_NEEDED') throw err;
        return mobileForm(request, reply, lang, resident as ResidentView, '', [{ field: 'mobile', id: 'errorContactNeeded' }]);
      }
    });

    // ------------------------------------------------------------ accessibility, language, quiet hours

    app.get('/account/accessibility', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident: r } = await here(deps, request, reply);
      return form(request, reply, lang, 'accessibility.njk', { title: 'accessibilityTitle', values: [r?.largePrint ? 'largePrint' : '', r?.prefersVoice ? 'prefersVoice' : ''] });
    });

    app.post('/account/accessibility', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      await here(deps, request, reply);
      const raw = body(request).needs;
      const needs = (Array.isArray(raw) ? raw : [raw]).map(str);
      request.audited = true;
      await residents.change(request.actor, request.actor.id as string, { largePrint: needs.includes('largePrint'), prefersVoice: needs.includes('prefersVoice') }, origin(request));
      return reply.redirect('/account?saved=accessibility', 303);
    });

    app.get('/account/language', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      const back = str(query(request).back);
      return form(request, reply, lang, 'language.njk', { title: 'languageTitle', value: resident?.language, back });
    });

    app.post('/account/language', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      const { value, errors } = readForm(LanguageForm, body(request));
      const back = str(value.back);
      if (errors.length) return form(request, reply, lang, 'language.njk', { title: 'languageTitle', value: '', back }, formErrors(errors.filter((e) => e.field === 'language')));
      request.audited = true;
      await residents.change(request.actor, request.actor.id as string, { language: value.language }, origin(request));
      rememberLanguage(reply, value.language, secure);
      return reply.redirect(`${backTo(back)}?saved=language`, 303);
    });

    app.get('/account/quiet-hours', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident: r } = await here(deps, request, reply);
      const values = { quietFrom: r?.quietFrom ?? '', quietTo: r?.quietTo ?? '' };
      return form(request, reply, lang, 'quiet-hours.njk', { title: 'quietTitle', values, back: str(query(request).back) });
    });

    app.post('/account/quiet-hours', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      const b = body(request);
      const { errors } = readForm(QuietForm, b);
      const values = { quietFrom: str(b.quietFrom), quietTo: str(b.quietTo) };
      const back = str(b.back);
      const quiet = quietFrom(values);
      const all = errors.length ? formErrors(errors, QuietForm) : quiet.errors;
      if (all.length) return form(request, reply, lang, 'quiet-hours.njk', { title: 'quietTitle', values, back }, all);
      request.audited = true;
      await residents.change(request.actor, request.actor.id as string, quiet.input, origin(request));
      return reply.redirect(`${backTo(back)}?saved=quiet`, 303);
    });
  };
}
