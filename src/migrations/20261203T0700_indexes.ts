import type { Kysely } from 'kysely';

/**
 * Providers are found by name (receipts, reconciliation, print batches): names are unique. A
 * notification is followed by at most one fallback: the next channel is sent once, however many
 * times its failure is reported. And the notifications indexes on columns most rows leave empty
 * (reference, provider's reference, campaign, resident, fallback) become partial: a campaign of a
 * million writes a million rows, not nine million index entries.
 */
const PARTIAL: [name: string, columns: string[], column: string, unique?: boolean][] = [
  ['notifications_reference', ['service_id', 'reference'], 'reference'],
  ['notifications_provider_ref', ['provider', 'provider_ref'], 'provider_ref'],
  ['notifications_campaign', ['campaign_id', 'row_number'], 'campaign_id', true],
  ['notifications_resident', ['resident_id', 'created_at'], 'resident_id'],
];

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('message_providers_name').on('message_providers').column('name').unique().execute();
  for (const [name, columns, column, unique] of PARTIAL) {
    await db.schema.dropIndex(name).execute();
    let index = db.schema.createIndex(name).on('notifications').columns(columns).where(column, 'is not', null);
    if (unique) index = index.unique();
    await index.execute();
  }
  await db.schema.createIndex('notifications_fallback_of').on('notifications').column('fallback_of').unique().where('fallback_of', 'is not', null).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('notifications_fallback_of').execute();
  for (const [name, columns, , unique] of PARTIAL) {
    await db.schema.dropIndex(name).execute();
    let index = db.schema.createIndex(name).on('notifications').columns(columns);
    if (unique) index = index.unique();
    await index.execute();
  }
  await db.schema.dropIndex('message_providers_name').execute();
}
