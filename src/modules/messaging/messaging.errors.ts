import { defineErrors } from '../../platform/errors.js';

/**
 * Weft's own messaging codes, and the codes of the Notify-compatible API under /v2/. The
 * latter answer in Notify's envelope, `{status_code, errors: [{error, message}]}`, where
 * `error` is Notify's error name (NOTIFY_ERROR_NAMES) and the message is Notify's own text,
 * given at the point of the error.
 */
export const messagingErrors = defineErrors('messaging', {
  NOTIFY_AUTH_REQUIRED: { status: 401, message: 'Send a bearer token: a JWT signed with your API key, as GOV.UK Notify’s clients do.' },
  NOTIFY_AUTH_INVALID: { status: 403, message: 'The token is not valid for any of this service’s API keys.' },
  NOTIFY_BAD_REQUEST: { status: 400, message: 'The request cannot be sent as it is.' },
  NOTIFY_VALIDATION: { status: 400, message: 'A field of the request is not valid.' },
  NOTIFY_INVALID_PHONE: { status: 400, message: 'The phone number is not a UK mobile number.' },
  NOTIFY_LETTER_REFUSED: { status: 403, message: 'This key cannot send letters: use a live or test key.' },
  NOTIFY_NOT_FOUND: { status: 404, message: 'There is nothing with that id for this service.' },
  NOTIFY_RATE_LIMITED: { status: 429, message: 'The key has sent more requests this minute than its service allows.' },
  NOTIFY_DAILY_LIMIT: { status: 429, message: 'The service has sent as many messages of this type today as it may.' },
  MESSAGE_SERVICE_NOT_FOUND: { status: 404, message: 'There is no messaging service with that id.' },
  MESSAGE_SERVICE_NAME_TAKEN: { status: 409, message: 'A messaging service already has this name. Choose another.' },
  MESSAGE_KEY_NOT_FOUND: { status: 404, message: 'There is no API key with that id for this service.' },
  TEMPLATE_NOT_FOUND: { status: 404, message: 'There is no template with that id.' },
  TEMPLATE_INVALID: { status: 400, message: 'The template is not valid. Check the fields named in "errors".' },
  CAMPAIGN_NOT_FOUND: { status: 404, message: 'There is no campaign with that id.' },
  CAMPAIGN_CSV_INVALID: { status: 400, message: 'The file cannot be used for this template. Correct the rows listed and upload it again.' },
  CAMPAIGN_INVALID: { status: 400, message: 'The campaign cannot be made as asked. Check the fields named in "errors".' },
  CAMPAIGN_AUDIENCE_EMPTY: { status: 400, message: 'No residents are subscribed to that topic in the areas or at the places chosen, so there is no one to send to.' },
  CAMPAIGN_STATE: { status: 409, message: 'The campaign cannot do that in its present state.' },
  CAMPAIGN_OVER_DAILY_LIMIT: { status: 409, message: 'The campaign would take the service past its daily limit.' },
  PROVIDER_NAME_TAKEN: { status: 409, message: 'A provider already has this name. Choose another.' },
  PROVIDER_NOT_FOUND: { status: 404, message: 'There is no provider with that id.' },
  SENDER_INVALID: { status: 400, message: 'The sender is not valid.' },
  CALLBACK_INVALID: { status: 400, message: 'The callback settings are not valid. Check the fields named in "errors".' },
  PROVIDER_SIGNATURE_INVALID: { status: 403, message: 'The request is not signed with this provider’s secret. Check the signature header and the secret set in Weft.' },
  PROVIDER_CALLBACK_TOKEN_INVALID: { status: 401, message: 'Send the callback bearer token set for this provider in the Authorization header.' },
  RECEIPT_INVALID: { status: 400, message: 'The receipt is not valid. Check the fields named in "errors".' },
  RECEIPT_NOT_FOUND: { status: 404, message: 'No notification sent through this provider matches the receipt.' },
  PRINT_BATCH_NOT_FOUND: { status: 404, message: 'There is no print batch with that id.' },
  PRINT_BATCH_NOT_READY: { status: 409, message: 'The batch’s files are still being made. Try again in a few minutes.' },
  PRINT_BATCH_DISPATCHED: { status: 409, message: 'The batch has already been marked dispatched.' },
  PRINT_BATCH_POSTAGE_INVALID: { status: 400, message: 'Choose a postage class the batch has letters for: the batch lists its files.' },
});

/** Notify's error name for each /v2 code. */
export const NOTIFY_ERROR_NAMES: Record<string, string> = {
  NOTIFY_AUTH_REQUIRED: 'AuthError',
  NOTIFY_AUTH_INVALID: 'AuthError',
  NOTIFY_BAD_REQUEST: 'BadRequestError',
  NOTIFY_VALIDATION: 'ValidationError',
  NOTIFY_INVALID_PHONE: 'InvalidPhoneError',
  NOTIFY_LETTER_REFUSED: 'BadRequestError',
  NOTIFY_NOT_FOUND: 'NoResultFound',
  NOTIFY_RATE_LIMITED: 'RateLimitError',
  NOTIFY_DAILY_LIMIT: 'TooManyRequestsError',
};

/** Notify's own words where the same message recurs. */
export const NOTIFY_MESSAGES = {
  noToken: 'Unauthorized: authentication token must be provided',
  notFound: 'No result found',
  teamLetters: 'Cannot send letters with a team api key',
};
