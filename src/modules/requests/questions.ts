import type { AppError } from '../../platform/errors.js';
import type { Attribute } from './requests.schema.js';

/**
 * A category's extra questions (Open311 attributes) on a page's form, for the portal and the
 * console alike: each question is the field `attr-<code>`; a multiple choice sends several values.
 */
export const questionField = (code: string) => `attr-${code}`;

export type QuestionKind = 'input' | 'number' | 'datetime' | 'textarea' | 'radios' | 'checkboxes' | 'info';

const KINDS: Record<Attribute['datatype'], QuestionKind> = {
  string: 'input',
  number: 'number',
  datetime: 'datetime',
  text: 'textarea',
  singlevaluelist: 'radios',
  multivaluelist: 'checkboxes',
};

export interface QuestionField {
  field: string;
  kind: QuestionKind;
  label: string;
  required: boolean;
  hint: string | null;
  value: string;
  items: { value: string; text: string; checked: boolean }[];
}

/** The answers a form sent, by question code; blank ones left out (the service says which were required). */
export function answersFrom(definitions: Attribute[], body: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const a of definitions) {
    if (a.variable === false) continue;
    const raw = body[questionField(a.code)];
    const values = (Array.isArray(raw) ? raw : [raw])
      .filter((v): v is string => typeof v === 'string')
      .map((v) => v.trim())
      .filter(Boolean);
    if (values.length) out[a.code] = a.datatype === 'multivaluelist' ? values : values[0];
  }
  return out;
}

/** The questions as the views draw them, with what was answered already. */
export function questionFields(definitions: Attribute[], answers: Record<string, string | string[]>): QuestionField[] {
  return definitions.map((a) => {
    const given = [answers[a.code] ?? []].flat();
    return {
      field: questionField(a.code),
      kind: a.variable === false ? 'info' : KINDS[a.datatype],
      label: a.description,
      required: a.required,
      hint: a.datatypeDescription ?? null,
      value: given[0] ?? '',
      items: (a.values ?? []).map((v) => ({ value: v.key, text: v.name, checked: given.includes(v.key) })),
    };
  });
}

/** ATTRIBUTES_INVALID's fields (`attribute[code]`) as the form's fields, each with the service's message. */
export function questionErrors(err: AppError): { field: string; message: string }[] {
  return err.fields.map((f) => ({ field: questionField(/^attribute\[(.+)\]$/.exec(f.field)?.[1] ?? f.field), message: f.message }));
}
