import { createReadStream, existsSync } from 'node:fs';
import { londonDay } from '../../platform/dates.js';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { PDFDocument, type PDFPage } from 'pdf-lib';
import type { Actor } from '../../platform/auth/actor.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import { isUniqueViolation } from '../../platform/db/dialect.js';
import { newId } from '../../platform/ids.js';
import { type JobQueue, nextCronTime } from '../../platform/jobs/index.js';
import type { Logger } from '../../services.js';
import { toCsv } from '../../platform/csv.js';
import { messagingErrors } from './messaging.errors.js';
import type { MessageProvidersTable } from './messaging.repository.js';
import { isUuid } from '../../platform/ids.js';
import { type MessagingService, type Origin, PRECOMPILED_TEMPLATE } from './messaging.service.js';
import { type BatchLetter, type Placed, type PrintBatchesTable, type PrintFile, PrintRepository } from './print.repository.js';
import { DEFAULT_PRINT_CRON, type PrintSettings } from './providers/print.js';
import { renderLetterPdf } from './render/index.js';

export const PRINT_JOB = 'messaging.print_batch';
/** Postage classes in the order a print room handles them; any other comes after, by name. */
const POSTAGE_ORDER = ['first', 'second', 'economy', 'europe', 'rest-of-world'];
const MANIFEST = 'manifest.csv';
const MANIFEST_HEADER = ['notification_id', 'reference', 'postage', 'pages', 'sheets', 'address_line_1', 'postcode', 'file', 'first_page'];

export interface PrintBatchView {
  id: string;
  providerId: string;
  provider: string;
  /** the day in the UK, YYYY-MM-DD */
  day: string;
  /** building (letters taken, files being made), ready, dispatched */
  status: string;
  letterCount: number;
  pages: number;
  sheets: number;
  files: (PrintFile & { url: string })[];
  manifestUrl: string;
  createdAt: Date;
  readyAt: Date | null;
  dispatchedAt: Date | null;
  dispatchedBy: string | null;
}

/** A file to send back: a stream from disk, or bytes made again when the files are not on this machine. */
export interface Download {
  filename: string;
  body: Readable | Buffer;
}

interface Built {
  files: (PrintFile & { pdf: Uint8Array })[];
  placed: Placed[];
  failed: { id: string; status: string; reason: string }[];
  manifest: string;
}

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'print';

const postageRank = (p: string) => {
  const i = POSTAGE_ORDER.indexOf(p);
  return i < 0 ? POSTAGE_ORDER.length : i;
};

/**
 * The daily print batch. Letters handed to a print provider (providers/print.ts) wait as
 * accepted; once a day (the provider's cron, 15:30 UK time by default) the `messaging.print_batch`
 * job takes them all into that day's batch (they become `sending`, still shown as accepted),
 * renders each (a template letter as the /v2 PDF shows it, a precompiled letter as it was sent)
 * and writes WEFT_DATA_DIR/print/<day>/<provider>/: one PDF per postage class, each letter
 * starting on a new sheet for double-sided printing, and manifest.csv. Marking the batch
 * dispatched delivers its letters (shown as received).
 */
export class PrintBatches {
  readonly repo: PrintRepository;
  /** the cron each print provider was last scheduled with by this process */
  private readonly scheduled = new Map<string, string>();

