import { type Kysely, sql } from 'kysely';
import type { ColumnTypes } from '../platform/db/dialect.js';

/**
 * What happens after an alarm is raised: escalation policies and on-call rotas, rules' actions
 * (what each did for an alarm, webhook secrets and every webhook attempt), and lone-worker visits.
 *
 * - `escalation_policies`: steps (`steps_json`: who is told on which channel, so many minutes after
 *   the alarm was raised) and how often a critical alarm's last step repeats until acknowledged.
 * - `oncall_rotas` (one per team: the requests module's teams) and `oncall_shifts`: who is on call
 *   from when to when, with an optional on-call mobile for texts (personal data).
 * - `alarm_actions`: what each action of a rule did for an alarm, once (the residents told, the
 *   request raised); `(rule_id, area_id, type, created_at)` finds the last message to an area.
 * - `webhook_secrets`: named secrets that sign webhooks, sealed under WEFT_SECRET.
 * - `webhook_deliveries`: every webhook attempt with its status code or error.
 * - `lone_worker_visits`: a care worker's visit; at most one open (not checked out) per worker.
 * - `alarm_setup`: the built-in rule and policy for lone-worker visits, made once.
 */
export async function up(db: Kysely<any>, t: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('escalation_policies')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('steps_json', t.json, (c) => c.notNull())
    .addColumn('repeat_minutes', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('oncall_rotas')
    .addColumn('team_id', t.id, (c) => c.primaryKey())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('oncall_shifts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('team_id', t.id, (c) => c.notNull().references('oncall_rotas.team_id').onDelete('cascade'))
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('phone', 'text')
    .addColumn('starts_at', t.time, (c) => c.notNull())
    .addColumn('ends_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oncall_shifts_team').on('oncall_shifts').columns(['team_id', 'starts_at']).execute();

  await db.schema
    .createTable('alarm_actions')
    .addColumn('alarm_id', t.id, (c) => c.notNull().references('alarms.id').onDelete('cascade'))
    .addColumn('action_index', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('rule_id', t.id, (c) => c.notNull())
    .addColumn('area_id', t.id)
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('ref', 'text')
    .addColumn('note', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('alarm_actions_pk', ['alarm_id', 'action_index'])
    .execute();
  await db.schema.createIndex('alarm_actions_area').on('alarm_actions').columns(['rule_id', 'area_id', 'type', 'created_at']).execute();

  await db.schema
    .createTable('webhook_secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('alarm_id', t.id, (c) => c.notNull().references('alarms.id').onDelete('cascade'))
    .addColumn('rule_id', t.id, (c) => c.notNull())
    .addColumn('action_index', 'integer', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_deliveries_alarm').on('webhook_deliveries').columns(['alarm_id', 'created_at']).execute();
  await db.schema.createIndex('webhook_deliveries_rule').on('webhook_deliveries').columns(['rule_id', 'created_at']).execute();

  await db.schema
    .createTable('lone_worker_visits')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id'))
    .addColumn('team_id', t.id, (c) => c.notNull())
    .addColumn('place', 'text', (c) => c.notNull())
    .addColumn('expected_minutes', 'integer', (c) => c.notNull())
    .addColumn('started_at', t.time, (c) => c.notNull())
    .addColumn('due_at', t.time, (c) => c.notNull())
    .addColumn('deadline_at', t.time, (c) => c.notNull())
    .addColumn('checked_out_at', t.time)
    .addColumn('alarm_id', t.id)
    .execute();
  await db.schema.createIndex('lone_worker_visits_user').on('lone_worker_visits').columns(['user_id', 'started_at']).execute();
  // One open visit per worker, on both dialects: a partial unique index.
  await db.schema.createIndex('lone_worker_visits_open').on('lone_worker_visits').column('user_id').unique().where(sql.ref('checked_out_at'), 'is', null).execute();

  await db.schema
    .createTable('alarm_setup')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('ref', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['alarm_setup', 'lone_worker_visits', 'webhook_deliveries', 'webhook_secrets', 'alarm_actions', 'oncall_shifts', 'oncall_rotas', 'escalation_policies']) {
    await db.schema.dropTable(table).execute();
  }
}
