import { defineErrors } from '../../platform/errors.js';

export const workforceErrors = defineErrors('workforce', {
  HUB_INVALID: { status: 400, message: 'The hub is not valid. Check the fields named in "errors".' },
  HUB_NOT_FOUND: { status: 404, message: 'There is no hub with that id.' },
  HUB_SITE_TAKEN: { status: 409, message: 'That site is a hub already. Change the hub that is there instead.' },
  HUB_SPACE_INVALID: { status: 400, message: 'The space is not valid. Check the fields named in "errors".' },
  HUB_SPACE_NOT_FOUND: { status: 404, message: 'There is no bookable space with that id.' },
  HUB_SPACE_NAME_TAKEN: { status: 409, message: 'The hub has a space with that name already. Give this one another name.' },
  HUB_CLOSURE_INVALID: { status: 400, message: 'The closure is not valid. Check the fields named in "errors".' },
  HUB_CLOSED: { status: 409, message: 'The hub is closed on that day. Choose another day or another hub.' },
  HUB_BOOKING_INVALID: { status: 400, message: 'The booking is not valid. Check the fields named in "errors".' },
  HUB_BOOKING_NOT_FOUND: { status: 404, message: 'There is no booking with that id.' },
  HUB_BOOKING_PERSON_REQUIRED: { status: 400, message: 'Say who the booking is for: an API key books for a member of staff named by "userId".' },
  HUB_BOOK_FOR_OTHERS_FORBIDDEN: { status: 403, message: 'Only hub managers (hubs:manage) may book for someone else. Leave out "userId" to book for yourself.' },
  HUB_BOOKING_NOT_YOURS: { status: 403, message: 'That booking is someone else’s. Only they, or a hub manager, may change it.' },
  HUB_SPACE_TAKEN: { status: 409, message: 'Someone else has booked that space for some or all of that time. Choose another space or time.' },
  HUB_BOOKING_CLASH: { status: 409, message: 'You have another booking at that time. Cancel it first, or choose another time.' },
  HUB_BOOKING_STATE: { status: 409, message: 'The booking cannot be changed that way now.' },
  HUB_CHECK_IN_NOT_NOW: { status: 409, message: 'You can check in from 30 minutes before the booking starts until it ends.' },
  HUB_BOOKINGS_AFFECTED: { status: 409, message: 'The change would leave bookings still to come at a hub or space not open for them. Close the hub for those days first.' },
  HUB_NO_BOOKING_TODAY: { status: 404, message: 'You have no booking of this space today to check in to. Book it first.' },
});
