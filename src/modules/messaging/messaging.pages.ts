import { dirname, join } from 'node:path';
import { originOf as origin } from '../../platform/audit/origin.js';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';
import { AppError, type FieldError, platformErrors } from '../../platform/errors.js';
import { londonDay, londonInstant } from '../../platform/dates.js';
import { stackedBarChart } from '../../platform/web/chart.js';
import type { UploadedFile } from '../../platform/web/forms.js';
import { errorFor, errorList, serveAssets } from '../../platform/web/web.js';
import { isBlankRow, parseCsv } from '../../platform/csv.js';
import type { Campaigns, CampaignView } from './campaigns.service.js';
import { type Delivery, INBOX, type ProviderHealth } from './delivery.js';
import type { NotificationsTable, TemplateRow } from './messaging.repository.js';
import {
  CHANNELS,
  type Channel,
  FAILED_STATUSES,
  KEY_TYPES,
  KeyCreate,
  PROVIDER_KINDS,
  ProviderInput,
  type ProviderView,
  ServiceCreate,
  type ServiceView,
  STATUSES,
  TemplateInput,
} from './messaging.schema.js';
import { HIDDEN_TEXT, type MessagingService, PRECOMPILED_TEMPLATE } from './messaging.service.js';
import {
  addressLinesFromPersonalisation,
  placeholderKey,
  placeholders,
  type RenderedSms,
  renderLetter,
  renderRcs,
  renderSms,
  renderVoice,
  SMS_CHAR_COUNT_LIMIT,
  smsCostPence,
} from './render/index.js';
import { type AudiencePagesDeps, audiencePages } from './campaigns-audience.pages.js';
import type { PrintBatches } from './print.js';
import { printPages } from './print.pages.js';
import { renderFor, variant } from './rendering.js';
import { CHANNEL_NAMES, fieldErrors, formError, MAX_RATE, managePage, param, perms, query, readPage, sendPage, str, UUID, VIEWS, WHOLE, writePage } from './pages.shared.js';

export { CHANNEL_NAMES } from './pages.shared.js';

export interface MessagingPagesDeps extends AudiencePagesDeps {
  messaging: MessagingService;
  delivery: Pick<Delivery, 'health'>;
  campaigns: Campaigns;
  print: PrintBatches;
  config: Pick<Config, 'publicUrl' | 'importBodyLimit'>;
}

const PUBLIC = join(dirname(fileURLToPath(import.meta.url)), 'public');
const PAGE_SIZE = 50;
const DAY = 86_400_000;
/** The cost estimate's price of a text message part when no SMS provider gives its own (settings.pencePerPart). */
export const DEFAULT_PENCE_PER_PART = 2;

const CHANNEL_PLURALS: Record<Channel, string> = { email: 'email', sms: 'text messages', letter: 'letters', voice: 'voice calls', rcs: 'RCS messages' };
export const STATUS_NAMES: Record<string, string> = {
  created: 'Waiting to send',
  sending: 'Sending',
  pending: 'Pending',
  sent: 'Sent',
  delivered: 'Delivered',
  'permanent-failure': 'Permanent failure',
  'temporary-failure': 'Temporary failure',
  'technical-failure': 'Technical failure',
  accepted: 'Accepted for printing',
  received: 'Received by the printer',
  cancelled: 'Cancelled',
};
const STATUS_GROUPS = [
  { text: 'Waiting', statuses: ['created'] },
  { text: 'Sending', statuses: ['sending', 'pending', 'sent', 'accepted'] },
  { text: 'Delivered', statuses: ['delivered', 'received'] },
  { text: 'Failed', statuses: FAILED_STATUSES as string[] },
  { text: 'Cancelled', statuses: ['cancelled'] },
];
const KEY_TYPE_TEXT: Record<string, { text: string; hint: string }> = {
  normal: { text: 'Live', hint: 'Sends to anyone' },
  team: { text: 'Team and guest list', hint: 'Sends only to the service’s team members: for trying things out' },
  test: { text: 'Test', hint: 'Pretends to send: nothing leaves Weft and the messages show as delivered' },
};
const POSTAGE = [
  { value: 'second', text: 'Second class' },
  { value: 'first', text: 'First class' },
  { value: 'economy', text: 'Economy' },
];
/** The address fields of a letter's personalisation, as in Notify's API; the preview fills them with a sample. */
const ADDRESS_NAMES = ['address_line_1', 'address_line_2', 'address_line_3', 'address_line_4', 'address_line_5', 'address_line_6', 'postcode'];
const SAMPLE_ADDRESS: Record<string, string> = { address_line_1: 'A Resident', address_line_2: '1 Example Street', address_line_3: 'Exampletown', postcode: 'SW1A 1AA' };
const MAX_MENU_ROWS = 9;

/** A provider kind on the form: the channels it sends and its settings (a `secret` goes to the sealed secrets). */
interface SettingField {
  key: string;
  label: string;
  hint?: string;
  /** `service`: one of the messaging services, chosen from a list */
  kind: 'text' | 'number' | 'yesno' | 'secret' | 'url' | 'service';
  required?: boolean;
  default?: string;
}
export const PROVIDER_KIND_FORMS: Record<ProviderKind, { text: string; hint: string; channels: Channel[]; fields: SettingField[] }> = {
  smtp: {
    text: 'SMTP email server',
    hint: 'Email through your own mail server or an email service',
    channels: ['email'],
    fields: [
      { key: 'host', label: 'Server name', hint: 'For example, smtp.example.gov.uk', kind: 'text', required: true },
      { key: 'port', label: 'Port', hint: 'Usually 587, or 465 for TLS from the start', kind: 'number', required: true, default: '587' },
      { key: 'secure', label: 'Use TLS from the start (port 465)', kind: 'yesno' },
      { key: 'user', label: 'User name (optional)', kind: 'text' },
      { key: 'password', label: 'Password (optional)', kind: 'secret' },
    ],
  },
  twilio: {
    text: 'Twilio, or a service with the same API',
    hint: 'Text messages, voice calls and RCS',
    channels: ['sms', 'voice', 'rcs'],
    fields: [
      { key: 'accountSid', label: 'Account SID', kind: 'text', required: true },
      { key: 'from', label: 'Send from (optional)', hint: 'A phone number in international format, like +447700900123, or a sender name of up to 11 characters', kind: 'text' },
      { key: 'messagingServiceSid', label: 'Messaging service SID (optional)', hint: 'Needed for RCS', kind: 'text' },
      { key: 'baseUrl', label: 'API address (optional)', hint: 'Leave empty for https://api.twilio.com', kind: 'url' },
      { key: 'statusCallbackUrl', label: 'Weft’s public address (optional)', hint: 'Twilio sends delivery receipts, replies and keypresses here. Without it there are no receipts.', kind: 'url' },
      { key: 'inboundServiceId', label: 'Replies go to (optional)', hint: 'The messaging service that gets texts sent to this number. STOP works without one.', kind: 'service' },
      { key: 'authToken', label: 'Auth token', kind: 'secret', required: true },
    ],
  },
  notify: {
    text: 'GOV.UK Notify',
    hint: 'Relays email, text messages and letters through a GOV.UK Notify service',
    channels: ['email', 'sms', 'letter'],
    fields: [
      { key: 'templateId', label: 'Notify template ID', hint: 'A template in your Notify service whose subject is ((subject)) and whose message is ((body))', kind: 'text', required: true },
      { key: 'baseUrl', label: 'API address (optional)', hint: 'Leave empty for https://api.notifications.service.gov.uk', kind: 'url' },
      { key: 'apiKey', label: 'API key', kind: 'secret', required: true },
    ],
  },
  webhook: {
    text: 'Signed webhook',
    hint: 'Weft posts each message to your supplier’s address, signed',
    channels: ['email', 'sms', 'letter', 'voice', 'rcs'],
    fields: [
      { key: 'url', label: 'Address to post messages to', hint: 'For example, https://supplier.example.com/messages', kind: 'url', required: true },
      { key: 'signingSecret', label: 'Signing secret', hint: 'Shared with the supplier, who checks each message’s signature with it', kind: 'secret', required: true },
    ],
  },
  print: { text: 'Print batch', hint: 'Letters are added to the daily print batch', channels: ['letter'], fields: [] },
  inbox: {
    text: 'Development inbox',
    hint: 'Nothing leaves Weft: messages are kept to be read in the console. Use it for a channel you are testing',
    channels: ['email', 'sms', 'letter', 'voice', 'rcs'],
    fields: [],
  },
};

/** Midnight in London on the day of `at`, as an instant (right across the clock changes). */
export function startOfLondonDay(at: Date): Date {
  return londonInstant(londonDay(at), 0);
}

/** Pence as people write them: 2p, 4.54p, £1.20. */
export function formatPence(pence: number): string {
  if (pence >= 100) return `£${(pence / 100).toFixed(2)}`;
  return `${Number(pence.toFixed(2))}p`;
}

/** What a text message takes, in words: characters, parts, the cost estimate and why it may be high. */
export function smsSummary(r: RenderedSms, pencePerPart: number): string {
  if (r.empty) return 'Your message is empty.';
  const characters = `${r.characters.toLocaleString('en-GB')} ${r.characters === 1 ? 'character' : 'characters'}`;
  const parts = `${r.fragments} text message ${r.fragments === 1 ? 'part' : 'parts'}`;
  let s = `${characters}: ${parts}. Estimated cost ${formatPence(smsCostPence(r.fragments, pencePerPart))} a message, at ${formatPence(pencePerPart)} a part.`;
  if (r.encoding === 'UCS-2') s += ` It has characters outside the standard text message alphabet (${r.nonGsmCharacters.join(' ')}), so each part holds fewer characters.`;
  return r.tooLong ? `${r.tooLongMessage} ${s}` : s;
}

/** The price of a part from the first enabled text message provider that gives one. */
function pencePerPart(providers: ProviderView[]): number {
  for (const p of providers) {
    const price = Number(p.settings.pencePerPart);
    if (p.channel === 'sms' && p.enabled && Number.isFinite(price) && price > 0) return price;
  }
  return DEFAULT_PENCE_PER_PART;
}

