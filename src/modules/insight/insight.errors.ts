import { defineErrors } from '../../platform/errors.js';

export const insightErrors = defineErrors('insight', {
  INSIGHT_NO_TEXTS: { status: 400, message: 'Send at least one text in "texts".' },
  INSIGHT_TOO_MANY_TEXTS: { status: 400, message: 'Send at most 1,000 texts at a time: split the batch.' },
  INSIGHT_TEXT_TOO_LONG: { status: 400, message: 'A text is longer than 5,000 characters: shorten it or split it. The texts are named in "errors".' },
});
