import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { accountMenu, expect, hydrated, signIn, test as base } from './fixtures';

// Break-glass passkeys (docs/break-glass.md) with Chromium's virtual
// authenticator (DevTools protocol, WebAuthn domain). WebAuthn needs a
// domain name, so the browser opens the plain canary server as
// `localhost`, whose passkeys a loopback server's relying party names.
const test = base.extend({
  baseURL: async ({}, use) => {
    const url = process.env.GANTRY_CANARY_URL;
    if (!url) throw new Error('GANTRY_CANARY_URL is not set: global-setup did not run');
    await use(url.replace('127.0.0.1', 'localhost'));
  },
});

/** A platform authenticator with user verification, answering at once. */
async function virtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

test('an admin registers a passkey, breaks glass with it into a marked session, and revokes it', async ({ page }) => {
  const { cdp, authenticatorId } = await virtualAuthenticator(page);
  const name = `Virtual key ${Date.now()}`;

  await signIn(page, 'admin', '/admin/users');
  await hydrated(page);
  const section = page.locator('section.break-glass-passkeys');
  await section.getByLabel('Name', { exact: true }).fill(name);
  await section.getByRole('button', { name: 'Register a passkey' }).click();
  await expect(section.getByRole('status')).toContainText(`Registered passkey ${name}`);
  const row = section.locator(`tr[data-passkey="${name}"]`);
  await expect(row).toContainText('Never');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(await seriousViolations(page)).toEqual([]);

  // Single sign-on is down: out, and back in with the passkey.
  await accountMenu(page, 'admin').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.getByRole('link', { name: 'break-glass sign-in' }).click();
  await expect(page).toHaveURL(/\/break-glass$/);
  await hydrated(page);
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByLabel('Username').fill('admin');
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page).toHaveURL(/\/$/);
  const banner = page.locator('[data-break-glass="on"]');
  await expect(banner).toContainText('BREAK-GLASS SESSION');
  await expect(accountMenu(page, 'admin')).toBeVisible();
  // On every page.
  await page.goto('/runs');
  await expect(banner).toBeVisible();

  // On record, flagged, by the passkey's owner.
  const audit = await page.request.get('/api/v1/audit?action=auth.break_glass&limit=1');
  expect(audit.status()).toBe(200);
  const [record] = (await audit.json()).records;
  expect(record.outcome).toBe('succeeded');
  expect(record.details.break_glass).toBe(true);
  expect(record.details.passkey).toBe(name);

  // Revoked from the Users page, it signs nobody in again.
  await page.goto('/admin/users');
  await hydrated(page);
  await expect(row).not.toContainText('Never');
  await row.getByRole('button', { name: `Revoke passkey ${name} of admin` }).click();
  await expect(section.getByRole('status')).toContainText(`Revoked passkey ${name}`);
  await expect(row).toHaveCount(0);
});
