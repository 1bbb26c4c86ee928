import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { can } from '../../platform/auth/actor.js';
import type { FieldError } from '../../platform/errors.js';
import { errorFor, errorList } from '../../platform/web/web.js';
import type { MessagingService } from '../messaging/index.js';
import { STATUS_NAMES } from '../messaging/messaging.pages.js';
import { checkPhone } from '../messaging/recipients.js';
import { checkPostalAddress } from '../messaging/render/index.js';
import { CONTACT_CHANNELS, type ContactChannel, ResidentInput, type ResidentView } from './residents.schema.js';
import { CONSOLE, fieldErrors, formError, list, origin, param, str } from './residents.forms.js';
import { DEFAULT_CHANNELS, inputOf, normalisePostcode, type ResidentsService, UK_BOUNDS } from './residents.service.js';
import { rightsPages } from './rights.pages.js';
import { describeSubscription, subscriptionsPages } from './subscriptions.pages.js';
import { topicsPages } from './topics.pages.js';

export interface ResidentsPagesDeps {
  residents: ResidentsService;
  messaging: Pick<MessagingService, 'notificationsForResident'>;
}

const VIEWS = 'modules/residents/views';
const readPage = { permission: 'residents:read', page: 'console' as const };
const managePage = { permission: 'residents:manage', page: 'console' as const };
const RECENT_MESSAGES = 20;
const SEARCH_LIMIT = 50;
/** Topic rows the preference form offers beyond the resident's own, for new topics. */
const SPARE_TOPICS = 2;
const ANY_TOPIC = '*';

export const CHANNEL_NAMES: Record<ContactChannel, string> = { email: 'Email', sms: 'Text message', voice: 'Voice call', rcs: 'RCS message', letter: 'Letter' };
const ORDINALS = ['1st', '2nd', '3rd', '4th', '5th'];
const FLASHES: Record<string, string> = {
  created: 'Resident added.',
  details: 'Details saved.',
  preferences: 'Channel preferences saved.',
  subscribed: 'Subscription added.',
  unsubscribed: 'Subscription removed.',
  erased: 'Their personal data has been erased.',
};
const DETAIL_FIELDS = ['name', 'email', 'mobile', 'landline', 'address', 'postcode', 'latitude', 'longitude', 'language', 'accessibility', 'quietFrom', 'quietTo'];

/** Mobiles are kept as 447…; people read and type them as 07… */
const ukMobile = (m: string | null) => (m?.startsWith('44') ? `0${m.slice(2)}` : (m ?? ''));
const ukLandline = (l: string | null) => (l?.startsWith('+44') ? `0${l.slice(3)}` : (l ?? ''));
/** The channels a resident can be reached on, from their contact points (as messaging sends). */
function reachable(r: ResidentView): Record<ContactChannel, boolean> {
  return { email: !!r.email, sms: !!r.mobile, rcs: !!r.mobile, voice: !!(r.mobile || r.landline), letter: !!r.address?.length };
}

// ---------------------------------------------------------------- the details form

type Details = Record<string, string> & { accessibility: string };

function detailsOf(r: ResidentView): Details {
  return {
    name: r.name,
    email: r.email ?? '',
    mobile: ukMobile(r.mobile),
    landline: ukLandline(r.landline),
    address: (r.address ?? []).join('\n'),
    language: r.language,
    accessibility: [r.largePrint ? 'largePrint' : '', r.prefersVoice ? 'prefersVoice' : ''].filter(Boolean).join(','),
    quietFrom: r.quietFrom ?? '',
    quietTo: r.quietTo ?? '',
    postcode: r.postcode ?? '',
    latitude: r.location ? String(r.location.lat) : '',
    longitude: r.location ? String(r.location.lon) : '',
  };
}

function detailsFrom(body: Record<string, unknown>): Details {
  const d: Record<string, string> = {};
  for (const f of ['name', 'email', 'mobile', 'landline', 'language', 'quietFrom', 'quietTo', 'postcode', 'latitude', 'longitude']) d[f] = str(body[f]).trim();
  d.address = str(body.address).replace(/\r\n?/g, '\n');
  d.accessibility = list(body.accessibility).join(',');
  return d as Details;
}

