import type { FastifyInstance } from 'fastify';
import type { EstateService } from '../estate/index.js';
import type { TelemetryService } from '../telemetry/index.js';

export function contextRoutes(_deps: { estate: EstateService; telemetry: TelemetryService }) {
  return async (_app: FastifyInstance) => {};
}
