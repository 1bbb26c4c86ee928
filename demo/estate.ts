import type { Actor } from '../src/platform/auth/actor.js';
import { toCsv } from '../src/platform/csv.js';
import { DEVICE_COLUMNS, SITE_COLUMNS, siteImportRow } from '../src/modules/estate/imports.js';
import { newId } from '../src/platform/ids.js';
import { addressIn, type Geography, offsetMetres, pointInWard, postcodeIn, streetIn, type Town, type Ward, wardsGeoJson, wealdmoorGeography } from './geography.js';
import type { PostcodePlace } from './postcodes.js';
import { Random } from './random.js';
import type { SimDevice } from './simulator.js';

/**
 * Wealdmoor's estate: schools, council buildings, NHS sites, libraries, parks, car
 * parks with sensed bays, street hubs with air-quality monitors and telecare homes,
 * with connectivity in mixed rollout states, and the devices in them. Built from a
 * seed, so every run makes the same county (only the ids and credentials differ).
 */

export type ConnectivityPlan = {
  technology: 'full_fibre' | 'fttc' | 'copper' | '4g' | '5g' | 'satellite' | 'none';
  status: 'planned' | 'ordered' | 'installed' | 'live' | 'fault';
  downMbps?: number | null;
  upMbps?: number | null;
  provider?: string | null;
  circuitRef?: string | null;
  plannedAt?: string | null;
  orderedAt?: string | null;
  installedAt?: string | null;
  liveAt?: string | null;
};

export interface SitePlan {
  id: string;
  type: 'school' | 'library' | 'council_building' | 'nhs_site' | 'care_home' | 'park' | 'car_park' | 'street_hub' | 'home';
  name: string;
  address: string;
  postcode: string;
  uprn?: string | null;
  lat: number;
  lon: number;
  tags: string[];
  ownerTeam: string;
  connectivity: ConnectivityPlan | null;
  /** the ward it was placed in (for tests: the estate must place it in the same area) */
  wardCode: string;
}

export interface DevicePlan {
  id: string;
  name: string;
  serial: string;
  profile: string;
  siteId: string;
  externalId?: string | null;
  lat?: number | null;
  lon?: number | null;
  firmware: string;
  /** how the simulator drives it */
  sim: Pick<SimDevice, 'transport' | 'group' | 'scale' | 'pattern'>;
}

export interface EstatePlan {
  sites: SitePlan[];
  devices: DevicePlan[];
}

/** What the issue asks for; the plan makes exactly these. */
export const ESTATE_COUNTS = {
  school: 300,
  council_building: 290,
  nhs_site: 150,
  library: 40,
  park: 60,
  car_park: 20,
  street_hub: 30,
  home: 200,
  bays: 1500,
} as const;

const SAINTS = ['Mary', 'Anne', 'Michael', 'Peter', 'John', 'Andrew', 'Luke', 'Giles', 'Lawrence', 'Edward', 'Chad', 'David', 'Teilo', 'Oswald', 'Milburga', 'Laurence', 'Bartholomew', 'Margaret'];
const FEATURES = [
  'Meadow',
  'Brook',
  'Orchard',
  'Castle',
  'Abbey',
  'Mill',
  'Hillside',
  'Riverside',
  'Oakfield',
  'Beech',
  'Willow',
  'Greenfields',
  'Heath',
  'Moor',
  'Priory',
  'Ridgeway',
  'Fairfield',
  'Lark Rise',
  'Cherry Tree',
  'Kingsmead',
];
const NEIGHBOURHOODS = [
  'Northgate',
  'Southgate',
  'Eastgate',
  'Westfields',
  'Castle Green',
  'Upper Town',
  'Bridge End',
  'Church Hill',
  'Market',
  'Mill Green',
  'Townsend',
  'Broad Oak',
  'Holme',
  'Newlands',
  'Kingsland',
  'Whitecross',
  'Barton',
  'Portfields',
  'Greenacres',
  'Redhill',
];
const WELSH_NEIGHBOURHOODS = ['Pen y Bryn', 'Cae Mawr', 'Glan yr Afon', 'Tref Uchaf', 'Maes Glas', 'Pont Newydd'];
const SURNAMES = [
  'Harper',
  'Hollis',
  'Pritchard',
  'Jones',
  'Evans',
  'Bevan',
  'Price',
  'Morgan',
  'Watkins',
  'Hughes',
  'Lloyd',
  'Powell',
  'Bishop',
  'Turner',
  'Clarke',
  'Baker',
  'Davies',
  'Preece',
  'Griffiths',
  'Meredith',
  'Probert',
  'Bowen',
  'Vaughan',
  'Gwilliam',
  'Hodges',
  'Parry',
  'Tranter',
  'Smout',
  'Cadwallader',
  'Pugh',
];
const INITIALS = [...'ABCDEGHIJKLMNPRSTVW'];
const WELSH_SCHOOL_WORDS = ['Bro Wen', 'y Cwm', 'Bryn Teg', 'Gymraeg', 'y Dderwen', 'Pen y Bryn', 'Glan y Nant'];

