/**
 * The official GOV.UK Notify client (notifications-node-client from npm), unchanged, pointed
 * at Weft's base URL: every call it offers, the errors Notify documents, and delivery of what
 * it sent (to the development inbox, and by test keys' simulated statuses).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { before, test } from 'node:test';
import { NotifyClient } from 'notifications-node-client';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { NotifySending } from '../../../src/modules/messaging/notify.service.js';
import type { AppError } from '../../../src/platform/errors.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const admin = systemActor('test');

interface NotifyError {
  response: { status: number; data: { status_code: number; errors: { error: string; message: string }[] } };
}

/** The client rejects with axios errors: the status and Notify's error body. */
async function refused(p: Promise<unknown>): Promise<{ status: number; error: string; message: string; all: { error: string; message: string }[] }> {
  try {
    await p;
  } catch (err) {
    const e = err as NotifyError;
    assert.ok(e.response, `expected an HTTP error, got ${err}`);
    assert.equal(e.response.data.status_code, e.response.status);
    return { status: e.response.status, ...e.response.data.errors[0], all: e.response.data.errors };
  }
  assert.fail('expected the call to be refused');
}

forEachDialect('the Notify node client against Weft', (dialect) => {
  let t: TestApp;
  let base: string;
  let serviceId: string;
  let live: NotifyClient;
  let team: NotifyClient;
  let testKey: NotifyClient;
  const templates: Record<string, string> = {};

  before(async () => {
    t = await testApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const m = t.services.messaging;
    const service = await m.createService(admin, {
      name: 'Wealdmoor parking',
      smsSender: 'WEALDMOOR',
      emailFrom: 'parking@wealdmoor.example',
      teamMembers: ['team@wealdmoor.example', '07700 900555'],
    });
    serviceId = service.id;
    live = new NotifyClient(base, (await m.createKey(admin, service.id, { name: 'live key', keyType: 'normal' })).apiKey);
    team = new NotifyClient(base, (await m.createKey(admin, service.id, { name: 'team key', keyType: 'team' })).apiKey);
    testKey = new NotifyClient(base, (await m.createKey(admin, service.id, { name: 'test key', keyType: 'test' })).apiKey);
    templates.email = (
      await m.createTemplate(admin, service.id, {
        name: 'Fine reminder',
        type: 'email',
        subject: 'Your parking fine ((reference))',
        body: '# Pay your fine\n\nDear ((name)),\n\n((items))\n\n^ Pay by ((date)).',
      })
    ).id;
    templates.sms = (await m.createTemplate(admin, service.id, { name: 'Book ready', type: 'sms', body: 'Hello ((name)), your book is ready to collect.' })).id;
    templates.letter = (await m.createTemplate(admin, service.id, { name: 'Closure letter', type: 'letter', subject: 'School closure', body: 'Dear ((name)),\n\nThe school is closed on Monday.' })).id;
  });

  test('sendEmail, sendSms and sendLetter answer 201 with Notify’s bodies, and getNotificationById reads them back', async () => {
    const email = (
      await live.sendEmail(templates.email, 'Resident@Example.com', { personalisation: { name: 'Sam', reference: 'PCN123', items: ['one', 'two'], date: '1 January' }, reference: 'ref-1' })
    ).data;
    assert.match(email.id, /^[0-9a-f-]{36}$/);
    assert.equal(email.reference, 'ref-1');
    assert.equal(email.content.subject, 'Your parking fine PCN123');
    assert.equal(email.content.from_email, 'parking@wealdmoor.example');
    assert.match(email.content.body, /Dear Sam/);
    assert.equal(email.uri, `${t.services.config.publicUrl.replace(/\/$/, '')}/v2/notifications/${email.id}`);
    assert.deepEqual(Object.keys(email.template).sort(), ['id', 'uri', 'version']);
    assert.equal(email.template.version, 1);

    const sms = (await live.sendSms(templates.sms, '07700 900123', { personalisation: { name: 'Ali' } })).data;
    assert.equal(sms.content.body, 'Hello Ali, your book is ready to collect.');
    assert.equal(sms.content.from_number, 'WEALDMOOR');

    const letter = (
      await live.sendLetter(templates.letter, { personalisation: { address_line_1: 'Sam Smith', address_line_2: '1 High Street', address_line_3: 'Wealdmoor', postcode: 'SW1A 1AA', name: 'Sam' } })
    ).data;
    assert.equal(letter.content.subject, 'School closure');

    const got = (await live.getNotificationById(sms.id)).data as any;
    assert.equal(got.id, sms.id);
    assert.equal(got.type, 'sms');
    assert.equal(got.phone_number, '07700 900123');
    assert.equal(got.email_address, null);
    assert.equal(got.status, 'created');
    assert.match(got.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(got.cost_details.billable_sms_fragments, 1);
    for (const key of ['line_1', 'line_6', 'postcode', 'sent_at', 'completed_at', 'scheduled_for', 'created_by_name', 'postage', 'one_click_unsubscribe_url'])
      assert.ok(key in got, `${key} is in the body`);
    const gotLetter = (await live.getNotificationById(letter.id)).data as any;
    assert.equal(gotLetter.status, 'accepted');
    assert.equal(gotLetter.line_1, 'Sam Smith');
    assert.equal(gotLetter.postcode, 'SW1A 1AA');

    // Delivery hands them to the development inbox (no provider is set up): delivered, letters received.
    while ((await t.services.delivery.runOnce()) > 0);
    assert.equal((await live.getNotificationById(sms.id)).data.status, 'delivered');
    assert.equal((await live.getNotificationById(letter.id)).data.status, 'received');
    const pdf = await live.getPdfForLetterNotification(letter.id);
    assert.equal(Buffer.from(pdf).subarray(0, 5).toString('latin1'), '%PDF-');
  });

  test('getNotifications filters by type, status and reference, pages with older_than, and shows only the caller’s key type', async () => {
    const refs: string[] = [];
    for (let i = 0; i < 3; i++) refs.push((await live.sendSms(templates.sms, '07700900124', { personalisation: { name: `n${i}` }, reference: 'batch-7' })).data.id);
    const page = (await live.getNotifications('sms', undefined, 'batch-7')).data;
    assert.deepEqual(
      page.notifications.map((n: { id: string }) => n.id),
      [...refs].reverse(),
    );
    assert.match(page.links.current, /\/v2\/notifications\?template_type=sms&reference=batch-7$/);
    assert.match(page.links.next, /older_than=/);
    const older = (await live.getNotifications('sms', undefined, 'batch-7', refs[2] as string)).data;
    assert.deepEqual(
      older.notifications.map((n: { id: string }) => n.id),
      [refs[1], refs[0]],
    );
    assert.equal((await live.getNotifications(undefined, 'delivered', 'batch-7')).data.notifications.length, 0);
    assert.equal((await testKey.getNotifications(undefined, undefined, 'batch-7')).data.notifications.length, 0, 'a test key does not see live notifications');
    const bad = await refused(live.getNotifications('pigeon'));
    assert.deepEqual([bad.status, bad.error, bad.message], [400, 'ValidationError', 'template_type pigeon is not one of [sms, email, letter]']);
  });

  test('templates: by id, by version, all, by type, and preview', async () => {
    const one = (await live.getTemplateById(templates.email)).data as any;
    assert.equal(one.type, 'email');
    assert.equal(one.subject, 'Your parking fine ((reference))');
    assert.deepEqual(Object.keys(one.personalisation).sort(), ['date', 'items', 'name', 'reference']);
    await t.services.messaging.updateTemplate(admin, templates.sms, { name: 'Book ready', type: 'sms', body: 'Hi ((name)), your book is waiting.' });
    assert.equal((await live.getTemplateById(templates.sms)).data.version, 2);
    assert.equal((await live.getTemplateByIdAndVersion(templates.sms, 1)).data.body, 'Hello ((name)), your book is ready to collect.');
    const all = (await live.getAllTemplates()).data.templates;
    assert.equal(all.length, 3);
    assert.deepEqual(
      (await live.getAllTemplates('sms')).data.templates.map((x: { id: string }) => x.id),
      [templates.sms],
    );
    const preview = (await live.previewTemplateById(templates.email, { name: 'Jo', reference: 'X1', items: ['a'], date: 'today' })).data;
    assert.equal(preview.subject, 'Your parking fine X1');
    assert.match(String(preview.html), /<h2[^>]*>Pay your fine<\/h2>/);
    const missing = await refused(live.previewTemplateById(templates.email, { name: 'Jo' }));
    assert.deepEqual([missing.status, missing.error, missing.message], [400, 'BadRequestError', 'Missing personalisation: reference, items, date']);
    const none = await refused(live.getTemplateById('01900000-0000-7000-8000-000000000000'));
    assert.deepEqual([none.status, none.error, none.message], [404, 'NoResultFound', 'No result found']);
  });

  test('Notify’s errors: personalisation, phone numbers, email addresses, addresses, templates, team keys', async () => {
    const cases: [() => Promise<unknown>, number, string, string][] = [
      [() => live.sendSms(templates.sms, '07700900123', { personalisation: {} }), 400, 'BadRequestError', 'Missing personalisation: name'],
      [() => live.sendSms(templates.sms, '0770090012', { personalisation: { name: 'x' } }), 400, 'ValidationError', 'phone_number Not enough digits'],
      [() => live.sendSms(templates.sms, '077009001234', { personalisation: { name: 'x' } }), 400, 'ValidationError', 'phone_number Too many digits'],
      [() => live.sendSms(templates.sms, '07700 9001x3', { personalisation: { name: 'x' } }), 400, 'ValidationError', 'phone_number Must not contain letters or symbols'],
      [() => live.sendSms(templates.sms, '01632 960001', { personalisation: { name: 'x' } }), 400, 'InvalidPhoneError', 'Not a UK mobile number'],
      [() => live.sendEmail(templates.email, 'not-an-address', {}), 400, 'ValidationError', 'email_address Not a valid email address'],
      [() => live.sendEmail(templates.sms, 'a@example.com', {}), 400, 'BadRequestError', 'sms template is not suitable for email notification'],
      [() => live.sendEmail('01900000-0000-7000-8000-000000000000', 'a@example.com', {}), 400, 'BadRequestError', 'Template not found'],
      [() => live.sendEmail('not-a-uuid', 'a@example.com', {}), 400, 'ValidationError', 'template_id is not a valid UUID'],
      [() => live.sendLetter(templates.letter, { personalisation: { address_line_1: 'A', address_line_2: 'B', name: 'x' } }), 400, 'ValidationError', 'Address must be at least 3 lines'],
      [
        () => live.sendLetter(templates.letter, { personalisation: { address_line_1: 'A', address_line_2: 'B', address_line_3: 'Nowhere', name: 'x' } }),
        400,
        'ValidationError',
        'Last line of address must be a real UK postcode or another country',
      ],
      [() => team.sendSms(templates.sms, '07700900999', { personalisation: { name: 'x' } }), 400, 'BadRequestError', 'Can’t send to this recipient using a team-only API key'],
      [
        () => team.sendLetter(templates.letter, { personalisation: { address_line_1: 'A', address_line_2: 'B', address_line_3: 'C', postcode: 'SW1A 1AA', name: 'x' } }),
        403,
        'BadRequestError',
        'Cannot send letters with a team api key',
      ],
    ];
    for (const [call, status, error, message] of cases) {
      const r = await refused(call());
      assert.deepEqual([r.status, r.error, r.message], [status, error, message], message);
    }
    // Team members are allowed, normalised as Notify compares them.
    assert.equal((await team.sendSms(templates.sms, '+447700900555', { personalisation: { name: 'x' } })).status, 201);
    assert.equal((await team.sendEmail(templates.email, 'TEAM@wealdmoor.example', { personalisation: { name: 'x', reference: 'r', items: 'i', date: 'd' } })).status, 201);
  });

  test('test keys simulate Notify’s statuses and send nothing; smoke-test recipients are answered but not kept', async () => {
    const ids: Record<string, string> = {};
    for (const [label, to] of [
      ['delivered', '07700900001'],
      ['temporary-failure', '07700900003'],
      ['permanent-failure', '+447700900002'],
    ])
      ids[label] = (await testKey.sendSms(templates.sms, to, { personalisation: { name: 'x' } })).data.id;
    while ((await t.services.delivery.runOnce()) > 0);
    for (const status of Object.keys(ids)) assert.equal((await testKey.getNotificationById(ids[status])).data.status, status);
    const smoke = (await live.sendSms(templates.sms, '07700900000', { personalisation: { name: 'x' } })).data;
    const gone = await refused(live.getNotificationById(smoke.id));
    assert.equal(gone.status, 404);
  });

  test('named senders (email_reply_to_id, sms_sender_id) and the one-click unsubscribe link', async () => {
    const m = t.services.messaging;
    const replyTo = await m.addSender(admin, serviceId, 'email_reply_to', 'fines@wealdmoor.example');
    const sender = await m.addSender(admin, serviceId, 'sms_sender', 'WMFINES');
    await assert.rejects(m.addSender(admin, serviceId, 'sms_sender', 'far too long a sender'), { code: 'SENDER_INVALID' });
    const personalisation = { name: 'x', reference: 'r', items: 'i', date: 'd' };
    const email = (await live.sendEmail(templates.email, 'a@example.com', { personalisation, emailReplyToId: replyTo.id, oneClickUnsubscribeURL: 'https://wealdmoor.example/unsubscribe/abc' })).data;
    assert.equal(email.content.one_click_unsubscribe_url, 'https://wealdmoor.example/unsubscribe/abc');
    const stored = await m.getNotification(serviceId, email.id);
    assert.equal(stored?.reply_to, 'fines@wealdmoor.example');
    assert.equal(((await live.getNotificationById(email.id)).data as any).one_click_unsubscribe_url, 'https://wealdmoor.example/unsubscribe/abc');
    const sms = (await live.sendSms(templates.sms, '07700900123', { personalisation: { name: 'x' }, smsSenderId: sender.id })).data;
    assert.equal(sms.content.from_number, 'WMFINES');
    const unknown = await refused(live.sendSms(templates.sms, '07700900123', { personalisation: { name: 'x' }, smsSenderId: replyTo.id }));
    assert.equal(unknown.message, `sms_sender_id ${replyTo.id} does not exist in database for service id ${serviceId}`);
    const notHttps = await refused(live.sendEmail(templates.email, 'a@example.com', { personalisation, oneClickUnsubscribeURL: 'http://insecure.example' }));
    assert.equal(notHttps.message, 'one_click_unsubscribe_url is not a valid https url');
  });

  test('a deleted template is refused as Notify refuses it, and keys show when they were last used', async () => {
    const m = t.services.messaging;
    const gone = await m.createTemplate(admin, serviceId, { name: 'Old notice', type: 'sms', body: 'Old' });
    assert.equal((await live.sendSms(gone.id, '07700900123', {})).status, 201);
    await m.archiveTemplate(admin, gone.id);
    const r = await refused(live.sendSms(gone.id, '07700900123', {}));
    assert.deepEqual([r.status, r.message], [400, 'Template has been deleted']);
    assert.ok(!(await live.getAllTemplates('sms')).data.templates.some((x: { id: string }) => x.id === gone.id));
    const keys = await m.listKeys(serviceId);
    assert.ok(keys.find((k) => k.name === 'live key')?.lastUsedAt, 'the live key’s last use is recorded');
  });

  test('precompiled letters are stored with their PDF and given back', async () => {
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
    const sent = (await live.sendPrecompiledLetter('letter-ref-9', pdf, 'first')).data;
    assert.deepEqual([sent.reference, sent.postage], ['letter-ref-9', 'first']);
    const back = await live.getPdfForLetterNotification(sent.id);
    assert.equal(Buffer.from(back).toString('latin1'), pdf.toString('latin1'));
    const notPdf = await refused(live.sendPrecompiledLetter('x', Buffer.from('hello'), 'second'));
    assert.deepEqual([notPdf.status, notPdf.message], [400, 'Letter content is not a valid PDF']);
  });

  test('received text messages are listed, newest first (an empty list too)', async () => {
    const res = (await live.getReceivedTexts()).data;
    assert.deepEqual(res.received_text_messages, []);
    assert.match(res.links.current, /\/v2\/received-text-messages$/);
  });

  test('authentication as Notify checks it: no token, wrong scheme, a key of another service, a revoked key, a clock out by more than 30 s', async () => {
    const url = `${base}/v2/notifications`;
    const noToken = await fetch(url);
    assert.equal(noToken.status, 401);
    assert.deepEqual(await noToken.json(), { status_code: 401, errors: [{ error: 'AuthError', message: 'Unauthorized: authentication token must be provided' }] });
    const basic = await fetch(url, { headers: { authorization: 'Basic abc' } });
    assert.equal((await basic.json()).errors[0].message, 'Unauthorized: authentication bearer scheme must be used');
    const garbage = await fetch(url, { headers: { authorization: 'bearer not.a.jwt' } });
    assert.equal(garbage.status, 403);
    assert.match((await garbage.json()).errors[0].message, /^Invalid token: make sure your API token matches the example/);

    const other = await t.services.messaging.createService(admin, { name: 'Other service' });
    const wrong = new NotifyClient(base, `k-${serviceId}-${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`);
    const r1 = await refused(wrong.getAllTemplates());
    assert.deepEqual([r1.status, r1.error, r1.message], [403, 'AuthError', 'Invalid token: API key not found']);
    const noKeys = await refused(new NotifyClient(base, `k-${other.id}-${'1'.repeat(8)}-1111-4111-8111-${'1'.repeat(12)}`).getAllTemplates());
    assert.equal(noKeys.message, 'Invalid token: service has no API keys');

    const created = await t.services.messaging.createKey(admin, serviceId, { name: 'short lived', keyType: 'normal' });
    const client = new NotifyClient(base, created.apiKey);
    assert.equal((await client.getAllTemplates()).status, 200);
    await t.services.messaging.revokeKey(admin, serviceId, created.key.id);
    const revoked = await refused(client.getAllTemplates());
    assert.equal(revoked.message, 'Invalid token: API key revoked');

    const { signToken, splitApiKey } = await import('../../../src/modules/messaging/notify.auth.js');
    const { secret } = splitApiKey((await t.services.messaging.createKey(admin, serviceId, { name: 'clock', keyType: 'normal' })).apiKey);
    const old = await fetch(url, { headers: { authorization: `Bearer ${signToken(serviceId, secret, Math.round(Date.now() / 1000) - 45)}` } });
    assert.equal((await old.json()).errors[0].message, 'Error: Your system clock must be accurate to within 30 seconds');
    const fine = await fetch(url, { headers: { authorization: `Bearer ${signToken(serviceId, secret, Math.round(Date.now() / 1000) - 20)}` } });
    assert.equal(fine.status, 200);
  });

  test('rate limit: Notify’s token bucket per service and key type, answered 429 RateLimitError', async () => {
    const m = t.services.messaging;
    const s = await m.createService(admin, { name: 'Slow service', rateLimitPerMinute: 6 });
    const client = new NotifyClient(base, (await m.createKey(admin, s.id, { name: 'k', keyType: 'normal' })).apiKey);
    const tpl = (await m.createTemplate(admin, s.id, { name: 't', type: 'sms', body: 'Hello' })).id;
    // Capacity is a third of the minute's rate, plus one: 3.
    for (let i = 0; i < 3; i++) assert.equal((await client.sendSms(tpl, '07700900123', {})).status, 201);
    const r = await refused(client.sendSms(tpl, '07700900123', {}));
    assert.deepEqual([r.status, r.error, r.message], [429, 'RateLimitError', 'Exceeded rate limit for key type LIVE of 6 requests per 60 seconds']);
  });

  test('daily limit: TooManyRequestsError once the day’s sends of a type reach the service’s limit; test keys do not count', async () => {
    const m = t.services.messaging;
    const s = await m.createService(admin, { name: 'Small service', dailyLimit: 2 });
    const apiKey = (await m.createKey(admin, s.id, { name: 'k', keyType: 'normal' })).apiKey;
    const client = new NotifyClient(base, apiKey);
    const tester = new NotifyClient(base, (await m.createKey(admin, s.id, { name: 't', keyType: 'test' })).apiKey);
    const tpl = (await m.createTemplate(admin, s.id, { name: 't', type: 'sms', body: 'Hello' })).id;
    for (let i = 0; i < 3; i++) await tester.sendSms(tpl, '07700900123', {});
    for (let i = 0; i < 2; i++) await client.sendSms(tpl, '07700900123', {});
    const r = await refused(client.sendSms(tpl, '07700900123', {}));
    assert.deepEqual([r.status, r.error, r.message], [429, 'TooManyRequestsError', 'Exceeded send limits (sms: 2) for today']);
    // Another process sharing the database counts these sends too, once its count is read again.
    const other = new NotifySending(m, { recountMs: 0 });
    const row = (await m.repo.findService(s.id)) as NonNullable<Awaited<ReturnType<typeof m.repo.findService>>>;
    await assert.rejects(other.checkDailyLimit(row, 'sms'), (err: AppError) => err.code === 'NOTIFY_DAILY_LIMIT');
    await other.checkDailyLimit(row, 'email');
  });
});
