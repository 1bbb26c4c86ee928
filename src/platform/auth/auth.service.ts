import type { Config } from '../../config.js';
import type { Db } from '../db/database.js';
import type { AuditService } from '../audit/audit.service.js';
import { type Actor, ANONYMOUS } from './actor.js';
import { authErrors } from './auth.errors.js';
import { AuthRepository, type UserRow } from './auth.repository.js';
import { permissionsOf } from './roles.js';
import { DUMMY_PASSWORD_HASH, hashPassword, hashToken, randomToken, safeEqual, verifyPassword } from './secrets.js';

const THROTTLE_WINDOW_MS = 15 * 60_000;
/** An address may fail this many times more than one account may, across all accounts. */
const IP_FACTOR = 4;
const COMMON_PASSWORDS = new Set(['password1234', 'passwordpassword', '123456789012', 'qwertyuiopas', 'letmeinletmein', 'welcome12345']);

export interface RequestOrigin {
  ip: string;
  requestId?: string;
}

/** API keys look like weft_<type>_<prefix>_<secret>; the prefix finds the row, the secret proves it. */
const KEY_PATTERN = /^weft_(live|team|test)_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export function formatKey(type: string, prefix: string, secret: string): string {
  return `weft_${type}_${prefix}_${secret}`;
}

export function checkPasswordStrength(password: string, email?: string): void {
  const lower = password.toLowerCase();
  if (password.length < 12 || password.length > 200 || COMMON_PASSWORDS.has(lower) || new Set(password).size < 5 || (email && lower.includes(email.split('@')[0].toLowerCase()))) {
    throw authErrors.PASSWORD_TOO_WEAK();
  }
}

export class AuthService {
  private readonly repo: AuthRepository;

  constructor(
    private readonly db: Db,
    private readonly config: Pick<Config, 'secret' | 'sessionHours' | 'signInAttempts'>,
    private readonly audit: AuditService,
  ) {
    this.repo = new AuthRepository(db);
  }

  /** Checks an email and password, with throttling per account and per address; returns a new session token. */
  async signIn(email: string, password: string, origin: RequestOrigin): Promise<{ token: string; user: UserRow }> {
    const since = new Date(Date.now() - THROTTLE_WINDOW_MS);
    const [byEmail, byIp] = await Promise.all([this.repo.countSignInFailures(since, { email }), this.repo.countSignInFailures(since, { ip: origin.ip })]);
    if (byEmail >= this.config.signInAttempts || byIp >= this.config.signInAttempts * IP_FACTOR) {
      await this.audit.record({ actor: ANONYMOUS, action: 'auth.sign_in', outcome: 'denied', summary: `Sign-in refused for ${email}: too many failed attempts`, ...origin });
      throw authErrors.SIGN_IN_THROTTLED();
    }
    const user = await this.repo.userByEmail(email);
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_PASSWORD_HASH);
    if (!user || !ok || !user.is_active) {
      await this.repo.recordSignInFailure(email, origin.ip, new Date());
      await this.audit.record({ actor: ANONYMOUS, action: 'auth.sign_in', outcome: 'failed', summary: `Failed sign-in for ${email}`, targetType: 'user', targetId: user?.id, ...origin });
      throw authErrors.SIGN_IN_FAILED();
    }
    const token = await this.startSession(user.id, origin.ip);
    await this.repo.clearSignInFailures(email);
    await this.repo.markSignedIn(user.id, new Date());
    await this.audit.record({ actor: this.userActor(user), action: 'auth.sign_in', outcome: 'ok', summary: `${user.email} signed in`, targetType: 'user', targetId: user.id, ...origin });
    return { token, user };
  }

  private async startSession(userId: string, ip: string): Promise<string> {
    const token = randomToken();
    const now = new Date();
    await this.repo.createSession({ token_hash: hashToken(this.config.secret, token), user_id: userId, created_at: now, last_seen_at: now, expires_at: this.expiry(now), ip });
    return token;
  }

  private expiry(from: Date): Date {
    return new Date(from.getTime() + this.config.sessionHours * 3_600_000);
  }

  /** The actor behind a session cookie, or undefined when it is unknown, expired or its user deactivated. */
  async actorForSession(token: string): Promise<Actor | undefined> {
    const tokenHash = hashToken(this.config.secret, token);
    const s = await this.repo.sessionWithUser(tokenHash);
    const now = new Date();
    if (!s?.is_active || s.expires_at <= now) return undefined;
    // Slide the expiry, but write at most once a minute per session.
    if (now.getTime() - s.last_seen_at.getTime() > 60_000) await this.repo.touchSession(tokenHash, now, this.expiry(now));
    const roles = await this.repo.rolesOf(s.user_id);
    return { type: 'user', id: s.user_id, label: s.email, roles, permissions: permissionsOf(roles), sessionHash: tokenHash };
  }

  async signOut(token: string): Promise<void> {
    await this.repo.deleteSession(hashToken(this.config.secret, token));
  }

  /** The actor behind an API key, or undefined when it is malformed, unknown, expired or revoked. */
  async actorForKey(key: string): Promise<Actor | undefined> {
    const m = KEY_PATTERN.exec(key);
    if (!m) return undefined;
    const row = await this.repo.keyByPrefix(m[2]);
    if (!row || row.type !== m[1] || !safeEqual(row.secret_hash, hashToken(this.config.secret, key))) return undefined;
    const now = new Date();
    if (row.revoked_at || (row.expires_at && row.expires_at <= now)) return undefined;
    if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000) await this.repo.touchKey(row.id, now);
    return { type: 'key', id: row.id, label: `key ${row.name}`, roles: [], permissions: new Set(row.scopes_json), keyType: row.type };
  }

  /** Changes the signed-in user's password and ends their other sessions. */
  async changePassword(actor: Actor, current: string, next: string, origin: RequestOrigin): Promise<void> {
    const user = actor.id ? await this.repo.userById(actor.id) : undefined;
    if (!user) throw authErrors.PASSWORD_INCORRECT();
    if (!(await verifyPassword(current, user.password_hash))) {
      await this.audit.record({
        actor,
        action: 'auth.password_change',
        outcome: 'failed',
        summary: 'Password change refused: current password wrong',
        targetType: 'user',
        targetId: user.id,
        ...origin,
      });
      throw authErrors.PASSWORD_INCORRECT();
    }
    checkPasswordStrength(next, user.email);
    const hash = await hashPassword(next);
    await this.db.transaction(async (trx) => {
      await this.repo.setPassword(user.id, hash, new Date(), trx);
      await this.repo.deleteSessionsOf(user.id, actor.sessionHash, trx);
      await this.audit.record({ actor, action: 'auth.password_change', outcome: 'ok', summary: `${user.email} changed their password`, targetType: 'user', targetId: user.id, ...origin }, trx);
    });
  }

  userActor(user: UserRow): Actor {
    return { type: 'user', id: user.id, label: user.email, roles: user.roles, permissions: permissionsOf(user.roles) };
  }

  async purgeExpiredSessions(): Promise<number> {
    return this.repo.deleteExpiredSessions(new Date());
  }
}