function countTable(rows: { type: string; status: string; n: number }[]) {
  const byChannel = CHANNELS.map((channel) => {
    const mine = rows.filter((r) => r.type === channel);
    const cells = STATUS_GROUPS.map((g) => mine.filter((r) => g.statuses.includes(r.status)).reduce((a, r) => a + r.n, 0));
    return { channel, name: CHANNEL_NAMES[channel], cells, total: mine.reduce((a, r) => a + r.n, 0) };
  });
  return {
    columns: STATUS_GROUPS.map((g) => g.text),
    rows: byChannel,
    totals: STATUS_GROUPS.map((_, i) => byChannel.reduce((a, r) => a + r.cells[i], 0)),
    total: byChannel.reduce((a, r) => a + r.total, 0),
  };
}

function channelProviders(providers: ProviderView[], health: Map<string, ProviderHealth>) {
  return CHANNELS.map((channel) => {
    const mine = providers.filter((p) => p.channel === channel).map((p) => ({ ...p, health: health.get(p.id) }));
    return { channel, name: CHANNEL_NAMES[channel], providers: mine, enabled: mine.filter((p) => p.enabled).length };
  });
}

export function messagingPages(deps: MessagingPagesDeps) {
  return async (app: FastifyInstance) => {
    await serveAssets(app, { prefix: '/assets/messaging/', root: PUBLIC, files: ['messaging.css', 'sms-count.mjs'] });
    await app.register(overviewPages(deps));
    await app.register(servicePages(deps));
    await app.register(templatePages(deps));
    await app.register(notificationPages(deps));
    await app.register(providerPages(deps));
    await app.register(campaignPages(deps));
    await app.register(dashboardPages(deps));
    await app.register(printPages(deps));
    await app.register(audiencePages(deps));
  };
}

// ---------------------------------------------------------------- overview

function overviewPages({ messaging, delivery }: MessagingPagesDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/messaging', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const now = new Date();
      const [services, providers, today, week] = await Promise.all([
        messaging.listServices(),
        messaging.listProviders(),
        messaging.countByChannelAndStatus(startOfLondonDay(now)),
        messaging.countByChannelAndStatus(startOfLondonDay(new Date(now.getTime() - 6 * DAY))),
      ]);
      return reply.page(`${VIEWS}/overview.njk`, {
        pageTitle: 'Messaging',
        services,
        today: countTable(today),
        week: countTable(week),
        channels: channelProviders(providers, delivery.health),
        ...perms(request),
      });
    });
  };
}

// ---------------------------------------------------------------- services and their API keys

const SERVICE_FIELDS = ['name', 'smsSender', 'emailFrom', 'emailReplyTo', 'teamMembers', 'rateLimitPerMinute', 'dailyLimit'];
const SERVICE_MESSAGES: Record<string, string> = {
  name: 'Enter a name of up to 120 characters',
  smsSender: 'Enter a text message sender of 3 to 11 letters, numbers or spaces',
  emailFrom: 'Enter the email address messages come from, like notifications@example.gov.uk',
  emailReplyTo: 'Enter the reply-to email address, like contact@example.gov.uk',
  teamMembers: 'Enter each team member’s email address or mobile number on its own line',
  rateLimitPerMinute: 'Enter how many messages a minute the service may send, as a whole number from 1 to 10,000,000',
  dailyLimit: 'Enter how many messages a day the service may send, as a whole number from 1 to 100,000,000',
};
const KEY_MESSAGES: Record<string, string> = {
  name: 'Enter a name of up to 80 characters: letters, numbers, spaces, dots, hyphens and underscores',
  keyType: 'Choose the type of key',
};

const numberOr = (v: string) => (v === '' ? undefined : WHOLE.test(v) ? Number(v) : v);

/** The form checked with the API's own schema, each field's error in plain words, in the order of the form. */
function checkAgainst(schema: Parameters<typeof Value.Errors>[0], input: unknown, messages: Record<string, string>, order: string[]): FieldError[] {
  const errors: FieldError[] = [];
  for (const e of Value.Errors(schema, input)) {
    const field = e.path.replace(/^\//, '').split('/')[0] || order[0];
    if (!errors.some((x) => x.field === field)) errors.push({ field, message: messages[field] ?? e.message });
  }
  return errors.sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field));
}

function servicePages({ messaging, config }: MessagingPagesDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/messaging/services', { config: managePage, schema: { hide: true } }, async (request, reply) =>
      reply.page(`${VIEWS}/services.njk`, { pageTitle: 'Messaging services', services: await messaging.listServices(), ...perms(request) }),
    );

    const showForm = (reply: FastifyReply, values: Record<string, string>, fields: FieldError[]) =>
      reply.page(`${VIEWS}/service-form.njk`, { pageTitle: 'Add a messaging service', values, errors: errorList(fields), fieldErrors: fieldErrors(fields, SERVICE_FIELDS) }, fields.length ? 400 : 200);

    app.get('/console/messaging/services/new', { config: managePage, schema: { hide: true } }, async (_request, reply) => showForm(reply, { rateLimitPerMinute: '3000', dailyLimit: '250000' }, []));

    app.post('/console/messaging/services/new', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const values = Object.fromEntries(SERVICE_FIELDS.map((f) => [f, str(body[f]).trim()]));
      const input: Record<string, unknown> = { name: values.name };
      for (const f of ['smsSender', 'emailFrom', 'emailReplyTo']) if (values[f]) input[f] = values[f];
      for (const f of ['rateLimitPerMinute', 'dailyLimit']) if (values[f]) input[f] = numberOr(values[f]);
      const members = values.teamMembers
        .split(/\r?\n/)
        .map((m) => m.trim())
        .filter(Boolean);
      if (members.length) input.teamMembers = members;
      const errors = checkAgainst(ServiceCreate, input, SERVICE_MESSAGES, SERVICE_FIELDS);
      if (!values.name) {
        const at = errors.findIndex((e) => e.field === 'name');
        if (at >= 0) errors.splice(at, 1);
        errors.unshift({ field: 'name', message: 'Enter a name for the service' });
      }
      if (errors.length) return showForm(reply, values, errors);
      try {
        request.audited = true;
        const service = await messaging.createService(request.actor, input as ServiceCreate, origin(request));
        return reply.redirect(`/console/messaging/services/${service.id}?saved=created`, 303);
      } catch (err) {
        return showForm(reply, values, formError(err, 'name'));
      }
    });

    app.get('/console/messaging/services/:id', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const service = await messaging.getService(param(request, 'id'));
      const [keys, templates] = await Promise.all([messaging.listKeys(service.id), messaging.listTemplates(service.id)]);
      const saved = str(query(request).saved);
      const flash = saved === 'created' ? 'Messaging service added.' : saved === 'revoked' ? 'API key revoked. It no longer works.' : undefined;
      return reply.page(`${VIEWS}/service.njk`, {
        pageTitle: service.name,
        service,
        keys,
        templates: templates.length,
        keyTypes: KEY_TYPE_TEXT,
        flash,
        publicUrl: config.publicUrl,
        ...perms(request),
      });
    });

    const showKeyForm = async (reply: FastifyReply, serviceId: string, values: Record<string, string>, fields: FieldError[]) => {
      const service = await messaging.getService(serviceId);
      return reply.page(
        `${VIEWS}/key-form.njk`,
        {
          pageTitle: 'Create an API key',
          service,
          values,
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, ['name', 'keyType']),
          typeItems: KEY_TYPES.map((k) => ({ value: k, text: KEY_TYPE_TEXT[k].text, hint: { text: KEY_TYPE_TEXT[k].hint }, checked: values.keyType === k })),
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/messaging/services/:id/keys/new', { config: managePage, schema: { hide: true } }, async (request, reply) => showKeyForm(reply, param(request, 'id'), {}, []));

    app.post('/console/messaging/services/:id/keys/new', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const values = { name: str(body.name).trim(), keyType: str(body.keyType) };
      const errors = checkAgainst(KeyCreate, values, KEY_MESSAGES, ['name', 'keyType']);
      if (errors.length) return showKeyForm(reply, param(request, 'id'), values, errors);
      request.audited = true;
      const { key, apiKey } = await messaging.createKey(request.actor, param(request, 'id'), values as KeyCreate, origin(request));
      const service = await messaging.getService(param(request, 'id'));
      // The whole key is shown on this page only: it is not kept anywhere it could be read again.
      return reply.page(`${VIEWS}/key-created.njk`, { pageTitle: 'API key created', service, key, apiKey, keyType: KEY_TYPE_TEXT[key.keyType], publicUrl: config.publicUrl });
    });

    const liveKey = async (request: FastifyRequest) => {
      const service = await messaging.getService(param(request, 'id'));
      const key = (await messaging.listKeys(service.id)).find((k) => k.id === param(request, 'keyId').toLowerCase() && !k.revokedAt);
      if (!key) throw platformErrors.NOT_FOUND('There is no API key with that id for this service, or it has already been revoked.');
      return { service, key };
    };

    app.get('/console/messaging/services/:id/keys/:keyId/revoke', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const { service, key } = await liveKey(request);
      return reply.page(`${VIEWS}/key-revoke.njk`, { pageTitle: `Revoke the API key ${key.name}`, service, key });
    });

    app.post('/console/messaging/services/:id/keys/:keyId/revoke', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const { service, key } = await liveKey(request);
      request.audited = true;
      await messaging.revokeKey(request.actor, service.id, key.id, origin(request));
      return reply.redirect(`/console/messaging/services/${service.id}?saved=revoked`, 303);
    });
  };
}

// ---------------------------------------------------------------- templates

const TEMPLATE_FIELDS = ['name', 'subject', 'body', 'menu', 'suggestions', 'postage', 'subjectCy', 'bodyCy'];
const hasSubject = (type: string) => type === 'email' || type === 'letter';
const BODY_HINTS: Record<Channel, string> = {
  email: 'Put ((double brackets)) around what changes for each person, like ((first name)). Start a line with # for a heading, * for a bullet, ^ for inset text; --- on its own line draws a rule.',
  sms: 'Put ((double brackets)) around what changes for each person, like ((first name)).',
  voice: 'Put ((double brackets)) around what changes for each person. Each line is read as a sentence; web addresses are read out.',
  rcs: 'Put ((double brackets)) around what changes for each person, like ((first name)).',
  letter:
    'Put ((double brackets)) around what changes for each person. Start a line with # for a heading or * for a bullet; --- on its own line starts a new page. The address comes from address_line_1 to address_line_6 and postcode.',
};

type Cells = Record<string, string>;

