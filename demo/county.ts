import { join } from 'node:path';
import type { PostcodeImport } from '../src/modules/estate/index.js';
import type { StaffRole } from '../src/platform/auth/roles.js';
import { type Actor, systemActor } from '../src/platform/auth/actor.js';
import type { Services } from '../src/services.js';
import { type LoadedEstate, loadEstate } from './estate.js';
import { loadCouncilServices } from './council-services.js';
import { type LoadedHubs, loadHubs } from './hubs.js';
import { type LoadedMessaging, loadMessaging } from './messaging.js';
import { loadPostcodes } from './postcodes.js';
import { loadRules } from './rules.js';
import { loadRequests } from './requests.js';
import { writeDevicesFile } from './simulator.js';

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

/** The seed the demo county is made from: the same county on every run. */
export const DEMO_SEED = 'wealdmoor';

export interface LoadOptions {
  /** load the estate (wards, sites, devices) too; default true */
  estate?: boolean;
  /** load messaging (services, templates, residents, some messages) too; default true */
  messaging?: boolean;
  /** how many fictional residents; default 20,000 (tests load fewer) */
  residents?: number;
  /** where to write the devices' credentials for the simulator; default <data folder>/devices.json */
  devicesFile?: string;
}

export interface LoadedCounty {
  estate?: LoadedEstate;
  devicesFile?: string;
  messaging?: LoadedMessaging;
  /** the county's postcode list, as loaded */
  postcodes?: PostcodeImport;
  /** with WEFT_DEV_PAY on: the Parking service's Pay account is the development Pay (or why it could not be) */
  parkingPay?: { devPay: string } | { problem: string };
  /** hybrid-working hubs: 12 hubs, 300 desks, a month of bookings */
  hubs?: LoadedHubs;
}

/**
 * Loads the county into an empty, migrated database: the council, its staff, and
 * its estate (wards, 1,090 sites, about 2,400 devices) through the estate's bulk
 * imports. The devices' credentials go to devices.json in the data folder
 * (readable by its owner only), for `weft simulate`.
 */
export async function loadCounty(services: Services, options: LoadOptions = {}): Promise<LoadedCounty> {
  const actor = systemActor('weft demo');
  await services.organisation.create(COUNTY.name, COUNTY.shortName);
  for (const person of DEMO_STAFF) {
    await services.staff.createUser(actor, { ...person, password: DEMO_PASSWORD });
  }
  // The estate first: residents' homes are placed in its wards and subscribe to its schools and libraries.
  const estate = options.estate === false ? undefined : await loadEstate(services.estate, actor, DEMO_SEED);
  const messaging = options.messaging === false ? undefined : await loadMessaging(services, actor, DEMO_SEED, options.residents);
  // The postcodes its sites and residents have, so a resident can say where a problem is by postcode alone.
  const places = [...(estate?.postcodes ?? []), ...(messaging?.postcodes ?? [])];
  const postcodes = places.length ? await loadPostcodes(services.estate, actor, places) : undefined;
  await loadRequests(services, actor, DEMO_SEED);
  if (estate) await loadRules(services, actor);
  if (messaging && estate) await loadCouncilServices(services, actor);
  // Parking fines: the service and templates (demo/penalty-notices.csv), and with the development Pay on, its Pay account.
  const parkingPay = messaging ? await parkingPayAccount(services, actor) : undefined;
  if (!estate) return { messaging, postcodes, parkingPay };
  const hubs = await loadHubs(services, actor, DEMO_SEED);
  const devicesFile = options.devicesFile ?? join(services.config.dataDir, 'devices.json');
  writeDevicesFile(devicesFile, DEMO_SEED, estate.simDevices);
  return { estate, devicesFile, messaging, postcodes, parkingPay, hubs };
}

/**
 * Sets up the Parking service and, when the development GOV.UK Pay is on (WEFT_DEV_PAY, which
 * `weft demo` turns on), gives it an account there, set as a Pay account is set (an API key and
 * the webhook's signing secret), so the upload page works with nothing outside the machine.
 * Without it the upload page says a GOV.UK Pay account is needed.
 */
export async function parkingPayAccount(services: Services, actor: Actor): Promise<LoadedCounty['parkingPay']> {
  const { serviceId, webhookUrl } = await services.parking.setUp(actor);
  if (!services.devPay || !serviceId) return undefined;
  const account = await services.devPay.createAccount('Wealdmoor Parking', webhookUrl ?? undefined);
  try {
    await services.payments.setAccount(actor, serviceId, { baseUrl: account.baseUrl, apiKey: account.apiKey, webhookSigningSecret: account.webhookSecret });
  } catch (err) {
    // GOV.UK Pay's address must be https, or http on this machine: a WEFT_PUBLIC_URL of plain http elsewhere is refused.
    return { problem: (err as Error).message };
  }
  return { devPay: account.baseUrl };
}
