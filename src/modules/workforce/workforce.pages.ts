import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import { can } from '../../platform/auth/actor.js';
import { addDays, isDay, londonDay } from '../../platform/dates.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import { errorFor, errorList } from '../../platform/web/web.js';
import { longDay, minutesOf, WEEKDAY_NAMES } from './hours.js';
import { qrSvg } from './qr.js';
import { BOOKING_STATUS_NAMES, SPACE_KIND_NAMES, SPACE_KINDS, type BookingView, type SpaceAvailability, type SpaceKind } from './workforce.schema.js';
import type { WorkforceService } from './workforce.service.js';

const VIEWS = 'modules/workforce/views';
const readPage = { permission: 'hubs:read', page: 'console' as const };
const bookPage = { permission: 'hubs:book', page: 'console' as const };
const managePage = { permission: 'hubs:manage', page: 'console' as const };
const hidden = { hide: true };

const str = (v: unknown): string => (Array.isArray(v) ? str(v[0]) : typeof v === 'string' ? v.trim() : '');
const all = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : typeof v === 'string' && v ? [v] : []);
const bodyOf = (request: FastifyRequest) => (request.body ?? {}) as Record<string, unknown>;
const params = (request: FastifyRequest) => request.params as { id: string; spaceId?: string };
const DONE: Record<string, string> = {
  booked: 'Booked. Check in when you arrive: on this page, or with the QR code on the desk.',
  'checked-in': 'You are checked in.',
  'checked-out': 'You are checked out. The rest of your time is free for others to book.',
  cancelled: 'Booking cancelled.',
  created: 'Hub added. Now add its desks and rooms.',
  space: 'Space added.',
  closed: 'Hub closed. Everyone whose booking was cancelled is being emailed.',
};

const DONE_AFTER = { 'check-in': 'checked-in', 'check-out': 'checked-out', cancel: 'cancelled' } as const;

/** Field errors of an AppError, with the field names the page's inputs have. */
function fieldsOf(err: AppError, rename: Record<string, string> = {}): FieldError[] {
  if (err.fields.length) return err.fields.map((f) => ({ field: rename[f.field] ?? f.field, message: f.message }));
  return [{ field: 'main-content', message: err.message }];
}

/** A form's errors as the GOV.UK layout wants them. */
function errorContext(errors: FieldError[], fields: string[]) {
  return { errors: errorList(errors), fieldErrors: Object.fromEntries(fields.map((f) => [f, errorFor(errors, f)])) };
}

/** The times a space can be booked from the list: all day, each free stretch, and its morning and afternoon. */
function slotOptions(space: SpaceAvailability, opens: string, closes: string) {
  const out: { value: string; text: string }[] = [];
  if (space.freeAllDay) out.push({ value: `${opens}-${closes}`, text: `All day (${opens} to ${closes})` });
  for (const f of space.free) {
    const [s, e] = [minutesOf(f.start) as number, minutesOf(f.end) as number];
    if (!space.freeAllDay) out.push({ value: `${f.start}-${f.end}`, text: `${f.start} to ${f.end}` });
    if (s < 780 && e > 780) {
      out.push({ value: `${f.start}-13:00`, text: `${f.start} to 13:00` });
      out.push({ value: `13:00-${f.end}`, text: `13:00 to ${f.end}` });
    }
  }
  return out;
}

/**
 * The console's hubs: the list, a hub's day (each space's free times, a booking form per space,
 * all without JavaScript), your bookings with check-in, check-out and cancel, the page a desk's QR
 * code opens, and for managers: adding hubs and spaces, closing a hub, occupancy, the QR codes.
 */
