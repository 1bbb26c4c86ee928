import type { SiteView } from '../src/modules/estate/index.js';
import type { ResidentInput, ResidentView, SubscriptionInput } from '../src/modules/residents/index.js';
import type { Actor } from '../src/platform/auth/actor.js';
import type { Services } from '../src/services.js';
import { distanceKm, ENGLISH_STREETS, pointInWard, postcodeAt, WELSH_STREETS, wealdmoorGeography } from './geography.js';
import type { PostcodePlace } from './postcodes.js';
import { Random } from './random.js';

/**
 * Wealdmoor's messaging: four services with their templates (English and Welsh), a few hundred
 * fictional residents with mixed channels, languages and quiet hours, each with a home in their
 * town's ward and a few subscriptions (when the estate is loaded first), and some messages already
 * sent, so the development inbox and the dashboards have something in them. No provider is set
 * up: everything goes to the development inbox, and nothing leaves the machine.
 */
export interface LoadedMessaging {
  services: number;
  templates: number;
  residents: number;
  subscriptions: number;
  sent: number;
  /** a live key for the libraries service, for trying Notify's clients against the demo */
  librariesKey: string;
  librariesBookReadyTemplate: string;
  /** every resident's postcode and home, for the county's postcode list */
  postcodes: PostcodePlace[];
}

const FIRST = ['Amelia', 'Oliver', 'Isla', 'George', 'Ava', 'Noah', 'Mia', 'Arthur', 'Freya', 'Leo', 'Seren', 'Dylan', 'Cerys', 'Osian', 'Ffion', 'Rhys', 'Priya', 'Mohammed', 'Zara', 'Kofi'];
const LAST = ['Smith', 'Jones', 'Williams', 'Taylor', 'Brown', 'Davies', 'Evans', 'Wilson', 'Thomas', 'Roberts', 'Khan', 'Patel', 'Lewis', 'Hughes', 'Morgan', 'Griffiths', 'Edwards', 'Okafor'];
const TOPICS = ['library-reservations', 'bin-collections', 'school-closures', 'parking', 'air-quality'];

export const DEMO_RESIDENTS = 20_000;
const IMPORT_CHUNK = 1_000;

