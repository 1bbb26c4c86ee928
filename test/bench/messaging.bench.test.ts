import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../bench/messaging.js';

test('the messaging benchmark runs on SQLite and reports the campaign and the API beside their baselines', async () => {
  const r = JSON.parse(JSON.stringify(await main({ dialect: 'sqlite', recipients: 300, requests: 100, concurrency: 4 })));
  assert.equal(r.bench, 'messaging');
  assert.equal(r.campaign.recipients, 300);
  assert.equal(r.campaign.delivered, 300, 'every recipient was handed to the inbox');
  for (const rate of [r.campaign, r.baseline, r.api, r.apiBaseline]) assert.ok(Number.isFinite(rate.perSecond) && rate.perSecond > 0);
  assert.equal(r.api.requests, 100);
  assert.ok(r.api.p99Ms >= r.api.p50Ms);
  assert.ok(r.campaign.peakRssMB > 0);
});