  constructor(
    private readonly messaging: MessagingService,
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly jobs: JobQueue,
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {
    this.repo = new PrintRepository(db);
    jobs.register(PRINT_JOB, async (p: { providerId: string }) => {
      await this.run(p.providerId);
    });
  }

  // ---------------------------------------------------------------- the job and its schedules

  /** One schedule per print provider, at its cron (a bad cron falls back to 15:30, with a warning). Idempotent. */
  async schedule(): Promise<void> {
    for (const p of await this.messaging.repo.listProviders('letter')) {
      if (p.kind !== 'print') continue;
      const cron = this.cronOf(p);
      if (this.scheduled.get(p.id) === cron) continue;
      await this.jobs.schedule(`${PRINT_JOB}:${p.id}`, cron, PRINT_JOB, { providerId: p.id });
      this.scheduled.set(p.id, cron);
    }
  }

  /** Providers changed (here or in another process): a new print provider gets its schedule. */
  providersChanged(): void {
    this.schedule().catch((err) => this.log.error({ err }, 'could not schedule the print batches'));
  }

  private cronOf(p: MessageProvidersTable): string {
    const cron = (p.settings_json as PrintSettings).cron;
    if (typeof cron !== 'string' || !cron.trim()) return DEFAULT_PRINT_CRON;
    try {
      nextCronTime(cron, new Date());
      return cron.trim();
    } catch (err) {
      this.log.warn({ provider: p.id, err: (err as Error).message }, 'print provider cron is not valid; the batch runs at 15:30');
      return DEFAULT_PRINT_CRON;
    }
  }

  /**
   * Makes the provider's batch for the day: first finishes any batch a stopped run left half
   * made, then takes every letter accepted since. One batch a provider a day: run again the same
   * day, it makes none (letters accepted later wait for the next day's). Returns the new batch.
   */
  async run(providerId: string, now: Date = new Date()): Promise<PrintBatchView | undefined> {
    const provider = isUuid(providerId) ? await this.messaging.repo.findProvider(providerId.toLowerCase()) : undefined;
    if (provider?.kind !== 'print') return undefined;
    for (const unfinished of await this.repo.building(provider.id)) await this.finish(unfinished);
    const day = londonDay(now);
    let batch: PrintBatchesTable | undefined;
    try {
      batch = await this.db.transaction(async (trx) => {
        if (await this.repo.findByDay(provider.id, day, trx)) return undefined;
        const row: PrintBatchesTable = {
          id: newId(now.getTime()),
          provider_id: provider.id,
          provider_name: provider.name,
          day,
          status: 'building',
          letter_count: 0,
          pages: 0,
          sheets: 0,
          folder: join('print', day, slug(provider.name)),
          files_json: [],
          created_at: now,
          ready_at: null,
          dispatched_at: null,
          dispatched_by: null,
        };
        await this.repo.insert(row, trx);
        const taken = await this.repo.takeAccepted(row.id, provider.name, now, trx);
        // Nothing to print: no batch (the transaction is undone, so a later run today may make one).
        if (!taken) throw new NothingToPrint();
        return { ...row, letter_count: taken };
      });
    } catch (err) {
      // Another process made today's batch at the same moment, or there was nothing to print.
      if (err instanceof NothingToPrint || isUniqueViolation(err)) return undefined;
      throw err;
    }
    if (!batch) return undefined;
    return toView(await this.finish(batch));
  }

  /** Renders the batch's letters, writes its files, and marks it ready. Run again after a crash, it does the same. */
  private async finish(batch: PrintBatchesTable): Promise<PrintBatchesTable> {
    const built = await this.build(await this.repo.letters(batch.id));
    await this.write(batch.folder, built);
    const now = new Date();
    const changes: { id: string; service_id: string; status: string }[] = [];
    const fields: Partial<PrintBatchesTable> = {
      status: 'ready',
      letter_count: built.placed.length,
      pages: built.files.reduce((n, f) => n + f.pages, 0),
      sheets: built.files.reduce((n, f) => n + f.sheets, 0),
      files_json: built.files.map(({ pdf: _, ...f }) => f),
      ready_at: now,
    };
    const context = await this.messaging.statusContext();
    await this.db.transaction(async (trx) => {
      for (const f of built.failed) {
        const changed = await this.repo.fail(batch.id, f, now, trx);
        if (changed) changes.push(changed);
      }
      await this.repo.place(built.placed, trx);
      await this.repo.update(batch.id, fields, trx);
      await this.messaging.queueStatusJobsFor(changes, context, trx);
    });
    this.log.info({ batch: batch.id, provider: batch.provider_id, day: batch.day, letters: fields.letter_count, sheets: fields.sheets, failed: built.failed.length }, 'print batch ready');
    return { ...batch, ...fields } as PrintBatchesTable;
  }

  /**
   * One PDF per postage class, letters in the order they were sent, each starting on a new
   * sheet (a blank page follows a letter with an odd number of pages), and the manifest. A
   * letter that cannot be rendered or read is left out, with the reason.
   */
  private async build(letters: BatchLetter[]): Promise<Built> {
    const byPostage = new Map<string, BatchLetter[]>();
    for (const l of letters) byPostage.set(l.postage, [...(byPostage.get(l.postage) ?? []), l]);
    const classes = [...byPostage.keys()].sort((a, b) => postageRank(a) - postageRank(b) || a.localeCompare(b));
    const built: Built = { files: [], placed: [], failed: [], manifest: '' };
    const rows: unknown[][] = [];
    const render = new LetterRenderer(this.messaging);
    for (const postage of classes) {
      const out = await PDFDocument.create();
      const file = `letters-${slug(postage)}.pdf`;
      let count = 0;
      for (const letter of (byPostage.get(postage) ?? []).sort((a, b) => a.id.localeCompare(b.id))) {
        let source: PDFDocument;
        let pages: number;
        try {
          source = await PDFDocument.load(await render.pdf(letter));
          // pdf-lib reads a broken file leniently and fails only when asked for its pages.
          pages = source.getPageCount();
        } catch (err) {
          const precompiled = letter.template_id === PRECOMPILED_TEMPLATE;
          built.failed.push({
            id: letter.id,
            status: precompiled ? 'permanent-failure' : 'technical-failure',
            reason: `${precompiled ? 'The letter’s PDF cannot be printed' : 'The letter could not be made for printing'}: ${(err as Error).message}`,
          });
          continue;
        }
        if (!pages) {
          built.failed.push({ id: letter.id, status: 'permanent-failure', reason: 'The letter’s PDF has no pages.' });
          continue;
        }
        let copied: PDFPage[];
        try {
          copied = await out.copyPages(source, source.getPageIndices());
        } catch (err) {
          built.failed.push({ id: letter.id, status: 'permanent-failure', reason: `The letter’s PDF cannot be printed: ${(err as Error).message}` });
          continue;
        }
        const firstPage = out.getPageCount() + 1;
        for (const page of copied) out.addPage(page);
        if (pages % 2) {
          const { width, height } = copied[pages - 1].getSize();
          out.addPage([width, height]);
        }
        const sheets = Math.ceil(pages / 2);
        count++;
        built.placed.push({ id: letter.id, pages, sheets, firstPage });
        // Precompiled letters carry their address inside the PDF: those cells stay empty. Abroad, the last line is the country.
        const address = letter.address_json ?? [];
        rows.push([letter.id, letter.reference, postage, pages, sheets, address[0] ?? '', address.length > 1 ? address.at(-1) : '', file, firstPage]);
      }
      if (!count) continue;
      const pages = out.getPageCount();
      built.files.push({ postage, file, letters: count, pages, sheets: pages / 2, pdf: await out.save() });
    }
    built.manifest = toCsv(MANIFEST_HEADER, rows);
    return built;
  }

  /** Writes the batch's files, readable by this user only (they are personal data); each appears whole or not at all. */
  private async write(folder: string, built: Built): Promise<void> {
    const dir = join(this.dataDir, folder);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const put = async (name: string, data: Uint8Array | string) => {
      const path = join(dir, name);
      const partial = `${path}.partial`;
      await writeFile(partial, data, { mode: 0o600 });
      await chmod(partial, 0o600);
      await rename(partial, path);
    };
    for (const f of built.files) await put(f.file, f.pdf);
    await put(MANIFEST, built.manifest);
  }

  // ---------------------------------------------------------------- the API's reads and the dispatch

  async list(limit = 50, olderThanId?: string): Promise<PrintBatchView[]> {
    const after = olderThanId && isUuid(olderThanId) ? olderThanId.toLowerCase() : undefined;
    return (await this.repo.list(Math.min(Math.max(limit, 1), 200), after)).map(toView);
  }

  async get(id: string): Promise<PrintBatchView> {
    return toView(await this.found(id));
  }

  private async found(id: string): Promise<PrintBatchesTable> {
    const batch = isUuid(id) ? await this.repo.find(id.toLowerCase()) : undefined;
    if (!batch) throw messagingErrors.PRINT_BATCH_NOT_FOUND();
    return batch;
  }

  /** The print room has sent the batch: its letters are delivered (shown as received), once. */
  async dispatched(actor: Actor, id: string, origin: Origin = {}): Promise<PrintBatchView> {
    const batch = await this.found(id);
    const now = new Date();
    const context = await this.messaging.statusContext();
    await this.db.transaction(async (trx) => {
      if (!(await this.repo.markDispatched(batch.id, now, actor.label, trx))) {
        const status = (await this.repo.find(batch.id, trx))?.status;
        throw status === 'dispatched' ? messagingErrors.PRINT_BATCH_DISPATCHED() : messagingErrors.PRINT_BATCH_NOT_READY();
      }
      const delivered = await this.repo.deliverLetters(batch.id, now, trx);
      await this.audit.record(
        {
          actor,
          action: 'messaging.print_batch_dispatch',
          summary: `Marked the print batch of ${batch.day} from ${batch.provider_name} dispatched: ${delivered.length} letters`,
          targetType: 'print_batch',
          targetId: batch.id,
          ...origin,
        },
        trx,
      );
      await this.messaging.queueStatusJobsFor(delivered, context, trx);
    });
    return this.get(batch.id);
  }

  /** The manifest: one row a letter, in the order of the files. Audited: it is personal data. */
  async manifest(actor: Actor, id: string, origin: Origin = {}): Promise<Download> {
    const batch = await this.ready(id);
    await this.downloaded(actor, batch, 'the manifest', origin);
    const path = join(this.dataDir, batch.folder, MANIFEST);
    const body = existsSync(path) ? createReadStream(path) : Buffer.from((await this.build(await this.repo.letters(batch.id))).manifest);
    return { filename: `print-${batch.day}-${slug(batch.provider_name)}-manifest.csv`, body };
  }

  /** One postage class's letters as one PDF (the only class when the batch has one). Audited. */
  async letters(actor: Actor, id: string, postage: string | undefined, origin: Origin = {}): Promise<Download> {
    const batch = await this.ready(id);
    const classes = batch.files_json.map((f) => f.postage);
    const file = postage === undefined && classes.length === 1 ? batch.files_json[0] : batch.files_json.find((f) => f.postage === postage);
    if (!file)
      throw messagingErrors.PRINT_BATCH_POSTAGE_INVALID(
        classes.length ? `Choose the postage class with ?postage=: this batch has ${classes.join(', ')} class letters.` : 'This batch has no letters to print: every letter in it failed.',
        [{ field: 'querystring:postage', message: classes.length ? `postage must be one of ${classes.join(', ')}` : 'the batch has no files' }],
      );
    await this.downloaded(actor, batch, `the ${file.postage} class letters`, origin);
    const path = join(this.dataDir, batch.folder, file.file);
    let body: Readable | Buffer;
    if (existsSync(path)) body = createReadStream(path);
    else {
      // Made on another machine (a worker elsewhere): made again here from the database, not kept.
      const again = (await this.build(await this.repo.letters(batch.id))).files.find((f) => f.postage === file.postage);
      body = Buffer.from(again?.pdf ?? (await (await PDFDocument.create()).save()));
    }
    return { filename: `print-${batch.day}-${slug(batch.provider_name)}-${slug(file.postage)}.pdf`, body };
  }

  private async ready(id: string): Promise<PrintBatchesTable> {
    const batch = await this.found(id);
    if (batch.status === 'building') throw messagingErrors.PRINT_BATCH_NOT_READY();
    return batch;
  }

  private async downloaded(actor: Actor, batch: PrintBatchesTable, what: string, origin: Origin): Promise<void> {
    await this.audit.record({
      actor,
      action: 'messaging.print_batch_download',
      summary: `Downloaded ${what} of the print batch of ${batch.day} from ${batch.provider_name}`,
      targetType: 'print_batch',
      targetId: batch.id,
      ...origin,
    });
  }
}

class NothingToPrint extends Error {}

/** A letter's PDF: a precompiled letter's own file, or the template letter rendered as the /v2 PDF shows it. */
class LetterRenderer {
  private readonly templates = new Map<string, Promise<Awaited<ReturnType<MessagingService['getTemplate']>>>>();
  private readonly services = new Map<string, Promise<string>>();

