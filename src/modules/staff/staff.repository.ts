import type { ApiKeysTable, UsersTable } from '../../platform/auth/auth.repository.js';
import type { Db, Executor } from '../../platform/db/database.js';

export type UserWithRoles = UsersTable & { roles: string[] };
export type KeyRow = Omit<ApiKeysTable, 'scopes_json'> & { scopes_json: string[] };

/** Staff accounts and API keys (tables declared in platform/auth, which reads them on every request). */
export class StaffRepository {
  constructor(private readonly db: Db) {}

  async listUsers(ex: Executor = this.db.k): Promise<UserWithRoles[]> {
    const users = await ex.selectFrom('users').selectAll().orderBy('name').execute();
    const roles = await ex.selectFrom('user_roles').selectAll().execute();
    return users.map((u) => ({
      ...u,
      roles: roles
        .filter((r) => r.user_id === u.id)
        .map((r) => r.role)
        .sort(),
    }));
  }

  async findUser(id: string, ex: Executor = this.db.k): Promise<UserWithRoles | undefined> {
    const user = await ex.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!user) return undefined;
    const roles = await ex.selectFrom('user_roles').select('role').where('user_id', '=', id).orderBy('role').execute();
    return { ...user, roles: roles.map((r) => r.role) };
  }

  async emailExists(email: string, ex: Executor = this.db.k): Promise<boolean> {
    return !!(await ex.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst());
  }

  async insertUser(user: UsersTable, roles: string[], ex: Executor): Promise<void> {
    await ex.insertInto('users').values(user).execute();
    await this.setRoles(user.id, roles, ex);
  }

  async updateUser(id: string, fields: Partial<Pick<UsersTable, 'name' | 'is_active' | 'updated_at'>>, ex: Executor): Promise<void> {
    await ex.updateTable('users').set(fields).where('id', '=', id).execute();
  }

  async setRoles(userId: string, roles: string[], ex: Executor): Promise<void> {
    await ex.deleteFrom('user_roles').where('user_id', '=', userId).execute();
    if (roles.length)
      await ex
        .insertInto('user_roles')
        .values(roles.map((role) => ({ user_id: userId, role })))
        .execute();
  }

  async countActiveAdmins(ex: Executor): Promise<number> {
    const row = await ex
      .selectFrom('users')
      .innerJoin('user_roles', 'user_roles.user_id', 'users.id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_roles.role', '=', 'admin')
      .where('users.is_active', '=', true)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async deleteSessions(userId: string, ex: Executor): Promise<void> {
    await ex.deleteFrom('sessions').where('user_id', '=', userId).execute();
  }

  async listKeys(): Promise<KeyRow[]> {
    return (await this.db.k.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').execute()) as KeyRow[];
  }

  async findKey(id: string, ex: Executor = this.db.k): Promise<KeyRow | undefined> {
    return (await ex.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst()) as KeyRow | undefined;
  }

  async insertKey(row: ApiKeysTable, ex: Executor): Promise<void> {
    await ex.insertInto('api_keys').values(row).execute();
  }

  async revokeKey(id: string, at: Date, ex: Executor): Promise<void> {
    await ex.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }
}
