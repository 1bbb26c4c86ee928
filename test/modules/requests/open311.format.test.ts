import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { escapeXml, parseW3c, render, w3cDate } from '../../../src/modules/requests/open311.format.js';
import { londonOffsetMinutes } from '../../../src/platform/dates.js';

test('London’s offset is worked out as Intl gives it, hour by hour across the clock changes of several years', () => {
  const intl = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'longOffset' });
  const offsetOf = (ms: number) => {
    const name = intl.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    return name === 'GMT' ? 0 : Number(name.slice(4, 6)) * 60;
  };
  for (let ms = Date.UTC(2024, 0, 1); ms < Date.UTC(2028, 0, 1); ms += 3_600_000) assert.equal(londonOffsetMinutes(ms), offsetOf(ms), new Date(ms).toISOString());
  assert.equal(w3cDate(new Date('2026-07-01T08:30:15.900Z')), '2026-07-01T09:30:15+01:00');
  assert.equal(w3cDate(new Date('2026-12-04T08:30:15Z')), '2026-12-04T08:30:15+00:00');
  assert.equal(w3cDate(null), null);
});

test('W3C dates are parsed with their offsets; anything else is refused', () => {
  assert.equal(parseW3c('2010-01-01T00:00:00Z')?.toISOString(), '2010-01-01T00:00:00.000Z');
  assert.equal(parseW3c('1994-11-05T08:15:30-05:00')?.toISOString(), '1994-11-05T13:15:30.000Z');
  assert.equal(parseW3c('2026-12-04')?.toISOString(), '2026-12-04T00:00:00.000Z');
  for (const bad of ['yesterday', '2026-13-01T00:00:00Z', '2026-12-04T10:00:00', '']) assert.equal(parseW3c(bad), undefined, bad);
});

test('XML by the Spark convention: arrays wrapped and named in the singular, text escaped, characters XML forbids dropped', () => {
  const body = render('xml', 'service_requests', [{ service_request_id: 'A1', description: 'Tom & Jerry <"cats"> \u0007bell', lat: 51.5, media_url: null }]);
  assert.ok(body.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<service_requests><request>'));
  assert.match(body, /<media_url><\/media_url>/);
  const parsed = new XMLParser({ parseTagValue: false }).parse(body);
  assert.equal(parsed.service_requests.request.description, 'Tom & Jerry <"cats"> bell');
  assert.equal(render('json', 'service_requests', [{ a: 1 }]), '[{"a":1}]');
  assert.equal(render('xml', 'errors', [{ code: 400, description: 'x' }]), '<?xml version="1.0" encoding="utf-8"?>\n<errors><error><code>400</code><description>x</description></error></errors>');
  assert.equal(escapeXml('plain text'), 'plain text');
  assert.equal(escapeXml('\uD83D\uDE00 ok \uD800'), '\uD83D\uDE00 ok ');
});
