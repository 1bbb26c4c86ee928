import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';
import { errorList, errorFor } from '../web/web.js';
import { readForm } from '../web/forms.js';
import { SESSION_COOKIE, safeNext, setSessionCookie } from './auth.plugin.js';
import { PasswordForm, SignInForm } from './auth.schema.js';
import type { AuthService } from './auth.service.js';

const SIGN_IN = 'platform/auth/views/sign-in.njk';
const PASSWORD = 'platform/auth/views/password.njk';

/** Console sign-in, sign-out and password change. */
export function authRoutes(deps: { auth: AuthService; secureCookies: boolean; sessionHours: number }) {
  return async (app: FastifyInstance) => {
    app.get('/console/sign-in', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
      if (request.actor.type === 'user') return reply.redirect('/console', 303);
      const next = safeNext((request.query as { next?: string }).next, '/console');
      return reply.page(SIGN_IN, { pageTitle: 'Sign in', next, values: {}, fieldErrors: {} });
    });

    app.post('/console/sign-in', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
      const { value, errors } = readForm(SignInForm, request.body);
      const next = safeNext(value.next, '/console');
      const show = (fields: { field: string; message: string }[], status: number) =>
        reply.page(
          SIGN_IN,
          { pageTitle: 'Sign in', next, values: { email: value.email }, errors: errorList(fields), fieldErrors: { email: errorFor(fields, 'email'), password: errorFor(fields, 'password') } },
          status,
        );
      if (errors.length) return show(errors, 400);
      try {
        const { token } = await deps.auth.signIn(value.email, value.password, { ip: request.ip, requestId: request.id });
        request.audited = true;
        setSessionCookie(reply, token, deps.secureCookies, deps.sessionHours);
        return reply.redirect(next, 303);
      } catch (err) {
        request.audited = true;
        if (err instanceof AppError) return show([{ field: 'email', message: err.message }], err.status);
        throw err;
      }
    });

    app.post('/console/sign-out', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) await deps.auth.signOut(token);
      request.audited = true;
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.redirect('/console/sign-in', 303);
    });

    app.get('/console/account/password', { config: { permission: 'account:manage', page: 'console' }, schema: { hide: true } }, async (_request, reply) => {
      return reply.page(PASSWORD, { pageTitle: 'Change your password', fieldErrors: {} });
    });

    app.post('/console/account/password', { config: { permission: 'account:manage', page: 'console' }, schema: { hide: true } }, async (request, reply) => {
      const { value, errors } = readForm(PasswordForm, request.body);
      if (!errors.length && value.password !== value.confirm) errors.push({ field: 'confirm', message: 'The new passwords do not match' });
      const show = (fields: { field: string; message: string }[], status: number) =>
        reply.page(
          PASSWORD,
          { pageTitle: 'Change your password', errors: errorList(fields), fieldErrors: Object.fromEntries(['current', 'password', 'confirm'].map((f) => [f, errorFor(fields, f)])) },
          status,
        );
      if (errors.length) return show(errors, 400);
      try {
        await deps.auth.changePassword(request.actor, value.current, value.password, { ip: request.ip, requestId: request.id });
        request.audited = true;
      } catch (err) {
        request.audited = true;
        if (err instanceof AppError) return show([{ field: err.code === 'PASSWORD_INCORRECT' ? 'current' : 'password', message: err.message }], err.status);
        throw err;
      }
      return reply.page(PASSWORD, { pageTitle: 'Change your password', flash: 'Your password has been changed. You have been signed out everywhere else.', fieldErrors: {} });
    });
  };
}
