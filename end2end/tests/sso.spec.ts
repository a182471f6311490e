import AxeBuilder from '@axe-core/playwright';
import { expect, hydrated, test as base } from './fixtures';

// Against the Gantry global-setup configured for single sign-on with a real
// OpenID provider (end2end/oidc/provider.mjs): alice is in `sre`
// (operator in dev, viewer in prod), carol in no mapped group.
const test = base.extend({
  baseURL: async ({}, use) => {
    const url = process.env.GANTRY_SSO_URL;
    if (!url) throw new Error('GANTRY_SSO_URL is not set: global-setup did not run');
    await use(url);
  },
});

/** Through the provider's login form, starting from `path`. */
async function signInAs(page: import('@playwright/test').Page, login: string, path: string) {
  await page.goto(path);
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await page.getByRole('button', { name: 'Sign in with single sign-on' }).click();
  await expect(page).toHaveURL(new RegExp(`^${process.env.OIDC_URL}/interaction/`));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

test('alice signs in through the provider, may run in dev but not prod, and signs out', async ({ page }) => {
  await signInAs(page, 'alice', '/workflows/backup-verify');
  await expect(page).toHaveURL(/\/workflows\/backup-verify$/);
  const menu = page.locator('summary[aria-label="Account menu for Alice Anders"]');
  await expect(menu).toBeVisible();
  await hydrated(page);
  const environment = page.getByLabel('Environment');
  await expect(environment.locator('option[value="dev"]')).toHaveCount(1);
  await expect(environment.locator('option[value="prod"]')).toHaveCount(0);

  const me = await page.request.get('/api/v1/me');
  expect(me.status()).toBe(200);
  const roles = (await me.json()).roles.map((r: { role: string; environment: string; source: string }) =>
    `${r.role}@${r.environment} ${r.source}`);
  expect(roles.sort()).toEqual(['operator@dev group:sre', 'viewer@prod group:sre']);

  await menu.click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  // The provider asks to confirm its own sign-out, then sends the browser back.
  await expect(page).toHaveURL(new RegExp(`^${process.env.OIDC_URL}/session/end`));
  await page.getByRole('button', { name: /yes, sign me out/i }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto('/runs');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fruns$/);
});

test('carol, whose groups map to no role, is told she holds none', async ({ page }) => {
  await signInAs(page, 'carol', '/');
  await expect(page.locator('summary[aria-label="Account menu for Carol Chen"]')).toBeVisible();
  await expect(page.getByText(/you hold no role in any environment/)).toBeVisible();
});

test('no serious accessibility violations on the sign-in page with single sign-on', async ({ page }) => {
  await page.goto('/sign-in');
  await hydrated(page);
  await expect(page.getByRole('button', { name: 'Sign in with single sign-on' })).toBeVisible();
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`)).toEqual([]);
});
