import { definePermissions } from '../../platform/auth/roles.js';
import { consoleNav } from '../../platform/web/web.js';

definePermissions({
  'parking:manage': { description: 'Upload penalty charge notices to send with pay links, and follow what was paid', roles: ['service'] },
});

consoleNav.push({ href: '/console/parking', text: 'Parking fines', permission: 'parking:manage' });

export type { BatchSummary, BatchView, NoticeView, ParkingSetup } from './parking.schema.js';
export { parkingPages } from './parking.pages.js';
export { parkingRoutes } from './parking.routes.js';
export { NOTICE_TEMPLATES, PARKING_SERVICE, ParkingService, SEND_JOB } from './parking.service.js';
