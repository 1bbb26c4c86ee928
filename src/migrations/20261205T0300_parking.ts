import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Parking fines: a batch is one uploaded file of penalty charge notices; each notice is sent to
 * its keeper once, with a pay link (messaging's pay links hold the payment, clicks and the
 * follow-up). A penalty charge notice number is unique across every batch, so no notice is
 * ever sent twice. Notices hold personal data (the keeper's name, mobile and email).
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('parking_batches')
    .addColumn('id', t.id, (c) => c.primaryKey())
    // the messaging service its notices were sent through (Parking)
    .addColumn('service_id', t.id, (c) => c.notNull().references('message_services.id'))
    .addColumn('file_name', 'text')
    .addColumn('follow_up_days', 'integer', (c) => c.notNull())
    // sending (its job is at work, or waiting to try again) or sent (every notice sent or failed)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('notices', 'integer', (c) => c.notNull())
    .addColumn('total_pence', 'integer', (c) => c.notNull())
    // the job sending it now (a new one when staff try the failed notices again)
    .addColumn('job_id', t.id)
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('sent_at', t.time)
    .execute();
  await db.schema.createIndex('parking_batches_created').on('parking_batches').column('created_at').execute();

  await db.schema
    .createTable('parking_notices')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('batch_id', t.id, (c) => c.notNull().references('parking_batches.id'))
    .addColumn('row_number', 'integer', (c) => c.notNull())
    // The key that keeps a notice from being sent twice, in this batch or any other.
    .addColumn('pcn', 'text', (c) => c.notNull().unique())
    .addColumn('vrm', 'text', (c) => c.notNull())
    .addColumn('keeper_name', 'text', (c) => c.notNull())
    .addColumn('mobile', 'text')
    .addColumn('email', 'text')
    // sms, or email when there is no mobile
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('amount_pence', 'integer', (c) => c.notNull())
    // YYYY-MM-DD (UK)
    .addColumn('issued_on', 'text', (c) => c.notNull())
    .addColumn('contravention', 'text', (c) => c.notNull())
    .addColumn('location', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    // queued, sending (claimed by the job), sent or failed
    .addColumn('status', 'text', (c) => c.notNull())
    // claims so far: a claim is taken only by the run that saw the count before it
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('failure', 'text')
    .addColumn('pay_link_id', t.id)
    .addColumn('notification_id', t.id)
    .addColumn('sent_at', t.time)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('parking_notices_batch').on('parking_notices').columns(['batch_id', 'row_number']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('parking_notices').execute();
  await db.schema.dropTable('parking_batches').execute();
}
