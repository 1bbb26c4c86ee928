/**
 * The daily letter print batch: letters handed to a print provider wait as accepted; the
 * `messaging.print_batch` job makes one batch a provider a day (one PDF per postage class, each
 * letter starting on a new sheet, and a manifest, written for this user only); precompiled
 * letters go in as they are; marking the batch dispatched delivers its letters (received).
 */
import assert from 'node:assert/strict';
import { existsSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { PDFDocument } from 'pdf-lib';
import { signToken, splitApiKey } from '../../../src/modules/messaging/notify.auth.js';
import { PRINT_JOB } from '../../../src/modules/messaging/print.js';
import { londonDay } from '../../../src/platform/dates.js';
import type { StatusChange } from '../../../src/modules/messaging/callbacks.js';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const admin = systemActor('test');
const DAY_MS = 86_400_000;
const ADDRESS = { address_line_1: 'Ada Lovelace', address_line_2: '1 High Street', address_line_3: 'Wealdmoor', postcode: 'SW1A 1AA' };

/** A precompiled letter: `pages` pages of 595 × 842 points (the rendered letters are 595.28 × 841.89), so its pages can be told apart. */
async function precompiled(pages: number): Promise<Buffer> {
  const doc = await PDFDocument.create();
  for (let i = 0; i < pages; i++) doc.addPage([595, 842]).drawText(`Precompiled page ${i + 1}`, { x: 72, y: 700 });
  return Buffer.from(await doc.save());
}

/** The manifest as objects by its header (no value in these tests holds a comma or a quote). */
function parseManifest(csv: string): Record<string, string>[] {
  const [header, ...rows] = csv.trim().split('\r\n');
  const names = header.split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [names[i], v])));
}

