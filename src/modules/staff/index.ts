import { consoleNav } from '../../platform/web/web.js';

export { staffRoutes } from './staff.routes.js';
export { StaffService } from './staff.service.js';

consoleNav.push({ href: '/console/users', text: 'Staff', permission: 'users:manage' }, { href: '/console/keys', text: 'API keys', permission: 'keys:manage' });
