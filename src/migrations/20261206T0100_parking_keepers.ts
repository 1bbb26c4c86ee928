import type { Kysely } from 'kysely';
import { checkEmail, checkPhone } from '../modules/messaging/recipients.js';

/**
 * Keepers' contact points on penalty charge notices are stored normalised from now on (mobiles
 * 447…, emails lower case), as residents' are, so a resident's notices are found by equality for
 * subject access and erasure; the notices stored as typed are normalised here, in JavaScript with
 * messaging's own checks, so both dialects get the same forms. Partial indexes on each (most
 * notices have a mobile or an email, not both) keep those look-ups off a scan of the table.
 * `down` drops the indexes; the numbers stay normalised (a form sending takes just as well).
 */
const PAGE = 1000;

export async function up(db: Kysely<any>): Promise<void> {
  // SQLite migrates outside a transaction: a run cut short leaves the indexes, so they are made only
  // if missing, and normalising again changes nothing. The indexes first: built after this transaction's updates, PostgreSQL could not use them until
  // every transaction older than this one had ended (the updates would be broken HOT chains to them).
  await db.schema.createIndex('parking_notices_mobile').ifNotExists().on('parking_notices').column('mobile').where('mobile', 'is not', null).execute();
  await db.schema.createIndex('parking_notices_email').ifNotExists().on('parking_notices').column('email').where('email', 'is not', null).execute();
  let after: string | undefined;
  for (;;) {
    let page = db.selectFrom('parking_notices').select(['id', 'mobile', 'email']).orderBy('id').limit(PAGE);
    if (after) page = page.where('id', '>', after);
    const rows: { id: string; mobile: string | null; email: string | null }[] = await page.execute();
    for (const r of rows) {
      const mobile = normalised(r.mobile, checkPhone);
      const email = normalised(r.email, checkEmail);
      if (mobile !== r.mobile || email !== r.email) await db.updateTable('parking_notices').set({ mobile, email }).where('id', '=', r.id).execute();
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1].id;
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('parking_notices_email').execute();
  await db.schema.dropIndex('parking_notices_mobile').execute();
}

/** The normalised form; a value the check refuses (none should be: uploads were checked) is left as it is. */
function normalised(value: string | null, check: typeof checkPhone | typeof checkEmail): string | null {
  if (!value) return value;
  const c = check(value);
  return c.ok ? c.normalised : value;
}
