/**
 * Library reservations: the library system posts "ready to collect" by card number with its key;
 * the borrower is told on the channel they prefer for library reservations, in their language;
 * the same event posted again sends nothing more; an unknown card is refused. Cards are linked
 * to residents by staff (audited), and a card is one resident's.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { systemActor } from '../../../src/platform/auth/actor.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { forEachDialect } from '../../helpers.js';

const system = systemActor('test');

forEachDialect('library reservations', (dialect) => {
  let t: TestApp;
  let library: string;
  let staff: string;
  let outsider: string;
  const people: Record<string, string> = {};
  const call = (key: string, method: string, url: string, payload?: unknown) => t.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}` }, payload: payload as object });
  const ready = (body: object) => call(library, 'POST', '/api/v1/libraries/events/reservation-ready', { title: 'Middlemarch', branch: 'Northtown Library', collectBy: '2027-01-09', ...body });

  before(async () => {
    t = await testApp(dialect);
    library = await t.key(['libraries:events']);
    staff = await t.key(['residents:read', 'residents:manage']);
    outsider = await t.key(['residents:read']);
    const r = t.services.residents;
    people.welsh = (await r.create(system, { name: 'Gwen', mobile: '07700900501', email: 'gwen@example.com', language: 'cy', preferences: { 'library-reservations': ['sms', 'email'] } })).id;
    people.email = (await r.create(system, { name: 'Sam', email: 'sam@example.com' })).id;
  });

  test('staff link cards to residents (audited); a card is one resident’s', async () => {
    const linked = await call(staff, 'POST', `/api/v1/residents/${people.welsh}/library-cards`, { cardNumber: 'l1234-5678' });
    assert.equal(linked.statusCode, 201, linked.body);
    assert.deepEqual(linked.json().cards, ['L12345678']);
    assert.equal((await call(staff, 'POST', `/api/v1/residents/${people.email}/library-cards`, { cardNumber: 'L1234 5678' })).json().code, 'LIBRARY_CARD_TAKEN');
    assert.equal((await call(staff, 'POST', `/api/v1/residents/${people.email}/library-cards`, { cardNumber: 'L999' + '0001' })).statusCode, 201);
    assert.equal((await call(outsider, 'POST', `/api/v1/residents/${people.email}/library-cards`, { cardNumber: 'L77777777' })).statusCode, 403);
    assert.deepEqual((await call(outsider, 'GET', `/api/v1/residents/${people.email}/library-cards`)).json().cards, ['L9990001']);
    const audit = await t.services.audit.search({ action: 'libraries.card_link', limit: 10 });
    assert.equal(audit.length, 2);
  });

  test('a reservation ready reaches the borrower on their channel, in their language; posted again, nothing more is sent', async () => {
    const first = await ready({ eventId: 'evt-1', cardNumber: 'L1234-5678' });
    assert.equal(first.statusCode, 201, first.body);
    assert.deepEqual([first.json().channel, first.json().duplicate], ['sms', false]);
    const row = await t.services.messaging.getNotification((await t.services.messaging.listServices()).find((s) => s.name === 'Libraries')?.id as string, first.json().notificationId);
    assert.equal(row?.language, 'cy');
    assert.match(row?.body ?? '', /^Mae'r eitem a gadwyd gennych, Middlemarch, yn barod i'w chasglu o Northtown Library\. Casglwch hi erbyn 9 Ionawr 2027\./);
    assert.deepEqual(
      row?.fallback_json?.map((s) => s.channel),
      ['email'],
    );
    const again = await ready({ eventId: 'evt-1', cardNumber: 'L1234-5678' });
    assert.equal(again.statusCode, 200);
    assert.deepEqual([again.json().duplicate, again.json().notificationId], [true, first.json().notificationId]);
    const sent = await t.services.db.k.selectFrom('notifications').select('id').where('reference', '=', 'evt-1').execute();
    assert.equal(sent.length, 1, 'one message for one event');
    const english = await ready({ eventId: 'evt-2', cardNumber: 'L9990001', title: 'Persuasion' });
    assert.equal(english.json().channel, 'email');
  });

  test('an unknown card or a bad date is refused and sends nothing; only the library system’s key may post', async () => {
    const unknown = await ready({ eventId: 'evt-3', cardNumber: 'L00000000' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().code, 'LIBRARY_CARD_NOT_FOUND');
    const badDate = await ready({ eventId: 'evt-4', cardNumber: 'L12345678', collectBy: '2027-02-30' });
    assert.equal(badDate.json().code, 'LIBRARY_EVENT_INVALID');
    assert.equal(
      (await call(staff, 'POST', '/api/v1/libraries/events/reservation-ready', { eventId: 'x', cardNumber: 'L12345678', title: 't', branch: 'b', collectBy: '2027-01-01' })).statusCode,
      403,
    );
    // The refused event can be posted again once the card is linked.
    await call(staff, 'POST', `/api/v1/residents/${people.email}/library-cards`, { cardNumber: 'L00000000' });
    assert.equal((await ready({ eventId: 'evt-3', cardNumber: 'L00000000' })).statusCode, 201);
  });
});