forEachDialect('the letter print batch', (dialect) => {
  let t: TestApp;
  let serviceId: string;
  let providerId: string;
  let token: () => string;
  let reader: string;
  let manager: string;
  const templates: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let batchId: string;

  before(async () => {
    t = await testApp(dialect);
    const m = t.services.messaging;
    serviceId = (await m.createService(admin, { name: 'Bulky waste' })).id;
    const { secret } = splitApiKey((await m.createKey(admin, serviceId, { name: 'live', keyType: 'normal' })).apiKey);
    token = () => signToken(serviceId, secret);
    templates.twoPages = (
      await m.createTemplate(admin, serviceId, { name: 'Two pages', type: 'letter', subject: 'Your collection', body: 'Dear ((name)),\n\nPage one.\n\n---\n\nPage two.', postage: 'second' })
    ).id;
    templates.onePage = (await m.createTemplate(admin, serviceId, { name: 'One page', type: 'letter', subject: 'Your permit', body: 'Dear ((name)), your permit is enclosed.', postage: 'second' })).id;
    templates.first = (await m.createTemplate(admin, serviceId, { name: 'First class', type: 'letter', subject: 'Urgent', body: 'Dear ((name)), please call us.', postage: 'first' })).id;
    providerId = (await m.createProvider(admin, { channel: 'letter', kind: 'print', name: 'Print room' })).id;
    reader = await t.key(['messages:read']);
    manager = await t.key(['messaging:manage', 'messages:read']);
  });

  const v2 = (method: 'GET' | 'POST', url: string, payload?: object) => t.app.inject({ method, url, headers: { authorization: `Bearer ${token()}` }, payload });
  const api = (key: string, method: 'GET' | 'POST', url: string) => t.app.inject({ method, url, headers: { authorization: `Bearer ${key}` } });

  async function letter(template: string, name: string): Promise<string> {
    const res = await v2('POST', '/v2/notifications/letter', { template_id: template, personalisation: { ...ADDRESS, name }, reference: `ref-${name}` });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id;
  }
  async function precompiledLetter(reference: string, pdf: Buffer): Promise<string> {
    const res = await v2('POST', '/v2/notifications/letter', { reference, content: pdf.toString('base64'), postage: 'second' });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().id;
  }
  const deliver = async () => {
    while ((await t.services.delivery.runOnce()) > 0);
  };
  const runJobs = async () => {
    while ((await t.services.jobs.runOnce()) > 0);
  };
  const stored = async (id: string) => (await t.services.messaging.getNotification(serviceId, id))?.status;
  const shown = async (id: string) => (await v2('GET', `/v2/notifications/${id}`)).json();
  const batches = async () => (await api(reader, 'GET', '/api/v1/messaging/print-batches')).json().batches as { id: string; day: string; status: string; letterCount: number }[];

  test('letters handed to a print provider wait as accepted; the provider’s batch is scheduled at 15:30 UK time', async () => {
    ids.a = await letter(templates.twoPages, 'Ada');
    ids.b = await letter(templates.onePage, 'Bea');
    ids.c = await letter(templates.first, 'Cai');
    ids.p = await precompiledLetter('ref-precompiled', await precompiled(3));
    await deliver();
    for (const id of Object.values(ids)) {
      const row = await t.services.messaging.getNotification(serviceId, id);
      assert.equal(row?.status, 'accepted');
      assert.equal(row?.provider, 'Print room');
      assert.equal((await shown(id)).status, 'accepted');
    }

    await t.services.print.schedule();
    const schedule = await t.services.db.k.selectFrom('job_schedules').selectAll().where('name', '=', `${PRINT_JOB}:${providerId}`).executeTakeFirstOrThrow();
    assert.equal(schedule.cron, '30 15 * * *');
    assert.equal(schedule.job_name, PRINT_JOB);
    assert.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit' }).format(schedule.next_run_at), '15:30');
  });

  test('the job makes the day’s batch: a PDF per postage class whose pages add up, each letter on new sheets, and a correct manifest', async () => {
    await t.services.jobs.enqueue(PRINT_JOB, { providerId });
    await runJobs();
    const list = await batches();
    assert.equal(list.length, 1);
    const batch = (await api(reader, 'GET', `/api/v1/messaging/print-batches/${list[0].id}`)).json();
    batchId = batch.id;
    assert.equal(batch.status, 'ready');
    assert.equal(batch.day, londonDay(new Date()));
    assert.equal(batch.letterCount, 4);
    // Second class: Ada 2 pages, Bea 1 (+ a blank), the precompiled letter 3 (+ a blank); first class: Cai 1 (+ a blank).
    assert.deepEqual(
      batch.files.map((f: Record<string, unknown>) => [f.postage, f.letters, f.pages, f.sheets]),
      [
        ['first', 1, 2, 1],
        ['second', 3, 8, 4],
      ],
    );
    assert.equal(batch.sheets, 5);
    assert.equal(batch.pages, 10);

    const manifestRes = await api(reader, 'GET', batch.manifestUrl);
    assert.equal(manifestRes.statusCode, 200);
    assert.match(manifestRes.headers['content-type'] as string, /^text\/csv/);
    assert.match(manifestRes.headers['content-disposition'] as string, /attachment; filename="print-\d{4}-\d\d-\d\d-print-room-manifest.csv"/);
    assert.equal(manifestRes.headers['cache-control'], 'no-store');
    const manifest = parseManifest(manifestRes.body);
    assert.deepEqual(Object.keys(manifest[0]), ['notification_id', 'reference', 'postage', 'pages', 'sheets', 'address_line_1', 'postcode', 'file', 'first_page']);
    assert.deepEqual(
      manifest.map((r) => [r.notification_id, r.reference, r.postage, r.pages, r.sheets, r.address_line_1, r.postcode, r.file, r.first_page]),
      [
        [ids.c, 'ref-Cai', 'first', '1', '1', 'Ada Lovelace', 'SW1A 1AA', 'letters-first.pdf', '1'],
        [ids.a, 'ref-Ada', 'second', '2', '1', 'Ada Lovelace', 'SW1A 1AA', 'letters-second.pdf', '1'],
        [ids.b, 'ref-Bea', 'second', '1', '1', 'Ada Lovelace', 'SW1A 1AA', 'letters-second.pdf', '3'],
        // Precompiled letters carry their address inside the file.
        [ids.p, 'ref-precompiled', 'second', '3', '2', '', '', 'letters-second.pdf', '5'],
      ],
    );

    const second = await api(reader, 'GET', batch.files[1].url);
    assert.equal(second.statusCode, 200);
    assert.equal(second.headers['content-type'], 'application/pdf');
    const pdf = await PDFDocument.load(second.rawPayload);
    assert.equal(
      pdf.getPageCount(),
      manifest.filter((r) => r.postage === 'second').reduce((n, r) => n + 2 * Number(r.sheets), 0),
    );
    // The precompiled letter's own pages, as they were, from page 5; then a blank page of the same size so the next letter starts on a new sheet.
    const widths = pdf.getPages().map((p) => p.getWidth());
    assert.deepEqual(widths.slice(4), [595, 595, 595, 595]);
    assert.ok(widths.slice(0, 4).every((w) => Math.abs(w - 595.28) < 0.01));
    const first = await PDFDocument.load((await api(reader, 'GET', `/api/v1/messaging/print-batches/${batchId}/letters.pdf?postage=first`)).rawPayload);
    assert.equal(first.getPageCount(), 2);

    const unnamed = await api(reader, 'GET', `/api/v1/messaging/print-batches/${batchId}/letters.pdf`);
    assert.equal(unnamed.statusCode, 400);
    assert.equal(unnamed.json().code, 'PRINT_BATCH_POSTAGE_INVALID');
    assert.match(unnamed.json().detail, /first, second/);
    assert.equal((await api(reader, 'GET', `/api/v1/messaging/print-batches/${batchId}/letters.pdf?postage=europe`)).json().code, 'PRINT_BATCH_POSTAGE_INVALID');

    const folder = join(t.services.config.dataDir, 'print', batch.day, 'print-room');
    for (const name of ['manifest.csv', 'letters-first.pdf', 'letters-second.pdf']) assert.equal(statSync(join(folder, name)).mode & 0o777, 0o600, `${name} is readable by this user only`);
    assert.equal(statSync(folder).mode & 0o777, 0o700);

    for (const id of Object.values(ids)) {
      assert.equal(await stored(id), 'sending');
      assert.equal((await shown(id)).status, 'accepted');
    }
    assert.equal((await shown(ids.p)).cost_details.billable_sheets_of_paper, 2, 'letters are billed by sheet');
    const audit = await t.services.audit.search({ action: 'messaging.print_batch_download', limit: 20 });
    assert.equal(audit.length, 3, 'each download is audited: the manifest and two letter files');
  });

  test('running the job again the same day makes no second batch; letters accepted later wait for the next day’s', async () => {
    await t.services.jobs.enqueue(PRINT_JOB, { providerId }, { idempotencyKey: 'again' });
    await runJobs();
    assert.equal((await batches()).length, 1);
    ids.d = await letter(templates.onePage, 'Dai');
    await deliver();
    assert.equal(await t.services.print.run(providerId), undefined);
    assert.equal((await batches()).length, 1);
    assert.equal(await stored(ids.d), 'accepted');

    const tomorrow = await t.services.print.run(providerId, new Date(Date.now() + DAY_MS));
    assert.equal(tomorrow?.letterCount, 1);
    assert.equal(tomorrow?.day, londonDay(new Date(Date.now() + DAY_MS)));
    assert.equal(await stored(ids.d), 'sending');
    assert.equal((await batches()).length, 2);
  });

  test('marking a batch dispatched delivers its letters, shown as received, once; it is audited and status changes are passed on', async () => {
    const seen: StatusChange[] = [];
    const statusJobs = t.services.messaging.statusJobs;
    t.services.messaging.statusJobs = (changes, context) => {
      seen.push(...changes);
      return statusJobs(changes, context);
    };
    try {
      const refused = await api(reader, 'POST', `/api/v1/messaging/print-batches/${batchId}/dispatched`);
      assert.equal(refused.statusCode, 403);
      const res = await api(manager, 'POST', `/api/v1/messaging/print-batches/${batchId}/dispatched`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().status, 'dispatched');
      assert.ok(res.json().dispatchedAt);
      for (const key of ['a', 'b', 'c', 'p']) {
        assert.equal(await stored(ids[key]), 'delivered');
        const body = await shown(ids[key]);
        assert.equal(body.status, 'received');
        assert.ok(body.completed_at);
      }
      assert.equal(await stored(ids.d), 'sending', 'a letter of another batch is not touched');
      assert.deepEqual(seen.map((c) => [c.id, c.status]).sort(), [ids.a, ids.b, ids.c, ids.p].map((id) => [id, 'delivered']).sort());
    } finally {
      t.services.messaging.statusJobs = statusJobs;
    }
    const again = await api(manager, 'POST', `/api/v1/messaging/print-batches/${batchId}/dispatched`);
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'PRINT_BATCH_DISPATCHED');
    const missing = await api(manager, 'POST', '/api/v1/messaging/print-batches/0193a000-0000-7000-8000-000000000000/dispatched');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'PRINT_BATCH_NOT_FOUND');
    assert.equal((await api(reader, 'GET', '/api/v1/messaging/print-batches/not-an-id')).json().code, 'PRINT_BATCH_NOT_FOUND');
    const audit = await t.services.audit.search({ action: 'messaging.print_batch_dispatch', limit: 5 });
    assert.equal(audit.length, 1);
    assert.match(audit[0].summary, /dispatched: 4 letters/);
  });

  test('files not on this machine are made again from the database, and not kept', async () => {
    const batch = (await api(reader, 'GET', `/api/v1/messaging/print-batches/${batchId}`)).json();
    const path = join(t.services.config.dataDir, 'print', batch.day, 'print-room', 'letters-second.pdf');
    unlinkSync(path);
    const res = await api(reader, 'GET', batch.files[1].url);
    assert.equal(res.statusCode, 200);
    assert.equal((await PDFDocument.load(res.rawPayload)).getPageCount(), 8);
    assert.equal(existsSync(path), false);
  });

  test('a batch a stopped run left half made is finished by the next run; until then it is neither downloaded nor dispatched', async () => {
    const e = await letter(templates.twoPages, 'Eve');
    await deliver();
    // A run that stopped after taking the letters, before writing the files.
    const stoppedAt = new Date(Date.now() + 2 * DAY_MS);
    const half = await t.services.db.transaction(async (trx) => {
      const row = {
        id: '0193b000-0000-7000-8000-00000000000e',
        provider_id: providerId,
        provider_name: 'Print room',
        day: londonDay(stoppedAt),
        status: 'building',
        letter_count: 0,
        pages: 0,
        sheets: 0,
        folder: join('print', londonDay(stoppedAt), 'print-room'),
        files_json: [],
        created_at: stoppedAt,
        ready_at: null,
        dispatched_at: null,
        dispatched_by: null,
      };
      await t.services.print.repo.insert(row, trx);
      await t.services.print.repo.takeAccepted(row.id, 'Print room', stoppedAt, trx);
      return row;
    });
    assert.equal(await stored(e), 'sending');
    const early = await api(reader, 'GET', `/api/v1/messaging/print-batches/${half.id}/manifest.csv`);
    assert.equal(early.statusCode, 409);
    assert.equal(early.json().code, 'PRINT_BATCH_NOT_READY');
    assert.equal((await api(manager, 'POST', `/api/v1/messaging/print-batches/${half.id}/dispatched`)).json().code, 'PRINT_BATCH_NOT_READY');

    assert.equal(await t.services.print.run(providerId, new Date(Date.now() + 3 * DAY_MS)), undefined, 'nothing new to print');
    const finished = (await api(reader, 'GET', `/api/v1/messaging/print-batches/${half.id}`)).json();
    assert.equal(finished.status, 'ready');
    assert.equal(finished.letterCount, 1);
    assert.deepEqual(
      finished.files.map((f: { postage: string; pages: number }) => [f.postage, f.pages]),
      [['second', 2]],
    );
    const rows = parseManifest((await api(reader, 'GET', finished.manifestUrl)).body);
    assert.deepEqual(
      rows.map((r) => r.notification_id),
      [e],
    );
  });

  test('a precompiled letter whose PDF cannot be read is left out of the batch with a permanent failure and its reason', async () => {
    const good = await letter(templates.onePage, 'Fay');
    const bad = await precompiledLetter('ref-broken', Buffer.from('%PDF-1.7\nthis is not really a PDF\n'));
    await deliver();
    const batch = await t.services.print.run(providerId, new Date(Date.now() + 4 * DAY_MS));
    assert.equal(batch?.letterCount, 1);
    assert.equal(await stored(good), 'sending');
    const failed = await t.services.messaging.getNotification(serviceId, bad);
    assert.equal(failed?.status, 'permanent-failure');
    assert.match(failed?.status_reason ?? '', /The letter’s PDF cannot be printed/);
    const rows = parseManifest((await api(reader, 'GET', batch?.manifestUrl as string)).body);
    assert.deepEqual(
      rows.map((r) => r.notification_id),
      [good],
    );
  });

  test('in the console, readers see the batches and their files; only a manager marks one sent, once, with the form', async () => {
    const good = await letter(templates.onePage, 'Gus');
    await deliver();
    const batch = await t.services.print.run(providerId, new Date(Date.now() + 5 * DAY_MS));
    assert.ok(batch);
    const comms = await t.signInAs(['comms']);
    const page = (who: { cookie: string }, url: string) => t.app.inject({ method: 'GET', url, headers: { cookie: who.cookie } });
    const list = await page(comms, '/console/messaging/print');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, new RegExp(`href="/console/messaging/print/${batch.id}">${batch.day}<`));
    const shown = await page(comms, `/console/messaging/print/${batch.id}`);
    assert.equal(shown.statusCode, 200);
    assert.match(shown.body, /Ready to print/);
    assert.ok(shown.body.includes(batch.manifestUrl), 'the manifest can be downloaded');
    assert.doesNotMatch(shown.body, /Mark as sent/, 'a reader has no button');
    const post = (who: { cookie: string }, csrf: string) =>
      t.app.inject({ method: 'POST', url: `/console/messaging/print/${batch.id}/dispatched`, headers: { cookie: who.cookie }, payload: { _csrf: csrf } });
    assert.equal((await post(comms, comms.csrf)).statusCode, 403);
    const admin = await t.signInAs(['admin']);
    const form = await page(admin, `/console/messaging/print/${batch.id}`);
    assert.match(form.body, /Mark as sent/);
    assert.equal((await post(admin, 'wrong')).statusCode, 403, 'a form without its CSRF token is refused');
    assert.equal(await stored(good), 'sending');
    const done = await post(admin, admin.csrf);
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, `/console/messaging/print/${batch.id}?saved=dispatched`);
    assert.equal(await stored(good), 'delivered');
    assert.match((await page(admin, done.headers.location as string)).body, /Marked as sent: 1 letter is now shown as received/);
    const again = await post(admin, admin.csrf);
    assert.equal(again.statusCode, 409);
    assert.match(again.body, /There is a problem/);
    assert.doesNotMatch(again.body, /Mark as sent/);
  });
});
