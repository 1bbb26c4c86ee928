import { defineErrors } from '../../platform/errors.js';

export const estateErrors = defineErrors('estate', {
  SITE_NOT_FOUND: { status: 404, message: 'There is no site with that id.' },
  SITE_HAS_DEVICES: { status: 409, message: 'This site still has devices. Move or decommission them first.' },
  SITE_ID_TAKEN: { status: 409, message: 'A site with that id already exists.' },
  DEVICE_NOT_FOUND: { status: 404, message: 'There is no device with that id.' },
  DEVICE_SERIAL_TAKEN: { status: 409, message: 'A device with that serial number already exists.' },
  DEVICE_EXTERNAL_ID_TAKEN: { status: 409, message: 'A device with that DevEUI already exists.' },
  DEVICE_DECOMMISSIONED: { status: 409, message: 'This device has been decommissioned and cannot be changed.' },
  PROFILE_NOT_FOUND: { status: 404, message: 'There is no device profile with that key or id.' },
  PROFILE_KEY_TAKEN: { status: 409, message: 'A device profile with that key already exists.' },
  PROFILE_BUILT_IN: { status: 409, message: 'Built-in profiles cannot be changed or deleted. Create a profile of your own instead.' },
  PROFILE_IN_USE: { status: 409, message: 'Devices still use this profile. Move them to another profile first.' },
  AREA_NOT_FOUND: { status: 404, message: 'There is no area with that id.' },
  AREA_IMPORT_INVALID: { status: 400, message: 'The file is not a GeoJSON FeatureCollection of Polygon or MultiPolygon features with a name.' },
  PERSONAL_SITE_FORBIDDEN: { status: 403, message: 'Registering or changing residents’ homes and their devices needs the homes:manage permission.' },
  ESTATE_MANAGE_REQUIRED: { status: 403, message: 'Sites and devices other than residents’ homes need the estate:manage permission.' },
  POSITION_INCOMPLETE: { status: 400, message: 'Give both a latitude and a longitude, or neither.' },
  IMPORT_INVALID: { status: 400, message: 'The file has errors. Nothing was imported: correct the rows listed and try again.' },
  IMPORT_NOT_FOUND: { status: 404, message: 'There is no import with that id.' },
  IMPORT_RESULT_GONE: { status: 410, message: 'The credentials from this import have already been downloaded, or have expired.' },
});
