import AxeBuilder from '@axe-core/playwright';
import { expect, hydrated, signIn, test } from './fixtures';

// The dev server registers three demo workflows at start-up; these journeys
// run them for real (the worker executes the steps).

test('runs a workflow from its page and watches it finish without reloading', async ({ page }) => {
  await signIn(page, 'operator', '/workflows');
  await expect(page.getByRole('heading', { level: 1, name: 'Workflows' })).toBeVisible();
  for (const name of ['backup-verify', 'dlq-reprocess', 'flaky-sync']) {
    await expect(page.getByRole('link', { name, exact: true })).toBeVisible();
  }
  await page.getByRole('link', { name: 'backup-verify', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'backup-verify' })).toBeVisible();
  await expect(page.locator('svg[role="img"]').first()).toBeVisible();
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same document'));

  await page.getByLabel('Environment').selectOption('dev');
  await page.getByLabel('target').selectOption('replica');
  await page.getByRole('button', { name: 'Start run' }).click();

  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('status').locator('[data-status="succeeded"]')).toBeVisible({ timeout: 20_000 });
  expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe('same document');
  await expect(page.getByLabel('Output of dump')).toContainText('dumping replica');
  await expect(page.getByLabel('Output of report')).toContainText('backup of replica verified in dev');
  // The run names the trace its start began, linked where traces are shown.
  const trace = page.locator('a[data-trace]');
  const id = await trace.getAttribute('data-trace');
  expect(id).toMatch(/^[0-9a-f]{32}$/);
  await expect(trace).toHaveAttribute('href', `https://traces.example/trace/${id}`);
});

test('cancels a running run from its page', async ({ page }) => {
  await signIn(page, 'operator', '/workflows/dlq-reprocess');
  await hydrated(page);
  await page.getByRole('button', { name: 'Start run' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('status').locator('[data-status="running"]')).toBeVisible();
  await page.getByRole('button', { name: 'Cancel run' }).click();
  await expect(page.getByRole('status').locator('[data-status="cancelled"]')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole('button', { name: 'Cancel run' })).toHaveCount(0);
});

test('a viewer sees runs but no Run or Cancel controls', async ({ page }) => {
  await signIn(page, 'viewer', '/workflows/backup-verify');
  await expect(page.getByRole('heading', { level: 1, name: 'backup-verify' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Start run' })).toHaveCount(0);
});

test('the workflow and run pages have no serious accessibility violations', async ({ page }) => {
  await signIn(page, 'operator', '/workflows/flaky-sync');
  await hydrated(page);
  await page.getByRole('button', { name: 'Start run' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  const runUrl = page.url();
  await expect(page.getByRole('status').locator('[data-status="succeeded"], [data-status="failed"]')).toBeVisible({
    timeout: 20_000,
  });
  for (const path of ['/workflows', '/workflows/flaky-sync', '/runs', runUrl]) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious, `${path}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
  }
});
