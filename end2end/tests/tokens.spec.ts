import AxeBuilder from '@axe-core/playwright';
import { expect, hydrated, signIn, test } from './fixtures';
import type { Page } from '@playwright/test';

// Other specs act on the same server at the same time, and token names are
// never reused, so every token here gets a name of its own.
function uniqueName(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** The token's row in the tokens table. */
function tokenRow(page: Page, name: string) {
  return page
    .getByRole('table', { name: 'Service tokens, newest first' })
    .getByRole('row')
    .filter({ has: page.getByRole('rowheader', { name, exact: true }) });
}

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

test('an admin creates a token, sees its secret once and revokes it', async ({ page }) => {
  await signIn(page, 'admin', '/admin');
  await hydrated(page);
  await page.getByRole('link', { name: 'Service tokens' }).click();
  await expect(page).toHaveURL(/\/admin\/tokens$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Service tokens' })).toBeVisible();
  // A full page load would wipe this marker; submitting in place keeps it.
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same document'));

  const name = uniqueName('e2e-js');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('checkbox', { name: 'operator in dev' }).check();
  await page.getByRole('checkbox', { name: 'viewer in all environments' }).check();
  await page.getByLabel('Expires after').selectOption('30d');
  await page.getByRole('button', { name: 'Create token' }).click();

  const secretField = page.getByLabel(`Secret of ${name}`);
  await expect(secretField).toBeFocused();
  const secret = await secretField.inputValue();
  expect(secret).toMatch(/^gantry_[A-Za-z0-9_-]{40,}$/);
  await expect(page.getByText('it is shown only this once')).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe('same document');
  expect(page.url()).not.toContain(secret);
  // The form is empty again, and the list has the new token, without its secret.
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('');
  await expect(page.getByRole('checkbox', { name: 'operator in dev' })).not.toBeChecked();
  const row = tokenRow(page, name);
  await expect(row).toContainText('operator@dev');
  await expect(row).toContainText('viewer@*');
  await expect(row).toContainText('Active');
  await expect(row).not.toContainText(secret);

  // The secret works as a bearer token, with the roles ticked.
  const bearer = { Authorization: `Bearer ${secret}` };
  const me = await page.request.get('/api/v1/me', { headers: bearer });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe(name);

  // Shown once: after a reload it is gone for good.
  await page.reload();
  await hydrated(page);
  await expect(tokenRow(page, name)).toContainText('Active');
  await expect(page.getByLabel(`Secret of ${name}`)).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);

  await tokenRow(page, name).getByRole('button', { name: `Revoke ${name}` }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Revoked' })).toContainText(`Revoked ${name}`);
  await expect(tokenRow(page, name)).toContainText('Revoked');
  await expect(tokenRow(page, name).getByRole('button')).toHaveCount(0);
  expect((await page.request.get('/api/v1/me', { headers: bearer })).status()).toBe(401);
});

test('an admin makes a SCIM token: it provisions at /scim/v2 and nothing else', async ({ page }) => {
  await signIn(page, 'admin', '/admin/tokens');
  await hydrated(page);
  const name = uniqueName('e2e-scim');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('checkbox', { name: 'SCIM provisioning token' }).check();
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = await page.getByLabel(`Secret of ${name}`).inputValue();
  await expect(tokenRow(page, name)).toContainText('SCIM provisioning');

  const bearer = { Authorization: `Bearer ${secret}` };
  const config = await page.request.get('/scim/v2/ServiceProviderConfig', { headers: bearer });
  expect(config.status()).toBe(200);
  expect(config.headers()['content-type']).toContain('application/scim+json');
  expect((await page.request.get('/api/v1/me', { headers: bearer })).status()).toBe(401);
});

test('a refused token request is explained beside its field', async ({ page }) => {
  await signIn(page, 'admin', '/admin/tokens');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill('Not A Name');
  await page.getByRole('checkbox', { name: 'viewer in dev' }).check();
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByRole('alert')).toContainText('name: use 1 to 64 characters');
  await expect(page.getByLabel('Name', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Not A Name');
  await expect(page.getByLabel(/^Secret of/)).toHaveCount(0);
});

test('the admin pages have no serious accessibility violations', async ({ page }) => {
  // A hydration mismatch panics in the browser bundle: it must not happen.
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, 'admin', '/admin');
  for (const path of ['/admin', '/admin/users', '/admin/rate-limits', '/admin/tokens']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await hydrated(page);
    expect(await seriousViolations(page), path).toEqual([]);
  }

  // With a secret on show, and with a refusal on show.
  const name = uniqueName('e2e-axe');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('checkbox', { name: 'viewer in dev' }).check();
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByLabel(`Secret of ${name}`)).toBeVisible();
  expect(await seriousViolations(page), 'secret shown').toEqual([]);
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByRole('checkbox', { name: 'viewer in dev' }).check();
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByRole('alert')).toContainText('exists');
  expect(await seriousViolations(page), 'refusal shown').toEqual([]);
  expect(errors).toEqual([]);
});

test('an operator is told the Admin area is not theirs', async ({ page }) => {
  await signIn(page, 'operator', '/admin/tokens');
  await expect(page.getByRole('heading', { level: 1, name: 'Service tokens' })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('service tokens are managed by admins');
  await expect(page.getByRole('table')).toHaveCount(0);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toHaveCount(0);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the create form shows the secret once and revoking works as plain HTML', async ({ page }) => {
    await page.goto('/admin/tokens');
    await page.getByRole('button', { name: 'Sign in as Ada Admin' }).click();
    await expect(page).toHaveURL(/\/admin\/tokens$/);
    await expect(page.locator('.app')).toHaveAttribute('data-hydrated', 'false');

    // A refusal first: the message, and the form as it was sent.
    await page.getByLabel('Name', { exact: true }).fill('Not A Name');
    await page.getByRole('checkbox', { name: 'operator in dev' }).check();
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect(page.getByRole('alert')).toContainText('name: use 1 to 64 characters');
    await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Not A Name');
    await expect(page.getByRole('checkbox', { name: 'operator in dev' })).toBeChecked();

    const name = uniqueName('e2e-nojs');
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect(page).toHaveURL(/\/admin\/tokens$/);
    const secretField = page.getByLabel(`Secret of ${name}`);
    await expect(secretField).toHaveValue(/^gantry_/);
    const secret = await secretField.inputValue();
    expect(page.url()).not.toContain(secret);
    await expect(tokenRow(page, name)).toContainText('operator@dev');
    const me = await page.request.get('/api/v1/me', { headers: { Authorization: `Bearer ${secret}` } });
    expect((await me.json()).username).toBe(name);

    await tokenRow(page, name).getByRole('button', { name: `Revoke ${name}` }).click();
    await expect(page).toHaveURL(/\/admin\/tokens$/);
    await expect(tokenRow(page, name)).toContainText('Revoked');
    await expect(page.getByLabel(`Secret of ${name}`)).toHaveCount(0);
  });
});
