import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import type { FieldError } from '../../platform/errors.js';
import { errorList } from '../../platform/web/web.js';
import type { EstateService } from '../estate/index.js';
import type { ResidentsService } from '../residents/index.js';
import { type Campaigns, sharedValuesFor } from './campaigns.service.js';
import type { TemplateRow } from './messaging.repository.js';
import { CHANNELS, type Channel, type ServiceView } from './messaging.schema.js';
import type { MessagingService } from './messaging.service.js';
import { CHANNEL_NAMES, fieldErrors, formError, MAX_RATE, query, sendPage, str, strs, UUID, VIEWS, WHOLE } from './pages.shared.js';
import { placeholderKey } from './render/index.js';

export interface AudiencePagesDeps {
  messaging: MessagingService;
  campaigns: Campaigns;
  residents: Pick<ResidentsService, 'topics' | 'areas'>;
  estate: Pick<EstateService, 'listSites'>;
}

const PATH = '/console/messaging/campaigns/new-audience';
/** The places residents subscribe to that a campaign can name. */
const PLACE_TYPES = [
  { type: 'school', legend: 'Schools' },
  { type: 'library', legend: 'Libraries' },
] as const;

interface AudienceForm {
  serviceId: string;
  name: string;
  topic: string;
  areaIds: string[];
  siteIds: string[];
  templates: Partial<Record<Channel, string>>;
  values: Record<string, string>;
  urgent: boolean;
  ratePerMinute: string;
}

/**
 * The campaign wizard's other road: residents subscribed to a topic in some areas or at some
 * places, a template for each channel they may be sent on, and the values every message
 * shares. One form, no JavaScript needed: the values the chosen templates need are asked for
 * once the templates are known. Saved as a draft, then checked and started on the campaign's page.
 */
export function audiencePages(deps: AudiencePagesDeps) {
  const { messaging, campaigns } = deps;
  return async (app: FastifyInstance) => {
    app.get(PATH, { config: sendPage, schema: { hide: true } }, async (request, reply) => {
      const services = await messaging.listServices();
      const asked = str(query(request).serviceId).toLowerCase();
      const service = services.find((s) => s.id === asked) ?? (services.length === 1 ? services[0] : undefined);
      // ?service=choose comes from the form's Change link: the choice again, without an error.
      if (!service) return chooseService(reply, services, 'serviceId' in query(request));
      return showForm(reply, deps, service, { ...emptyForm(service.id) }, []);
    });

    app.post(PATH, { config: sendPage, schema: { hide: true } }, async (request, reply) => {
      request.audited = true; // saved by the service, which audits it, or not at all
      const form = readForm(request);
      const service = UUID.test(form.serviceId) ? await messaging.getService(form.serviceId.toLowerCase()).catch(() => undefined) : undefined;
      if (!service) return reply.redirect(PATH, 303);
      const chosen = await templatesOf(messaging, service.id, form.templates);
      const needed = [...new Set(chosen.flatMap(sharedValuesFor))];
      const errors = checkForm(form, needed);
      if (errors.length) return showForm(reply, deps, service, form, errors, needed);
      try {
        const c = await campaigns.create(
          request.actor,
          service.id,
          {
            name: form.name,
            audience: { topic: form.topic, areaIds: form.areaIds, siteIds: form.siteIds },
            templates: form.templates,
            personalisation: Object.fromEntries(needed.map((n) => [n, form.values[placeholderKey(n)] ?? ''])),
            urgent: form.urgent,
            ratePerMinute: form.ratePerMinute ? Number(form.ratePerMinute) : undefined,
          },
          originOf(request),
        );
        return reply.redirect(`/console/messaging/campaigns/${c.id}`, 303);
      } catch (err) {
        return showForm(reply, deps, service, form, formError(err, 'areas', { topic: 'topic', templates: 'templates', areaIds: 'areas', siteIds: 'areas' }).map(fieldOfTemplate), needed);
      }
    });
  };
}

function emptyForm(serviceId: string): AudienceForm {
  return { serviceId, name: '', topic: '', areaIds: [], siteIds: [], templates: {}, values: {}, urgent: false, ratePerMinute: '' };
}

function readForm(request: FastifyRequest): AudienceForm {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const templates: Partial<Record<Channel, string>> = {};
  for (const c of CHANNELS) if (UUID.test(str(body[`template-${c}`]))) templates[c] = str(body[`template-${c}`]).toLowerCase();
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (k.startsWith('value-')) values[k.slice(6)] = str(v).trim();
  return {
    serviceId: str(body.serviceId),
    name: str(body.name).trim(),
    topic: str(body.topic),
    areaIds: strs(body.areas).filter((id) => UUID.test(id)),
    siteIds: strs(body.places).filter((id) => UUID.test(id)),
    templates,
    values,
    urgent: str(body.urgent) === 'yes',
    ratePerMinute: str(body.ratePerMinute).trim().replace(/,/g, ''),
  };
}

