import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, hydrated, signIn, test as base, guardCsp } from './fixtures';

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
async function signInAs(page: Page, login: string, path: string, provider = process.env.OIDC_URL) {
  await page.goto(path);
  await expect(page).toHaveURL(/\/sign-in\?next=/);
  await page.getByRole('button', { name: 'Sign in with single sign-on' }).click();
  await atProviderLogIn(page, login, provider);
}

/** Fills the provider's login form, which the browser must be at. */
async function atProviderLogIn(page: Page, login: string, provider = process.env.OIDC_URL) {
  await expect(page).toHaveURL(new RegExp(`^${provider}/interaction/`));
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

test('an admin disables dave on the Users page: his open session ends at once, and he is back once enabled', async ({ browser, page }) => {
  // Dave (sre) signs in through the provider in a browser of his own.
  const daveContext = await browser.newContext();
  const dave = guardCsp(await daveContext.newPage());
  await signInAs(dave, 'dave', '/runs');
  await expect(dave).toHaveURL(/\/runs$/);

  // The demo admin (this server also runs in dev mode) sees why dave holds what he holds.
  await signIn(page, 'admin', '/admin/users');
  await hydrated(page);
  const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /Dave Dietz/ }) });
  await expect(row).toContainText('operator@dev');
  await expect(row).toContainText('from group:sre');
  await expect(row).toContainText('Single sign-on');
  await row.getByRole('button', { name: 'Disable dave' }).click();
  await expect(page.getByRole('status')).toContainText('Dave Dietz is disabled');
  await expect(row).toContainText('Disabled');

  await dave.goto('/runs');
  await expect(dave).toHaveURL(/\/sign-in\?next=%2Fruns$/);
  await dave.getByRole('button', { name: 'Sign in with single sign-on' }).click();
  // Still signed in at the provider, so it answers at once: refused here.
  await expect(dave).toHaveURL(/\/sign-in\?/);
  await expect(dave.getByRole('alert')).toContainText('disabled');

  await row.getByRole('button', { name: 'Enable dave' }).click();
  await expect(row).toContainText('Active');
  await dave.getByRole('button', { name: 'Sign in with single sign-on' }).click();
  await expect(dave.locator('summary[aria-label="Account menu for Dave Dietz"]')).toBeVisible();
  await daveContext.close();
});

test.describe('against a provider of its own', () => {
  // These doctor the provider's next token and rotate its keys, so they run
  // one at a time, against a Gantry and a provider no other test uses; that
  // Gantry's sensitive actions also need a sign-in within the last 5 s.
  test.describe.configure({ mode: 'serial' });
  test.use({
    baseURL: async ({}, use) => {
      const url = process.env.GANTRY_STEP_UP_URL;
      if (!url) throw new Error('GANTRY_STEP_UP_URL is not set: global-setup did not run');
      await use(url);
    },
  });
  const own = () => process.env.OIDC_OWN_URL!;

  test('a stale sign-in is sent back to the provider to log in again, then the action goes through', async ({ page }) => {
    await signInAs(page, 'bob', '/admin/tokens', own());
    await expect(page).toHaveURL(/\/admin\/tokens$/);
    // Wait out the window: the first creation succeeds, repeats of the same
    // name conflict, and once the sign-in is stale creation asks for step-up.
    const name = `step-up-${Date.now().toString(36)}`;
    await expect
      .poll(
        async () =>
          (await page.request.post('/api/v1/tokens', { data: { name, roles: ['viewer@dev'] }, headers: { 'sec-fetch-site': 'same-origin' } })).status(),
        { timeout: 20_000, intervals: [500] },
      )
      .toBe(401);

    await page.reload();
    await page.getByLabel('Name', { exact: true }).fill(`${name}-ui`);
    await page.getByRole('checkbox', { name: 'viewer in dev' }).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect(page.getByText('this needs a recent sign-in')).toBeVisible();
    await page.getByRole('link', { name: 'Sign in again' }).click();

    // The provider asks for the password again although bob is signed in there.
    await atProviderLogIn(page, 'bob', own());
    await expect(page).toHaveURL(/\/admin\/tokens$/);

    await page.getByLabel('Name', { exact: true }).fill(`${name}-ui`);
    await page.getByRole('checkbox', { name: 'viewer in dev' }).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect(page.getByLabel(`Secret of ${name}-ui`)).toBeVisible();
  });

  test('an answer replayed into another attempt is refused for its state, then as used up', async ({ page }) => {
    // The provider's answer (Gantry's callback URL with code and state) as
    // the browser delivers it; the sign-in goes through.
    let answer: string | undefined;
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/auth/callback') answer = request.url();
    });
    await signInAs(page, 'alice', '/runs', own());
    await expect(page).toHaveURL(/\/runs$/);
    expect(answer).toBeTruthy();

    // A new session starts an attempt of its own, and is handed the old answer.
    await page.context().clearCookies();
    const begin = await page.request.get('/auth/login?next=%2F', { maxRedirects: 0 });
    expect(begin.status()).toBe(303);
    await page.goto(answer!);
    await expect(page).toHaveURL(/\/sign-in\?/);
    await expect(page.getByRole('alert')).toContainText('(state)');
    // And again: the attempt is used up by any answer.
    await page.goto(answer!);
    await expect(page.getByRole('alert')).toContainText('already used');
    expect((await page.request.get('/api/v1/me')).status()).toBe(401);
  });

  test('an expired or wrongly signed ID token is refused; a rotated key is picked up', async ({ page }) => {
    for (const [how, why] of [
      ['expired', 'the ID token has expired'],
      ['foreign-key', "the ID token's signature does not verify"],
    ]) {
      const tamper = await page.request.post(`${own()}/_test/tamper-next-id-token?how=${how}`);
      expect(tamper.status()).toBe(204);
      await signInAs(page, 'alice', '/runs', own());
      await expect(page).toHaveURL(/\/sign-in\?/);
      await expect(page.getByRole('alert'), how).toContainText(why);
      expect((await page.request.get('/api/v1/me')).status(), how).toBe(401);
      await page.context().clearCookies();
    }

    expect((await page.request.post(`${own()}/_test/rotate-keys`)).status()).toBe(204);
    await signInAs(page, 'alice', '/runs', own());
    await expect(page).toHaveURL(/\/runs$/);
    await expect(page.locator('summary[aria-label="Account menu for Alice Anders"]')).toBeVisible();
  });
});
