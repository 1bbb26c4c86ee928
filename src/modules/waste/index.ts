import { definePermissions } from '../../platform/auth/roles.js';

definePermissions({
  'waste:read': { description: 'See bin collection rounds, moved days and what is collected when', roles: ['officer', 'service', 'comms', 'viewer'] },
  'waste:manage': { description: 'Add and change collection rounds and move collection days for bank holidays', roles: ['service'] },
});

export type { ChangeInput, Collection, RoundInput, RoundView } from './waste.schema.js';
export { wasteRoutes } from './waste.routes.js';
export { REMINDER_TEMPLATES, REMINDERS_JOB, WASTE_SERVICE, WasteService } from './waste.service.js';
