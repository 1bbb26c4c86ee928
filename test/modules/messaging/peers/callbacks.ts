import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CallbackCall {
  auth: string | undefined;
  body: Record<string, unknown>;
}

/**
 * A service's callback endpoint, as a council system would run one: records each POST (its
 * bearer token and JSON body) and answers with the next status queued in `answers` (else `ok`).
 */
export async function callbackServer(path: string, ok = 200) {
  const calls: CallbackCall[] = [];
  const answers: number[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      calls.push({ auth: req.headers.authorization, body: JSON.parse(data) });
      res.statusCode = answers.shift() ?? ok;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, calls, answers, close: () => new Promise<void>((r) => server.close(() => r())) };
}
