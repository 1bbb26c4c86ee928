import type { Db } from '../../platform/db/database.js';
import type { EventBus } from '../../platform/events/index.js';
import type { Logger } from '../../services.js';
import type { EstateService } from '../estate/index.js';

/** Readings: ingest, quarantine, rollups, retention, queries and live subscriptions. */
export class TelemetryService {
  constructor(
    readonly db: Db,
    readonly estate: EstateService,
    readonly events: EventBus,
    readonly log: Logger,
  ) {}

  async close(): Promise<void> {}
}