function templateCells(body: Record<string, unknown>): Cells {
  const text = (k: string) => str(body[k]).replace(/\r\n?/g, '\n');
  const cells: Cells = {};
  for (const f of ['name', 'subject', 'subjectCy', 'postage']) cells[f] = text(f).trim();
  for (const f of ['body', 'bodyCy', 'suggestions']) cells[f] = text(f);
  for (let i = 0; i < MAX_MENU_ROWS; i++) for (const p of ['key', 'label']) cells[`menu-${i}-${p}`] = text(`menu-${i}-${p}`).trim();
  return cells;
}

function templateToCells(t: TemplateRow): Cells {
  const cells: Cells = {
    name: t.name,
    subject: t.subject ?? '',
    body: t.body,
    subjectCy: t.subject_cy ?? '',
    bodyCy: t.body_cy ?? '',
    suggestions: (t.options_json.suggestions ?? []).join('\n'),
    postage: t.options_json.postage ?? 'second',
  };
  (t.options_json.menu ?? []).forEach((m, i) => {
    cells[`menu-${i}-key`] = m.key;
    cells[`menu-${i}-label`] = m.label;
  });
  return cells;
}

/** The form as the API's TemplateInput and its errors: the schema's, and what Notify refuses when a template is saved. */
function templateInput(type: Channel, cells: Cells): { input: TemplateInput; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const add = (field: string, message: string) => {
    if (!errors.some((e) => e.field === field)) errors.push({ field, message });
  };
  const input: Record<string, unknown> = { name: cells.name, type, body: cells.body };
  const subjectWord = type === 'email' ? 'subject line' : 'heading';
  if (!cells.name) add('name', 'Enter a name for the template');
  if (hasSubject(type)) {
    input.subject = cells.subject;
    if (!cells.subject) add('subject', `Enter a ${subjectWord}`);
  }
  if (!cells.body.trim()) add('body', 'Enter the message');
  if (cells.bodyCy.trim()) {
    input.bodyCy = cells.bodyCy;
    if (hasSubject(type)) {
      input.subjectCy = cells.subjectCy;
      if (!cells.subjectCy) add('subjectCy', `Enter the Welsh ${subjectWord}, or clear the Welsh message`);
    }
  } else if (cells.subjectCy) add('bodyCy', `Enter the Welsh message, or clear the Welsh ${subjectWord}`);
  const menuRows: number[] = [];
  if (type === 'voice') {
    const menu: { key: string; label: string }[] = [];
    for (let i = 0; i < MAX_MENU_ROWS; i++) {
      const key = cells[`menu-${i}-key`];
      const label = cells[`menu-${i}-label`];
      if (!key && !label) continue;
      if (key && menu.some((m) => m.key === key)) add(`menu-${i}-key`, `Key ${key} is already used. Choose another key`);
      if (!key) add(`menu-${i}-key`, 'Enter the key to press: a number from 0 to 9, * or #');
      if (!label) add(`menu-${i}-label`, 'Enter what pressing the key does, like “confirm”');
      menu.push({ key, label });
      menuRows.push(i);
    }
    if (menu.length) input.menu = menu;
  }
  if (type === 'rcs') {
    const suggestions = cells.suggestions
      .split('\n')
      .map((s) => s.trim())
      .filter(Boolean);
    if (suggestions.length) input.suggestions = suggestions;
  }
  if (type === 'letter') input.postage = cells.postage || 'second';

  for (const e of Value.Errors(TemplateInput, input)) {
    const [prop, index, part] = e.path.replace(/^\//, '').split('/');
    if (prop === 'menu' && index !== undefined && part) {
      const i = menuRows[Number(index)];
      add(`menu-${i}-${part}`, part === 'key' ? 'Enter the key to press: a number from 0 to 9, * or #' : 'Enter what pressing the key does, in up to 200 characters');
    } else if (prop === 'menu') add('menu-0-key', `A menu can have at most ${MAX_MENU_ROWS} choices`);
    else if (prop === 'suggestions') add('suggestions', 'Enter up to 11 suggested replies, one on each line, each of up to 25 characters');
    else if (prop === 'name') add('name', 'Enter a name of up to 200 characters');
    else if (prop === 'subject' || prop === 'subjectCy') add(prop, `Enter a ${subjectWord} of up to 1,000 characters`);
    else if (prop === 'body' || prop === 'bodyCy') add(prop, 'The message must be 100,000 characters or fewer');
    else if (prop === 'postage') add('postage', 'Choose first class, second class or economy');
    else add(prop || 'body', e.message);
  }
  // As Notify's own template form: a text message over the limit cannot be saved.
  if (type === 'sms')
    for (const f of ['body', 'bodyCy']) {
      const r = renderSms(cells[f]);
      if (cells[f].trim() && r.tooLong) add(f, `Text messages cannot be longer than ${SMS_CHAR_COUNT_LIMIT} characters. This one is ${r.contentLength} characters long.`);
    }
  const order = [...TEMPLATE_FIELDS.slice(0, 3), ...Array.from({ length: MAX_MENU_ROWS }, (_, i) => [`menu-${i}-key`, `menu-${i}-label`]).flat(), ...TEMPLATE_FIELDS.slice(3)];
  errors.sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field));
  return { input: input as TemplateInput, errors };
}

/** What the form's preview button shows: the template as written, placeholders left as they are. */
function formPreview(type: Channel, cells: Cells, price: number, serviceName: string) {
  const { input } = templateInput(type, cells);
  const t = { type, subject: input.subject ?? null, body: input.body, options_json: { menu: input.menu, suggestions: input.suggestions, postage: input.postage } } as TemplateRow;
  return renderedPreview(t, {}, 'en', price, serviceName);
}

/** A template rendered for the preview page, the form's preview and the inbox (letters and email HTML have routes of their own). */
function renderedPreview(t: TemplateRow, personalisation: Record<string, unknown>, language: 'en' | 'cy', price: number, serviceName: string) {
  const v = variant(t, language);
  switch (t.type) {
    case 'sms': {
      const r = renderSms(v.body, personalisation);
      return { type: t.type, text: r.text, summary: smsSummary(r, price), encoding: r.encoding, fragments: r.fragments, missing: r.missing };
    }
    case 'voice': {
      const r = renderVoice(v.body, personalisation, { menu: t.options_json.menu, language });
      return { type: t.type, text: r.speech, menu: r.menu.map((m) => m.sentence), problems: r.errors, missing: r.missing };
    }
    case 'rcs': {
      const r = renderRcs(v.body, personalisation, { suggestions: t.options_json.suggestions });
      return { type: t.type, text: r.text, suggestions: r.suggestions.map((s) => s.text), problems: r.errors, missing: r.missing };
    }
    default: {
      // Email and letters: their plain text here; the HTML and the PDF have addresses of their own.
      const r = renderFor(t, personalisation, language, { name: serviceName });
      return { type: t.type, subject: r.subject, text: r.body, missing: r.missing };
    }
  }
}

/** The placeholders a preview asks for: a letter's address first, then the template's, each once. */
function previewNames(t: TemplateRow): string[] {
  const texts = [t.subject ?? '', t.body, t.subject_cy ?? '', t.body_cy ?? '', ...(t.options_json.menu ?? []).map((m) => m.label), ...(t.options_json.suggestions ?? [])];
  const names = placeholders(texts);
  if (t.type !== 'letter') return names;
  const address = new Set(ADDRESS_NAMES.map(placeholderKey));
  return [...ADDRESS_NAMES, ...names.filter((n) => !address.has(placeholderKey(n)))];
}

/**
 * The preview's personalisation from the query: one field a placeholder, p0, p1… in the order
 * of previewNames. On a first visit (no fields sent) a letter gets a sample address.
 */
function previewFields(t: TemplateRow, q: Record<string, unknown>) {
  const names = previewNames(t);
  const first = !names.some((_, i) => `p${i}` in q);
  const fields = names.map((name, i) => ({ id: `p${i}`, name, value: first ? (SAMPLE_ADDRESS[name] ?? '') : str(q[`p${i}`]) }));
  const personalisation = Object.fromEntries(fields.filter((f) => f.value !== '').map((f) => [f.name, f.value]));
  const language: 'en' | 'cy' = str(q.language) === 'cy' && t.body_cy ? 'cy' : 'en';
  const params = new URLSearchParams();
  params.set('version', String(t.version));
  if (language === 'cy') params.set('language', 'cy');
  for (const f of fields) params.set(f.id, f.value);
  return { fields, personalisation, language, query: params.toString() };
}

/** A version asked for in the query, or the current one. */
function versionOf(q: Record<string, unknown>): number | undefined {
  const v = str(q.version);
  return /^\d{1,6}$/.test(v) ? Number(v) : undefined;
}

/**
 * Email HTML is shown in a sandboxed frame from an address of its own: its inline styles need
 * a policy of their own (the console allows none), and it may run nothing and reach nothing.
 */
function sendEmailHtml(reply: FastifyReply, html: string) {
  return reply
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox")
    .header('x-frame-options', 'SAMEORIGIN')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}

function sendPdf(reply: FastifyReply, pdf: Buffer, name: string) {
  return reply.header('cache-control', 'no-store').header('content-disposition', `inline; filename="${name}.pdf"`).type('application/pdf').send(pdf);
}

const fileName = (s: string) =>
  s
    .replace(/[^A-Za-z0-9 _-]+/g, '')
    .trim()
    .replace(/\s+/g, '-')
    .toLowerCase() || 'letter';

