import type { Kysely } from 'kysely';

/**
 * A notification sent to a resident by preference remembers its topic (bin-collections,
 * school-closures, …), so withdrawing consent to the topic can cancel what is still waiting and
 * stop its fallback. Empty for everything else. No index of its own: a resident's waiting
 * messages are found through `notifications_resident` (resident_id, created_at), a few rows each.
 * `cancel_reason`: one being handed to a provider when its consent ended may still go, but if the
 * provider asks for a retry it is cancelled then, with this reason, instead of going again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications').addColumn('topic', 'text').execute();
  await db.schema.alterTable('notifications').addColumn('cancel_reason', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('notifications').dropColumn('cancel_reason').execute();
  await db.schema.alterTable('notifications').dropColumn('topic').execute();
}
