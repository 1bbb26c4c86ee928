import { randomBytes } from 'node:crypto';
import type { CategoryCreate, RequestStatus } from '../src/modules/requests/index.js';
import type { RequestsTable, RequestUpdatesTable } from '../src/modules/requests/requests.repository.js';
import { newReference, routeFor } from '../src/modules/requests/requests.service.js';
import type { Actor } from '../src/platform/auth/actor.js';
import { newId } from '../src/platform/ids.js';
import type { Services } from '../src/services.js';
import { addressIn, pointInWard, postcodeIn, wealdmoorGeography } from './geography.js';
import { Random } from './random.js';

/**
 * Wealdmoor's service requests: teams, the usual categories (potholes, fly-tipping, street lights,
 * graffiti, missed bins, dog fouling, blocked drains) with their questions, targets and routing
 * (potholes in the five northern wards go to the highways contractor), and a few hundred requests
 * from the last 60 days across the wards in every state, with their public updates and internal
 * notes; some overdue, a few merged as duplicates, some from residents (when messaging was loaded).
 * Written straight in, with their history, rather than through today's clock.
 */
export interface LoadedRequests {
  categories: number;
  requests: number;
  overdue: number;
}

export const DEMO_REQUESTS = 300;
const DAY = 86_400_000;
const HOUR = 3_600_000;

const yesNo = [
  { key: 'yes', name: 'Yes' },
  { key: 'no', name: 'No' },
];

const CATEGORIES: (Omit<CategoryCreate, 'defaultTeamId' | 'routes'> & { team: string; weight: number; says: string[] })[] = [
  {
    code: 'potholes',
    name: 'Potholes',
    nameCy: 'Tyllau yn y ffordd',
    group: 'Roads and pavements',
    description: 'A hole or a sunken patch in a road, pavement or cycle path',
    keywords: ['hole', 'road', 'pavement', 'surface'],
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
      { code: 'on_carriageway', description: 'Is it in the road itself?', datatype: 'singlevaluelist', required: false, values: yesNo },
    ],
    team: 'Highways',
    weight: 30,
    says: [
      'Deep pothole by the bus stop, cars swerving round it',
      'Pothole at the junction, about a foot across',
      'Several holes along the cycle lane',
      'Sunken patch on the pavement outside the shop',
    ],
  },
  {
    code: 'fly-tipping',
    name: 'Fly-tipping',
    nameCy: 'Tipio anghyfreithlon',
    group: 'Street cleaning',
    description: 'Rubbish dumped on land or a road where it should not be',
    keywords: ['dumped', 'rubbish', 'mattress'],
    targetHours: 120,
    attributes: [
      {
        code: 'waste_type',
        description: 'What has been dumped?',
        datatype: 'multivaluelist',
        required: true,
        values: [
          { key: 'household', name: 'Household rubbish' },
          { key: 'furniture', name: 'Furniture' },
          { key: 'building', name: 'Building rubble' },
          { key: 'hazardous', name: 'Chemicals, asbestos or needles' },
        ],
      },
    ],
    team: 'Street cleansing',
    weight: 20,
    says: ['Mattress and two bin bags left by the lay-by', 'Pile of rubble dumped at the field gate', 'Old sofa on the verge', 'Bags of garden waste in the lane'],
  },
  {
    code: 'streetlights',
    name: 'Street lights',
    nameCy: 'Goleuadau stryd',
    group: 'Roads and pavements',
    description: 'A street light that is out, stays on in the day, or flickers',
    keywords: ['lamp', 'light', 'dark'],
    targetHours: 72,
    attributes: [{ code: 'column', description: 'The number on the lamp post, if you can see one', datatype: 'string', required: false }],
    team: 'Street lighting',
    weight: 15,
    says: ['Light out at the end of the footpath', 'Street light flickering all night', 'Three lights out in a row'],
  },
  {
    code: 'graffiti',
    name: 'Graffiti',
    nameCy: 'Graffiti',
    group: 'Street cleaning',
    description: 'Painting or writing on walls, signs or street furniture',
    keywords: ['paint', 'tag', 'vandalism'],
    targetHours: 168,
    attributes: [{ code: 'offensive', description: 'Is it offensive?', datatype: 'singlevaluelist', required: true, values: yesNo }],
    team: 'Street cleansing',
    weight: 10,
    says: ['Tags sprayed on the underpass', 'Graffiti on the bus shelter', 'Writing on the war memorial wall'],
  },
  {
    code: 'bins-missed',
    name: 'Missed bin collection',
    nameCy: 'Bin heb ei gasglu',
    group: 'Bins and recycling',
    description: 'A bin that was out on the right day and was not emptied',
    keywords: ['bin', 'collection', 'recycling'],
    targetHours: 48,
    attributes: [
      {
        code: 'bin',
        description: 'Which bin?',
        datatype: 'singlevaluelist',
        required: true,
        values: [
          { key: 'general', name: 'General waste' },
          { key: 'recycling', name: 'Recycling' },
          { key: 'garden', name: 'Garden waste' },
          { key: 'food', name: 'Food waste' },
        ],
      },
    ],
    team: 'Waste and recycling',
    weight: 15,
    says: ['Recycling not collected on Tuesday', 'The whole street’s bins were missed', 'Garden waste bin left full again'],
  },
  {
    code: 'dog-fouling',
    name: 'Dog fouling',
    nameCy: 'Baw cŵn',
    group: 'Street cleaning',
    description: 'Dog mess on a pavement, path or playing field',
    keywords: ['dog', 'mess', 'poo'],
    targetHours: 120,
    team: 'Street cleansing',
    weight: 5,
    says: ['Dog mess all along the school path', 'Lots of dog fouling on the playing field'],
  },
  {
    code: 'blocked-drains',
    name: 'Blocked drains and gullies',
    nameCy: 'Draeniau wedi’u blocio',
    group: 'Roads and pavements',
    description: 'A road drain or gully that is blocked or overflowing',
    keywords: ['drain', 'flooding', 'gully'],
    targetHours: 72,
    team: 'Highways',
    weight: 5,
    says: ['Drain blocked and the road floods when it rains', 'Gully full of leaves, water across the lane'],
  },
];