function templatePages({ messaging }: MessagingPagesDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/messaging/templates', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const serviceId = str(query(request).serviceId);
      const all = await messaging.listServices();
      const services = serviceId ? all.filter((s) => s.id === serviceId.toLowerCase()) : all;
      const groups = await Promise.all(services.map(async (service) => ({ service, templates: await messaging.listTemplates(service.id) })));
      return reply.page(`${VIEWS}/templates.njk`, { pageTitle: 'Templates', groups, filtered: !!serviceId, channelNames: CHANNEL_NAMES, ...perms(request) });
    });

    const price = async () => pencePerPart(await messaging.listProviders());

    const showForm = async (reply: FastifyReply, ctx: { serviceId: string; template: TemplateRow | null; type: Channel; values: Cells; fields: FieldError[]; preview?: boolean }) => {
      const { template, type, values, fields } = ctx;
      const service = await messaging.getService(ctx.serviceId);
      const p = await price();
      const filled = Math.max(-1, ...Array.from({ length: MAX_MENU_ROWS }, (_, i) => (values[`menu-${i}-key`] || values[`menu-${i}-label`] ? i : -1))) + 1;
      const menuRows = Array.from({ length: Math.min(MAX_MENU_ROWS, Math.max(5, filled + 2)) }, (_, i) => {
        const part = (name: string) => ({ id: `menu-${i}-${name}`, value: values[`menu-${i}-${name}`] ?? '', error: errorFor(fields, `menu-${i}-${name}`) });
        return { number: i + 1, key: part('key'), label: part('label') };
      });
      const subjectLabel = type === 'email' ? 'Subject line' : 'Heading';
      return reply.page(
        `${VIEWS}/template-form.njk`,
        {
          pageTitle: template ? `Change ${template.name}` : `New ${CHANNEL_NAMES[type].toLowerCase()} template`,
          service,
          template,
          type,
          typeName: CHANNEL_NAMES[type],
          action: template ? `/console/messaging/templates/${template.id}/edit` : `/console/messaging/services/${service.id}/templates/new`,
          backUrl: template ? `/console/messaging/templates/${template.id}` : `/console/messaging/templates?serviceId=${service.id}`,
          values,
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, TEMPLATE_FIELDS),
          hasSubject: hasSubject(type),
          subjectLabel,
          bodyHint: BODY_HINTS[type],
          menuRows,
          postageItems: POSTAGE.map((o) => ({ ...o, checked: (values.postage || 'second') === o.value })),
          welshOpen: !!(values.bodyCy?.trim() || values.subjectCy || fields.some((f) => f.field.endsWith('Cy'))),
          counts: type === 'sms' ? { body: smsSummary(renderSms(values.body ?? ''), p), bodyCy: smsSummary(renderSms(values.bodyCy ?? ''), p) } : null,
          preview: ctx.preview ? formPreview(type, values, p, service.name) : null,
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/messaging/services/:id/templates/new', { config: writePage, schema: { hide: true } }, async (request, reply) => {
      const service = await messaging.getService(param(request, 'id'));
      const q = query(request);
      const type = str(q.type);
      if (CHANNELS.includes(type as Channel)) return showForm(reply, { serviceId: service.id, template: null, type: type as Channel, values: { postage: 'second' }, fields: [] });
      const fields = 'type' in q ? [{ field: 'type', message: 'Choose the kind of message' }] : [];
      return reply.page(
        `${VIEWS}/template-type.njk`,
        {
          pageTitle: 'What kind of message is the template for?',
          service,
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, ['type']),
          typeItems: CHANNELS.map((c) => ({ value: c, text: CHANNEL_NAMES[c] })),
        },
        fields.length ? 400 : 200,
      );
    });

    app.post('/console/messaging/services/:id/templates/new', { config: writePage, schema: { hide: true } }, async (request, reply) => {
      const service = await messaging.getService(param(request, 'id'));
      const body = (request.body ?? {}) as Record<string, unknown>;
      const type = str(body.type) as Channel;
      if (!CHANNELS.includes(type)) return reply.redirect(`/console/messaging/services/${service.id}/templates/new?type=`, 303);
      const values = templateCells(body);
      if (str(body.action) === 'preview') {
        request.audited = true; // a preview changes nothing
        return showForm(reply, { serviceId: service.id, template: null, type, values, fields: [], preview: true });
      }
      const { input, errors } = templateInput(type, values);
      if (errors.length) return showForm(reply, { serviceId: service.id, template: null, type, values, fields: errors });
      try {
        request.audited = true;
        const template = await messaging.createTemplate(request.actor, service.id, input, origin(request));
        return reply.redirect(`/console/messaging/templates/${template.id}?saved=created`, 303);
      } catch (err) {
        return showForm(reply, { serviceId: service.id, template: null, type, values, fields: formError(err, 'body', { menu: 'menu-0-key' }) });
      }
    });

    app.get('/console/messaging/templates/:id', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const q = query(request);
      const template = await messaging.getTemplate(param(request, 'id'), versionOf(q));
      const [service, versions] = await Promise.all([messaging.getService(template.service_id), messaging.templateVersions(template.id)]);
      const saved = str(q.saved);
      const flash = saved === 'created' ? 'Template saved.' : saved === 'changed' ? `Saved as version ${template.version}.` : undefined;
      return reply.page(`${VIEWS}/template.njk`, {
        pageTitle: template.name,
        template,
        service,
        versions,
        current: versions[0]?.version ?? template.version,
        typeName: CHANNEL_NAMES[template.type as Channel],
        postageName: POSTAGE.find((p) => p.value === template.options_json.postage)?.text ?? template.options_json.postage,
        flash,
        ...perms(request),
      });
    });

    app.get('/console/messaging/templates/:id/edit', { config: writePage, schema: { hide: true } }, async (request, reply) => {
      const template = await messaging.getTemplate(param(request, 'id'));
      return showForm(reply, { serviceId: template.service_id, template, type: template.type as Channel, values: templateToCells(template), fields: [] });
    });

    app.post('/console/messaging/templates/:id/edit', { config: writePage, schema: { hide: true } }, async (request, reply) => {
      const template = await messaging.getTemplate(param(request, 'id'));
      const type = template.type as Channel;
      const body = (request.body ?? {}) as Record<string, unknown>;
      const values = templateCells(body);
      const ctx = { serviceId: template.service_id, template, type, values };
      if (str(body.action) === 'preview') {
        request.audited = true; // a preview changes nothing
        return showForm(reply, { ...ctx, fields: [], preview: true });
      }
      const { input, errors } = templateInput(type, values);
      if (errors.length) return showForm(reply, { ...ctx, fields: errors });
      try {
        request.audited = true;
        await messaging.updateTemplate(request.actor, template.id, input, origin(request));
        return reply.redirect(`/console/messaging/templates/${template.id}?saved=changed`, 303);
      } catch (err) {
        return showForm(reply, { ...ctx, fields: formError(err, 'body', { menu: 'menu-0-key' }) });
      }
    });

    app.get('/console/messaging/templates/:id/preview', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const q = query(request);
      const template = await messaging.getTemplate(param(request, 'id'), versionOf(q));
      const service = await messaging.getService(template.service_id);
      const f = previewFields(template, q);
      const base = `/console/messaging/templates/${template.id}`;
      let letter: { pages: number; problems: string[]; missing: string[] } | null = null;
      if (template.type === 'letter') {
        const r = await letterOf(template, f.personalisation, f.language, service.name, new Date());
        letter = { pages: r.pages, problems: [...r.address.errors, ...(r.tooManyPagesMessage ? [r.tooManyPagesMessage] : [])], missing: r.missing };
      }
      const rendered = renderedPreview(template, f.personalisation, f.language, await price(), service.name);
      return reply.page(`${VIEWS}/template-preview.njk`, {
        pageTitle: `Preview ${template.name}`,
        template,
        service,
        fields: f.fields,
        language: f.language,
        languageItems: template.body_cy
          ? [
              { value: 'en', text: 'English', checked: f.language === 'en' },
              { value: 'cy', text: 'Welsh (Cymraeg)', checked: f.language === 'cy' },
            ]
          : null,
        preview: rendered,
        letter,
        emailUrl: `${base}/email.html?${f.query}`,
        pdfUrl: `${base}/letter.pdf?${f.query}`,
        typeName: CHANNEL_NAMES[template.type as Channel],
      });
    });

    app.get('/console/messaging/templates/:id/email.html', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const q = query(request);
      const template = await messaging.getTemplate(param(request, 'id'), versionOf(q));
      if (template.type !== 'email') throw platformErrors.NOT_FOUND('Only email templates have an HTML version.');
      const service = await messaging.getService(template.service_id);
      const f = previewFields(template, q);
      return sendEmailHtml(reply, messaging.render(template, f.personalisation, f.language, service).html ?? '');
    });

    app.get('/console/messaging/templates/:id/letter.pdf', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const q = query(request);
      const template = await messaging.getTemplate(param(request, 'id'), versionOf(q));
      if (template.type !== 'letter') throw platformErrors.NOT_FOUND('Only letter templates print as a PDF.');
      const service = await messaging.getService(template.service_id);
      const f = previewFields(template, q);
      const r = await letterOf(template, f.personalisation, f.language, service.name, new Date());
      return sendPdf(reply, r.pdf, fileName(template.name));
    });

    // The counter under a text message as it is typed (sms-count.mjs). It changes nothing: no audit row.
    app.post(
      '/console/messaging/sms-count',
      {
        config: { permission: 'templates:manage' },
        schema: {
          hide: true,
          body: Type.Object({ body: Type.String({ maxLength: 100_000 }) }, { additionalProperties: false }),
        },
      },
      async (request) => {
        request.audited = true;
        const r = renderSms((request.body as { body: string }).body.replace(/\r\n?/g, '\n'));
        return { summary: smsSummary(r, await price()), characters: r.characters, fragments: r.fragments, encoding: r.encoding, tooLong: r.tooLong };
      },
    );
  };
}

/** A letter as it prints: the template's variant filled in, the address from the personalisation. */
function letterOf(t: TemplateRow, personalisation: Record<string, unknown>, language: 'en' | 'cy', serviceName: string, date: Date, address?: string[] | null) {
  const v = variant(t, language);
  return renderLetter({ subject: v.subject ?? '', body: v.body }, personalisation, address ?? addressLinesFromPersonalisation(personalisation), { serviceName, date, language });
}

// ---------------------------------------------------------------- sent messages and the development inbox

