import { defineErrors } from '../../platform/errors.js';

export const telemetryErrors = defineErrors('telemetry', {
  READINGS_MALFORMED: { status: 400, message: 'The readings are not in a shape Weft accepts. Send {"metric", "value", "at"}, {"readings": […]} or an object of metric names and values.' },
  READINGS_EMPTY: { status: 400, message: 'There are no readings in the request. Send at least one.' },
  BATCH_TOO_LARGE: { status: 413, message: 'A request may carry at most 10,000 readings. Split the batch.' },
  READING_INVALID: { status: 400, message: 'A reading needs a metric name and a value that is a number or true/false. See the fields named in "errors".' },
  TIMESTAMP_INVALID: { status: 400, message: 'A timestamp must be an ISO 8601 date and time with a time zone, or milliseconds since 1970, and not before the year 2000.' },
  TIMESTAMP_IN_FUTURE: { status: 400, message: 'A timestamp is more than 5 minutes in the future. Check the device’s clock.' },
  DEVICE_ID_REQUIRED: { status: 400, message: 'Name the device the readings are from in "deviceId": only a device’s own token may leave it out.' },
  DEVICE_MISMATCH: { status: 403, message: 'A device may only send its own readings.' },
  DEVICE_UNAVAILABLE: { status: 404, message: 'There is no device with that id that can send readings: it is unknown or decommissioned.' },
  RANGE_INVALID: { status: 400, message: 'The start of the range must be before its end.' },
  RANGE_TOO_LARGE: { status: 400, message: 'The range is too long for raw readings. Ask for a shorter range, or for aggregates.' },
  BUCKET_INVALID: { status: 400, message: 'The bucket must be one of 1m, 5m, 15m, 1h or 1d.' },
  QUERY_INVALID: { status: 400, message: 'Say which devices you mean: give deviceIds, siteId, areaId or profile.' },
  TOO_MANY_DEVICES: { status: 400, message: 'Ask for the latest values of at most 10,000 devices at once.' },
});
