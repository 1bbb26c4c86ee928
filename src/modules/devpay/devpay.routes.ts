import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { registerErrorFormat } from '../../platform/error-handler.js';
import { CardPayment, type CreatePaymentBody, DEV_PAY_PATH, OutcomeForm } from './devpay.schema.js';
import type { DevPayService } from './devpay.service.js';

/** Pay's answer to a request without a valid API key. */
const UNAUTHORISED = { message: 'Credentials are required to access this resource' };
/**
 * The API is for Weft's own pay links: no session or Weft key, and no CSRF (not a browser), but
 * the bearer API key the development Pay issued, checked in the handler to answer as Pay does.
 * A demo upload makes a payment a notice, so the per-address limit is lifted as for Pay's webhook.
 */
const api = { public: true, csrf: false as const, rateLimit: { max: 60_000, timeWindow: '1 minute' } };
/** The payment page: anyone holding the single-use address; its form is CSRF-checked as every page's. */
const page = { public: true, page: 'portal' as const };
const PAGE = 'modules/devpay/views/payment.njk';
const IdParams = Type.Object({ id: Type.String({ pattern: '^[a-z0-9]{26}$' }) }, { additionalProperties: false });
const TokenParams = Type.Object({ token: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
const PayError = Type.Object({ field: Type.Optional(Type.String()), code: Type.String(), description: Type.String() });

const pounds = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' });

/**
 * The development GOV.UK Pay (registered only with WEFT_DEV_PAY=true): Pay's API under
 * /dev-pay/v1/ and its payment page under /dev-pay/secure/ and /dev-pay/card/.
 */
export function devPayRoutes(deps: { devPay: DevPayService }) {
  const { devPay } = deps;
  return async function routes(app: FastifyInstance) {
    // Errors the platform raises before a handler (a body that is not JSON) in Pay's shape too.
    registerErrorFormat(`${DEV_PAY_PATH}/v1/`, (err) => ({
      contentType: 'application/json',
      body: err.code === 'MALFORMED_JSON' ? { code: 'P0197', description: 'Unable to parse JSON' } : { code: 'P0198', description: err.message },
    }));

    app.post(
      `${DEV_PAY_PATH}/v1/payments`,
      {
        config: api,
        schema: {
          hide: true,
          summary: 'Create a payment (GOV.UK Pay’s API, development only)',
          response: { 201: CardPayment, 401: Type.Object({ message: Type.String() }), 422: PayError },
        },
      },
      async (request, reply) => {
        const account = await devPay.accountFor(request.headers.authorization);
        if (!account) return reply.status(401).send(UNAUTHORISED);
        const made = await devPay.create(account, request.body as CreatePaymentBody | undefined);
        if ('error' in made) return reply.status(422).send(made.error);
        return reply.status(201).header('location', made.payment._links.self.href).send(made.payment);
      },
    );

    app.get<{ Params: { id: string } }>(
      `${DEV_PAY_PATH}/v1/payments/:id`,
      {
        config: api,
        schema: {
          hide: true,
          summary: 'A payment (GOV.UK Pay’s API, development only)',
          params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
          response: { 200: CardPayment, 401: Type.Object({ message: Type.String() }), 404: PayError },
        },
      },
      async (request, reply) => {
        const account = await devPay.accountFor(request.headers.authorization);
        if (!account) return reply.status(401).send(UNAUTHORISED);
        const payment = await devPay.get(account, request.params.id);
        if (!payment) return reply.status(404).send({ code: 'P0200', description: `No payment matching payment id ${request.params.id} was found` });
        return payment;
      },
    );

    // next_url: works once; the token is not logged at info level.
    app.get<{ Params: { token: string } }>(`${DEV_PAY_PATH}/secure/:token`, { config: page, logLevel: 'warn', schema: { hide: true, params: TokenParams } }, async (request, reply) =>
      reply.redirect(`${DEV_PAY_PATH}/card/${await devPay.open(request.params.token)}`, 303),
    );

    app.get<{ Params: { id: string } }>(`${DEV_PAY_PATH}/card/:id`, { config: page, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const payment = await devPay.page(request.params.id);
      return reply.header('referrer-policy', 'no-referrer').page(PAGE, { pageTitle: 'Development payment page', payment, amount: pounds.format(payment.amount / 100) });
    });

    app.post<{ Params: { id: string }; Body: { outcome: 'success' | 'declined' | 'cancelled' } }>(
      `${DEV_PAY_PATH}/card/:id`,
      { config: page, schema: { hide: true, params: IdParams, body: OutcomeForm } },
      async (request, reply) => reply.header('referrer-policy', 'no-referrer').redirect(await devPay.complete(request.params.id, request.body.outcome), 303),
    );
  };
}
