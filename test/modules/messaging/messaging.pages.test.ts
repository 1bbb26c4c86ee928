/**
 * The messaging console pages through the real app: who may see what, forms with their errors,
 * an API key shown once, templates with versions and the no-JavaScript preview, the development
 * inbox with what would have been sent, sent messages, and delivery providers.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { formatPence, lastDays, parseTimeOfDay, scheduleFrom, smsSummary, startOfLondonDay } from '../../../src/modules/messaging/messaging.pages.js';
import { londonInstant } from '../../../src/platform/dates.js';
import { signToken, splitApiKey } from '../../../src/modules/messaging/notify.auth.js';
import { renderSms } from '../../../src/modules/messaging/render/index.js';
import { type Browser, type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');

/** A multipart/form-data body, as a browser sends a form with a file input. */
function multipart(fields: Record<string, string>, file: { filename: string; content: string }) {
  const boundary = `----weft${Date.now()}`;
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\nContent-Type: text/csv\r\n\r\n${file.content}\r\n`);
  return { payload: `${parts.join('')}--${boundary}--\r\n`, contentType: `multipart/form-data; boundary=${boundary}` };
}
const idFrom = (location: unknown) => String(location).split('/').pop()?.split('?')[0] ?? '';

test('midnight in London, either side of the clock changes', () => {
  assert.equal(startOfLondonDay(new Date('2026-01-15T10:00:00Z')).toISOString(), '2026-01-15T00:00:00.000Z');
  assert.equal(startOfLondonDay(new Date('2026-07-15T10:00:00Z')).toISOString(), '2026-07-14T23:00:00.000Z');
  assert.equal(startOfLondonDay(new Date('2026-07-14T23:30:00Z')).toISOString(), '2026-07-14T23:00:00.000Z');
  // 29 March 2026: the clocks go forward at 01:00 UTC; midnight was still GMT.
  assert.equal(startOfLondonDay(new Date('2026-03-29T12:00:00Z')).toISOString(), '2026-03-29T00:00:00.000Z');
  // 25 October 2026: the clocks go back at 01:00 UTC; midnight was still BST.
  assert.equal(startOfLondonDay(new Date('2026-10-25T12:00:00Z')).toISOString(), '2026-10-24T23:00:00.000Z');
});

test('the text message counter says characters, parts, cost and why', () => {
  assert.equal(formatPence(2), '2p');
  assert.equal(formatPence(4.5), '4.5p');
  assert.equal(formatPence(250), '£2.50');
  assert.equal(smsSummary(renderSms('Hello'), 2), '5 characters: 1 text message part. Estimated cost 2p a message, at 2p a part.');
  assert.match(smsSummary(renderSms('a'.repeat(161)), 2.5), /^161 characters: 2 text message parts\. Estimated cost 5p a message, at 2\.5p a part\.$/);
  assert.match(smsSummary(renderSms('Croeso i’r ŵyl'), 2), /outside the standard text message alphabet \(ŵ\)/);
  assert.match(smsSummary(renderSms('x'.repeat(919)), 2), /^Your message is too long\. Text messages cannot be longer than 918 characters/);
  assert.equal(smsSummary(renderSms(''), 2), 'Your message is empty.');
});

forEachDialect('messaging console pages', (dialect) => {
  let t: TestApp;
  let admin: Browser;
  let comms: Browser;
  let viewer: Browser;
  let serviceId: string;
  const as = (b: Browser) => ({ cookie: b.cookie });
  const get = (b: Browser, url: string) => t.app.inject({ url, headers: as(b) });
  const post = (b: Browser, url: string, form: Record<string, string>) => t.app.inject({ method: 'POST', url, headers: as(b), payload: { ...form, _csrf: b.csrf } });
  const hrefs = (body: string) => [...body.matchAll(/govuk-error-summary__list"[\s\S]*?<\/ul>/g)].flatMap((m) => [...m[0].matchAll(/href="(#[^"]+)"/g)].map((h) => h[1]));

  before(async () => {
    t = await testApp(dialect);
    [admin, comms, viewer] = await Promise.all([t.signInAs(['admin']), t.signInAs(['comms']), t.signInAs(['viewer'])]);
    serviceId = (await t.services.messaging.createService(system, { name: 'Wealdmoor Libraries', smsSender: 'WEALDMOOR', emailFrom: 'libraries@wealdmoor.example' })).id;
  });

  test('the comms team sees the messaging pages; a viewer is refused; set-up pages are for administrators', async () => {
    for (const url of ['/console/messaging', '/console/messaging/templates', `/console/messaging/templates?serviceId=${serviceId}`, '/console/messaging/notifications', '/console/messaging/inbox']) {
      const res = await get(comms, url);
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 300)}`);
      assert.ok(!/ style="/.test(res.body), `${url} has no inline style`);
      assert.ok(!res.body.includes('/console/messaging/providers"'), `${url} does not offer providers to the comms team`);
      assert.equal((await get(viewer, url)).statusCode, 403, `${url} refuses a viewer`);
    }
    const overview = await get(comms, '/console/messaging');
    assert.match(overview.body, /Wealdmoor Libraries/);
    assert.match(overview.body, /Messages today/);
    assert.match(overview.body, /Messages in the last 7 days/);
    assert.match(overview.body, /No provider is turned on: these messages go to the/);
    for (const url of [
      '/console/messaging/services',
      '/console/messaging/services/new',
      `/console/messaging/services/${serviceId}`,
      '/console/messaging/providers',
      '/console/messaging/providers/new',
    ])
      assert.equal((await get(comms, url)).statusCode, 403, `${url} is for administrators`);
    for (const url of [
      '/console/messaging/services',
      `/console/messaging/services/${serviceId}`,
      '/console/messaging/providers',
      '/console/messaging/providers/new',
      '/console/messaging/services/new',
    ]) {
      const res = await get(admin, url);
      assert.equal(res.statusCode, 200, `${url}: ${res.body.slice(0, 300)}`);
      assert.ok(!/ style="/.test(res.body), `${url} has no inline style`);
    }
    assert.match((await get(comms, '/console')).body, /href="\/console\/messaging"/);
    assert.doesNotMatch((await get(viewer, '/console')).body, /href="\/console\/messaging"/);
    assert.equal((await post(viewer, `/console/messaging/services/${serviceId}/templates/new`, { type: 'sms', name: 'x', body: 'x' })).statusCode, 403);
  });

  test('an administrator adds a service: errors in the summary first, then the service, audited', async () => {
    const bad = await post(admin, '/console/messaging/services/new', { name: '', smsSender: 'TOO LONG A SENDER', emailFrom: 'not-an-email', rateLimitPerMinute: 'lots', dailyLimit: '100' });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(hrefs(bad.body), ['#name', '#smsSender', '#emailFrom', '#rateLimitPerMinute']);
    assert.match(bad.body, /Enter a text message sender of 3 to 11 letters, numbers or spaces/);
    assert.match(bad.body, /value="TOO LONG A SENDER"/, 'what was typed is kept');

    const ok = await post(admin, '/console/messaging/services/new', {
      name: 'Wealdmoor Parking',
      smsSender: 'PARKING',
      emailFrom: 'parking@wealdmoor.example',
      teamMembers: 'a@wealdmoor.example\n07700 900123',
      rateLimitPerMinute: '600',
      dailyLimit: '1000',
    });
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 500));
    const page = await get(admin, String(ok.headers.location));
    assert.match(page.body, /Messaging service added/);
    assert.match(page.body, /a@wealdmoor.example, 07700 900123/);
    assert.match(page.body, /600 a minute for each key, 1000 a day/);
    const audit = await t.services.audit.search({ actorId: admin.userId, limit: 50 });
    assert.ok(audit.some((e) => e.action === 'messaging.service_create'));

    const taken = await post(admin, '/console/messaging/services/new', { name: 'Wealdmoor Parking' });
    assert.equal(taken.statusCode, 400);
    assert.match(taken.body, /A messaging service already has this name/);
  });

  test('an API key is shown once, works with GOV.UK Notify’s token, and is revoked after a confirmation', async () => {
    const bad = await post(admin, `/console/messaging/services/${serviceId}/keys/new`, { name: 'bad/name' });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(hrefs(bad.body), ['#name', '#keyType']);

    const made = await post(admin, `/console/messaging/services/${serviceId}/keys/new`, { name: 'Library system', keyType: 'normal' });
    assert.equal(made.statusCode, 200);
    assert.equal(made.headers['cache-control'], 'no-store');
    assert.match(made.body, /You will not be able to see it again/);
    const apiKey = /id="api-key">([^<]+)</.exec(made.body)?.[1] ?? '';
    assert.match(apiKey, new RegExp(`^library_system-${serviceId}-[0-9a-f-]{36}$`));
    const { secret } = splitApiKey(apiKey);
    const bearer = () => ({ authorization: `Bearer ${signToken(serviceId, secret)}` });
    assert.equal((await t.app.inject({ url: '/v2/templates', headers: bearer() })).statusCode, 200);

    const service = await get(admin, `/console/messaging/services/${serviceId}`);
    assert.ok(!service.body.includes(secret), 'the secret is not shown again');
    const keyId = (await t.services.messaging.listKeys(serviceId)).find((k) => k.name === 'Library system')?.id ?? '';
    assert.match(service.body, new RegExp(`/keys/${keyId}/revoke`));

    const confirm = await get(admin, `/console/messaging/services/${serviceId}/keys/${keyId}/revoke`);
    assert.equal(confirm.statusCode, 200);
    assert.match(confirm.body, /Are you sure you want to revoke the API key ‘Library system’\?/);
    const revoked = await post(admin, `/console/messaging/services/${serviceId}/keys/${keyId}/revoke`, {});
    assert.equal(revoked.statusCode, 303);
    assert.match((await get(admin, String(revoked.headers.location))).body, /API key revoked/);
    assert.equal((await t.app.inject({ url: '/v2/templates', headers: bearer() })).statusCode, 403, 'the key no longer works');
    assert.equal((await get(admin, `/console/messaging/services/${serviceId}/keys/${keyId}/revoke`)).statusCode, 404, 'nothing left to revoke');
  });

  test('a text message template: errors, the no-JavaScript preview with its counter, saved, a new version, and its history', async () => {
    const url = `/console/messaging/services/${serviceId}/templates/new`;
    const choose = await get(comms, url);
    assert.match(choose.body, /What kind of message is the template for\?/);
    assert.equal((await get(comms, `${url}?type=fax`)).statusCode, 400);
    const form = await get(comms, `${url}?type=sms`);
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /src="\/assets\/messaging\/sms-count.mjs"/);
    assert.match(form.body, /data-sms-count-for="body">Your message is empty.</);

    const empty = await post(comms, url, { type: 'sms', name: '', body: ' ', action: 'save' });
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(hrefs(empty.body), ['#name', '#body']);
    const long = await post(comms, url, { type: 'sms', name: 'Long', body: 'x'.repeat(919), action: 'save' });
    assert.equal(long.statusCode, 400);
    assert.match(long.body, /Text messages cannot be longer than 918 characters. This one is 919 characters long./);

    const body = `Hello ((name)), your book “((title))” is ready to collect from ${'the library on the High Street '.repeat(5)}`;
    const preview = await post(comms, url, { type: 'sms', name: 'Book ready', body, action: 'preview' });
    assert.equal(preview.statusCode, 200);
    assert.match(preview.body, /id="preview">Preview</);
    assert.match(preview.body, /class="weft-bubble">Hello \(\(name\)\), your book &quot;\(\(title\)\)&quot; is ready/, 'curly quotes sent as straight ones');
    assert.match(preview.body, /data-sms-count-for="body">\d+ characters: 2 text message parts\. Estimated cost 4p a message, at 2p a part\.</);
    assert.match(preview.body, /Not filled in:<\/strong> name, title/);
    assert.equal(await t.services.messaging.listTemplates(serviceId).then((l) => l.length), 0, 'a preview saves nothing');

    const saved = await post(comms, url, { type: 'sms', name: 'Book ready', body: 'Hello ((name)), your book is ready.', bodyCy: 'Helo ((name)), mae’ch llyfr yn barod.', action: 'save' });
    assert.equal(saved.statusCode, 303, saved.body.slice(0, 500));
    const id = idFrom(saved.headers.location);
    const page = await get(comms, String(saved.headers.location));
    assert.match(page.body, /Template saved/);
    assert.match(page.body, new RegExp(id));
    assert.match(page.body, /lang="cy"/);

    const edit = await get(comms, `/console/messaging/templates/${id}/edit`);
    assert.match(edit.body, /Hello \(\(name\)\), your book is ready\.<\/textarea>/);
    const changed = await post(comms, `/console/messaging/templates/${id}/edit`, { name: 'Book ready to collect', body: 'Hi ((name)), your book is ready.', bodyCy: '', action: 'save' });
    assert.equal(changed.statusCode, 303);
    const v2 = await get(comms, String(changed.headers.location));
    assert.match(v2.body, /Saved as version 2/);
    assert.match(v2.body, /Version history/);
    assert.match(v2.body, new RegExp(`href="/console/messaging/templates/${id}\\?version=1">Version 1</a>`));
    const v1 = await get(comms, `/console/messaging/templates/${id}?version=1`);
    assert.match(v1.body, /This is version 1/);
    assert.match(v1.body, /Hello \(\(name\)\), your book is ready\./);

    const pv = await get(comms, `/console/messaging/templates/${id}/preview?version=2&p0=Ada`);
    assert.equal(pv.statusCode, 200);
    assert.match(pv.body, /class="weft-bubble">Hi Ada, your book is ready.</);
    assert.match(pv.body, /1 text message part/);
  });

  test('the counter’s endpoint answers as you type, only with the form’s token', async () => {
    const ok = await t.app.inject({ method: 'POST', url: '/console/messaging/sms-count', headers: { ...as(comms), 'x-csrf-token': comms.csrf }, payload: { body: 'Croeso ŵ' } });
    assert.equal(ok.statusCode, 200, ok.body);
    const r = ok.json();
    assert.equal(r.encoding, 'UCS-2');
    assert.equal(r.fragments, 1);
    assert.match(r.summary, /^8 characters: 1 text message part\./);
    const noToken = await t.app.inject({ method: 'POST', url: '/console/messaging/sms-count', headers: as(comms), payload: { body: 'x' } });
    assert.equal(noToken.statusCode, 403);
    assert.equal(noToken.json().code, 'CSRF_INVALID');
    const refused = await t.app.inject({ method: 'POST', url: '/console/messaging/sms-count', headers: { ...as(viewer), 'x-csrf-token': viewer.csrf }, payload: { body: 'x' } });
    assert.equal(refused.statusCode, 403);
    const audit = await t.services.audit.search({ actorId: comms.userId, limit: 100 });
    assert.ok(!audit.some((e) => e.action === 'http.write'), 'counting and previews are not recorded as changes');
  });

  test('email, voice and letter templates: the email in a sandboxed frame with its own policy, the keypad menu, the letter as a PDF', async () => {
    const url = `/console/messaging/services/${serviceId}/templates/new`;
    const noSubject = await post(comms, url, { type: 'email', name: 'Overdue', body: 'Hello', action: 'save' });
    assert.equal(noSubject.statusCode, 400);
    assert.deepEqual(hrefs(noSubject.body), ['#subject']);
    const welshHalf = await post(comms, url, { type: 'email', name: 'Overdue', subject: 'Overdue', body: 'Hello', bodyCy: 'Helo', action: 'save' });
    assert.deepEqual(hrefs(welshHalf.body), ['#subjectCy']);
    assert.match(welshHalf.body, /<details class="govuk-details" open>/, 'the Welsh section opens to show its error');
    const email = await post(comms, url, {
      type: 'email',
      name: 'Overdue',
      subject: 'Your book is overdue, ((name))',
      body: '# Overdue\n\nDear ((name)),\n\n* ((title))\n\n<script>alert(1)</script>',
      subjectCy: 'Mae’ch llyfr yn hwyr',
      bodyCy: 'Annwyl ((name))',
      action: 'save',
    });
    assert.equal(email.statusCode, 303, email.body.slice(0, 400));
    const emailId = idFrom(email.headers.location);
    const preview = await get(comms, `/console/messaging/templates/${emailId}/preview`);
    assert.match(
      preview.body,
      /<iframe class="weft-email-frame" sandbox src="\/console\/messaging\/templates\/[^"]+\/email.html\?version=1&amp;p0=&amp;p1=" title="The email as the recipient sees it">/,
    );
    assert.match(preview.body, /name="language" type="radio" value="cy"/);
    const filled = await get(comms, `/console/messaging/templates/${emailId}/preview?version=1&p0=Ada&p1=Middlemarch`);
    assert.match(filled.body, /Your book is overdue, Ada/);
    const html = await get(comms, `/console/messaging/templates/${emailId}/email.html?version=1&p0=Ada&p1=Middlemarch`);
    assert.equal(html.statusCode, 200);
    const csp = String(html.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /sandbox/);
    assert.match(csp, /style-src 'unsafe-inline'/);
    assert.match(csp, /frame-ancestors 'self'/);
    assert.equal(html.headers['x-frame-options'], 'SAMEORIGIN');
    assert.match(html.body, /Dear Ada/);
    assert.match(html.body, /Middlemarch/);
    assert.ok(!html.body.includes('<script>'), 'template text is escaped');
    const welsh = await get(comms, `/console/messaging/templates/${emailId}/email.html?version=1&language=cy&p0=Ada`);
    assert.match(welsh.body, /Annwyl Ada/);
    assert.equal((await get(comms, `/console/messaging/templates/${emailId}/letter.pdf`)).statusCode, 404);

    const dup = await post(comms, url, {
      type: 'voice',
      name: 'Bin day',
      body: 'Your bin is collected tomorrow.',
      'menu-0-key': '1',
      'menu-0-label': 'confirm',
      'menu-1-key': '1',
      'menu-1-label': 'hear it again',
      'menu-2-key': 'x',
      'menu-2-label': 'stop',
      action: 'save',
    });
    assert.equal(dup.statusCode, 400);
    assert.deepEqual(hrefs(dup.body), ['#menu-1-key', '#menu-2-key']);
    const voice = await post(comms, url, {
      type: 'voice',
      name: 'Bin day',
      body: 'Your bin is collected tomorrow, ((name)).',
      'menu-0-key': '1',
      'menu-0-label': 'confirm',
      'menu-1-key': '2',
      'menu-1-label': 'speak to someone',
      action: 'save',
    });
    assert.equal(voice.statusCode, 303, voice.body.slice(0, 400));
    const voicePreview = await get(comms, `/console/messaging/templates/${idFrom(voice.headers.location)}/preview?version=1&p0=Sam`);
    assert.match(voicePreview.body, /Your bin is collected tomorrow, Sam\./);
    assert.match(voicePreview.body, /Press 1 to confirm\./);
    assert.match(voicePreview.body, /Press 2 to speak to someone\./);

    const rcs = await post(comms, url, { type: 'rcs', name: 'Library event', body: 'Come to the reading group, ((name))?', suggestions: 'Yes\nNo\n', action: 'save' });
    assert.equal(rcs.statusCode, 303, rcs.body.slice(0, 400));
    const rcsPreview = await get(comms, `/console/messaging/templates/${idFrom(rcs.headers.location)}/preview`);
    assert.match(rcsPreview.body, /<li class="weft-chip">Yes<\/li><li class="weft-chip">No<\/li>/);

    const letter = await post(comms, url, {
      type: 'letter',
      name: 'Closure',
      subject: 'The library is closing for repairs',
      body: 'Dear ((name)),\n\nThe library is closed on Monday.',
      postage: 'first',
      action: 'save',
    });
    assert.equal(letter.statusCode, 303, letter.body.slice(0, 400));
    const letterId = idFrom(letter.headers.location);
    const letterPreview = await get(comms, `/console/messaging/templates/${letterId}/preview`);
    assert.match(letterPreview.body, /value="A Resident"/, 'a sample address to start with');
    assert.match(letterPreview.body, /<label class="govuk-label" for="p7">\s*name\s*<\/label>/);
    assert.match(letterPreview.body, /href="\/console\/messaging\/templates\/[^"]+\/letter.pdf\?version=1&amp;p0=A\+Resident/);
    assert.match(letterPreview.body, /1 page, dated today/);
    const pdf = await get(comms, `/console/messaging/templates/${letterId}/letter.pdf?version=1&p0=A+Resident&p1=1+High+Street&p2=Exampletown&p6=SW1A+1AA&p7=Ada`);
    assert.equal(pdf.statusCode, 200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
    const noAddress = await get(comms, `/console/messaging/templates/${letterId}/preview?version=1&p7=Ada`);
    assert.match(noAddress.body, /It could not be posted as it is:/);
  });

  test('the development inbox shows exactly what would have been sent; sent messages filter and show their status', async () => {
    const m = t.services.messaging;
    const key = await m.createKey(system, serviceId, { name: 'inbox key', keyType: 'normal' });
    const { secret } = splitApiKey(key.apiKey);
    const send = (path: string, payload: object) => t.app.inject({ method: 'POST', url: `/v2/notifications/${path}`, headers: { authorization: `Bearer ${signToken(serviceId, secret)}` }, payload });
    const sms = await m.createTemplate(system, serviceId, { name: 'Reserved', type: 'sms', body: 'Hello ((name)), your book is ready.' });
    const email = await m.createTemplate(system, serviceId, { name: 'Receipt', type: 'email', subject: 'Receipt for ((name))', body: 'Thank you, ((name)).' });
    const letter = await m.createTemplate(system, serviceId, { name: 'Letter', type: 'letter', subject: 'Your membership', body: 'Dear ((name)), welcome.' });
    const a = await send('sms', { template_id: sms.id, phone_number: '07700 900456', personalisation: { name: 'Ada' }, reference: 'ref-sms' });
    const b = await send('email', { template_id: email.id, email_address: 'ada@example.com', personalisation: { name: 'Ada' }, reference: 'ref-email' });
    const c = await send('letter', {
      template_id: letter.id,
      personalisation: { name: 'Ada', address_line_1: 'Ada Lovelace', address_line_2: '1 High Street', address_line_3: 'Exampletown', postcode: 'SW1A 1AA' },
    });
    for (const r of [a, b, c]) assert.equal(r.statusCode, 201, r.body);
    await t.services.delivery.runOnce();
    const [smsId, emailId, letterId] = [a, b, c].map((r) => r.json().id as string);

    const inbox = await get(comms, '/console/messaging/inbox');
    assert.equal(inbox.statusCode, 200);
    for (const to of ['07700 900456', 'ada@example.com']) assert.match(inbox.body, new RegExp(to));
    const onlySms = await get(comms, '/console/messaging/inbox?channel=sms');
    assert.match(onlySms.body, /07700 900456/);
    assert.doesNotMatch(onlySms.body, /ada@example.com/);
    assert.match((await get(comms, '/console/messaging/inbox?channel=pigeon')).body, /filter has been ignored/);

    const smsPage = await get(comms, `/console/messaging/inbox/${smsId}`);
    assert.equal(smsPage.statusCode, 200);
    assert.match(smsPage.body, /class="weft-bubble">Hello Ada, your book is ready.</);
    assert.match(smsPage.body, /Development inbox/);
    const emailPage = await get(comms, `/console/messaging/inbox/${emailId}`);
    assert.match(emailPage.body, /Receipt for Ada/);
    assert.match(emailPage.body, new RegExp(`<iframe class="weft-email-frame" sandbox src="/console/messaging/notifications/${emailId}/email.html"`));
    const html = await get(comms, `/console/messaging/notifications/${emailId}/email.html`);
    assert.match(html.body, /Thank you, Ada\./);
    assert.match(String(html.headers['content-security-policy']), /sandbox/);
    const letterPage = await get(comms, `/console/messaging/inbox/${letterId}`);
    assert.match(letterPage.body, /Open the letter as a PDF/);
    const pdf = await get(comms, `/console/messaging/notifications/${letterId}/letter.pdf`);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.equal(pdf.rawPayload.subarray(0, 5).toString(), '%PDF-');
    assert.equal((await get(comms, `/console/messaging/notifications/${smsId}/letter.pdf`)).statusCode, 404);
    assert.equal((await get(comms, '/console/messaging/inbox/01900000-0000-7000-8000-000000000000')).statusCode, 404);

    const list = await get(comms, `/console/messaging/notifications?serviceId=${serviceId}&channel=email&status=delivered`);
    assert.match(list.body, /ada@example.com/);
    assert.doesNotMatch(list.body, /07700 900456/);
    assert.match((await get(comms, '/console/messaging/notifications?reference=ref-sms')).body, /07700 900456/);
    assert.doesNotMatch((await get(comms, '/console/messaging/notifications?status=failed')).body, /07700 900456/);
    assert.match((await get(comms, '/console/messaging/notifications?status=lost')).body, /Some of the filters were not valid/);
    const detail = await get(comms, `/console/messaging/notifications/${smsId}`);
    assert.match(detail.body, /Delivered/);
    assert.match(detail.body, /ref-sms/);
    assert.match(detail.body, /Reserved, version 1/);

    const overview = await get(comms, '/console/messaging');
    assert.match(overview.body, /<th scope="row" class="govuk-table__header">All channels<\/th>(\s*<td[^>]*>\d+<\/td>){5}\s*<td[^>]*>[1-9]\d*<\/td>/);
    assert.equal((await get(viewer, `/console/messaging/inbox/${smsId}`)).statusCode, 403);
  });

  test('delivery providers: errors first, settings per kind, the password never shown again, turned off and on', async () => {
    const choose = await get(admin, '/console/messaging/providers/new');
    assert.match(choose.body, /What does it send\?/);
    const empty = await post(admin, '/console/messaging/providers/new', { priority: '1' });
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(hrefs(empty.body), ['#channel', '#kind']);
    const mismatch = await get(admin, '/console/messaging/providers/new?channel=sms&kind=smtp');
    assert.equal(mismatch.statusCode, 400);
    assert.deepEqual(hrefs(mismatch.body), ['#kind']);
    assert.match(mismatch.body, /This kind of provider cannot send text messages/);
    const settings = await get(admin, '/console/messaging/providers/new?channel=email&kind=smtp');
    assert.equal(settings.statusCode, 200);
    assert.match(settings.body, /id="smtp-host"/);
    assert.match(settings.body, /id="smtp-port" name="smtp-port" type="text"[^>]*value="587"/);
    assert.doesNotMatch(settings.body, /pencePerPart/, 'a price is only asked of text message providers');
    const wrong = await post(admin, '/console/messaging/providers/new', {
      channel: 'email',
      kind: 'smtp',
      name: '',
      priority: '0',
      'smtp-host': '',
      'smtp-port': '99999',
      'smtp-password': 'hunter2-secret',
    });
    assert.equal(wrong.statusCode, 400);
    assert.deepEqual(hrefs(wrong.body), ['#name', '#smtp-host', '#smtp-port', '#priority']);
    assert.match(wrong.body, /Enter the server name/);
    assert.ok(!wrong.body.includes('hunter2-secret'), 'a secret is not written back into the page');
    assert.match(wrong.body, /Enter it again/);

    const ok = await post(admin, '/console/messaging/providers/new', {
      channel: 'email',
      kind: 'smtp',
      name: 'Council mail relay',
      priority: '1',
      'smtp-host': '127.0.0.1',
      'smtp-port': '2525',
      'smtp-user': 'weft',
      'smtp-password': 'hunter2-secret',
    });
    assert.equal(ok.statusCode, 303, ok.body.slice(0, 500));
    const [provider] = await t.services.messaging.listProviders();
    assert.deepEqual(provider.settings, { host: '127.0.0.1', port: 2525, secure: false, user: 'weft' });
    assert.equal(provider.hasSecrets, true);
    const page = await get(admin, String(ok.headers.location));
    assert.match(page.body, /Provider added/);
    assert.match(page.body, /Council mail relay/);
    assert.match(page.body, /secrets stored/);
    assert.match(page.body, /Nothing sent yet/);
    assert.ok(!page.body.includes('hunter2-secret'));

    const off = await post(admin, `/console/messaging/providers/${provider.id}/enabled`, { enabled: 'no' });
    assert.equal(off.statusCode, 303);
    assert.equal((await t.services.messaging.listProviders())[0].enabled, false);
    assert.match((await get(admin, String(off.headers.location))).body, /Provider turned off/);
    await post(admin, `/console/messaging/providers/${provider.id}/enabled`, { enabled: 'yes' });
    assert.equal((await t.services.messaging.listProviders())[0].enabled, true);
    assert.equal((await post(admin, '/console/messaging/providers/01900000-0000-7000-8000-000000000000/enabled', { enabled: 'no' })).statusCode, 404);

    const twilio = await get(admin, '/console/messaging/providers/new?channel=sms&kind=twilio');
    assert.match(twilio.body, new RegExp(`id="twilio-statusCallbackUrl"[^>]*value="${t.services.config.publicUrl}"`), 'Weft’s own address is offered for receipts');
    assert.match(twilio.body, new RegExp(`<option value="${serviceId}">Wealdmoor Libraries</option>`));
    assert.match(twilio.body, /id="pencePerPart"/);
    const twilioForm = { channel: 'sms', kind: 'twilio', name: 'Texts', priority: '1', 'twilio-accountSid': 'AC123', 'twilio-authToken': 'tok', pencePerPart: '2.5' };
    const badService = await post(admin, '/console/messaging/providers/new', { ...twilioForm, 'twilio-inboundServiceId': '01900000-0000-7000-8000-000000000000', pencePerPart: 'cheap' });
    assert.deepEqual(hrefs(badService.body), ['#twilio-inboundServiceId', '#pencePerPart']);
    const sms = await post(admin, '/console/messaging/providers/new', { ...twilioForm, 'twilio-inboundServiceId': serviceId });
    assert.equal(sms.statusCode, 303, sms.body.slice(0, 500));
    const texts = (await t.services.messaging.listProviders()).find((p) => p.name === 'Texts');
    assert.deepEqual(texts?.settings, { accountSid: 'AC123', inboundServiceId: serviceId, pencePerPart: 2.5 });
    const counted = await post(comms, `/console/messaging/services/${serviceId}/templates/new`, { type: 'sms', name: 'Priced', body: 'Hello', action: 'preview' });
    assert.match(counted.body, /Estimated cost 2\.5p a message, at 2\.5p a part\./, 'the provider’s price is used');
    await post(admin, `/console/messaging/providers/${texts?.id}/enabled`, { enabled: 'no' });
    const audit = await t.services.audit.search({ actorId: admin.userId, limit: 100 });
    // Removed again, so the rest of this file's messages go to the development inbox.
    for (const p of await t.services.messaging.listProviders()) await t.services.messaging.deleteProvider(systemActor('test'), p.id);
    assert.ok(audit.some((e) => e.action === 'messaging.provider_create'));
    assert.ok(audit.some((e) => e.action === 'messaging.provider_update'));
  });

  // ---------------------------------------------------------------- campaigns and the dashboard

  const upload = (b: Browser, fields: Record<string, string>, file?: { filename: string; content: string }) => {
    const { payload, contentType } = multipart({ ...fields, _csrf: b.csrf }, file ?? { filename: '', content: '' });
    return t.app.inject({ method: 'POST', url: '/console/messaging/campaigns/new', headers: { ...as(b), 'content-type': contentType }, payload });
  };
  const drain = async () => {
    for (;;) {
      const jobs = await t.services.jobs.runOnce();
      const sent = await t.services.delivery.runOnce();
      if (!jobs && !sent) return;
    }
  };
  const cells = (body: string, id: string) => {
    const table = new RegExp(`<table class="govuk-table" id="${id}">([\\s\\S]*?)</table>`).exec(body)?.[1] ?? '';
    return [...table.matchAll(/<tr class="govuk-table__row">([\s\S]*?)<\/tr>/g)]
      .slice(1)
      .map((row) => [...row[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1].replace(/<[^>]+>/g, '').trim()));
  };

  test('the campaign wizard: a service, a template, a bad file with its rows listed, then a good one, checked, sent now and followed to the end', async () => {
    const m = t.services.messaging;
    await m.createService(system, { name: 'Wealdmoor Museums' }); // two services or more: the wizard asks which
    const fine = await m.createTemplate(system, serviceId, { name: 'Fine reminder', type: 'sms', body: 'Hello ((name)), fine ((ref)) is due. Pay at https://example.gov.uk/pay' });
    assert.equal((await get(comms, '/console/messaging/campaigns')).statusCode, 200);
    assert.equal((await get(viewer, '/console/messaging/campaigns')).statusCode, 403);
    assert.equal((await get(viewer, '/console/messaging/campaigns/new')).statusCode, 403);

    const services = await get(comms, '/console/messaging/campaigns/new');
    assert.equal(services.statusCode, 200);
    assert.match(services.body, /Which service are the messages from\?/);
    const noService = await get(comms, '/console/messaging/campaigns/new?step=service');
    assert.equal(noService.statusCode, 400);
    assert.deepEqual(hrefs(noService.body), ['#serviceId']);
    const templates = await get(comms, `/console/messaging/campaigns/new?serviceId=${serviceId}&step=service`);
    assert.equal(templates.statusCode, 200);
    assert.match(templates.body, /Which template do you want to send\?/);
    assert.match(templates.body, new RegExp(`value="${fine.id}"`));
    const noTemplate = await get(comms, `/console/messaging/campaigns/new?serviceId=${serviceId}&step=template`);
    assert.equal(noTemplate.statusCode, 400);
    assert.deepEqual(hrefs(noTemplate.body), ['#templateId']);
    const form = await get(comms, `/console/messaging/campaigns/new?serviceId=${serviceId}&templateId=${fine.id}&step=template`);
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /enctype="multipart\/form-data"/);
    for (const column of ['phone number', 'name', 'ref']) assert.match(form.body, new RegExp(`<li><code>${column}</code></li>`));

    const empty = await upload(comms, { templateId: fine.id, name: '', ratePerMinute: 'fast' });
    assert.equal(empty.statusCode, 400);
    assert.deepEqual(hrefs(empty.body), ['#name', '#file', '#ratePerMinute']);

    const bad = ['phone number,name,ref', '07700900123,Sam,A1', '0770090,Jo,A2', '07700900124,,A3', 'not a number,Al,A4'].join('\n');
    const refused = await upload(comms, { templateId: fine.id, name: 'Fines for March' }, { filename: 'fines.csv', content: bad });
    assert.equal(refused.statusCode, 400);
    assert.deepEqual(hrefs(refused.body), ['#file']);
    assert.match(refused.body, /The file has 3 rows with a problem\. Nothing was saved/);
    assert.deepEqual(cells(refused.body, 'row-errors'), [
      ['3', 'phone number: Not enough digits'],
      ['4', 'name: Missing'],
      ['5', 'phone number: Must not contain letters or symbols'],
    ]);
    assert.match(refused.body, /value="Fines for March"/, 'the name is kept');
    const noColumn = await upload(comms, { templateId: fine.id, name: 'x' }, { filename: 'x.csv', content: 'phone number,name\n07700900123,Sam' });
    assert.equal(noColumn.statusCode, 400);
    assert.match(noColumn.body, /The file needs a column for ‘ref’/);
    assert.equal((await t.services.campaigns.list(serviceId)).length, 0, 'nothing saved');

    const good = ['phone number,name,ref', '07700900123,Sam,A1', '07700 900124,Jo,A2', '+447700900125,Al,A3'].join('\r\n');
    const checked = await upload(comms, { templateId: fine.id, name: 'Fines for March', ratePerMinute: '' }, { filename: 'fines.csv', content: good });
    assert.equal(checked.statusCode, 303, checked.body.slice(0, 500));
    const url = String(checked.headers.location);
    const draft = await get(comms, url);
    assert.equal(draft.statusCode, 200);
    assert.match(draft.body, /id="campaign-summary">3 text messages to 3 recipients, 1 text message part each, costing about 6p at 2p a part\.</);
    assert.match(draft.body, /class="weft-bubble">Hello Sam, fine A1 is due\./, 'the first row’s message');
    assert.match(draft.body, />\s*Not started\s*</);
    assert.equal((await m.findNotifications({ limit: 10 })).filter((n) => n.campaign_id).length, 0, 'a checked file sends nothing');

    const schedule = `${url}/start`;
    const noDate = await post(comms, schedule, { when: 'later' });
    assert.equal(noDate.statusCode, 400);
    assert.deepEqual(hrefs(noDate.body), ['#schedule-day', '#schedule-time']);
    const past = await post(comms, schedule, { when: 'later', 'schedule-day': '1', 'schedule-month': '1', 'schedule-year': '2020', 'schedule-time': '9am' });
    assert.match(past.body, /The date and time must be in the future/);
    const unreal = await post(comms, schedule, { when: 'later', 'schedule-day': '31', 'schedule-month': '2', 'schedule-year': '2030', 'schedule-time': '25:00' });
    assert.deepEqual(hrefs(unreal.body), ['#schedule-day', '#schedule-time']);
    assert.match(unreal.body, /The date must be a real date/);
    assert.match(unreal.body, /value="25:00"/, 'what was typed is kept');

    const started = await post(comms, schedule, { when: 'now' });
    assert.equal(started.statusCode, 303);
    assert.equal(started.headers.location, `${url}?saved=started`);
    const sending = await get(comms, String(started.headers.location));
    assert.match(sending.body, /Campaign started/);
    assert.match(sending.body, /id="campaign-progress" data-weft-refresh="2"/, 'followed while sending');
    assert.match(sending.body, /<svg class="weft-chart"/);
    assert.match(sending.body, />\s*Pause\s*</);
    assert.equal((await post(comms, schedule, { when: 'now' })).statusCode, 303, 'pressing Send again only shows the campaign');

    await drain();
    const done = await get(comms, url);
    assert.doesNotMatch(done.body, /data-weft-refresh/, 'no longer followed once every message is finished');
    assert.match(done.body, /3 of 3 messages finished \(100%\)/);
    assert.deepEqual(cells(done.body, 'campaign-counts'), [['0', '0', '3', '0', '0', '3']]);
    assert.match(done.body, />\s*Sent\s*</);
    assert.doesNotMatch(done.body, /Cancel campaign/, 'nothing left to cancel');
    const list = await get(comms, '/console/messaging/campaigns');
    assert.match(list.body, new RegExp(`href="${url}">Fines for March</a>`));
    const audit = await t.services.audit.search({ actorId: comms.userId, limit: 100 });
    for (const action of ['messaging.campaign_create', 'messaging.campaign_start'])
      assert.ok(
        audit.some((e) => e.action === action),
        action,
      );
    assert.ok(!audit.some((e) => e.action === 'http.write'), 'every change was audited by the service');
  });

  test('pause, resume and cancel by form; a campaign scheduled for a UK date and time', async () => {
    const m = t.services.messaging;
    const c = t.services.campaigns;
    const closure = await m.createTemplate(system, serviceId, { name: 'Closure', type: 'email', subject: 'The library is closed', body: 'Dear ((name)), the library is closed.' });
    const csv = ['email address,name', ...Array.from({ length: 5 }, (_, i) => `reader${i}@example.com,Reader ${i}`)].join('\n');
    const draft = await c.create(system, serviceId, { templateId: closure.id, name: 'Closure notice', csv });
    const url = `/console/messaging/campaigns/${draft.id}`;
    const check = await get(comms, url);
    assert.match(check.body, /5 emails to 5 recipients\./);
    assert.equal((await post(comms, `${url}/start`, { when: 'now' })).statusCode, 303);
    await t.services.jobs.runOnce(); // the rows become notifications; none is delivered yet

    const paused = await post(comms, `${url}/pause`, {});
    assert.equal(paused.headers.location, `${url}?saved=paused`);
    const held = await get(comms, String(paused.headers.location));
    assert.match(held.body, /Campaign paused/);
    assert.match(held.body, /Paused: 5 messages are held\./);
    assert.match(held.body, />\s*Resume\s*</);
    assert.doesNotMatch(held.body, /data-weft-refresh/);
    await drain();
    assert.equal((await c.get(draft.id)).progress.created, 5, 'nothing goes while paused');
    assert.equal((await post(comms, `${url}/pause`, {})).headers.location, url, 'pausing twice just shows the campaign');

    const resumed = await post(comms, `${url}/resume`, {});
    assert.equal(resumed.headers.location, `${url}?saved=resumed`);
    await t.services.campaigns.pause(system, draft.id);
    const confirm = await get(comms, `${url}/cancel`);
    assert.equal(confirm.statusCode, 200);
    assert.match(confirm.body, /Are you sure you want to cancel the campaign ‘Closure notice’\?/);
    assert.match(confirm.body, /5 messages have not been sent yet and will not be\./);
    const cancelled = await post(comms, `${url}/cancel`, {});
    assert.equal(cancelled.headers.location, `${url}?saved=cancelled`);
    const after = await get(comms, String(cancelled.headers.location));
    assert.match(after.body, /Campaign cancelled/);
    assert.deepEqual(cells(after.body, 'campaign-counts'), [['0', '0', '0', '0', '5', '5']]);
    assert.equal((await get(comms, `${url}/cancel`)).statusCode, 303, 'a cancelled campaign has nothing to confirm');
    const audit = await t.services.audit.search({ actorId: comms.userId, limit: 100 });
    for (const action of ['messaging.campaign_pause', 'messaging.campaign_resume', 'messaging.campaign_cancel'])
      assert.ok(
        audit.some((e) => e.action === action),
        action,
      );

    const later = await c.create(system, serviceId, { templateId: closure.id, name: 'Reopening', csv });
    const when = new Date(Date.now() + 3 * 86_400_000);
    const [day, month, year] = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'numeric', year: 'numeric' }).format(when).split('/');
    const scheduled = await post(comms, `/console/messaging/campaigns/${later.id}/start`, {
      when: 'later',
      'schedule-day': day,
      'schedule-month': month,
      'schedule-year': year,
      'schedule-time': '2:30pm',
    });
    assert.equal(scheduled.headers.location, `/console/messaging/campaigns/${later.id}?saved=scheduled`);
    const view = await c.get(later.id);
    assert.equal(view.status, 'scheduled');
    assert.equal(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(view.scheduledFor as Date), '14:30');
    const page = await get(comms, String(scheduled.headers.location));
    assert.match(page.body, /Scheduled to start at/);
    assert.match(page.body, /Cancel campaign/);
    assert.equal((await post(viewer, `/console/messaging/campaigns/${later.id}/cancel`, {})).statusCode, 403);

    const small = await m.createService(system, { name: 'Wealdmoor Archives', dailyLimit: 2 });
    const notice = await m.createTemplate(system, small.id, { name: 'Notice', type: 'email', subject: 'Notice', body: 'Dear ((name))' });
    const tooMany = await c.create(system, small.id, { templateId: notice.id, name: 'Too many', csv: ['email address,name', 'a@example.com,A', 'b@example.com,B', 'c@example.com,C'].join('\n') });
    const refused = await post(comms, `/console/messaging/campaigns/${tooMany.id}/start`, { when: 'now' });
    assert.equal(refused.statusCode, 400);
    assert.deepEqual(hrefs(refused.body), ['#send-now']);
    assert.match(refused.body, /would take Wealdmoor Archives past its daily limit of 2/);
    assert.equal((await c.get(tooMany.id)).status, 'draft');
  });

  test('the delivery dashboard: charts with tables whose numbers match the database, by service and period', async () => {
    const m = t.services.messaging;
    const other = await m.createService(system, { name: 'Wealdmoor Waste' });
    const binDay = await m.createTemplate(system, other.id, { name: 'Bin day', type: 'sms', body: 'Bins tomorrow' });
    const { secret } = splitApiKey((await m.createKey(system, other.id, { name: 'dash', keyType: 'normal' })).apiKey);
    for (let i = 0; i < 4; i++) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v2/notifications/sms',
        headers: { authorization: `Bearer ${signToken(other.id, secret)}` },
        payload: { template_id: binDay.id, phone_number: `0770090${1000 + i}` },
      });
      assert.equal(res.statusCode, 201, res.body);
    }
    await drain();
    // Some messages from earlier days: one 3 days ago, one 20 days ago (only in the 30-day view).
    const waste = await t.services.db.k.selectFrom('notifications').select('id').where('service_id', '=', other.id).orderBy('id').execute();
    await t.services.db.k
      .updateTable('notifications')
      .set({ created_at: new Date(Date.now() - 3 * 86_400_000) })
      .where('id', '=', waste[0].id)
      .execute();
    await t.services.db.k
      .updateTable('notifications')
      .set({ created_at: new Date(Date.now() - 20 * 86_400_000), status: 'permanent-failure' })
      .where('id', '=', waste[1].id)
      .execute();

    const dayOf = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short', day: 'numeric', month: 'short' });
    const group = (s: string) => (s === 'created' ? 0 : ['sending', 'pending', 'sent', 'accepted'].includes(s) ? 1 : ['delivered', 'received'].includes(s) ? 2 : s.endsWith('failure') ? 3 : 4);
    const expected = async (days: number, service?: string) => {
      // Noon UTC of the London date `days - 1` before today is on that date, whatever the clocks do.
      const [y, mo, d] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date()).split('-').map(Number);
      const since = startOfLondonDay(new Date(Date.UTC(y, mo - 1, d - (days - 1), 12)));
      let q = t.services.db.k.selectFrom('notifications').select(['created_at', 'type', 'status']).where('created_at', '>=', since);
      if (service) q = q.where('service_id', '=', service);
      const byDay = new Map<string, number[]>();
      for (const n of await q.execute()) {
        const row = byDay.get(dayOf.format(n.created_at)) ?? [0, 0, 0, 0, 0];
        row[group(n.status)]++;
        byDay.set(dayOf.format(n.created_at), row);
      }
      return byDay;
    };
    const check = async (path: string, days: number, service?: string) => {
      const page = await get(comms, path);
      assert.equal(page.statusCode, 200, page.body.slice(0, 300));
      assert.ok(!/ style="/.test(page.body), 'no inline style');
      const rows = cells(page.body, 'by-day-status-table');
      assert.equal(rows.length, days + 1, 'a row a day and the total');
      const want = await expected(days, service);
      for (const [label, ...numbers] of rows.slice(0, -1)) {
        const w = want.get(label) ?? [0, 0, 0, 0, 0];
        assert.deepEqual(numbers.map(Number), [...w, w.reduce((a, n) => a + n, 0)], `${path}: ${label}`);
      }
      const total = [...want.values()].flat().reduce((a, n) => a + n, 0);
      assert.equal(Number(rows[rows.length - 1].at(-1)), total);
      assert.equal(Number(cells(page.body, 'by-day-channel-table').at(-1)?.at(-1)), total);
      assert.equal(Number(cells(page.body, 'by-channel-status-table').at(-1)?.at(-1)), total);
      assert.match(page.body, new RegExp(`id="dashboard-total">${total} messages? `));
      return page;
    };
    const all = await check('/console/messaging/dashboard', 14);
    assert.match(all.body, /<svg class="weft-chart"[^>]*aria-labelledby="by-day-status-title"/);
    assert.match(all.body, /Messages by day and status in the last 14 days/);
    const one = await check(`/console/messaging/dashboard?serviceId=${other.id}&days=30`, 30, other.id);
    assert.match(one.body, /in the last 30 days from Wealdmoor Waste/);
    assert.deepEqual(
      cells(one.body, 'by-channel-status-table').find((r) => r[0] === 'Text message'),
      ['Text message', '0', '0', '3', '1', '0', '4'],
    );
    assert.match((await get(comms, '/console/messaging/dashboard?days=7&serviceId=nope')).body, /Some of the filters were not valid/);
    assert.equal((await get(viewer, '/console/messaging/dashboard')).statusCode, 403);
  });

  test('a big file: its parts and cost are estimated from the first 20,000 rows, in words with thousands separated', async () => {
    const sms = await t.services.messaging.createTemplate(system, serviceId, { name: 'Survey', type: 'sms', body: 'Hello ((name)), tell us what you think.' });
    const csv = ['phone number,name', ...Array.from({ length: 20_010 }, (_, i) => `07700${String(900000 + i).padStart(6, '0')},Resident ${i}`)].join('\n');
    const big = await t.services.campaigns.create(system, serviceId, { templateId: sms.id, name: 'Survey', csv });
    const page = await get(comms, `/console/messaging/campaigns/${big.id}`);
    assert.match(page.body, /20,010 text messages to 20,010 recipients, 1 text message part each, costing about £400\.20 at 2p a part\./);
    assert.match(page.body, /The parts and cost are worked out from the first 20,000 rows\./);
  });

  test('a time as people type it, and a London wall-clock time as an instant across the clock changes', () => {
    assert.deepEqual(parseTimeOfDay('14:30'), { hour: 14, minute: 30 });
    assert.deepEqual(parseTimeOfDay('9.05'), { hour: 9, minute: 5 });
    assert.deepEqual(parseTimeOfDay('2:30pm'), { hour: 14, minute: 30 });
    assert.deepEqual(parseTimeOfDay('12am'), { hour: 0, minute: 0 });
    assert.deepEqual(parseTimeOfDay('noon'), { hour: 12, minute: 0 });
    for (const bad of ['', '25:00', '9', '13pm', '9:60', 'soon']) assert.equal(parseTimeOfDay(bad), undefined, bad);
    assert.equal(londonInstant('2026-01-15', 9 * 60 + 30).toISOString(), '2026-01-15T09:30:00.000Z');
    assert.equal(londonInstant('2026-07-15', 9 * 60 + 30).toISOString(), '2026-07-15T08:30:00.000Z');
    assert.equal(londonInstant('2026-03-29', 1 * 60 + 30).toISOString(), '2026-03-29T01:30:00.000Z', 'a time the clocks skip is an hour later');
    assert.equal(londonInstant('2026-10-25', 1 * 60 + 30).toISOString(), '2026-10-25T01:30:00.000Z', 'a time that happens twice is the second');
    const days = lastDays(14, new Date('2026-04-05T12:00:00Z'));
    assert.equal(days.length, 14);
    assert.equal(days[0].toISOString(), '2026-03-23T00:00:00.000Z');
    assert.equal(days[13].toISOString(), '2026-04-04T23:00:00.000Z');
    const { errors } = scheduleFrom({ 'schedule-day': '3', 'schedule-month': '', 'schedule-year': '', 'schedule-time': '9am' }, new Date());
    assert.deepEqual(errors, [{ field: 'schedule-month', message: 'The date must include a month and a year' }]);
  });
});
