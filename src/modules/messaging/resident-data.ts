import type { ContactEntry, HeldData, ResidentKey } from '../residents/index.js';
import type { MessageServicesTable, NotificationsTable, OptOutsTable, ReceivedTextsTable } from './messaging.repository.js';
import type { PayLinksTable } from './payments.repository.js';

type PayLinksRow = Pick<PayLinksTable, 'id' | 'notification_id' | 'amount_pence' | 'reference' | 'description' | 'status' | 'paid_amount_pence' | 'paid_at' | 'created_at'>;

/**
 * What messaging holds about a resident, as their subject access export and contact history
 * show it. A confidential service's messages (sign-in links and codes) are listed without their
 * text. Pure: the service reads the rows.
 */

const CHANNELS: Record<string, string> = { email: 'email', sms: 'text message', voice: 'voice call', rcs: 'RCS message', letter: 'letter' };

/** The contact points messages may have gone to without naming the resident. */
export const contactsOf = (r: ResidentKey): string[] => [r.email, r.mobile].filter((c): c is string => !!c);

export function residentExport(rows: NotificationsTable[], payLinks: PayLinksRow[], texts: ReceivedTextsTable[], optOuts: OptOutsTable[], services: MessageServicesTable[]): HeldData {
  const names = new Map(services.map((s) => [s.id, s.name]));
  const confidential = new Set(services.filter((s) => s.is_confidential).map((s) => s.id));
  const notifications = rows.map((n) => {
    const withheld = confidential.has(n.service_id);
    return {
      id: n.id,
      createdAt: n.created_at,
      channel: n.type,
      from: names.get(n.service_id) ?? null,
      to: n.recipient,
      address: n.address_json,
      status: n.status,
      subject: withheld ? null : n.subject,
      text: withheld ? null : n.body,
      textWithheld: withheld,
      reference: n.reference,
      sentAt: n.sent_at,
      completedAt: n.completed_at,
      byPreference: !!n.resident_id,
      topic: n.topic,
    };
  });
  const counts = new Map<string, number>();
  for (const n of rows) counts.set(n.type, (counts.get(n.type) ?? 0) + 1);
  const byChannel = [...counts].map(([c, count]) => `${count} by ${CHANNELS[c] ?? c}`);
  const withheld = notifications.filter((n) => n.textWithheld).length;
  const summary = [
    `Messages sent to them: ${rows.length}${rows.length ? ` (${byChannel.join(', ')})` : ''}.${withheld ? ` ${withheld} carried a sign-in link or code: their text is left out.` : ''}`,
    `Payment links in those messages: ${payLinks.length}${payLinks.length ? `, ${payLinks.filter((p) => p.status === 'paid').length} paid` : ''}.`,
    `Text messages received from their mobile: ${texts.length}.`,
    `Their numbers that asked for no more texts (STOP): ${optOuts.length ? optOuts.map((o) => o.normalised_to).join(', ') : 'none'}.`,
  ];
  return {
    summary,
    notifications,
    payLinks: payLinks.map((p) => ({
      id: p.id,
      notificationId: p.notification_id,
      amountPence: p.amount_pence,
      reference: p.reference,
      description: p.description,
      status: p.status,
      paidPence: p.paid_amount_pence,
      paidAt: p.paid_at,
      createdAt: p.created_at,
    })),
    receivedTexts: texts.map((t) => ({ id: t.id, from: t.user_number, to: t.notify_number, text: t.content, receivedAt: t.created_at })),
    optOuts: optOuts.map((o) => ({ number: o.normalised_to, keyword: o.keyword, at: o.created_at })),
  };
}

/** Messages as contact history entries: the text is in `detail` (the page shows it only to staff who may read messages). */
export function historyEntries(rows: NotificationsTable[], services: MessageServicesTable[]): ContactEntry[] {
  const names = new Map(services.map((s) => [s.id, s.name]));
  const confidential = new Set(services.filter((s) => s.is_confidential).map((s) => s.id));
  return rows.map((n) => {
    const channel = CHANNELS[n.type] ?? n.type;
    return {
      at: n.created_at,
      kind: 'message',
      title: `${channel[0].toUpperCase()}${channel.slice(1)} from ${names.get(n.service_id) ?? 'a messaging service'}`,
      detail: confidential.has(n.service_id) ? null : (n.subject ?? n.body).slice(0, 200),
      status: n.status,
      href: `/console/messaging/notifications/${n.id}`,
    };
  });
}
