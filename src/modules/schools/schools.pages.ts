import type { FastifyInstance, FastifyReply } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import { can } from '../../platform/auth/actor.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import { errorFor, errorList } from '../../platform/web/web.js';
import type { EstateService } from '../estate/index.js';
import type { ClosureView } from './schools.schema.js';
import { londonDay } from '../../platform/dates.js';
import type { SchoolsService } from './schools.service.js';

const VIEWS = 'modules/schools/views';
const readPage = { permission: 'schools:read', page: 'console' as const };
const closePage = { permission: 'schools:close', page: 'console' as const };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEARCH_RESULTS = 30;
/** Message statuses still on their way: the closure's page follows them. */
const UNFINISHED = new Set(['created', 'sending', 'pending']);

const str = (v: unknown): string => (Array.isArray(v) ? str(v[0]) : typeof v === 'string' ? v : '');
const all = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : typeof v === 'string' && v ? [v] : []);

interface CloseForm {
  q: string;
  picked: string[];
  day: string;
  month: string;
  year: string;
  reason: string;
  reasonCy: string;
}

/**
 * The console's school closures: the list, the form (find schools by name and tick them, the
 * day, the reason, in Welsh too if wanted — all without JavaScript: "Find" posts the form back
 * with the ticks kept), and a closure's page following every school's messages.
 */
export function schoolsPages(deps: { schools: SchoolsService; estate: Pick<EstateService, 'listSites'> }) {
  const { schools, estate } = deps;
  return async (app: FastifyInstance) => {
    app.get('/console/schools/closures', { config: readPage, schema: { hide: true } }, async (request, reply) =>
      reply.page(`${VIEWS}/closures.njk`, { pageTitle: 'School closures', closures: await schools.list(), canClose: can(request.actor, 'schools:close') }),
    );

    app.get('/console/schools/closures/new', { config: closePage, schema: { hide: true } }, async (_request, reply) => {
      const [year, month, day] = londonDay(new Date()).split('-');
      return showForm(reply, estate, { q: '', picked: [], day: String(Number(day)), month: String(Number(month)), year, reason: '', reasonCy: '' }, []);
    });

    app.post('/console/schools/closures/new', { config: closePage, schema: { hide: true } }, async (request, reply) => {
      request.audited = true; // saved by the service, which audits it, or not at all
      const body = (request.body ?? {}) as Record<string, unknown>;
      const form: CloseForm = {
        q: str(body.q).trim(),
        picked: [
          ...new Set(
            all(body.school)
              .filter((id) => UUID.test(id))
              .map((id) => id.toLowerCase()),
          ),
        ],
        day: str(body['closedOn-day']).trim(),
        month: str(body['closedOn-month']).trim(),
        year: str(body['closedOn-year']).trim(),
        reason: str(body.reason).trim(),
        reasonCy: str(body.reasonCy).trim(),
      };
      if (str(body.action) === 'find') return showForm(reply, estate, form, []);
      const errors = formErrors(form);
      if (errors.length) return showForm(reply, estate, form, errors);
      try {
        const closure = await schools.close(request.actor, { siteIds: form.picked, closedOn: dayOf(form), reason: form.reason, reasonCy: form.reasonCy || undefined }, originOf(request));
        return reply.redirect(`/console/schools/closures/${closure.id}`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        return showForm(
          reply,
          estate,
          form,
          err.fields.map((f) => ({ field: f.field === 'siteIds' ? 'schools' : f.field === 'closedOn' ? 'closedOn-day' : f.field, message: f.message })),
        );
      }
    });

    app.get('/console/schools/closures/:id', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const closure = await schools.get((request.params as { id: string }).id);
      return reply.page(`${VIEWS}/closure.njk`, { pageTitle: `Schools closed on ${closure.closedOn}`, closure, ...progressOf(closure) });
    });
  };
}

function dayOf(form: CloseForm): string {
  return `${form.year.padStart(4, '0')}-${form.month.padStart(2, '0')}-${form.day.padStart(2, '0')}`;
}

function formErrors(form: CloseForm): FieldError[] {
  const errors: FieldError[] = [];
  if (!form.picked.length) errors.push({ field: 'schools', message: 'Choose at least one school' });
  if (!form.day || !form.month || !form.year) errors.push({ field: 'closedOn-day', message: 'Enter the date the schools are closed' });
  else if (![form.day, form.month, form.year].every((p) => /^\d+$/.test(p))) errors.push({ field: 'closedOn-day', message: 'The date must be a real date' });
  if (!form.reason) errors.push({ field: 'reason', message: 'Enter the reason the schools are closed' });
  else if (form.reason.length > 300) errors.push({ field: 'reason', message: 'Enter a reason of up to 300 characters' });
  if (form.reasonCy.length > 300) errors.push({ field: 'reasonCy', message: 'Enter a Welsh reason of up to 300 characters' });
  return errors;
}

async function showForm(reply: FastifyReply, estate: Pick<EstateService, 'listSites'>, form: CloseForm, errors: FieldError[]) {
  const picked = form.picked.length ? await estate.listSites({ ids: form.picked, type: 'school', limit: form.picked.length }) : [];
  const found = form.q ? (await estate.listSites({ type: 'school', q: form.q, limit: SEARCH_RESULTS })).filter((s) => !form.picked.includes(s.id)) : [];
  const item = (s: { id: string; name: string; address: string }, checked: boolean) => ({ value: s.id, text: s.name, hint: { text: s.address }, checked });
  return reply.page(
    `${VIEWS}/close-form.njk`,
    {
      pageTitle: 'Close schools',
      form,
      items: [...picked.map((s) => item(s, true)), ...found.map((s) => item(s, false))],
      searched: !!form.q,
      foundNone: !!form.q && !found.length,
      errors: errorList(errors),
      fieldErrors: Object.fromEntries(['schools', 'closedOn-day', 'reason', 'reasonCy'].map((f) => [f, errorFor(errors, f)])),
    },
    errors.length ? 400 : 200,
  );
}

/** A closure's messages in words and numbers; followed while any are still on their way. */
function progressOf(closure: ClosureView) {
  const by = closure.progress.byStatus;
  const sum = (...statuses: string[]) => statuses.reduce((n, s) => n + (by[s] ?? 0), 0);
  const made = closure.progress.made - closure.progress.skipped;
  const rows = [
    { name: 'Waiting or sending', n: sum('created', 'sending', 'pending') },
    { name: 'Sent', n: sum('sent') },
    { name: 'Delivered', n: sum('delivered', 'received') },
    { name: 'Failed', n: sum('permanent-failure', 'temporary-failure', 'technical-failure') },
    { name: 'Could not be reached on any channel', n: closure.progress.skipped },
  ];
  const unfinished = Object.entries(by).some(([s, n]) => UNFINISHED.has(s) && n > 0);
  return { rows, messages: made, following: closure.status === 'announcing' || unfinished || closure.progress.made < closure.progress.residents };
}
