import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.js';
import type { Language } from '../../platform/web/i18n.js';
import { readForm } from '../../platform/web/forms.js';
import {
  body,
  CODE_COOKIE,
  clearCookie,
  type FormError,
  here,
  nextFrom,
  openPage,
  secretInPath,
  origin,
  type PortalDeps,
  param,
  problemPage,
  query,
  RESIDENT_COOKIE,
  rememberLanguage,
  SIGNUP_COOKIE,
  setCookie,
  setSessionCookie,
  show,
  str,
  ukMobile,
} from './portal.pages.js';
import { portalErrors } from './portal.errors.js';
import { portalText } from './portal.messages.js';
import { CodeForm, type Confirmed, LIMITS, NameForm, SignInForm } from './portal.schema.js';

const SIX_DIGITS = /^\d{6}$/;

/** A form's TypeBox errors as the catalogue's texts, in the order of the form's fields (the schema's). */
export function formErrors(errors: { field: string; message: string }[], schema?: { properties: object }): FormError[] {
  const order = Object.keys(schema?.properties ?? {});
  return errors.map((e) => ({ field: e.field, id: e.message as FormError['id'] })).sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field));
}

/** A code as typed (spaces and dashes allowed), or the form error that says what is wrong with it. */
export function codeError(code: string): FormError | undefined {
  if (!code) return { field: 'code', id: 'errorCodeMissing' };
  return SIX_DIGITS.test(code.replace(/[\s-]/g, '')) ? undefined : { field: 'code', id: 'errorCodeFormat' };
}

/** A wrong code, and how many tries are left (the service counts them). */
export function wrongCode(triesLeft: number): FormError {
  return triesLeft > 1 ? { field: 'code', id: 'errorCodeWrong', params: { tries: triesLeft } } : { field: 'code', id: 'errorCodeWrongLast' };
}

