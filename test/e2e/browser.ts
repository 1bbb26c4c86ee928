/**
 * Helpers for the browser tests: a real Chromium (playwright-core) against the app
 * listening on a real port, with axe-core and a watch on console errors, CSP
 * violations and failed requests on every page a test visits.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { AxeResults, Result } from 'axe-core';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Locator, type Page, type Response } from 'playwright-core';
import { systemActor } from '../../src/platform/auth/actor.js';
import type { StaffRole } from '../../src/platform/auth/roles.js';
import { signIn, type TestApp, testApp } from '../app-helpers.js';
import { freePort } from '../helpers.js';

export const CHROMIUM_PATH = process.env.WEFT_CHROMIUM ?? '/usr/bin/chromium';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/** Launches the system Chromium, or fails with a message that says how to get it. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}, so the browser tests cannot run. Install it with \`apt-get install -y chromium\` (npm test does this), or set WEFT_CHROMIUM to its path.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
}

export interface LiveApp extends TestApp {
  /** http://127.0.0.1:<port>, no trailing slash */
  baseUrl: string;
}

/** The app on a fresh SQLite database, listening on a free local port; closed after the file's tests. */
export async function startApp(env: Record<string, string> = {}): Promise<LiveApp> {
  if (!Object.keys(env).length) {
    const t = await testApp('sqlite');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    return Object.assign(t, { baseUrl: `http://127.0.0.1:${port}` });
  }
  // With settings of its own, the app also knows its public address (links it makes point at itself).
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const t = await testApp('sqlite', { WEFT_PUBLIC_URL: baseUrl, WEFT_PORT: String(port), ...env });
  await t.app.listen({ port, host: '127.0.0.1' });
  return Object.assign(t, { baseUrl });
}

let counter = 0;

/** Creates a staff account directly through the service; returns its email and password. */
export async function createStaff(live: LiveApp, roles: StaffRole[], name = `Test ${roles.join(' ')}`): Promise<{ id: string; email: string; password: string; name: string }> {
  const email = `${roles.join('-')}-${++counter}-${Date.now()}@test.example`;
  const password = `pass-${Math.random().toString(36).slice(2)}-long-enough`;
  const user = await live.services.staff.createUser(systemActor('test'), { email, name, roles, password });
  return { id: user.id, email, password, name };
}

interface Problems {
  baseUrl: string;
  javaScriptEnabled: boolean;
  console: string[];
  failedRequests: string[];
}

const watched = new WeakMap<Page, Problems>();

/**
 * Opens a page in a new context (so cookies are not shared with other tests) and
 * starts recording what checkPage() asserts on.
 */
export async function newPage(browser: Browser, baseUrl: string, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: baseUrl, ...options });
  // Fail a step in seconds rather than hang the run.
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  await watch(page, baseUrl, options.javaScriptEnabled !== false);
  return { context, page };
}

async function watch(page: Page, baseUrl: string, javaScriptEnabled: boolean): Promise<void> {
  const problems: Problems = { baseUrl, javaScriptEnabled, console: [], failedRequests: [] };
  watched.set(page, problems);
  // CSP violations: Chromium logs each one as a console error, and the event below makes it explicit where scripts run.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location().url;
    // An error page (400 form errors, 403, 404, 429 too many) is the page under test, not a broken resource: Chromium logs its status as a console error.
    if (/^Failed to load resource: the server responded with a status of (400|401|403|404|429)/.test(msg.text()) && isDocumentUrl(page, where)) return;
    problems.console.push(`${msg.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('pageerror', (err) => problems.console.push(`uncaught ${err.name}: ${err.message}`));
  page.on('requestfailed', (request) => {
    const error = request.failure()?.errorText ?? 'failed';
    // A request the browser gives up itself because the page moved on (a form sent before the favicon
    // arrived) is not a failure of the app: any other error on any of our requests is.
    if (error === 'net::ERR_ABORTED' && request.resourceType() !== 'document' && request.resourceType() !== 'script' && request.resourceType() !== 'stylesheet') return;
    if (request.url().startsWith(baseUrl)) problems.failedRequests.push(`${request.method()} ${request.url()}: ${error}`);
  });
  page.on('response', (response) => {
    const request = response.request();
    // Documents may answer 4xx on purpose (form errors, 403, 404); every asset must load.
    if (response.status() >= 400 && request.resourceType() !== 'document' && response.url().startsWith(baseUrl)) {
      problems.failedRequests.push(`${request.method()} ${response.url()}: ${response.status()}`);
    }
  });
}

function isDocumentUrl(page: Page, url: string): boolean {
  if (!url) return true;
  const strip = (u: string) => u.split('#')[0];
  return strip(url) === strip(page.url());
}

function formatViolations(violations: Result[]): string {
  return violations
    .map((v) => {
      const targets = v.nodes.map((n) => `      ${n.target.join(' ')}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, ' ')}` : ''}`).join('\n');
      return `  ${v.id} (${v.impact ?? 'no impact given'}): ${v.help}\n    ${v.helpUrl}\n${targets}`;
    })
    .join('\n');
}

