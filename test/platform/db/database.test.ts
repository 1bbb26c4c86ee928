import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { toJson } from '../../../src/platform/db/dialect.js';
import { migrateDown, migrateUp, migrationStatus, migrationsCurrent } from '../../../src/platform/db/migrator.js';
import { newId } from '../../../src/platform/ids.js';
import { forEachDialect, freshDatabase } from '../../helpers.js';

forEachDialect('database', (dialect) => {
  test('migrations run up, report status, and run down again', async () => {
    const { db } = await freshDatabase(dialect, { migrate: false });
    assert.equal(await migrationsCurrent(db), false);
    await migrateUp(db);
    assert.equal(await migrationsCurrent(db), true);
    const status = await migrationStatus(db);
    assert.ok(status.length >= 1);
    assert.ok(status.every((m) => m.executedAt instanceof Date));
    await migrateDown(db);
    assert.equal(await migrationsCurrent(db), false);
    await migrateUp(db);
    assert.equal(await migrationsCurrent(db), true);
  });

  test('dates, booleans and JSON read back the same on every dialect', async () => {
    const { db } = await freshDatabase(dialect);
    const at = new Date('2026-03-04T05:06:07.089Z');
    const id = newId();
    await db.k
      .insertInto('job_schedules' as never)
      .values({ name: id, cron: '* * * * *', job_name: 'x', payload_json: toJson({ a: [1, 2], b: 'c' }), next_run_at: at, is_enabled: true } as never)
      .execute();
    const row = (await sql<Record<string, unknown>>`select * from job_schedules where name = ${id}`.execute(db.k)).rows[0];
    assert.deepEqual(row.payload_json, { a: [1, 2], b: 'c' });
    assert.ok(row.next_run_at instanceof Date);
    assert.equal((row.next_run_at as Date).toISOString(), at.toISOString());
    assert.equal(row.is_enabled, true);
    assert.equal(row.last_run_at, null);
  });

  test('the audit log refuses updates and deletes', async () => {
    const { db } = await freshDatabase(dialect);
    await db.k
      .insertInto('audit_events' as never)
      .values({ id: newId(), occurred_at: new Date(), actor_type: 'system', actor_label: 'test', action: 'test', outcome: 'ok', summary: 's' } as never)
      .execute();
    await assert.rejects(sql`update audit_events set summary = 'changed'`.execute(db.k), /append-only/);
    await assert.rejects(sql`delete from audit_events`.execute(db.k), /append-only/);
  });
});

test('ids are version 7 UUIDs in time order', () => {
  const a = newId(1000);
  const b = newId(2000);
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(a < b);
});