function notificationPages({ messaging, config }: MessagingPagesDeps) {
  // A development instance's inbox shows confidential messages (so a developer can sign in as a resident); nothing else does.
  const reveal = isDevelopmentInstance(config.publicUrl);
  return async (app: FastifyInstance) => {
    const serviceNames = async () => Object.fromEntries((await messaging.listServices()).map((s) => [s.id, s.name]));
    const channelItems = (selected: string) => [{ value: '', text: 'Any' }, ...CHANNELS.map((c) => ({ value: c, text: CHANNEL_NAMES[c], selected: c === selected }))];
    const pager = (path: string, raw: Record<string, string>, rows: NotificationsTable[]) => {
      const { after, ...rest } = raw;
      const keep = Object.fromEntries(Object.entries(rest).filter(([, v]) => v));
      return {
        next: rows.length === PAGE_SIZE ? `${path}?${new URLSearchParams({ ...keep, after: rows[rows.length - 1].id })}` : null,
        first: after ? `${path}${Object.keys(keep).length ? `?${new URLSearchParams(keep)}` : ''}` : null,
      };
    };
    const after = (v: string) => (UUID.test(v) ? v.toLowerCase() : undefined);

    app.get('/console/messaging/inbox', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const q = query(request);
      const raw = { channel: str(q.channel), after: str(q.after) };
      const channel = CHANNELS.includes(raw.channel as Channel) ? raw.channel : '';
      const rows = await messaging.findNotifications({ provider: INBOX, type: channel || undefined, olderThanId: after(raw.after), limit: PAGE_SIZE });
      return reply.page(`${VIEWS}/inbox.njk`, {
        pageTitle: 'Development inbox',
        rows: await messaging.shown(rows, reveal),
        channel,
        invalid: !!raw.channel && !channel,
        channelItems: channelItems(channel),
        channelNames: CHANNEL_NAMES,
        services: await serviceNames(),
        ...pager('/console/messaging/inbox', { ...raw, channel }, rows),
        ...perms(request),
      });
    });

    app.get('/console/messaging/notifications', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const q = query(request);
      const raw = { serviceId: str(q.serviceId), channel: str(q.channel), status: str(q.status), reference: str(q.reference).trim(), after: str(q.after) };
      const services = await messaging.listServices();
      const serviceId = services.some((s) => s.id === raw.serviceId) ? raw.serviceId : '';
      const channel = CHANNELS.includes(raw.channel as Channel) ? raw.channel : '';
      const status = raw.status === 'failed' || STATUSES.includes(raw.status as never) ? raw.status : '';
      const invalid = (!!raw.serviceId && !serviceId) || (!!raw.channel && !channel) || (!!raw.status && !status);
      const clean = { serviceId, channel, status, reference: raw.reference, after: raw.after };
      const rows = await messaging.findNotifications({
        serviceId: serviceId || undefined,
        type: channel || undefined,
        statuses: status === 'failed' ? (FAILED_STATUSES as string[]) : status ? [status] : undefined,
        reference: raw.reference || undefined,
        olderThanId: after(raw.after),
        limit: PAGE_SIZE,
      });
      return reply.page(`${VIEWS}/notifications.njk`, {
        pageTitle: 'Sent messages',
        rows: await messaging.shown(rows),
        query: clean,
        invalid,
        serviceItems: [{ value: '', text: 'Any' }, ...services.map((s) => ({ value: s.id, text: s.name, selected: s.id === serviceId }))],
        channelItems: channelItems(channel),
        statusItems: [
          { value: '', text: 'Any' },
          { value: 'failed', text: 'Any failure', selected: status === 'failed' },
          ...STATUSES.map((s) => ({ value: s, text: STATUS_NAMES[s], selected: s === status })),
        ],
        channelNames: CHANNEL_NAMES,
        statusNames: STATUS_NAMES,
        services: Object.fromEntries(services.map((s) => [s.id, s.name])),
        ...pager('/console/messaging/notifications', clean, rows),
        ...perms(request),
      });
    });

    const found = async (request: FastifyRequest, inbox: boolean) => {
      const n = await messaging.notificationById(param(request, 'id'));
      if (!n || (inbox && n.provider !== INBOX)) throw platformErrors.NOT_FOUND(inbox ? 'There is no message with that id in the development inbox.' : 'There is no message with that id.');
      return n;
    };

    /** The template version a notification was sent with, when it has one still. */
    const templateOf = (n: NotificationsTable) => (n.template_id === PRECOMPILED_TEMPLATE ? Promise.resolve(null) : messaging.getTemplate(n.template_id, n.template_version).catch(() => null));

    const showNotification = async (request: FastifyRequest, reply: FastifyReply, inbox: boolean) => {
      const [n] = await messaging.shown([await found(request, inbox)], inbox && reveal);
      const [service, template] = await Promise.all([messaging.getService(n.service_id), templateOf(n)]);
      const base = `/console/messaging/notifications/${n.id}`;
      // What was sent is what is stored; RCS suggestions and a voice menu come from the template version.
      let extras: { suggestions?: string[] } = {};
      if (n.type === 'rcs' && template && n.body !== HIDDEN_TEXT)
        extras = {
          suggestions: renderRcs(variant(template, n.language as 'en' | 'cy').body, n.personalisation_json, { suggestions: template.options_json.suggestions }).suggestions.map((s) => s.text),
        };
      return reply.page(`${VIEWS}/notification.njk`, {
        pageTitle: `Message to ${n.recipient}`,
        n,
        inbox,
        service,
        template,
        extras,
        sms: n.type === 'sms' ? renderSms(n.body) : null,
        channelName: CHANNEL_NAMES[n.type as Channel] ?? n.type,
        statusNames: STATUS_NAMES,
        emailUrl: `${base}/email.html`,
        pdfUrl: `${base}/letter.pdf`,
        ...perms(request),
      });
    };

    app.get('/console/messaging/inbox/:id', { config: readPage, schema: { hide: true } }, async (request, reply) => showNotification(request, reply, true));
    app.get('/console/messaging/notifications/:id', { config: readPage, schema: { hide: true } }, async (request, reply) => showNotification(request, reply, false));

    app.get('/console/messaging/notifications/:id/email.html', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const n = await found(request, false);
      const template = n.type === 'email' ? await templateOf(n) : null;
      if (!template) throw platformErrors.NOT_FOUND('This message has no HTML version.');
      if (await messaging.isConfidential(n)) throw platformErrors.NOT_FOUND(HIDDEN_TEXT);
      const service = await messaging.getService(n.service_id);
      // As delivery does: the HTML is rendered again from the template version the message was sent with.
      return sendEmailHtml(reply, messaging.render(template, n.personalisation_json, n.language as 'en' | 'cy', service).html ?? '');
    });

    app.get('/console/messaging/notifications/:id/letter.pdf', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const n = await found(request, false);
      if (n.type !== 'letter') throw platformErrors.NOT_FOUND('Only letters print as a PDF.');
      if (await messaging.isConfidential(n)) throw platformErrors.NOT_FOUND(HIDDEN_TEXT);
      const file = await messaging.letterFile(n.id);
      if (file) return sendPdf(reply, file, `letter-${n.id}`);
      const template = await templateOf(n);
      if (!template) throw platformErrors.NOT_FOUND('The letter’s file is not available.');
      const service = await messaging.getService(n.service_id);
      const r = await letterOf(template, n.personalisation_json, n.language as 'en' | 'cy', service.name, n.created_at, n.address_json);
      return sendPdf(reply, r.pdf, `letter-${n.id}`);
    });
  };
}

/** An instance only this machine reaches, over plain http: the demo, a developer's laptop. */
export function isDevelopmentInstance(publicUrl: string): boolean {
  try {
    const u = new URL(publicUrl);
    return u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- providers

function providerPages({ messaging, delivery, config }: MessagingPagesDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/messaging/providers', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const providers = await messaging.listProviders();
      const saved = str(query(request).saved);
      const flash = saved === 'created' ? 'Provider added.' : saved === 'enabled' ? 'Provider turned on.' : saved === 'disabled' ? 'Provider turned off.' : undefined;
      return reply.page(`${VIEWS}/providers.njk`, {
        pageTitle: 'Delivery providers',
        channels: channelProviders(providers, delivery.health),
        kindNames: Object.fromEntries(PROVIDER_KINDS.map((k) => [k, PROVIDER_KIND_FORMS[k].text])),
        settingsText: Object.fromEntries(providers.map((p) => [p.id, settingsText(p)])),
        flash,
        ...perms(request),
      });
    });

    /** Step one: what it sends and what kind of provider it is. Step two: that kind's settings. */
    const showChoice = (reply: FastifyReply, values: Record<string, string>, fields: FieldError[]) =>
      reply.page(
        `${VIEWS}/provider-choice.njk`,
        {
          pageTitle: 'Add a delivery provider',
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, ['channel', 'kind']),
          channelItems: CHANNELS.map((c) => ({ value: c, text: CHANNEL_NAMES[c], checked: values.channel === c })),
          kindItems: PROVIDER_KINDS.map((k) => {
            const form = PROVIDER_KIND_FORMS[k];
            return { value: k, text: form.text, hint: { text: `${form.hint}. Sends ${listed(form.channels.map((c) => CHANNEL_PLURALS[c]))}.` }, checked: values.kind === k };
          }),
        },
        fields.length ? 400 : 200,
      );

    const showForm = async (reply: FastifyReply, values: Record<string, string>, fields: FieldError[]) => {
      const kind = values.kind as ProviderKind;
      const form = PROVIDER_KIND_FORMS[kind];
      const services = await messaging.listServices();
      const settings = form.fields.map((f) => {
        const id = `${kind}-${f.key}`;
        // Twilio calls Weft back at its public address: offered, not assumed.
        const fallback = f.key === 'statusCallbackUrl' ? config.publicUrl : (f.default ?? '');
        // Secrets are never written back into a page, not even after an error.
        const value = f.kind === 'secret' ? '' : (values[id] ?? fallback);
        return {
          ...f,
          id,
          value,
          checked: values[id] === 'yes',
          items: f.kind === 'service' ? [{ value: '', text: 'None' }, ...services.map((s) => ({ value: s.id, text: s.name, selected: s.id === value }))] : undefined,
          error: errorFor(fields, id),
        };
      });
      return reply.page(
        `${VIEWS}/provider-form.njk`,
        {
          pageTitle: `Add a provider for ${CHANNEL_PLURALS[values.channel as Channel]}`,
          values,
          kind,
          kindName: form.text,
          channelName: CHANNEL_NAMES[values.channel as Channel],
          settings,
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, ['name', 'priority', 'pencePerPart']),
          secretsTyped: fields.length > 0,
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/messaging/providers/new', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const q = query(request);
      const values = { channel: str(q.channel), kind: str(q.kind), priority: '1' };
      if (!('channel' in q) && !('kind' in q)) return showChoice(reply, values, []);
      const errors = providerChoice(values);
      return errors.length ? showChoice(reply, values, errors) : showForm(reply, values, []);
    });

    app.post('/console/messaging/providers/new', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const values: Record<string, string> = {};
      for (const [k, v] of Object.entries(body)) values[k] = str(v).trim();
      const choice = providerChoice(values);
      if (choice.length) return showChoice(reply, values, choice);
      const { input, errors } = providerInput(
        values,
        (await messaging.listServices()).map((s) => s.id),
      );
      if (errors.length) return showForm(reply, values, errors);
      try {
        request.audited = true;
        await messaging.createProvider(request.actor, input, origin(request));
        return reply.redirect('/console/messaging/providers?saved=created', 303);
      } catch (err) {
        return showForm(reply, values, formError(err, 'name'));
      }
    });

    app.post('/console/messaging/providers/:id/enabled', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const enabled = str((request.body as Record<string, unknown> | undefined)?.enabled) === 'yes';
      request.audited = true;
      await messaging.setProviderEnabled(request.actor, param(request, 'id'), enabled, origin(request));
      return reply.redirect(`/console/messaging/providers?saved=${enabled ? 'enabled' : 'disabled'}`, 303);
    });
  };
}

