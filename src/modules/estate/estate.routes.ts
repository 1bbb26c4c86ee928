import type { FastifyInstance } from 'fastify';
import type { EstateService } from './estate.service.js';

export function estateRoutes(_deps: { estate: EstateService }) {
  return async (_app: FastifyInstance) => {};
}
