import { definePermissions } from '../../platform/auth/roles.js';
import { consoleNav } from '../../platform/web/web.js';

definePermissions({
  'schools:read': { description: 'See school closures and how the telling of them goes', roles: ['comms', 'service', 'officer', 'viewer'] },
  'schools:close': { description: 'Close schools on a day, telling every resident subscribed to them at once', roles: ['comms', 'service'] },
});

consoleNav.push({ href: '/console/schools/closures', text: 'School closures', permission: 'schools:read' });

export type { ClosureInput, ClosureView } from './schools.schema.js';
export { schoolsPages } from './schools.pages.js';
export { schoolsRoutes } from './schools.routes.js';
export { ANNOUNCE_JOB, CLOSURE_SERVICE, CLOSURE_TEMPLATES, SchoolsService } from './schools.service.js';
