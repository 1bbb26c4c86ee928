import type { FastifyInstance } from 'fastify';
import { ProblemResponses } from '../../platform/web/openapi.js';
import { CarParkList } from './rules.schema.js';
import type { RulesService } from './rules.service.js';

/** Car park availability for other systems (signs, apps, open data): the same figures as /console/car-parks. */
export function carParksApi(rules: RulesService) {
  return async (app: FastifyInstance) => {
    app.get(
      '/api/v1/car-parks',
      {
        config: { permission: 'rules:read' },
        schema: {
          tags: ['rules'],
          summary: 'Every car park with its bays, occupied, free and percentage free, from the bay sensors’ latest readings',
          response: { 200: CarParkList, ...ProblemResponses },
        },
      },
      async () => ({
        items: (await rules.carParks()).map((c) => ({ ...c, updatedAt: c.updatedAt?.toISOString() ?? null })),
      }),
    );
  };
}
