import { systemActor } from '../../../src/platform/auth/actor.js';
import type { TestApp } from '../../app-helpers.js';

let n = 0;

/** A real site and device made through the estate service, with the device's token. */
export async function realDevice(t: TestApp, options: { profile?: string; siteType?: 'street_hub' | 'home' | 'school'; lat?: number; lon?: number; siteId?: string } = {}) {
  const actor = systemActor('test');
  const i = ++n;
  const siteId =
    options.siteId ??
    (
      await t.services.estate.createSite(actor, {
        type: options.siteType ?? 'street_hub',
        name: `Test site ${i}`,
        address: `${i} Test Street`,
        lat: options.lat ?? 51.75,
        lon: options.lon ?? -1.26,
      })
    ).id;
  const { device, credentials } = await t.services.estate.createDevice(actor, {
    name: `Test device ${i}`,
    serial: `TEST-${i}-${Date.now()}`,
    profile: options.profile ?? 'air-quality',
    siteId,
    lat: options.lat,
    lon: options.lon,
  });
  return { device, token: credentials.token, siteId };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
