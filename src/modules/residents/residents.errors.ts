import { defineErrors } from '../../platform/errors.js';

export const residentsErrors = defineErrors('residents', {
  RESIDENT_NOT_FOUND: { status: 404, message: 'There is no resident with that id.' },
  RESIDENT_INVALID: { status: 400, message: 'The resident’s details are not valid. Check the fields named in "errors".' },
  TOPIC_NOT_FOUND: { status: 404, message: 'There is no topic with that code.' },
  TOPIC_INVALID: { status: 400, message: 'The topic is not valid. Check the fields named in "errors".' },
  TOPIC_TAKEN: { status: 409, message: 'A topic with that code already exists.' },
  TOPIC_DISABLED: { status: 409, message: 'That topic is turned off: residents cannot subscribe to it.' },
  SUBSCRIPTION_INVALID: { status: 400, message: 'The subscription is not valid. Check the fields named in "errors".' },
  SUBSCRIPTION_EXISTS: { status: 409, message: 'The resident already has that subscription.' },
  SUBSCRIPTION_NOT_FOUND: { status: 404, message: 'The resident has no subscription with that id.' },
  AUDIENCE_EMPTY: { status: 400, message: 'Name at least one area or site for the audience.' },
  AUDIENCE_INVALID: { status: 400, message: 'The audience is not valid: area and site ids are UUIDs.' },
  RESIDENT_ERASED: { status: 409, message: 'The resident’s personal data has been erased: their record cannot be changed. Add them again if they come back.' },
  CONSENT_INVALID: { status: 400, message: 'The consent is not valid. Check the fields named in "errors".' },
  CONSENT_NOT_FOUND: { status: 404, message: 'The resident has no consent with that id.' },
  CONSENT_WITHDRAWN: { status: 409, message: 'That consent has been withdrawn already.' },
});
