import type { Kysely } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * Rules and alarms: rules with their versions, each rule's state per subject (so a restart in
 * the middle of "held for 10 minutes" neither loses nor repeats an alarm), alarms (one open per
 * rule and subject: `open_key` is unique and set only while the alarm is not cleared) and each
 * alarm's history.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('rules')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('is_enabled', t.bool, (c) => c.notNull())
    .addColumn('condition_type', 'text', (c) => c.notNull())
    .addColumn('scope_json', t.json, (c) => c.notNull())
    .addColumn('condition_json', t.json, (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('actions_json', t.json, (c) => c.notNull())
    .addColumn('team_id', t.id)
    .addColumn('escalation_policy_id', t.id)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addColumn('deleted_at', t.time)
    .execute();
  await db.schema
    .createTable('rule_versions')
    .addColumn('rule_id', t.id, (c) => c.notNull().references('rules.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('body_json', t.json, (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('rule_versions_pk', ['rule_id', 'version'])
    .execute();
  await db.schema
    .createTable('rule_state')
    .addColumn('rule_id', t.id, (c) => c.notNull().references('rules.id').onDelete('cascade'))
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('since_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('rule_state_pk', ['rule_id', 'subject_id'])
    .execute();
  await db.schema
    .createTable('alarms')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('rule_id', t.id, (c) => c.notNull().references('rules.id'))
    .addColumn('rule_version', 'integer', (c) => c.notNull())
    .addColumn('rule_name', 'text', (c) => c.notNull())
    .addColumn('condition_type', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('subject_name', 'text')
    .addColumn('device_id', t.id)
    .addColumn('site_id', t.id)
    .addColumn('area_id', t.id)
    .addColumn('metric', 'text')
    .addColumn('value', t.real)
    .addColumn('reading_at', t.time)
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('team_id', t.id)
    .addColumn('assignee_id', t.id)
    .addColumn('open_key', 'text', (c) => c.unique())
    .addColumn('escalation_policy_id', t.id)
    .addColumn('escalation_step', 'integer', (c) => c.notNull())
    .addColumn('next_escalation_at', t.time)
    .addColumn('raised_at', t.time, (c) => c.notNull())
    .addColumn('acknowledged_at', t.time)
    .addColumn('cleared_at', t.time)
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alarms_status').on('alarms').columns(['status', 'raised_at']).execute();
  await db.schema.createIndex('alarms_rule').on('alarms').columns(['rule_id', 'raised_at']).execute();
  await db.schema.createIndex('alarms_escalation').on('alarms').column('next_escalation_at').execute();
  await db.schema
    .createTable('alarm_events')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('alarm_id', t.id, (c) => c.notNull().references('alarms.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('note', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alarm_events_alarm').on('alarm_events').columns(['alarm_id', 'created_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('alarm_events').execute();
  await db.schema.dropTable('alarms').execute();
  await db.schema.dropTable('rule_state').execute();
  await db.schema.dropTable('rule_versions').execute();
  await db.schema.dropTable('rules').execute();
}
