import { definePermissions } from '../../platform/auth/roles.js';
import { consoleNav } from '../../platform/web/web.js';

definePermissions({
  'requests:read': { description: 'See service requests, their history, the queues and the map (reporters’ details need requests:manage)', roles: ['officer', 'service', 'comms', 'viewer'] },
  'requests:manage': {
    description: 'Acknowledge, progress, close and merge service requests, write public updates and internal notes, and record requests for residents',
    roles: ['officer', 'service'],
  },
  'requests:configure': { description: 'Set up request categories (Open311 services), their questions, targets and routing to teams', roles: [] },
  'open311:submit': { description: 'Submit service requests and updates through Open311 (held by API keys of systems such as FixMyStreet, not by staff)', roles: [] },
});

consoleNav.push({ href: '/console/requests', text: 'Requests', permission: 'requests:read' });

export { OPEN311_PREFIX } from './open311.routes.js';
export type { Attribute, CategoryCreate, CategoryView, PhotoUpload, PublicRequestView, RequestCreate, RequestStatus, RequestView, TeamView, UpdateView } from './requests.schema.js';
export { PHOTO_MAX_BYTES, PHOTO_PATH, STATUS_TAGS } from './requests.schema.js';
export { requestsRoutes } from './requests.routes.js';
export { checkAnswers, checkPhoto, RequestsService, TELL_REPORTER_JOB } from './requests.service.js';
export { answersFrom, type QuestionField, questionErrors, questionField, questionFields } from './questions.js';
