import type { NotificationsTable, ReceivedTextsTable, TemplateRow } from './messaging.repository.js';
import { placeholders } from './render/index.js';

/** Notify's datetime format: UTC with six fractional digits, e.g. 2024-05-17T15:58:38.342000Z. */
export function notifyTime(d: Date | null | undefined): string | null {
  return d ? d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') : null;
}

/** Letters show Notify's letter statuses: created and sending are "accepted", delivered is "received". */
export function publicStatus(n: Pick<NotificationsTable, 'type' | 'status'>): string {
  if (n.type !== 'letter') return n.status;
  if (n.status === 'created' || n.status === 'sending') return 'accepted';
  if (n.status === 'delivered') return 'received';
  return n.status;
}

/** The stored statuses a `status=` filter value means. */
export function statusesFor(filter: string, type?: string): string[] {
  switch (filter) {
    case 'failed':
      return ['technical-failure', 'temporary-failure', 'permanent-failure'];
    case 'accepted':
      return ['created', 'sending', 'accepted'];
    case 'received':
      return ['delivered', 'received'];
    default:
      return type === 'letter' && filter === 'created' ? ['created'] : [filter];
  }
}

const LINES = ['line_1', 'line_2', 'line_3', 'line_4', 'line_5', 'line_6'];

/** GET /v2/notifications/{id}: every key always present, as Notify returns it. */
export function notificationBody(n: NotificationsTable, base: string) {
  const p = lowerKeys(n.personalisation_json);
  const letter = n.type === 'letter';
  // Sent to a resident by id: the sender never gave the contact details, and is not shown them.
  const shown = !n.resident_id;
  const body: Record<string, unknown> = {
    id: n.id,
    reference: n.reference,
    email_address: shown && n.type === 'email' ? n.recipient : null,
    phone_number: shown && (n.type === 'sms' || n.type === 'voice' || n.type === 'rcs') ? n.recipient : null,
    ...Object.fromEntries(LINES.map((l, i) => [l, shown && letter ? str(p[`address_line_${i + 1}`]) : null])),
    postcode: shown && letter ? str(p.postcode) : null,
    type: n.type,
    status: publicStatus(n),
    template: { id: n.template_id, version: n.template_version, uri: `${base}/v2/template/${n.template_id}/version/${n.template_version}` },
    body: n.body,
    subject: n.subject,
    created_at: notifyTime(n.created_at),
    created_by_name: n.created_by_name,
    sent_at: notifyTime(n.sent_at),
    completed_at: notifyTime(n.completed_at),
    scheduled_for: notifyTime(n.scheduled_for_at),
    postage: n.postage,
    one_click_unsubscribe_url: n.unsubscribe_url,
    is_cost_data_ready: true,
    cost_in_pounds: 0,
    cost_details:
      n.type === 'sms' ? { billable_sms_fragments: n.billable_units, international_rate_multiplier: 1, sms_rate: 0 } : letter ? { billable_sheets_of_paper: n.billable_units, postage: n.postage } : {},
  };
  if (letter) body.estimated_delivery = notifyTime(new Date(n.created_at.getTime() + 3 * 86_400_000));
  return body;
}

/** The 201 answer to a send. */
export function createdBody(n: NotificationsTable, base: string, extra: { fromEmail?: string; fromNumber?: string }) {
  const content: Record<string, unknown> =
    n.type === 'email'
      ? { from_email: extra.fromEmail, body: n.body, subject: n.subject, one_click_unsubscribe_url: n.unsubscribe_url }
      : n.type === 'letter'
        ? { body: n.body, subject: n.subject }
        : { body: n.body, from_number: extra.fromNumber ?? null };
  return {
    id: n.id,
    reference: n.reference,
    content,
    uri: `${base}/v2/notifications/${n.id}`,
    template: { id: n.template_id, version: n.template_version, uri: `${base}/services/${n.service_id}/templates/${n.template_id}` },
    scheduled_for: notifyTime(n.scheduled_for_at),
    ...(n.type === 'letter' ? { postage: n.postage } : {}),
  };
}

/** A template as Notify's /v2/template endpoints show it. */
export function templateBody(t: TemplateRow) {
  const names = placeholders([t.subject ?? '', t.body]);
  return {
    id: t.id,
    type: t.type,
    created_at: notifyTime(t.created_at),
    updated_at: t.version > 1 ? notifyTime(t.version_created_at) : null,
    created_by: t.created_by,
    version: t.version,
    body: t.body,
    subject: t.type === 'email' || t.type === 'letter' ? t.subject : null,
    name: t.name,
    personalisation: Object.fromEntries(names.map((name) => [name, { required: true }])),
    postage: t.type === 'letter' ? (t.options_json.postage ?? 'second') : null,
    letter_contact_block: null,
  };
}

export function receivedTextBody(r: ReceivedTextsTable) {
  return { id: r.id, created_at: notifyTime(r.created_at), service_id: r.service_id, notify_number: r.notify_number, user_number: r.user_number, content: r.content };
}

function lowerKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o ?? {}).map(([k, v]) => [k.toLowerCase().replace(/\s/g, ''), v]));
}

const str = (v: unknown) => (v === undefined || v === null ? null : String(v));
