// A node:test reporter that counts leaf tests per suite: "[sqlite] …" and "[postgres] …"
// describe blocks, the browser tests under test/e2e, and the rest. Writes JSON.
export default async function* countReporter(source) {
  const names = new Map();
  const counts = { passed: 0, failed: 0, skipped: 0, suites: {} };
  for await (const event of source) {
    const d = event.data ?? {};
    if (event.type === 'test:start') {
      const stack = names.get(d.file) ?? [];
      stack[d.nesting] = d.name;
      stack.length = d.nesting + 1;
      names.set(d.file, stack);
    }
    if ((event.type === 'test:pass' || event.type === 'test:fail') && d.details?.type !== 'suite' && d.file) {
      const top = (names.get(d.file) ?? [])[0] ?? d.name;
      const suite = /^\[(\w+)\]/.exec(top)?.[1] ?? (d.file.includes('/e2e/') ? 'browser' : 'other');
      const c = (counts.suites[suite] ??= { passed: 0, failed: 0, skipped: 0 });
      const outcome = d.skip || d.todo ? 'skipped' : event.type === 'test:pass' ? 'passed' : 'failed';
      c[outcome]++;
      counts[outcome]++;
    }
  }
  yield `${JSON.stringify(counts)}\n`;
}