export function workforcePages(deps: { workforce: WorkforceService; publicUrl: string }) {
  const { workforce, publicUrl } = deps;

  async function showHub(request: FastifyRequest, reply: FastifyReply, hubId: string, day: string, errors: FieldError[] = [], status = 200) {
    const hub = await workforce.getHub(hubId);
    const availability = await workforce.availability(hub.id, day);
    const today = londonDay(workforce.clock());
    const canBook = can(request.actor, 'hubs:book');
    const spaces = availability.spaces.map((s) => ({ ...s, kindName: SPACE_KIND_NAMES[s.kind], slots: canBook && day >= today ? slotOptions(s, hub.opens, hub.closes) : [] }));
    const done = DONE[str((request.query as Record<string, unknown>).done)];
    return reply.page(
      `${VIEWS}/hub.njk`,
      {
        pageTitle: `${hub.name}: ${longDay(day)}`,
        hub,
        day,
        dayName: longDay(day),
        availability,
        spaces,
        openDays: hub.openDays.map((d) => WEEKDAY_NAMES[d - 1]).join(', '),
        previous: day > today ? addDays(day, -1) : null,
        next: addDays(day, 1),
        week: Array.from({ length: 7 }, (_, i) => addDays(today, i)).map((d) => ({ day: d, name: longDay(d), current: d === day })),
        closures: await workforce.closures(request.actor, hub.id),
        canBook,
        canManage: can(request.actor, 'hubs:manage'),
        flash: done,
        ...errorContext(errors, []),
      },
      status,
    );
  }

  async function showBooking(request: FastifyRequest, reply: FastifyReply, booking: BookingView, errors: FieldError[] = [], status = 200) {
    const now = workforce.clock().getTime();
    return reply.page(
      `${VIEWS}/booking.njk`,
      {
        pageTitle: `${booking.spaceName}, ${booking.hubName}`,
        booking,
        dayName: longDay(booking.day),
        statusName: BOOKING_STATUS_NAMES[booking.status],
        canCheckIn: booking.status === 'booked' && now >= booking.startsAt.getTime() - 30 * 60_000 && now < booking.endsAt.getTime(),
        canCheckOut: booking.status === 'checked_in',
        canCancel: (booking.status === 'booked' || booking.status === 'checked_in') && now < booking.endsAt.getTime(),
        flash: DONE[str((request.query as Record<string, unknown>).done)],
        ...errorContext(errors, []),
      },
      status,
    );
  }

  return async (app: FastifyInstance) => {
    app.get('/console/hubs', { config: readPage, schema: hidden }, async (request, reply) => {
      const hubs = await workforce.listHubs();
      const today = londonDay(workforce.clock());
      const occupancy = await workforce.occupancy(
        hubs.map((h) => h.id),
        today,
        today,
      );
      const rows = hubs.map((h) => ({
        ...h,
        today: occupancy.get(h.id)?.[0],
        desks: h.spaces.filter((s) => s.kind === 'desk' && s.isActive).length,
        rooms: h.spaces.filter((s) => s.kind !== 'desk' && s.isActive).length,
      }));
      return reply.page(`${VIEWS}/hubs.njk`, { pageTitle: 'Hubs', hubs: rows, canBook: can(request.actor, 'hubs:book'), canManage: can(request.actor, 'hubs:manage') });
    });

    // ---- your bookings

    app.get('/console/hubs/bookings', { config: bookPage, schema: hidden }, async (request, reply) => {
      const bookings = await workforce.myBookings(request.actor);
      const today = londonDay(workforce.clock());
      const row = (b: BookingView) => ({ ...b, dayName: longDay(b.day), statusName: BOOKING_STATUS_NAMES[b.status] });
      return reply.page(`${VIEWS}/bookings.njk`, {
        pageTitle: 'Your hub bookings',
        upcoming: bookings.filter((b) => b.day >= today && (b.status === 'booked' || b.status === 'checked_in')).map(row),
        past: bookings.filter((b) => !(b.day >= today && (b.status === 'booked' || b.status === 'checked_in'))).map(row),
      });
    });

    app.post('/console/hubs/bookings', { config: bookPage, schema: hidden }, async (request, reply) => {
      request.audited = true;
      const body = bodyOf(request);
      const hubId = str(body.hubId);
      const day = str(body.day);
      const [start, end] = str(body.slot).split('-');
      try {
        const booking = await workforce.book(request.actor, { spaceId: str(body.spaceId), day, ...(start && end ? { start, end } : {}) }, originOf(request));
        return reply.redirect(`/console/hubs/bookings/${booking.id}?done=booked`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || !hubId) throw err;
        return showHub(
          request,
          reply,
          hubId,
          isDay(day) ? day : londonDay(workforce.clock()),
          fieldsOf(err, { spaceId: 'main-content', day: 'main-content', start: 'main-content', end: 'main-content' }),
          err.status,
        );
      }
    });

    app.get('/console/hubs/bookings/:id', { config: bookPage, schema: hidden }, async (request, reply) => showBooking(request, reply, await workforce.getBooking(request.actor, params(request).id)));

    for (const action of ['check-in', 'check-out', 'cancel'] as const) {
      app.post(`/console/hubs/bookings/:id/${action}`, { config: bookPage, schema: hidden }, async (request, reply) => {
        request.audited = true;
        const { id } = params(request);
        const origin = originOf(request);
        try {
          if (action === 'check-in') await workforce.checkIn(request.actor, id, origin);
          else if (action === 'check-out') await workforce.checkOut(request.actor, id, origin);
          else await workforce.cancel(request.actor, id, {}, origin);
          return reply.redirect(`/console/hubs/bookings/${id}?done=${DONE_AFTER[action]}`, 303);
        } catch (err) {
          if (!(err instanceof AppError) || err.status >= 500 || err.status === 404 || err.status === 403) throw err;
          return showBooking(request, reply, await workforce.getBooking(request.actor, id), fieldsOf(err), err.status);
        }
      });
    }

    // The address a desk's QR code holds: open it signed in, and check in with one button.
    app.get('/console/hubs/check-in/:id', { config: bookPage, schema: hidden }, async (request, reply) => {
      const space = await workforce.getSpace(params(request).id);
      try {
        const booking = await workforce.bookingForQr(request.actor, space.id);
        return showBooking(request, reply, booking);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== 'HUB_NO_BOOKING_TODAY') throw err;
        return reply.page(`${VIEWS}/no-booking.njk`, { pageTitle: `No booking of ${space.name} today`, space, today: londonDay(workforce.clock()) }, 404);
      }
    });

    // ---- managing hubs

    app.get('/console/hubs/new', { config: managePage, schema: hidden }, async (_request, reply) =>
      showHubForm(reply, { siteId: '', opens: '08:00', closes: '18:00', openDays: ['1', '2', '3', '4', '5'], graceMinutes: '30', notes: '' }, []),
    );

    async function showHubForm(
      reply: FastifyReply,
      form: { siteId: string; opens: string; closes: string; openDays: string[]; graceMinutes: string; notes: string },
      errors: FieldError[],
      status = 200,
    ) {
      const sites = await workforce.candidateSites();
      return reply.page(
        `${VIEWS}/hub-form.njk`,
        {
          pageTitle: 'Add a hub',
          form,
          sites: [{ value: '', text: 'Choose a site' }, ...sites.map((s) => ({ value: s.id, text: `${s.name}, ${s.address}`, selected: s.id === form.siteId }))],
          days: WEEKDAY_NAMES.map((name, i) => ({ value: String(i + 1), text: name, checked: form.openDays.includes(String(i + 1)) })),
          ...errorContext(errors, ['siteId', 'opens', 'closes', 'openDays', 'graceMinutes', 'notes']),
        },
        status,
      );
    }

    app.post('/console/hubs/new', { config: managePage, schema: hidden }, async (request, reply) => {
      request.audited = true;
      const body = bodyOf(request);
      const form = { siteId: str(body.siteId), opens: str(body.opens), closes: str(body.closes), openDays: all(body.openDays), graceMinutes: str(body.graceMinutes), notes: str(body.notes) };
      const errors: FieldError[] = [];
      if (!form.siteId) errors.push({ field: 'siteId', message: 'Choose a site from the estate' });
      if (!form.openDays.length) errors.push({ field: 'openDays', message: 'Choose the days it opens' });
      const grace = Number(form.graceMinutes);
      if (!/^\d+$/.test(form.graceMinutes) || grace < 5 || grace > 240) errors.push({ field: 'graceMinutes', message: 'Enter the grace period in minutes, from 5 to 240' });
      if (!/^\d\d:\d\d$/.test(form.opens)) errors.push({ field: 'opens', message: 'Enter the opening time like 08:30' });
      if (!/^\d\d:\d\d$/.test(form.closes)) errors.push({ field: 'closes', message: 'Enter the closing time like 17:30' });
      if (errors.length) return showHubForm(reply, form, errors, 400);
      try {
        const hub = await workforce.createHub(
          request.actor,
          { siteId: form.siteId, opens: form.opens, closes: form.closes, openDays: form.openDays.map(Number).filter((d) => d >= 1 && d <= 7), graceMinutes: grace, notes: form.notes || null },
          originOf(request),
        );
        return reply.redirect(`/console/hubs/${hub.id}?done=created`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        return showHubForm(reply, form, err.fields.length ? err.fields : [{ field: 'siteId', message: err.message }], err.status);
      }
    });

    app.get('/console/hubs/:id', { config: readPage, schema: hidden }, async (request, reply) => {
      const day = str((request.query as Record<string, unknown>).day);
      return showHub(request, reply, params(request).id, isDay(day) ? day : londonDay(workforce.clock()));
    });

    app.get('/console/hubs/:id/spaces/new', { config: managePage, schema: hidden }, async (request, reply) =>
      showSpaceForm(reply, params(request).id, { name: '', kind: 'desk', capacity: '1', equipment: '', accessibility: '' }, []),
    );

    async function showSpaceForm(reply: FastifyReply, hubId: string, form: Record<string, string>, errors: FieldError[], status = 200) {
      const hub = await workforce.getHub(hubId);
      return reply.page(
        `${VIEWS}/space-form.njk`,
        {
          pageTitle: `Add a space to ${hub.name}`,
          hub,
          form,
          kinds: SPACE_KINDS.map((k) => ({ value: k, text: SPACE_KIND_NAMES[k], checked: form.kind === k })),
          ...errorContext(errors, ['name', 'kind', 'capacity', 'equipment', 'accessibility']),
        },
        status,
      );
    }

    app.post('/console/hubs/:id/spaces/new', { config: managePage, schema: hidden }, async (request, reply) => {
      request.audited = true;
      const body = bodyOf(request);
      const { id } = params(request);
      const form = { name: str(body.name), kind: str(body.kind), capacity: str(body.capacity) || '1', equipment: str(body.equipment), accessibility: str(body.accessibility) };
      const errors: FieldError[] = [];
      if (!form.name) errors.push({ field: 'name', message: 'Enter the space’s name, like Desk 12' });
      else if (form.name.length > 100) errors.push({ field: 'name', message: 'Enter a name of up to 100 characters' });
      if (!(SPACE_KINDS as readonly string[]).includes(form.kind)) errors.push({ field: 'kind', message: 'Choose what kind of space it is' });
      if (!/^\d+$/.test(form.capacity) || Number(form.capacity) < 1 || Number(form.capacity) > 200) errors.push({ field: 'capacity', message: 'Enter how many people it seats, from 1 to 200' });
      if (form.accessibility.length > 500) errors.push({ field: 'accessibility', message: 'Enter up to 500 characters' });
      const equipment = [
        ...new Set(
          form.equipment
            .split(/[,\n]/)
            .map((e) => e.trim())
            .filter(Boolean),
        ),
      ];
      if (equipment.length > 20 || equipment.some((e) => e.length > 60)) errors.push({ field: 'equipment', message: 'List up to 20 things, each up to 60 characters' });
      if (errors.length) return showSpaceForm(reply, id, form, errors, 400);
      try {
        await workforce.addSpace(
          request.actor,
          id,
          { name: form.name, kind: form.kind as SpaceKind, ...(form.kind === 'desk' ? {} : { capacity: Number(form.capacity) }), equipment, accessibility: form.accessibility || null },
          originOf(request),
        );
        return reply.redirect(`/console/hubs/${id}?done=space`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || err.status === 404) throw err;
        return showSpaceForm(reply, id, form, err.fields.length ? err.fields : [{ field: 'name', message: err.message }], err.status);
      }
    });

    app.get('/console/hubs/:id/close', { config: managePage, schema: hidden }, async (request, reply) => {
      const today = londonDay(workforce.clock());
      return showCloseForm(reply, params(request).id, { from: today, to: today, reason: '' }, []);
    });

    async function showCloseForm(reply: FastifyReply, hubId: string, form: Record<string, string>, errors: FieldError[], status = 200) {
      const hub = await workforce.getHub(hubId);
      return reply.page(`${VIEWS}/close-form.njk`, { pageTitle: `Close ${hub.name}`, hub, form, ...errorContext(errors, ['from', 'to', 'reason']) }, status);
    }

    app.post('/console/hubs/:id/close', { config: managePage, schema: hidden }, async (request, reply) => {
      request.audited = true;
      const body = bodyOf(request);
      const { id } = params(request);
      const form = { from: str(body.from), to: str(body.to) || str(body.from), reason: str(body.reason) };
      const errors: FieldError[] = [];
      if (!isDay(form.from)) errors.push({ field: 'from', message: 'Enter the first day it is closed, like 2027-03-27' });
      if (!isDay(form.to)) errors.push({ field: 'to', message: 'Enter the last day it is closed, like 2027-03-28' });
      if (!form.reason) errors.push({ field: 'reason', message: 'Enter the reason the hub is closed' });
      else if (form.reason.length > 300) errors.push({ field: 'reason', message: 'Enter a reason of up to 300 characters' });
      if (errors.length) return showCloseForm(reply, id, form, errors, 400);
      try {
        await workforce.closeHub(request.actor, id, { from: form.from, to: form.to, reason: form.reason }, originOf(request));
        return reply.redirect(`/console/hubs/${id}?day=${form.from}&done=closed`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || err.status === 404) throw err;
        return showCloseForm(reply, id, form, fieldsOf(err), err.status);
      }
    });

    app.get('/console/hubs/:id/occupancy', { config: readPage, schema: hidden }, async (request, reply) => {
      const hub = await workforce.getHub(params(request).id);
      const today = londonDay(workforce.clock());
      const days = await workforce.hubOccupancy(hub.id, addDays(today, -14), addDays(today, 14));
      return reply.page(`${VIEWS}/occupancy.njk`, { pageTitle: `Occupancy of ${hub.name}`, hub, today, days: days.map((d) => ({ ...d, name: longDay(d.day) })) });
    });

    app.get('/console/hubs/:id/bookings', { config: managePage, schema: hidden }, async (request, reply) => {
      const hub = await workforce.getHub(params(request).id);
      const q = str((request.query as Record<string, unknown>).day);
      const day = isDay(q) ? q : londonDay(workforce.clock());
      const bookings = (await workforce.hubBookings(hub.id, day)).map((b) => ({ ...b, statusName: BOOKING_STATUS_NAMES[b.status] }));
      return reply.page(`${VIEWS}/hub-bookings.njk`, { pageTitle: `Bookings at ${hub.name}, ${longDay(day)}`, hub, day, bookings, previous: addDays(day, -1), next: addDays(day, 1) });
    });

    // A page to print: each desk's QR code, which opens its check-in page on a phone.
    app.get('/console/hubs/:id/qr-codes', { config: managePage, schema: hidden }, async (request, reply) => {
      const hub = await workforce.getHub(params(request).id);
      const codes = hub.spaces
        .filter((s) => s.isActive)
        .map((s) => {
          const url = `${publicUrl}/console/hubs/check-in/${s.id}`;
          return { ...s, url, svg: qrSvg(url, `QR code to check in to ${s.name}`) };
        });
      return reply.page(`${VIEWS}/qr-codes.njk`, { pageTitle: `QR codes for ${hub.name}`, hub, codes });
    });

    app.get('/console/hubs/check-in/:id/qr.svg', { config: managePage, schema: hidden }, async (request, reply) => {
      const space = await workforce.getSpace(params(request).id);
      return reply
        .type('image/svg+xml')
        .header('cache-control', 'no-store')
        .send(qrSvg(`${publicUrl}/console/hubs/check-in/${space.id}`, `QR code to check in to ${space.name}`));
    });
  };
}
