/**
 * The staff console in a real browser: sign-in, staff accounts, API keys, the audit
 * log, permissions, password change and sign-out, with and without JavaScript.
 * Every page visited must pass axe and load without console errors or failed requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { checkPage, text, createStaff, launchBrowser, mainText, newPage, signInByCookie, signInThroughForm, startApp, submit, visit } from './browser.js';

const live = await startApp();
const admin = await createStaff(live, ['admin'], 'Ada Admin');

/** The texts of the links in the service navigation, in order. */
async function navLinks(page: Page): Promise<string[]> {
  return (await page.locator('.govuk-service-navigation__list a').allInnerTexts()).map((t) => t.trim());
}

const path = (page: Page) => {
  const u = new URL(page.url());
  return u.pathname + u.search;
};

describe('staff console in a browser', () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  /** A page in its own browser context, signed in as the given account, on the console home. */
  async function signedIn(account: { email: string; password: string }) {
    const { context, page } = await newPage(browser, live.baseUrl);
    await signInByCookie(context, live, account.email, account.password);
    await visit(page, '/console');
    assert.equal(path(page), '/console');
    return { context, page };
  }

  test('signing in: redirect, error summary, wrong password, then the console home', async () => {
    const { context, page } = await newPage(browser, live.baseUrl);
    try {
      await visit(page, '/console');
      assert.equal(path(page), `/console/sign-in?next=${encodeURIComponent('/console')}`);
      assert.match(await page.title(), /^Sign in – Weft console$/);

      // Nothing entered: the GOV.UK error summary, linked to each field.
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Sign in', exact: true }).click()), 400);
      await checkPage(page);
      assert.match(await page.title(), /^Error: Sign in/);
      const summary = page.locator('.govuk-error-summary');
      assert.equal((await text(summary.locator('.govuk-error-summary__title'))).trim(), 'There is a problem');
      assert.equal(await summary.locator('a[href="#email"]').count(), 1);
      assert.equal(await summary.locator('a[href="#password"]').count(), 1);
      assert.match(await text(page.locator('#email-error')), /Enter an email address/);
      // GOV.UK Frontend moves focus to the summary, and its links move focus to the field.
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('govuk-error-summary')), true);
      await summary.locator('a[href="#email"]').click();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'email');

      // A wrong password.
      assert.equal(await signInThroughForm(page, admin.email, 'not-the-right-password'), 401);
      await checkPage(page);
      assert.match(await page.title(), /^Error: Sign in/);
      assert.match(await text(page.locator('.govuk-error-summary')), /Enter a correct email address and password/);
      assert.equal(await page.locator('#email').inputValue(), admin.email);

      // The right one lands on the console home, with the admin's navigation.
      assert.equal(await signInThroughForm(page, admin.email, admin.password), 200);
      assert.equal(path(page), '/console');
      await checkPage(page);
      assert.match(await text(page.locator('h1')), /Welcome, /);
      const nav = await navLinks(page);
      for (const item of ['Home', 'Staff', 'API keys', 'Audit log']) assert.ok(nav.includes(item), `navigation has ${item}: ${nav.join(', ')}`);
      assert.equal(await text(page.locator('.govuk-service-navigation__item--active a')), 'Home');
      assert.equal(await page.locator('.govuk-service-navigation a[aria-current]').count(), 1, 'one navigation item is marked current');
    } finally {
      await context.close();
    }
  });

  test('an admin adds a staff account, and the audit log shows it', async () => {
    const { context, page } = await signedIn(admin);
    try {
      await page.getByRole('link', { name: 'Staff', exact: true }).first().click();
      await page.waitForURL('**/console/users');
      await checkPage(page);
      await submit(page, () => page.getByRole('button', { name: 'Add a staff account' }).click());
      assert.equal(path(page), '/console/users/new');
      await checkPage(page);

      // Missing fields: each gets its message.
      await page.locator('#name').fill('Nia Newcomer');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add account' }).click()), 400);
      await checkPage(page);
      assert.match(await page.title(), /^Error: Add a staff account/);
      const summary = page.locator('.govuk-error-summary');
      for (const field of ['email', 'roles', 'password']) assert.equal(await summary.locator(`a[href="#${field}"]`).count(), 1, `error summary links to #${field}`);
      for (const field of ['email', 'roles', 'password']) assert.ok(await page.locator(`#${field}-error`).isVisible(), `#${field}-error is shown`);
      assert.equal(await page.locator('#name').inputValue(), 'Nia Newcomer', 'what was typed is kept');

      // A valid submission.
      const email = `nia.newcomer-${Date.now()}@test.example`;
      await page.locator('#email').fill(email);
      await page.getByLabel('Service', { exact: true }).check();
      await page.getByLabel('Care', { exact: true }).check();
      await page.locator('#password').fill('a-first-password-for-nia');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add account' }).click()), 200);
      await checkPage(page);
      assert.match(path(page), /^\/console\/users\/[^/]+\?created=1$/);
      assert.equal(await text(page.locator('h1')), 'Nia Newcomer');
      const banner = page.locator('.govuk-notification-banner--success');
      assert.ok(await banner.isVisible());
      assert.match(await text(banner), /Staff account created/);
      assert.equal(await page.getByLabel('Service', { exact: true }).isChecked(), true);

      // It is listed.
      await page.getByRole('link', { name: 'Back to staff accounts' }).click();
      await page.waitForURL('**/console/users');
      await checkPage(page);
      const row = page.locator('tbody tr', { hasText: email });
      assert.equal(await row.count(), 1);
      assert.match(await text(row), /Nia Newcomer[\s\S]*care, service[\s\S]*Active[\s\S]*Never/);

      // The audit log records who created it.
      await page.getByRole('link', { name: 'Audit log', exact: true }).click();
      await page.waitForURL('**/console/audit');
      await checkPage(page);
      const created = page.locator('tbody tr', { hasText: `Created staff account ${email}` });
      assert.equal(await created.count(), 1);
      assert.match(await text(created), new RegExp(admin.email.replace(/[.+]/g, '\\$&')));
      assert.ok((await page.locator('tbody tr').count()) > 1, 'the unfiltered log has other entries too');

      // Filtering by search text.
      await page.getByLabel('Search').fill('nia.newcomer');
      await submit(page, () => page.getByRole('button', { name: 'Filter' }).click());
      await checkPage(page);
      assert.match(path(page), /^\/console\/audit\?q=nia\.newcomer/);
      assert.equal(await page.getByLabel('Search').inputValue(), 'nia.newcomer');
      const rows = await page.locator('tbody tr').allInnerTexts();
      assert.ok(rows.length >= 1);
      for (const r of rows) assert.match(r, /nia\.newcomer/i);

      await page.getByLabel('Search').fill('no-such-thing-in-the-log');
      await submit(page, () => page.getByRole('button', { name: 'Filter' }).click());
      await checkPage(page);
      assert.match(await mainText(page), /No entries match/);
    } finally {
      await context.close();
    }
  });

  test('an admin creates an API key, which works until it is revoked', async () => {
    const { context, page } = await signedIn(admin);
    try {
      await visit(page, '/console/keys');
      await submit(page, () => page.getByRole('button', { name: 'Create an API key' }).click());
      assert.equal(path(page), '/console/keys/new');
      await checkPage(page);

      const name = `Audit reader ${Date.now()}`;
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel('audit:read', { exact: true }).check();
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Create key' }).click()), 200);
      await checkPage(page);
      assert.match(await text(page.locator('h1')), /API key created/);
      const key = (await text(page.locator('#api-key'))).trim();
      assert.match(key, /^weft_live_/);

      const call = () => fetch(`${live.baseUrl}/api/v1/audit?limit=5`, { headers: { authorization: `Bearer ${key}` } });
      const ok = await call();
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.ok(Array.isArray(((await ok.json()) as { items: unknown[] }).items));

      // The key is listed without its secret, and revoked from there.
      await page.getByRole('link', { name: 'Back to API keys' }).click();
      await page.waitForURL('**/console/keys');
      await checkPage(page);
      assert.ok(!(await page.content()).includes(key), 'the list never shows the whole key');
      const row = page.locator('tbody tr', { hasText: name });
      assert.match(await text(row), /Active/);
      await submit(page, () => row.getByRole('button', { name: `Revoke key ${name}` }).click());
      assert.equal(path(page), '/console/keys');
      await checkPage(page);
      assert.match(await text(page.locator('tbody tr', { hasText: name })), /Revoked/);
      assert.equal(await page.getByRole('button', { name: `Revoke key ${name}` }).count(), 0);

      const refused = await call();
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { code: string }).code, 'AUTH_INVALID');
    } finally {
      await context.close();
    }
  });

  test('a viewer is refused the staff pages and is not offered them', async () => {
    const viewer = await createStaff(live, ['viewer'], 'Vic Viewer');
    const { context, page } = await signedIn(viewer);
    try {
      const nav = await navLinks(page);
      assert.ok(!nav.includes('Staff'), `no Staff link for a viewer: ${nav.join(', ')}`);
      assert.ok(!nav.includes('API keys'));
      assert.ok(!nav.includes('Audit log'));
      assert.equal(await page.locator('main a[href="/console/users"]').count(), 0);

      const response = await visit(page, '/console/users');
      assert.equal(response.status(), 403);
      assert.match(await text(page.locator('h1')), /You do not have permission/);
      assert.match(await page.title(), /You do not have permission/);
      assert.ok(!(await mainText(page)).includes('Staff accounts'));
      assert.ok(!(await navLinks(page)).includes('Staff'));
    } finally {
      await context.close();
    }
  });

  test('changing your password', async () => {
    const person = await createStaff(live, ['officer'], 'Olu Officer');
    const { context, page } = await signedIn(person);
    try {
      await page.getByRole('link', { name: 'Change your password' }).click();
      await page.waitForURL('**/console/account/password');
      await checkPage(page);

      const newPassword = 'a-brand-new-password-for-olu';
      await page.locator('#current').fill(person.password);
      await page.locator('#password').fill(newPassword);
      await page.locator('#confirm').fill('something-else-entirely');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Change password' }).click()), 400);
      await checkPage(page);
      assert.match(await page.title(), /^Error: Change your password/);
      assert.equal(await page.locator('.govuk-error-summary a[href="#confirm"]').count(), 1);
      assert.match(await text(page.locator('#confirm-error')), /do not match/);

      await page.locator('#current').fill(person.password);
      await page.locator('#password').fill(newPassword);
      await page.locator('#confirm').fill(newPassword);
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Change password' }).click()), 200);
      await checkPage(page);
      assert.doesNotMatch(await page.title(), /^Error/);
      const banner = page.locator('.govuk-notification-banner--success');
      assert.match(await text(banner), /Your password has been changed/);

      // The new password is the one that works now.
      const { context: other, page: fresh } = await newPage(browser, live.baseUrl);
      try {
        assert.equal(await signInThroughForm(fresh, person.email, person.password), 401);
        await checkPage(fresh);
        assert.equal(await signInThroughForm(fresh, person.email, newPassword), 200);
        assert.equal(path(fresh), '/console');
        await checkPage(fresh);
      } finally {
        await other.close();
      }
    } finally {
      await context.close();
    }
  });

  test('signing out', async () => {
    const person = await createStaff(live, ['comms'], 'Cai Comms');
    const { context, page } = await signedIn(person);
    try {
      const signOut = page.locator('.govuk-service-navigation').getByRole('button', { name: 'Sign out' });
      assert.ok(await signOut.isVisible());
      await submit(page, () => signOut.click());
      assert.equal(new URL(page.url()).pathname, '/console/sign-in');
      await checkPage(page);
      assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
      assert.ok(!(await context.cookies()).some((c) => c.name === 'weft_session'), 'the session cookie is gone');

      await visit(page, '/console');
      assert.equal(new URL(page.url()).pathname, '/console/sign-in');
    } finally {
      await context.close();
    }
  });

  test('without JavaScript, an admin signs in and adds a staff account', async () => {
    const { context, page } = await newPage(browser, live.baseUrl, { javaScriptEnabled: false });
    try {
      await visit(page, '/console/users/new');
      assert.equal(new URL(page.url()).pathname, '/console/sign-in');
      assert.equal(await page.evaluate(() => document.body.classList.contains('js-enabled')), false, 'JavaScript is really off');
      assert.equal(await signInThroughForm(page, admin.email, admin.password), 200);
      assert.equal(path(page), '/console/users/new', 'sign-in returns to the page asked for');
      await checkPage(page);

      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add account' }).click()), 400);
      await checkPage(page);
      assert.match(await text(page.locator('.govuk-error-summary')), /There is a problem/);

      const email = `no-js-${Date.now()}@test.example`;
      await page.locator('#name').fill('Noor NoScript');
      await page.locator('#email').fill(email);
      await page.getByLabel('Viewer', { exact: true }).check();
      await page.locator('#password').fill('a-first-password-for-noor');
      assert.equal(await submit(page, () => page.getByRole('button', { name: 'Add account' }).click()), 200);
      await checkPage(page);
      assert.equal(await text(page.locator('h1')), 'Noor NoScript');
      assert.match(await text(page.locator('.govuk-notification-banner--success')), /Staff account created/);

      await visit(page, '/console/users');
      assert.equal(await page.locator('tbody tr', { hasText: email }).count(), 1);
    } finally {
      await context.close();
    }
  });
});
