import type { FastifyInstance } from 'fastify';
import type { EstateService } from '../estate/index.js';
import type { TelemetryService } from './telemetry.service.js';

export function telemetryRoutes(_deps: { telemetry: TelemetryService; estate: EstateService }) {
  return async (_app: FastifyInstance) => {};
}