const TEAMS = ['Highways', 'Northern highways contractor', 'Street cleansing', 'Street lighting', 'Waste and recycling'];

/** The states the requests end in, by weight, and the path each took to get there. */
const ENDINGS: [RequestStatus[], number][] = [
  [[], 35],
  [['acknowledged'], 15],
  [['acknowledged', 'in_progress'], 15],
  [['acknowledged', 'in_progress', 'fixed'], 17],
  [['fixed'], 5],
  [['acknowledged', 'closed'], 6],
  [['not_ours'], 4],
];

const SAY: Partial<Record<RequestStatus, string[]>> = {
  acknowledged: ['Thank you for your report. An inspector will look at it.', 'We have your report and have passed it to the team.'],
  in_progress: ['A crew has been booked to deal with this.', 'Work has started.'],
  fixed: ['This has been fixed. Thank you for telling us.', 'Cleared today.'],
  closed: ['We inspected this and it does not need work at the moment.', 'We could not find the problem at the place given.'],
  not_ours: ['This is on private land or a trunk road: we have passed it to the owner.'],
};

const FIRST = ['Alex', 'Sam', 'Jo', 'Chris', 'Morgan', 'Rhian', 'Gareth', 'Aisha', 'Tomasz', 'Grace'];
const LAST = ['Hughes', 'Patel', 'Smith', 'Jones', 'Nowak', 'Evans', 'Brown', 'Ahmed'];

