import type { Db, Executor } from '../../platform/db/database.js';

export interface PortalSignInRequestsTable {
  id: string;
  /** sign-in, or confirming a new contact point: email-change, mobile-change */
  purpose: string;
  channel: string;
  /** the email address or mobile number (normalised) it went to */
  contact: string;
  secret_hash: string;
  /** codes only: the HMAC of the cookie of the browser that asked */
  browser_hash: string | null;
  /** contact changes: whose */
  resident_id: string | null;
  language: string;
  next_path: string | null;
  attempts: number;
  ip: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  signup_hash: string | null;
  signup_expires_at: Date | null;
}

export interface PortalSessionsTable {
  token_hash: string;
  resident_id: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  ip: string | null;
}

export interface PortalLimitKeysTable {
  key: string;
  touched_at: Date;
}

declare module '../../platform/db/tables.js' {
  interface Tables {
    portal_sign_in_requests: PortalSignInRequestsTable;
    portal_sessions: PortalSessionsTable;
    portal_limit_keys: PortalLimitKeysTable;
  }
}

export type SignInRequestRow = PortalSignInRequestsTable;

/** Every SQL statement of the portal: sign-in requests and their limits, and residents' sessions. */
export class PortalRepository {
  constructor(private readonly db: Db) {}

  /**
   * Stores a request unless the contact point or the address has asked `limits.perContact` or
   * `limits.perIp` times since `since`; answers which limit refused. The two keys' rows are
   * locked meanwhile (the upsert locks them on PostgreSQL; SQLite has one writer), in one order,
   * so simultaneous requests are counted one after another and two processes cannot both let the
   * last one through.
   */
  async insertWithinLimits(row: SignInRequestRow, since: Date, limits: { perContact: number; perIp: number }): Promise<'contact' | 'ip' | undefined> {
    return this.db.transaction(async (trx) => {
      const keys = [`contact:${row.contact}`, `ip:${row.ip}`].sort().map((key) => ({ key, touched_at: row.created_at }));
      await trx
        .insertInto('portal_limit_keys')
        .values(keys)
        .onConflict((oc) => oc.column('key').doUpdateSet({ touched_at: (eb) => eb.ref('excluded.touched_at') }))
        .execute();
      if ((await this.countSince(trx, 'contact', row.contact, since)) >= limits.perContact) return 'contact';
      if ((await this.countSince(trx, 'ip', row.ip, since)) >= limits.perIp) return 'ip';
      await trx.insertInto('portal_sign_in_requests').values(row).execute();
      return undefined;
    });
  }

  private async countSince(ex: Executor, column: 'contact' | 'ip', value: string, since: Date): Promise<number> {
    const r = await ex
      .selectFrom('portal_sign_in_requests')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(column, '=', value)
      .where('created_at', '>', since)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  findBySecret(secretHash: string): Promise<SignInRequestRow | undefined> {
    return this.db.k.selectFrom('portal_sign_in_requests').selectAll().where('secret_hash', '=', secretHash).executeTakeFirst();
  }

  /** The latest code this browser asked for, for a purpose. */
  latestForBrowser(browserHash: string, purpose: string): Promise<SignInRequestRow | undefined> {
    return this.db.k
      .selectFrom('portal_sign_in_requests')
      .selectAll()
      .where('browser_hash', '=', browserHash)
      .where('purpose', '=', purpose)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** Takes one try at a code: false when it has had its tries, been used or expired. Taken before the code is compared, so simultaneous guesses cannot have more. */
  async takeTry(id: string, maxTries: number, now: Date): Promise<boolean> {
    const r = await this.db.k
      .updateTable('portal_sign_in_requests')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .where('attempts', '<', maxTries)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async attemptsOf(id: string): Promise<number> {
    const r = await this.db.k.selectFrom('portal_sign_in_requests').select('attempts').where('id', '=', id).executeTakeFirst();
    return r?.attempts ?? 0;
  }

  /** Marks a request used, once: false when it was used already or has expired. */
  async use(id: string, now: Date, ex: Executor = this.db.k): Promise<boolean> {
    const r = await ex.updateTable('portal_sign_in_requests').set({ used_at: now }).where('id', '=', id).where('used_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async setSignup(id: string, signupHash: string, expiresAt: Date): Promise<void> {
    await this.db.k.updateTable('portal_sign_in_requests').set({ signup_hash: signupHash, signup_expires_at: expiresAt }).where('id', '=', id).execute();
  }

  findSignup(signupHash: string, now: Date): Promise<SignInRequestRow | undefined> {
    return this.db.k.selectFrom('portal_sign_in_requests').selectAll().where('signup_hash', '=', signupHash).where('signup_expires_at', '>', now).executeTakeFirst();
  }

  /** Ends a sign-up, once: false when another request ended it first. */
  async endSignup(id: string, signupHash: string): Promise<boolean> {
    const r = await this.db.k.updateTable('portal_sign_in_requests').set({ signup_hash: null, signup_expires_at: null }).where('id', '=', id).where('signup_hash', '=', signupHash).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  // ---------------------------------------------------------------- sessions

  async createSession(row: PortalSessionsTable): Promise<void> {
    await this.db.k.insertInto('portal_sessions').values(row).execute();
  }

  findSession(tokenHash: string): Promise<PortalSessionsTable | undefined> {
    return this.db.k.selectFrom('portal_sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  async touchSession(tokenHash: string, at: Date, expiresAt: Date): Promise<void> {
    await this.db.k.updateTable('portal_sessions').set({ last_seen_at: at, expires_at: expiresAt }).where('token_hash', '=', tokenHash).execute();
  }

  async deleteSession(tokenHash: string): Promise<void> {
    await this.db.k.deleteFrom('portal_sessions').where('token_hash', '=', tokenHash).execute();
  }

  // ---------------------------------------------------------------- housekeeping

  /** Deletes expired sessions, requests older than `requestsBefore` and limit keys untouched since then. */
  async purge(now: Date, requestsBefore: Date): Promise<number> {
    const sessions = await this.db.k.deleteFrom('portal_sessions').where('expires_at', '<=', now).executeTakeFirst();
    const requests = await this.db.k.deleteFrom('portal_sign_in_requests').where('created_at', '<', requestsBefore).executeTakeFirst();
    await this.db.k.deleteFrom('portal_limit_keys').where('touched_at', '<', requestsBefore).execute();
    return Number(sessions.numDeletedRows) + Number(requests.numDeletedRows);
  }
}
