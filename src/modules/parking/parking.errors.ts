import { defineErrors } from '../../platform/errors.js';

export const parkingErrors = defineErrors('parking', {
  PARKING_CSV_INVALID: { status: 400, message: 'The file cannot be sent as it is. Nothing was sent: correct the rows listed and upload it again.' },
  PARKING_PCN_DUPLICATE: { status: 409, message: 'Penalty charge notices in the file have been sent before. Nothing was sent: take out the rows listed and upload it again.' },
  PARKING_PAY_ACCOUNT_MISSING: {
    status: 409,
    message: 'The Parking messaging service has no GOV.UK Pay account, so keepers could not pay. Nothing was sent: an administrator must set its Pay account first.',
  },
  PARKING_BATCH_NOT_FOUND: { status: 404, message: 'There is no batch of penalty charge notices with that id.' },
  PARKING_NOTICE_NOT_FOUND: { status: 404, message: 'There is no penalty charge notice with that id.' },
  PARKING_NOTHING_TO_RETRY: { status: 409, message: 'No notices in this batch are waiting to be tried again: none failed, or the batch is still being sent.' },
});
