import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, guardCsp, hydrated, signIn, test } from './fixtures';

// Dead letters: failed runs wait on the Runs page's Needs attention tab
// until someone re-runs or dismisses them; both from the list, in the
// browser, with the runs picked by their checkboxes. (Other specs leave
// failures of their own there: this one only touches its workflow's.)

/** A workflow whose only step fails. */
function spec(name: string) {
  return [`name: ${name}`, 'steps:', '  - id: go', '    run: exit 1', ''].join('\n');
}

async function ui(page: Page, endpoint: string, form: Record<string, string>) {
  const resp = await page.request.post(`/ui/${endpoint}`, {
    form,
    headers: { accept: 'application/json', 'sec-fetch-site': 'same-origin' },
  });
  const text = await resp.text();
  expect(resp.status(), `${endpoint}: ${text}`).toBeLessThan(300);
  return JSON.parse(text);
}

/** Runs the workflow in dev and waits until the run has failed. */
async function failedRun(page: Page, workflow: string): Promise<string> {
  const outcome = await ui(page, 'trigger_run', { workflow, environment: 'dev' });
  const id: string = outcome.run.id;
  await expect.poll(async () => (await ui(page, 'run', { id })).status, { timeout: 20_000 }).toBe('failed');
  return id;
}

const checkbox = (page: Page, id: string) => page.getByLabel(`Select Run ${id.slice(-8)}`, { exact: true });

test('failed runs wait on Needs attention until re-run or dismissed from the list', async ({ page, browser }) => {
  const workflow = `e2e-attention-${Date.now().toString(36)}`;
  await signIn(page, 'admin', '/workflows');
  await ui(page, 'apply_workflow', { source: spec(workflow) });
  // The operator acts (the audit spec counts the admin's records).
  const context = await browser.newContext({ baseURL: process.env.GANTRY_URL });
  const operator = guardCsp(await context.newPage());
  try {
    await signIn(operator, 'operator', '/runs?attention=1');
    const first = await failedRun(operator, workflow);
    const second = await failedRun(operator, workflow);

    await operator.goto('/runs?attention=1');
    await hydrated(operator);
    await expect(operator.getByRole('link', { name: 'Needs attention' })).toHaveAttribute('aria-current', 'page');
    const axe = await new AxeBuilder({ page: operator }).withTags(['wcag2a', 'wcag2aa']).analyze();
    const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious, JSON.stringify(serious, null, 2)).toEqual([]);

    await checkbox(operator, first).check();
    await operator.getByRole('button', { name: 'Re-run (same version)' }).click();
    await expect(operator).toHaveURL(/\/runs\?attention=1&done=1&refused=0$/);
    await expect(operator.getByRole('status')).toContainText('1 run done');
    await expect(checkbox(operator, first)).toHaveCount(0);

    await checkbox(operator, second).check();
    await operator.getByLabel('Why (kept with each run)').fill('known flake upstream');
    await operator.getByRole('button', { name: 'Dismiss selected' }).click();
    await expect(operator.getByRole('status')).toContainText('1 run done');
    await expect(checkbox(operator, second)).toHaveCount(0);

    // Each original says what became of it; the re-run links back.
    await operator.goto(`/runs/${second}`);
    await expect(operator.getByText('Dismissed by Oscar Operator: known flake upstream')).toBeVisible();
    await operator.goto(`/runs/${first}`);
    await operator.getByText('Re-run as').getByRole('link').click();
    await expect(operator.getByText('Re-run of')).toBeVisible();
  } finally {
    await context.close();
  }
});