/** Runs axe-core on the page as it stands and returns the results. */
export async function runAxe(page: Page): Promise<AxeResults> {
  // page.evaluate runs in the page without being subject to its content security policy.
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const run = page.evaluate((values) => (window as unknown as { axe: typeof import('axe-core') }).axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations'] }), AXE_TAGS);
  return withTimeout(run, 20_000, `axe did not finish on ${page.url()}`);
}

/**
 * With JavaScript off, the page's timers never fire, so axe cannot run in it. It runs
 * instead on the same markup, scripts removed, served at the same address (so the
 * same stylesheets apply) in a separate page that allows scripts.
 */
async function runAxeOnSnapshot(page: Page): Promise<AxeResults> {
  const url = page.url();
  const html = (await page.content()).replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '').replace(/<noscript\b[^>]*>([\s\S]*?)<\/noscript>/gi, '$1');
  const copy = await twinPage(page);
  await copy.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }), { times: 1 });
  await copy.goto(url);
  assert.equal(await copy.evaluate(() => document.body.classList.contains('js-enabled')), false, 'the copy renders as it does without JavaScript');
  return runAxe(copy);
}

const twins = new WeakMap<Browser, Promise<Page>>();

/** One scripts-allowed page per browser for runAxeOnSnapshot; it closes with the browser. */
function twinPage(page: Page): Promise<Page> {
  const browser = page.context().browser();
  assert.ok(browser, 'the page has a browser');
  let twin = twins.get(browser);
  if (!twin) {
    twin = browser.newContext().then((context) => context.newPage());
    twins.set(browser, twin);
  }
  return twin;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A page's shape: its elements with the attributes accessibility depends on (classes, roles, ARIA,
 * ids and the references to them, types, language, states), with text and addresses reduced to
 * whether they are there. Pages of one shape get the same answers from axe's rules, so axe runs
 * once per shape: the same form shown again, or the same page in another test, is not checked
 * twice. Anything that changes the markup (an error summary, a row with a tag, a control a script
 * adds) is a new shape, and is checked. Under npm test the shapes that passed are shared by every
 * file of the run through WEFT_TEST_AXE_SHAPES (a directory emptied when the run starts).
 */
const checkedShapes = new Set<string>();
const SHARED_SHAPES = process.env.WEFT_TEST_AXE_SHAPES;

function shapeChecked(shape: string): boolean {
  return checkedShapes.has(shape) || (!!SHARED_SHAPES && existsSync(join(SHARED_SHAPES, shape)));
}

function noteShapeChecked(shape: string): void {
  checkedShapes.add(shape);
  if (SHARED_SHAPES) {
    mkdirSync(SHARED_SHAPES, { recursive: true });
    writeFileSync(join(SHARED_SHAPES, shape), '');
  }
}

// Plain source (not a function) so the test's compiler adds nothing to it that the page lacks.
const SHAPE_SOURCE = `(() => {
  const literal = /^(class|role|type|id|for|lang|scope|headers|colspan|rowspan|tabindex|disabled|hidden|open|checked|selected|multiple|required|readonly|autocomplete|inputmode|spellcheck|target|rel|method|action|accept|style|data-module|aria-(?!label$|valuetext$|valuenow$|placeholder$|roledescription$).*)$/;
  // Through the prototypes: a form's fields shadow its own properties (a field named "attributes").
  const get = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
  const tagOf = get(Element.prototype, 'tagName');
  const childrenOf = get(Node.prototype, 'childNodes');
  const typeOf = get(Node.prototype, 'nodeType');
  const textOf = get(Node.prototype, 'textContent');
  const out = ['title:' + (document.title ? 'T' : '')];
  const walk = (node) => {
    const type = typeOf.call(node);
    if (type === Node.TEXT_NODE) {
      if (textOf.call(node).trim()) out.push('T');
      return;
    }
    if (type !== Node.ELEMENT_NODE) return;
    const tag = tagOf.call(node).toLowerCase();
    if (tag === 'script') return;
    const attrs = Element.prototype.getAttributeNames.call(node).map((name) => {
      const value = Element.prototype.getAttribute.call(node, name);
      return literal.test(name) ? name + '=' + value : name + (value.trim() ? '+' : '');
    }).sort();
    out.push('<' + tag + ' ' + attrs.join(' ') + '>');
    for (const child of childrenOf.call(node)) walk(child);
    out.push('</' + tag + '>');
  };
  walk(document.documentElement);
  return out.join('');
})()`;

