import { randomBytes } from 'node:crypto';
import type { Origin } from '../../platform/audit/origin.js';
import type { Actor } from '../../platform/auth/actor.js';
import { checkPasswordStrength, formatKey } from '../../platform/auth/auth.service.js';
import { isPermission } from '../../platform/auth/roles.js';
import { hashPassword, hashToken, randomToken } from '../../platform/auth/secrets.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Db } from '../../platform/db/database.js';
import { isUniqueViolation, toJson } from '../../platform/db/dialect.js';
import { platformErrors } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { staffErrors } from './staff.errors.js';
import { type KeyRow, StaffRepository, type UserWithRoles } from './staff.repository.js';
import type { KeyCreate, UserCreate, UserUpdate } from './staff.schema.js';

export type { Origin } from '../../platform/audit/origin.js';

const TWO_YEARS_MS = 2 * 366 * 24 * 3_600_000;
const PREFIX_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

function keyPrefix(): string {
  return [...randomBytes(12)].map((b) => PREFIX_ALPHABET[b % PREFIX_ALPHABET.length]).join('');
}

/** Staff accounts and API keys: who may use Weft, and with which permissions. */
export class StaffService {
  private readonly repo: StaffRepository;

  constructor(
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly secret: string,
  ) {
    this.repo = new StaffRepository(db);
  }

  listUsers(): Promise<UserWithRoles[]> {
    return this.repo.listUsers();
  }

  async getUser(id: string): Promise<UserWithRoles> {
    const user = await this.repo.findUser(id);
    if (!user) throw staffErrors.USER_NOT_FOUND();
    return user;
  }

  async createUser(actor: Actor, input: UserCreate, origin: Origin = {}): Promise<UserWithRoles> {
    const email = input.email.trim().toLowerCase();
    checkPasswordStrength(input.password, email);
    const hash = await hashPassword(input.password);
    const now = new Date();
    const id = newId();
    try {
      await this.db.transaction(async (trx) => {
        if (await this.repo.emailExists(email, trx)) throw staffErrors.EMAIL_TAKEN();
        await this.repo.insertUser(
          { id, email, name: input.name.trim(), password_hash: hash, is_active: true, created_at: now, updated_at: now, password_changed_at: now, last_sign_in_at: null },
          input.roles,
          trx,
        );
        await this.audit.record(
          {
            actor,
            action: 'staff.user_create',
            summary: `Created staff account ${email} (${input.roles.join(', ')})`,
            targetType: 'user',
            targetId: id,
            changes: { email, name: input.name, roles: input.roles },
            ...origin,
          },
          trx,
        );
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw staffErrors.EMAIL_TAKEN();
      throw err;
    }
    return this.getUser(id);
  }

  async updateUser(actor: Actor, id: string, input: UserUpdate, origin: Origin = {}): Promise<UserWithRoles> {
    await this.db.transaction(async (trx) => {
      const before = await this.repo.findUser(id, trx);
      if (!before) throw staffErrors.USER_NOT_FOUND();
      const changes: Record<string, [unknown, unknown]> = {};
      if (input.name !== undefined && input.name !== before.name) changes.name = [before.name, input.name];
      if (input.isActive !== undefined && input.isActive !== before.is_active) changes.isActive = [before.is_active, input.isActive];
      if (input.roles && input.roles.slice().sort().join() !== before.roles.join()) changes.roles = [before.roles, input.roles.slice().sort()];
      if (!Object.keys(changes).length) return;
      await this.repo.updateUser(id, { name: input.name ?? before.name, is_active: input.isActive ?? before.is_active, updated_at: new Date() }, trx);
      if (input.roles) await this.repo.setRoles(id, input.roles, trx);
      if (before.roles.includes('admin') && (await this.repo.countActiveAdmins(trx)) === 0) throw staffErrors.LAST_ADMIN();
      // A deactivated person, or one whose roles changed, signs in again to get the new permissions.
      if (changes.isActive || changes.roles) await this.repo.deleteSessions(id, trx);
      const words = Object.entries(changes).map(([k, [a, b]]) => `${k} ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
      await this.audit.record({ actor, action: 'staff.user_update', summary: `Changed ${before.email}: ${words.join('; ')}`, targetType: 'user', targetId: id, changes, ...origin }, trx);
    });
    return this.getUser(id);
  }

  listKeys(): Promise<KeyRow[]> {
    return this.repo.listKeys();
  }

  /** Creates a key and returns it whole, once; only its HMAC is kept. */
  async createKey(actor: Actor, input: KeyCreate, origin: Origin = {}): Promise<{ row: KeyRow; key: string }> {
    for (const scope of input.scopes) {
      if (!isPermission(scope)) throw platformErrors.VALIDATION_FAILED(undefined, [{ field: 'scopes', message: `${scope} is not a permission Weft knows` }]);
      if (!actor.permissions.has(scope)) throw staffErrors.KEY_SCOPE_NOT_HELD(`You cannot give a key the ${scope} permission because you do not hold it.`);
    }
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
    if (expiresAt && (expiresAt.getTime() <= Date.now() || expiresAt.getTime() > Date.now() + TWO_YEARS_MS)) throw staffErrors.KEY_EXPIRY_INVALID();
    const id = newId();
    const prefix = keyPrefix();
    const key = formatKey(input.type, prefix, randomToken());
    const row = {
      id,
      name: input.name.trim(),
      prefix,
      secret_hash: hashToken(this.secret, key),
      type: input.type,
      scopes_json: toJson([...input.scopes].sort()),
      created_by: actor.type === 'user' ? actor.id : null,
      created_at: new Date(),
      expires_at: expiresAt,
      revoked_at: null,
      last_used_at: null,
    };
    await this.db.transaction(async (trx) => {
      await this.repo.insertKey(row, trx);
      await this.audit.record(
        {
          actor,
          action: 'staff.key_create',
          summary: `Created ${input.type} API key "${row.name}" with ${input.scopes.join(', ')}`,
          targetType: 'api_key',
          targetId: id,
          changes: { name: row.name, type: input.type, scopes: input.scopes, expiresAt: input.expiresAt ?? null },
          ...origin,
        },
        trx,
      );
    });
    return { row: (await this.repo.findKey(id)) as KeyRow, key };
  }

  async revokeKey(actor: Actor, id: string, origin: Origin = {}): Promise<KeyRow> {
    await this.db.transaction(async (trx) => {
      const key = await this.repo.findKey(id, trx);
      if (!key) throw staffErrors.KEY_NOT_FOUND();
      if (key.revoked_at) return;
      await this.repo.revokeKey(id, new Date(), trx);
      await this.audit.record({ actor, action: 'staff.key_revoke', summary: `Revoked API key "${key.name}"`, targetType: 'api_key', targetId: id, ...origin }, trx);
    });
    return (await this.repo.findKey(id)) as KeyRow;
  }
}
