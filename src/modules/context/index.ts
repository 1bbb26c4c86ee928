export { contextRoutes } from './context.routes.js';
