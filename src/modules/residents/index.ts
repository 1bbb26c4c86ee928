import { definePermissions } from '../../platform/auth/roles.js';
import { consoleNav } from '../../platform/web/web.js';

definePermissions({
  'residents:read': { description: 'Find residents and see their contact details, preferences and subscriptions (each look is audited)', roles: ['service', 'comms', 'care'] },
  'residents:manage': { description: 'Add residents on their behalf and change their details, preferences and subscriptions', roles: ['service', 'comms', 'care'] },
  'topics:manage': { description: 'Add and change the topics residents subscribe to, and turn them off or on', roles: ['comms', 'service'] },
  // Data protection: the admin (the council's data protection lead) only.
  'residents:export': { description: 'Export everything Weft holds about a resident, for a subject access request (each export is audited)', roles: [] },
  'residents:erase': { description: 'Erase a resident’s personal data everywhere in Weft, keeping only counts (audited; cannot be undone)', roles: [] },
});

consoleNav.push({ href: '/console/residents', text: 'Residents', permission: 'residents:read' });

export { residentsPages } from './residents.pages.js';
export { residentsRoutes } from './residents.routes.js';
export type {
  Audience,
  ConsentView,
  ContactChannel,
  ContactEntry,
  ErasureReport,
  HeldData,
  ResidentDataHolder,
  ResidentInput,
  ResidentKey,
  ResidentView,
  SiteChoice,
  SubscriptionInput,
  SubscriptionKind,
  SubscriptionView,
  TopicView,
} from './residents.schema.js';
export { purposeName, wordingText } from './consents.wording.js';
export type { ResidentExport } from './rights.service.js';
export { DEFAULT_CHANNELS, normalisePostcode, quietUntil, ResidentsService } from './residents.service.js';
