import { definePermissions } from '../../platform/auth/roles.js';
import { consoleNav } from '../../platform/web/web.js';

definePermissions({
  'hubs:read': { description: 'See hybrid-working hubs, their spaces, availability, closures and occupancy', roles: ['officer', 'service', 'care', 'comms', 'viewer'] },
  'hubs:book': { description: 'Book desks and rooms in hubs for yourself, check in and out, and cancel', roles: ['officer', 'service', 'care', 'comms'] },
  'hubs:manage': { description: 'Set up hubs and their spaces, close hubs (cancelling bookings), and book or cancel for others', roles: ['officer'] },
});

consoleNav.push({ href: '/console/hubs', text: 'Hubs', permission: 'hubs:read' });

export type { Availability, BookingView, ClosureView, HubView, OccupancyDay, SpaceView } from './workforce.schema.js';
export { workforcePages } from './workforce.pages.js';
export { workforceRoutes } from './workforce.routes.js';
export { CLOSURE_JOB, HUB_CLOSED_TEMPLATE, HUB_SITE_TYPES, HUBS_SERVICE, RELEASE_JOB, WorkforceService } from './workforce.service.js';
