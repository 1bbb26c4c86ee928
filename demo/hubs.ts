import type { Actor } from '../src/platform/auth/actor.js';
import { addDays, londonDay } from '../src/platform/dates.js';
import { isoWeekday } from '../src/modules/workforce/hours.js';
import { londonInstant } from '../src/platform/dates.js';
import type { Services } from '../src/services.js';
import { Random } from './random.js';

/** Desks in each of the county's 12 hubs: 300 in all. */
export const HUB_DESKS = [40, 35, 30, 30, 25, 25, 25, 20, 20, 20, 15, 15];
/** Staff who book hub desks in the demo (besides the demo's own accounts). */
export const HUB_PEOPLE = 40;
const EQUIPMENT = [['two screens', 'USB-C dock'], ['one screen', 'USB-C dock'], ['two screens'], ['laptop stand']];

export interface LoadedHubs {
  hubs: number;
  desks: number;
  rooms: number;
  bookings: number;
}

/**
 * Wealdmoor's hybrid-working hubs: 12 of its libraries and council buildings, 300 desks and some
 * quiet and meeting rooms, and a month of bookings by 40 staff (two weeks past, with check-ins,
 * check-outs and no-shows; two weeks to come), each made through the service as it was on its day,
 * so every rule holds. The same on every run for a given seed and day.
 */
export async function loadHubs(services: Services, actor: Actor, seed: string, today = londonDay(new Date())): Promise<LoadedHubs> {
  const rnd = new Random(`${seed}:hubs`);
  const ws = services.workforce;
  const libraries = await services.estate.listSites({ type: 'library', limit: 1000 });
  const buildings = await services.estate.listSites({ type: 'council_building', limit: 1000 });
  const sites = [...libraries.filter((s) => s.tags.includes('town-library')).slice(0, 7), ...buildings.filter((s) => s.name !== 'County Hall').slice(0, 5)];
  if (sites.length < HUB_DESKS.length) sites.push(...libraries.filter((s) => !sites.includes(s)).slice(0, HUB_DESKS.length - sites.length));
  const manager = { ...actor, permissions: new Set(['hubs:manage', 'hubs:book']) };
  let rooms = 0;
  const desksByHub: string[][] = [];
  for (const [i, site] of sites.slice(0, HUB_DESKS.length).entries()) {
    const library = site.type === 'library';
    const hub = await ws.createHub(manager, {
      siteId: site.id,
      opens: library ? '09:00' : '08:00',
      closes: library ? '17:30' : '18:00',
      openDays: library ? [1, 2, 3, 4, 5, 6] : [1, 2, 3, 4, 5],
      graceMinutes: i % 4 === 0 ? 45 : 30,
      notes: library ? 'Sign in at the library counter; the hub is upstairs.' : 'Show your council pass at reception.',
    });
    const desks: string[] = [];
    for (let d = 1; d <= HUB_DESKS[i]; d++) {
      const space = await ws.addSpace(manager, hub.id, {
        name: `Desk ${d}`,
        kind: 'desk',
        equipment: rnd.pick(EQUIPMENT),
        accessibility: d <= 2 ? 'Step-free, height-adjustable desk' : null,
      });
      desks.push(space.id);
    }
    await ws.addSpace(manager, hub.id, { name: 'Quiet room', kind: 'quiet_room', equipment: ['phone booth'], accessibility: 'Step-free' });
    rooms++;
    if (HUB_DESKS[i] >= 25) {
      await ws.addSpace(manager, hub.id, { name: 'Meeting room', kind: 'meeting_room', capacity: 8, equipment: ['video conferencing', 'screen'], accessibility: 'Step-free, hearing loop' });
      rooms++;
    }
    desksByHub.push(desks);
  }

  const people: string[] = [];
  for (let p = 0; p < HUB_PEOPLE; p++) {
    const user = await services.staff.createUser(actor, {
      email: `hub-user-${p + 1}@wealdmoor.example`,
      name: `Hub User ${p + 1}`,
      roles: [rnd.pick(['service', 'comms', 'officer', 'care'] as const)],
      password: `Moorland-desk-${rnd.int(100000, 999999)}-${p}`,
    });
    people.push(user.id);
  }
  // Each person has a usual hub near home and works there two or three days a week.
  const usual = people.map(() => rnd.int(0, HUB_DESKS.length - 1));
  const hubs = await ws.listHubs();
  const bySite = new Map(hubs.map((h) => [h.siteId, h]));
  const ordered = sites.slice(0, HUB_DESKS.length).map((s) => bySite.get(s.id));
  let bookings = 0;
  for (let offset = -14; offset <= 16; offset++) {
    const day = addDays(today, offset);
    for (const [p, userId] of people.entries()) {
      if (!rnd.chance(0.5)) continue;
      const hub = ordered[usual[p]];
      if (!hub?.openDays.includes(isoWeekday(day))) continue;
      const desk = desksByHub[usual[p]][rnd.int(0, desksByHub[usual[p]].length - 1)];
      const at = (minutes: number) => new Date(londonInstant(day, minutes).getTime() + rnd.int(0, 20) * 60_000);
      const opens = Number(hub.opens.slice(0, 2)) * 60 + Number(hub.opens.slice(3));
      const half = rnd.chance(0.25) ? (rnd.chance(0.5) ? { start: hub.opens, end: '13:00' } : { start: '13:00', end: hub.closes }) : {};
      // Made as it would have been: the evening before.
      const madeAt = offset <= 0 ? new Date(londonInstant(addDays(day, -1), 18 * 60).getTime()) : new Date();
      try {
        const b = await ws.book({ ...manager, label: 'weft demo' }, { spaceId: desk, day, userId, ...half }, {}, madeAt);
        bookings++;
        if (offset >= 0) continue;
        const person = { type: 'user' as const, id: userId, label: `hub-user-${p + 1}@wealdmoor.example`, permissions: new Set(['hubs:book']), roles: [] };
        const start = half.start === '13:00' ? 13 * 60 : opens;
        if (rnd.chance(0.12)) continue; // a no-show: released by the job below
        if (rnd.chance(0.05)) {
          await ws.cancel(person, b.id, { reason: 'Working from home' }, {}, at(start - 60));
          continue;
        }
        await ws.checkIn(person, b.id, {}, at(start - 5));
        if (rnd.chance(0.7)) await ws.checkOut(person, b.id, {}, at(start + 3 * 60));
      } catch (err) {
        // Two people drew the same desk: the second books nothing, as in life.
        if ((err as { code?: string }).code !== 'HUB_SPACE_TAKEN') throw err;
      }
    }
  }
  await ws.releaseNoShows(londonInstant(today, 0));
  return { hubs: ordered.length, desks: HUB_DESKS.reduce((a, b) => a + b, 0), rooms, bookings };
}
