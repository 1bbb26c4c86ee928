import { registerProviderKind } from '../delivery.js';
import type { MessageProvidersTable } from '../messaging.repository.js';
import { NotifyRelayProvider, type NotifyRelaySettings } from './notify-relay.js';
import { PrintProvider, type PrintSettings } from './print.js';
import { TwilioProvider, type TwilioSettings } from './twilio.js';
import { WebhookProvider, type WebhookSettings } from './webhook.js';

/**
 * The HTTP provider kinds, registered with delivery when the messaging module loads. Each is
 * built from its row's settings and its opened secrets (README-providers.md lists both).
 */
export const twilioProvider = (row: MessageProvidersTable, secrets: Record<string, string>) =>
  new TwilioProvider(row.id, row.name, row.channel, row.settings_json as unknown as TwilioSettings, secrets.authToken ?? '');
export const notifyRelayProvider = (row: MessageProvidersTable, secrets: Record<string, string>) =>
  new NotifyRelayProvider(row.id, row.name, row.channel, row.settings_json as unknown as NotifyRelaySettings, secrets.apiKey ?? '');
export const printProvider = (row: MessageProvidersTable) => new PrintProvider(row.id, row.name, row.channel, row.settings_json as PrintSettings);
export const webhookProvider = (row: MessageProvidersTable, secrets: Record<string, string>) =>
  new WebhookProvider(row.id, row.name, row.channel, row.settings_json as unknown as WebhookSettings, secrets.signingSecret ?? '');

registerProviderKind('twilio', twilioProvider);
registerProviderKind('notify', notifyRelayProvider);
registerProviderKind('webhook', webhookProvider);
registerProviderKind('print', printProvider);
