import { relative } from 'node:path';

// A node:test reporter that counts leaf tests per suite: "[sqlite] …" and "[postgres] …"
// describe blocks, the browser tests under test/e2e, and the rest; and each file's time. Writes JSON.
// A suite is reported after its children, so children wait until their top-level suite ends.
// forEachDialect's suites are declared in test/helpers.ts, so their `file` is that one: a
// suite is matched with the file whose children were reported just before it.
export default async function* countReporter(source) {
  const pending = new Map();
  let lastFile = '';
  const counts = { passed: 0, failed: 0, skipped: 0, suites: {}, fileMs: {} };
  const tally = (name, file, outcome) => {
    const suite = /^\[(\w+)\]/.exec(name)?.[1] ?? (file.includes('/e2e/') ? 'browser' : 'other');
    counts.suites[suite] ??= { passed: 0, failed: 0, skipped: 0 };
    const c = counts.suites[suite];
    c[outcome]++;
    counts[outcome]++;
  };
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data ?? {};
    if (!d.file) continue;
    // A file's time: its top-level tests and suites added up (the process's start-up is not in it).
    if (d.nesting === 0) {
      const file = relative(process.cwd(), d.file.endsWith('/test/helpers.ts') ? lastFile : d.file);
      counts.fileMs[file] = Math.round((counts.fileMs[file] ?? 0) + (d.details?.duration_ms ?? 0));
    }
    const isSuite = d.details?.type === 'suite';
    const outcome = d.skip || d.todo ? 'skipped' : event.type === 'test:pass' ? 'passed' : 'failed';
    if (!isSuite && d.nesting > 0) {
      const list = pending.get(d.file) ?? [];
      pending.set(d.file, list);
      list.push(outcome);
      lastFile = d.file;
    } else if (!isSuite) tally(d.name, d.file, outcome);
    else if (d.nesting === 0) {
      for (const o of (pending.get(lastFile) ?? []).splice(0)) tally(d.name, lastFile, o);
    }
  }
  yield `${JSON.stringify(counts)}\n`;
}
