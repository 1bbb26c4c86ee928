/**
 * One error model for all of Weft. Every error a client can cause is an AppError
 * with a stable code (UPPER_SNAKE), an HTTP status and a message that tells the
 * client what to change. Codes are declared with defineErrors() in each module's
 * `x.errors.ts`; the catalogue below is what docs/errors.md is checked against.
 */
export interface FieldError {
  /** JSON pointer-ish path of the field, e.g. "email" or "items/3/value" */
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly fields: FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export interface ErrorDefinition {
  status: number;
  /** the default message; a factory may be given a more specific one */
  message: string;
}

/** Every declared code, for the docs test and the OpenAPI description. */
export const errorCatalogue = new Map<string, ErrorDefinition & { module: string }>();

type Factories<T> = { [K in keyof T]: (message?: string, fields?: FieldError[]) => AppError };

export function defineErrors<T extends Record<string, ErrorDefinition>>(module: string, defs: T): Factories<T> {
  const out: Record<string, (message?: string, fields?: FieldError[]) => AppError> = {};
  for (const [code, def] of Object.entries(defs)) {
    const existing = errorCatalogue.get(code);
    if (existing && existing.module !== module) throw new Error(`Error code ${code} is declared by both ${existing.module} and ${module}`);
    errorCatalogue.set(code, { ...def, module });
    out[code] = (message?: string, fields: FieldError[] = []) => new AppError(code, def.status, message ?? def.message, fields);
  }
  return out as Factories<T>;
}

/** The platform's own codes: those any route can answer with. */
export const platformErrors = defineErrors('platform', {
  VALIDATION_FAILED: { status: 400, message: 'The request is not valid. Check the fields named in "errors".' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as application/json (or a form, for pages).' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than this server accepts.' },
  AUTH_REQUIRED: { status: 401, message: 'Sign in, or send an API key in the Authorization header.' },
  AUTH_INVALID: { status: 401, message: 'The session or API key is not valid: it may have expired or been revoked.' },
  FORBIDDEN: { status: 403, message: 'You do not have permission to do this.' },
  CSRF_INVALID: { status: 403, message: 'The form has expired. Go back, reload the page and try again.' },
  NOT_FOUND: { status: 404, message: 'There is nothing at this address.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests. Wait a minute and try again.' },
  UNAVAILABLE: { status: 503, message: 'The service is not ready. Try again shortly.' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side. Quote the request id if you contact us.' },
});
