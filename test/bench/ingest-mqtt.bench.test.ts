import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../bench/ingest-mqtt.js';

test('the MQTT ingest benchmark runs on SQLite and reports Weft beside Mosquitto alone', async () => {
  const result = await main({ dialect: 'sqlite', messages: 200, publishers: 1 });
  // The figures a reader compares must survive a round trip through JSON, as the script prints them.
  const r = JSON.parse(JSON.stringify(result));
  assert.equal(r.bench, 'ingest-mqtt');
  assert.equal(r.dialect, 'sqlite');
  assert.equal(r.messagesPerPublisher, 200);
  assert.equal(typeof r.loadAverage, 'number');
  for (const q of [r.qos0, r.qos1]) {
    assert.equal(q.weft.messages, 200);
    assert.equal(q.weft.readingsStored, 200, 'every message became a stored reading');
    assert.ok(q.weft.ms > 0 && q.weft.perSecond > 0);
    assert.ok(q.weft.batches >= 1);
    // Mosquitto alone, as configured on 127.0.0.1:1883 and (when the binary is here) with Weft's recommended settings.
    for (const m of [q.mosquitto, q.mosquittoTuned].filter(Boolean)) {
      assert.equal(m.received, 200, JSON.stringify(m));
      assert.equal(m.dropped, 0);
      assert.ok(m.perSecond > 0);
    }
    assert.ok(q.ratio > 0);
  }
});
