import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import { can } from '../../platform/auth/actor.js';
import { AppError } from '../../platform/errors.js';
import { managePage, readPage, UUID, VIEWS } from './pages.shared.js';
import type { PrintBatches, PrintBatchView } from './print.js';

const STATUS_NAMES: Record<string, string> = { building: 'Being made', ready: 'Ready to print', dispatched: 'Sent by the print room' };
const POSTAGE_NAMES: Record<string, string> = { first: 'First class', second: 'Second class', economy: 'Economy', europe: 'Europe', 'rest-of-world': 'Rest of the world' };

/**
 * The daily letter print batches in the console: the list, a batch with its files and manifest
 * to download (the downloads are the API's, audited), and the button the print room's contact
 * presses once the letters have gone, which marks them received.
 */
export function printPages(deps: { print: PrintBatches }) {
  const { print } = deps;
  return async (app: FastifyInstance) => {
    app.get('/console/messaging/print', { config: readPage, schema: { hide: true } }, async (request, reply) => {
      const olderThan = String((request.query as Record<string, unknown>)?.olderThan ?? '');
      const batches = await print.list(50, UUID.test(olderThan) ? olderThan : undefined);
      return reply.page(`${VIEWS}/print-batches.njk`, {
        pageTitle: 'Letter print batches',
        batches: batches.map(described),
        next: batches.length === 50 ? `/console/messaging/print?olderThan=${batches[batches.length - 1].id}` : undefined,
        canManage: can(request.actor, 'messaging:manage'),
      });
    });

    app.get('/console/messaging/print/:id', { config: readPage, schema: { hide: true } }, async (request, reply) => showBatch(request, reply, print));

    app.post('/console/messaging/print/:id/dispatched', { config: managePage, schema: { hide: true } }, async (request, reply) => {
      const id = (request.params as { id: string }).id;
      try {
        await print.dispatched(request.actor, id, originOf(request));
      } catch (err) {
        if (err instanceof AppError && (err.code === 'PRINT_BATCH_DISPATCHED' || err.code === 'PRINT_BATCH_NOT_READY')) return showBatch(request, reply, print, err.message, 409);
        throw err;
      }
      request.audited = true;
      return reply.redirect(`/console/messaging/print/${encodeURIComponent(id)}?saved=dispatched`, 303);
    });
  };
}

async function showBatch(request: FastifyRequest, reply: FastifyReply, print: PrintBatches, problem?: string, status = 200) {
  const batch = await print.get((request.params as { id: string }).id);
  const saved = String((request.query as Record<string, unknown>)?.saved ?? '');
  return reply.page(
    `${VIEWS}/print-batch.njk`,
    {
      pageTitle: `Print batch for ${batch.day}`,
      batch: described(batch),
      flash: saved === 'dispatched' ? `Marked as sent: ${batch.letterCount} ${batch.letterCount === 1 ? 'letter is' : 'letters are'} now shown as received.` : undefined,
      problem,
      canManage: can(request.actor, 'messaging:manage'),
    },
    status,
  );
}

function described(b: PrintBatchView) {
  return {
    ...b,
    statusName: STATUS_NAMES[b.status] ?? b.status,
    files: b.files.map((f) => ({ ...f, postageName: POSTAGE_NAMES[f.postage] ?? f.postage })),
  };
}
