import AxeBuilder from '@axe-core/playwright';
import { expect, hydrated, signIn, test } from './fixtures';

// Other specs act on the same server at the same time, so these journeys
// find their own records by actor and action rather than by position.

test('an admin finds their run in the audit log, filters it and opens the record', async ({ page }) => {
  await signIn(page, 'admin', '/workflows/backup-verify');
  await hydrated(page);
  await page.getByLabel('Environment').selectOption('dev');
  await page.getByLabel('target').selectOption('replica');
  await page.getByRole('button', { name: 'Start run' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit' })).toBeVisible();
  await expect(page.locator('.chain-status')).toContainText('Chain verified:');
  const table = page.getByRole('table', { name: /Audit records, newest first/ });
  await expect(table.getByRole('row').filter({ hasText: 'run.trigger' }).first()).toBeVisible();

  await page.getByLabel('Actor (id or name)').fill('Ada Admin');
  await page.getByLabel('Action', { exact: true }).selectOption('run.trigger');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/\/audit\?actor=Ada(\+|%20)Admin&action=run\.trigger$/);
  const filtered = page.getByRole('table', { name: 'Audit records, newest first, actor Ada Admin, action run.trigger' });
  const rows = filtered.locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('workflow/backup-verify');
  await expect(rows.first()).toContainText('Succeeded');

  await rows.first().getByRole('link', { name: /^Record \d+$/ }).click();
  await expect(page).toHaveURL(/\/audit\/\d+$/);
  await expect(page.getByRole('heading', { level: 1, name: /^Audit record #\d+$/ })).toBeVisible();
  await expect(page.locator('dd').filter({ has: page.locator('code.hash') })).toHaveCount(2);
  await expect(page.locator('pre.audit-details')).toContainText('"trigger": "manual"');
  await expect(page.getByRole('link', { name: /Previous record #\d+/ })).toBeVisible();
});

test('an auditor reads the audit log and the user list, and nothing else', async ({ page }) => {
  await signIn(page, 'auditor');
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link')).toHaveText(['Audit', 'Admin']);
  await page.getByRole('link', { name: 'Open the audit log' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit' })).toBeVisible();
  await expect(page.getByRole('table', { name: /Audit records/ }).getByText('Aubrey Auditor').first()).toBeVisible();

  await page.goto('/admin/users');
  await expect(page.getByRole('table', { name: 'Accounts, by name' })).toContainText('operator@*');
  await expect(page.getByRole('button', { name: /^(Disable|Enable) / })).toHaveCount(0);

  await page.goto('/workflows');
  await expect(page.getByRole('alert')).toContainText('auditors can read the audit log and the user list only');
});

test('the audit pages have no serious accessibility violations', async ({ page }) => {
  // A hydration mismatch panics in the browser bundle: it must not happen.
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, 'admin', '/audit');
  await hydrated(page);
  const first = page.getByRole('link', { name: /^Record \d+$/ }).first();
  const record = await first.getAttribute('href');
  for (const path of ['/audit', '/audit?outcome=succeeded&limit=5', record ?? '/audit/1']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await hydrated(page);
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious, `${path}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
  }
  expect(errors).toEqual([]);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the filter form and the pager work as plain HTML', async ({ page }) => {
    await page.goto('/audit');
    await page.getByRole('button', { name: 'Sign in as Aubrey Auditor' }).click();
    await expect(page).toHaveURL(/\/audit$/);
    await expect(page.locator('.app')).toHaveAttribute('data-hydrated', 'false');

    await page.getByLabel('Action', { exact: true }).selectOption('session.');
    await page.getByLabel('Since (UTC)').fill('2000-01-01T00:00');
    await page.getByLabel('Per page').fill('1');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect(page).toHaveURL(/action=session\.&.*since=2000-01-01T00%3A00.*&limit=1/);
    const rows = page.getByRole('table', { name: /action session\./ }).locator('tbody tr');
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText('session.sign_in');
    await expect(page.getByLabel('Action', { exact: true })).toHaveValue('session.');

    await page.getByRole('link', { name: 'Older records' }).click();
    await expect(page).toHaveURL(/before=\d+/);
    await expect(page.getByRole('table', { name: /action session\./ }).locator('tbody tr')).toHaveCount(1);
    await expect(page.getByRole('link', { name: 'Newest records' })).toBeVisible();

    await page.goto('/audit?since=yesterday');
    await expect(page.getByRole('alert')).toContainText('since: "yesterday" is not a time');
    await expect(page.getByRole('button', { name: 'Apply filters' })).toBeVisible();
  });
});
