import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, platformErrors } from '../../platform/errors.js';
import { formatDate, type Language } from '../../platform/web/i18n.js';
import { readForm } from '../../platform/web/forms.js';
import {
  type ConsentView,
  type ContactChannel,
  DEFAULT_CHANNELS,
  purposeName,
  type ResidentView,
  type SubscriptionInput,
  type SubscriptionView,
  type TopicView,
  wordingText,
} from '../residents/index.js';
import { type PortalId, portalText } from './portal.messages.js';
import { body, type FormError, here, options, origin, type PortalDeps, param, query, residentPage, show, str } from './portal.pages.js';
import { RADIUS_LIMITS } from '../residents/residents.schema.js';
import { SubscriptionForm } from './portal.schema.js';
import { savedNotice } from './portal.account.pages.js';
import { formErrors } from './portal.sign-in.pages.js';

/** The channels a resident may choose in the portal (RCS is the council's to offer by topic, not theirs to ask for). */
const CHOICES: ContactChannel[] = ['email', 'sms', 'voice', 'letter'];
const CHANNEL_NAMES: Record<ContactChannel, PortalId> = { email: 'channelEmail', sms: 'channelSms', voice: 'channelVoice', rcs: 'channelRcs', letter: 'channelLetter' };
/** What a resident lacks for a channel to reach them. */
const UNREACHABLE: Record<ContactChannel, PortalId> = { email: 'noEmail', sms: 'noMobile', rcs: 'noMobile', voice: 'noPhone', letter: 'noAddress' };
const SITE_TYPES: Record<string, PortalId> = { school: 'siteSchool', library: 'siteLibrary', park: 'sitePark', car_park: 'siteCarPark' };
const RADIUS = RADIUS_LIMITS;
const ANY = '*';
/** The kinds of subscription that ask a second question, its field and its page's title. */
type Detail = 'area' | 'radius' | 'site';
const DETAILS: Detail[] = ['area', 'radius', 'site'];
const DETAIL_FIELDS = { area: 'areaId', radius: 'radiusMetres', site: 'siteId' } as const;
const DETAIL_TITLES = { area: 'subscriptionAreaTitle', radius: 'subscriptionRadiusTitle', site: 'subscriptionSiteTitle' } as const;
/** '*' in addresses: the order for any topic without its own. */
const USUAL = 'usual';

type T = (id: PortalId, params?: Record<string, unknown>) => string;
const translator =
  (lang: Language): T =>
  (id, params) =>
    portalText(lang, id, params);

const topicName = (topic: Pick<TopicView, 'name' | 'nameCy'> | undefined, code: string, lang: Language) => (topic ? (lang === 'cy' && topic.nameCy) || topic.name : code);

function reachable(r: ResidentView, channel: ContactChannel): boolean {
  return { email: !!r.email, sms: !!r.mobile, rcs: !!r.mobile, voice: !!(r.mobile || r.landline), letter: !!r.address?.length }[channel];
}

/** Metres as people say them: 800 metres, 1.5 km. */
export function distance(t: T, metres: number): string {
  return metres < 1000 ? t('metres', { n: metres }) : t('km', { n: Number((metres / 1000).toFixed(1)).toLocaleString('en-GB') });
}

/** Where a subscription applies, in the page's words. */
export function where(t: T, s: SubscriptionView, r: Pick<ResidentView, 'location'>): string {
  if (s.kind === 'home') return s.areaName ? t('whereHome', { area: s.areaName }) : r.location ? t('whereHomeOutside') : t('whereHomeUnknown');
  if (s.kind === 'area') return s.areaName ? t('whereArea', { area: s.areaName }) : t('whereAreaGone');
  if (s.kind === 'radius') return t('whereRadius', { distance: distance(t, s.radiusMetres ?? 0) });
  return s.siteName ? t('whereSite', { site: s.siteName }) : t('whereSiteGone');
}

