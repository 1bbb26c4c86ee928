import type { Db } from '../db/database.js';
import { newId } from '../ids.js';
import { OrganisationRepository } from './organisation.repository.js';

/** The council (or trust) this Weft serves: its name heads every page. */
export class OrganisationService {
  private readonly repo: OrganisationRepository;
  private cachedName = 'Your council';

  constructor(db: Db) {
    this.repo = new OrganisationRepository(db);
  }

  async load(): Promise<void> {
    const org = await this.repo.first();
    if (org) this.cachedName = org.name;
  }

  name(): string {
    return this.cachedName;
  }

  async create(name: string, shortName: string): Promise<string> {
    const id = newId();
    await this.repo.insert({ id, name, short_name: shortName, created_at: new Date() });
    this.cachedName = name;
    return id;
  }
}