export async function loadRequests(services: Services, actor: Actor, seed = 'wealdmoor'): Promise<LoadedRequests> {
  const random = new Random(`${seed}:requests`);
  const r = services.requests;
  const teams = new Map<string, string>();
  for (const name of TEAMS) teams.set(name, (await r.createTeam(actor, { name, email: `${name.toLowerCase().replace(/[^a-z]+/g, '-')}@wealdmoor.example` })).id);

  const geo = wealdmoorGeography(seed);
  const areas = await services.estate.listAreas();
  const areaByCode = new Map(areas.map((a) => [a.code, a.id]));
  const northern = geo.wards
    .slice()
    .sort((a, b) => b.town.lat - a.town.lat)
    .slice(0, 5)
    .map((w) => areaByCode.get(w.code))
    .filter((id): id is string => !!id);
  for (const { team, weight: _w, says: _s, ...c } of CATEGORIES) {
    const routes = c.code === 'potholes' ? northern.map((areaId) => ({ areaId, teamId: teams.get('Northern highways contractor') as string })) : [];
    await r.createCategory(actor, { ...c, defaultTeamId: teams.get(team) ?? null, routes });
  }
  const categories = await r.listCategories();
  const residents = await services.residents.search(actor, undefined, 200);
  const finder = await services.estate.areas.finder();

  const now = Date.now();
  const rows: RequestsTable[] = [];
  const updates: RequestUpdatesTable[] = [];
  let overdue = 0;
  for (let i = 0; i < DEMO_REQUESTS; i++) {
    const spec = random.weighted(CATEGORIES, (c) => c.weight);
    const category = categories.find((c) => c.code === spec.code) as (typeof categories)[number];
    const ward = random.pick(geo.wards);
    const at = pointInWard(random, ward, 1.5);
    const path = random.weighted(ENDINGS, (e) => e[1])[0];
    // Most of what is still open came in over the last few days; the rest of the 60 days is mostly done with.
    const stillOpen = !path.some((s) => ['fixed', 'closed', 'not_ours'].includes(s));
    const created = now - Math.floor(random.next() ** 1.5 * (stillOpen ? 6 : 60) * DAY) - HOUR;
    const areaId = finder(at.lat, at.lon);
    const resident = residents.length && random.chance(0.4) ? random.pick(residents) : undefined;
    const named = !resident && random.chance(0.6);
    const row: RequestsTable = {
      id: newId(created),
      reference: newReference(),
      token: randomBytes(12).toString('base64url'),
      category_code: category.code,
      status: 'open',
      description: random.pick(spec.says),
      lat: Math.round(at.lat * 1e6) / 1e6,
      lon: Math.round(at.lon * 1e6) / 1e6,
      address: addressIn(random, ward.town),
      address_id: null,
      postcode: postcodeIn(random, ward.town),
      area_id: areaId,
      team_id: routeFor(category, areaId),
      reporter_resident_id: resident?.id ?? null,
      reporter_name: resident?.name ?? (named ? `${random.pick(FIRST)} ${random.pick(LAST)}` : null),
      reporter_email: resident?.email ?? (named ? `reporter${i}@example.com` : null),
      reporter_phone: null,
      language: resident?.language ?? 'en',
      source: resident ? 'portal' : random.pick(['staff', 'open311', 'fixmystreet']),
      submitted_by: null,
      external_id: null,
      attributes_json: JSON.stringify(answers(random, category.attributes)),
      media_url: null,
      status_notes: null,
      duplicate_of: null,
      created_at: new Date(created),
      updated_at: new Date(created),
      due_at: new Date(created + category.targetHours * HOUR),
      acknowledged_at: null,
      closed_at: null,
    };
    if (row.source === 'fixmystreet') row.external_id = String(4_000_000 + i);
    let when = created;
    for (const status of path) {
      when = Math.min(now - 60_000, when + random.between(2, 40) * HOUR);
      const message = random.pick(SAY[status] ?? ['']);
      updates.push(update(row, status, message, true, when, 'officer@wealdmoor.example'));
      row.status = status;
      row.status_notes = message;
      row.updated_at = new Date(when);
      if (!row.acknowledged_at) row.acknowledged_at = new Date(when);
      if (['fixed', 'closed', 'not_ours'].includes(status)) row.closed_at = new Date(when);
    }
    if (random.chance(0.15)) updates.push(update(row, null, 'Checked on the asset register: ours to fix.', false, Math.min(now - 30_000, created + 3 * HOUR), 'service@wealdmoor.example'));
    if (row.closed_at === null && row.due_at.getTime() < now) overdue++;
    rows.push(row);
  }
  // A few open reports of the same thing, merged into the first.
  const open = rows.filter((x) => x.status === 'open' && x.category_code === 'potholes');
  for (const dup of open.slice(1, 5)) {
    const into = open[0];
    const when = Math.max(dup.created_at.getTime(), into.created_at.getTime()) + HOUR;
    if (when >= now) continue;
    const message = `This problem has already been reported as ${into.reference}. We will deal with it there.`;
    updates.push(update(dup, 'duplicate', message, true, when, 'officer@wealdmoor.example'));
    Object.assign(dup, { status: 'duplicate', duplicate_of: into.id, status_notes: message, closed_at: new Date(when), updated_at: new Date(when) });
    if (dup.due_at.getTime() < now) overdue--;
  }
  await r.repo.insertRequests(rows);
  await r.repo.insertUpdates(updates);
  return { categories: categories.length, requests: rows.length, overdue };
}

function update(row: RequestsTable, status: RequestStatus | null, message: string, isPublic: boolean, at: number, author: string): RequestUpdatesTable {
  return {
    id: newId(at),
    request_id: row.id,
    is_public: isPublic,
    from_status: status ? row.status : null,
    status,
    message,
    author_type: 'user',
    author_id: null,
    author_label: author,
    source: 'console',
    external_id: null,
    created_at: new Date(at),
  };
}

function answers(random: Random, attributes: { code: string; datatype: string; required: boolean; values?: { key: string }[] }[]) {
  const out: Record<string, string | string[]> = {};
  for (const a of attributes) {
    if (!a.required && random.chance(0.5)) continue;
    if (a.datatype === 'singlevaluelist') out[a.code] = random.pick(a.values ?? []).key;
    else if (a.datatype === 'multivaluelist') out[a.code] = [random.pick(a.values ?? []).key];
    else out[a.code] = String(random.int(1, 400));
  }
  return out;
}
