import { consoleNav } from '../../platform/web/web.js';

export { lorawanRoutes } from './lorawan.routes.js';
export { INTEGRATION_TOKEN_PREFIX, LorawanService } from './lorawan.service.js';

consoleNav.push({ href: '/console/lorawan', text: 'LoRaWAN', permission: 'estate:manage' });