/** A provider's settings as one line (secrets are sealed and never shown). */
function settingsText(p: ProviderView): string {
  const parts = Object.entries(p.settings).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  if (p.hasSecrets) parts.push('secrets stored');
  return parts.join(', ') || 'None';
}

type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** "a, b and c" */
const listed = (items: string[]) => (items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);

/** The first step's choice: a channel, and a kind of provider that can send it. */
function providerChoice(values: Record<string, string>): FieldError[] {
  const errors: FieldError[] = [];
  const channel = values.channel as Channel;
  const kind = values.kind as ProviderKind;
  if (!CHANNELS.includes(channel)) errors.push({ field: 'channel', message: 'Choose what the provider sends' });
  if (!PROVIDER_KINDS.includes(kind)) errors.push({ field: 'kind', message: 'Choose the kind of provider' });
  else if (CHANNELS.includes(channel) && !PROVIDER_KIND_FORMS[kind].channels.includes(channel))
    errors.push({ field: 'kind', message: `This kind of provider cannot send ${CHANNEL_PLURALS[channel]}. Choose one that can, or another channel` });
  return errors;
}

/** What a required setting's error asks for: "Enter the server name", "Enter the API key". */
const enterThe = (label: string) => `Enter the ${label.replace(/ \(optional\)$/, '').replace(/^(?!Notify)[A-Z][a-z]/, (s) => s.toLowerCase())}`;

/** The second step as the API's ProviderInput: the kind's settings, its secrets apart, errors in the order of the form. */
function providerInput(values: Record<string, string>, serviceIds: string[]): { input: ProviderInput; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const channel = values.channel as Channel;
  const kind = values.kind as ProviderKind;
  if (!values.name) errors.push({ field: 'name', message: 'Enter a name for the provider' });
  else if (values.name.length > 80) errors.push({ field: 'name', message: 'Enter a name of up to 80 characters' });
  const settings: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const f of PROVIDER_KIND_FORMS[kind].fields) {
    const id = `${kind}-${f.key}`;
    const v = values[id] ?? '';
    if (f.kind === 'yesno') settings[f.key] = v === 'yes';
    else if (!v) {
      if (f.required) errors.push({ field: id, message: enterThe(f.label) });
    } else if (f.kind === 'number' && !(WHOLE.test(v) && Number(v) >= 1 && Number(v) <= 65535))
      errors.push({ field: id, message: `Enter the ${f.label.toLowerCase()} as a whole number from 1 to 65535` });
    else if (f.kind === 'url' && !/^https?:\/\/\S+$/.test(v)) errors.push({ field: id, message: 'Enter a web address starting https://' });
    else if (f.kind === 'service' && !serviceIds.includes(v)) errors.push({ field: id, message: 'Choose one of the messaging services' });
    else if (f.kind === 'secret') secrets[f.key] = v;
    else if (f.key === 'templateId') settings.templateIds = { [channel]: v };
    else settings[f.key] = f.kind === 'number' ? Number(v) : v;
  }
  const priority = values.priority || '1';
  if (!WHOLE.test(priority) || Number(priority) < 1 || Number(priority) > 99) errors.push({ field: 'priority', message: 'Enter the priority as a whole number from 1 to 99' });
  if (values.pencePerPart) {
    const price = Number(values.pencePerPart);
    if (!/^\d+(\.\d+)?$/.test(values.pencePerPart) || price <= 0 || price > 100) errors.push({ field: 'pencePerPart', message: 'Enter the price of a part in pence, like 2.3, or leave it empty' });
    else settings.pencePerPart = price;
  }
  const input: ProviderInput = { channel, kind, name: values.name, priority: Number(priority), settings, secrets, enabled: true };
  if (!errors.length && !Value.Check(ProviderInput, input)) errors.push({ field: 'name', message: 'The provider settings are not valid. Check each field' });
  return { input, errors };
}

// ---------------------------------------------------------------- campaigns

/** A campaign's status as a tag. */
const CAMPAIGN_STATUSES: Record<string, { text: string; colour: string }> = {
  draft: { text: 'Not started', colour: 'grey' },
  scheduled: { text: 'Scheduled', colour: 'light-blue' },
  sending: { text: 'Sending', colour: 'blue' },
  sent: { text: 'Sent', colour: 'green' },
  paused: { text: 'Paused', colour: 'yellow' },
  cancelled: { text: 'Cancelled', colour: 'red' },
};
const MESSAGE_WORDS: Record<Channel, [string, string]> = {
  email: ['email', 'emails'],
  sms: ['text message', 'text messages'],
  letter: ['letter', 'letters'],
  voice: ['voice call', 'voice calls'],
  rcs: ['RCS message', 'RCS messages'],
};
/** The column a file names its recipients in, as campaigns.service.ts checks it. */
const RECIPIENT_COLUMNS: Record<Channel, string> = { email: 'email address', sms: 'phone number', voice: 'phone number', rcs: 'phone number', letter: '' };
/** Rows rendered to count a file's text message parts; a bigger file's parts and cost are estimated from these. */
const SUMMARY_ROWS = 20_000;
const MAX_SCHEDULE_DAYS = 366;
/** Notification statuses that still have a step to take on their own: the campaign page follows them. */
const UNFINISHED = new Set(['created', 'sending', 'pending']);

const counted = (n: number, [one, many]: [string, string]) => `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;
/** Money as people write it: 6p, £1,204.00. */
const money = (pence: number) => (pence < 100 ? formatPence(pence) : `£${(pence / 100).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);

/** A time of day as people type it: 14:30, 9.30, 9:30am, 2pm, noon. */
export function parseTimeOfDay(text: string): { hour: number; minute: number } | undefined {
  const t = text.trim().toLowerCase().replace(/\s+/g, '');
  if (t === 'noon' || t === 'midday') return { hour: 12, minute: 0 };
  if (t === 'midnight') return { hour: 0, minute: 0 };
  const m = /^(\d{1,2})(?:[:.](\d{2}))?(am|pm)?$/.exec(t);
  if (!m || (m[2] === undefined && !m[3])) return undefined;
  let hour = Number(m[1]);
  const minute = Number(m[2] ?? 0);
  if (minute > 59) return undefined;
  if (m[3]) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (m[3] === 'pm' ? 12 : 0);
  } else if (hour > 23) return undefined;
  return { hour, minute };
}

/** The schedule form (GOV.UK date input and a time) as an instant, or its errors, in the order of the form. */
export function scheduleFrom(values: Record<string, string>, now: Date): { at?: Date; errors: FieldError[] } {
  const parts = { day: values['schedule-day'], month: values['schedule-month'], year: values['schedule-year'] };
  const missing = (['day', 'month', 'year'] as const).filter((k) => !parts[k]);
  const errors: FieldError[] = [];
  let date: { y: number; m: number; d: number } | undefined;
  if (missing.length === 3) errors.push({ field: 'schedule-day', message: 'Enter the date to send the campaign' });
  else if (missing.length) errors.push({ field: `schedule-${missing[0]}`, message: `The date must include a ${missing.join(' and a ')}` });
  else {
    const [d, m, y] = [parts.day, parts.month, parts.year].map((v) => (/^\d+$/.test(v) ? Number(v) : Number.NaN));
    const real = y >= 1000 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
    if (real) date = { y, m, d };
    else errors.push({ field: 'schedule-day', message: 'The date must be a real date, like 27 3 2026' });
  }
  const time = values['schedule-time'] ? parseTimeOfDay(values['schedule-time']) : undefined;
  if (!values['schedule-time']) errors.push({ field: 'schedule-time', message: 'Enter the time to send the campaign' });
  else if (!time) errors.push({ field: 'schedule-time', message: 'Enter a time, like 9:30am, 14:30 or 2pm' });
  if (errors.length || !date || !time) return { errors };
  const at = londonInstant(`${date.y}-${String(date.m).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`, time.hour * 60 + time.minute);
  if (at.getTime() <= now.getTime()) return { errors: [{ field: 'schedule-day', message: 'The date and time must be in the future' }] };
  if (at.getTime() > now.getTime() + MAX_SCHEDULE_DAYS * DAY) return { errors: [{ field: 'schedule-day', message: 'The date must be within a year from today' }] };
  return { at, errors: [] };
}

/** A campaign's notifications by the dashboard's status groups; rows not yet made wait (or, cancelled, never go). */
function campaignProgress(c: CampaignView) {
  const unmade = Math.max(0, c.recipientCount - c.createdCount);
  const cells = STATUS_GROUPS.map((g) => g.statuses.reduce((a, s) => a + (c.progress[s] ?? 0), 0));
  const at = (group: string) => STATUS_GROUPS.findIndex((g) => g.text === group);
  cells[at(c.status === 'cancelled' ? 'Cancelled' : 'Waiting')] += unmade;
  const finished = cells[at('Delivered')] + cells[at('Failed')] + cells[at('Cancelled')];
  const unfinished = unmade + Object.entries(c.progress).reduce((a, [s, n]) => a + (UNFINISHED.has(s) ? n : 0), 0);
  const groups = STATUS_GROUPS.map((g, i) => ({ key: `status-${g.text.toLowerCase()}`, name: g.text, n: cells[i] }));
  const svg = stackedBarChart({
    id: 'campaign-chart',
    title: `${c.name}: ${groups.map((g) => `${g.name.toLowerCase()} ${g.n.toLocaleString('en-GB')}`).join(', ')} (the table below has the same numbers)`,
    segments: groups,
    bars: [{ label: 'Messages', values: cells }],
    labelWidth: 100,
  });
  return {
    groups,
    svg,
    finished,
    percent: c.recipientCount ? Math.floor((finished / c.recipientCount) * 100) : 0,
    // Followed while rows are being made and sent; a paused or scheduled campaign waits for a person or the clock.
    following: c.status === 'sending' || (c.status === 'sent' && unfinished > 0),
  };
}

/** A row of the file as personalisation: each column's value under its heading. */
function rowPersonalisation(columns: string[], cells: string[]): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  for (let j = 0; j < columns.length; j++) p[columns[j]] = cells[j] ?? '';
  return p;
}

