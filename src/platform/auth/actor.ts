/**
 * Who is making a request: a staff member, an API key, a device (its own token), a
 * network-server integration (LoRaWAN webhooks), a messaging service's Notify-style key,
 * a resident signed in to the portal (their own session), the system itself, or nobody yet.
 */
export interface Actor {
  type: 'user' | 'key' | 'device' | 'integration' | 'service' | 'resident' | 'system' | 'anonymous';
  id: string | null;
  /** an email or a key name: what the audit log shows */
  label: string;
  permissions: ReadonlySet<string>;
  roles: readonly string[];
  /** for keys: live, team or test (messaging service keys: normal, team or test) */
  keyType?: string;
  /** for messaging service keys: the service they send for */
  serviceId?: string;
  /** for sessions: the stored hash of the session token */
  sessionHash?: string;
}

export const ANONYMOUS: Actor = Object.freeze({ type: 'anonymous', id: null, label: 'anonymous', permissions: new Set<string>(), roles: [] });

export function systemActor(label = 'system'): Actor {
  return { type: 'system', id: null, label, permissions: new Set<string>(), roles: [] };
}

export function can(actor: Actor, permission: string): boolean {
  return actor.permissions.has(permission);
}
