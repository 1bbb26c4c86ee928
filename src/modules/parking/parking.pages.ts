import type { FastifyInstance, FastifyReply } from 'fastify';
import { originOf } from '../../platform/audit/origin.js';
import { can } from '../../platform/auth/actor.js';
import { AppError, type FieldError } from '../../platform/errors.js';
import type { UploadedFile } from '../../platform/web/forms.js';
import { formatMoney } from '../../platform/web/i18n.js';
import { errorFor } from '../../platform/web/web.js';
import { COLUMNS, MAX_ROWS } from './parking.csv.js';
import { type BatchView, DEFAULT_FOLLOW_UP_DAYS, MAX_FOLLOW_UP_DAYS, NOTICE_STATUSES, type NoticeStatus, type NoticeView } from './parking.schema.js';
import type { ParkingService } from './parking.service.js';

const VIEWS = 'modules/parking/views';
const page = { permission: 'parking:manage', page: 'console' as const };
const PAGE_SIZE = 100;

/** Each notice status as the console names it, with its tag's colour. */
export const STATUS_TAGS: Record<NoticeStatus, { text: string; classes: string }> = {
  paid: { text: 'Paid', classes: 'govuk-tag--green' },
  clicked: { text: 'Link followed, not paid', classes: 'govuk-tag--blue' },
  outstanding: { text: 'Outstanding', classes: 'govuk-tag--yellow' },
  waiting: { text: 'Waiting to send', classes: 'govuk-tag--grey' },
  failed: { text: 'Not sent', classes: 'govuk-tag--red' },
};
const FOLLOW_UP_NAMES: Record<string, string> = {
  none: 'None',
  waiting: 'Waiting',
  sent: 'Sent',
  cancelled: 'Cancelled: paid first',
  failed: 'Failed',
};

const str = (v: unknown): string => (Array.isArray(v) ? str(v[0]) : typeof v === 'string' ? v : '');
const money = (pence: number | null) => (pence === null ? '' : formatMoney('en', pence));

interface UploadForm {
  followUpDays: string;
}

/**
 * The console's parking fines: the batches, uploading a file (or, first, what is missing: the
 * Parking messaging service, its GOV.UK Pay account), a batch's paid, clicked and outstanding
 * notices with a filter and a CSV export, and one notice with its pay link. No JavaScript needed.
 */
export function parkingPages(deps: { parking: ParkingService; bodyLimit: number }) {
  const { parking, bodyLimit } = deps;
  return async (app: FastifyInstance) => {
    app.get('/console/parking', { config: page, schema: { hide: true } }, async (_request, reply) =>
      reply.page(`${VIEWS}/batches.njk`, { pageTitle: 'Parking fines', batches: (await parking.list()).map((b) => ({ ...b, total: money(b.totalPence) })) }),
    );

    app.get('/console/parking/upload', { config: page, schema: { hide: true } }, async (_request, reply) => showUpload(reply, { followUpDays: String(DEFAULT_FOLLOW_UP_DAYS) }, []));

    app.post('/console/parking/setup', { config: page, schema: { hide: true } }, async (request, reply) => {
      request.audited = true; // messaging audits the service and templates it makes
      await parking.setUp(request.actor);
      return reply.redirect('/console/parking/upload', 303);
    });

    app.post('/console/parking/upload', { config: page, bodyLimit, schema: { hide: true } }, async (request, reply) => {
      request.audited = true; // stored by the service, which audits it, or not at all
      const body = (request.body ?? {}) as Record<string, unknown>;
      const form: UploadForm = { followUpDays: str(body.followUpDays).trim() };
      const file = body.file as UploadedFile | undefined;
      const errors: FieldError[] = [];
      const days = Number(form.followUpDays);
      if (!/^\d{1,2}$/.test(form.followUpDays) || days < 1 || days > MAX_FOLLOW_UP_DAYS)
        errors.push({ field: 'followUpDays', message: `Enter the number of days before the follow-up, from 1 to ${MAX_FOLLOW_UP_DAYS}` });
      if (!file || typeof file !== 'object' || !file.content.trim()) errors.push({ field: 'file', message: 'Choose a CSV file of penalty charge notices' });
      if (errors.length) return showUpload(reply, form, errors);
      try {
        const batch = await parking.upload(request.actor, (file as UploadedFile).content, { followUpDays: days, fileName: (file as UploadedFile).filename }, originOf(request));
        return reply.redirect(`/console/parking/batches/${batch.id}`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        return showUpload(reply, form, [{ field: 'file', message: err.message }], err.fields);
      }
    });

    app.get('/console/parking/batches/:id', { config: page, schema: { hide: true } }, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const batch = await parking.batch((request.params as { id: string }).id);
      return reply.page(`${VIEWS}/batch.njk`, { pageTitle: batchTitle(batch), ...batchPage(batch, str(query.status), Number(str(query.page)) || 1), canRetry: canRetry(batch) });
    });

    app.post('/console/parking/batches/:id/retry', { config: page, schema: { hide: true } }, async (request, reply) => {
      request.audited = true;
      const batch = await parking.retry(request.actor, (request.params as { id: string }).id, originOf(request));
      return reply.redirect(`/console/parking/batches/${batch.id}`, 303);
    });

    app.get('/console/parking/batches/:id/notices.csv', { config: page, schema: { hide: true } }, async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const csv = await parking.exportCsv(id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="penalty-notices-${id.slice(0, 8)}.csv"`)
        .send(csv);
    });

    app.get('/console/parking/notices/:id', { config: page, schema: { hide: true } }, async (request, reply) => {
      const detail = await parking.notice((request.params as { id: string }).id);
      const n = detail.notice;
      return reply.page(`${VIEWS}/notice.njk`, {
        pageTitle: `Penalty charge notice ${n.pcn}`,
        ...detail,
        tag: STATUS_TAGS[n.status],
        amount: money(n.amountPence),
        paid: money(n.paidPence),
        followUpName: followUpName(n),
        canSeeMessages: can(request.actor, 'messages:read'),
      });
    });
  };

  async function showUpload(reply: FastifyReply, form: UploadForm, errors: FieldError[], rowErrors: FieldError[] = []) {
    const setup = await parking.setup();
    return reply.page(
      `${VIEWS}/upload.njk`,
      {
        pageTitle: 'Upload penalty charge notices',
        setup,
        form,
        columns: COLUMNS,
        maxRows: MAX_ROWS.toLocaleString('en-GB'),
        maxDays: MAX_FOLLOW_UP_DAYS,
        errors: errors.map((e) => ({ text: e.message, href: e.field === 'file' ? '#file' : `#${e.field}` })),
        fieldErrors: { file: errorFor(errors, 'file'), followUpDays: errorFor(errors, 'followUpDays') },
        problems: rowErrors.map(problemOf),
      },
      errors.length ? 400 : 200,
    );
  }
}

