export { estateRoutes } from './estate.routes.js';
export type { DeviceAuth, MetricSpec, Profile, SiteType } from './estate.schema.js';
export { EstateService } from './estate.service.js';
