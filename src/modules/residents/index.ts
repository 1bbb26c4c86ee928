import { definePermissions } from '../../platform/auth/roles.js';
import { consoleNav } from '../../platform/web/web.js';

definePermissions({
  'residents:read': { description: 'Find residents and see their contact details and preferences (each look is audited)', roles: ['service', 'comms', 'care'] },
  'residents:manage': { description: 'Add residents on their behalf and change their details and preferences', roles: ['service', 'comms', 'care'] },
});

consoleNav.push({ href: '/console/residents', text: 'Residents', permission: 'residents:read' });

export { residentsPages } from './residents.pages.js';
export { residentsRoutes } from './residents.routes.js';
export type { ContactChannel, ResidentInput, ResidentView } from './residents.schema.js';
export { DEFAULT_CHANNELS, quietUntil, ResidentsService } from './residents.service.js';
