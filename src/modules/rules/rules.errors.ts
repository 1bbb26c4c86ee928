import { defineErrors } from '../../platform/errors.js';

export const rulesErrors = defineErrors('rules', {
  RULE_NOT_FOUND: { status: 404, message: 'There is no rule with that id.' },
  RULE_INVALID: { status: 400, message: 'The rule is not valid. Check the fields named in "errors".' },
  ALARM_NOT_FOUND: { status: 404, message: 'There is no alarm with that id.' },
  ALARM_STATE_INVALID: { status: 409, message: 'The alarm cannot change that way from the state it is in.' },
  ALARM_NOTE_REQUIRED: { status: 400, message: 'Write a note.' },
});
