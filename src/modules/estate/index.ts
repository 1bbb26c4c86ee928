import { definePermissions } from '../../platform/auth/roles.js';
import { consoleNav } from '../../platform/web/web.js';

definePermissions({
  'estate:read': { description: 'See sites, areas, connectivity, device profiles and devices (not residents’ homes)', roles: ['officer', 'service', 'care', 'comms', 'viewer'] },
  'estate:manage': { description: 'Create, change, import and decommission sites, areas, profiles and devices, and issue device credentials', roles: ['officer'] },
  'homes:read': { description: 'See residents’ homes (telecare) and their devices and readings', roles: ['care'] },
  'homes:manage': { description: 'Register, change and remove residents’ homes (telecare) and their devices', roles: ['care'] },
});

consoleNav.push({ href: '/console/estate', text: 'Estate', permission: 'estate:read' });

export { estateRoutes } from './estate.routes.js';
export type {
  AreaView,
  DeviceAuth,
  DeviceCredentials,
  DeviceStatus,
  DeviceView,
  EstateFilter,
  MetricSpec,
  DecoderSpec,
  PostcodeImport,
  PostcodeView,
  Profile,
  SiteType,
  SiteView,
} from './estate.schema.js';
export { DEVICE_TOKEN_PREFIX, EstateService } from './estate.service.js';
