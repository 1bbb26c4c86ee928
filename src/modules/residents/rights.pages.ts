import type { FastifyInstance, FastifyReply } from 'fastify';
import { can } from '../../platform/auth/actor.js';
import type { FieldError } from '../../platform/errors.js';
import { errorList } from '../../platform/web/web.js';
import { purposeName } from './consents.wording.js';
import { bodyOf, CONSOLE, fieldErrors, origin, param, str } from './residents.forms.js';
import type { ResidentView } from './residents.schema.js';
import type { ResidentsService } from './residents.service.js';

const VIEWS = 'modules/residents/views';
const readPage = { permission: 'residents:read', page: 'console' as const };
const managePage = { permission: 'residents:manage', page: 'console' as const };
const HISTORY_LIMIT = 200;
const KINDS: Record<string, string> = { message: 'Message', request: 'Request', consent: 'Consent', 'sign-in': 'Signing in' };

/**
 * The console's pages for a resident's rights: their contact history (messages, requests,
 * consents, signing in) with the consents they can withdraw, the subject access export, and
 * erasure behind a confirmation page.
 */
export function rightsPages(residents: ResidentsService) {
  return async (app: FastifyInstance) => {
    app.get('/console/residents/:id/history', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      request.audited = true;
      const { resident, entries } = await residents.contactHistory(request.actor, param(request, 'id'), HISTORY_LIMIT, origin(request));
      const [consents, topics] = await Promise.all([residents.consentsOf(resident.id), residents.topics.list()]);
      const readsMessages = can(request.actor, 'messages:read');
      const canReadRequests = can(request.actor, 'requests:read');
      const topicName = (code: string | null) => (code ? (topics.find((t) => t.code === code)?.name ?? code) : '');
      return reply.page(`${VIEWS}/history.njk`, {
        pageTitle: `${resident.name}: contact history`,
        resident,
        entries: entries.map((e) => ({
          ...e,
          kindName: KINDS[e.kind] ?? e.kind,
          // A message's text is for staff who may read messages; requests' pages for those who may read requests.
          detail: e.kind === 'message' && !readsMessages ? null : e.detail,
          href: (e.kind === 'message' && !readsMessages) || (e.kind === 'request' && !canReadRequests) ? null : e.href,
        })),
        consents: consents.map((c) => ({ ...c, name: purposeName(c.purpose, 'en', topicName(c.topic)) })),
        limit: HISTORY_LIMIT,
        canManage: can(request.actor, 'residents:manage') && !resident.erasedAt,
        flash: str((request.query as Record<string, unknown>).saved) === 'withdrawn' ? 'Consent withdrawn.' : undefined,
      });
    });

    app.post('/console/residents/:id/consents/:consentId/withdraw', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      request.audited = true;
      const id = param(request, 'id');
      await residents.withdrawConsent(request.actor, id, param(request, 'consentId'), { ...origin(request), source: CONSOLE });
      return reply.redirect(`/console/residents/${encodeURIComponent(id)}/history?saved=withdrawn#consents`, 303);
    });

    app.get('/console/residents/:id/export', { config: { permission: 'residents:export', page: 'console' as const }, schema: { hide: true } }, async (request, reply) => {
      request.audited = true;
      const data = await residents.exportResident(request.actor, param(request, 'id'), origin(request));
      return reply
        .type('application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="resident-${data.residentId}.json"`)
        .header('cache-control', 'no-store')
        .send(JSON.stringify(data, null, 2));
    });

    const erasePage = { permission: 'residents:erase', page: 'console' as const };
    const showErase = (reply: FastifyReply, resident: ResidentView, fields: FieldError[]) =>
      reply.page(
        `${VIEWS}/erase.njk`,
        { pageTitle: `Erase ${resident.name}’s personal data`, resident, errors: errorList(fields), fieldErrors: fieldErrors(fields, ['confirm']) },
        fields.length ? 400 : 200,
      );

    app.get('/console/residents/:id/erase', { config: erasePage, schema: { hide: true } }, async (request, reply) => {
      request.audited = true;
      return showErase(reply, await residents.view(request.actor, param(request, 'id'), origin(request)), []);
    });

    app.post('/console/residents/:id/erase', { config: erasePage, schema: { hide: true } }, async (request, reply) => {
      const resident = await residents.get(param(request, 'id'));
      if (str(bodyOf(request).confirm) !== 'yes')
        return showErase(reply, resident, [{ field: 'confirm', message: 'Confirm that this is the resident who asked, and that nothing requires their data to be kept' }]);
      request.audited = true;
      await residents.erase(request.actor, resident.id, origin(request));
      return reply.redirect(`/console/residents/${resident.id}?saved=erased`, 303);
    });
  };
}