/** A consent given or withdrawn here names the page it was on. */
const consentOrigin = (request: FastifyRequest) => ({ ...origin(request), source: `portal:${request.url.split('?')[0]}` });

/** What the resident agreed to, in the page's language: the purpose, the words (of the version they agreed to) and when. */
function consentRows(t: T, lang: Language, consents: ConsentView[], byCode: Map<string, TopicView>) {
  return consents.map((c) => {
    const topic = c.topic ? topicName(byCode.get(c.topic), c.topic, lang) : '';
    return {
      id: c.id,
      what: purposeName(c.purpose, lang, topic),
      words: wordingText(c.wordingVersion, lang, topic),
      when: c.withdrawnAt ? t('consentWithdrawnOn', { date: formatDate(lang, c.withdrawnAt) }) : t('consentAgreed', { date: formatDate(lang, c.givenAt) }),
      inForce: !c.withdrawnAt,
    };
  });
}

/** The channels in order as a phrase: "Email, then text message". */
const orderText = (t: T, channels: ContactChannel[]) => channels.map((c, i) => (i && c !== 'rcs' ? t(CHANNEL_NAMES[c]).toLowerCase() : t(CHANNEL_NAMES[c]))).join(`, ${t('andThen')} `);

/** "How you hear from us": the channel order per topic, quiet hours, language, and subscriptions to add and remove. */
export function hearingPages(deps: PortalDeps) {
  const { residents } = deps;

  /** The topic in an address (a code, or 'usual' for any topic), or undefined when it is none of the council's. */
  const topicAt = async (code: string): Promise<{ key: string; topic?: TopicView } | undefined> => {
    if (code === USUAL) return { key: ANY };
    const topic = (await residents.topics.list()).find((x) => x.code === code && x.enabled);
    return topic && { key: topic.code, topic };
  };

  const channelsForm = (request: FastifyRequest, reply: FastifyReply, lang: Language, r: ResidentView, at: { key: string; topic?: TopicView }, chosen: string[], errors: FormError[] = []) => {
    const t = translator(lang);
    const items = [{ value: '', text: t('choiceNone') }, ...CHOICES.map((c) => ({ value: c, text: t(CHANNEL_NAMES[c]) }))];
    const selects = [0, 1, 2].map((i) => ({ id: `choice${i + 1}`, label: t((['choice1', 'choice2', 'choice3'] as const)[i]), items: options(items, chosen[i] ?? '') }));
    const title = at.topic ? 'channelsTitle' : 'channelsTitleUsual';
    const hint = at.topic ? t('choiceUsualHint') : t('choiceCouncilHint', { order: orderText(t, DEFAULT_CHANNELS) });
    return show(request, reply, lang, 'channels.njk', { title, titleParams: { topic: topicName(at.topic, at.key, lang) }, selects, hint, r, backHref: '/account/messages' }, errors);
  };

  /** The first question: the topic, and where (the area, distance or place is asked next). */
  const subscriptionForm = async (request: FastifyRequest, reply: FastifyReply, lang: Language, r: ResidentView, values: Record<string, string>, errors: FormError[] = []) => {
    const t = translator(lang);
    const [topics, areas] = await Promise.all([residents.topics.list(), residents.areas()]);
    const home = areas.find((a) => a.id === r.areaId);
    return show(
      request,
      reply,
      lang,
      'subscription.njk',
      {
        title: 'subscriptionTitle',
        values,
        backHref: '/account/messages',
        homeHint: r.location ? (home ? t('kindHomeHintIn', { area: home.name }) : t('kindHomeHintOutside')) : t('kindHomeHintNone'),
        topicItems: options([{ value: '', text: t('topicChoose') }, ...topics.filter((x) => x.enabled).map((x) => ({ value: x.code, text: topicName(x, x.code, lang) }))], values.topic),
      },
      errors,
    );
  };

  /** The second question: which area, how far, or which place. */
  const detailForm = async (request: FastifyRequest, reply: FastifyReply, lang: Language, r: ResidentView, topic: TopicView, kind: Detail, value: string, errors: FormError[] = []) => {
    const t = translator(lang);
    const siteText = (s: { name: string; type: string; metres: number | null }) => {
      const type = SITE_TYPES[s.type] ? t(SITE_TYPES[s.type]) : s.type;
      return s.metres === null ? t('siteOptionNear', { name: s.name, type }) : t('siteOption', { name: s.name, type, distance: distance(t, s.metres) });
    };
    const items =
      kind === 'area'
        ? [{ value: '', text: t('areaChoose') }, ...(await residents.areas()).map((a) => ({ value: a.id, text: a.name }))]
        : kind === 'site'
          ? [{ value: '', text: t('siteChoose') }, ...(await residents.siteChoices(r.id)).map((s) => ({ value: s.id, text: siteText(s) }))]
          : [];
    return show(
      request,
      reply,
      lang,
      'subscription-detail.njk',
      {
        title: DETAIL_TITLES[kind],
        titleParams: { topic: topicName(topic, topic.code, lang) },
        kind,
        field: DETAIL_FIELDS[kind],
        topic: topic.code,
        value,
        items: options(items, value),
        hint: kind === 'radius' ? t('radiusHint', { min: RADIUS.min, max: RADIUS.max.toLocaleString('en-GB') }) : kind === 'site' ? t('siteHint') : undefined,
        backHref: `/account/messages/subscriptions/new?topic=${encodeURIComponent(topic.code)}&kind=${kind}`,
      },
      errors,
    );
  };

  /** Subscribes the signed-in resident, or answers the form's errors. */
  const subscribe = async (request: FastifyRequest, r: ResidentView, input: SubscriptionInput): Promise<FormError[]> => {
    try {
      request.audited = true;
      await residents.subscribe(request.actor, r.id, input, consentOrigin(request));
      return [];
    } catch (err) {
      return subscriptionErrors(err, r);
    }
  };

  const enabledTopic = async (code: string) => (await residents.topics.list()).find((x) => x.code === code && x.enabled);

  return async (app: FastifyInstance) => {
    app.get('/account/messages', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      const r = resident as ResidentView;
      const t = translator(lang);
      const [topics, subscriptions, consents] = await Promise.all([residents.topics.list(), residents.subscriptions(r.id), residents.consentsOf(r.id)]);
      const byCode = new Map(topics.map((x) => [x.code, x]));
      const usual = r.preferences[ANY];
      const rows = [
        { topic: t('usualOrder'), href: `/account/messages/channels/${USUAL}`, order: usual ? orderText(t, usual) : t('councilOrder', { order: orderText(t, DEFAULT_CHANNELS) }) },
        ...topics
          .filter((x) => x.enabled)
          .map((x) => {
            const own = r.preferences[x.code];
            return { topic: topicName(x, x.code, lang), href: `/account/messages/channels/${x.code}`, order: own ? orderText(t, own) : t('usesUsual') };
          }),
      ];
      const used = new Set<ContactChannel>(Object.values(r.preferences).flat());
      for (const c of residents.channelsFor(r, undefined)) used.add(c);
      const warnings = [...new Set([...used].filter((c) => !reachable(r, c)).map((c) => t(UNREACHABLE[c])))];
      const subs = subscriptions.map((s) => ({ id: s.id, topic: topicName(byCode.get(s.topic), s.topic, lang), where: where(t, s, r) }));
      return show(request, reply, lang, 'messages.njk', {
        title: 'navMessages',
        rows,
        warnings,
        subs,
        quiet: r.quietFrom && r.quietTo ? t('quietSpan', { from: r.quietFrom, to: r.quietTo }) : t('quietNone'),
        language: t(r.language === 'cy' ? 'languageCy' : 'languageEn'),
        consents: consentRows(t, lang, consents, byCode),
        notice: savedNotice(request, lang) ?? (str(query(request).saved) === 'withdrawn' ? t('consentWithdrawn') : undefined),
      });
    });

    // ------------------------------------------------------------ the order of channels for a topic

    app.get('/account/messages/channels/:topic', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      const at = await topicAt(param(request, 'topic'));
      if (!at) throw platformErrors.NOT_FOUND('There is no such topic.');
      const r = resident as ResidentView;
      return channelsForm(request, reply, lang, r, at, r.preferences[at.key] ?? []);
    });

    app.post('/account/messages/channels/:topic', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      const at = await topicAt(param(request, 'topic'));
      if (!at) throw platformErrors.NOT_FOUND('There is no such topic.');
      const r = resident as ResidentView;
      const b = body(request);
      const chosen = [str(b.choice1), str(b.choice2), str(b.choice3)];
      const errors: FormError[] = [];
      chosen.forEach((c, i) => {
        if (c && !CHOICES.includes(c as ContactChannel)) errors.push({ field: `choice${i + 1}`, id: 'errorChannelTwice' });
        else if (c && chosen.indexOf(c) !== i) errors.push({ field: `choice${i + 1}`, id: 'errorChannelTwice' });
      });
      if (!chosen[0] && chosen.some(Boolean)) errors.push({ field: 'choice1', id: 'errorChannelFirst' });
      if (errors.length) return channelsForm(request, reply, lang, r, at, chosen, errors);
      const preferences = { ...r.preferences };
      const channels = chosen.filter(Boolean) as ContactChannel[];
      if (channels.length) preferences[at.key] = channels;
      else delete preferences[at.key];
      request.audited = true;
      await residents.change(request.actor, r.id, { preferences }, consentOrigin(request));
      return reply.redirect('/account/messages?saved=channels', 303);
    });

    // ------------------------------------------------------------ subscriptions

    app.get('/account/messages/subscriptions/new', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      const q = request.query as Record<string, unknown>;
      return subscriptionForm(request, reply, lang, resident as ResidentView, { topic: str(q.topic), kind: str(q.kind) });
    });

    app.post('/account/messages/subscriptions/new', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { lang, resident } = await here(deps, request, reply);
      const r = resident as ResidentView;
      const b = body(request);
      const values = { topic: str(b.topic), kind: str(b.kind) };
      const errors = formErrors(readForm(SubscriptionForm, values).errors, SubscriptionForm);
      if (values.topic && !(await enabledTopic(values.topic))) errors.unshift({ field: 'topic', id: 'errorTopicMissing' });
      const kind = values.kind as SubscriptionInput['kind'];
      if (!errors.length && (kind === 'home' || kind === 'radius') && !r.location) errors.push({ field: 'kind', id: 'errorNeedHome' });
      else if (!errors.length && kind === 'home' && !r.areaId) errors.push({ field: 'kind', id: 'errorHomeOutside' });
      if (errors.length) return subscriptionForm(request, reply, lang, r, values, errors);
      if (kind !== 'home') return reply.redirect(`/account/messages/subscriptions/new/${kind}?topic=${encodeURIComponent(values.topic)}`, 303);
      const refused = await subscribe(request, r, { topic: values.topic, kind });
      if (refused.length) return subscriptionForm(request, reply, lang, r, values, refused);
      return reply.redirect('/account/messages?saved=subscribed', 303);
    });

    /** The detail asked after the first question: for a kind that has one and a topic that may be subscribed to. */
    const detailOf = async (request: FastifyRequest, topicCode: string) => {
      const kind = param(request, 'kind') as Detail;
      if (!DETAILS.includes(kind)) throw platformErrors.NOT_FOUND();
      return { kind, topic: await enabledTopic(topicCode) };
    };

    app.get('/account/messages/subscriptions/new/:kind', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const { kind, topic } = await detailOf(request, str((request.query as Record<string, unknown>).topic));
      if (!topic) return reply.redirect('/account/messages/subscriptions/new', 303);
      const { lang, resident } = await here(deps, request, reply);
      return detailForm(request, reply, lang, resident as ResidentView, topic, kind, '');
    });

    app.post('/account/messages/subscriptions/new/:kind', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      const b = body(request);
      const { kind, topic } = await detailOf(request, str(b.topic));
      if (!topic) return reply.redirect('/account/messages/subscriptions/new', 303);
      const { lang, resident } = await here(deps, request, reply);
      const r = resident as ResidentView;
      const value = str(b[DETAIL_FIELDS[kind]]);
      const { input, errors } = subscriptionFrom({ topic: topic.code, kind, [DETAIL_FIELDS[kind]]: value });
      // Whatever the service refuses, it is said beside the one field this page has.
      const refused = errors.length ? errors : await subscribe(request, r, input);
      if (refused.length) return detailForm(request, reply, lang, r, topic, kind, value, [{ ...refused[0], field: DETAIL_FIELDS[kind] }]);
      return reply.redirect('/account/messages?saved=subscribed', 303);
    });

    // The subscription must be the resident's own: the service looks it up by them and this id.
    app.post('/account/messages/subscriptions/:id/remove', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      request.audited = true;
      await residents.unsubscribe(request.actor, request.actor.id as string, param(request, 'id'), origin(request));
      return reply.redirect('/account/messages?saved=unsubscribed', 303);
    });

    // ------------------------------------------------------------ consents

    // The consent must be the resident's own: the service looks it up by them and this id.
    app.post('/account/messages/consents/:id/withdraw', { config: residentPage, schema: { hide: true } }, async (request, reply) => {
      request.audited = true;
      await residents.withdrawConsent(request.actor, request.actor.id as string, param(request, 'id'), consentOrigin(request));
      return reply.redirect('/account/messages?saved=withdrawn#consents', 303);
    });
  };
}