const FIBRE_PROVIDERS = ['Openreach', 'CityFibre', 'Gigaclear', 'Airband', 'Virgin Media Business', 'BT Business'];
const RADIO_PROVIDERS = ['Vodafone Business', 'EE', 'Three Business', 'O2 Business'];

/** Council building kinds with how many of each (290 in all). */
const COUNCIL_KINDS: { kind: string; n: number; team: string; tag: string; perTown?: boolean; meter: number }[] = [
  { kind: 'Community Centre', n: 70, team: 'Communities', tag: 'community', meter: 0.4 },
  { kind: 'Family Hub', n: 28, team: 'Children’s Services', tag: 'children', meter: 0.5 },
  { kind: 'Youth Centre', n: 18, team: 'Children’s Services', tag: 'children', meter: 0.3 },
  { kind: 'Day Centre', n: 18, team: 'Adult Social Care', tag: 'adult-care', meter: 0.5 },
  { kind: 'Sheltered Housing', n: 40, team: 'Housing', tag: 'housing', meter: 0.2 },
  { kind: 'Highways Depot', n: 12, team: 'Highways', tag: 'depot', meter: 0.6 },
  { kind: 'Household Recycling Centre', n: 8, team: 'Waste and Recycling', tag: 'waste', meter: 0.5 },
  { kind: 'Leisure Centre', n: 15, team: 'Leisure', tag: 'leisure', meter: 0.9 },
  { kind: 'Council Offices', n: 12, team: 'Property Services', tag: 'offices', meter: 0.9 },
  { kind: 'Public Toilets', n: 24, team: 'Property Services', tag: 'toilets', meter: 0 },
  { kind: 'Adult Learning Centre', n: 10, team: 'Communities', tag: 'learning', meter: 0.4 },
  { kind: 'Museum', n: 4, team: 'Culture', tag: 'culture', meter: 0.6 },
  { kind: 'Register Office', n: 3, team: 'Registration', tag: 'offices', meter: 0.5 },
  { kind: 'Cemetery Lodge', n: 6, team: 'Bereavement Services', tag: 'bereavement', meter: 0.1 },
  { kind: 'Gritting Salt Barn', n: 10, team: 'Highways', tag: 'depot', meter: 0.1 },
  { kind: 'Children’s Home', n: 8, team: 'Children’s Services', tag: 'children', meter: 0.4 },
  { kind: 'Archive and Records Store', n: 1, team: 'Culture', tag: 'culture', meter: 0.5 },
  { kind: 'CCTV Control Room', n: 1, team: 'Community Safety', tag: 'offices', meter: 1 },
  { kind: 'Crematorium', n: 1, team: 'Bereavement Services', tag: 'bereavement', meter: 0.5 },
];

