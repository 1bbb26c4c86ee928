import { defineErrors } from '../../platform/errors.js';

/** The portal's refusals. Pages show each in the page's language from the catalogue (portal.messages.ts), by code. */
export const portalErrors = defineErrors('portal', {
  PORTAL_CONTACT_INVALID: { status: 400, message: 'Enter an email address, like name@example.com, or a UK mobile number, like 07700 900 982.' },
  PORTAL_TOO_MANY_REQUESTS: { status: 429, message: 'Too many sign-in links or codes have been asked for in the last hour. Wait an hour, then try again.' },
  PORTAL_LINK_INVALID: { status: 400, message: 'The link has expired, has been used already or is not complete. Ask for a new one.' },
  PORTAL_CODE_WRONG: { status: 400, message: 'The code is not correct. Check the text message and enter the 6 numbers.' },
  PORTAL_CODE_EXPIRED: { status: 400, message: 'The code has expired or has been used already. Ask for a new one.' },
  PORTAL_CODE_LOCKED: { status: 400, message: 'The code was entered wrongly too many times and no longer works. Ask for a new one.' },
  PORTAL_SIGN_UP_EXPIRED: { status: 400, message: 'It took too long to give your name. Sign in again.' },
  PORTAL_CONTACT_NEEDED: { status: 400, message: 'Keep an email address or a mobile number: you sign in with one of them.' },
  PORTAL_CONTACT_UNCHANGED: { status: 400, message: 'That is the email address or mobile number you have already.' },
});
