import type { FastifyRequest } from 'fastify';
import { AppError, type FieldError } from '../../platform/errors.js';
import { errorFor } from '../../platform/web/web.js';

/** Small helpers the residents module's console pages share: reading forms and showing refusals. */
export { originOf as origin } from '../../platform/audit/origin.js';
/** Consents given on the console's pages say so. */
export const CONSOLE = 'staff:console';
export const param = (r: FastifyRequest, name: string) => String((r.params as Record<string, string>)[name] ?? '');
export const str = (v: unknown): string => (Array.isArray(v) ? str(v[0]) : typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
export const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : v === undefined || v === null || v === '' ? [] : [str(v)]);
export const bodyOf = (r: FastifyRequest) => (r.body ?? {}) as Record<string, unknown>;

export function fieldErrors(fields: FieldError[], names: string[]) {
  return Object.fromEntries(names.map((f) => [f, errorFor(fields, f)]));
}

/** A refusal from the service, as errors on the form's fields; anything else is not the form's to show. */
export function formError(err: unknown, field: string): FieldError[] {
  if (err instanceof AppError && err.status < 500) return err.fields.length ? err.fields : [{ field, message: err.message }];
  throw err;
}