export async function loadMessaging(services: Services, actor: Actor, seed = 'wealdmoor', residentCount = DEMO_RESIDENTS): Promise<LoadedMessaging> {
  const m = services.messaging;
  const random = new Random(`${seed}:messaging`);
  const made = async (name: string, smsSender: string, emailFrom: string) =>
    m.createService(actor, { name, smsSender, emailFrom, emailReplyTo: emailFrom, teamMembers: ['comms@wealdmoor.example'], rateLimitPerMinute: 3000, dailyLimit: 250_000 });
  const libraries = await made('Wealdmoor Libraries', 'WMLIBRARY', 'libraries@wealdmoor.example');
  const parking = await made('Wealdmoor Parking', 'WMPARKING', 'parking@wealdmoor.example');
  const schools = await made('Wealdmoor Schools', 'WMSCHOOLS', 'schools@wealdmoor.example');
  const waste = await made('Wealdmoor Waste and Recycling', 'WMBINS', 'bins@wealdmoor.example');

  const tpl = async (serviceId: string, input: Parameters<typeof m.createTemplate>[2]) => (await m.createTemplate(actor, serviceId, input)).id;
  const bookReady = {
    sms: await tpl(libraries.id, {
      name: 'Book ready (text)',
      type: 'sms',
      body: 'Hello ((name)), ((title)) is ready to collect from ((library)) until ((date)).',
      bodyCy: 'Helo ((name)), mae ((title)) yn barod i’w gasglu o ((library)) tan ((date)).',
    }),
    email: await tpl(libraries.id, {
      name: 'Book ready (email)',
      type: 'email',
      subject: '((title)) is ready to collect',
      body: '# Your reservation is ready\n\nHello ((name)),\n\n((title)) is waiting for you at ((library)).\n\n^ Collect it by ((date)) or it goes to the next person.\n\nOpening times are on our website.',
      subjectCy: 'Mae ((title)) yn barod i’w gasglu',
      bodyCy: '# Mae eich archeb yn barod\n\nHelo ((name)),\n\nMae ((title)) yn aros amdanoch yn ((library)).\n\n^ Casglwch erbyn ((date)).',
    }),
    letter: await tpl(libraries.id, {
      name: 'Book ready (letter)',
      type: 'letter',
      subject: 'Your reservation is ready',
      body: 'Dear ((name)),\n\n((title)) is ready to collect from ((library)) until ((date)).',
    }),
  };
  const fine = {
    sms: await tpl(parking.id, {
      name: 'Penalty reminder (text)',
      type: 'sms',
      body: 'Penalty notice ((pcn)) for ((vrm)) is unpaid: £((amount)) by ((date)). Pay or challenge at wealdmoor.example/pcn',
    }),
    email: await tpl(parking.id, {
      name: 'Penalty reminder (email)',
      type: 'email',
      subject: 'Penalty notice ((pcn)) is unpaid',
      body: 'Dear ((name)),\n\nPenalty charge notice ((pcn)) for vehicle ((vrm)) is unpaid.\n\n* Amount: £((amount))\n* Pay by: ((date))\n\nYou can pay or challenge it at https://wealdmoor.example/pcn',
    }),
  };
  const closure = {
    sms: await tpl(schools.id, { name: 'School closed (text)', type: 'sms', body: '((school)) is closed today, ((date)): ((reason)). Check wealdmoor.example/schools for updates.' }),
    email: await tpl(schools.id, {
      name: 'School closed (email)',
      type: 'email',
      subject: '((school)) is closed today',
      body: '# ((school)) is closed today\n\n((reason)).\n\nWe will tell you when it reopens.',
    }),
    voice: await tpl(schools.id, {
      name: 'School closed (call)',
      type: 'voice',
      body: 'This is Wealdmoor County Council. ((school)) is closed today, ((date)), because of ((reason)).',
      menu: [
        { key: '1', label: 'hear this message again' },
        { key: '2', label: 'confirm you have heard it' },
      ],
    }),
  };
  await tpl(waste.id, { name: 'Collection moved (text)', type: 'sms', body: 'Your ((bin)) collection moves from ((old)) to ((new)) this week.' });
  await tpl(waste.id, { name: 'Collection moved (email)', type: 'email', subject: 'Your bin collection day has changed', body: 'Your ((bin)) collection moves from ((old)) to ((new)) this week.' });

  // Residents: mixed channels, some in Welsh, some with quiet hours, a home in their town's ward.
  const geo = wealdmoorGeography(seed);
  const homes = random.fork('homes');
  const places = await demoPlaces(services);
  const people: ResidentInput[] = [];
  for (let i = 0; i < residentCount; i++) {
    const town = random.weighted(geo.towns, (t) => t.weight);
    const home = pointInWard(homes, geo.wards.find((w) => w.town === town) ?? geo.wards[0], 1.5);
    const welsh = random.chance(town.welsh * 0.8);
    const name = `${random.pick(FIRST)} ${random.pick(LAST)}`;
    const street = random.pick(welsh ? WELSH_STREETS : ENGLISH_STREETS);
    // A real postcode area (Worcester's) so letters pass the address check; the postcodes are invented,
    // one to each 150 m square of a town, so neighbours share one and the postcode list can place them.
    const postcode = postcodeAt(town, home, 'WR');
    const channels = random.weighted(
      [
        { w: 4, c: ['email', 'sms', 'letter'] },
        { w: 3, c: ['sms', 'email', 'letter'] },
        { w: 1, c: ['voice', 'sms', 'letter'] },
        { w: 1, c: ['letter'] },
      ],
      (x) => x.w,
    ).c as ('email' | 'sms' | 'voice' | 'letter')[];
    people.push({
      name,
      email: channels.includes('email') || random.chance(0.5) ? `${name.toLowerCase().replace(/[^a-z]+/g, '.')}.${i}@example.com` : null,
      mobile: `07700 9${String(10000 + i).padStart(5, '0')}`,
      address: [name, `${1 + (i % 120)} ${street}`, town.name, postcode],
      language: welsh ? 'cy' : 'en',
      prefersVoice: channels[0] === 'voice',
      largePrint: random.chance(0.05),
      ...(random.chance(0.3) ? { quietFrom: '21:00', quietTo: '08:00' } : {}),
      preferences: { '*': channels, ...(random.chance(0.3) ? { [random.pick(TOPICS)]: ['sms'] } : {}) },
      postcode,
      location: home,
    });
  }
  // Added in thousands, each thousand one transaction (an import), then their subscriptions the same way.
  const residents: string[] = [];
  let subscriptions = 0;
  for (let i = 0; i < people.length; i += IMPORT_CHUNK) {
    const ids = await services.residents.importMany(actor, people.slice(i, i + IMPORT_CHUNK));
    residents.push(...ids);
    const wanted: { residentId: string; input: SubscriptionInput }[] = [];
    const views = new Map((await services.residents.getMany(ids)).map((r) => [r.id, r]));
    for (const id of ids) for (const input of demoSubscriptions(homes, views.get(id) as ResidentView, places)) wanted.push({ residentId: id, input });
    subscriptions += await services.residents.subscribeMany(actor, wanted);
  }

  // Some messages already on their way, through the same paths as any other.
  const key = (serviceId: string, keyType: 'normal' | 'test') => ({ ...actor, type: 'service' as const, serviceId, keyType, id: null });
  let sent = 0;
  const titles = ['The Mabinogion', 'Middlemarch', 'Wolf Hall', 'The Remains of the Day', 'Small Island', 'How Green Was My Valley'];
  // A resident who only takes letters cannot be sent a message with no letter template: skipped, as the API would refuse it.
  const send = (...args: Parameters<typeof services.residentSending.send>) =>
    services.residentSending.send(...args).then(
      () => 1,
      () => 0,
    );
  for (const residentId of residents.slice(0, 60)) {
    sent += await send(key(libraries.id, 'normal'), {
      residentId,
      templates: bookReady,
      topic: 'library-reservations',
      personalisation: { name: 'reader', title: random.pick(titles), library: 'Northtown Library', date: 'Saturday' },
      reference: `reservation-${sent}`,
    });
  }
  for (const residentId of residents.slice(60, 100)) {
    sent += await send(key(schools.id, 'normal'), {
      residentId,
      templates: closure,
      topic: 'school-closures',
      personalisation: { school: 'Eastbrook Primary School', date: 'Monday 7 December', reason: 'a burst water main' },
      urgent: true,
    });
  }
  const csv = [
    'phone number,name,pcn,vrm,amount,date',
    ...Array.from({ length: 200 }, (_, i) => `07700 9${String(20000 + i).padStart(5, '0')},Driver ${i},WM${String(400000 + i)},WM${10 + (i % 80)} ABC,70,18 December`),
  ].join('\n');
  const campaign = await services.campaigns.create(actor, parking.id, { templateId: fine.sms, name: 'Unpaid penalty notices, December', csv, ratePerMinute: 600 });
  await services.campaigns.start(actor, campaign.id);
  sent += 200;

  const { apiKey } = await m.createKey(actor, libraries.id, { name: 'demo library system', keyType: 'normal' });
  return {
    services: 4,
    templates: 10,
    residents: residents.length,
    subscriptions,
    sent,
    librariesKey: apiKey,
    librariesBookReadyTemplate: bookReady.sms,
    postcodes: people.map((p) => ({ postcode: p.postcode as string, ...(p.location as { lat: number; lon: number }) })),
  };
}