  constructor(private readonly messaging: MessagingService) {}

  async pdf(letter: BatchLetter): Promise<Uint8Array> {
    if (letter.template_id === PRECOMPILED_TEMPLATE) {
      const file = await this.messaging.letterFile(letter.id);
      if (!file) throw new Error('its file is missing');
      return file;
    }
    const key = `${letter.template_id}:${letter.template_version}`;
    if (!this.templates.has(key)) this.templates.set(key, this.messaging.getTemplate(letter.template_id, letter.template_version));
    if (!this.services.has(letter.service_id))
      this.services.set(
        letter.service_id,
        this.messaging.getServiceRow(letter.service_id).then((s) => s?.name ?? ''),
      );
    const template = await (this.templates.get(key) as ReturnType<MessagingService['getTemplate']>);
    const serviceName = await (this.services.get(letter.service_id) as Promise<string>);
    const cy = letter.language === 'cy' && template.body_cy;
    return renderLetterPdf(
      { subject: (cy ? template.subject_cy : template.subject) ?? '', body: cy ? (template.body_cy as string) : template.body },
      letter.personalisation_json,
      letter.address_json ?? [],
      { serviceName, date: letter.created_at, language: letter.language === 'cy' ? 'cy' : 'en' },
    );
  }
}

function toView(b: PrintBatchesTable): PrintBatchView {
  const base = `/api/v1/messaging/print-batches/${b.id}`;
  return {
    id: b.id,
    providerId: b.provider_id,
    provider: b.provider_name,
    day: b.day,
    status: b.status,
    letterCount: b.letter_count,
    pages: b.pages,
    sheets: b.sheets,
    files: b.files_json.map((f) => ({ ...f, url: `${base}/letters.pdf?postage=${encodeURIComponent(f.postage)}` })),
    manifestUrl: `${base}/manifest.csv`,
    createdAt: b.created_at,
    readyAt: b.ready_at,
    dispatchedAt: b.dispatched_at,
    dispatchedBy: b.dispatched_by,
  };
}
