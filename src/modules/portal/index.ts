import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ANONYMOUS, type Actor } from '../../platform/auth/actor.js';
import type { PathAuthenticators } from '../../platform/auth/auth.plugin.js';
import { definePermissions } from '../../platform/auth/roles.js';
import { accountPages } from './portal.account.pages.js';
import { hearingPages } from './portal.hearing.pages.js';
import { installProblemPages, RESIDENT_COOKIE } from './portal.pages.js';
import { type ReportsDeps, reportPages } from './portal.reports.pages.js';
import { PORTAL_PERMISSION, type PortalService } from './portal.service.js';
import { signInPages } from './portal.sign-in.pages.js';

// No staff role is given it (an admin holds every permission, but staff sessions and keys are never read on the portal's pages).
definePermissions({
  [PORTAL_PERMISSION]: { description: 'A resident’s own pages in the portal (held by a resident’s session, never by staff or API keys)', roles: [] },
});

/** Where the portal's pages are: the resident's session cookie, and nothing else, says who is calling there ('/report' covers '/reports'). */
export const PORTAL_PREFIXES = ['/account', '/sign-in', '/sign-out', '/report'] as const;

/**
 * The portal identifies its callers by the resident's session cookie only: a staff session or
 * an API key is no credential on its pages (given to installAuthHooks as `paths`).
 */
export function portalAuthenticators(portal: Pick<PortalService, 'actorForSession'>): PathAuthenticators {
  const identify = async (request: FastifyRequest): Promise<Actor> => {
    const token = request.cookies[RESIDENT_COOKIE];
    return (token && (await portal.actorForSession(token))) || ANONYMOUS;
  };
  return Object.fromEntries(PORTAL_PREFIXES.map((p) => [p, identify]));
}

/** The residents' portal: the start page, signing in, my account, how you hear from us, and reporting problems, in English and Welsh. */
export function portalPages(deps: ReportsDeps) {
  return async (app: FastifyInstance) => {
    installProblemPages(app, deps);
    await app.register(signInPages(deps));
    await app.register(accountPages(deps));
    await app.register(hearingPages(deps));
    await app.register(reportPages(deps));
  };
}

export { PORTAL_PERMISSION, PortalService, residentActor } from './portal.service.js';
