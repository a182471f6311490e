import AxeBuilder from '@axe-core/playwright';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, hydrated, signIn, test } from './fixtures';

// `serve --dev` without --secrets-file-root writes a fresh demo token per
// environment beside its database and registers `secret-demo`, whose step
// prints the token (masked) and its length.

/** The dev environment's demo token, as the server wrote it at start. */
function demoToken(): string {
  const dir = process.env.GANTRY_E2E_DIR;
  if (!dir) throw new Error('GANTRY_E2E_DIR is not set: global-setup did not run');
  return readFileSync(join(dir, 'demo-secrets', 'dev', 'api-token'), 'utf8');
}

async function noSeriousViolations(page: import('@playwright/test').Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${what}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
}

test('a run with a secret shows its output masked and its access record', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const token = demoToken();
  expect(token).toMatch(/^demo-dev-/);

  await signIn(page, 'operator', '/workflows/secret-demo');
  await expect(page.getByRole('heading', { level: 1, name: 'secret-demo' })).toBeVisible();
  const refs = page.getByRole('table', { name: /secret references/ });
  await expect(refs.locator('tr[data-secret="API_TOKEN"]')).toBeVisible();
  await expect(refs.locator('td[data-environment="dev"]')).toContainText('/dev/api-token');
  await expect(refs.locator('td[data-environment="dev"]')).toContainText('shared provider');
  await noSeriousViolations(page, 'workflow page');

  await hydrated(page);
  await page.getByLabel('Environment').selectOption('dev');
  await page.getByRole('button', { name: 'Start run' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('status').locator('[data-status="succeeded"]')).toBeVisible({ timeout: 20_000 });

  const output = page.getByLabel('Output of call-api');
  await expect(output).toContainText('token is ***');
  await expect(output).toContainText(`token length: ${token.length}`);
  const accesses = page.getByRole('table', { name: /Each fetch by each attempt/ });
  const row = accesses.locator('tr[data-secret="API_TOKEN"]');
  await expect(row).toContainText('call-api');
  await expect(row).toContainText(/file:\/.*\/demo-secrets\/dev\/api-token/);
  await expect(row.locator('[data-fetch="ok"]')).toHaveText(/Fetched/);
  expect(await page.content()).not.toContain(token);

  // Server-rendered the same way (no JavaScript needed to see it).
  await page.reload();
  await expect(page.getByLabel('Output of call-api')).toContainText('token is ***');
  await expect(page.locator('tr[data-secret="API_TOKEN"] [data-fetch="ok"]')).toBeVisible();
  expect(await page.content()).not.toContain(token);
  await noSeriousViolations(page, 'run page');
  expect(errors).toEqual([]);
});

test('Admin → Secret providers shows the file provider healthy, never a value', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, 'admin', '/admin');
  await page.getByRole('link', { name: 'Secret providers' }).click();
  await expect(page).toHaveURL(/\/admin\/secret-providers$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Secret providers' })).toBeVisible();
  const row = page.getByRole('table', { name: /secret providers/ }).locator('tr[data-provider="file"]');
  await expect(row.locator('[data-health="healthy"]')).toHaveText(/Healthy/);
  await expect(row).toContainText('every environment without its own');
  await hydrated(page);
  expect(await page.content()).not.toContain(demoToken());
  await noSeriousViolations(page, 'secret providers page');

  // Every fetch is in the audit log, under its own family.
  await page.goto('/audit');
  await expect(page.getByLabel('Action', { exact: true }).locator('option[value="secret."]')).toHaveCount(1);
  expect(errors).toEqual([]);
});
