import { randomInt } from 'node:crypto';
import { type Actor, ANONYMOUS } from '../../platform/auth/actor.js';
import { hashToken, randomToken, safeEqual } from '../../platform/auth/secrets.js';
import type { AuditService } from '../../platform/audit/audit.service.js';
import type { Origin } from '../../platform/audit/origin.js';
import type { Db } from '../../platform/db/database.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../services.js';
import type { MessagingService } from '../messaging/index.js';
import type { ResidentsService, ResidentView } from '../residents/index.js';
import { checkEmail, checkPhone } from '../messaging/recipients.js';
import { portalErrors } from './portal.errors.js';
import { PortalRepository, type SignInRequestRow } from './portal.repository.js';
import { type Confirmed, type ContactPoint, LIMITS, type Purpose } from './portal.schema.js';
import { PortalSender } from './portal.sender.js';

/** The one permission a resident's session holds: their own pages. Staff sessions and API keys never reach the portal's pages. */
export const PORTAL_PERMISSION = 'portal:account';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A resident as the actor of their own requests: no staff permissions, named in the audit by id only. */
export function residentActor(id: string, sessionHash?: string): Actor {
  return { type: 'resident', id, label: 'resident', permissions: new Set([PORTAL_PERMISSION]), roles: [], sessionHash };
}

/** Where a request came from: the address is needed for its limit. */
export type PortalOrigin = Origin & { ip: string };

/**
 * Residents signing in without a password: a one-time link by email or a 6-digit code by text
 * message, each kept only as an HMAC under the server secret (with what it is for), limited per
 * contact point and per address in the database, expiring and used once. A contact point no
 * resident has leads to signing up. Sessions are kept as HMACs too, with an idle and an absolute
 * expiry. Changing an email address or a mobile number needs the new one confirmed the same way.
 */
export class PortalService {
  readonly repo: PortalRepository;
  readonly sender: PortalSender;

  constructor(
    db: Db,
    private readonly audit: AuditService,
    private readonly residents: ResidentsService,
    messaging: MessagingService,
    private readonly config: { secret: string; publicUrl: string },
    log: Logger,
  ) {
    this.repo = new PortalRepository(db);
    this.sender = new PortalSender(messaging, log);
  }

  /** An email address or a UK mobile number as typed, normalised; PORTAL_CONTACT_INVALID when it is neither. */
  contactOf(text: string, only?: 'email' | 'sms'): ContactPoint {
    const value = text.trim();
    const isEmail = value.includes('@');
    if (isEmail && only !== 'sms') {
      const c = checkEmail(value);
      if (c.ok) return { channel: 'email', normalised: c.normalised };
    } else if (!isEmail && only !== 'email') {
      const c = checkPhone(value);
      if (c.ok) return { channel: 'sms', normalised: c.normalised };
    }
    throw portalErrors.PORTAL_CONTACT_INVALID(undefined, [{ field: only === 'sms' ? 'mobile' : only === 'email' ? 'email' : 'contact', message: 'not an email address or a UK mobile number' }]);
  }

  // ---------------------------------------------------------------- signing in

  /**
   * Sends a link (email) or a code (mobile) to sign in with, whether or not a resident has that
   * email or mobile: the same work and the same answer either way. A code is tied to the browser
   * that asked: the answer's `browserToken` goes in its cookie.
   */
  async requestSignIn(contact: string, language: 'en' | 'cy', next: string | null, origin: PortalOrigin): Promise<{ channel: 'email' | 'sms'; browserToken?: string }> {
    return this.request('sign-in', this.contactOf(contact), language, { next, residentId: null }, origin);
  }

  /** Whether a sign-in link may still be used (the page that asks to continue, before it is used). */
  async linkWorks(token: string, purpose: Purpose = 'sign-in'): Promise<boolean> {
    const row = await this.repo.findBySecret(this.hash('link', token));
    return !!row && row.purpose === purpose && !row.used_at && row.expires_at > new Date();
  }

