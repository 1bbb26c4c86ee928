import type { AppError } from '../../platform/errors.js';
import { defineErrors } from '../../platform/errors.js';

export const contextErrors = defineErrors('context', {
  NGSI_QUERY_INVALID: { status: 400, message: 'The q parameter is not a valid NGSI-LD query.' },
  NGSI_GEOQUERY_INVALID: { status: 400, message: 'The geo-query is not valid: send georel, geometry and coordinates together.' },
  NGSI_PARAMETER_INVALID: { status: 400, message: 'A query parameter is not valid.' },
  NGSI_ENTITY_INVALID: { status: 400, message: 'The entity is not valid NGSI-LD.' },
  NGSI_DEVICE_PROFILE_UNKNOWN: {
    status: 400,
    message: 'Say which kind of device this is: give refDeviceModel as urn:ngsi-ld:DeviceModel:<profile> or a controlledProperty list that matches one profile.',
  },
  NGSI_ENTITY_NOT_FOUND: { status: 404, message: 'There is no entity with that id.' },
  NGSI_ATTRIBUTE_NOT_FOUND: { status: 404, message: 'The entity has no attribute with that name.' },
  NGSI_ENTITY_EXISTS: { status: 409, message: 'An entity with that id already exists.' },
  NGSI_OPERATION_NOT_SUPPORTED: { status: 422, message: 'This operation is not supported on this entity.' },
  NGSI_NOT_ACCEPTABLE: { status: 406, message: 'Ask for application/json, application/ld+json or application/geo+json.' },
});

export const NGSI_ERRORS = 'https://uri.etsi.org/ngsi-ld/errors/';

/** The NGSI-LD problem type of each of this module's codes. */
const TYPE_BY_CODE: Record<string, string> = {
  NGSI_QUERY_INVALID: 'InvalidRequest',
  NGSI_GEOQUERY_INVALID: 'BadRequestData',
  NGSI_PARAMETER_INVALID: 'BadRequestData',
  NGSI_ENTITY_INVALID: 'BadRequestData',
  NGSI_DEVICE_PROFILE_UNKNOWN: 'BadRequestData',
  NGSI_ENTITY_NOT_FOUND: 'ResourceNotFound',
  NGSI_ATTRIBUTE_NOT_FOUND: 'ResourceNotFound',
  NGSI_ENTITY_EXISTS: 'AlreadyExists',
  NGSI_OPERATION_NOT_SUPPORTED: 'OperationNotSupported',
  NGSI_NOT_ACCEPTABLE: 'NotAcceptable',
  // Platform codes, as an NGSI-LD client expects them.
  MALFORMED_JSON: 'InvalidRequest',
  VALIDATION_FAILED: 'BadRequestData',
  UNSUPPORTED_MEDIA_TYPE: 'UnsupportedMediaType',
  NOT_FOUND: 'ResourceNotFound',
  AUTH_REQUIRED: 'AccessDenied',
  AUTH_INVALID: 'AccessDenied',
  FORBIDDEN: 'AccessDenied',
};

const TYPE_BY_STATUS: Record<number, string> = { 400: 'BadRequestData', 404: 'ResourceNotFound', 409: 'AlreadyExists', 422: 'OperationNotSupported', 500: 'InternalError' };

const TITLES: Record<string, string> = {
  InvalidRequest: 'The request associated to the operation is syntactically invalid or includes wrong content',
  BadRequestData: 'The request includes input data which does not meet the requirements of the operation',
  AlreadyExists: 'The referred element already exists',
  OperationNotSupported: 'The operation is not supported',
  ResourceNotFound: 'The referred resource has not been found',
  InternalError: 'There has been an error during the operation execution',
  AccessDenied: 'The request tried to access an unauthorized resource',
  UnsupportedMediaType: 'The request body is not in a media type the broker accepts',
  NotAcceptable: 'The broker cannot answer in any of the media types the request accepts',
};

/**
 * How an error is written under /ngsi-ld/: the NGSI-LD problem type and title. Codes
 * of other modules fall back by status (a 400 is BadRequestData, a 404
 * ResourceNotFound); those with no NGSI-LD counterpart (429, 503) keep Weft's type.
 */
export function ngsiProblem(err: AppError): { type: string; title: string } | undefined {
  const name = TYPE_BY_CODE[err.code] ?? TYPE_BY_STATUS[err.status];
  return name ? { type: `${NGSI_ERRORS}${name}`, title: TITLES[name] } : undefined;
}
