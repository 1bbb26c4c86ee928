import type { Db, Executor } from '../../platform/db/database.js';

export interface LorawanIntegrationsTable {
  id: string;
  name: string;
  kind: string;
  token_hash: string;
  token_prefix: string;
  default_profile_id: string | null;
  created_by: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    lorawan_integrations: LorawanIntegrationsTable;
  }
}

export type IntegrationRow = Omit<LorawanIntegrationsTable, 'token_hash'>;

const COLUMNS = ['id', 'name', 'kind', 'token_prefix', 'default_profile_id', 'created_by', 'created_at', 'revoked_at'] as const;

/** LoRaWAN integrations: one row per network-server application that sends Weft webhooks. */
export class LorawanRepository {
  constructor(private readonly db: Db) {}

  list(): Promise<IntegrationRow[]> {
    return this.db.k.selectFrom('lorawan_integrations').select(COLUMNS).orderBy('created_at', 'desc').execute();
  }

  find(id: string, ex: Executor = this.db.k): Promise<IntegrationRow | undefined> {
    return ex.selectFrom('lorawan_integrations').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  /** The live (not revoked) integration whose token has this hash. */
  findLiveByTokenHash(hash: string): Promise<IntegrationRow | undefined> {
    return this.db.k.selectFrom('lorawan_integrations').select(COLUMNS).where('token_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
  }

  async insert(row: LorawanIntegrationsTable, ex: Executor): Promise<void> {
    await ex.insertInto('lorawan_integrations').values(row).execute();
  }

  async revoke(id: string, at: Date, ex: Executor): Promise<void> {
    await ex.updateTable('lorawan_integrations').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }
}