/** 21:00, 9:30, 21.00 as HH:MM; anything else as it was typed, for the error. */
const hhmm = (t: string) => {
  const m = /^(\d{1,2})[:.](\d{2})$/.exec(t);
  return m && Number(m[1]) < 24 && Number(m[2]) < 60 ? `${m[1].padStart(2, '0')}:${m[2]}` : undefined;
};

/** The form as the API's ResidentInput, and what is wrong with it in the order of the form. Contact points are checked again by the service. */
function detailsInput(d: Details): { input: ResidentInput; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const add = (field: string, message: string) => {
    if (!errors.some((e) => e.field === field)) errors.push({ field, message });
  };
  if (!d.name) add('name', 'Enter the resident’s name');
  else if (d.name.length > 200) add('name', 'Enter a name of up to 200 characters');
  const lines = d.address
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length) {
    const check = checkPostalAddress(lines);
    if (lines.length < 3 || lines.length > 7) add('address', 'Enter the address on 3 to 7 lines: the resident’s name, the street, the town and the postcode, each on its own line');
    else if (lines.some((l) => l.length > 200)) add('address', 'Each line of the address must be 200 characters or fewer');
    else if (!check.ok) add('address', `The address cannot be posted to as it is: ${check.errors[0]}`);
  }
  if (d.language !== 'en' && d.language !== 'cy') add('language', 'Choose the language the resident wants messages in');
  const from = d.quietFrom ? hhmm(d.quietFrom) : null;
  const to = d.quietTo ? hhmm(d.quietTo) : null;
  if (from === undefined) add('quietFrom', 'Enter the time quiet hours start in the 24-hour clock, like 21:00');
  if (to === undefined) add('quietTo', 'Enter the time quiet hours end in the 24-hour clock, like 08:00');
  if (from !== undefined && to !== undefined && !from !== !to) add(from ? 'quietTo' : 'quietFrom', 'Give both the start and the end of quiet hours, or neither');
  const home = homeInput(d, add);
  const access = d.accessibility.split(',');
  const input: ResidentInput = {
    ...home,
    name: d.name,
    email: d.email || null,
    mobile: d.mobile || null,
    landline: d.landline || null,
    address: lines.length ? lines : null,
    language: d.language === 'cy' ? 'cy' : 'en',
    largePrint: access.includes('largePrint'),
    prefersVoice: access.includes('prefersVoice'),
    quietFrom: from ?? null,
    quietTo: to ?? null,
  };
  if (!errors.length) for (const e of Value.Errors(ResidentInput, input)) add(e.path.split('/')[1] || 'name', `Check the ${e.path.split('/')[1] || 'details'}: it is too long`);
  errors.sort((a, b) => DETAIL_FIELDS.indexOf(a.field) - DETAIL_FIELDS.indexOf(b.field));
  return { input, errors };
}

/** The home's postcode and point from the form, adding what is wrong with them. */
function homeInput(d: Details, add: (field: string, message: string) => void): Pick<ResidentInput, 'postcode' | 'location'> {
  const postcode = d.postcode ? normalisePostcode(d.postcode) : '';
  if (d.postcode && !postcode) add('postcode', 'Enter a real postcode, like SW1A 1AA');
  const lat = d.latitude ? Number(d.latitude) : null;
  const lon = d.longitude ? Number(d.longitude) : null;
  if (lat !== null && !Number.isFinite(lat)) add('latitude', 'Enter the latitude in degrees, like 52.3061');
  if (lon !== null && !Number.isFinite(lon)) add('longitude', 'Enter the longitude in degrees, like -2.4457');
  if ((lat === null) !== (lon === null)) add(lat === null ? 'latitude' : 'longitude', 'Give both the latitude and the longitude of their home, or neither');
  const b = UK_BOUNDS;
  const located = lat !== null && lon !== null && Number.isFinite(lat) && Number.isFinite(lon);
  if (located && !(lat >= b.minLat && lat <= b.maxLat && lon >= b.minLon && lon <= b.maxLon)) {
    add('latitude', `Enter a point in the UK: latitude from ${b.minLat} to ${b.maxLat}, longitude from ${b.minLon} to ${b.maxLon}`);
  }
  return { postcode: postcode || null, location: located ? { lat, lon } : null };
}

