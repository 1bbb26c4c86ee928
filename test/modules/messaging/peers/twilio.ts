/**
 * A local server that speaks Twilio's REST API (2010-04-01) as far as Weft uses it, and calls
 * back as Twilio does: Messages.json (create, list), Calls.json (create), HTTP basic auth with
 * the account SID and auth token, Twilio's error bodies `{code, message, more_info, status}`,
 * form-encoded status callbacks, incoming-message webhooks and Gather actions, each signed with
 * X-Twilio-Signature. The signature is computed here independently of Weft's code, from
 * Twilio's documented recipe (checked against Twilio's published example in the tests).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PeerMessage {
  sid: string;
  to: string;
  from: string | null;
  messaging_service_sid: string | null;
  body: string;
  status: string;
  date_created: string;
  date_sent: string | null;
  error_code: number | null;
  statusCallback?: string;
}

export interface PeerCall {
  sid: string;
  to: string;
  from: string;
  twiml: string;
  status: string;
  statusCallback?: string;
}

/** What the next create request gets: the normal answer, an error, or a stored message whose answer comes too late. */
export type Scripted = 'ok' | { status: number; code: number; message: string } | { hangMs: number };

/** Twilio's request-signing recipe: HMAC-SHA1 of the URL and the sorted POST parameters' names and values, base64. */
export function signTwilio(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

/** Twilio's dates: RFC 2822 with a numeric zone, "Thu, 24 Aug 2023 05:01:45 +0000". */
export const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;
const E164 = /^\+[1-9]\d{7,14}$/;

export interface TwilioPeer {
  url: string;
  accountSid: string;
  authToken: string;
  messages: PeerMessage[];
  calls: PeerCall[];
  /** answers for the next create requests, in order; then 'ok' */
  script: Scripted[];
  /** every request: method, path and query */
  requests: string[];
  /** Twilio moves a message on and calls its StatusCallback, signed; answers Weft's response */
  messageStatus(sid: string, status: string, errorCode?: number, options?: { signWith?: string }): Promise<Response>;
  callStatus(sid: string, status: string): Promise<Response>;
  /** someone presses a key during the call: Twilio posts to the Gather action */
  press(callSid: string, digits: string, options?: { signWith?: string }): Promise<Response>;
  /** a text to the council's number: Twilio posts to the number's incoming-message webhook */
  inbound(webhookUrl: string, message: { From: string; To: string; Body: string }, options?: { signWith?: string }): Promise<Response>;
  close(): Promise<void>;
}

export async function twilioPeer(): Promise<TwilioPeer> {
  const accountSid = sid('AC');
  const authToken = randomBytes(16).toString('hex');
  const messages: PeerMessage[] = [];
  const calls: PeerCall[] = [];
  const script: Scripted[] = [];
  const requests: string[] = [];
  const base = `/2010-04-01/Accounts/${accountSid}`;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, code: number, message: string) => send(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

  const messageJson = (m: PeerMessage) => ({
    account_sid: accountSid,
    api_version: '2010-04-01',
    body: m.body,
    date_created: m.date_created,
    date_sent: m.date_sent,
    date_updated: m.date_sent ?? m.date_created,
    direction: 'outbound-api',
    error_code: m.error_code,
    error_message: null,
    from: m.from,
    messaging_service_sid: m.messaging_service_sid,
    num_media: '0',
    num_segments: '1',
    price: null,
    price_unit: 'GBP',
    sid: m.sid,
    status: m.status,
    subresource_uris: { media: `${base}/Messages/${m.sid}/Media.json` },
    to: m.to,
    uri: `${base}/Messages/${m.sid}.json`,
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const url = new URL(req.url ?? '/', 'http://peer');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const auth = req.headers.authorization ?? '';
    const [user, pass] = Buffer.from(auth.replace(/^Basic /, ''), 'base64')
      .toString('utf8')
      .split(':');
    if (!auth.startsWith('Basic ') || user !== accountSid || pass !== authToken) return error(res, 401, 20003, 'Authenticate');
    if (!url.pathname.startsWith(base)) return error(res, 404, 20404, `The requested resource ${url.pathname} was not found`);
    const path = url.pathname.slice(base.length);

    if (req.method === 'POST' && (path === '/Messages.json' || path === '/Calls.json')) {
      const next = script.shift() ?? 'ok';
      if (typeof next === 'object' && 'code' in next) return error(res, next.status, next.code, next.message);
      if (!form.To) return error(res, 400, 21604, "A 'To' phone number is required.");
      if (!E164.test(form.To)) return error(res, 400, 21211, `Invalid 'To' Phone Number: ${form.To}`);
      let body: unknown;
      if (path === '/Messages.json') {
        if (!form.From && !form.MessagingServiceSid) return error(res, 400, 21603, "A 'From' phone number is required.");
        if (!form.Body) return error(res, 400, 21602, 'Message body is required.');
        const m: PeerMessage = {
          sid: sid('SM'),
          to: form.To,
          from: form.From ?? null,
          messaging_service_sid: form.MessagingServiceSid ?? null,
          body: form.Body,
          status: form.MessagingServiceSid ? 'accepted' : 'queued',
          date_created: rfc2822(new Date()),
          date_sent: null,
          error_code: null,
          statusCallback: form.StatusCallback,
        };
        messages.push(m);
        body = messageJson(m);
      } else {
        if (!form.From) return error(res, 400, 21603, "A 'From' phone number is required.");
        if (!form.Url && !form.Twiml) return error(res, 400, 21205, 'Url parameter is required.');
        const c: PeerCall = { sid: sid('CA'), to: form.To, from: form.From, twiml: form.Twiml ?? '', status: 'queued', statusCallback: form.StatusCallback };
        calls.push(c);
        body = {
          account_sid: accountSid,
          api_version: '2010-04-01',
          sid: c.sid,
          status: 'queued',
          to: c.to,
          from: c.from,
          direction: 'outbound-api',
          date_created: null,
          date_updated: null,
          start_time: null,
          end_time: null,
          duration: null,
          price: null,
          uri: `${base}/Calls/${c.sid}.json`,
        };
      }
      if (typeof next === 'object' && 'hangMs' in next) await new Promise((r) => setTimeout(r, next.hangMs));
      return send(res, 201, body);
    }

    if (req.method === 'GET' && path === '/Messages.json') {
      const q = url.searchParams;
      const pageSize = Math.min(Number(q.get('PageSize') ?? 50), 1000);
      const page = Number(q.get('Page') ?? 0);
      const day = (s: string | null) => (s ? new Date(s).toISOString().slice(0, 10) : null);
      let list = messages.filter((m) => (!q.get('To') || m.to === q.get('To')) && (!q.get('From') || m.from === q.get('From')));
      // DateSent filters by the day a message was sent: messages not yet sent have no date_sent and never match.
      if (q.get('DateSent')) list = list.filter((m) => day(m.date_sent) === q.get('DateSent'));
      if (q.get('DateSent>')) list = list.filter((m) => m.date_sent && (day(m.date_sent) as string) >= (q.get('DateSent>') as string));
      if (q.get('DateSent<')) list = list.filter((m) => m.date_sent && (day(m.date_sent) as string) <= (q.get('DateSent<') as string));
      // Newest first; messages still queued (no date_sent) before those sent.
      list = [...list].sort(
        (a, b) =>
          (b.date_sent ? Date.parse(b.date_sent) : Number.MAX_SAFE_INTEGER) - (a.date_sent ? Date.parse(a.date_sent) : Number.MAX_SAFE_INTEGER) ||
          Date.parse(b.date_created) - Date.parse(a.date_created),
      );
      const slice = list.slice(page * pageSize, (page + 1) * pageSize);
      const pageUri = (p: number) => {
        const u = new URLSearchParams(q);
        u.set('PageSize', String(pageSize));
        u.set('Page', String(p));
        return `${base}/Messages.json?${u}`;
      };
      return send(res, 200, {
        end: page * pageSize + slice.length - 1,
        first_page_uri: pageUri(0),
        messages: slice.map(messageJson),
        next_page_uri: (page + 1) * pageSize < list.length ? pageUri(page + 1) : null,
        page,
        page_size: pageSize,
        previous_page_uri: page > 0 ? pageUri(page - 1) : null,
        start: page * pageSize,
        uri: pageUri(page),
      });
    }
    return error(res, 404, 20404, `The requested resource ${url.pathname} was not found`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  async function post(url: string, params: Record<string, string>, signWith = authToken): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilio(signWith, url, params), 'user-agent': 'TwilioProxy/1.1' },
      body: new URLSearchParams(params).toString(),
    });
  }

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    messages,
    calls,
    script,
    requests,
    async messageStatus(messageSid, status, errorCode, options = {}) {
      const m = messages.find((x) => x.sid === messageSid);
      if (!m?.statusCallback) throw new Error(`no status callback for ${messageSid}`);
      m.status = status;
      if (status === 'sent' || status === 'delivered') m.date_sent ??= rfc2822(new Date());
      if (errorCode) m.error_code = errorCode;
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        From: m.from ?? '',
        MessageSid: m.sid,
        MessageStatus: status,
        SmsSid: m.sid,
        SmsStatus: status,
        To: m.to,
      };
      if (m.messaging_service_sid) params.MessagingServiceSid = m.messaging_service_sid;
      if (errorCode) params.ErrorCode = String(errorCode);
      return post(m.statusCallback, params, options.signWith);
    },
    async callStatus(callSid, status) {
      const c = calls.find((x) => x.sid === callSid);
      if (!c?.statusCallback) throw new Error(`no status callback for ${callSid}`);
      c.status = status;
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        CallSid: c.sid,
        CallStatus: status,
        Called: c.to,
        Caller: c.from,
        Direction: 'outbound-api',
        From: c.from,
        To: c.to,
        CallbackSource: 'call-progress-events',
        SequenceNumber: '0',
        Timestamp: rfc2822(new Date()),
        ...(status === 'completed' ? { CallDuration: '24', Duration: '1' } : {}),
      };
      return post(c.statusCallback, params);
    },
    async press(callSid, digits, options = {}) {
      const c = calls.find((x) => x.sid === callSid);
      const action = c && /<Gather[^>]*\saction="([^"]+)"/.exec(c.twiml)?.[1];
      if (!c || !action) throw new Error(`call ${callSid} has no Gather`);
      const url = action
        .replace(/&amp;/g, '&')
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&apos;/g, "'");
      const params = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        CallSid: c.sid,
        CallStatus: 'in-progress',
        Called: c.to,
        Caller: c.from,
        Digits: digits,
        Direction: 'outbound-api',
        FinishedOnKey: '',
        From: c.from,
        To: c.to,
        msg: 'Gather End',
      };
      return post(url, params, options.signWith);
    },
    async inbound(webhookUrl, message, options = {}) {
      const messageSid = sid('SM');
      const params = {
        ToCountry: 'GB',
        ToState: '',
        SmsMessageSid: messageSid,
        NumMedia: '0',
        ToCity: '',
        FromZip: '',
        SmsSid: messageSid,
        FromState: '',
        SmsStatus: 'received',
        FromCity: '',
        Body: message.Body,
        FromCountry: 'GB',
        To: message.To,
        ToZip: '',
        NumSegments: '1',
        MessageSid: messageSid,
        AccountSid: accountSid,
        From: message.From,
        ApiVersion: '2010-04-01',
      };
      return post(webhookUrl, params, options.signWith);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
