import { defineErrors } from '../../platform/errors.js';

export const librariesErrors = defineErrors('libraries', {
  LIBRARY_CARD_NOT_FOUND: { status: 404, message: 'No resident has linked that library card, so there is no one to tell.' },
  LIBRARY_CARD_TAKEN: { status: 409, message: 'That library card is linked to another resident.' },
  LIBRARY_EVENT_INVALID: { status: 400, message: 'The event is not valid. Check the fields named in "errors".' },
});
