import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import { errorFor, errorList } from '../../platform/web/web.js';
import { VISIT_MINUTES, type VisitView } from './lone-worker.schema.js';
import { type LoneWorkerService, londonClock } from './lone-worker.service.js';

const VIEW = 'modules/rules/views/visits.njk';
const page = { permission: 'visits:start', page: 'console' as const };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DONE: Record<string, string> = { started: 'Your visit has started. Check out when you leave.', out: 'You have checked out. Your team knows you are safe.' };

const str = (v: unknown): string => (Array.isArray(v) ? str(v[0]) : typeof v === 'string' ? v : '');

interface StartForm {
  place: string;
  minutes: string;
  teamId: string;
}

/**
 * The care worker's visits page, made for a phone and for no JavaScript: start a visit (where,
 * how long, which team), then one big "I'm safe – check out" button while it lasts.
 */
export function loneWorkerPages(loneWorker: LoneWorkerService) {
  return async (app: FastifyInstance) => {
    app.get('/console/visits', { config: page, schema: { hide: true } }, async (request, reply) => {
      const flash = DONE[str((request.query as Record<string, unknown>).done)];
      return show(request, reply, loneWorker, undefined, [], flash);
    });

    app.post('/console/visits', { config: page, schema: { hide: true } }, async (request, reply) => {
      request.audited = true; // the service audits the visit it starts, or nothing happens
      const body = (request.body ?? {}) as Record<string, unknown>;
      const form: StartForm = { place: str(body.place).trim(), minutes: str(body.expectedMinutes).trim(), teamId: str(body.teamId).trim() };
      const errors = formErrors(form);
      if (errors.length) return show(request, reply, loneWorker, form, errors);
      try {
        await loneWorker.start(request.actor, { place: form.place, expectedMinutes: Number(form.minutes), teamId: form.teamId }, originOf(request));
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        const fields = err.fields.length ? err.fields : [{ field: 'place', message: err.message }];
        return show(request, reply, loneWorker, form, fields);
      }
      return reply.redirect('/console/visits?done=started', 303);
    });

    app.post('/console/visits/:id/check-out', { config: page, schema: { hide: true } }, async (request, reply) => {
      request.audited = true;
      const id = (request.params as { id: string }).id;
      try {
        await loneWorker.checkOut(request.actor, UUID.test(id) ? id.toLowerCase() : '00000000-0000-0000-0000-000000000000', originOf(request));
      } catch (err) {
        // Pressed twice: the first press checked out.
        if (!(err instanceof AppError && err.code === 'VISIT_CHECKED_OUT')) throw err;
      }
      return reply.redirect('/console/visits?done=out', 303);
    });
  };
}

function formErrors(form: StartForm): FieldError[] {
  const errors: FieldError[] = [];
  if (!form.place) errors.push({ field: 'place', message: 'Enter where the visit is' });
  else if (form.place.length > 200) errors.push({ field: 'place', message: 'Enter where the visit is in 200 characters or fewer' });
  const minutes = Number(form.minutes);
  if (!form.minutes) errors.push({ field: 'expectedMinutes', message: 'Enter how long the visit should take' });
  else if (!/^\d+$/.test(form.minutes) || minutes < VISIT_MINUTES.min || minutes > VISIT_MINUTES.max)
    errors.push({ field: 'expectedMinutes', message: `Enter a whole number of minutes from ${VISIT_MINUTES.min} to ${VISIT_MINUTES.max}` });
  if (!UUID.test(form.teamId)) errors.push({ field: 'teamId', message: 'Choose your team' });
  return errors;
}

async function show(request: FastifyRequest, reply: FastifyReply, loneWorker: LoneWorkerService, form: StartForm | undefined, errors: FieldError[], flash?: string) {
  const { open, recent } = await loneWorker.mine(request.actor);
  const teams = [...(await loneWorker.teamNames())].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
  const chosen = form?.teamId ?? recent[0]?.teamId ?? (teams.length === 1 ? teams[0].id : '');
  const fields = ['place', 'expectedMinutes', 'teamId'];
  return reply.page(
    VIEW,
    {
      pageTitle: open ? 'Your visit' : 'Start a visit',
      flash,
      open: open ? openOf(open) : null,
      form: form ?? { place: '', minutes: '', teamId: chosen },
      teamItems: teams.map((t) => ({ value: t.id, text: t.name, checked: t.id === chosen })),
      recent: recent.filter((v) => v.id !== open?.id).map(recentOf),
      errors: errorList(errors),
      fieldErrors: Object.fromEntries(fields.map((f) => [f, errorFor(errors, f)])),
    },
    errors.length ? 400 : 200,
  );
}

function openOf(v: VisitView) {
  return { id: v.id, place: v.place, teamName: v.teamName ?? 'your team', started: londonClock(v.startedAt), due: londonClock(v.dueAt), deadline: londonClock(v.deadlineAt), status: v.status };
}

const STATUS_WORDS: Record<VisitView['status'], string> = { on_visit: 'On the visit', overdue: 'Overdue', alarm: 'Team alerted', checked_out: 'Checked out' };

function recentOf(v: VisitView) {
  return { place: v.place, startedAt: v.startedAt, ended: v.checkedOutAt ? londonClock(v.checkedOutAt) : '', status: STATUS_WORDS[v.status], alerted: !!v.alarmId };
}
