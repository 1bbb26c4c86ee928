import type { Db } from '../../platform/db/database.js';
import type { PortalSessionsTable, PortalSignInRequestsTable } from './portal.repository.js';

/** Signed-in sessions without their token's hash; sign-in requests without their secrets. */
export type SessionRow = Omit<PortalSessionsTable, 'token_hash'>;
export type SignInRow = Pick<PortalSignInRequestsTable, 'id' | 'purpose' | 'channel' | 'contact' | 'ip' | 'language' | 'created_at' | 'expires_at' | 'used_at' | 'attempts'>;

/** The portal's rows about one resident, for subject access and erasure (residents' rights). */
export class PortalResidentDataRepository {
  constructor(private readonly db: Db) {}

  sessions(residentId: string): Promise<SessionRow[]> {
    return this.db.k.selectFrom('portal_sessions').select(['resident_id', 'created_at', 'last_seen_at', 'expires_at', 'ip']).where('resident_id', '=', residentId).orderBy('created_at').execute();
  }

  /** Links and codes sent to sign them in or to confirm a contact point: theirs, or to one of their contact points. */
  signInRequests(residentId: string, contacts: string[]): Promise<SignInRow[]> {
    return this.db.k
      .selectFrom('portal_sign_in_requests')
      .select(['id', 'purpose', 'channel', 'contact', 'ip', 'language', 'created_at', 'expires_at', 'used_at', 'attempts'])
      .where((e) => e.or([e('resident_id', '=', residentId), ...(contacts.length ? [e('contact', 'in', contacts)] : [])]))
      .orderBy('created_at')
      .execute();
  }

  /** Erasure, in one transaction: their sessions (they are signed out), sign-in requests and the rate-limit keys that name their contact points. */
  async forget(residentId: string, contacts: string[]): Promise<{ sessions: number; signInRequests: number; limitKeys: number }> {
    return this.db.transaction(async (trx) => {
      const sessions = await trx.deleteFrom('portal_sessions').where('resident_id', '=', residentId).executeTakeFirst();
      const requests = await trx
        .deleteFrom('portal_sign_in_requests')
        .where((e) => e.or([e('resident_id', '=', residentId), ...(contacts.length ? [e('contact', 'in', contacts)] : [])]))
        .executeTakeFirst();
      const keys = contacts.length
        ? await trx
            .deleteFrom('portal_limit_keys')
            .where(
              'key',
              'in',
              contacts.map((c) => `contact:${c}`),
            )
            .executeTakeFirst()
        : undefined;
      return { sessions: Number(sessions.numDeletedRows), signInRequests: Number(requests.numDeletedRows), limitKeys: Number(keys?.numDeletedRows ?? 0) };
    });
  }
}
