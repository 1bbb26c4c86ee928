export { telemetryRoutes } from './telemetry.routes.js';
export { TelemetryService } from './telemetry.service.js';
