import { defineErrors } from '../../platform/errors.js';

export const schoolsErrors = defineErrors('schools', {
  CLOSURE_INVALID: { status: 400, message: 'The closure is not valid. Check the fields named in "errors".' },
  CLOSURE_NOT_FOUND: { status: 404, message: 'There is no school closure with that id.' },
});
