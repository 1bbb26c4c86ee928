import type { FastifyRequest } from 'fastify';
import { can } from '../../platform/auth/actor.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import { errorFor } from '../../platform/web/web.js';
import type { Channel } from './messaging.schema.js';

/** What the messaging console's page files share: where views are, who may see what, and form helpers. */
export const VIEWS = 'modules/messaging/views';
export const readPage = { permission: 'messages:read', page: 'console' as const };
export const writePage = { permission: 'templates:manage', page: 'console' as const };
export const managePage = { permission: 'messaging:manage', page: 'console' as const };
export const sendPage = { permission: 'messages:send', page: 'console' as const };
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const WHOLE = /^\d+$/;
/** The most messages a minute a campaign can be spread to. */
export const MAX_RATE = 1_000_000;

export const CHANNEL_NAMES: Record<Channel, string> = { email: 'Email', sms: 'Text message', letter: 'Letter', voice: 'Voice call', rcs: 'RCS message' };

export const query = (r: FastifyRequest) => (r.query ?? {}) as Record<string, unknown>;
export const param = (r: FastifyRequest, name: string) => String((r.params as Record<string, string>)[name] ?? '');
/** One value of a form or query field as text (the first, when it was sent more than once). */
export const str = (v: unknown): string => (Array.isArray(v) ? str(v[0]) : typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
/** Every value of a form field sent once or more (checkboxes), as text. */
export const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : v === undefined || v === null || v === '' ? [] : [str(v)]);

export const perms = (r: FastifyRequest) => ({ canManage: can(r.actor, 'messaging:manage'), canWrite: can(r.actor, 'templates:manage'), canSend: can(r.actor, 'messages:send') });

export function fieldErrors(fields: FieldError[], names: string[]) {
  return Object.fromEntries(names.map((f) => [f, errorFor(fields, f)]));
}

/** A refusal from the service, as errors on the form's fields; anything else is not the form's to show. */
export function formError(err: unknown, field: string, rename: Record<string, string> = {}): FieldError[] {
  if (err instanceof AppError && err.status < 500) return err.fields.length ? err.fields.map((f) => ({ field: rename[f.field] ?? f.field, message: f.message })) : [{ field, message: err.message }];
  throw err;
}
