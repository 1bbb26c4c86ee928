import type { Db } from '../db/database.js';

export interface OrganisationsTable {
  id: string;
  name: string;
  short_name: string;
  created_at: Date;
}

declare module '../db/tables.js' {
  interface Tables {
    organisations: OrganisationsTable;
  }
}

export class OrganisationRepository {
  constructor(private readonly db: Db) {}

  async first(): Promise<OrganisationsTable | undefined> {
    return this.db.k.selectFrom('organisations').selectAll().orderBy('created_at').limit(1).executeTakeFirst();
  }

  async insert(row: OrganisationsTable): Promise<void> {
    await this.db.k.insertInto('organisations').values(row).execute();
  }
}