/** The detail page's value as the service's input; the error when it is missing or out of range. */
export function subscriptionFrom(v: { topic: string; kind: Detail; areaId?: string; radiusMetres?: string; siteId?: string }): { input: SubscriptionInput; errors: FormError[] } {
  const input: SubscriptionInput = { topic: v.topic, kind: v.kind };
  const errors: FormError[] = [];
  if (v.kind === 'area') {
    if (v.areaId) input.areaId = v.areaId;
    else errors.push({ field: 'areaId', id: 'errorAreaMissing' });
  } else if (v.kind === 'site') {
    if (v.siteId) input.siteId = v.siteId;
    else errors.push({ field: 'siteId', id: 'errorSiteMissing' });
  } else {
    const text = v.radiusMetres ?? '';
    const metres = Number(text.replace(/,/g, ''));
    if (text && Number.isInteger(metres) && metres >= RADIUS.min && metres <= RADIUS.max) input.radiusMetres = metres;
    else errors.push({ field: 'radiusMetres', id: 'errorRadius', params: { min: RADIUS.min, max: RADIUS.max.toLocaleString('en-GB') } });
  }
  return { input, errors };
}

/** A refusal of the residents service as the form's errors, in the portal's words. */
function subscriptionErrors(err: unknown, r: ResidentView): FormError[] {
  if (!(err instanceof AppError) || err.status >= 500) throw err;
  switch (err.code) {
    case 'SUBSCRIPTION_EXISTS':
      return [{ field: 'topic', id: 'errorSubscriptionExists' }];
    case 'TOPIC_DISABLED':
    case 'TOPIC_NOT_FOUND':
      return [{ field: 'topic', id: 'errorTopicMissing' }];
  }
  const fields: Record<string, FormError> = {
    kind: { field: 'kind', id: r.location ? 'errorHomeOutside' : 'errorNeedHome' },
    areaId: { field: 'areaId', id: 'errorAreaMissing' },
    siteId: { field: 'siteId', id: 'errorSiteMissing' },
    radiusMetres: { field: 'radiusMetres', id: 'errorRadius', params: { min: RADIUS.min, max: RADIUS.max.toLocaleString('en-GB') } },
  };
  const mapped = err.fields.map((f) => fields[f.field]).filter(Boolean);
  if (!mapped.length) throw err;
  return mapped;
}
