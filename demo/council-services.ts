import type { Actor } from '../src/platform/auth/actor.js';
import { addDays, londonDay } from '../src/platform/dates.js';
import type { Services } from '../src/services.js';

export interface LoadedCouncilServices {
  rounds: number;
  libraryCards: number;
  reservations: number;
  closures: number;
}

const TITLES = ['The Mabinogion', 'Middlemarch', 'Wolf Hall', 'Small Island', 'How Green Was My Valley', 'Persuasion', 'The Secret Garden'];

/**
 * The council's services that talk to residents, on top of the demo's residents: bin rounds for
 * every ward (refuse weekly, recycling fortnightly, Christmas Day moved), library cards with a
 * few reservations ready, and a school closed today. Everything goes through the modules' own
 * services, so the messages land in the development inbox like any other.
 */
export async function loadCouncilServices(services: Services, actor: Actor): Promise<LoadedCouncilServices> {
  const today = londonDay(new Date());
  const wards = (await services.estate.listAreas()).filter((a) => a.kind === 'ward');
  let rounds = 0;
  for (const [i, ward] of wards.entries()) {
    const first = addDays(today, (i % 5) + 1);
    await services.waste.createRound(actor, {
      name: `${ward.name} refuse`,
      bin: 'General waste (black bin)',
      binCy: 'Gwastraff cyffredinol (bin du)',
      areaIds: [ward.id],
      firstDay: first,
      everyWeeks: 1,
    });
    const recycling = await services.waste.createRound(actor, {
      name: `${ward.name} recycling`,
      bin: 'Recycling (blue bin)',
      binCy: 'Ailgylchu (bin glas)',
      areaIds: [ward.id],
      firstDay: first,
      everyWeeks: 2,
    });
    rounds += 2;
    // Christmas Day: a round due then comes on the Saturday after.
    for (const c of await services.waste.upcoming(recycling.id, today, 8))
      if (c.day.endsWith('-12-25')) await services.waste.moveCollection(actor, recycling.id, { usualDay: c.usualDay, movedTo: addDays(c.usualDay, 1), reason: 'Christmas Day' });
  }

  // Library cards for the first residents, and reservations ready for some of them.
  const residents = await services.residents.search(actor, undefined, 40);
  let reservations = 0;
  for (const [i, r] of residents.entries()) {
    const card = `WL${String(100000 + i)}`;
    await services.libraries.linkCard(actor, r.id, card);
    if (i % 4 !== 0) continue;
    const sent = await services.libraries
      .reservationReady(actor, { eventId: `demo-reservation-${i}`, cardNumber: card, title: TITLES[i % TITLES.length], branch: 'Northtown Library', collectBy: addDays(today, 7) })
      .then(
        () => 1,
        () => 0,
      );
    reservations += sent;
  }

  // A school closed today: its subscribers are told when the worker runs the announcement.
  const schools = await services.estate.listSites({ type: 'school', limit: 2 });
  let closures = 0;
  if (schools.length) {
    await services.schools.close(actor, { siteIds: schools.map((s) => s.id), closedOn: today, reason: 'a burst water main', reasonCy: 'prif bibell ddŵr wedi byrstio' });
    closures = 1;
  }
  return { rounds, libraryCards: residents.length, reservations, closures };
}
