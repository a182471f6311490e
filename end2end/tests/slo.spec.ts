import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, hydrated, signIn, test } from './fixtures';

// An SLO on a workflow of the test's own, measured on real runs: the
// workflow page links to it, the SLO page shows budget, burn and the runs
// that spent budget, follows new runs without a reload, and passes axe.

const name = `slo-e2e-${Date.now()}`;
const spec = `name: ${name}
inputs:
  fail: { type: boolean, default: false }
slo:
  dev:
    window: 7d
    success: 95%
steps:
  - id: go
    run: test "\${{ inputs.fail }}" != "true"
`;

/** Calls a dashboard server function as the signed-in person. */
async function ui(page: Page, endpoint: string, form: Record<string, string>) {
  const resp = await page.request.post(`/ui/${endpoint}`, { form, headers: { accept: 'application/json', 'sec-fetch-site': 'same-origin' } });
  const text = await resp.text();
  expect(resp.status(), `${endpoint}: ${text}`).toBeLessThan(300);
  return JSON.parse(text);
}

/** Starts a run in dev and waits for it to end. */
async function run(page: Page, fail: boolean) {
  const started = await ui(page, 'trigger_run', { workflow: name, environment: 'dev', 'inputs[fail]': String(fail) });
  const id = started.run.id as string;
  await expect
    .poll(async () => (await ui(page, 'run', { id })).status, { timeout: 20_000 })
    .toBe(fail ? 'failed' : 'succeeded');
  return id;
}

test('the SLO page shows the budget and follows a new failure without reloading', async ({ page }) => {
  await signIn(page, 'admin', '/workflows');
  await ui(page, 'apply_workflow', { source: spec });
  await run(page, false);

  await page.goto(`/workflows/${name}`);
  const link = page.getByRole('link', { name: 'dev', exact: true });
  await expect(page.getByRole('heading', { level: 2, name: 'SLOs' })).toBeVisible();
  await link.click();
  await expect(page).toHaveURL(new RegExp(`/workflows/${name}/slo/dev$`));
  await expect(page.getByRole('heading', { level: 1, name: `SLO of ${name} in dev` })).toBeVisible();
  await expect(page.getByRole('img', { name: "100% of the success objective's error budget left" })).toBeVisible();
  await expect(page.locator('.slo-volume')).toContainText('Too few runs to judge');
  await expect(page.getByText('No run spent budget in the last 7days.')).toBeVisible();
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same document'));

  // A failure elsewhere: the page picks it up by itself.
  const failed = await run(page, true);
  await expect(page.getByRole('link', { name: `Run ${failed.slice(-8)}` })).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText('SLI 50% against a target of 95%')).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe('same document');
  await expect(page.getByRole('img', { name: /Hourly burn rate of the success objective/ })).toBeVisible();

  for (const path of [`/workflows/${name}/slo/dev`, `/workflows/${name}`]) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious, `${path}: ${JSON.stringify(serious, null, 2)}`).toEqual([]);
  }
});
