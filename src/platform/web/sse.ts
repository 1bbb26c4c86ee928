import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** How often an idle stream gets a comment line, so proxies keep it open (tests shorten it). */
export const eventStreams = { heartbeatMs: 15_000 };

/** A client that cannot keep up misses events (its next refresh shows them) rather than the server holding them. */
const MAX_BUFFERED = 1_000_000;

/** What a stream's source gets: a way to send an event; it returns the function that stops it. */
export type StreamSource = (send: (event: string, data: unknown) => void) => () => void;

/**
 * Server-Sent Events for the plugin's routes: `open` turns a request into a stream fed by `source`,
 * with a heartbeat, closed when the client goes or the server shuts down.
 */
export function eventStreamsFor(app: FastifyInstance): { open(request: FastifyRequest, reply: FastifyReply, source: StreamSource): void } {
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const close of [...streams]) close();
  });
  return {
    open(request, reply, source) {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 5000\n\n');
      const off = source((event, data) => {
        if (res.writableLength > MAX_BUFFERED) return;
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      });
      const beat = setInterval(() => res.write(': heartbeat\n\n'), eventStreams.heartbeatMs);
      beat.unref();
      const close = () => {
        if (!streams.delete(close)) return;
        off();
        clearInterval(beat);
        res.end();
      };
      streams.add(close);
      request.raw.on('close', close);
      res.on('error', close);
    },
  };
}
