/**
 * What every delivery provider offers. A provider sends one message and says whether it took
 * it; it may also answer "did you take the message with this id?" (lookup), which lets delivery
 * reconcile a send whose outcome was lost (a timeout, or a crash) instead of sending it again.
 */
export interface OutgoingMessage {
  /** the notification id: providers that take an idempotency key are given it */
  id: string;
  channel: string;
  /** email address or normalised phone number (447…) */
  to: string;
  from: string;
  replyTo?: string | null;
  subject?: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
  address?: string[];
  reference?: string | null;
  /** the recipient's language: a voice provider speaks Welsh for 'cy' */
  language?: 'en' | 'cy';
  /** voice: the keypad choices read at the end (none: the call does not wait for a key) */
  menu?: { key: string; label: string }[];
  /** RCS: suggested replies */
  suggestions?: string[];
}

export interface Accepted {
  /** the provider's id for the message, for receipts */
  reference: string;
  status: 'sending' | 'pending' | 'sent' | 'delivered';
}

/**
 * temporary: try again (or another provider); permanent: this message cannot be sent (a bad
 * address); unknown: the provider may have taken it (a timeout after sending): look it up.
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly kind: 'temporary' | 'permanent' | 'unknown',
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

export interface Provider {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly channel: string;
  send(message: OutgoingMessage): Promise<Accepted>;
  /** Did the provider take the message with this id? Given the message too, for providers that can only match by content. Throws when it cannot tell. */
  lookup?(id: string, message?: OutgoingMessage): Promise<Accepted | undefined>;
  close?(): Promise<void> | void;
}

/** Runs a provider call with a deadline; a call past it may still have reached the provider. */
export async function withTimeout<T>(ms: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await run(controller.signal);
  } catch (err) {
    if (controller.signal.aborted) throw new ProviderError(`No answer within ${ms} ms`, 'unknown');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
