import nodemailer, { type Transporter } from 'nodemailer';
import { type Accepted, type OutgoingMessage, type Provider, ProviderError } from './provider.js';

export interface SmtpSettings {
  host: string;
  port: number;
  /** implicit TLS (port 465); otherwise STARTTLS when the server offers it */
  secure?: boolean;
  user?: string;
  /** sealed at rest with the provider's other secrets */
  password?: string;
  timeoutMs?: number;
}

/**
 * Email by SMTP through nodemailer, pooled. SMTP cannot be asked afterwards whether it took a
 * message, so there is no lookup: a send whose answer was lost is not sent again (delivery
 * marks it technical-failure with the reason).
 */
export class SmtpProvider implements Provider {
  readonly kind = 'smtp';
  readonly channel = 'email';
  private readonly transport: Transporter;

  constructor(
    readonly id: string,
    readonly name: string,
    settings: SmtpSettings,
  ) {
    const timeout = settings.timeoutMs ?? 15_000;
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.secure ?? false,
      auth: settings.user ? { user: settings.user, pass: settings.password ?? '' } : undefined,
      pool: true,
      maxConnections: 4,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      tls: { rejectUnauthorized: !/^(127\.|localhost$)/.test(settings.host) },
    });
  }

  async send(m: OutgoingMessage): Promise<Accepted> {
    try {
      const info = await this.transport.sendMail({
        from: m.from,
        to: m.to,
        replyTo: m.replyTo ?? undefined,
        subject: m.subject,
        text: m.text,
        html: m.html,
        headers: m.headers,
        messageId: `<${m.id}@weft>`,
      });
      if (info.rejected?.length) throw new ProviderError(`The server refused ${info.rejected.join(', ')}`, 'permanent');
      return { reference: m.id, status: 'sending' };
    } catch (err) {
      throw smtpError(err);
    }
  }

  close(): void {
    this.transport.close();
  }
}

/** 5xx replies are about this message; connection trouble and 4xx are worth another try; a lost answer is unknown. */
function smtpError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = err as { responseCode?: number; code?: string; message?: string };
  const message = e.message ?? String(err);
  if (e.responseCode && e.responseCode >= 500) return new ProviderError(message, 'permanent');
  // A timeout once the message was on its way (after DATA) may have delivered it.
  if (e.code === 'ETIMEDOUT' && /DATA|message/i.test(message)) return new ProviderError(message, 'unknown');
  return new ProviderError(message, 'temporary');
}
