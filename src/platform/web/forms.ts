import type { Static, TSchema } from '@sinclair/typebox';
import { FormatRegistry } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FieldError } from '../errors.js';

// TypeBox's own checker (used for forms and config) knows no formats until told; these match ajv-formats.
FormatRegistry.Set('email', (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v));
FormatRegistry.Set('date-time', (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(v) && !Number.isNaN(Date.parse(v)));

/**
 * Checks a submitted form against a TypeBox schema. Pages show these errors in the
 * GOV.UK error summary; each schema property carries its own plain-English message
 * in `errorMessage`, so the person is told what to change, not what went wrong.
 */
export function readForm<T extends TSchema>(schema: T, body: unknown): { value: Static<T>; errors: FieldError[] } {
  const input = trimStrings(body);
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(schema, input)) {
    const field = e.path.replace(/^\//, '').split('/')[0] || String((e.schema as { field?: string }).field ?? 'form');
    if (seen.has(field)) continue;
    seen.add(field);
    const prop = (schema as unknown as { properties?: Record<string, { errorMessage?: string }> }).properties?.[field];
    errors.push({ field, message: prop?.errorMessage ?? e.message });
  }
  return { value: input as Static<T>, errors };
}

function trimStrings(body: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!body || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body)) out[k] = typeof v === 'string' ? v.trim() : v;
  return out;
}

export interface UploadedFile {
  filename: string;
  content: string;
}

/**
 * A multipart/form-data body (a form with a file input) as an object: text fields as
 * strings, files as { filename, content } with the content read as UTF-8 text.
 * Node's own fetch machinery does the parsing.
 */
export async function parseMultipart(body: Buffer, contentType: string): Promise<Record<string, string | UploadedFile>> {
  const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  const out: Record<string, string | UploadedFile> = {};
  for (const [name, value] of form.entries()) {
    if (name === '__proto__' || name === 'constructor' || name === 'prototype') continue;
    out[name] = typeof value === 'string' ? value : { filename: value.name, content: await value.text() };
  }
  return out;
}
