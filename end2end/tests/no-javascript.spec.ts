import { expect, test } from './fixtures';

// The same journeys with JavaScript off: every form still works.
test.use({ javaScriptEnabled: false });

test('sign in and save preferences with plain HTML forms', async ({ page }) => {
  await page.goto('/preferences');
  await page.getByRole('button', { name: 'Sign in as Vera Viewer' }).click();
  await expect(page).toHaveURL(/\/preferences$/);
  await expect(page.locator('.app')).toHaveAttribute('data-hydrated', 'false');

  await page.getByLabel('Theme').selectOption('light');
  await page.getByLabel('Show times in').selectOption('local');
  await page.getByRole('button', { name: 'Save preferences' }).click();

  await expect(page).toHaveURL(/\/preferences\??$/);
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await expect(page.getByLabel('Show times in')).toHaveValue('local');
});

test('the user menu opens and signs out without JavaScript', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Sign in as Oscar Operator' }).click();
  // The Overview also names people (recent deployments): open the menu itself.
  await page.locator('summary[aria-label="Account menu for Oscar Operator"]').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
});

test('start a run and cancel it with plain HTML forms', async ({ page }) => {
  await page.goto('/workflows/dlq-reprocess');
  await page.getByRole('button', { name: 'Sign in as Oscar Operator' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'dlq-reprocess' })).toBeVisible();
  await page.getByLabel('batch_size').fill('25');
  await page.getByRole('button', { name: 'Start run' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect(page.getByText('25', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Cancel run' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}/);
  await expect(page.getByRole('status')).toContainText(/Cancelled|Stop requested/);
});
