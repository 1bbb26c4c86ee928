import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { originOf as origin } from '../../platform/audit/origin.js';
import { allPermissions, permissionDescription, ROLE_DESCRIPTIONS, STAFF_ROLES } from '../../platform/auth/roles.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import { readForm } from '../../platform/web/forms.js';
import { ProblemResponses } from '../../platform/web/openapi.js';
import { errorFor, errorList } from '../../platform/web/web.js';
import type { KeyRow, UserWithRoles } from './staff.repository.js';
import { ApiKey, CreatedKey, IdParams, KeyCreate, User, UserCreate, UserUpdate } from './staff.schema.js';
import type { StaffService } from './staff.service.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function userToApi(u: UserWithRoles) {
  return { id: u.id, email: u.email, name: u.name, roles: u.roles, isActive: u.is_active, createdAt: u.created_at.toISOString(), lastSignInAt: iso(u.last_sign_in_at) };
}

export function keyToApi(k: KeyRow) {
  return {
    id: k.id,
    name: k.name,
    type: k.type,
    prefix: k.prefix,
    scopes: k.scopes_json,
    createdAt: k.created_at.toISOString(),
    expiresAt: iso(k.expires_at),
    revokedAt: iso(k.revoked_at),
    lastUsedAt: iso(k.last_used_at),
  };
}

