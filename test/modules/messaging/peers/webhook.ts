/**
 * A supplier implementing Weft's signed webhook protocol (src/modules/messaging/README-providers.md),
 * written from that document: it checks Weft-Signature on every request, keeps messages by
 * Idempotency-Key (a repeated key answers the first answer again), answers lookups, and sends
 * receipts signed the same way.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SupplierMessage {
  reference: string;
  idempotencyKey: string;
  body: Record<string, unknown>;
}

export type SupplierScript = 'ok' | { status: number; message: string } | { hangMs: number };

export function signSupplier(secret: string, body: string, at = Math.floor(Date.now() / 1000)): string {
  return `t=${at},v1=${createHmac('sha256', secret).update(`${at}.${body}`).digest('hex')}`;
}

function verify(secret: string, header: string | undefined, body: string): boolean {
  const fields = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=') as [string, string]));
  const t = Number(fields.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300 || !fields.v1) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  const given = Buffer.from(fields.v1);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface WebhookSupplier {
  url: string;
  secret: string;
  messages: SupplierMessage[];
  /** requests refused for a bad signature */
  refused: number;
  script: SupplierScript[];
  /** POSTs a receipt to Weft, signed (or signed with another secret, or at another time) */
  receipt(weftUrl: string, body: Record<string, unknown>, options?: { secret?: string; at?: number }): Promise<Response>;
  close(): Promise<void>;
}

export async function webhookSupplier(): Promise<WebhookSupplier> {
  const secret = randomBytes(24).toString('hex');
  const messages: SupplierMessage[] = [];
  const script: SupplierScript[] = [];
  const state = { refused: 0 };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (!verify(secret, req.headers['weft-signature'] as string | undefined, raw)) {
      state.refused++;
      return json(res, 401, { message: 'Bad signature' });
    }
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path.startsWith('/messages/')) {
      const id = decodeURIComponent(path.slice('/messages/'.length));
      const m = messages.find((x) => x.idempotencyKey === id);
      return m ? json(res, 200, { reference: m.reference, status: 'sending' }) : json(res, 404, { message: 'No such message' });
    }
    if (req.method === 'POST' && path === '/messages') {
      const key = req.headers['idempotency-key'] as string;
      const known = messages.find((x) => x.idempotencyKey === key);
      if (known) return json(res, 200, { reference: known.reference, status: 'sending' });
      const next = script.shift() ?? 'ok';
      if (typeof next === 'object' && 'status' in next) return json(res, next.status, { message: next.message });
      const m = { reference: `sup-${randomBytes(6).toString('hex')}`, idempotencyKey: key, body: JSON.parse(raw) };
      messages.push(m);
      if (typeof next === 'object' && 'hangMs' in next) await new Promise((r) => setTimeout(r, next.hangMs));
      return json(res, 202, { reference: m.reference, status: 'sending' });
    }
    return json(res, 404, { message: 'Not found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => json(res, 500, { message: String(err) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/messages`,
    secret,
    messages,
    get refused() {
      return state.refused;
    },
    script,
    async receipt(weftUrl, body, options = {}) {
      const text = JSON.stringify(body);
      return fetch(weftUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'weft-signature': signSupplier(options.secret ?? secret, text, options.at) }, body: text });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