/** The form's own checks, in its order; the service checks the rest. */
function checkForm(form: AudienceForm, needed: string[]): FieldError[] {
  const errors: FieldError[] = [];
  if (!form.name) errors.push({ field: 'name', message: 'Enter a name for the campaign' });
  else if (form.name.length > 200) errors.push({ field: 'name', message: 'Enter a name of up to 200 characters' });
  if (!form.topic) errors.push({ field: 'topic', message: 'Choose the topic residents subscribed to' });
  if (!form.areaIds.length && !form.siteIds.length) errors.push({ field: 'areas', message: 'Choose at least one area or place' });
  if (!Object.keys(form.templates).length) errors.push({ field: 'template-email', message: 'Choose a template for at least one channel' });
  for (const n of needed) if (!form.values[placeholderKey(n)]) errors.push({ field: `value-${placeholderKey(n)}`, message: `Enter the ${n} every message gives` });
  if (form.ratePerMinute && !(WHOLE.test(form.ratePerMinute) && Number(form.ratePerMinute) >= 1 && Number(form.ratePerMinute) <= MAX_RATE))
    errors.push({ field: 'ratePerMinute', message: 'Enter how many messages a minute, as a whole number from 1 to 1,000,000, or leave it empty' });
  return errors;
}

/** The service names a channel's template as templates.sms; the form's field is template-sms. */
function fieldOfTemplate(f: FieldError): FieldError {
  return f.field.startsWith('templates.') ? { ...f, field: `template-${f.field.slice('templates.'.length)}` } : f.field === 'templates' ? { ...f, field: 'template-email' } : f;
}

async function templatesOf(messaging: MessagingService, serviceId: string, chosen: Partial<Record<Channel, string>>): Promise<TemplateRow[]> {
  const out: TemplateRow[] = [];
  for (const [channel, id] of Object.entries(chosen)) {
    const t = await messaging.currentTemplate(id);
    if (t && t.service_id === serviceId && t.type === channel) out.push(t);
  }
  return out;
}

function chooseService(reply: FastifyReply, services: ServiceView[], asked: boolean) {
  const fields = asked ? [{ field: 'serviceId', message: 'Choose the service the messages come from' }] : [];
  return reply.page(
    `${VIEWS}/campaign-service.njk`,
    {
      pageTitle: 'Which service are the messages from?',
      action: PATH,
      serviceItems: services.map((s) => ({ value: s.id, text: s.name })),
      errors: errorList(fields),
      fieldErrors: fieldErrors(fields, ['serviceId']),
    },
    fields.length ? 400 : 200,
  );
}

async function showForm(reply: FastifyReply, deps: AudiencePagesDeps, service: ServiceView, form: AudienceForm, errors: FieldError[], needed: string[] = []) {
  const [topics, areas, templates] = await Promise.all([deps.residents.topics.list(), deps.residents.areas(), deps.messaging.listTemplates(service.id)]);
  const places = await Promise.all(PLACE_TYPES.map(async (p) => ({ ...p, sites: await deps.estate.listSites({ type: p.type, limit: 500 }) })));
  const channels = CHANNELS.filter((c) => templates.some((t) => t.type === c && !t.is_archived)).map((c) => ({
    channel: c,
    label: `${CHANNEL_NAMES[c]} template`,
    items: [{ value: '', text: 'None' }, ...templates.filter((t) => t.type === c && !t.is_archived).map((t) => ({ value: t.id, text: t.name, selected: form.templates[c] === t.id }))],
  }));
  const fieldNames = ['name', 'topic', 'areas', 'ratePerMinute', ...CHANNELS.map((c) => `template-${c}`), ...needed.map((n) => `value-${placeholderKey(n)}`)];
  return reply.page(
    `${VIEWS}/campaign-audience.njk`,
    {
      pageTitle: 'Send to subscribed residents',
      service,
      form,
      topicItems: [{ value: '', text: 'Choose a topic' }, ...topics.filter((t) => t.enabled).map((t) => ({ value: t.code, text: t.name, selected: t.code === form.topic }))],
      areaItems: areas.map((a) => ({ value: a.id, text: a.name, checked: form.areaIds.includes(a.id) })),
      placeGroups: places
        .filter((p) => p.sites.length)
        .map((p) => ({ legend: p.legend, type: p.type, items: p.sites.map((s) => ({ value: s.id, text: s.name, checked: form.siteIds.includes(s.id) })) })),
      channels,
      values: needed.map((n) => ({ name: n, id: `value-${placeholderKey(n)}`, value: form.values[placeholderKey(n)] ?? '' })),
      errors: errorList(errors),
      fieldErrors: fieldErrors(errors, fieldNames),
    },
    errors.length ? 400 : 200,
  );
}
