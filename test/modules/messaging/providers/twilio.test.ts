/**
 * The Twilio-compatible provider against a local server speaking Twilio's REST API (peers/twilio.ts):
 * texts, calls and RCS sent, errors classified for failover, a lost answer reconciled by listing
 * messages, status callbacks and keypresses signed with X-Twilio-Signature, and incoming texts
 * (replies, STOP, START) that change who may be sent to.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { systemActor } from '../../../../src/platform/auth/actor.js';
import { twilioProvider } from '../../../../src/modules/messaging/providers/index.js';
import { type TwilioProvider, twilioSignature, validTwilioSignature } from '../../../../src/modules/messaging/providers/twilio.js';
import type { TestApp } from '../../../app-helpers.js';
import { forEachDialect } from '../../../helpers.js';
import { sendingService } from '../sending-service.js';
import { signTwilio, type TwilioPeer, twilioPeer } from '../peers/twilio.js';

const admin = systemActor('test');

test('the signature recipe gives Twilio’s published example, with and without the default port', () => {
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  assert.equal(twilioSignature('12345', url, params), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  assert.equal(signTwilio('12345', url, params), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
  assert.ok(validTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, params));
  assert.ok(validTwilioSignature('12345', signTwilio('12345', 'https://mycompany.com:443/myapp.php?foo=1&bar=2', params), url, params));
  assert.ok(!validTwilioSignature('12345', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, { ...params, Digits: '9999' }));
  assert.ok(!validTwilioSignature('54321', 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', url, params));
  assert.ok(!validTwilioSignature('12345', undefined, url, params));
});

forEachDialect('the Twilio-compatible provider', (dialect) => {
  let t: TestApp;
  let base: string;
  let primary: TwilioPeer;
  let backup: TwilioPeer;
  let serviceId: string;
  let token: () => string;
  const ids: Record<string, string> = {};

  before(async () => {
    ({ t, base, serviceId, token } = await sendingService(dialect, { name: 'Bins and recycling', smsSender: 'WEALDMOOR' }));
    primary = await twilioPeer();
    backup = await twilioPeer();
    const m = t.services.messaging;
    ids.sms = (await m.createTemplate(admin, serviceId, { name: 'Collection', type: 'sms', body: 'Your ((bin)) bin is collected tomorrow.' })).id;
    ids.voice = (
      await m.createTemplate(admin, serviceId, {
        name: 'Appointment call',
        type: 'voice',
        body: 'Your bulky waste collection is on ((day)).',
        menu: [
          { key: '1', label: 'confirm the collection' },
          { key: '2', label: 'cancel it' },
        ],
      })
    ).id;
    ids.rcs = (await m.createTemplate(admin, serviceId, { name: 'Rich reminder', type: 'rcs', body: 'Your ((bin)) bin goes out tonight.', suggestions: ['Thanks'] })).id;
    const common = (peer: TwilioPeer) => ({ baseUrl: peer.url, accountSid: peer.accountSid, statusCallbackUrl: base, inboundServiceId: serviceId, timeoutMs: 500 });
    ids.primary = (await m.createProvider(admin, { channel: 'sms', kind: 'twilio', name: 'Twilio', priority: 1, settings: common(primary), secrets: { authToken: primary.authToken } })).id;
    ids.backup = (await m.createProvider(admin, { channel: 'sms', kind: 'twilio', name: 'Twilio backup', priority: 2, settings: common(backup), secrets: { authToken: backup.authToken } })).id;
    ids.voiceProvider = (
      await m.createProvider(admin, { channel: 'voice', kind: 'twilio', name: 'Twilio voice', settings: { ...common(primary), from: '+447700900999' }, secrets: { authToken: primary.authToken } })
    ).id;
    ids.rcsProvider = (
      await m.createProvider(admin, {
        channel: 'rcs',
        kind: 'twilio',
        name: 'Twilio RCS',
        settings: { ...common(primary), messagingServiceSid: 'MG0123456789abcdef0123456789abcdef' },
        secrets: { authToken: primary.authToken },
      })
    ).id;
  });
  after(async () => {
    await primary.close();
    await backup.close();
  });

  async function send(channel: 'sms' | 'voice' | 'rcs', phone: string, personalisation: Record<string, string>) {
    return t.app.inject({
      method: 'POST',
      url: `/v2/notifications/${channel}`,
      headers: { authorization: `Bearer ${token()}` },
      payload: { template_id: ids[channel], phone_number: phone, personalisation },
    });
  }
  async function sent(channel: 'sms' | 'voice' | 'rcs', phone: string, personalisation: Record<string, string>): Promise<string> {
    const res = await send(channel, phone, personalisation);
    assert.equal(res.statusCode, 201, res.body);
    while ((await t.services.delivery.runOnce()) > 0);
    return res.json().id;
  }
  const row = async (id: string) => (await t.services.messaging.getNotification(serviceId, id))!;
  const hook = (providerId: string, name: string) => `${base}/api/v1/messaging/providers/${providerId}/twilio/${name}`;

  test('a text goes to Messages.json with basic auth, the number in E.164, the service’s sender and a status callback', async () => {
    const id = await sent('sms', '07700 900123', { bin: 'green' });
    const m = primary.messages.find((x) => x.to === '+447700900123');
    assert.ok(m, 'the peer has the message');
    assert.equal(m.body, 'Your green bin is collected tomorrow.');
    assert.equal(m.from, 'WEALDMOOR');
    assert.equal(m.statusCallback, `${hook(ids.primary, 'status')}?n=${id}`);
    const n = await row(id);
    assert.equal(n.status, 'sending');
    assert.equal(n.provider, 'Twilio');
    assert.equal(n.provider_ref, m.sid);
    assert.equal(backup.messages.length, 0);
  });

  test('signed status callbacks move it to pending, then delivered with completed_at; a late “sent” does not take it back', async () => {
    const id = await sent('sms', '07700 900124', { bin: 'blue' });
    const m = primary.messages.find((x) => x.to === '+447700900124')!;
    assert.equal((await primary.messageStatus(m.sid, 'sent')).status, 204);
    assert.equal((await row(id)).status, 'pending');
    assert.equal((await primary.messageStatus(m.sid, 'delivered')).status, 204);
    const done = await row(id);
    assert.equal(done.status, 'delivered');
    assert.ok(done.completed_at instanceof Date);
    assert.equal((await primary.messageStatus(m.sid, 'sent')).status, 204);
    assert.equal((await row(id)).status, 'delivered');
  });

  test('undelivered with error 30005 is a permanent failure, with 30003 a temporary one, each with the reason', async () => {
    const gone = await sent('sms', '07700 900125', { bin: 'brown' });
    const off = await sent('sms', '07700 900126', { bin: 'brown' });
    await primary.messageStatus(primary.messages.find((x) => x.to === '+447700900125')!.sid, 'undelivered', 30005);
    await primary.messageStatus(primary.messages.find((x) => x.to === '+447700900126')!.sid, 'undelivered', 30003);
    const g = await row(gone);
    assert.equal(g.status, 'permanent-failure');
    assert.match(String(g.status_reason), /30005.*no longer in service/);
    const o = await row(off);
    assert.equal(o.status, 'temporary-failure');
    assert.match(String(o.status_reason), /switched off/);
  });

  test('a status callback not signed with the provider’s auth token is refused with PROVIDER_SIGNATURE_INVALID and changes nothing', async () => {
    const id = await sent('sms', '07700 900127', { bin: 'green' });
    const m = primary.messages.find((x) => x.to === '+447700900127')!;
    const forged = await primary.messageStatus(m.sid, 'delivered', undefined, { signWith: 'not-the-token' });
    assert.equal(forged.status, 403);
    assert.equal((await forged.json()).code, 'PROVIDER_SIGNATURE_INVALID');
    const unsigned = await fetch(`${hook(ids.primary, 'status')}?n=${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `MessageSid=${m.sid}&MessageStatus=delivered`,
    });
    assert.equal(unsigned.status, 403);
    assert.equal((await row(id)).status, 'sending');
  });

  test('a number Twilio calls invalid (21211) is a permanent failure and is not tried on the backup', async () => {
    primary.script.push({ status: 400, code: 21211, message: "Invalid 'To' Phone Number: +447700900128" });
    const id = await sent('sms', '07700 900128', { bin: 'green' });
    const n = await row(id);
    assert.equal(n.status, 'permanent-failure');
    assert.match(String(n.status_reason), /Twilio error 21211/);
    assert.equal(backup.messages.filter((x) => x.to === '+447700900128').length, 0);
  });

  test('a server error, a rate limit and a refused login each pass the text to the backup, once', async () => {
    const cases = [
      { status: 500, code: 20500, message: 'Internal Server Error', to: '129' },
      { status: 429, code: 20429, message: 'Too Many Requests', to: '130' },
      { status: 401, code: 20003, message: 'Authenticate', to: '131' },
    ];
    for (const c of cases) {
      primary.script.push({ status: c.status, code: c.code, message: c.message });
      const id = await sent('sms', `07700 900${c.to}`, { bin: 'green' });
      const n = await row(id);
      assert.equal(n.provider, 'Twilio backup', `${c.status} should fail over`);
      assert.equal(n.status, 'sending');
      assert.equal(backup.messages.filter((x) => x.to === `+447700900${c.to}`).length, 1);
    }
    const health = [...t.services.delivery.health.values()].find((h) => h.name === 'Twilio');
    assert.match(String(health?.lastError), /Twilio error 20003/);
  });

  test('when Twilio’s answer is lost (a timeout after it took the text), the text is found by listing messages and not sent again', async () => {
    primary.script.push({ hangMs: 1500 });
    const id = await sent('sms', '07700 900132', { bin: 'purple' });
    const taken = primary.messages.filter((x) => x.to === '+447700900132');
    assert.equal(taken.length, 1, 'Twilio took it once');
    assert.equal(backup.messages.filter((x) => x.to === '+447700900132').length, 0, 'the backup was not asked');
    const n = await row(id);
    assert.equal(n.status, 'sending');
    assert.equal(n.provider_ref, taken[0].sid);
    assert.ok(
      primary.requests.some((r) => r.startsWith('GET ') && r.includes('To=%2B447700900132')),
      'lookup listed messages to the number',
    );
  });

  test('lookup by a process that did not send the text needs the text itself (README-providers.md): with it, the message is matched', async () => {
    const id = await sent('sms', '07700 900133', { bin: 'grey' });
    const providerRow = (await t.services.messaging.repo.listProviders()).find((p) => p.id === ids.primary)!;
    const fresh = twilioProvider(providerRow, { authToken: primary.authToken }) as TwilioProvider;
    await assert.rejects(fresh.lookup!(id), /Twilio cannot be asked about a message by Weft’s id alone/);
    const found = await fresh.lookup!(id, { id, channel: 'sms', to: '447700900133', from: 'WEALDMOOR', text: 'Your grey bin is collected tomorrow.' });
    assert.equal(found?.reference, primary.messages.find((x) => x.to === '+447700900133')!.sid);
    assert.equal(await fresh.lookup!(id, { id, channel: 'sms', to: '447700900133', from: 'WEALDMOOR', text: 'Some other text' }), undefined);
  });

  test('a call reads the message and its menu inside a one-key Gather; the key pressed is kept; the finished call is delivered', async () => {
    const id = await sent('voice', '07700 900140', { day: 'Tuesday' });
    const call = primary.calls.find((c) => c.to === '+447700900140');
    assert.ok(call, 'the peer was asked to call');
    assert.equal(call.from, '+447700900999');
    assert.match(call.twiml, /^<\?xml version="1\.0" encoding="UTF-8"\?><Response><Gather input="dtmf" numDigits="1" timeout="8" action="[^"]+" method="POST"><Say language="en-GB">/);
    assert.match(call.twiml, /Your bulky waste collection is on Tuesday\. Press 1 to confirm the collection\. Press 2 to cancel it\./);
    assert.ok(call.twiml.includes(`action="${hook(ids.voiceProvider, 'gather')}?n=${id}"`));
    assert.equal((await row(id)).provider_ref, call.sid);

    const wrong = await primary.press(call.sid, '7');
    assert.equal(wrong.status, 200);
    assert.match(wrong.headers.get('content-type') ?? '', /text\/xml/);
    const again = await wrong.text();
    assert.match(again, /Sorry, that key is not one of the choices\. Press 1 to confirm the collection/);
    assert.match(again, /<Gather /);

    const chosen = await primary.press(call.sid, '1');
    assert.match(await chosen.text(), /Thank you\. You chose: confirm the collection\. Goodbye\.<\/Say><Hangup\/>/);
    assert.equal((await row(id)).status_reason, 'Pressed 1: confirm the collection');

    const forged = await primary.press(call.sid, '2', { signWith: 'wrong' });
    assert.equal(forged.status, 403);
    assert.equal((await row(id)).status_reason, 'Pressed 1: confirm the collection');

    assert.equal((await primary.callStatus(call.sid, 'completed')).status, 204);
    const done = await row(id);
    assert.equal(done.status, 'delivered');
    assert.equal(done.status_reason, 'Pressed 1: confirm the collection', 'the keypress stays');
  });

  test('a busy line is a temporary failure; a number that cannot be called is a permanent one', async () => {
    const busy = await sent('voice', '07700 900141', { day: 'Monday' });
    const nope = await sent('voice', '07700 900142', { day: 'Monday' });
    await primary.callStatus(primary.calls.find((c) => c.to === '+447700900141')!.sid, 'busy');
    await primary.callStatus(primary.calls.find((c) => c.to === '+447700900142')!.sid, 'failed');
    assert.equal((await row(busy)).status, 'temporary-failure');
    assert.equal((await row(busy)).status_reason, 'The line was busy');
    assert.equal((await row(nope)).status, 'permanent-failure');
  });

  test('RCS goes through the Messaging Service (Twilio sends RCS, or SMS where the phone has no RCS)', async () => {
    const id = await sent('rcs', '07700 900150', { bin: 'green' });
    const m = primary.messages.find((x) => x.to === '+447700900150')!;
    assert.equal(m.messaging_service_sid, 'MG0123456789abcdef0123456789abcdef');
    assert.equal(m.from, null);
    assert.equal(m.body, 'Your green bin goes out tonight.');
    assert.equal((await row(id)).status, 'sending');
  });

  test('a reply is kept for the service; STOP opts the number out (audited) and a send to it is refused with the reason; START opts it back in', async () => {
    const inbound = hook(ids.primary, 'inbound');
    const reply = await primary.inbound(inbound, { From: '+447700900160', To: '+447700900999', Body: 'Which day is recycling?' });
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type') ?? '', /text\/xml/);
    assert.equal(await reply.text(), '<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    const texts = await t.app.inject({ url: '/v2/received-text-messages', headers: { authorization: `Bearer ${token()}` } });
    const got = texts.json().received_text_messages.find((r: { user_number: string }) => r.user_number === '447700900160');
    assert.equal(got.content, 'Which day is recycling?');
    assert.equal(got.notify_number, '+447700900999');

    assert.equal((await send('sms', '07700 900160', { bin: 'green' })).statusCode, 201);
    await primary.inbound(inbound, { From: '+447700900160', To: '+447700900999', Body: ' Stop. ' });
    const refused = await send('sms', '07700 900160', { bin: 'green' });
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().errors[0].error, 'BadRequestError');
    assert.match(refused.json().errors[0].message, /opted out.*replied STOP/);
    const voice = await send('voice', '07700900160', { day: 'Friday' });
    assert.equal(voice.statusCode, 400, 'calls to the number are refused too');
    const audit = await t.services.audit.search({ action: 'messaging.opt_out', limit: 10 });
    assert.ok(audit.some((e) => /ending 160 replied STOP/.test(e.summary)));

    await primary.inbound(inbound, { From: '+447700900160', To: '+447700900999', Body: 'start' });
    assert.equal((await send('sms', '07700 900160', { bin: 'green' })).statusCode, 201);

    await primary.inbound(inbound, { From: '+447700900161', To: '+447700900999', Body: 'STOPIO' });
    assert.equal((await send('sms', '07700 900161', { bin: 'green' })).statusCode, 400, 'Welsh STOPIO opts out too');
  });

  test('an incoming text not signed by the provider is refused and changes nothing', async () => {
    const res = await primary.inbound(hook(ids.primary, 'inbound'), { From: '+447700900170', To: '+447700900999', Body: 'STOP' }, { signWith: 'forged' });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).code, 'PROVIDER_SIGNATURE_INVALID');
    assert.equal((await send('sms', '07700 900170', { bin: 'green' })).statusCode, 201);
  });
});
