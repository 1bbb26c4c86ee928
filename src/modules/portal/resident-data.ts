import type { Db } from '../../platform/db/database.js';
import type { HeldData, ResidentKey } from '../residents/index.js';
import { PortalResidentDataRepository } from './resident-data.repository.js';

/**
 * What the portal holds about a resident: their sessions (when they signed in, from where, never
 * the token) and the links and codes sent to sign them in (never the secret). Exported for
 * subject access; erased with the resident (sessions end, so they are signed out). Signing in
 * itself is in the audit log (`portal.sign_in`), which the residents module exports.
 */
export class PortalResidentData {
  private readonly repo: PortalResidentDataRepository;

  constructor(db: Db) {
    this.repo = new PortalResidentDataRepository(db);
  }

  async exportResident(r: ResidentKey): Promise<HeldData> {
    const contacts = [r.email, r.mobile].filter((c): c is string => !!c);
    const [sessions, requests] = await Promise.all([this.repo.sessions(r.id), this.repo.signInRequests(r.id, contacts)]);
    return {
      summary: [`Portal sessions open now: ${sessions.length}. Sign-in links and codes sent in the last day: ${requests.length} (kept a day, secrets never).`],
      sessions: sessions.map((s) => ({ startedAt: s.created_at, lastSeenAt: s.last_seen_at, endsAt: s.expires_at, ip: s.ip })),
      signInRequests: requests.map((q) => ({
        purpose: q.purpose,
        channel: q.channel,
        to: q.contact,
        ip: q.ip,
        language: q.language,
        sentAt: q.created_at,
        expiresAt: q.expires_at,
        usedAt: q.used_at,
        tries: q.attempts,
      })),
    };
  }

  /** Erasure: sessions, sign-in requests and rate-limit keys naming their contact points go. Can run again. */
  forgetResident(r: ResidentKey): Promise<Record<string, number>> {
    return this.repo.forget(
      r.id,
      [r.email, r.mobile].filter((c): c is string => !!c),
    );
  }
}
