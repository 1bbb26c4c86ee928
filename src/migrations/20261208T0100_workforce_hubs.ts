import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Hybrid-working hubs: estate sites staff can book spaces in (desks, quiet rooms, meeting rooms),
 * their opening hours and closures, and bookings. A booking claims its half-hour units of the
 * space, and of the person, in two tables whose primary keys are the claims: two bookings of the
 * same space (or two of the same person) at the same time cannot both commit, on either dialect,
 * however close together they arrive.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('hubs')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('site_id', t.id, (c) => c.notNull().unique().references('sites.id'))
    // opening hours, UK time, HH:MM, on the half hour
    .addColumn('opens', 'text', (c) => c.notNull())
    .addColumn('closes', 'text', (c) => c.notNull())
    // ISO weekdays it opens on, "12345" for Monday to Friday
    .addColumn('open_days', 'text', (c) => c.notNull())
    .addColumn('grace_minutes', 'integer', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('is_active', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('hub_spaces')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('hub_id', t.id, (c) => c.notNull().references('hubs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    // desk, quiet_room, meeting_room
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('capacity', 'integer', (c) => c.notNull())
    .addColumn('equipment_json', t.json, (c) => c.notNull())
    .addColumn('accessibility', 'text')
    .addColumn('is_active', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addUniqueConstraint('hub_spaces_name', ['hub_id', 'name'])
    .execute();
  await db.schema
    .createTable('hub_closures')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('hub_id', t.id, (c) => c.notNull().references('hubs.id').onDelete('cascade'))
    // YYYY-MM-DD, both days closed
    .addColumn('from_day', 'text', (c) => c.notNull())
    .addColumn('to_day', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('cancelled_count', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('hub_closures_hub').on('hub_closures').columns(['hub_id', 'to_day']).execute();
  await db.schema
    .createTable('hub_bookings')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('hub_id', t.id, (c) => c.notNull().references('hubs.id').onDelete('cascade'))
    .addColumn('space_id', t.id, (c) => c.notNull().references('hub_spaces.id').onDelete('cascade'))
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('user_label', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    // minutes after midnight, UK time, on the half hour; a whole day is the opening hours
    .addColumn('start_minute', 'integer', (c) => c.notNull())
    .addColumn('end_minute', 'integer', (c) => c.notNull())
    .addColumn('is_whole_day', t.bool, (c) => c.notNull())
    .addColumn('starts_at', t.time, (c) => c.notNull())
    .addColumn('ends_at', t.time, (c) => c.notNull())
    // not checked in by then: released as a no-show
    .addColumn('release_at', t.time, (c) => c.notNull())
    // booked, checked_in, checked_out, cancelled, released
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('checked_in_at', t.time)
    .addColumn('checked_out_at', t.time)
    .addColumn('cancelled_at', t.time)
    .addColumn('cancel_reason', 'text')
    .addColumn('closure_id', t.id)
    // the person was told of the closure that cancelled it
    .addColumn('told_at', t.time)
    .addColumn('booked_by', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('hub_bookings_user').on('hub_bookings').columns(['user_id', 'day']).execute();
  await db.schema.createIndex('hub_bookings_hub').on('hub_bookings').columns(['hub_id', 'day']).execute();
  await db.schema.createIndex('hub_bookings_release').on('hub_bookings').columns(['status', 'release_at']).execute();
  await db.schema.createIndex('hub_bookings_closure').on('hub_bookings').column('closure_id').execute();
  // The claims: a row per half hour a live booking holds. The keys are the rule.
  await db.schema
    .createTable('hub_space_units')
    .addColumn('space_id', t.id, (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('unit', 'integer', (c) => c.notNull())
    .addColumn('booking_id', t.id, (c) => c.notNull().references('hub_bookings.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('hub_space_units_pk', ['space_id', 'day', 'unit'])
    .execute();
  await db.schema.createIndex('hub_space_units_booking').on('hub_space_units').column('booking_id').execute();
  await db.schema
    .createTable('hub_person_units')
    .addColumn('user_id', t.id, (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('unit', 'integer', (c) => c.notNull())
    .addColumn('booking_id', t.id, (c) => c.notNull().references('hub_bookings.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('hub_person_units_pk', ['user_id', 'day', 'unit'])
    .execute();
  await db.schema.createIndex('hub_person_units_booking').on('hub_person_units').column('booking_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('hub_person_units').execute();
  await db.schema.dropTable('hub_space_units').execute();
  await db.schema.dropTable('hub_bookings').execute();
  await db.schema.dropTable('hub_closures').execute();
  await db.schema.dropTable('hub_spaces').execute();
  await db.schema.dropTable('hubs').execute();
}
