import { defineErrors } from '../../platform/errors.js';

export const wasteErrors = defineErrors('waste', {
  ROUND_INVALID: { status: 400, message: 'The collection round is not valid. Check the fields named in "errors".' },
  ROUND_NOT_FOUND: { status: 404, message: 'There is no collection round with that id.' },
  COLLECTION_CHANGE_INVALID: { status: 400, message: 'The change to the collection day is not valid. Check the fields named in "errors".' },
  COLLECTION_CHANGE_NOT_FOUND: { status: 404, message: 'That collection day has not been moved.' },
});
