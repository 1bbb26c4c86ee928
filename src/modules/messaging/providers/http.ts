import { ProviderError, withTimeout } from './provider.js';

/** What an HTTP provider answered: its status and its body, parsed when it is JSON. */
export interface HttpAnswer {
  status: number;
  text: string;
  json: any;
}

/**
 * One HTTP call to a provider with a deadline. Connection failures before anything was sent
 * (refused, no such host, TLS) are `temporary`; a deadline passed or a connection dropped
 * once the request was on its way is `unknown` (the provider may have acted on it). Any
 * answer, whatever its status, is returned for the provider to classify.
 */
export async function call(url: string, init: { method: string; headers: Record<string, string>; body?: string }, timeoutMs: number): Promise<HttpAnswer> {
  return withTimeout(timeoutMs, async (signal) => {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal, redirect: 'manual' });
    } catch (err) {
      if (signal.aborted) throw err;
      throw networkError(err);
    }
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  });
}

/** Failures that mean the request never reached the provider. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

function networkError(err: unknown): ProviderError {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (err as { code?: string })?.code ?? '';
  const message = cause?.message ?? (err as Error)?.message ?? String(err);
  if (NOT_SENT.has(code)) return new ProviderError(`Could not connect: ${message}`, 'temporary');
  return new ProviderError(`The connection failed while the request was on its way: ${message}`, 'unknown');
}

/** A provider's answer that is not a success, cut short for the notification's reason. */
export function short(text: string, max = 300): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** Extra fields a message may carry for the voice and RCS channels (see README-providers.md). */
export interface ChannelExtras {
  /** the recipient's language: Welsh calls are spoken with a Welsh voice */
  language?: 'en' | 'cy';
  /** a voice template's keypad menu */
  menu?: { key: string; label: string }[];
  /** an RCS template's suggested replies */
  suggestions?: string[];
}
