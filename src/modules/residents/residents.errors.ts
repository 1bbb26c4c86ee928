import { defineErrors } from '../../platform/errors.js';

export const residentsErrors = defineErrors('residents', {
  RESIDENT_NOT_FOUND: { status: 404, message: 'There is no resident with that id.' },
  RESIDENT_INVALID: { status: 400, message: 'The resident’s details are not valid. Check the fields named in "errors".' },
});