  /** Uses a sign-in link: a session for the resident with that email, or the sign-up question. */
  async confirmLink(token: string, origin: PortalOrigin): Promise<Confirmed> {
    const row = await this.useLink(token, 'sign-in');
    return this.signInOrUp(row, origin);
  }

  /** Checks a code from the text message this browser asked for; see checkCode. */
  async confirmCode(browserToken: string, code: string, origin: PortalOrigin): Promise<Confirmed> {
    const row = await this.checkCode(browserToken, 'sign-in', code);
    return this.signInOrUp(row, origin);
  }

  /** The code this browser is waiting for, if it still works: where it went and how many tries it has left. */
  async pendingCode(browserToken: string | undefined, purpose: Purpose): Promise<{ contact: string; triesLeft: number } | undefined> {
    if (!browserToken) return undefined;
    const row = await this.repo.latestForBrowser(this.hash('browser', browserToken), purpose);
    if (!row || row.used_at || row.expires_at <= new Date() || row.attempts >= LIMITS.codeTries) return undefined;
    return { contact: row.contact, triesLeft: LIMITS.codeTries - row.attempts };
  }

  /** The email or mobile someone proved and no resident has, while they are asked their name. */
  async signUpFor(signupToken: string | undefined): Promise<{ channel: string; contact: string; language: string } | undefined> {
    const row = signupToken ? await this.repo.findSignup(this.hash('signup', signupToken), new Date()) : undefined;
    return row && { channel: row.channel, contact: row.contact, language: row.language };
  }

  /** Makes the resident (the actor: the resident themself) with the contact point they proved, and signs them in. */
  async signUp(signupToken: string, input: { name: string; language: 'en' | 'cy' }, origin: PortalOrigin): Promise<{ token: string; residentId: string; next: string | null }> {
    const hash = this.hash('signup', signupToken);
    const row = await this.repo.findSignup(hash, new Date());
    if (!row || !(await this.repo.endSignup(row.id, hash))) throw portalErrors.PORTAL_SIGN_UP_EXPIRED();
    // Two sign-ups for one address in two browsers: the second signs in to the first's account.
    const resident =
      (await this.residentWith(row)) ??
      (await this.residents.create((id) => residentActor(id), { name: input.name, language: input.language, ...(row.channel === 'email' ? { email: row.contact } : { mobile: row.contact }) }, origin));
    const token = await this.startSession(resident, row.channel, origin);
    return { token, residentId: resident.id, next: row.next_path };
  }

  // ---------------------------------------------------------------- sessions

  /** The resident behind a session cookie, or undefined when it is unknown or has expired (idle or absolute). */
  async actorForSession(token: string): Promise<Actor | undefined> {
    const tokenHash = this.hash('session', token);
    const s = await this.repo.findSession(tokenHash);
    const now = new Date();
    if (!s || s.expires_at <= now) return undefined;
    // Slide the idle expiry, never past the absolute one, writing at most once a minute.
    if (now.getTime() - s.last_seen_at.getTime() > MINUTE) await this.repo.touchSession(tokenHash, now, sessionExpiry(s.created_at, now));
    return residentActor(s.resident_id, tokenHash);
  }

  async signOut(token: string): Promise<void> {
    await this.repo.deleteSession(this.hash('session', token));
  }

  // ---------------------------------------------------------------- changing a contact point

  /** Sends a link to a new email address; the address changes when the link is used. */
  async requestEmailChange(actor: Actor, email: string, language: 'en' | 'cy', origin: PortalOrigin): Promise<void> {
    const resident = await this.residents.get(actor.id as string);
    const to = this.contactOf(email, 'email');
    if (to.normalised === resident.email) throw portalErrors.PORTAL_CONTACT_UNCHANGED(undefined, [{ field: 'email', message: 'unchanged' }]);
    await this.request('email-change', to, language, { next: null, residentId: resident.id }, origin);
  }

  /** Uses a link to a new email address: it becomes the resident's. The link is the proof; no session is needed. */
  async confirmEmailChange(token: string, origin: PortalOrigin): Promise<ResidentView> {
    const row = await this.useLink(token, 'email-change');
    const id = row.resident_id as string;
    return this.residents.change(residentActor(id), id, { email: row.contact }, origin);
  }

