import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldError, platformErrors } from './errors.js';

/**
 * The one error handler. API routes answer RFC 9457 problem details with a stable
 * `code`; pages render the GOV.UK error page. A 5xx never shows internals: the
 * client gets the request id, the log gets the stack.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: appError.code }, 'request refused');
    return sendError(request, reply, appError);
  });

  app.setNotFoundHandler((request, reply) => {
    const isPage = !isApiPath(request.url) && request.method === 'GET' && acceptsHtml(request);
    const err = platformErrors.NOT_FOUND(isPage ? 'If you typed the web address, check it is correct. If you pasted it, check you copied the entire address.' : undefined);
    return sendError(request, reply, err);
  });
}

/** Machine-facing address spaces: errors there are always problem details, never pages. */
const API_PREFIXES = ['/api/', '/v2/', '/open311', '/ngsi-ld', '/metrics', '/healthz', '/readyz'];

export function isApiPath(url: string): boolean {
  return API_PREFIXES.some((p) => url.startsWith(p));
}

/**
 * Address spaces that speak another standard's problem vocabulary (NGSI-LD under
 * /ngsi-ld/): the module that owns the prefix says which `type` and `title` an error
 * gets there. Weft's `code` and the other members stay as they are.
 */
export type ProblemVocabulary = (err: AppError) => { type: string; title: string } | undefined;
const vocabularies: { prefix: string; describe: ProblemVocabulary }[] = [];

export function registerProblemVocabulary(prefix: string, describe: ProblemVocabulary): void {
  if (!vocabularies.some((v) => v.prefix === prefix)) vocabularies.push({ prefix, describe });
}

/**
 * Address spaces whose standard has its own error body altogether (GOV.UK Notify's
 * `{status_code, errors}` under /v2/): the owning module renders the whole body.
 */
export type ErrorFormat = (err: AppError) => { contentType: string; body: unknown };
const formats: { prefix: string; render: ErrorFormat }[] = [];

export function registerErrorFormat(prefix: string, render: ErrorFormat): void {
  if (!formats.some((f) => f.prefix === prefix)) formats.push({ prefix, render });
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: AppError) {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  const wantsPage = request.routeOptions.config?.page || (!isApiPath(request.url) && acceptsHtml(request));
  if (wantsPage && typeof reply.page === 'function' && request.actor) {
    const title =
      err.status === 404
        ? 'Page not found'
        : err.status === 403
          ? 'You do not have permission to see this page'
          : err.status >= 500
            ? 'Sorry, there is a problem with the service'
            : 'There is a problem';
    return reply.page('platform/web/views/error.njk', { pageTitle: title, message: err.message, requestId: err.status >= 500 ? request.id : undefined }, err.status);
  }
  const format = formats.find((f) => request.url.startsWith(f.prefix))?.render(err);
  if (format) return reply.status(err.status).type(format.contentType).send(format.body);
  const vocabulary = vocabularies.find((v) => request.url.startsWith(v.prefix))?.describe(err);
  return reply
    .status(err.status)
    .type('application/problem+json')
    .send({
      type: vocabulary?.type ?? `urn:weft:error:${err.code}`,
      title: vocabulary?.title ?? titleOf(err),
      status: err.status,
      code: err.code,
      detail: err.message,
      instance: request.url.split('?')[0],
      requestId: request.id,
      ...(err.fields.length ? { errors: err.fields } : {}),
    });
}

function acceptsHtml(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/html');
}

function titleOf(err: AppError): string {
  return err.code
    .toLowerCase()
    .split('_')
    .map((w, i) => (i === 0 ? w[0].toUpperCase() + w.slice(1) : w))
    .join(' ');
}

export function toAppError(error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error;
  const e = error as FastifyError & { validation?: unknown[]; validationContext?: string };
  if (e.validation) return platformErrors.VALIDATION_FAILED(undefined, validationFields(e.validation as AjvError[], e.validationContext));
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return platformErrors.MALFORMED_JSON();
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return platformErrors.BODY_TOO_LARGE();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return platformErrors.UNSUPPORTED_MEDIA_TYPE();
  }
  if (e instanceof SyntaxError && e.statusCode === 400) return platformErrors.MALFORMED_JSON();
  if (e.statusCode === 429) return platformErrors.RATE_LIMITED();
  return platformErrors.INTERNAL();
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function validationFields(errors: AjvError[], context = 'body'): FieldError[] {
  return errors.map((e) => {
    const path = e.instancePath.replace(/^\//, '');
    const prefix = context === 'body' ? '' : `${context}:`;
    if (e.keyword === 'required') {
      const field = [path, e.params.missingProperty].filter(Boolean).join('/');
      return { field: prefix + field, message: `${field} is required` };
    }
    if (e.keyword === 'additionalProperties') {
      const field = [path, e.params.additionalProperty].filter(Boolean).join('/');
      return { field: prefix + field, message: `${field} is not a field this API accepts` };
    }
    const field = path || context;
    return { field: prefix + field, message: `${field} ${e.message ?? 'is not valid'}` };
  });
}
