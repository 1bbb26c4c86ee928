import { defineErrors } from '../../platform/errors.js';

/**
 * Pay links and short links (payments.ts). Under /v2/ these answer in Notify's envelope like the
 * API's other errors (a 4xx is a BadRequestError or NoResultFound carrying the message here).
 */
export const paymentErrors = defineErrors('messaging', {
  PAY_ACCOUNT_MISSING: { status: 400, message: 'This messaging service has no GOV.UK Pay account in Weft. Ask an administrator to add its Pay API key.' },
  PAY_ACCOUNT_INVALID: { status: 400, message: 'The GOV.UK Pay account settings are not valid. Check the fields named in "errors".' },
  PAY_ACCOUNT_REFUSED: { status: 400, message: 'GOV.UK Pay refused this service’s API key. Nothing was sent: an administrator should check the key set in Weft.' },
  PAY_PAYMENT_REFUSED: { status: 400, message: 'GOV.UK Pay refused the payment. Nothing was sent: correct the payment details and try again.' },
  PAY_UNAVAILABLE: { status: 503, message: 'GOV.UK Pay could not be reached. Nothing was changed: try again in a few minutes.' },
  PAY_LINK_INVALID: { status: 400, message: 'The message cannot carry a pay link as it is. Check the fields named in "errors".' },
  PAY_LINK_NOT_FOUND: { status: 404, message: 'There is no pay link with that id for this service.' },
  PAY_WEBHOOK_SIGNATURE_INVALID: { status: 403, message: 'The Pay-Signature header does not match the body signed with this service’s GOV.UK Pay webhook signing secret.' },
  PAY_WEBHOOK_INVALID: { status: 400, message: 'The webhook message is not one GOV.UK Pay sends. Check the fields named in "errors".' },
  PAY_LINK_TOO_MANY_PAYMENTS: {
    status: 429,
    message: 'This pay link has made as many GOV.UK Pay payments as it may for now (10 a day, and one a minute). Try again later, or contact the council.',
  },
  SHORT_LINK_NOT_FOUND: { status: 404, message: 'This link has expired or is not complete. If you copied it from a message, check you copied all of it.' },
});
