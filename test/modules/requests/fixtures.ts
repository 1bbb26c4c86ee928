import type { TestApp } from '../../app-helpers.js';
import { square } from '../../geo-fixtures.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import type { CategoryView, TeamView } from '../../../src/modules/requests/index.js';

export const system = systemActor('test');

/** A point in each ward: Castle Ward is west of -1.2, Meadow Ward east of it. */
export const IN_CASTLE = { lat: 51.75, lon: -1.25 };
export const IN_MEADOW = { lat: 51.75, lon: -1.15 };
export const NOWHERE = { lat: 52.5, lon: -2.5 };

export interface Catalogue {
  castle: string;
  meadow: string;
  highways: TeamView;
  contractor: TeamView;
  cleansing: TeamView;
  potholes: CategoryView;
  flyTipping: CategoryView;
}

/**
 * Two wards, three teams, and two categories: potholes (a required list question, 48 hours,
 * Highways by default and the Meadow contractor in Meadow Ward) and fly-tipping (120 hours, Cleansing).
 */
export async function catalogue(t: TestApp): Promise<Catalogue> {
  await t.services.estate.importAreas(system, {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: { name: 'Castle Ward', code: 'W1' }, geometry: { type: 'Polygon', coordinates: square(-1.3, 51.7, -1.2, 51.8) } },
      { type: 'Feature', properties: { name: 'Meadow Ward', code: 'W2' }, geometry: { type: 'Polygon', coordinates: square(-1.2, 51.7, -1.1, 51.8) } },
    ],
  });
  const areas = await t.services.estate.listAreas();
  const castle = areas.find((a) => a.name === 'Castle Ward')?.id as string;
  const meadow = areas.find((a) => a.name === 'Meadow Ward')?.id as string;
  const r = t.services.requests;
  const highways = await r.createTeam(system, { name: 'Highways', email: 'highways@council.example' });
  const contractor = await r.createTeam(system, { name: 'Meadow contractor' });
  const cleansing = await r.createTeam(system, { name: 'Street cleansing' });
  const potholes = await r.createCategory(system, {
    code: 'potholes',
    name: 'Potholes',
    nameCy: 'Tyllau yn y ffordd',
    group: 'Roads',
    description: 'A hole in a road or pavement',
    keywords: ['hole', 'road'],
    targetHours: 48,
    attributes: [
      {
        code: 'depth',
        description: 'How deep is it?',
        datatype: 'singlevaluelist',
        required: true,
        values: [
          { key: 'shallow', name: 'Less than 5cm' },
          { key: 'deep', name: '5cm or more' },
        ],
      },
      { code: 'width', description: 'How wide, in centimetres?', datatype: 'number', required: false },
    ],
    defaultTeamId: highways.id,
    routes: [{ areaId: meadow, teamId: contractor.id }],
  });
  const flyTipping = await r.createCategory(system, { code: 'fly-tipping', name: 'Fly-tipping', group: 'Street cleaning', targetHours: 120, defaultTeamId: cleansing.id });
  return { castle, meadow, highways, contractor, cleansing, potholes, flyTipping };
}

export const pothole = (at = IN_CASTLE, extra: Record<string, unknown> = {}) => ({
  category: 'potholes',
  description: 'A deep hole outside the school',
  ...at,
  attributes: { depth: 'deep' },
  ...extra,
});
