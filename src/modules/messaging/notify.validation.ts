import type { FieldError } from '../../platform/errors.js';
import { messagingErrors } from './messaging.errors.js';

/**
 * Request checks for the Notify-compatible API, with Notify's own messages (its JSON-schema
 * errors, formatted as notifications-api formats them: "{field} {message}", every failure
 * collected). Weft's usual validation would answer in its own words, which Notify's clients
 * and the people reading their logs do not expect.
 */
export interface FieldRule {
  type: 'uuid' | 'string' | 'object' | 'https_url' | 'array' | 'boolean';
  required?: boolean;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function typeName(value: unknown): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return JSON.stringify(value).replace(/'/g, '');
  if (typeof value === 'string') return value;
  return JSON.stringify(value).replace(/'/g, '');
}

/** Checks a body against field rules; throws one ValidationError item per failure, as Notify lists them. */
export function checkBody(body: unknown, rules: Record<string, FieldRule>, options: { additional?: boolean } = {}): Record<string, unknown> {
  const errors: FieldError[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw messagingErrors.NOTIFY_VALIDATION(`${typeName(body)} is not of type object`, [{ field: '', message: `${typeName(body)} is not of type object` }]);
  }
  const b = body as Record<string, unknown>;
  for (const [name, rule] of Object.entries(rules)) {
    if (rule.required && !(name in b)) errors.push({ field: name, message: `${name} is a required property` });
  }
  if (!options.additional) {
    const extra = Object.keys(b).filter((k) => !(k in rules));
    if (extra.length) errors.push({ field: '', message: `Additional properties are not allowed (${extra.join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)` });
  }
  for (const [name, rule] of Object.entries(rules)) {
    if (!(name in b)) continue;
    const message = fieldProblem(b[name], rule);
    if (message) errors.push({ field: name, message: `${name} ${message}` });
  }
  if (errors.length) throw messagingErrors.NOTIFY_VALIDATION(errors[0].message, errors);
  return b;
}

function fieldProblem(value: unknown, rule: FieldRule): string | undefined {
  switch (rule.type) {
    case 'uuid':
      return typeof value === 'string' && UUID.test(value) ? undefined : 'is not a valid UUID';
    case 'https_url':
      return typeof value === 'string' && /^https:\/\/\S+$/.test(value) ? undefined : 'is not a valid https url';
    case 'string':
      return typeof value === 'string' ? undefined : `${typeName(value)} is not of type string`;
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : `${typeName(value)} is not of type object`;
    case 'array':
      return Array.isArray(value) ? undefined : `${typeName(value)} is not of type array`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `${typeName(value)} is not of type boolean`;
  }
}

/** One Notify ValidationError about a field, for checks after the schema (phone numbers, email addresses). */
export function fieldError(field: string, message: string) {
  return messagingErrors.NOTIFY_VALIDATION(`${field} ${message}`, [{ field, message: `${field} ${message}` }]);
}

/** A query value that must be one of a list: Notify's enum message. */
export function checkEnum(name: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value)) throw fieldError(name, `${value} is not one of [${allowed.join(', ')}]`);
}

export function checkUuid(name: string, value: string): string {
  if (!UUID.test(value)) throw fieldError(name, 'is not a valid UUID');
  return canonicalUuid(value);
}

/** Lower case with hyphens: Python's uuid.UUID() accepts both, so Notify does too. */
export function canonicalUuid(value: string): string {
  const h = value.replace(/-/g, '').toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
