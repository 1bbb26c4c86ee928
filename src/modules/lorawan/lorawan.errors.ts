import { defineErrors } from '../../platform/errors.js';

export const lorawanErrors = defineErrors('lorawan', {
  INTEGRATION_NOT_FOUND: { status: 404, message: 'There is no LoRaWAN integration with that id.' },
  INTEGRATION_KIND_MISMATCH: { status: 403, message: 'This token belongs to an integration for another network server. Use the token of an integration of the right kind.' },
  LORAWAN_BODY_MALFORMED: { status: 400, message: 'The body is not a message Weft understands. Send The Things Stack v3 uplink messages, or ChirpStack v4 events encoded as JSON.' },
  LORAWAN_DEVICE_UNKNOWN: { status: 404, message: 'No device has this DevEUI. Register the device in Weft with its DevEUI, or give the integration a default profile.' },
});
