/**
 * The database's tables, for Kysely. Each module adds its own tables from its
 * repository file by declaration merging:
 *
 *   declare module '../../platform/db/tables.js' { interface Tables { sites: SitesTable } }
 *
 * Conventions (both dialects; platform/db/dialect.ts makes them true on SQLite):
 * columns ending `_at` are instants (Date), columns starting `is_` are booleans,
 * columns ending `_json` hold JSON (write with toJson(), read back as values).
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by each repository
export interface Tables {}