const NHS_KINDS: { kind: string; n: number; fibre: number }[] = [
  { kind: 'Surgery', n: 68, fibre: 0.85 },
  { kind: 'Health Centre', n: 20, fibre: 0.9 },
  { kind: 'Community Hospital', n: 5, fibre: 1 },
  { kind: 'Dental Practice', n: 16, fibre: 0.7 },
  { kind: 'Clinic', n: 16, fibre: 0.8 },
  { kind: 'Mental Health Resource Centre', n: 8, fibre: 0.9 },
  { kind: 'Ambulance Station', n: 8, fibre: 0.9 },
  { kind: 'Hospice', n: 2, fibre: 1 },
  { kind: 'Minor Injuries Unit', n: 6, fibre: 1 },
];

const day = (rng: Random, from: string, to: string) => {
  const a = Date.parse(from);
  const b = Date.parse(to);
  return new Date(a + Math.floor(rng.next() * (b - a))).toISOString().slice(0, 10);
};
const addDays = (d: string, n: number) => new Date(Date.parse(d) + n * 86_400_000).toISOString().slice(0, 10);

/** A fibre rollout: most sites live, some on the way, a few on old lines or at fault. */
function connectivity(
  rng: Random,
  mix: { live: number; installed: number; ordered: number; planned: number; fttc: number; copper?: number; radio?: number; fault: number; none?: number },
  gig: number,
): ConnectivityPlan {
  const r = rng.next();
  let acc = 0;
  const take = (p: number | undefined) => {
    acc += p ?? 0;
    return r < acc;
  };
  const planned = day(rng, '2023-01-01', '2025-10-01');
  const ordered = addDays(planned, rng.int(30, 120));
  const installed = addDays(ordered, rng.int(30, 150));
  const live = addDays(installed, rng.int(5, 40));
  const provider = rng.pick(FIBRE_PROVIDERS);
  const ref = (prefix: string) => `${prefix}-${String(rng.int(10000, 99999))}`;
  const fibre = { technology: 'full_fibre' as const, downMbps: gig, upMbps: gig, provider, circuitRef: ref('WMFF'), plannedAt: planned };
  if (take(mix.live)) return { ...fibre, status: 'live', orderedAt: ordered, installedAt: installed, liveAt: live };
  if (take(mix.installed)) return { ...fibre, status: 'installed', orderedAt: ordered, installedAt: day(rng, '2025-11-01', '2026-03-01') };
  if (take(mix.ordered)) return { ...fibre, status: 'ordered', orderedAt: day(rng, '2025-06-01', '2026-02-01'), circuitRef: null };
  if (take(mix.planned)) return { ...fibre, status: 'planned', plannedAt: day(rng, '2025-01-01', '2026-03-01'), circuitRef: null, provider: null };
  if (take(mix.fttc))
    return {
      technology: 'fttc',
      status: 'live',
      downMbps: rng.pick([40, 55, 80]),
      upMbps: rng.pick([10, 20]),
      provider: rng.pick(['BT Business', 'Openreach', 'Virgin Media Business']),
      circuitRef: ref('FTTC'),
      liveAt: day(rng, '2015-01-01', '2021-12-31'),
    };
  if (take(mix.copper))
    return { technology: 'copper', status: 'live', downMbps: rng.pick([8, 12, 17]), upMbps: 1, provider: 'BT Business', circuitRef: ref('PSTN'), liveAt: day(rng, '2005-01-01', '2014-12-31') };
  if (take(mix.radio)) {
    const five = rng.chance(0.3);
    return {
      technology: five ? '5g' : '4g',
      status: 'live',
      downMbps: five ? rng.pick([150, 300]) : rng.pick([30, 50]),
      upMbps: five ? 40 : 10,
      provider: rng.pick(RADIO_PROVIDERS),
      circuitRef: ref('MOB'),
      liveAt: day(rng, '2021-01-01', '2025-12-31'),
    };
  }
  if (take(mix.fault)) return { ...fibre, status: 'fault', orderedAt: ordered, installedAt: installed, liveAt: live };
  if (take(mix.none)) return { technology: 'none', status: 'live' };
  return { ...fibre, status: 'live', orderedAt: ordered, installedAt: installed, liveAt: live };
}

