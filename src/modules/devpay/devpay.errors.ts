import { defineErrors } from '../../platform/errors.js';

/**
 * The development payment page's one refusal. Its API answers in GOV.UK Pay's own words and
 * codes (401, P0101, P0102, P0200), as the real Pay does, not with Weft codes: see README.md.
 */
export const devPayErrors = defineErrors('devpay', {
  DEV_PAY_SESSION_EXPIRED: {
    status: 400,
    message: 'Your payment session has expired: this development payment has been used, has finished or is more than 90 minutes old. Go back to the link in the message to start again.',
  },
});
