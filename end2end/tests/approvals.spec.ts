import AxeBuilder from '@axe-core/playwright';
import { expect, hydrated, signIn, test, guardCsp } from './fixtures';
import type { Browser, Page } from '@playwright/test';

// Specs share one server: every test registers a workflow of its own, whose
// runs in dev (where a new version is active) need a second person.
function uniqueName(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

function guardedSpec(name: string) {
  return [
    `name: ${name}`,
    'approval:',
    '  required_in: [dev]',
    'inputs:',
    '  version: { type: string, default: "1.0" }',
    'steps:',
    '  - id: ship',
    '    run: echo shipping',
    '',
  ].join('\n');
}

/** A second person, in a browser context of their own. */
async function otherPerson(browser: Browser, javaScriptEnabled = true) {
  const context = await browser.newContext({ baseURL: process.env.GANTRY_URL, javaScriptEnabled });
  return { context, page: guardCsp(await context.newPage()) };
}

/** Registers a guarded workflow as the admin (through the dashboard's
 *  server function, as the hydrated Workflows page would). */
async function registerGuarded(browser: Browser, name: string) {
  const { context, page } = await otherPerson(browser);
  await signIn(page, 'admin', '/workflows');
  const resp = await page.request.post('/ui/apply_workflow', {
    form: { source: guardedSpec(name) },
    headers: { accept: 'application/json', 'sec-fetch-site': 'same-origin' },
  });
  expect(resp.status(), await resp.text()).toBeLessThan(300);
  await context.close();
}

/** Asks for a run of `name` from its page as the signed-in operator; ends on
 *  the Approvals page and returns the request's page. */
async function ask(page: Page, name: string, reason: string) {
  // The run form's reason (the page's Promotion section has its own).
  const runForm = page.locator('form', { has: page.getByRole('button', { name: 'Start run' }) });
  await runForm.getByLabel(/^Reason/).fill(reason);
  await page.getByRole('button', { name: 'Start run' }).click();
  await expect(page).toHaveURL(/\/approvals$/);
  const row = page
    .getByRole('table', { name: 'Requests waiting for a decision, newest first' })
    .getByRole('row')
    .filter({ hasText: reason });
  await expect(row).toContainText(name);
  await expect(row).toContainText('Oscar Operator');
  await row.getByRole('link', { name: /^Request / }).click();
  await expect(page).toHaveURL(/\/approvals\/[0-9a-f-]{36}$/);
  return new URL(page.url()).pathname;
}

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

test('an operator asks, someone else approves, and the run starts', async ({ page, browser }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const name = uniqueName('e2e-approve');
  await registerGuarded(browser, name);

  await signIn(page, 'operator', `/workflows/${name}`);
  await hydrated(page);
  const requestPage = await ask(page, name, `release ${name}`);
  await expect(page.getByRole('heading', { level: 1, name: /^Approval request / })).toBeVisible();
  await expect(page.getByText('You asked for this; someone else must approve or reject it')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Approve' })).toHaveCount(0);

  const approver = await otherPerson(browser);
  approver.page.on('pageerror', (e) => errors.push(e.message));
  await signIn(approver.page, 'approver', requestPage);
  await hydrated(approver.page);
  // Deciding updates the page in place: no full page load.
  await approver.page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same document'));
  await approver.page.getByLabel(/^Comment/).fill('looks good');
  await approver.page.getByRole('button', { name: 'Approve' }).click();
  const outcome = approver.page.locator('.approval-outcome');
  await expect(outcome).toContainText('Approved by Avery Approver');
  await expect(approver.page.locator('[data-approval="approved"]')).toBeVisible();
  await expect(approver.page.getByText('looks good')).toBeVisible();
  expect(await approver.page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe('same document');

  await outcome.getByRole('link', { name: /^Open run / }).click();
  await expect(approver.page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  await expect(approver.page.getByRole('heading', { level: 1, name: /^Run / })).toBeVisible();
  await expect(approver.page.getByText('Oscar Operator').first()).toBeVisible();
  await approver.context.close();
  expect(errors).toEqual([]);
});

test('the approvals pages have no serious accessibility violations', async ({ page, browser }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const name = uniqueName('e2e-axe');
  await registerGuarded(browser, name);
  await signIn(page, 'operator', `/workflows/${name}`);
  await hydrated(page);
  const requestPage = await ask(page, name, `axe check ${name}`);

  // The requester's view, then an approver's (with the form).
  await hydrated(page);
  expect(await seriousViolations(page), 'requester').toEqual([]);
  const approver = await otherPerson(browser);
  approver.page.on('pageerror', (e) => errors.push(e.message));
  await signIn(approver.page, 'approver', '/approvals');
  for (const path of ['/approvals', requestPage]) {
    await approver.page.goto(path);
    await expect(approver.page.getByRole('heading', { level: 1 })).toBeVisible();
    await hydrated(approver.page);
    expect(await seriousViolations(approver.page), path).toEqual([]);
  }
  await approver.page.getByRole('button', { name: 'Reject' }).click();
  await expect(approver.page.locator('.approval-outcome')).toContainText('Rejected by Avery Approver');
  expect(await seriousViolations(approver.page), 'decided').toEqual([]);
  await approver.context.close();
  expect(errors).toEqual([]);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('asking and deciding work as plain HTML forms', async ({ page, browser }) => {
    const name = uniqueName('e2e-nojs');
    await registerGuarded(browser, name);
    await signIn(page, 'operator', `/workflows/${name}`);
    await expect(page.locator('.app')).toHaveAttribute('data-hydrated', 'false');
    const requestPage = await ask(page, name, `plain ${name}`);

    const approver = await otherPerson(browser, false);
    await signIn(approver.page, 'approver', requestPage);
    await expect(approver.page).toHaveURL(new RegExp(`${requestPage}$`));
    await approver.page.getByLabel(/^Comment/).fill('not during the freeze');
    await approver.page.getByRole('button', { name: 'Reject' }).click();
    await expect(approver.page).toHaveURL(new RegExp(`${requestPage}$`));
    await expect(approver.page.locator('.approval-outcome')).toContainText('Rejected by Avery Approver');
    await expect(approver.page.getByText('not during the freeze')).toBeVisible();
    await expect(approver.page.getByRole('button', { name: 'Approve' })).toHaveCount(0);

    await approver.page.goto('/approvals');
    const history = approver.page.getByRole('table', { name: 'Decided and expired requests, newest first' });
    await expect(history.getByRole('row').filter({ hasText: name })).toContainText('Rejected');
    await approver.context.close();
  });
});