/** A part of a town, for naming a branch library or a car park. */
const neighbourhood = (rng: Random, town: Town) => (rng.chance(town.welsh) ? rng.pick(WELSH_NEIGHBOURHOODS) : rng.pick(NEIGHBOURHOODS));

const hex = (rng: Random, n: number) => Array.from({ length: n }, () => '0123456789abcdef'[rng.int(0, 15)]).join('');

/** The county's estate for a seed: every site and device, with ids assigned, ready to load. */
export function planEstate(seed = 'wealdmoor', geo: Geography = wealdmoorGeography(seed)): EstatePlan {
  const rng = new Random(`${seed}:estate`);
  const sites: SitePlan[] = [];
  const devices: DevicePlan[] = [];
  const names = new Set<string>();
  const byWeight = () => rng.weighted(geo.wards, (w) => w.town.weight);
  let uprn = 100_023_000_000;

  const unique = (name: string, town: Town) => {
    let n = names.has(name) ? `${name}, ${town.name}` : name;
    for (let i = 2; names.has(n); i++) n = `${name} (${i}), ${town.name}`;
    names.add(n);
    return n;
  };
  const addSite = (
    r: Random,
    ward: Ward,
    type: SitePlan['type'],
    name: string,
    opts: { spreadKm: number; ownerTeam: string; tags: string[]; connectivity: ConnectivityPlan | null; uprn?: boolean; street?: string },
  ) => {
    const at = pointInWard(r, ward, opts.spreadKm);
    const street = opts.street ?? streetIn(r, ward.town);
    if (opts.uprn) uprn += r.int(1, 4000);
    const site: SitePlan = {
      id: newId(),
      type,
      name: type === 'home' ? name : unique(name, ward.town),
      address: addressIn(r, ward.town, street),
      postcode: postcodeIn(r, ward.town),
      uprn: opts.uprn ? String(uprn) : null,
      lat: at.lat,
      lon: at.lon,
      tags: opts.tags,
      ownerTeam: opts.ownerTeam,
      connectivity: opts.connectivity,
      wardCode: ward.code,
    };
    sites.push(site);
    return site;
  };
  let serial = 0;
  const addDevice = (r: Random, site: SitePlan, profile: string, name: string, sim: DevicePlan['sim'], extra: Partial<DevicePlan> = {}) => {
    const code = profile
      .split('-')
      .map((p) => p[0])
      .join('')
      .toUpperCase();
    devices.push({
      id: newId(),
      name,
      serial: `WM-${code}-${String(++serial).padStart(5, '0')}`,
      profile,
      siteId: site.id,
      firmware: `${r.int(1, 3)}.${r.int(0, 9)}.${r.int(0, 20)}`,
      sim,
      ...extra,
    });
  };

  // Schools: primaries clustered in towns, a secondary in most towns, a few special schools.
  const schools = rng.fork('schools');
  for (let i = 0; i < ESTATE_COUNTS.school; i++) {
    const ward = i < geo.wards.length ? geo.wards[i] : byWeight();
    const t = ward.town;
    const roll = schools.next();
    let name: string;
    let tags: string[];
    if (i < geo.wards.length && t.weight >= 2) {
      name = `${t.name} High School`;
      tags = ['secondary'];
    } else if (roll < 0.05) {
      name = `${schools.pick(FEATURES)} ${schools.pick(['Special School', 'Academy (SEND)', 'School'])}`;
      tags = ['special'];
    } else if (roll < 0.2 && t.welsh > 0.3) {
      name = `Ysgol ${schools.pick(WELSH_SCHOOL_WORDS)}`;
      tags = ['primary', 'welsh-medium'];
    } else if (roll < 0.38) {
      name = `St ${schools.pick(SAINTS)}’s ${schools.pick(['C of E', 'C of E', 'Catholic'])} Primary School`;
      tags = ['primary', 'faith'];
    } else if (roll < 0.48) {
      const f = schools.pick(FEATURES);
      name = `${f} ${schools.pick(['Infant', 'Junior'])} School`;
      tags = ['primary'];
    } else {
      name = `${schools.chance(0.5) ? t.name : schools.pick(FEATURES)} ${schools.pick(['Primary School', 'Primary Academy', 'CE Primary School', 'Community Primary School'])}`;
      tags = ['primary'];
    }
    addSite(schools, ward, 'school', name, {
      spreadKm: 1.5 + t.weight * 0.4,
      ownerTeam: 'Education Estates',
      tags,
      uprn: true,
      connectivity: connectivity(schools, { live: 0.72, installed: 0.05, ordered: 0.05, planned: 0.07, fttc: 0.07, fault: 0.03, copper: 0.01 }, tags[0] === 'secondary' ? 10000 : 1000),
    });
  }

  // Council buildings: County Hall, then the kinds in their numbers.
  const council = rng.fork('council');
  const energyAt: SitePlan[] = [];
  const moorchester = geo.wards[0];
  const hall = addSite(council, moorchester, 'council_building', 'County Hall', {
    spreadKm: 0.3,
    ownerTeam: 'Property Services',
    tags: ['offices', 'headquarters'],
    uprn: true,
    street: 'Foregate',
    connectivity: {
      technology: 'full_fibre',
      status: 'live',
      downMbps: 10000,
      upMbps: 10000,
      provider: 'CityFibre',
      circuitRef: 'WMFF-00001',
      plannedAt: '2021-04-01',
      orderedAt: '2021-06-14',
      installedAt: '2021-10-02',
      liveAt: '2021-10-20',
    },
  });
  energyAt.push(hall);
  const councilKinds = COUNCIL_KINDS.flatMap((k) => Array.from({ length: k.n }, () => k));
  councilKinds.length = ESTATE_COUNTS.council_building - 1;
  for (const k of councilKinds) {
    const ward = byWeight();
    const name = k.n <= 3 ? `${ward.town.name} ${k.kind}` : `${council.chance(0.5) ? ward.town.name : neighbourhood(council, ward.town)} ${k.kind}`;
    const radio = k.tag === 'toilets' || k.tag === 'depot';
    const site = addSite(council, ward, 'council_building', name, {
      spreadKm: 2 + ward.town.weight * 0.4,
      ownerTeam: k.team,
      tags: [k.tag],
      uprn: true,
      connectivity: connectivity(
        council,
        radio
          ? { live: 0.2, installed: 0, ordered: 0.05, planned: 0.15, fttc: 0.2, radio: 0.3, copper: 0.05, fault: 0, none: 0.05 }
          : { live: 0.5, installed: 0.06, ordered: 0.08, planned: 0.14, fttc: 0.14, copper: 0.04, fault: 0.02, radio: 0.02 },
        1000,
      ),
    });
    if (council.chance(k.meter * 0.95)) energyAt.push(site);
  }

  // NHS sites: surgeries and clinics everywhere, the county hospital in Moorchester.
  const nhs = rng.fork('nhs');
  addSite(nhs, moorchester, 'nhs_site', 'Moorchester County Hospital', {
    spreadKm: 1,
    ownerTeam: 'NHS Wealdmoor',
    tags: ['hospital', 'acute'],
    uprn: true,
    connectivity: {
      technology: 'full_fibre',
      status: 'live',
      downMbps: 10000,
      upMbps: 10000,
      provider: 'Openreach',
      circuitRef: 'HSCN-00017',
      plannedAt: '2020-02-01',
      orderedAt: '2020-03-10',
      installedAt: '2020-07-21',
      liveAt: '2020-08-03',
    },
  });
  const nhsKinds = NHS_KINDS.flatMap((k) => Array.from({ length: k.n }, () => k));
  nhsKinds.length = ESTATE_COUNTS.nhs_site - 1;
  for (const k of nhsKinds) {
    const ward = byWeight();
    const t = ward.town;
    const name =
      k.kind === 'Surgery' ? `${nhs.chance(0.5) ? t.name : nhs.pick(FEATURES)} ${nhs.pick(['Surgery', 'Medical Practice', 'Medical Centre', 'Health Centre Surgery'])}` : `${t.name} ${k.kind}`;
    addSite(nhs, ward, 'nhs_site', name, {
      spreadKm: 1.5 + t.weight * 0.3,
      ownerTeam: 'NHS Wealdmoor',
      tags: [k.kind.toLowerCase().replace(/[^a-z]+/g, '-')],
      uprn: true,
      connectivity: connectivity(
        nhs,
        { live: 0.8 * k.fibre, installed: 0.05, ordered: 0.04, planned: 0.05, fttc: 1 - 0.8 * k.fibre - 0.16, fault: 0.02 },
        k.kind === 'Community Hospital' ? 10000 : 1000,
      ),
    });
  }

  // Libraries: one in every town, branches in the larger ones; each counts its visitors.
  const libs = rng.fork('libraries');
  for (let i = 0; i < ESTATE_COUNTS.library; i++) {
    const ward = i < geo.wards.length ? geo.wards[i] : rng.weighted(geo.wards, (w) => (w.town.weight >= 3 ? w.town.weight : 0));
    const name = i < geo.wards.length ? `${ward.town.name} Library` : `${neighbourhood(libs, ward.town)} Library`;
    const site = addSite(libs, ward, 'library', name, {
      spreadKm: i < geo.wards.length ? 0.4 : 1.5,
      ownerTeam: 'Libraries',
      tags: [i < geo.wards.length ? 'town-library' : 'branch-library'],
      uprn: true,
      connectivity: connectivity(libs, { live: 0.75, installed: 0.05, ordered: 0.05, planned: 0.05, fttc: 0.08, fault: 0.02 }, 1000),
    });
    addDevice(libs, site, 'people-counter', `People counter, ${site.name}`, {
      transport: 'http',
      group: site.id,
      scale: Math.round((i < geo.wards.length ? 30 + ward.town.weight * 8 : 15 + libs.int(0, 20)) * 10) / 10,
    });
  }

  // Parks, each with a bin sensor or two.
  const parks = rng.fork('parks');
  for (let i = 0; i < ESTATE_COUNTS.park; i++) {
    const ward = byWeight();
    const kind = parks.next();
    const name =
      kind < 0.3 ? `${ward.town.name} Recreation Ground` : kind < 0.35 ? `${parks.pick(FEATURES)} Country Park` : `${parks.pick([...FEATURES, 'Victoria', 'Jubilee', 'Coronation', 'Memorial'])} Park`;
    const site = addSite(parks, ward, 'park', name, {
      spreadKm: 2.5,
      ownerTeam: 'Parks and Green Spaces',
      tags: ['green-space'],
      connectivity: parks.chance(0.75) ? { technology: 'none', status: 'live' } : connectivity(parks, { live: 0, installed: 0, ordered: 0, planned: 0.3, fttc: 0, radio: 0.7, fault: 0 }, 1000),
    });
    const bins = i % 3 === 0 ? 2 : 1;
    for (let b = 1; b <= bins; b++) {
      const at = offsetMetres(parks, site, 150);
      addDevice(
        parks,
        site,
        'bin-fill',
        `Bin ${b}, ${site.name}`,
        { transport: 'http', group: site.id, scale: Math.round(parks.between(9, 22) * 10) / 10 },
        { ...at, externalId: `70b3d5${hex(parks, 10)}` },
      );
    }
  }

  // Car parks: 1,500 sensed bays between them.
  const cars = rng.fork('car-parks');
  const sizes = Array.from({ length: ESTATE_COUNTS.car_park }, (_, i) => (i === 0 ? 3 : cars.between(0.5, 1.6)));
  const total = sizes.reduce((a, b) => a + b, 0);
  const bays = sizes.map((s) => Math.max(20, Math.round((s / total) * ESTATE_COUNTS.bays)));
  bays[0] += ESTATE_COUNTS.bays - bays.reduce((a, b) => a + b, 0);
  for (let i = 0; i < ESTATE_COUNTS.car_park; i++) {
    const ward = i === 0 ? moorchester : byWeight();
    const pattern = i === 0 ? 'town' : i % 5 === 1 ? 'commuter' : i % 7 === 2 ? 'leisure' : 'town';
    const street = streetIn(cars, ward.town);
    const name =
      i === 0
        ? 'Moorchester Multi-Storey Car Park'
        : pattern === 'commuter'
          ? `${ward.town.name} Station Car Park`
          : pattern === 'leisure'
            ? `${cars.pick(FEATURES)} Country Park Car Park`
            : `${neighbourhood(cars, ward.town)} Car Park`;
    const site = addSite(cars, ward, 'car_park', name, {
      spreadKm: pattern === 'leisure' ? 3 : 0.6,
      ownerTeam: 'Parking Services',
      tags: [pattern === 'commuter' ? 'park-and-ride' : pattern === 'leisure' ? 'leisure' : 'town-centre', `${bays[i]}-bays`],
      street,
      uprn: true,
      connectivity: connectivity(cars, { live: 0.3, installed: 0, ordered: 0.05, planned: 0.1, fttc: 0.05, radio: 0.5, fault: 0 }, 1000),
    });
    for (let b = 1; b <= bays[i]; b++) {
      const at = offsetMetres(cars, site, 30 + Math.sqrt(bays[i]) * 4);
      addDevice(cars, site, 'parking-bay', `Bay ${b}, ${site.name}`, { transport: 'mqtt', group: site.id, scale: 1, pattern }, { ...at, externalId: `a84041${hex(cars, 10)}` });
    }
  }

  // Street hubs on busy streets, each with an air-quality monitor.
  const hubs = rng.fork('street-hubs');
  for (let i = 0; i < ESTATE_COUNTS.street_hub; i++) {
    const ward = i < 4 ? moorchester : byWeight();
    const street = streetIn(hubs, ward.town);
    const site = addSite(hubs, ward, 'street_hub', `Street hub, ${street}, ${ward.town.name}`, {
      spreadKm: 0.8,
      ownerTeam: 'Smart Places',
      tags: ['street-hub', 'air-quality'],
      street,
      connectivity: connectivity(hubs, { live: 0.8, installed: 0.07, ordered: 0.03, planned: 0, fttc: 0, radio: 0.07, fault: 0.03 }, 1000),
    });
    const urban = 0.55 + 0.09 * ward.town.weight + hubs.between(0, 0.25);
    addDevice(hubs, site, 'air-quality', `Air quality, ${street}, ${ward.town.name}`, { transport: 'mqtt', group: site.id, scale: Math.round(urban * 100) / 100 });
  }

  // Energy meters in council buildings (HTTP).
  const meters = rng.fork('meters');
  for (const site of energyAt) {
    const peak = site === hall ? 180 : Math.round(meters.between(8, 60));
    addDevice(meters, site, 'energy-meter', `Electricity meter, ${site.name}`, { transport: 'http', group: site.id, scale: peak });
  }

  // Telecare homes: a hub and a motion sensor in each; some with a fall detector, pendant or door contact.
  const care = rng.fork('telecare');
  for (let i = 0; i < ESTATE_COUNTS.home; i++) {
    const ward = byWeight();
    const resident = `${care.pick(INITIALS)}. ${care.pick(SURNAMES)}`;
    const home = addSite(care, ward, 'home', `Telecare: ${resident}`, {
      spreadKm: 3,
      ownerTeam: 'Telecare',
      tags: ['telecare'],
      connectivity: connectivity(care, { live: 0.25, installed: 0, ordered: 0.02, planned: 0.03, fttc: 0.4, copper: 0.15, radio: 0.15, fault: 0 }, care.pick([150, 500, 900])),
    });
    const activity = Math.round(care.between(0.6, 1.3) * 100) / 100;
    const sim = (transport: 'mqtt' | 'http' = 'mqtt') => ({ transport, group: home.id, scale: activity });
    addDevice(care, home, 'telecare-hub', `Telecare hub, ${resident}`, sim());
    addDevice(care, home, 'pir-motion', `Motion sensor, ${resident}`, sim());
    if (care.chance(0.3)) addDevice(care, home, 'fall-detector', `Fall detector, ${resident}`, sim());
    if (care.chance(0.45)) addDevice(care, home, 'pendant', `Pendant, ${resident}`, sim());
    if (care.chance(0.4)) addDevice(care, home, 'door-contact', `Front door, ${resident}`, sim());
  }

  return { sites, devices };
}

