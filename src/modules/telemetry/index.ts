import { definePermissions } from '../../platform/auth/roles.js';
import { consoleNav } from '../../platform/web/web.js';

definePermissions({
  'telemetry:read': { description: 'See readings, aggregates, live data and quarantined readings (homes’ readings also need homes:read)', roles: ['officer', 'service', 'care', 'comms', 'viewer'] },
  'telemetry:ingest': { description: 'Send readings for devices (devices, integrations and API keys; no staff role)', roles: [] },
});

consoleNav.push({ href: '/console/telemetry', text: 'Telemetry', permission: 'telemetry:read' });

export { readingsFromBody, TelemetryService } from './telemetry.service.js';
export type { IngestResult, IngestSource, ReadingEvent, ReadingInput } from './telemetry.service.js';
export { telemetryRoutes } from './telemetry.routes.js';
export { BUILTIN_DECODERS } from './decoders.js';