/**
 * What a checked file will send, in words: how many messages to how many recipients, and for text
 * messages their parts and cost (counted over the first SUMMARY_ROWS rows, estimated beyond), with
 * the first row's message as a preview.
 */
function campaignSummary(messaging: MessagingService, c: CampaignView, t: TemplateRow, service: ServiceView, csv: string | undefined, price: number) {
  const type = t.type as Channel;
  const messages = counted(c.recipientCount, MESSAGE_WORDS[type]);
  const to = counted(c.recipientCount, type === 'letter' ? ['address', 'addresses'] : ['recipient', 'recipients']);
  let text = `${messages} to ${to}.`;
  let note: string | undefined;
  if (!csv) return { text, note, preview: null, address: null };
  const rows = firstRows(csv, SUMMARY_ROWS).filter((r) => !isBlankRow(r));
  const columns = (rows[0] ?? []).map((h) => h.trim());
  const body = rows.slice(1, SUMMARY_ROWS + 1);
  const first = body[0] ? rowPersonalisation(columns, body[0]) : {};
  if (type === 'sms' && body.length) {
    const sample = body;
    let parts = 0;
    let least = Number.POSITIVE_INFINITY;
    let most = 0;
    for (const cells of sample) {
      const n = messaging.render(t, rowPersonalisation(columns, cells), 'en', service).billableUnits;
      parts += n;
      least = Math.min(least, n);
      most = Math.max(most, n);
    }
    const estimated = sample.length < c.recipientCount;
    const total = estimated ? Math.round((parts / sample.length) * c.recipientCount) : parts;
    const each = least === most ? `${counted(most, ['text message part', 'text message parts'])} each` : `${least} to ${most} text message parts each (${total.toLocaleString('en-GB')} in all)`;
    text = `${messages} to ${to}, ${each}, costing about ${money(total * price)} at ${formatPence(price)} a part.`;
    if (estimated) note = `The parts and cost are worked out from the first ${SUMMARY_ROWS.toLocaleString('en-GB')} rows.`;
  } else if (type === 'letter') {
    const postage = POSTAGE.find((p) => p.value === (t.options_json.postage ?? 'second'))?.text ?? t.options_json.postage;
    text = `${messages} to ${to}, sent ${String(postage).toLowerCase()}.`;
  }
  return {
    text,
    note,
    preview: body.length ? renderedPreview(t, first, 'en', price, service.name) : null,
    address: type === 'letter' && body.length ? addressLinesFromPersonalisation(first) : null,
  };
}

/**
 * An audience campaign in words: who it is for (the topic, areas and places by name), and each
 * channel's template previewed with the values every message shares.
 */
async function audienceSummary(deps: MessagingPagesDeps, c: CampaignView, service: ServiceView, price: number) {
  const audience = c.audience as NonNullable<CampaignView['audience']>;
  const [topic, areas, sites] = await Promise.all([
    deps.residents.topics.get(audience.topic).catch(() => undefined),
    deps.residents.areas(),
    audience.siteIds.length ? deps.estate.listSites({ ids: audience.siteIds, limit: audience.siteIds.length }) : Promise.resolve([]),
  ]);
  const areaNames = audience.areaIds.map((id) => areas.find((a) => a.id === id)?.name ?? 'an area no longer in the estate');
  const places = [...(areaNames.length ? [`in ${listOf(areaNames)}`] : []), ...(sites.length ? [`at ${listOf(sites.map((s) => s.name))}`] : [])];
  const residents = counted(c.recipientCount, ['resident', 'residents']);
  const previews = [];
  for (const [channel, pinned] of Object.entries(c.templates ?? {})) {
    if (!pinned) continue;
    const t = await deps.messaging.getTemplate(pinned.id, pinned.version);
    previews.push({ channel: CHANNEL_NAMES[channel as Channel], template: t, preview: renderedPreview(t, { ...(c.personalisation ?? {}), name: 'Alex Jones' }, 'en', price, service.name) });
  }
  return {
    text: `${residents} subscribed to ${topic?.name ?? audience.topic} ${places.join(' and ')}.`,
    topic: topic?.name ?? audience.topic,
    where: places.join(' and '),
    previews,
  };
}

/** Names as a person lists them: A, B and C. */
function listOf(names: string[]): string {
  return names.length < 2 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * The header and at least `n` rows of a CSV file, without parsing the rest of a big one: the text
 * is cut at a line end past them (a cut inside a quoted field fails to parse, and the whole is read).
 */
function firstRows(csv: string, n: number): string[][] {
  let at = -1;
  for (let i = 0; i < n + 2; i++) {
    at = csv.indexOf('\n', at + 1);
    if (at === -1) return parseCsv(csv);
  }
  try {
    return parseCsv(csv.slice(0, at));
  } catch {
    return parseCsv(csv);
  }
}

/** What the file must hold for a template: the recipient column and one per placeholder. */
function neededColumns(t: TemplateRow): string[] {
  const address = new Set(ADDRESS_NAMES.map(placeholderKey));
  const names = placeholders([t.subject ?? '', t.body]).filter((n) => t.type !== 'letter' || !address.has(placeholderKey(n)));
  const first = t.type === 'letter' ? ['address line 1', 'address line 2', 'address line 3', 'postcode'] : [RECIPIENT_COLUMNS[t.type as Channel]];
  return [...first, ...names];
}

function campaignPages(deps: MessagingPagesDeps) {
  const { messaging, campaigns, config } = deps;
  return async (app: FastifyInstance) => {
    const price = async () => pencePerPart(await messaging.listProviders());
    const campaignOf = (request: FastifyRequest) => campaigns.get(param(request, 'id'));
    const base = (c: { id: string }) => `/console/messaging/campaigns/${c.id}`;
    const statusTag = (status: string) => CAMPAIGN_STATUSES[status] ?? { text: status, colour: 'grey' };
    /** A template's current version, or nothing for an id that is not one. */
    const templateById = (id: string) => (UUID.test(id) ? messaging.getTemplate(id.toLowerCase()).catch(() => undefined) : Promise.resolve(undefined));

    app.get('/console/messaging/campaigns', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const raw = str(query(request).serviceId);
      const services = await messaging.listServices();
      const serviceId = services.some((s) => s.id === raw.toLowerCase()) ? raw.toLowerCase() : '';
      const list = await campaigns.list(serviceId || undefined);
      const templates = new Map<string, string>();
      for (const c of list) if (!templates.has(c.templateId)) templates.set(c.templateId, (await messaging.currentTemplate(c.templateId))?.name ?? '');
      return reply.page(`${VIEWS}/campaigns.njk`, {
        pageTitle: 'Campaigns',
        campaigns: list.map((c) => ({ ...c, tag: statusTag(c.status), templateName: c.audience ? `Subscribers to ${c.audience.topic}, by preference` : templates.get(c.templateId) })),
        services: Object.fromEntries(services.map((s) => [s.id, s.name])),
        serviceItems: [{ value: '', text: 'Any' }, ...services.map((s) => ({ value: s.id, text: s.name, selected: s.id === serviceId }))],
        invalid: !!raw && !serviceId,
        ...perms(request),
      });
    });

    // ---- the wizard: a service, a template, then the file

    const showUpload = async (reply: FastifyReply, template: TemplateRow, values: Record<string, string>, fields: FieldError[], rowErrors: { row: string; message: string }[] = []) => {
      const service = await messaging.getService(template.service_id);
      return reply.page(
        `${VIEWS}/campaign-upload.njk`,
        {
          pageTitle: 'Upload a list of recipients',
          service,
          template,
          typeName: CHANNEL_NAMES[template.type as Channel],
          columns: neededColumns(template),
          values,
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, ['name', 'file', 'ratePerMinute']),
          rowErrors,
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/messaging/campaigns/new', { config: sendPage, schema: { hide: true } }, async (request, reply) => {
      const q = query(request);
      const services = await messaging.listServices();
      const template = await templateById(str(q.templateId));
      if (template) return showUpload(reply, template, { templateId: template.id, name: template.name }, []);
      const askedService = str(q.serviceId).toLowerCase();
      const service = services.find((s) => s.id === askedService) ?? (services.length === 1 && !('serviceId' in q) ? services[0] : undefined);
      if (service) {
        const templates = await messaging.listTemplates(service.id);
        const fields = str(q.step) === 'template' || 'templateId' in q ? [{ field: 'templateId', message: 'Choose the template to send' }] : [];
        return reply.page(
          `${VIEWS}/campaign-template.njk`,
          {
            pageTitle: 'Which template do you want to send?',
            service,
            several: services.length > 1,
            templateItems: templates.map((t) => ({ value: t.id, text: t.name, hint: { text: `${CHANNEL_NAMES[t.type as Channel]}, version ${t.version}` } })),
            errors: errorList(fields),
            fieldErrors: fieldErrors(fields, ['templateId']),
            ...perms(request),
          },
          fields.length ? 400 : 200,
        );
      }
      const fields = str(q.step) === 'service' || 'serviceId' in q ? [{ field: 'serviceId', message: 'Choose the service the messages come from' }] : [];
      return reply.page(
        `${VIEWS}/campaign-service.njk`,
        {
          pageTitle: 'Which service are the messages from?',
          serviceItems: services.map((s) => ({ value: s.id, text: s.name })),
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, ['serviceId']),
        },
        fields.length ? 400 : 200,
      );
    });

    app.post('/console/messaging/campaigns/new', { config: sendPage, bodyLimit: config.importBodyLimit, schema: { hide: true } }, async (request, reply) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      const template = await templateById(str(body.templateId));
      request.audited = true; // changed by the service, which audits it, or not at all
      if (!template) return reply.redirect('/console/messaging/campaigns/new', 303);
      const values = { templateId: template.id, name: str(body.name).trim(), ratePerMinute: str(body.ratePerMinute).trim().replace(/,/g, '') };
      const file = body.file && typeof body.file === 'object' ? (body.file as UploadedFile) : undefined;
      const errors: FieldError[] = [];
      if (!values.name) errors.push({ field: 'name', message: 'Enter a name for the campaign' });
      else if (values.name.length > 200) errors.push({ field: 'name', message: 'Enter a name of up to 200 characters' });
      if (!file?.content.trim()) errors.push({ field: 'file', message: 'Choose a CSV file of recipients' });
      if (values.ratePerMinute && !(WHOLE.test(values.ratePerMinute) && Number(values.ratePerMinute) >= 1 && Number(values.ratePerMinute) <= MAX_RATE))
        errors.push({ field: 'ratePerMinute', message: 'Enter how many messages a minute, as a whole number from 1 to 1,000,000, or leave it empty' });
      if (errors.length) return showUpload(reply, template, values, errors);
      try {
        const c = await campaigns.create(
          request.actor,
          template.service_id,
          { templateId: template.id, name: values.name, csv: (file as UploadedFile).content, ratePerMinute: values.ratePerMinute ? Number(values.ratePerMinute) : undefined },
          origin(request),
        );
        return reply.redirect(base(c), 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'CAMPAIGN_CSV_INVALID') return showUpload(reply, template, values, formError(err, 'file'));
        // Rows with problems go in a table under the form; the summary says how many and links to the file.
        const rows = err.fields.filter((f) => f.field.startsWith('row '));
        const rowErrors = rows.map((f) => ({ row: f.field.slice(4), message: f.message.replace(/^Row \d+: /, '') }));
        const summary = rows.length
          ? [{ field: 'file', message: err.message }]
          : err.fields.length
            ? err.fields.map((f) => ({ field: 'file', message: f.message }))
            : [{ field: 'file', message: err.message }];
        return showUpload(reply, template, values, summary, rowErrors);
      }
    });

    // ---- a campaign: the check of a draft, then its progress

    const showCampaign = async (request: FastifyRequest, reply: FastifyReply, c: CampaignView, fields: FieldError[] = [], values: Record<string, string> = {}) => {
      const [service, template] = await Promise.all([messaging.getService(c.serviceId), messaging.getTemplate(c.templateId, c.templateVersion)]);
      const saved = str(query(request).saved);
      const flash =
        saved === 'started'
          ? 'Campaign started.'
          : saved === 'scheduled'
            ? 'Campaign scheduled.'
            : saved === 'paused'
              ? 'Campaign paused. Messages not yet sent are held until you resume it.'
              : saved === 'resumed'
                ? 'Campaign resumed.'
                : saved === 'cancelled'
                  ? 'Campaign cancelled. Messages not yet sent will not be sent.'
                  : undefined;
      const draft = c.status === 'draft';
      const p = await price();
      return reply.page(
        `${VIEWS}/campaign.njk`,
        {
          pageTitle: draft ? `Check ${c.name}` : c.name,
          c,
          tag: statusTag(c.status),
          service,
          template,
          typeName: CHANNEL_NAMES[template.type as Channel],
          summary: draft && !c.audience ? campaignSummary(messaging, c, template, service, await campaigns.repo.file(c.id), p) : null,
          audience: c.audience ? await audienceSummary(deps, c, service, p) : null,
          progress: draft ? null : campaignProgress(c),
          values,
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, ['send-now', 'schedule-day', 'schedule-month', 'schedule-year', 'schedule-time']),
          dateError: errorFor(fields, 'schedule-day') ?? errorFor(fields, 'schedule-month') ?? errorFor(fields, 'schedule-year'),
          canPause: c.status === 'sending' || (c.status === 'sent' && (c.progress.created ?? 0) > 0),
          canResume: c.status === 'paused',
          canCancel: c.status !== 'cancelled' && (c.status !== 'sent' || (c.progress.created ?? 0) > 0),
          flash,
          ...perms(request),
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/messaging/campaigns/:id', { config: readPage, schema: { hide: true } }, async (request, reply) => showCampaign(request, reply, await campaignOf(request)));

    app.post('/console/messaging/campaigns/:id/start', { config: sendPage, schema: { hide: true } }, async (request, reply) => {
      const c = await campaignOf(request);
      request.audited = true; // changed by the service, which audits it, or not at all
      if (c.status !== 'draft') return reply.redirect(base(c), 303);
      const body = (request.body ?? {}) as Record<string, unknown>;
      const values = Object.fromEntries(['schedule-day', 'schedule-month', 'schedule-year', 'schedule-time'].map((k) => [k, str(body[k]).trim()]));
      let at: Date | null = null;
      if (str(body.when) === 'later') {
        const schedule = scheduleFrom(values, new Date());
        if (schedule.errors.length) return showCampaign(request, reply, c, schedule.errors, values);
        at = schedule.at ?? null;
      }
      try {
        await campaigns.start(request.actor, c.id, at, origin(request));
      } catch (err) {
        if (err instanceof AppError && err.code === 'CAMPAIGN_STATE') return reply.redirect(base(c), 303);
        return showCampaign(request, reply, c, formError(err, at ? 'schedule-day' : 'send-now'), values);
      }
      return reply.redirect(`${base(c)}?saved=${at ? 'scheduled' : 'started'}`, 303);
    });

    for (const action of ['pause', 'resume'] as const) {
      app.post(`/console/messaging/campaigns/:id/${action}`, { config: sendPage, schema: { hide: true } }, async (request, reply) => {
        const c = await campaignOf(request);
        request.audited = true; // changed by the service, which audits it, or not at all
        try {
          await campaigns[action](request.actor, c.id, origin(request));
        } catch (err) {
          // Pressed twice, or the campaign moved on: its page says where it is now.
          if (err instanceof AppError && err.code === 'CAMPAIGN_STATE') return reply.redirect(base(c), 303);
          throw err;
        }
        return reply.redirect(`${base(c)}?saved=${action === 'pause' ? 'paused' : 'resumed'}`, 303);
      });
    }

    app.get('/console/messaging/campaigns/:id/cancel', { config: sendPage, schema: { hide: true } }, async (request, reply) => {
      const c = await campaignOf(request);
      if (c.status === 'cancelled') return reply.redirect(base(c), 303);
      const waiting = Math.max(0, c.recipientCount - c.createdCount) + (c.progress.created ?? 0);
      return reply.page(`${VIEWS}/campaign-cancel.njk`, { pageTitle: `Cancel ${c.name}`, c, service: await messaging.getService(c.serviceId), waiting });
    });

    app.post('/console/messaging/campaigns/:id/cancel', { config: sendPage, schema: { hide: true } }, async (request, reply) => {
      const c = await campaignOf(request);
      request.audited = true;
      await campaigns.cancel(request.actor, c.id, origin(request));
      return reply.redirect(`${base(c)}?saved=cancelled`, 303);
    });
  };
}

