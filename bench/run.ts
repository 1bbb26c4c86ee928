/**
 * Runs every benchmark in bench/ one after another, each in its own process (so one's
 * memory and open handles cannot skew the next), and prints their JSON together.
 *   npm run bench                 # all
 *   npm run bench -- ingest-http  # only those whose file name contains the word
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const results: Record<string, unknown> = {};
for (const file of files) {
  process.stderr.write(`running ${file}…\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, file)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 });
  const text = r.stdout.trim();
  try {
    results[file.replace(/\.ts$/, '')] = JSON.parse(text.slice(text.indexOf('{')));
  } catch {
    results[file.replace(/\.ts$/, '')] = { failed: true, exitCode: r.status, output: text.slice(-2000) };
  }
}
console.log(JSON.stringify(results, null, 2));
