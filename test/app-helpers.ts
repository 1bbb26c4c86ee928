import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { Dialect } from '../src/platform/db/dialect.js';
import { systemActor } from '../src/platform/auth/actor.js';
import type { StaffRole } from '../src/platform/auth/roles.js';
import { createServices, type Services } from '../src/services.js';
import { atEnd, freshDatabase, TEST_SECRET } from './helpers.js';

export const PASSWORD = 'correct-horse-battery-staple';

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  url: string;
  /** signs a new user with these roles in; returns what a browser would send */
  signInAs(roles: StaffRole[], email?: string): Promise<Browser>;
  /** creates an API key with these permissions and returns the whole key */
  key(scopes: string[], type?: 'live' | 'team' | 'test'): Promise<string>;
}

export interface Browser {
  cookie: string;
  csrf: string;
  userId: string;
  email: string;
}

const CSRF = /name="_csrf" value="([^"]+)"/;

/** The app on a fresh database of the given dialect, with the real services; closed after the file's tests. */
export async function testApp(dialect: Dialect, env: Record<string, string> = {}): Promise<TestApp> {
  const { url, dataDir, db } = await freshDatabase(dialect);
  const config = loadConfig({ WEFT_DATABASE_URL: url, WEFT_DATA_DIR: dataDir, WEFT_SECRET: TEST_SECRET, WEFT_LOG_LEVEL: 'silent', ...env }, { file: '/nonexistent' });
  const services = await createServices(config, db, { info() {}, warn() {}, error() {} });
  const app = await buildApp(services, { quiet: true });
  await app.ready();
  atEnd(async () => {
    await app.close();
    await services.close(0);
  });
  let n = 0;
  const t: TestApp = {
    app,
    services,
    url,
    async signInAs(roles, email = `${roles.join('-')}-${++n}-${Date.now()}@test.example`) {
      const user = await services.staff.createUser(systemActor('test'), { email, name: `Test ${roles.join(' ')}`, roles, password: PASSWORD });
      return signIn(app, email, PASSWORD, user.id);
    },
    async key(scopes, type = 'live') {
      const actor = { ...systemActor('test'), permissions: new Set(scopes) };
      return (await services.staff.createKey(actor, { name: `test key ${++n}`, type, scopes })).key;
    },
  };
  return t;
}

/** Signs in through the real form, as a browser would, and returns the cookies and a CSRF token. */
export async function signIn(app: FastifyInstance, email: string, password: string, userId = ''): Promise<Browser> {
  const form = await app.inject({ method: 'GET', url: '/console/sign-in' });
  const anchor = cookieHeader(form.headers['set-cookie']);
  const token = CSRF.exec(form.body)?.[1] ?? '';
  const res = await app.inject({ method: 'POST', url: '/console/sign-in', headers: { cookie: anchor }, payload: { email, password, _csrf: token } });
  if (res.statusCode !== 303) throw new Error(`sign-in failed: ${res.statusCode} ${res.body.slice(0, 200)}`);
  const cookie = mergeCookies(anchor, cookieHeader(res.headers['set-cookie']));
  const home = await app.inject({ method: 'GET', url: '/console/account/password', headers: { cookie } });
  return { cookie, csrf: CSRF.exec(home.body)?.[1] ?? '', userId, email };
}

export function cookieHeader(setCookie: string | string[] | undefined): string {
  const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  return list.map((c) => c.split(';')[0]).join('; ');
}

function mergeCookies(...headers: string[]): string {
  const jar = new Map<string, string>();
  for (const h of headers) for (const part of h.split('; ').filter(Boolean)) jar.set(part.split('=')[0], part);
  return [...jar.values()].join('; ');
}

export function csrfFrom(html: string): string {
  return CSRF.exec(html)?.[1] ?? '';
}
