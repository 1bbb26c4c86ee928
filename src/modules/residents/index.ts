import { definePermissions } from '../../platform/auth/roles.js';
import { consoleNav } from '../../platform/web/web.js';

definePermissions({
  'residents:read': { description: 'Find residents and see their contact details, preferences and subscriptions (each look is audited)', roles: ['service', 'comms', 'care'] },
  'residents:manage': { description: 'Add residents on their behalf and change their details, preferences and subscriptions', roles: ['service', 'comms', 'care'] },
  'topics:manage': { description: 'Add and change the topics residents subscribe to, and turn them off or on', roles: ['comms', 'service'] },
});

consoleNav.push({ href: '/console/residents', text: 'Residents', permission: 'residents:read' });

export { residentsPages } from './residents.pages.js';
export { residentsRoutes } from './residents.routes.js';
export type { Audience, ContactChannel, ResidentInput, ResidentView, SiteChoice, SubscriptionInput, SubscriptionKind, SubscriptionView, TopicView } from './residents.schema.js';
export { DEFAULT_CHANNELS, normalisePostcode, quietUntil, ResidentsService } from './residents.service.js';
