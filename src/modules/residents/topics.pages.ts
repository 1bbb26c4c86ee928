import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FieldError } from '../../platform/errors.js';
import { errorList } from '../../platform/web/web.js';
import { bodyOf, fieldErrors, formError, origin, param, str } from './residents.forms.js';
import type { TopicView } from './residents.schema.js';
import type { ResidentsService } from './residents.service.js';

const VIEWS = 'modules/residents/views';
const topicsPage = { permission: 'topics:manage', page: 'console' as const };
const FIELDS = ['code', 'name', 'nameCy', 'description'];
const FLASHES: Record<string, string> = { created: 'Topic added.', changed: 'Topic saved.', off: 'Topic turned off.', on: 'Topic turned on.' };

type Values = Record<'code' | 'name' | 'nameCy' | 'description', string>;

/** The topics residents subscribe to, for staff with topics:manage: list, add, change, turn off and on. */
export function topicsPages(residents: ResidentsService) {
  return async (app: FastifyInstance) => {
    app.get('/console/residents/topics', { config: topicsPage, schema: { hide: true } }, async (request, reply) =>
      reply.page(`${VIEWS}/topics.njk`, { pageTitle: 'Topics', topics: await residents.topics.list(), flash: FLASHES[str((request.query as Record<string, unknown>).saved)] }),
    );

    const show = (reply: FastifyReply, topic: TopicView | null, values: Values, fields: FieldError[]) =>
      reply.page(
        `${VIEWS}/topic-form.njk`,
        {
          pageTitle: topic ? `Change ${topic.name}` : 'Add a topic',
          topic,
          values,
          action: topic ? `/console/residents/topics/${topic.code}/edit` : '/console/residents/topics/new',
          errors: errorList(fields),
          fieldErrors: fieldErrors(fields, FIELDS),
        },
        fields.length ? 400 : 200,
      );
    const valuesFrom = (body: Record<string, unknown>): Values => Object.fromEntries(FIELDS.map((f) => [f, str(body[f]).trim()])) as Values;

    app.get('/console/residents/topics/new', { config: topicsPage, schema: { hide: true } }, async (_request, reply) => show(reply, null, { code: '', name: '', nameCy: '', description: '' }, []));

    app.post('/console/residents/topics/new', { config: topicsPage, schema: { hide: true } }, async (request, reply) => {
      const values = valuesFrom(bodyOf(request));
      try {
        request.audited = true;
        await residents.topics.create(
          request.actor,
          { code: values.code.toLowerCase().replace(/\s+/g, '-'), name: values.name, nameCy: values.nameCy, description: values.description },
          origin(request),
        );
        return reply.redirect('/console/residents/topics?saved=created', 303);
      } catch (err) {
        return show(reply, null, values, formError(err, 'code'));
      }
    });

    app.get('/console/residents/topics/:code/edit', { config: topicsPage, schema: { hide: true } }, async (request, reply) => {
      const topic = await residents.topics.get(param(request, 'code'));
      return show(reply, topic, { code: topic.code, name: topic.name, nameCy: topic.nameCy ?? '', description: topic.description ?? '' }, []);
    });

    app.post('/console/residents/topics/:code/edit', { config: topicsPage, schema: { hide: true } }, async (request, reply) => {
      const topic = await residents.topics.get(param(request, 'code'));
      const values = { ...valuesFrom(bodyOf(request)), code: topic.code };
      try {
        request.audited = true;
        await residents.topics.update(request.actor, topic.code, { name: values.name, nameCy: values.nameCy, description: values.description }, origin(request));
        return reply.redirect('/console/residents/topics?saved=changed', 303);
      } catch (err) {
        return show(reply, topic, values, formError(err, 'name'));
      }
    });

    app.post('/console/residents/topics/:code/enabled', { config: topicsPage, schema: { hide: true } }, async (request, reply) => {
      const enabled = str(bodyOf(request).enabled) === 'yes';
      request.audited = true;
      await residents.topics.update(request.actor, param(request, 'code'), { enabled }, origin(request));
      return reply.redirect(`/console/residents/topics?saved=${enabled ? 'on' : 'off'}`, 303);
    });
  };
}
