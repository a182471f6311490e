import AxeBuilder from '@axe-core/playwright';
import { accountMenu, expect, hydrated, signIn, takeCspViolations, test } from './fixtures';

test('signs in through the dev login and sees the shell', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in\?next=%2F$/);
  await expect(page.getByRole('note', { name: 'Development mode' })).toContainText('DEV MODE');
  await page.getByRole('button', { name: 'Sign in as Ada Admin' }).click();

  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('note', { name: 'Development mode' })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const section of ['Overview', 'Workflows', 'Runs', 'Promotions', 'Approvals', 'Alerts', 'Audit', 'Admin']) {
    await expect(nav.getByRole('link', { name: section, exact: true })).toBeVisible();
  }
  await expect(page.getByRole('main')).toBeVisible();
  await expect(page.getByRole('contentinfo')).toBeVisible();
});

test('hydrates: navigation happens in the browser without reloading', async ({ page }) => {
  await signIn(page, 'viewer');
  await hydrated(page);
  // A full page load would wipe this marker; client-side routing keeps it.
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same document'));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Runs' })).toBeVisible();
  await expect(page).toHaveURL(/\/runs$/);
  await expect(page).toHaveTitle('Runs · Gantry');
  expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe('same document');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' })).toHaveAttribute('aria-current', 'page');
});

test('preferences preview the theme at once and save in place', async ({ page }) => {
  await signIn(page, 'operator', '/preferences');
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));

  await page.getByLabel('Theme').selectOption('dark');
  // The preview is a client-side interaction: nothing saved yet.
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');

  await page.getByRole('button', { name: 'Save preferences' }).click();
  await expect(page.getByRole('status')).toHaveText('Preferences saved.');
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(1);

  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(page.getByLabel('Theme')).toHaveValue('dark');
});

test('the keyboard reaches the skip link first and it jumps to the content', async ({ page }) => {
  await signIn(page, 'viewer');
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to main content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#main$/);
});

test('signing out from the user menu ends the session', async ({ page }) => {
  await signIn(page, 'approver');
  await accountMenu(page, 'approver').click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await page.goto('/runs');
  await expect(page).toHaveURL(/\/sign-in\?next=%2Fruns$/);
});

for (const path of ['/sign-in', '/', '/preferences']) {
  test(`no serious accessibility violations on ${path}`, async ({ page }) => {
    if (path === '/sign-in') {
      await page.goto(path);
    } else {
      await signIn(page, 'viewer', path);
    }
    await hydrated(page);
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`)).toEqual([]);
  });
}

test('the page policy blocks an injected inline script, and the guard sees it', async ({ page }) => {
  await page.goto('/sign-in');
  await hydrated(page);
  const ran = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true';
    document.body.appendChild(script);
    return (window as unknown as { __injected?: boolean }).__injected === true;
  });
  expect(ran).toBe(false);
  await expect.poll(() => takeCspViolations().length).toBeGreaterThan(0);
});
