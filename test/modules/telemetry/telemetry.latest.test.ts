/**
 * Latest values across processes: each Weft process keeps an in-memory copy of the latest
 * table, and must see what other processes (here a second set of services on the same
 * database) write. PostgreSQL reads only the rows written by transactions its last look could
 * not see, so a commit that lands after that look, however late, is covered too.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../../src/config.js';
import type { DeviceAuth, Profile } from '../../../src/modules/estate/index.js';
import type { LatestRow } from '../../../src/modules/telemetry/telemetry.repository.js';
import type { TelemetryService } from '../../../src/modules/telemetry/telemetry.service.js';
import { openDb } from '../../../src/platform/db/database.js';
import { newId } from '../../../src/platform/ids.js';
import { createServices, type Services } from '../../../src/services.js';
import { type TestApp, testApp } from '../../app-helpers.js';
import { atEnd, forEachDialect, TEST_SECRET } from '../../helpers.js';

const base = Date.now() - 3_600_000;
const quiet = { info() {}, warn() {}, error() {} };

/** Another Weft process's services, on the same database. */
async function secondServices(url: string): Promise<Services> {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-test-'));
  const config = loadConfig({ WEFT_DATABASE_URL: url, WEFT_DATA_DIR: dataDir, WEFT_SECRET: TEST_SECRET, WEFT_LOG_LEVEL: 'silent' }, { file: '/nonexistent' });
  const services = await createServices(config, openDb({ databaseUrl: url }), quiet);
  atEnd(async () => {
    await services.close(0);
    rmSync(dataDir, { recursive: true, force: true });
  });
  return services;
}

/** Calls latest until check passes; returns how long that took (ms), failing after a second. */
async function seenWithin(telemetry: TelemetryService, ids: string[], check: (rows: readonly LatestRow[]) => boolean): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (check(await telemetry.latest(ids))) return performance.now() - t0;
    if (performance.now() - t0 > 1000) assert.fail(`not seen within a second: ${JSON.stringify(await telemetry.latest(ids))}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const values = (rows: readonly LatestRow[]) =>
  rows
    .map((r) => `${r.deviceId.slice(-4)} ${r.metric}=${r.value}@${r.at.getTime() - base}`)
    .sort()
    .join(', ');

forEachDialect('latest values across processes', (dialect) => {
  let t: TestApp;
  let other: Services;
  let profile: Profile;
  const device = (): DeviceAuth => ({ deviceId: newId(), name: 'Hand-made device', profile, siteId: null, areaId: null, isPersonal: false });

  before(async () => {
    t = await testApp(dialect);
    other = await secondServices(t.url);
    profile = await t.services.estate.getProfile('air-quality');
  });

  test("another instance's readings reach this instance's latest within a second, with the right values", async () => {
    const d = device();
    await t.services.telemetry.ingest(d, [{ metric: 'no2', value: 1, at: base }], 'http');
    assert.equal((await t.services.telemetry.latest([d.deviceId]))[0].value, 1);
    await other.telemetry.ingest(
      d,
      [
        { metric: 'no2', value: 2, at: base + 1000 },
        { metric: 'no2', value: 7, at: base + 500 },
        { metric: 'pm2_5', value: 3, at: base },
      ],
      'mqtt',
    );
    const ms = await seenWithin(t.services.telemetry, [d.deviceId], (rows) => rows.length === 2 && rows[0].value === 2);
    assert.ok(ms < 1000, `${ms} ms`);
    const seen = await t.services.telemetry.latest([d.deviceId]);
    assert.deepEqual(
      seen.map((r) => [r.deviceId, r.metric, r.value, r.at.getTime()]),
      [
        [d.deviceId, 'no2', 2, base + 1000],
        [d.deviceId, 'pm2_5', 3, base],
      ],
    );
    // An older reading written elsewhere changes nothing; a newer one written here wins at once.
    await other.telemetry.ingest(d, [{ metric: 'no2', value: 99, at: base + 10 }], 'mqtt');
    await t.services.telemetry.ingest(d, [{ metric: 'pm2_5', value: 4, at: base + 2000 }], 'http');
    assert.equal(values(await t.services.telemetry.latest([d.deviceId])), values([seen[0], { ...seen[1], value: 4, at: new Date(base + 2000) }]));
  });

  test('many devices written by the other instance, read by concurrent callers, all agree with the table', async () => {
    const devices = Array.from({ length: 40 }, () => device());
    const ids = devices.map((d) => d.deviceId);
    await t.services.telemetry.latest(ids);
    for (const [i, d] of devices.entries())
      await other.telemetry.ingest(
        d,
        [
          { metric: 'no2', value: i, at: base + i },
          { metric: 'pm10', value: i * 2, at: base + i },
        ],
        'mqtt',
      );
    const answers = await Promise.all(Array.from({ length: 5 }, () => t.services.telemetry.latest(ids)));
    const table = await sql<{ device_id: string; metric: string; value: number }>`select device_id, metric, value from latest`.execute(t.services.db.k);
    const expected = table.rows.filter((r) => ids.includes(r.device_id));
    assert.equal(expected.length, 80);
    const key = (rows: { deviceId?: string; device_id?: string; metric: string; value: number }[]) =>
      rows
        .map((r) => `${r.deviceId ?? r.device_id} ${r.metric}=${r.value}`)
        .sort()
        .join('\n');
    for (const rows of answers) assert.equal(key([...rows]), key(expected));
    assert.deepEqual(
      (await t.services.telemetry.latest(ids, ['pm10'])).map((r) => r.value).sort((a, b) => a - b),
      devices.map((_, i) => i * 2),
    );
  });

  test('PostgreSQL: a transaction that commits after this instance has looked past its write is still seen', { skip: dialect !== 'postgres' }, async () => {
    const d = device();
    await t.services.telemetry.ingest(d, [{ metric: 'no2', value: 1, at: base }], 'http');
    assert.equal((await t.services.telemetry.latest([d.deviceId]))[0].value, 1);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let written = () => {};
    const wrote = new Promise<void>((resolve) => {
      written = resolve;
    });
    // The other process writes latest, then is slow to commit (as an ingest transaction can be).
    const slow = other.db.transaction(async (trx) => {
      await sql`
        INSERT INTO latest (device_id, metric, measured_at, value) VALUES (${d.deviceId}::uuid, 'no2', ${new Date(base + 5000)}, 5)
        ON CONFLICT (device_id, metric) DO UPDATE SET measured_at = excluded.measured_at, value = excluded.value, written_by = pg_current_xact_id()`.execute(trx);
      written();
      await held;
    });
    await wrote;
    // Later than the 2-second window the clock-based copy allowed: now there is no window.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    // This instance looks (and takes a snapshot in which the write is still in progress), then the commit lands.
    assert.equal((await t.services.telemetry.latest([d.deviceId]))[0].value, 1);
    // Another instance's later commits, seen meanwhile, do not move this instance past the slow one.
    const e = device();
    await other.telemetry.ingest(e, [{ metric: 'no2', value: 8, at: base }], 'mqtt');
    await seenWithin(t.services.telemetry, [e.deviceId], (rows) => rows[0]?.value === 8);
    release();
    await slow;
    await seenWithin(t.services.telemetry, [d.deviceId], (rows) => rows[0]?.value === 5);
  });
});
