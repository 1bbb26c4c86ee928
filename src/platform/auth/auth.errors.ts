import { defineErrors } from '../errors.js';

export const authErrors = defineErrors('auth', {
  SIGN_IN_FAILED: { status: 401, message: 'Enter a correct email address and password.' },
  SIGN_IN_THROTTLED: { status: 429, message: 'Too many failed attempts to sign in. Wait 15 minutes and try again.' },
  PASSWORD_INCORRECT: { status: 400, message: 'Your current password is not correct.' },
  PASSWORD_TOO_WEAK: { status: 400, message: 'Use a password of at least 12 characters that is not easy to guess.' },
});
