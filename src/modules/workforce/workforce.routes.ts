import type { FastifyInstance } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import { addDays, londonDay } from '../../platform/dates.js';
import { Problem, ProblemResponses } from '../../platform/web/openapi.js';
import { BookingCreate, CancelInput, ClosureCreate, DayQuery, HubCreate, HubUpdate, IdParams, RangeQuery, SpaceCreate, SpaceParams, SpaceUpdate } from './workforce.schema.js';
import type { WorkforceService } from './workforce.service.js';

const TAGS = ['hubs'];
const read = { permission: 'hubs:read' };
const book = { permission: 'hubs:book' };
const manage = { permission: 'hubs:manage' };
const id = (request: { params: unknown }) => (request.params as { id: string }).id;

/** Hybrid-working hubs by API: hubs and their spaces, availability, occupancy, closures, and bookings. */
export function workforceRoutes(deps: { workforce: WorkforceService }) {
  const { workforce } = deps;
  return async function routes(app: FastifyInstance) {
    app.post(
      '/api/v1/hubs',
      { config: manage, schema: { tags: TAGS, summary: 'Make an estate site a hub (a library, community or council building)', body: HubCreate, response: { ...ProblemResponses, 409: Problem } } },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await workforce.createHub(request.actor, request.body as HubCreate, originOf(request)));
      },
    );

    app.get('/api/v1/hubs', { config: read, schema: { tags: TAGS, summary: 'Hubs, their spaces, opening hours and the Wi-Fi of their sites', response: { ...ProblemResponses } } }, async () => ({
      hubs: await workforce.listHubs(),
    }));

    app.get('/api/v1/hubs/:id', { config: read, schema: { tags: TAGS, summary: 'A hub and its spaces', params: IdParams, response: { ...ProblemResponses, 404: Problem } } }, async (request) =>
      workforce.getHub(id(request)),
    );

    app.patch(
      '/api/v1/hubs/:id',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'Change a hub’s opening hours, days, grace period or notes, or stop its bookings',
          params: IdParams,
          body: HubUpdate,
          response: { ...ProblemResponses, 404: Problem },
        },
      },
      async (request) => {
        request.audited = true;
        return workforce.updateHub(request.actor, id(request), request.body as HubUpdate, originOf(request));
      },
    );

    app.post(
      '/api/v1/hubs/:id/spaces',
      {
        config: manage,
        schema: { tags: TAGS, summary: 'Add a desk, quiet room or meeting room to a hub', params: IdParams, body: SpaceCreate, response: { ...ProblemResponses, 404: Problem, 409: Problem } },
      },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await workforce.addSpace(request.actor, id(request), request.body as SpaceCreate, originOf(request)));
      },
    );

    app.patch(
      '/api/v1/hubs/:id/spaces/:spaceId',
      {
        config: manage,
        schema: { tags: TAGS, summary: 'Change a space, or stop its bookings', params: SpaceParams, body: SpaceUpdate, response: { ...ProblemResponses, 404: Problem, 409: Problem } },
      },
      async (request) => {
        request.audited = true;
        const p = request.params as { id: string; spaceId: string };
        return workforce.updateSpace(request.actor, p.id, p.spaceId, request.body as SpaceUpdate, originOf(request));
      },
    );

    app.get(
      '/api/v1/hubs/:id/availability',
      {
        config: read,
        schema: { tags: TAGS, summary: 'Each space’s booked and free times on a day (today if not given)', params: IdParams, querystring: DayQuery, response: { ...ProblemResponses, 404: Problem } },
      },
      async (request) => workforce.availability(id(request), (request.query as { day?: string }).day ?? londonDay(workforce.clock())),
    );

    app.get(
      '/api/v1/hubs/:id/occupancy',
      {
        config: read,
        schema: {
          tags: TAGS,
          summary: 'Per day: spaces, seats, bookings, check-ins, no-shows and cancellations (the last 7 days and the next 7 if not given)',
          params: IdParams,
          querystring: RangeQuery,
          response: { ...ProblemResponses, 404: Problem },
        },
      },
      async (request) => {
        const q = request.query as { from?: string; to?: string };
        const today = londonDay(workforce.clock());
        return { days: await workforce.hubOccupancy(id(request), q.from ?? addDays(today, -7), q.to ?? addDays(today, 7)) };
      },
    );

    app.get(
      '/api/v1/hubs/:id/bookings',
      {
        config: manage,
        schema: { tags: TAGS, summary: 'Everyone’s bookings of a hub on a day (today if not given)', params: IdParams, querystring: DayQuery, response: { ...ProblemResponses, 404: Problem } },
      },
      async (request) => ({ bookings: await workforce.hubBookings(id(request), (request.query as { day?: string }).day ?? londonDay(workforce.clock())) }),
    );

    app.post(
      '/api/v1/hubs/:id/closures',
      {
        config: manage,
        schema: {
          tags: TAGS,
          summary: 'Close a hub for a day or days: the bookings then are cancelled and everyone booked is emailed the reason',
          params: IdParams,
          body: ClosureCreate,
          response: { ...ProblemResponses, 404: Problem },
        },
      },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await workforce.closeHub(request.actor, id(request), request.body as ClosureCreate, originOf(request)));
      },
    );

    app.get(
      '/api/v1/hubs/:id/closures',
      { config: read, schema: { tags: TAGS, summary: 'A hub’s closures from 30 days ago on', params: IdParams, response: { ...ProblemResponses, 404: Problem } } },
      async (request) => ({
        closures: await workforce.closures(request.actor, id(request)),
      }),
    );

    app.post(
      '/api/v1/hub-bookings',
      {
        config: book,
        schema: {
          tags: TAGS,
          summary: 'Book a space for the whole day or from start to end (on the half hour, within opening hours); no two bookings of a space, or of a person, overlap',
          body: BookingCreate,
          response: { ...ProblemResponses, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        request.audited = true;
        return reply.status(201).send(await workforce.book(request.actor, request.body as BookingCreate, originOf(request)));
      },
    );

    app.get('/api/v1/hub-bookings', { config: book, schema: { tags: TAGS, summary: 'Your bookings, from a week ago on', response: { ...ProblemResponses } } }, async (request) => ({
      bookings: await workforce.myBookings(request.actor),
    }));

    app.get('/api/v1/hub-bookings/:id', { config: book, schema: { tags: TAGS, summary: 'A booking of yours', params: IdParams, response: { ...ProblemResponses, 404: Problem } } }, async (request) =>
      workforce.getBooking(request.actor, id(request)),
    );

    for (const [action, summary] of [
      ['check-in', 'Check in to a booking (from 30 minutes before it starts until it ends)'],
      ['check-out', 'Check out: the rest of the booking’s time is free for others'],
      ['cancel', 'Cancel a booking'],
    ] as const) {
      app.post(
        `/api/v1/hub-bookings/:id/${action}`,
        { config: book, schema: { tags: TAGS, summary, params: IdParams, ...(action === 'cancel' ? { body: CancelInput } : {}), response: { ...ProblemResponses, 404: Problem, 409: Problem } } },
        async (request) => {
          request.audited = true;
          const origin = originOf(request);
          if (action === 'check-in') return workforce.checkIn(request.actor, id(request), origin);
          if (action === 'check-out') return workforce.checkOut(request.actor, id(request), origin);
          return workforce.cancel(request.actor, id(request), (request.body as CancelInput | undefined) ?? {}, origin);
        },
      );
    }
  };
}