async function pageShape(page: Page): Promise<string> {
  const shape = (await page.evaluate(SHAPE_SOURCE)) as string;
  return createHash('sha256').update(shape).digest('hex');
}

export interface CheckOptions {
  /** skip axe (third-party pages only) */
  axe?: boolean;
  /** skip the console-error and CSP check (third-party pages only) */
  console?: boolean;
}

/**
 * The checks every visited page must pass: no axe violations, no console errors
 * (CSP violations included), no uncaught exceptions, and no failed request to the app.
 * Clears what it has seen, so each call checks what happened since the last.
 */
export async function checkPage(page: Page, options: CheckOptions = {}): Promise<void> {
  await page.waitForLoadState('load');
  const problems = watched.get(page);
  assert.ok(problems, 'checkPage() needs a page opened with newPage()');
  const where = `${await page.title()} <${page.url()}>`;
  if (options.axe !== false) {
    const shape = await pageShape(page);
    if (!shapeChecked(shape)) {
      const results = problems.javaScriptEnabled ? await runAxe(page) : await runAxeOnSnapshot(page);
      assert.equal(results.violations.length, 0, `axe found ${results.violations.length} accessibility violation(s) on ${where}:\n${formatViolations(results.violations)}`);
      noteShapeChecked(shape);
    }
  }
  const consoleErrors = problems.console.splice(0);
  const failed = problems.failedRequests.splice(0);
  if (options.console !== false) assert.deepEqual(consoleErrors, [], `console errors or CSP violations on ${where}:\n  ${consoleErrors.join('\n  ')}`);
  assert.deepEqual(failed, [], `failed requests on ${where}:\n  ${failed.join('\n  ')}`);
}

/** Navigates and checks the page; returns the document's response. */
export async function visit(page: Page, path: string, options: CheckOptions = {}): Promise<Response> {
  const response = await page.goto(path);
  assert.ok(response, `no response for ${path}`);
  await checkPage(page, options);
  return response;
}

/**
 * Clicks something that submits a form or follows a link and waits for the next
 * page to load; returns the status of that page's document (after redirects).
 */
export async function submit(page: Page, click: () => Promise<void>): Promise<number> {
  const [response] = await Promise.all([page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().frame() === page.mainFrame() && !isRedirect(r.status())), click()]);
  await page.waitForLoadState('load');
  return response.status();
}

const isRedirect = (status: number) => status >= 300 && status < 400;

/**
 * Signs the context in without the form (the form has its own tests): the same
 * cookies a browser gets from signing in, set on the context.
 */
export async function signInByCookie(context: BrowserContext, live: LiveApp, email: string, password: string): Promise<void> {
  const { cookie } = await signIn(live.app, email, password);
  const cookies = cookie.split('; ').map((pair) => {
    const i = pair.indexOf('=');
    return { name: pair.slice(0, i), value: pair.slice(i + 1), url: live.baseUrl, httpOnly: true, sameSite: 'Lax' as const };
  });
  assert.ok(
    cookies.some((c) => c.name === 'weft_session'),
    'signing in set a session cookie',
  );
  await context.addCookies(cookies);
}

/** Signs in through the form and checks the sign-in page on the way. */
export async function signInThroughForm(page: Page, email: string, password: string): Promise<number> {
  if (!new URL(page.url() === 'about:blank' ? 'http://x/' : page.url()).pathname.startsWith('/console/sign-in')) await visit(page, '/console/sign-in');
  await page.locator('#email').fill(email);
  await page.locator('#password').fill(password);
  return submit(page, () => page.getByRole('button', { name: 'Sign in', exact: true }).click());
}

/** The text of an element as it is shown (Playwright's innerText, not the DOM's textContent). */
export function text(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: this is Playwright's Locator, and the rendered text is what is wanted
  return locator.innerText();
}

/** The visible text of the page's <main>, whitespace collapsed. */
export async function mainText(page: Page): Promise<string> {
  return (await text(page.locator('main'))).replace(/\s+/g, ' ');
}

/**
 * In a describe(): one Chromium for its tests, closed after them, and pages opened signed in as
 * an account (each in its own context), with JavaScript on or off.
 */
export function browserFor(live: LiveApp) {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });
  return {
    browser: () => browser,
    async signedIn(account: { email: string; password: string }, javaScriptEnabled = true) {
      const { context, page } = await newPage(browser, live.baseUrl, { javaScriptEnabled });
      await signInByCookie(context, live, account.email, account.password);
      return { context, page };
    },
  };
}
