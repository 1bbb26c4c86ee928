import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import type { EventBus } from '../../platform/events/index.js';

/** Sites, areas, connectivity, device profiles, devices and their credentials, device health. */
export class EstateService {
  constructor(
    readonly db: Db,
    readonly audit: AuditService,
    readonly events: EventBus,
    readonly secret: string,
  ) {}

  /** Writes pending last-seen updates; called on shutdown. */
  async close(): Promise<void> {}
}