  /** Sends a code to a new mobile number, for this browser; the number changes when the code is entered. */
  async requestMobileChange(actor: Actor, mobile: string, language: 'en' | 'cy', origin: PortalOrigin): Promise<string> {
    const resident = await this.residents.get(actor.id as string);
    const to = this.contactOf(mobile, 'sms');
    if (to.normalised === resident.mobile) throw portalErrors.PORTAL_CONTACT_UNCHANGED(undefined, [{ field: 'mobile', message: 'unchanged' }]);
    const { browserToken } = await this.request('mobile-change', to, language, { next: null, residentId: resident.id }, origin);
    return browserToken as string;
  }

  async confirmMobileChange(actor: Actor, browserToken: string, code: string, origin: PortalOrigin): Promise<ResidentView> {
    const row = await this.checkCode(browserToken, 'mobile-change', code, actor.id as string);
    return this.residents.change(actor, actor.id as string, { mobile: row.contact }, origin);
  }

  /** Removes the resident's email address or mobile number, if they keep the other to sign in with. */
  async removeContact(actor: Actor, which: 'email' | 'mobile', origin: PortalOrigin): Promise<ResidentView> {
    const r = await this.residents.get(actor.id as string);
    if (!(which === 'email' ? r.mobile : r.email)) throw portalErrors.PORTAL_CONTACT_NEEDED();
    return this.residents.change(actor, r.id, { [which]: null }, origin);
  }

  /** Deletes expired sessions and sign-in requests older than a day (with the contact points they name). */
  purge(now = new Date()): Promise<number> {
    return this.repo.purge(now, new Date(now.getTime() - LIMITS.keepRequestsHours * HOUR));
  }

  // ---------------------------------------------------------------- inside

  private async request(
    purpose: Purpose,
    to: ContactPoint,
    language: 'en' | 'cy',
    extra: { next: string | null; residentId: string | null },
    origin: PortalOrigin,
  ): Promise<{ channel: 'email' | 'sms'; browserToken?: string }> {
    const now = new Date();
    const id = newId();
    const isLink = to.channel === 'email';
    const secret = isLink ? randomToken() : String(randomInt(0, 1_000_000)).padStart(6, '0');
    const browserToken = isLink ? undefined : randomToken();
    const row: SignInRequestRow = {
      id,
      purpose,
      channel: to.channel,
      contact: to.normalised,
      secret_hash: isLink ? this.hash('link', secret) : this.hash('code', `${id}:${secret}`),
      browser_hash: browserToken ? this.hash('browser', browserToken) : null,
      resident_id: extra.residentId,
      language,
      next_path: extra.next,
      attempts: 0,
      ip: origin.ip,
      created_at: now,
      expires_at: new Date(now.getTime() + (isLink ? LIMITS.linkMinutes : LIMITS.codeMinutes) * MINUTE),
      used_at: null,
      signup_hash: null,
      signup_expires_at: null,
    };
    const refused = await this.repo.insertWithinLimits(row, new Date(now.getTime() - HOUR), { perContact: LIMITS.perContactPerHour, perIp: LIMITS.perIpPerHour });
    if (refused) {
      const summary = `Refused a ${purpose} ${isLink ? 'link' : 'code'}: too many asked for ${refused === 'ip' ? 'from this address' : 'for this contact point'} in the last hour`;
      await this.audit.record({ actor: residentOrAnonymous(extra.residentId), action: 'portal.sign_in_request', outcome: 'denied', summary, ...origin });
      throw portalErrors.PORTAL_TOO_MANY_REQUESTS();
    }
    const link = `${this.config.publicUrl}${purpose === 'sign-in' ? '/sign-in/link/' : '/account/email/confirm/'}${secret}`;
    await this.sender.send(purpose, to, language, isLink ? { link } : { code: secret });
    return { channel: to.channel, browserToken };
  }

  private async useLink(token: string, purpose: Purpose): Promise<SignInRequestRow> {
    const row = token ? await this.repo.findBySecret(this.hash('link', token)) : undefined;
    if (!row || row.purpose !== purpose || !(await this.repo.use(row.id, new Date()))) throw portalErrors.PORTAL_LINK_INVALID();
    return row;
  }

