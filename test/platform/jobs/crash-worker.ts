/**
 * A worker process for the crash-recovery test: it claims a job with a short visibility
 * timeout, says so on stdout, and hangs until the test kills it with SIGKILL.
 */
import { openDb } from '../../../src/platform/db/database.js';
import { JobQueue } from '../../../src/platform/jobs/index.js';

const url = process.argv[2];
if (!url) throw new Error('usage: crash-worker.ts <database url>');

const quiet = { info() {}, warn() {}, error() {} };
const queue = new JobQueue(openDb({ databaseUrl: url }), { workerId: `crash-worker:${process.pid}`, visibilitySeconds: 2, pollMs: 50, log: quiet });
queue.register('crash.test', async (_payload, job) => {
  process.stdout.write(`claimed ${job.id}\n`);
  await new Promise(() => {});
});
queue.start();