interface DemoPlaces {
  wards: string[];
  schools: SiteView[];
  libraries: SiteView[];
}

/** The estate's wards, schools and libraries, if the estate is loaded (none when it is not). */
async function demoPlaces(services: Services): Promise<DemoPlaces> {
  const [areas, schools, libraries] = await Promise.all([
    services.residents.areas(),
    services.estate.listSites({ type: 'school', limit: 1000 }),
    services.estate.listSites({ type: 'library', limit: 1000 }),
  ]);
  return { wards: areas.map((a) => a.id), schools, libraries };
}

/**
 * A few subscriptions for a demo resident: bin collections where they live, closures at the
 * nearest school or reservations at the nearest library, air quality in a ward, roadworks near home.
 */
function demoSubscriptions(rng: Random, resident: ResidentView, places: DemoPlaces): SubscriptionInput[] {
  const home = resident.location as { lat: number; lon: number };
  const nearest = (sites: SiteView[]) => {
    let best: SiteView | undefined;
    for (const s of sites) if (s.lat !== null && s.lon !== null && (!best || distanceKm(home, { lat: s.lat, lon: s.lon }) < distanceKm(home, best as { lat: number; lon: number }))) best = s;
    return best;
  };
  const wanted: SubscriptionInput[] = [];
  // Without the estate there are no wards, schools or libraries: only a radius can be followed.
  if (resident.areaId) wanted.push({ topic: 'bin-collections', kind: 'home' });
  const school = rng.chance(0.5) ? nearest(places.schools) : undefined;
  if (school) wanted.push({ topic: 'school-closures', kind: 'site', siteId: school.id });
  const library = rng.chance(0.3) ? nearest(places.libraries) : undefined;
  if (library) wanted.push({ topic: 'library-reservations', kind: 'site', siteId: library.id });
  if (places.wards.length && rng.chance(0.4)) wanted.push({ topic: 'air-quality', kind: 'area', areaId: rng.pick(places.wards) });
  if (rng.chance(0.3)) wanted.push({ topic: 'roadworks', kind: 'radius', radiusMetres: rng.pick([500, 1000, 2000, 5000]) });
  return wanted;
}
