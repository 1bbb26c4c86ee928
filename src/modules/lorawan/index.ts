export { lorawanRoutes } from './lorawan.routes.js';