/** The resident's home in words: postcode, point and the area it lies in. */
function homeText(r: ResidentView, areaName: string | undefined): string {
  if (!r.location) return r.postcode ? `${r.postcode} (no location given)` : 'None given';
  const where = `at ${r.location.lat}, ${r.location.lon}, ${areaName ? `in ${areaName}` : 'in none of the council’s areas'}`;
  return r.postcode ? `${r.postcode}, ${where}` : where.replace(/^a/, 'A');
}

/** The service's refusal on the details form: a home outside the UK is shown on its latitude. */
const detailErrors = (err: unknown) => formError(err, 'name').map((e) => (e.field === 'location' ? { ...e, field: 'latitude' } : e));

// ---------------------------------------------------------------- the preference editor

interface TopicRow {
  index: number;
  topic: string;
  choices: string[];
}

/** The topics in the form: any other topic first, then the resident's own by name, then empty rows for new ones. */
function topicRows(preferences: Record<string, string[]>): TopicRow[] {
  const named = Object.keys(preferences)
    .filter((t) => t !== ANY_TOPIC)
    .sort();
  const rows = [ANY_TOPIC, ...named, ...Array.from({ length: SPARE_TOPICS }, () => '')].map((topic, index) => ({ index, topic, choices: [...(preferences[topic] ?? [])] }));
  for (const r of rows) while (r.choices.length < CONTACT_CHANNELS.length) r.choices.push('');
  return rows;
}

/** The numbered selects read back: each row's topic and its channels in order, gaps closed up. */
function preferencesFrom(body: Record<string, unknown>): { rows: TopicRow[]; preferences: Record<string, ContactChannel[]>; errors: FieldError[] } {
  const count = Math.min(Number(str(body.topics)) || 0, 100);
  const rows: TopicRow[] = [];
  const errors: FieldError[] = [];
  const preferences: Record<string, ContactChannel[]> = {};
  for (let i = 0; i < count; i++) {
    const raw = i === 0 ? ANY_TOPIC : str(body[`topic-${i}`]).trim();
    const choices = CONTACT_CHANNELS.map((_, n) => str(body[`topic-${i}-choice-${n + 1}`]));
    rows.push({ index: i, topic: raw, choices });
    const channels = choices.filter((c): c is ContactChannel => (CONTACT_CHANNELS as readonly string[]).includes(c));
    if (choices.some((c) => c && !channels.includes(c as ContactChannel))) errors.push({ field: `topic-${i}-choice-1`, message: 'Choose a channel from the list' });
    const topic = raw === ANY_TOPIC ? raw : raw.toLowerCase().replace(/\s+/g, '-');
    if (!channels.length) continue; // no channels: the topic is removed (or was never filled in)
    if (!topic) errors.push({ field: `topic-${i}`, message: 'Enter the name of the topic these channels are for' });
    else if (topic !== ANY_TOPIC && !/^[a-z0-9-]{1,60}$/.test(topic)) errors.push({ field: `topic-${i}`, message: 'Enter a topic of up to 60 letters, numbers and hyphens, like bin-collections' });
    else if (preferences[topic]) errors.push({ field: `topic-${i}`, message: `The topic ${topic} is already in the list: give each topic once` });
    if (new Set(channels).size !== channels.length) {
      const twice = channels.find((c, n) => channels.indexOf(c) !== n) as ContactChannel;
      errors.push({
        field: `topic-${i}-choice-${choices.lastIndexOf(twice) + 1}`,
        message: `${CHANNEL_NAMES[twice]} is chosen twice for ${topic === ANY_TOPIC ? 'any other topic' : topic || 'this topic'}: choose each channel once`,
      });
    }
    if (topic) preferences[topic] ??= channels;
  }
  return { rows, preferences, errors };
}

// ---------------------------------------------------------------- pages