/** "rows/3/mobile", "Row 3: mobile: Enter a UK mobile…" → { row: 3, column: mobile, message: Enter a UK mobile… } */
function problemOf(e: FieldError) {
  const [, row, column] = /^rows\/(\d+)\/(.+)$/.exec(e.field) ?? [];
  return { row: row ?? '', column: column ?? '', message: e.message.replace(/^Row \d+: [^:]+: /, '') };
}

function batchTitle(b: BatchView): string {
  return `Penalty charge notices uploaded ${new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'long', timeStyle: 'short' }).format(new Date(b.createdAt))}`;
}

/** Failed notices can be tried again, but not those of erased keepers: there is no one to send them to. */
function canRetry(b: BatchView): boolean {
  return (b.status === 'sent' && b.notices.some((n) => n.status === 'failed' && !n.erased)) || !!b.problem?.startsWith('Sending stopped');
}

/** The batch's figures, its filter and one page of its notices. */
function batchPage(batch: BatchView, status: string, pageNumber: number) {
  const chosen = (NOTICE_STATUSES as readonly string[]).includes(status) ? (status as NoticeStatus) : undefined;
  const shown = chosen ? batch.notices.filter((n) => n.status === chosen) : batch.notices;
  const pages = Math.max(1, Math.ceil(shown.length / PAGE_SIZE));
  const current = Math.min(Math.max(1, Math.floor(pageNumber)), pages);
  const href = (p: number) => `/console/parking/batches/${batch.id}?${new URLSearchParams({ ...(chosen ? { status: chosen } : {}), page: String(p) })}`;
  return {
    batch,
    money: { total: money(batch.money.totalPence), paid: money(batch.money.paidPence), unpaid: money(batch.money.unpaidPence) },
    statusItems: [{ value: '', text: 'All notices', selected: !chosen }, ...NOTICE_STATUSES.map((s) => ({ value: s, text: STATUS_TAGS[s].text, selected: s === chosen }))],
    chosen: chosen ? STATUS_TAGS[chosen].text : null,
    rows: shown.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE).map(rowOf),
    shownCount: shown.length,
    from: shown.length ? (current - 1) * PAGE_SIZE + 1 : 0,
    to: Math.min(current * PAGE_SIZE, shown.length),
    pagination:
      pages > 1
        ? {
            previous: current > 1 ? { href: href(current - 1) } : undefined,
            next: current < pages ? { href: href(current + 1) } : undefined,
            items: Array.from({ length: pages }, (_, i) => ({ number: i + 1, href: href(i + 1), current: i + 1 === current })),
          }
        : undefined,
    following: batch.status === 'sending',
  };
}

function rowOf(n: NoticeView) {
  return { ...n, tag: STATUS_TAGS[n.status], amount: money(n.amountPence), paid: money(n.paidPence), followUpName: followUpName(n) };
}

/** A follow-up is cancelled by paying, or by erasing the keeper's personal data (messaging cancels what waits for them). */
function followUpName(n: NoticeView): string {
  if (n.followUp.status === 'cancelled' && n.paidPence === null) return n.erased ? 'Cancelled: the keeper’s data was erased' : 'Cancelled';
  return FOLLOW_UP_NAMES[n.followUp.status];
}