// ---- Loading ----

/** The sites as the estate's CSV import takes them. */
export function sitesCsv(sites: SitePlan[]): string {
  return toCsv([...SITE_COLUMNS], sites.map(siteImportRow));
}

/** The devices as the estate's CSV import takes them. */
export function devicesCsv(devices: DevicePlan[]): string {
  return toCsv(
    [...DEVICE_COLUMNS],
    devices.map((d) => [d.id, d.name, d.serial, d.profile, d.siteId, d.externalId, d.lat, d.lon, d.firmware]),
  );
}

/** What the estate service offers that loading needs (its real bulk paths). */
export interface EstateImporter {
  importAreas(actor: Actor, geojson: unknown): Promise<unknown>;
  importSites(actor: Actor, text: string): Promise<{ count: number }>;
  importDevices(actor: Actor, text: string): Promise<{ count: number; credentials: { id: string; token: string; mqttPassword: string }[] }>;
}

export interface LoadedEstate {
  sites: number;
  devices: number;
  /** the simulator's view of every device, with its credentials */
  simDevices: SimDevice[];
  /** every site's postcode and position, for the county's postcode list */
  postcodes: PostcodePlace[];
  ms: number;
}

/**
 * Loads the wards, sites and devices through the estate's bulk imports (areas from
 * GeoJSON, then sites and devices from CSV, each in one transaction), and returns
 * the devices with the credentials the simulator needs.
 */
