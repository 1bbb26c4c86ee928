import { defineErrors } from '../../platform/errors.js';

export const staffErrors = defineErrors('staff', {
  USER_NOT_FOUND: { status: 404, message: 'There is no staff account with that id.' },
  EMAIL_TAKEN: { status: 409, message: 'A staff account with that email address already exists.' },
  LAST_ADMIN: { status: 409, message: 'This is the only active admin account. Make someone else an admin first.' },
  KEY_NOT_FOUND: { status: 404, message: 'There is no API key with that id.' },
  KEY_SCOPE_NOT_HELD: { status: 400, message: 'A key can only be given permissions that you hold yourself.' },
  KEY_EXPIRY_INVALID: { status: 400, message: 'The expiry date must be in the future and within 2 years.' },
});