export function residentsPages({ residents, messaging }: ResidentsPagesDeps) {
  return async (app: FastifyInstance) => {
    const canManage = (r: FastifyRequest) => can(r.actor, 'residents:manage');

    app.get('/console/residents', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const q = request.query as Record<string, unknown>;
      const text = str(q.q).trim();
      const searched = 'q' in q;
      const fields = searched && !text ? [{ field: 'q', message: 'Enter a name, email address or mobile number to search for' }] : [];
      let found: ResidentView[] | null = null;
      if (text) {
        // A mobile number is searched for as it is stored (447…), however it was typed.
        const phone = /^[+\d\s()-]{7,}$/.test(text) ? checkPhone(text) : undefined;
        request.audited = true;
        found = await residents.search(request.actor, phone?.ok ? phone.normalised : text.slice(0, 200), SEARCH_LIMIT, origin(request));
      }
      return reply.page(
        `${VIEWS}/search.njk`,
        {
          pageTitle: found ? `Residents matching ‘${text}’` : 'Residents',
          q: text,
          found: found?.map((r) => ({ ...r, mobileText: ukMobile(r.mobile) })),
          limit: SEARCH_LIMIT,
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, ['q']),
          canManage: canManage(request),
          canManageTopics: can(request.actor, 'topics:manage'),
        },
        fields.length ? 400 : 200,
      );
    });

    const showDetails = (reply: FastifyReply, resident: ResidentView | null, values: Details, fields: FieldError[]) =>
      reply.page(
        `${VIEWS}/details-form.njk`,
        {
          pageTitle: resident ? `Change ${resident.name}’s details` : 'Add a resident',
          resident,
          action: resident ? `/console/residents/${resident.id}/edit` : '/console/residents/new',
          backUrl: resident ? `/console/residents/${resident.id}` : '/console/residents',
          values,
          languageItems: [
            { value: 'en', text: 'English', checked: values.language !== 'cy' },
            { value: 'cy', text: 'Welsh (Cymraeg)', checked: values.language === 'cy', attributes: { lang: 'cy' } },
          ],
          accessibilityItems: [
            { value: 'largePrint', text: 'Large print letters', checked: values.accessibility.split(',').includes('largePrint') },
            { value: 'prefersVoice', text: 'Prefers a voice call to a text message', checked: values.accessibility.split(',').includes('prefersVoice') },
          ],
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, DETAIL_FIELDS),
        },
        fields.length ? 400 : 200,
      );

    app.get('/console/residents/new', { config: managePage, schema: { hide: true } }, async (_request, reply) =>
      showDetails(
        reply,
        null,
        { name: '', email: '', mobile: '', landline: '', address: '', postcode: '', latitude: '', longitude: '', language: 'en', accessibility: '', quietFrom: '', quietTo: '' },
        [],
      ),
    );

    app.post('/console/residents/new', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const values = detailsFrom((request.body ?? {}) as Record<string, unknown>);
      const { input, errors } = detailsInput(values);
      if (errors.length) return showDetails(reply, null, values, errors);
      try {
        request.audited = true;
        const resident = await residents.create(request.actor, input, { ...origin(request), source: CONSOLE });
        return reply.redirect(`/console/residents/${resident.id}?saved=created`, 303);
      } catch (err) {
        return showDetails(reply, null, values, detailErrors(err));
      }
    });

    app.get('/console/residents/:id', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      request.audited = true;
      const resident = await residents.view(request.actor, param(request, 'id'), origin(request));
      // The messages themselves are for those who may read messages (care staff may see the resident, not the texts).
      const messages = can(request.actor, 'messages:read') ? await messaging.notificationsForResident(resident.id, RECENT_MESSAGES) : undefined;
      const saved = str((request.query as Record<string, unknown>).saved);
      const flash = FLASHES[saved];
      const reach = reachable(resident);
      const topics = topicRows(resident.preferences)
        .filter((r) => r.topic && resident.preferences[r.topic])
        .map((r) => ({ topic: r.topic, channels: resident.preferences[r.topic].map((c) => ({ name: CHANNEL_NAMES[c], reachable: reach[c] })) }));
      const [subscriptions, topicNames, areas] = await Promise.all([residents.subscriptions(resident.id), residents.topics.list(), residents.areas()]);
      const names = new Map(topicNames.map((t) => [t.code, t.name]));
      return reply.page(`${VIEWS}/resident.njk`, {
        pageTitle: resident.name,
        resident,
        homeText: homeText(resident, areas.find((a) => a.id === resident.areaId)?.name),
        subscriptions: subscriptions.map((sub) => ({ ...sub, topicName: names.get(sub.topic) ?? sub.topic, where: describeSubscription(sub, resident) })),
        mobileText: ukMobile(resident.mobile),
        landlineText: ukLandline(resident.landline),
        topics,
        defaultOrder: (resident.prefersVoice ? ['voice', ...DEFAULT_CHANNELS] : DEFAULT_CHANNELS).map((c) => CHANNEL_NAMES[c as ContactChannel]),
        messages,
        channelNames: CHANNEL_NAMES,
        statusNames: STATUS_NAMES,
        canReadMessages: can(request.actor, 'messages:read'),
        canManage: canManage(request) && !resident.erasedAt,
        canExport: can(request.actor, 'residents:export'),
        canErase: can(request.actor, 'residents:erase'),
        flash,
      });
    });

    /** A look at the record to change it is a look too: audited. */
    const look = (request: FastifyRequest) => {
      request.audited = true;
      return residents.view(request.actor, param(request, 'id'), origin(request));
    };

    app.get('/console/residents/:id/edit', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const resident = await look(request);
      return showDetails(reply, resident, detailsOf(resident), []);
    });

    app.post('/console/residents/:id/edit', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const resident = await residents.get(param(request, 'id'));
      const values = detailsFrom((request.body ?? {}) as Record<string, unknown>);
      const { input, errors } = detailsInput(values);
      if (errors.length) return showDetails(reply, resident, values, errors);
      try {
        request.audited = true;
        await residents.update(request.actor, resident.id, input, { ...origin(request), source: CONSOLE });
        return reply.redirect(`/console/residents/${resident.id}?saved=details`, 303);
      } catch (err) {
        return showDetails(reply, resident, values, detailErrors(err));
      }
    });

    const showPreferences = (reply: FastifyReply, resident: ResidentView, rows: TopicRow[], fields: FieldError[]) => {
      const reach = reachable(resident);
      return reply.page(
        `${VIEWS}/preferences-form.njk`,
        {
          pageTitle: `Change ${resident.name}’s channel preferences`,
          resident,
          topics: rows.map((r) => ({
            ...r,
            error: errorFor(fields, `topic-${r.index}`),
            selects: r.choices.map((choice, n) => ({
              id: `topic-${r.index}-choice-${n + 1}`,
              label: `${ORDINALS[n]} choice`,
              error: errorFor(fields, `topic-${r.index}-choice-${n + 1}`),
              items: [
                { value: '', text: 'None', selected: !choice },
                ...CONTACT_CHANNELS.map((c) => ({ value: c, text: reach[c] ? CHANNEL_NAMES[c] : `${CHANNEL_NAMES[c]} (no contact details)`, selected: c === choice })),
              ],
            })),
          })),
          count: rows.length,
          defaultOrder: (resident.prefersVoice ? ['voice', ...DEFAULT_CHANNELS] : DEFAULT_CHANNELS).map((c) => CHANNEL_NAMES[c as ContactChannel].toLowerCase()),
          errors: errorList(fields),
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/residents/:id/preferences', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const resident = await look(request);
      return showPreferences(reply, resident, topicRows(resident.preferences), []);
    });

    app.post('/console/residents/:id/preferences', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const resident = await residents.get(param(request, 'id'));
      const { rows, preferences, errors } = preferencesFrom((request.body ?? {}) as Record<string, unknown>);
      // A form that did not come from the page (no rows): shown afresh.
      if (!rows.length) return showPreferences(reply, resident, topicRows(resident.preferences), []);
      if (errors.length) return showPreferences(reply, resident, rows, errors);
      request.audited = true;
      await residents.update(request.actor, resident.id, { ...inputOf(resident), preferences }, { ...origin(request), source: CONSOLE });
      return reply.redirect(`/console/residents/${resident.id}?saved=preferences`, 303);
    });

    await subscriptionsPages(residents)(app);
    await topicsPages(residents)(app);
    await rightsPages(residents)(app);
  };
}
