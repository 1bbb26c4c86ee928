import type { FastifyInstance } from 'fastify';
import { Value } from '@sinclair/typebox/value';
import { ProblemResponses } from '../web/openapi.js';
import { AuditPage, AuditSearchQuery } from './audit.schema.js';
import type { AuditEvent, AuditService } from './audit.service.js';

function toApi(e: AuditEvent) {
  return {
    id: e.id,
    occurredAt: e.occurred_at.toISOString(),
    actorType: e.actor_type,
    actorId: e.actor_id,
    actorLabel: e.actor_label,
    action: e.action,
    targetType: e.target_type,
    targetId: e.target_id,
    outcome: e.outcome,
    ip: e.ip,
    requestId: e.request_id,
    summary: e.summary,
    changes: e.changes_json,
  };
}

async function search(audit: AuditService, q: AuditSearchQuery) {
  const limit = q.limit ?? 50;
  const items = await audit.search({ ...q, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, limit });
  return { items, next: items.length === limit ? items[items.length - 1].id : null };
}

export function auditRoutes(deps: { audit: AuditService }) {
  return async (app: FastifyInstance) => {
    app.get(
      '/api/v1/audit',
      {
        config: { permission: 'audit:read' },
        schema: { tags: ['audit'], summary: 'Search the audit log, newest first', querystring: AuditSearchQuery, response: { 200: AuditPage, ...ProblemResponses } },
      },
      async (request) => {
        const page = await search(deps.audit, request.query as AuditSearchQuery);
        return { items: page.items.map(toApi), next: page.next };
      },
    );

    app.get('/console/audit', { config: { permission: 'audit:read', page: 'console' }, schema: { hide: true } }, async (request, reply) => {
      // The page filters by plain GET parameters so it works without JavaScript; empty fields are ignored.
      const raw = Object.fromEntries(Object.entries(request.query as Record<string, string>).filter(([, v]) => v !== ''));
      const valid = Value.Check(AuditSearchQuery, raw);
      const query = valid ? (raw as AuditSearchQuery) : {};
      const page = await search(deps.audit, { ...query, limit: 50 });
      const params = new URLSearchParams({ ...(raw as Record<string, string>), before: page.next ?? '' });
      return reply.page('platform/audit/views/audit.njk', {
        pageTitle: 'Audit log',
        query: raw,
        events: page.items,
        nextUrl: page.next ? `/console/audit?${params}` : null,
        invalid: !valid,
      });
    });
  };
}
