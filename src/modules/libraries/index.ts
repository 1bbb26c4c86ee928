import { definePermissions } from '../../platform/auth/roles.js';

definePermissions({
  'libraries:events': { description: 'Post events from the library system (a reservation ready to collect): held by the library system’s API key', roles: [] },
});

export { librariesRoutes } from './libraries.routes.js';
export type { EventResult, ReservationReady } from './libraries.schema.js';
export { LIBRARY_SERVICE, LibrariesService, normaliseCard, RESERVATION_TEMPLATES } from './libraries.service.js';