  /**
   * Checks a code against the one this browser asked for. A try is taken before the code is
   * compared, so at most LIMITS.codeTries guesses are ever compared, however many arrive at once;
   * after the last wrong one the code is dead.
   */
  private async checkCode(browserToken: string, purpose: Purpose, code: string, residentId?: string): Promise<SignInRequestRow> {
    const row = browserToken ? await this.repo.latestForBrowser(this.hash('browser', browserToken), purpose) : undefined;
    const now = new Date();
    if (!row || row.used_at || row.expires_at <= now || (residentId && row.resident_id !== residentId)) throw portalErrors.PORTAL_CODE_EXPIRED();
    if (!(await this.repo.takeTry(row.id, LIMITS.codeTries, now)))
      throw (await this.repo.attemptsOf(row.id)) >= LIMITS.codeTries ? portalErrors.PORTAL_CODE_LOCKED() : portalErrors.PORTAL_CODE_EXPIRED();
    const digits = code.replace(/[\s-]/g, '');
    if (!safeEqual(row.secret_hash, this.hash('code', `${row.id}:${digits}`))) {
      if ((await this.repo.attemptsOf(row.id)) < LIMITS.codeTries) throw portalErrors.PORTAL_CODE_WRONG(undefined, [{ field: 'code', message: 'wrong' }]);
      await this.audit.record({
        actor: residentOrAnonymous(residentId ?? null),
        action: 'portal.sign_in',
        outcome: 'failed',
        summary: `A ${purpose} code was entered wrongly ${LIMITS.codeTries} times: it no longer works`,
      });
      throw portalErrors.PORTAL_CODE_LOCKED();
    }
    if (!(await this.repo.use(row.id, now))) throw portalErrors.PORTAL_CODE_EXPIRED();
    return row;
  }

  private residentWith(row: SignInRequestRow): Promise<ResidentView | undefined> {
    return this.residents.findByContact(row.channel === 'email' ? 'email' : 'mobile', row.contact);
  }

  private async signInOrUp(row: SignInRequestRow, origin: PortalOrigin): Promise<Confirmed> {
    const resident = await this.residentWith(row);
    if (resident) return { kind: 'session', token: await this.startSession(resident, row.channel, origin), residentId: resident.id, next: row.next_path };
    const signupToken = randomToken();
    await this.repo.setSignup(row.id, this.hash('signup', signupToken), new Date(Date.now() + LIMITS.signUpMinutes * MINUTE));
    return { kind: 'sign-up', signupToken, next: row.next_path };
  }

  private async startSession(resident: ResidentView, channel: string, origin: PortalOrigin): Promise<string> {
    const token = randomToken();
    const now = new Date();
    await this.repo.createSession({ token_hash: this.hash('session', token), resident_id: resident.id, created_at: now, last_seen_at: now, expires_at: sessionExpiry(now, now), ip: origin.ip });
    const how = channel === 'email' ? 'a link by email' : 'a code by text message';
    await this.audit.record({ actor: residentActor(resident.id), action: 'portal.sign_in', summary: `A resident signed in with ${how}`, targetType: 'resident', targetId: resident.id, ...origin });
    return token;
  }

  /** Every secret is kept as an HMAC under the server secret and what it is for, so one kind cannot stand for another. */
  private hash(kind: 'link' | 'code' | 'browser' | 'signup' | 'session', value: string): string {
    return hashToken(this.config.secret, `weft portal ${kind}|${value}`);
  }
}

/** A session ends 12 hours after it was last used, and 7 days after it began whatever happens. */
function sessionExpiry(createdAt: Date, lastSeen: Date): Date {
  return new Date(Math.min(lastSeen.getTime() + LIMITS.sessionIdleHours * HOUR, createdAt.getTime() + LIMITS.sessionDays * 24 * HOUR));
}

function residentOrAnonymous(residentId: string | null): Actor {
  return residentId ? residentActor(residentId) : ANONYMOUS;
}