/** The start page, signing in with a link or a code, signing up and signing out. */
export function signInPages(deps: PortalDeps) {
  const { portal, secureCookies: secure } = deps;

  /** Where a confirmed link or code leads: into the account, or to the sign-up question. */
  const finish = (reply: FastifyReply, confirmed: Confirmed) => {
    clearCookie(reply, CODE_COOKIE);
    if (confirmed.kind === 'session') {
      setSessionCookie(reply, confirmed.token, secure);
      return reply.redirect(confirmed.next ?? '/account', 303);
    }
    setCookie(reply, SIGNUP_COOKIE, confirmed.signupToken, secure, LIMITS.signUpMinutes);
    return reply.redirect('/sign-in/new', 303);
  };

  const signInForm = (request: FastifyRequest, reply: FastifyReply, lang: Language, values: { contact: string; next: string | null }, errors: FormError[] = [], signedOut = false) =>
    show(request, reply, lang, 'sign-in.njk', { title: 'signInTitle', values, notice: signedOut ? portalText(lang, 'signedOut') : undefined }, errors);

  const codeForm = async (request: FastifyRequest, reply: FastifyReply, lang: Language, errors: FormError[] = []) => {
    const pending = await portal.pendingCode(request.cookies[CODE_COOKIE], 'sign-in');
    if (!pending) return problemPage(request, reply, lang, portalErrors.PORTAL_CODE_EXPIRED());
    return show(request, reply, lang, 'code.njk', { title: 'codeTitle', mobile: ukMobile(pending.contact), action: '/sign-in/code', againHref: '/sign-in' }, errors);
  };

  return async (app: FastifyInstance) => {
    app.get('/', { config: openPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      return show(request, reply, lang, 'start.njk', { title: 'startPageTitle' });
    });

    app.get('/sign-in', { config: openPage, schema: { hide: true } }, async (request, reply) => {
      const next = nextFrom(query(request).next);
      if (request.actor.type === 'resident') return reply.redirect(next ?? '/account', 303);
      const { lang } = await here(deps, request, reply);
      return signInForm(request, reply, lang, { contact: '', next }, [], !!query(request).signedOut);
    });

    app.post('/sign-in', { config: openPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      const { value, errors } = readForm(SignInForm, body(request));
      const values = { contact: str(value.contact), next: nextFrom(value.next) };
      if (errors.length) return signInForm(request, reply, lang, values, formErrors(errors.filter((e) => e.field === 'contact')));
      try {
        const sent = await portal.requestSignIn(values.contact, lang, values.next, origin(request));
        if (sent.channel === 'email') return reply.redirect('/sign-in/check-email', 303);
        setCookie(reply, CODE_COOKIE, sent.browserToken as string, secure, LIMITS.codeMinutes);
        return reply.redirect('/sign-in/code', 303);
      } catch (err) {
        if (err instanceof AppError && err.code === 'PORTAL_CONTACT_INVALID') return signInForm(request, reply, lang, values, [{ field: 'contact', id: 'errorContactInvalid' }]);
        return problemPage(request, reply, lang, err);
      }
    });

    app.get('/sign-in/check-email', { config: openPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      return show(request, reply, lang, 'check-email.njk', { title: 'checkEmailTitle', body: 'checkEmailBody', minutes: LIMITS.linkMinutes, againHref: '/sign-in' });
    });

    // A link only shows a button: opening it (as mail scanners do) does not use it up.
    app.get('/sign-in/link/:token', secretInPath, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      if (!(await portal.linkWorks(param(request, 'token')))) return problemPage(request, reply, lang, portalErrors.PORTAL_LINK_INVALID());
      return show(request, reply, lang, 'confirm.njk', { title: 'linkTitle', lead: 'linkBody', action: request.url.split('?')[0] });
    });

    app.post('/sign-in/link/:token', secretInPath, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      try {
        return finish(reply, await portal.confirmLink(param(request, 'token'), origin(request)));
      } catch (err) {
        return problemPage(request, reply, lang, err);
      }
    });

    app.get('/sign-in/code', { config: openPage, schema: { hide: true } }, async (request, reply) => {
      if (!request.cookies[CODE_COOKIE]) return reply.redirect('/sign-in', 303);
      const { lang } = await here(deps, request, reply);
      return codeForm(request, reply, lang);
    });

    app.post('/sign-in/code', { config: openPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      const { value, errors } = readForm(CodeForm, body(request));
      const code = str(value.code);
      const wrong = errors.length ? { field: 'code', id: 'errorCodeMissing' as const } : codeError(code);
      if (wrong) return codeForm(request, reply, lang, [wrong]);
      const browser = request.cookies[CODE_COOKIE] ?? '';
      try {
        return finish(reply, await portal.confirmCode(browser, code, origin(request)));
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'PORTAL_CODE_WRONG') return problemPage(request, reply, lang, err);
        return codeForm(request, reply, lang, [wrongCode((await portal.pendingCode(browser, 'sign-in'))?.triesLeft ?? 1)]);
      }
    });

    const nameForm = async (request: FastifyRequest, reply: FastifyReply, lang: Language, values: { name: string; language: string }, errors: FormError[] = []) => {
      const pending = await portal.signUpFor(request.cookies[SIGNUP_COOKIE]);
      if (!pending) return problemPage(request, reply, lang, portalErrors.PORTAL_SIGN_UP_EXPIRED());
      const contact = pending.channel === 'sms' ? ukMobile(pending.contact) : pending.contact;
      return show(request, reply, lang, 'new-account.njk', { title: 'newTitle', contact, values }, errors);
    };

    app.get('/sign-in/new', { config: openPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      return nameForm(request, reply, lang, { name: '', language: lang });
    });

    app.post('/sign-in/new', { config: openPage, schema: { hide: true } }, async (request, reply) => {
      const { lang } = await here(deps, request, reply);
      const { value, errors } = readForm(NameForm, body(request));
      const values = { name: str(value.name), language: str(value.language) };
      if (errors.length) return nameForm(request, reply, lang, values, formErrors(errors, NameForm));
      try {
        const done = await portal.signUp(request.cookies[SIGNUP_COOKIE] ?? '', { name: values.name, language: value.language }, origin(request));
        clearCookie(reply, SIGNUP_COOKIE);
        setSessionCookie(reply, done.token, secure);
        rememberLanguage(reply, value.language, secure);
        return reply.redirect(done.next ?? '/account?saved=welcome', 303);
      } catch (err) {
        return problemPage(request, reply, lang, err);
      }
    });

    app.post('/sign-out', { config: openPage, schema: { hide: true } }, async (request, reply) => {
      const token = request.cookies[RESIDENT_COOKIE];
      if (token) await portal.signOut(token);
      clearCookie(reply, RESIDENT_COOKIE);
      return reply.redirect('/sign-in?signedOut=1', 303);
    });
  };
}
