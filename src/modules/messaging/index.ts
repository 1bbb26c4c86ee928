import { definePermissions } from '../../platform/auth/roles.js';
import { consoleNav } from '../../platform/web/web.js';

definePermissions({
  'notify:api': { description: 'Use the GOV.UK Notify-compatible API at /v2/ (held by messaging services’ API keys, not by staff)', roles: [] },
  'messaging:manage': { description: 'Set up messaging services, their API keys, callbacks and delivery providers', roles: [] },
  'templates:manage': { description: 'Write and change message templates', roles: ['comms', 'service'] },
  'messages:read': { description: 'See sent messages, their status and the development inbox', roles: ['comms', 'service'] },
  'messages:send': { description: 'Send campaigns: upload recipient lists, start, pause and cancel them', roles: ['comms', 'service'] },
});

consoleNav.push({ href: '/console/messaging', text: 'Messaging', permission: 'messages:read' });

export { Callbacks } from './callbacks.js';
export { Delivery, INBOX, registerProviderKind } from './delivery.js';
export { InboundCallbacks } from './inbound-callbacks.js';
export { inboundCallbackRoutes } from './inbound-callbacks.routes.js';
export { Campaigns } from './campaigns.service.js';
export { campaignRoutes, messagingRoutes } from './messaging.routes.js';
export { messagingPages } from './messaging.pages.js';
export { MessagingService } from './messaging.service.js';
export { bearerToken } from './notify.auth.js';
export { notifyRoutes } from './notify.routes.js';
export { NotifySending } from './notify.service.js';
export { PAY_RECONCILE_JOB, type PayLinkView, Payments, payLinkSentWith } from './payments.js';
export { paymentsRoutes } from './payments.routes.js';
export { PrintBatches } from './print.js';
export { printRoutes } from './print.routes.js';
export { FALLBACK_JOB, ResidentSending } from './resident-sending.js';
export { receiptsRoutes } from './receipts.routes.js';
export { ReceiptsService } from './receipts.service.js';
// The provider kinds beyond SMTP (Twilio-compatible, GOV.UK Notify relay, signed webhook, print) register with delivery.
import './providers/index.js';
