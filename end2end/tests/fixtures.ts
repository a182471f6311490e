import { test as base, expect, type Page } from '@playwright/test';

/** Content-Security-Policy violations the browser reported in this test's
 *  pages (the server's policy: app/src/csp.rs). */
const cspViolations: string[] = [];

/** Collects `page`'s CSP violations; every test ends by asserting there
 *  were none. The `page` fixture is guarded already; call it for pages of
 *  contexts a test makes itself. */
export function guardCsp(page: Page) {
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      cspViolations.push(`${page.url()}: ${message.text()}`);
    }
  });
  return page;
}

/** The violations seen so far, cleared: for a test that provokes one on
 *  purpose. */
export function takeCspViolations(): string[] {
  return cspViolations.splice(0);
}

/** Tests run against the server global-setup started. */
export const test = base.extend<{ cspGuard: void }>({
  baseURL: async ({}, use) => {
    const url = process.env.GANTRY_URL;
    if (!url) throw new Error('GANTRY_URL is not set: global-setup did not run');
    await use(url);
  },
  page: async ({ page }, use) => {
    await use(guardCsp(page));
  },
  cspGuard: [
    async ({}, use) => {
      cspViolations.length = 0;
      await use();
      expect(cspViolations, cspViolations.join('\n')).toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export const demoUsers = {
  admin: 'Ada Admin',
  approver: 'Avery Approver',
  operator: 'Oscar Operator',
  viewer: 'Vera Viewer',
  auditor: 'Aubrey Auditor',
} as const;

/** Signs in through the dev login form, starting from `path`. */
export async function signIn(page: Page, user: keyof typeof demoUsers, path = '/') {
  await page.goto(path);
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await page.getByRole('button', { name: `Sign in as ${demoUsers[user]}` }).click();
  await expect(accountMenu(page, user)).toBeVisible();
}

/** The user menu's disclosure (a `<summary>`, which has no button role). */
export function accountMenu(page: Page, user: keyof typeof demoUsers) {
  return page.locator(`summary[aria-label="Account menu for ${demoUsers[user]}"]`);
}

/** Waits until the browser bundle has hydrated the server-rendered page. */
export async function hydrated(page: Page) {
  await expect(page.locator('.app')).toHaveAttribute('data-hydrated', 'true');
}
