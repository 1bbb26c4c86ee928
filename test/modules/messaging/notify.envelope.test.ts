/**
 * Every /v2 error code comes out in Notify's envelope under Notify's error name; platform
 * errors under /v2 are translated too (bad JSON is Notify's "Invalid JSON supplied in POST data").
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messagingErrors } from '../../../src/modules/messaging/messaging.errors.js';
import { notifyErrorBody } from '../../../src/modules/messaging/notify.routes.js';
import { platformErrors } from '../../../src/platform/errors.js';

const NAMES: [string, string][] = [
  ['NOTIFY_AUTH_REQUIRED', 'AuthError'],
  ['NOTIFY_AUTH_INVALID', 'AuthError'],
  ['NOTIFY_BAD_REQUEST', 'BadRequestError'],
  ['NOTIFY_VALIDATION', 'ValidationError'],
  ['NOTIFY_INVALID_PHONE', 'InvalidPhoneError'],
  ['NOTIFY_LETTER_REFUSED', 'BadRequestError'],
  ['NOTIFY_NOT_FOUND', 'NoResultFound'],
  ['NOTIFY_RATE_LIMITED', 'RateLimitError'],
  ['NOTIFY_DAILY_LIMIT', 'TooManyRequestsError'],
];

test('each Notify code is answered under Notify’s error name, with its status as status_code', () => {
  for (const [code, name] of NAMES) {
    const err = messagingErrors[code as keyof typeof messagingErrors]('a message');
    const { body } = notifyErrorBody(err) as { body: { status_code: number; errors: { error: string; message: string }[] } };
    assert.deepEqual(body, { status_code: err.status, errors: [{ error: name, message: 'a message' }] }, code);
  }
});

test('a schema failure lists one ValidationError per field', () => {
  const err = messagingErrors.NOTIFY_VALIDATION('x', [
    { field: 'phone_number', message: 'phone_number is a required property' },
    { field: 'template_id', message: 'template_id is not a valid UUID' },
  ]);
  assert.deepEqual((notifyErrorBody(err).body as { errors: unknown[] }).errors, [
    { error: 'ValidationError', message: 'phone_number is a required property' },
    { error: 'ValidationError', message: 'template_id is not a valid UUID' },
  ]);
});

test('platform errors under /v2 speak Notify too, and a 500 hides its message', () => {
  assert.deepEqual(notifyErrorBody(platformErrors.MALFORMED_JSON()).body, { status_code: 400, errors: [{ error: 'BadRequestError', message: 'Invalid JSON supplied in POST data' }] });
  assert.deepEqual(notifyErrorBody(platformErrors.INTERNAL('secret detail')).body, { status_code: 500, errors: [{ error: 'Exception', message: 'Internal server error' }] });
});
