import type { StaffRole } from '../src/platform/auth/roles.js';
import { systemActor } from '../src/platform/auth/actor.js';
import type { Services } from '../src/services.js';

/**
 * Wealdmoor: a fictional English county for demonstrations and tests. Every name,
 * address and person here is invented.
 */
export const COUNTY = { name: 'Wealdmoor County Council', shortName: 'Wealdmoor' };

export const DEMO_PASSWORD = 'Wealdmoor-demo-2026';

export const DEMO_STAFF: { email: string; name: string; roles: StaffRole[] }[] = [
  { email: 'admin@wealdmoor.example', name: 'Amara Okafor', roles: ['admin'] },
  { email: 'officer@wealdmoor.example', name: 'Tom Pennington', roles: ['officer'] },
  { email: 'service@wealdmoor.example', name: 'Grace Liddell', roles: ['service'] },
  { email: 'care@wealdmoor.example', name: 'Rhys Morgan', roles: ['care'] },
  { email: 'comms@wealdmoor.example', name: 'Priya Shah', roles: ['comms'] },
  { email: 'viewer@wealdmoor.example', name: 'Ellen Fairweather', roles: ['viewer'] },
];

/** Loads the county into an empty, migrated database. */
export async function loadCounty(services: Services): Promise<void> {
  const actor = systemActor('weft demo');
  await services.organisation.create(COUNTY.name, COUNTY.shortName);
  for (const person of DEMO_STAFF) {
    await services.staff.createUser(actor, { ...person, password: DEMO_PASSWORD });
  }
}
