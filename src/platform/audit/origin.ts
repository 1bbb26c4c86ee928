import type { FastifyRequest } from 'fastify';

/** Where a staff action came from, as the audit log records it. */
export interface Origin {
  ip?: string;
  requestId?: string;
}

/** A request's origin: the client's address and the request id. */
export const originOf = (request: FastifyRequest): Origin => ({ ip: request.ip, requestId: request.id });
