import { defineErrors } from '../../platform/errors.js';

export const requestsErrors = defineErrors('requests', {
  REQUEST_NOT_FOUND: { status: 404, message: 'There is no service request with that id or reference.' },
  CATEGORY_NOT_FOUND: { status: 404, message: 'There is no category (service) with that code.' },
  CATEGORY_DISABLED: { status: 400, message: 'That category is not taking reports. Choose another.' },
  CATEGORY_CODE_TAKEN: { status: 409, message: 'A category with that code already exists.' },
  TEAM_NOT_FOUND: { status: 400, message: 'There is no team with that id.' },
  TEAM_NAME_TAKEN: { status: 409, message: 'A team with that name already exists.' },
  ROUTE_AREA_NOT_FOUND: { status: 400, message: 'A routing rule names an area that does not exist.' },
  ATTRIBUTES_INVALID: { status: 400, message: 'The answers to the category’s questions are not valid. Check the fields named in "errors".' },
  LOCATION_REQUIRED: { status: 400, message: 'Give a location: a latitude and longitude, or an address.' },
  TRANSITION_INVALID: { status: 409, message: 'The request cannot move to that status from the one it is in.' },
  MESSAGE_REQUIRED: { status: 400, message: 'Write a message: a public update or an internal note.' },
  MERGE_INVALID: { status: 409, message: 'A request can only be merged into another open request that is not itself a duplicate.' },
  GEOREPORT_BAD_FORMAT: { status: 404, message: 'Ask for .json or .xml.' },
  GEOREPORT_JURISDICTION_NOT_FOUND: { status: 404, message: 'The jurisdiction_id was not found: leave it out, or give this council’s.' },
  GEOREPORT_BAD_REQUEST: { status: 400, message: 'The request is not valid.' },
  GEOREPORT_API_KEY_INVALID: { status: 403, message: 'Invalid api_key received -- can’t proceed.' },
  GEOREPORT_TOKEN_NOT_FOUND: { status: 404, message: 'There is no request with that token.' },
});
