import type { FastifyInstance } from 'fastify';
import type { EstateService } from '../estate/index.js';
import type { TelemetryService } from '../telemetry/index.js';

export function lorawanRoutes(_deps: { estate: EstateService; telemetry: TelemetryService }) {
  return async (_app: FastifyInstance) => {};
}
