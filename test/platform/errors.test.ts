import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import '../../src/app.js';
import { errorCatalogue } from '../../src/platform/errors.js';

const documented = () => {
  const text = readFileSync('docs/errors.md', 'utf8');
  return new Map([...text.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));
};

function testSources(dir = 'test'): string {
  let all = '';
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) all += testSources(p);
    else if (p.endsWith('.ts') && !p.endsWith('errors.test.ts')) all += readFileSync(p, 'utf8');
  }
  return all;
}

test('every declared error code is in docs/errors.md with its status, and every documented code exists', () => {
  const docs = documented();
  for (const [code, def] of errorCatalogue) {
    assert.ok(docs.has(code), `${code} is not in docs/errors.md`);
    assert.equal(docs.get(code), def.status, `${code} has status ${def.status} but docs/errors.md says ${docs.get(code)}`);
  }
  for (const code of docs.keys()) assert.ok(errorCatalogue.has(code), `docs/errors.md lists ${code}, which no module declares`);
});

test('every error code is exercised by a test', () => {
  const sources = testSources();
  const untested = [...errorCatalogue.keys()].filter((code) => !sources.includes(`'${code}'`));
  assert.deepEqual(untested, []);
});

test('codes are UPPER_SNAKE and messages are plain sentences', () => {
  for (const [code, def] of errorCatalogue) {
    assert.match(code, /^[A-Z][A-Z0-9_]+$/);
    assert.match(def.message, /^[A-Z].*\.$/, `${code}: start with a capital and end with a full stop`);
  }
});
