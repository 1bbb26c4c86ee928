import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FieldError } from '../../platform/errors.js';
import { errorList } from '../../platform/web/web.js';
import { bodyOf, CONSOLE, fieldErrors, formError, origin, param, str } from './residents.forms.js';
import { RADIUS_LIMITS, type ResidentView, type SubscriptionInput, type SubscriptionKind, type SubscriptionView } from './residents.schema.js';
import type { ResidentsService } from './residents.service.js';

const VIEWS = 'modules/residents/views';
const managePage = { permission: 'residents:manage', page: 'console' as const };
const FIELDS = ['topic', 'kind', 'areaId', 'radiusMetres', 'siteId'];
const SITE_TYPES: Record<string, string> = { school: 'school', library: 'library', park: 'park', car_park: 'car park' };

type Values = Record<'topic' | 'kind' | 'areaId' | 'radiusMetres' | 'siteId', string>;

/** Metres as people say them: 800 metres, 1.5 km. */
export function distanceText(metres: number): string {
  return metres < 1000 ? `${metres} metres` : `${Number((metres / 1000).toFixed(1))} km`;
}

/** Where a subscription applies, in a sentence's words, saying so when it can match nothing. */
export function describeSubscription(s: SubscriptionView, resident: Pick<ResidentView, 'location'>): string {
  const noHome = resident.location ? '' : ' (no home location given: reaches nobody)';
  if (s.kind === 'home') return s.areaName ? `Where they live, in ${s.areaName}` : `Where they live${noHome || ' (their home is in none of the council’s areas)'}`;
  if (s.kind === 'area') return `In ${s.areaName ?? 'an area that has since been removed'}`;
  if (s.kind === 'radius') return `Within ${distanceText(s.radiusMetres ?? 0)} of their home${noHome}`;
  return `At ${s.siteName ?? 'a site that has since been removed'}`;
}

/** The form's values as the service's input: the kind's own field only. */
function inputFrom(v: Values): { input: SubscriptionInput; errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (!v.topic) errors.push({ field: 'topic', message: 'Choose a topic' });
  if (!['home', 'area', 'radius', 'site'].includes(v.kind)) errors.push({ field: 'kind', message: 'Choose where the resident wants to hear about it' });
  const kind = v.kind as SubscriptionKind;
  const input: SubscriptionInput = { topic: v.topic, kind };
  if (kind === 'area' && v.areaId) input.areaId = v.areaId;
  if (kind === 'site' && v.siteId) input.siteId = v.siteId;
  if (kind === 'radius' && v.radiusMetres) {
    const metres = Number(v.radiusMetres.replace(/,/g, ''));
    if (Number.isInteger(metres)) input.radiusMetres = metres;
    else errors.push({ field: 'radiusMetres', message: `Enter a whole number of metres, from ${RADIUS_LIMITS.min} to ${RADIUS_LIMITS.max.toLocaleString('en-GB')}` });
  }
  return { input, errors };
}

/** Adding and removing a resident's subscriptions from the console; works without JavaScript. */
export function subscriptionsPages(residents: ResidentsService) {
  return async (app: FastifyInstance) => {
    const show = async (reply: FastifyReply, resident: ResidentView, values: Values, fields: FieldError[]) => {
      const [topics, areas, sites] = await Promise.all([residents.topics.list(), residents.areas(), residents.siteChoices(resident.id)]);
      const area = areas.find((a) => a.id === resident.areaId);
      const option = (value: string, text: string, chosen: string) => ({ value, text, selected: value === chosen });
      return reply.page(
        `${VIEWS}/subscription-form.njk`,
        {
          pageTitle: `Add a subscription for ${resident.name}`,
          resident,
          values,
          homeHint: resident.location ? (area ? `Their home is in ${area.name}.` : 'Their home is in none of the council’s areas.') : 'Add their home location first.',
          topicItems: [option('', 'Choose a topic', values.topic), ...topics.filter((t) => t.enabled).map((t) => option(t.code, t.name, values.topic))],
          areaItems: [option('', 'Choose an area', values.areaId), ...areas.map((a) => option(a.id, a.name, values.areaId))],
          siteItems: [
            option('', 'Choose a place', values.siteId),
            ...sites.map((s) => option(s.id, `${s.name} (${SITE_TYPES[s.type] ?? s.type}${s.metres === null ? '' : `, ${distanceText(s.metres)} away`})`, values.siteId)),
          ],
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, FIELDS),
        },
        fields.length ? 400 : 200,
      );
    };

    app.get('/console/residents/:id/subscriptions/new', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const resident = await residents.get(param(request, 'id'));
      return show(reply, resident, { topic: '', kind: '', areaId: '', radiusMetres: '', siteId: '' }, []);
    });

    app.post('/console/residents/:id/subscriptions/new', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const resident = await residents.get(param(request, 'id'));
      const body = bodyOf(request);
      const values = Object.fromEntries(FIELDS.map((f) => [f, str(body[f]).trim()])) as Values;
      const { input, errors } = inputFrom(values);
      if (errors.length) return show(reply, resident, values, errors);
      try {
        request.audited = true;
        await residents.subscribe(request.actor, resident.id, input, { ...origin(request), source: CONSOLE });
        return reply.redirect(`/console/residents/${resident.id}?saved=subscribed#subscriptions`, 303);
      } catch (err) {
        return show(reply, resident, values, formError(err, 'topic'));
      }
    });

    app.post('/console/residents/:id/subscriptions/:subscriptionId/remove', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const id = param(request, 'id');
      request.audited = true;
      await residents.unsubscribe(request.actor, id, param(request, 'subscriptionId'), origin(request));
      return reply.redirect(`/console/residents/${id}?saved=unsubscribed#subscriptions`, 303);
    });
  };
}
