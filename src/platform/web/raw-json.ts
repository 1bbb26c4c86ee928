import type { FastifyInstance, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { platformErrors } from '../errors.js';

/**
 * For routes whose callers sign the request body (provider webhooks, GOV.UK Pay): in the plugin
 * it is called in, JSON is parsed as everywhere else (prototype-poisoning refused, an empty body
 * is no body) and also kept exactly as received, for the signature check. Returns the reader.
 */
export function keepRawJson(app: FastifyInstance): (request: FastifyRequest) => string {
  const raw = new WeakMap<FastifyRequest, string>();
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    raw.set(request, text);
    if (!text.trim()) return done(null, undefined);
    try {
      done(null, sjson.parse(text, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(platformErrors.MALFORMED_JSON(), undefined);
    }
  });
  return (request) => raw.get(request) ?? '';
}
