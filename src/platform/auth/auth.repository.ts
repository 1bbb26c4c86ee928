import type { Db, Executor } from '../db/database.js';
import { newId } from '../ids.js';

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
  password_changed_at: Date;
  last_sign_in_at: Date | null;
}
export interface UserRolesTable {
  user_id: string;
  role: string;
}
export interface SessionsTable {
  token_hash: string;
  user_id: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  ip: string | null;
}
export interface SignInFailuresTable {
  id: string;
  email: string;
  ip: string;
  failed_at: Date;
}
export interface ApiKeysTable {
  id: string;
  name: string;
  prefix: string;
  secret_hash: string;
  type: string;
  scopes_json: string[] | string;
  created_by: string | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

declare module '../db/tables.js' {
  interface Tables {
    users: UsersTable;
    user_roles: UserRolesTable;
    sessions: SessionsTable;
    sign_in_failures: SignInFailuresTable;
    api_keys: ApiKeysTable;
  }
}

export type UserRow = UsersTable & { roles: string[] };
export type ApiKeyRow = Omit<ApiKeysTable, 'scopes_json'> & { scopes_json: string[] };

/** The SQL that authentication needs: users by email, sessions, throttling, keys by prefix. */
export class AuthRepository {
  constructor(private readonly db: Db) {}

  async userByEmail(email: string, ex: Executor = this.db.k): Promise<UserRow | undefined> {
    const user = await ex.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
    return user && { ...user, roles: await this.rolesOf(user.id, ex) };
  }

  async userById(id: string, ex: Executor = this.db.k): Promise<UserRow | undefined> {
    const user = await ex.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return user && { ...user, roles: await this.rolesOf(user.id, ex) };
  }

  async rolesOf(userId: string, ex: Executor = this.db.k): Promise<string[]> {
    const rows = await ex.selectFrom('user_roles').select('role').where('user_id', '=', userId).orderBy('role').execute();
    return rows.map((r) => r.role);
  }

  async setPassword(userId: string, hash: string, at: Date, ex: Executor = this.db.k): Promise<void> {
    await ex.updateTable('users').set({ password_hash: hash, password_changed_at: at, updated_at: at }).where('id', '=', userId).execute();
  }

  async markSignedIn(userId: string, at: Date): Promise<void> {
    await this.db.k.updateTable('users').set({ last_sign_in_at: at }).where('id', '=', userId).execute();
  }

  async createSession(row: SessionsTable): Promise<void> {
    await this.db.k.insertInto('sessions').values(row).execute();
  }

  async sessionWithUser(tokenHash: string) {
    return this.db.k
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select(['sessions.token_hash', 'sessions.user_id', 'sessions.expires_at', 'sessions.last_seen_at', 'users.email', 'users.name', 'users.is_active'])
      .where('sessions.token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  async touchSession(tokenHash: string, at: Date, expiresAt: Date): Promise<void> {
    await this.db.k.updateTable('sessions').set({ last_seen_at: at, expires_at: expiresAt }).where('token_hash', '=', tokenHash).execute();
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.k.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
  }

  /** Ends every session of a user except, optionally, the one in use. */
  async deleteSessionsOf(userId: string, except?: string, ex: Executor = this.db.k): Promise<void> {
    let q = ex.deleteFrom('sessions').where('user_id', '=', userId);
    if (except) q = q.where('token_hash', '!=', except);
    await q.execute();
  }

  async deleteExpiredSessions(now: Date): Promise<number> {
    const r = await this.db.k.deleteFrom('sessions').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async recordSignInFailure(email: string, ip: string, at: Date): Promise<void> {
    await this.db.k.insertInto('sign_in_failures').values({ id: newId(), email: email.toLowerCase(), ip, failed_at: at }).execute();
  }

  async countSignInFailures(since: Date, by: { email?: string; ip?: string }): Promise<number> {
    let q = this.db.k
      .selectFrom('sign_in_failures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('failed_at', '>', since);
    if (by.email) q = q.where('email', '=', by.email.toLowerCase());
    if (by.ip) q = q.where('ip', '=', by.ip);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  async clearSignInFailures(email: string): Promise<void> {
    await this.db.k.deleteFrom('sign_in_failures').where('email', '=', email.toLowerCase()).execute();
  }

  async keyByPrefix(prefix: string): Promise<ApiKeyRow | undefined> {
    return (await this.db.k.selectFrom('api_keys').selectAll().where('prefix', '=', prefix).executeTakeFirst()) as ApiKeyRow | undefined;
  }

  async touchKey(id: string, at: Date): Promise<void> {
    await this.db.k.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}
