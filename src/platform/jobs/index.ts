export { JobQueue, backoffMs, nextCronTime } from './jobs.service.js';
export type { JobHandler, JobOptions, EnqueueOptions, JobQueueOptions, JobLog, JobRow, JobStatus } from './jobs.service.js';
