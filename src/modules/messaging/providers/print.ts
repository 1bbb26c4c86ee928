import { type Accepted, type OutgoingMessage, type Provider, ProviderError } from './provider.js';

/** The print batch runs at 15:30 UK time unless the provider's settings say otherwise. */
export const DEFAULT_PRINT_CRON = '30 15 * * *';

export interface PrintSettings {
  /** when the day's batch is made, as cron in UK time (default 30 15 * * *) */
  cron?: string;
}

/**
 * Letters for Weft's own print room (kind `print`): taking a letter only says it is waiting for
 * the day's batch (print.ts), so its status stays accepted. Nothing leaves Weft here, so taking a
 * letter twice is harmless, and a send whose answer was lost is simply taken again (lookup).
 */
export class PrintProvider implements Provider {
  readonly kind = 'print';

  constructor(
    readonly id: string,
    readonly name: string,
    readonly channel: string,
    readonly settings: PrintSettings = {},
  ) {}

  async send(message: OutgoingMessage): Promise<Accepted> {
    if (message.channel !== 'letter') throw new ProviderError(`A print provider prints letters, not ${message.channel} messages.`, 'permanent');
    return { reference: message.id, status: 'pending' };
  }

  async lookup(id: string): Promise<Accepted> {
    return { reference: id, status: 'pending' };
  }
}