export async function loadEstate(estate: EstateImporter, actor: Actor, seed = 'wealdmoor'): Promise<LoadedEstate> {
  const began = performance.now();
  const geo = wealdmoorGeography(seed);
  const plan = planEstate(seed, geo);
  await estate.importAreas(actor, wardsGeoJson(geo));
  const sites = await estate.importSites(actor, sitesCsv(plan.sites));
  const devices = await estate.importDevices(actor, devicesCsv(plan.devices));
  const credentials = new Map(devices.credentials.map((c) => [c.id, c]));
  const siteById = new Map(plan.sites.map((s) => [s.id, s]));
  const simDevices: SimDevice[] = plan.devices.map((d) => {
    const site = siteById.get(d.siteId);
    const c = credentials.get(d.id);
    if (!c) throw new Error(`The estate import returned no credentials for device ${d.serial}.`);
    return {
      id: d.id,
      name: d.name,
      key: d.serial,
      profile: d.profile,
      token: c.token,
      mqttPassword: c.mqttPassword,
      lat: d.lat ?? site?.lat ?? 0,
      lon: d.lon ?? site?.lon ?? 0,
      ...d.sim,
    };
  });
  const postcodes = plan.sites.map((s) => ({ postcode: s.postcode, lat: s.lat, lon: s.lon }));
  return { sites: sites.count, devices: devices.count, simDevices, postcodes, ms: Math.round(performance.now() - began) };
}