// ---------------------------------------------------------------- the delivery dashboard

const PERIODS = [14, 30];
const dayLabel = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short', day: 'numeric', month: 'short' });

/** The starts of the last `n` London days, oldest first, today last (each found from the one after, so clock changes are right). */
export function lastDays(n: number, now: Date): Date[] {
  const days = [startOfLondonDay(now)];
  while (days.length < n) days.unshift(startOfLondonDay(new Date(days[0].getTime() - 1)));
  return days;
}

/** A chart and its table: bars (rows) by segments (columns), with totals. */
function chartTable(id: string, title: string, segments: { key: string; name: string }[], bars: { label: string; values: number[] }[], labelWidth?: number) {
  return {
    id,
    title,
    segments,
    svg: stackedBarChart({ id, title: `${title} (the table below has the same numbers)`, segments, bars, labelWidth, barHeight: bars.length > 10 ? 14 : 22, gap: bars.length > 10 ? 6 : 12 }),
    rows: bars.map((b) => ({ label: b.label, values: b.values, total: b.values.reduce((a, n) => a + n, 0) })),
    totals: segments.map((_, i) => bars.reduce((a, b) => a + b.values[i], 0)),
    total: bars.reduce((a, b) => a + b.values.reduce((x, n) => x + n, 0), 0),
  };
}

function dashboardPages({ messaging }: MessagingPagesDeps) {
  return async (app: FastifyInstance) => {
    app.get('/console/messaging/dashboard', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const q = query(request);
      const raw = { serviceId: str(q.serviceId).toLowerCase(), days: str(q.days) };
      const services = await messaging.listServices();
      const service = services.find((s) => s.id === raw.serviceId);
      const period = PERIODS.includes(Number(raw.days)) ? Number(raw.days) : PERIODS[0];
      const days = lastDays(period, new Date());
      const counts = await messaging.countByDayChannelAndStatus(days, service?.id);

      const statusSegments = STATUS_GROUPS.map((g) => ({ key: `status-${g.text.toLowerCase()}`, name: g.text }));
      const channelSegments = CHANNELS.map((c) => ({ key: `channel-${c}`, name: CHANNEL_NAMES[c] }));
      const groupOf = (status: string) => STATUS_GROUPS.findIndex((g) => g.statuses.includes(status));
      const newestFirst = days.map((d, i) => ({ d, i })).reverse();
      const byDayStatus = newestFirst.map(({ d, i }) => {
        const values = statusSegments.map(() => 0);
        for (const r of counts) if (r.day === i && groupOf(r.status) >= 0) values[groupOf(r.status)] += r.n;
        return { label: dayLabel.format(d), values };
      });
      const byDayChannel = newestFirst.map(({ d, i }) => ({
        label: dayLabel.format(d),
        values: CHANNELS.map((c) => counts.filter((r) => r.day === i && r.type === c).reduce((a, r) => a + r.n, 0)),
      }));
      const byChannelStatus = CHANNELS.map((c) => {
        const values = statusSegments.map(() => 0);
        for (const r of counts) if (r.type === c && groupOf(r.status) >= 0) values[groupOf(r.status)] += r.n;
        return { label: CHANNEL_NAMES[c], values };
      });
      const when = `in the last ${period} days${service ? ` from ${service.name}` : ''}`;
      return reply.page(`${VIEWS}/dashboard.njk`, {
        pageTitle: 'Delivery dashboard',
        period,
        service,
        when,
        total: counts.reduce((a, r) => a + r.n, 0),
        invalid: (!!raw.serviceId && !service) || (!!raw.days && !PERIODS.includes(Number(raw.days))),
        serviceItems: [{ value: '', text: 'Every service' }, ...services.map((s) => ({ value: s.id, text: s.name, selected: s.id === service?.id }))],
        periodItems: PERIODS.map((n) => ({ value: String(n), text: `Last ${n} days`, selected: n === period })),
        charts: [
          chartTable('by-day-status', `Messages by day and status ${when}`, statusSegments, byDayStatus, 110),
          chartTable('by-day-channel', `Messages by day and channel ${when}`, channelSegments, byDayChannel, 110),
          chartTable('by-channel-status', `Messages by channel and status ${when}`, statusSegments, byChannelStatus, 130),
        ],
        ...perms(request),
      });
    });
  };
}
