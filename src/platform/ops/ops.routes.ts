import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, register as moduleMetrics } from 'prom-client';
import type { Db } from '../db/database.js';
import { migrationsCurrent } from '../db/migrator.js';
import { platformErrors } from '../errors.js';

export interface OpsDeps {
  db: Db;
  /** jobs by status, for the queue-depth gauge */
  queueDepth: () => Promise<Record<string, number>>;
}

/** Health, readiness and Prometheus metrics. */
export function opsRoutes(deps: OpsDeps) {
  return async (app: FastifyInstance) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'weft_' });
    const requests = new Counter({ name: 'weft_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
    const latency = new Histogram({
      name: 'weft_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    new Gauge({
      name: 'weft_jobs',
      help: 'Jobs in the durable queue by status',
      labelNames: ['status'],
      registers: [registry],
      async collect() {
        const depth = await deps.queueDepth();
        for (const status of ['pending', 'running', 'done', 'dead']) this.set({ status }, depth[status] ?? 0);
      },
    });

    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      requests.inc({ method: request.method, route, status: reply.statusCode });
      latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });

    app.get('/healthz', { config: { public: true }, schema: { tags: ['operations'], summary: 'Liveness: the process is up' } }, async () => ({ status: 'ok' }));

    app.get('/readyz', { config: { public: true }, schema: { tags: ['operations'], summary: 'Readiness: the database answers and its migrations are current' } }, async () => {
      try {
        await deps.db.ping();
      } catch {
        throw platformErrors.UNAVAILABLE('The database is not reachable.');
      }
      if (!(await migrationsCurrent(deps.db))) throw platformErrors.UNAVAILABLE('The database needs migrating: run weft migrate up.');
      return { status: 'ready' };
    });

    app.get('/metrics', { config: { permission: 'metrics:read' }, schema: { tags: ['operations'], summary: 'Prometheus metrics (needs an API key with metrics:read)' } }, async (_request, reply) => {
      // Modules count their own things on prom-client's default registry (e.g. weft_telemetry_readings_total).
      return reply.type(registry.contentType).send(`${await registry.metrics()}\n${await moduleMetrics.metrics()}`);
    });
  };
}