const asList = (v: unknown): string[] => (v === undefined || v === '' ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

const VIEWS = 'modules/staff/views';
const roleItems = (checked: string[]) => STAFF_ROLES.map((r) => ({ value: r, text: r[0].toUpperCase() + r.slice(1), hint: { text: ROLE_DESCRIPTIONS[r] }, checked: checked.includes(r) }));

/** Shows a form again with its errors, or rethrows what is not the person's to fix. */
function formError(err: unknown, field: string): FieldError[] {
  if (err instanceof AppError && err.status < 500) return err.fields.length ? err.fields : [{ field, message: err.message }];
  throw err;
}

export function staffRoutes(deps: { staff: StaffService }) {
  const { staff } = deps;
  return async (app: FastifyInstance) => {
    // ---- API ----
    const users = { permission: 'users:manage' };
    const keys = { permission: 'keys:manage' };

    app.get('/api/v1/users', { config: users, schema: { tags: ['staff'], summary: 'List staff accounts', response: { 200: { type: 'array', items: User }, ...ProblemResponses } } }, async () =>
      (await staff.listUsers()).map(userToApi),
    );

    app.post(
      '/api/v1/users',
      { config: users, schema: { tags: ['staff'], summary: 'Create a staff account', body: UserCreate, response: { 201: User, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(userToApi(await staff.createUser(request.actor, request.body as UserCreate, origin(request))));
      },
    );

    app.get('/api/v1/users/:id', { config: users, schema: { tags: ['staff'], summary: 'One staff account', params: IdParams, response: { 200: User, ...ProblemResponses } } }, async (request) =>
      userToApi(await staff.getUser((request.params as { id: string }).id)),
    );

    app.patch(
      '/api/v1/users/:id',
      {
        config: users,
        schema: { tags: ['staff'], summary: 'Change a staff account’s name, roles or whether it is active', params: IdParams, body: UserUpdate, response: { 200: User, ...ProblemResponses } },
      },
      async (request) => {
        request.audited = true;
        return userToApi(await staff.updateUser(request.actor, (request.params as { id: string }).id, request.body as UserUpdate, origin(request)));
      },
    );

    app.get(
      '/api/v1/keys',
      { config: keys, schema: { tags: ['staff'], summary: 'List API keys (never their secrets)', response: { 200: { type: 'array', items: ApiKey }, ...ProblemResponses } } },
      async () => (await staff.listKeys()).map(keyToApi),
    );

    app.post(
      '/api/v1/keys',
      { config: keys, schema: { tags: ['staff'], summary: 'Create an API key; the whole key is in this response only', body: KeyCreate, response: { 201: CreatedKey, ...ProblemResponses } } },
      async (request, reply) => {
        request.audited = true;
        const { row, key } = await staff.createKey(request.actor, request.body as KeyCreate, origin(request));
        return reply
          .status(201)
          .header('cache-control', 'no-store')
          .send({ ...keyToApi(row), key });
      },
    );

    app.post(
      '/api/v1/keys/:id/revoke',
      { config: keys, schema: { tags: ['staff'], summary: 'Revoke an API key at once', params: IdParams, response: { 200: ApiKey, ...ProblemResponses } } },
      async (request) => {
        request.audited = true;
        return keyToApi(await staff.revokeKey(request.actor, (request.params as { id: string }).id, origin(request)));
      },
    );

    // ---- Console pages ----
    const usersPage = { permission: 'users:manage', page: 'console' as const };
    const keysPage = { permission: 'keys:manage', page: 'console' as const };

    app.get('/console/users', { config: usersPage, schema: { hide: true } }, async (_request, reply) =>
      reply.page(`${VIEWS}/users.njk`, { pageTitle: 'Staff accounts', users: await staff.listUsers() }),
    );

    const showNewUser = (reply: FastifyReply, values: Record<string, unknown>, fields: FieldError[]) =>
      reply.page(
        `${VIEWS}/user-new.njk`,
        {
          pageTitle: 'Add a staff account',
          values,
          roleItems: roleItems(asList(values.roles)),
          errors: errorList(fields),
          fieldErrors: Object.fromEntries(['email', 'name', 'roles', 'password'].map((f) => [f, errorFor(fields, f)])),
        },
        fields.length ? 400 : 200,
      );

    app.get('/console/users/new', { config: usersPage, schema: { hide: true } }, async (_request, reply) => showNewUser(reply, {}, []));

    app.post('/console/users/new', { config: usersPage, schema: { hide: true } }, async (request, reply) => {
      const body = { ...(request.body as Record<string, unknown>) };
      body.roles = asList(body.roles);
      const { value, errors } = readForm(UserCreate, body);
      if (errors.length) return showNewUser(reply, { ...value, password: '' }, errors);
      try {
        request.audited = true;
        const user = await staff.createUser(request.actor, value, origin(request));
        return reply.redirect(`/console/users/${user.id}?created=1`, 303);
      } catch (err) {
        return showNewUser(reply, { ...value, password: '' }, formError(err, 'email'));
      }
    });

    const showUser = async (reply: FastifyReply, id: string, fields: FieldError[], flash?: string) => {
      const user = await staff.getUser(id);
      return reply.page(
        `${VIEWS}/user.njk`,
        { pageTitle: user.name, user, roleItems: roleItems(user.roles), errors: errorList(fields), fieldErrors: { roles: errorFor(fields, 'roles'), name: errorFor(fields, 'name') }, flash },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/users/:id', { config: usersPage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const { created } = request.query as { created?: string };
      return showUser(
        reply,
        (request.params as { id: string }).id,
        [],
        created ? 'Staff account created. Give the person their password in a safe way; they should change it when they first sign in.' : undefined,
      );
    });

    app.post('/console/users/:id', { config: usersPage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const body = request.body as Record<string, unknown>;
      const roles = asList(body.roles);
      if (!roles.length) return showUser(reply, id, [{ field: 'roles', message: 'Choose at least one role' }]);
      try {
        request.audited = true;
        await staff.updateUser(request.actor, id, { name: String(body.name ?? '').trim() || undefined, roles: roles as never, isActive: body.isActive === 'yes' }, origin(request));
      } catch (err) {
        return showUser(reply, id, formError(err, 'roles'));
      }
      return showUser(reply, id, [], 'Changes saved.');
    });

    app.get('/console/keys', { config: keysPage, schema: { hide: true } }, async (_request, reply) =>
      reply.page(`${VIEWS}/keys.njk`, { pageTitle: 'API keys', keys: await staff.listKeys(), now: new Date() }),
    );

    const scopeItems = (actorPerms: ReadonlySet<string>, checked: string[]) =>
      allPermissions()
        .filter((p) => actorPerms.has(p))
        .map((p) => ({ value: p, text: p, hint: { text: permissionDescription(p) }, checked: checked.includes(p) }));

    const showNewKey = (request: FastifyRequest, reply: FastifyReply, values: Record<string, unknown>, fields: FieldError[]) =>
      reply.page(
        `${VIEWS}/key-new.njk`,
        {
          pageTitle: 'Create an API key',
          values,
          scopeItems: scopeItems(request.actor.permissions, asList(values.scopes)),
          errors: errorList(fields),
          fieldErrors: Object.fromEntries(['name', 'type', 'scopes', 'expiresAt'].map((f) => [f, errorFor(fields, f)])),
        },
        fields.length ? 400 : 200,
      );

    app.get('/console/keys/new', { config: keysPage, schema: { hide: true } }, async (request, reply) => showNewKey(request, reply, { type: 'live' }, []));

    app.post('/console/keys/new', { config: keysPage, schema: { hide: true } }, async (request, reply) => {
      const body = { ...(request.body as Record<string, unknown>) };
      body.scopes = asList(body.scopes);
      const days = Number(body.expiresInDays ?? 0);
      delete body.expiresInDays;
      if (days > 0) body.expiresAt = new Date(Date.now() + days * 86_400_000).toISOString();
      const { value, errors } = readForm(KeyCreate, body);
      if (errors.length) return showNewKey(request, reply, body, errors);
      try {
        request.audited = true;
        const { row, key } = await staff.createKey(request.actor, value, origin(request));
        return reply.page(`${VIEWS}/key-created.njk`, { pageTitle: 'API key created', key, row });
      } catch (err) {
        return showNewKey(request, reply, body, formError(err, 'scopes'));
      }
    });

    app.post('/console/keys/:id/revoke', { config: keysPage, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      request.audited = true;
      await staff.revokeKey(request.actor, (request.params as { id: string }).id, origin(request));
      return reply.redirect('/console/keys', 303);
    });
  };
}
