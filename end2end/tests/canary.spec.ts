import AxeBuilder from '@axe-core/playwright';
import type { Browser, Page } from '@playwright/test';
import { expect, signIn, test, guardCsp } from './fixtures';

// Canary promotions into prod on a server of their own (its prod policy
// has a canary plan): a version whose step fails most of the time is
// rolled back automatically while the request's page says why; a good one
// advances through its steps to 100% and becomes the active version; a
// verification set in the Policies form passes, then fails and rolls back.
test.describe.configure({ mode: 'serial' });
test.use({ baseURL: process.env.GANTRY_CANARY_URL });

const PLAN = {
  required_approvals: 0,
  step_up: true,
  checklist: [],
  canary: {
    steps: [
      { weight: 30, min_runs: 4, min_time: '0s', time_limit: '1h' },
      { weight: 70, min_runs: 4, min_time: '0s', time_limit: '1h' },
    ],
    // Loose enough for a handful of clean runs to pass (docs/canary.md).
    analysis: { max_failure_increase_absolute: 0.5 },
  },
};

function spec(name: string, run: string) {
  return [`name: ${name}`, 'steps:', '  - id: go', `    run: ${run}`, ''].join('\n');
}

async function person(browser: Browser, user: 'admin' | 'operator' | 'approver') {
  const context = await browser.newContext({ baseURL: process.env.GANTRY_CANARY_URL });
  const page = guardCsp(await context.newPage());
  await signIn(page, user, '/promotions');
  return { context, page };
}

/** What the page's own fetches carry: a write with the session from
 *  anywhere else is refused (server/src/http/csrf.rs). */
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };

async function ui(page: Page, endpoint: string, form: Record<string, string>) {
  const resp = await page.request.post(`/ui/${endpoint}`, { form, headers: { accept: 'application/json', 'sec-fetch-site': 'same-origin' } });
  const text = await resp.text();
  expect(resp.status(), `${endpoint}: ${text}`).toBeLessThan(300);
  return JSON.parse(text);
}

async function promote(page: Page, workflow: string, to: string) {
  return ui(page, 'request_promotion', { workflow, to_environment: to, reason: `canary journey into ${to}` });
}

/** Version 1 (good) active in dev, stage and prod; `v2` applied and
 *  promoted into prod, which starts its canary. The request's id. */
async function canaryOf(browser: Browser, workflow: string, v2: string) {
  const admin = await person(browser, 'admin');
  const policy = await admin.page.request.put('/api/v1/environments/prod/policy', { data: PLAN, headers: SAME_ORIGIN });
  expect(policy.status(), await policy.text()).toBe(200);
  await ui(admin.page, 'apply_workflow', { source: spec(workflow, 'echo v1') });
  const operator = await person(browser, 'operator');
  await promote(operator.page, workflow, 'stage');
  const first = await promote(operator.page, workflow, 'prod');
  expect(first.deployment.kind).toBe('promotion');
  await ui(admin.page, 'apply_workflow', { source: spec(workflow, v2) });
  await promote(operator.page, workflow, 'stage');
  const started = await promote(operator.page, workflow, 'prod');
  expect(started.deployment.kind).toBe('canary');
  await admin.context.close();
  return { operator, requestId: started.deployment.request_id as string };
}

/** Starts `n` runs in prod and waits for them to end. */
async function runs(page: Page, workflow: string, n: number) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const started = await ui(page, 'trigger_run', { workflow, environment: 'prod' });
    ids.push(started.run.id);
  }
  for (const id of ids) {
    await expect
      .poll(async () => (await ui(page, 'run', { id })).status, { timeout: 20_000 })
      .toMatch(/succeeded|failed/);
  }
}

async function axeClean(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, JSON.stringify(serious, null, 2)).toEqual([]);
}

test('a canary that fails most of the time is rolled back automatically and its page says why', async ({ browser }) => {
  test.setTimeout(90_000);
  const workflow = `canary-bad-${Date.now().toString(36)}`;
  const { operator, requestId } = await canaryOf(browser, workflow, 'exit 1');
  const page = operator.page;
  await page.goto(`/promotions/${requestId}`);
  await expect(page.getByRole('heading', { level: 2, name: 'Canary' })).toBeVisible();
  await expect(page.getByRole('img', { name: /Canary of version 2 at 30% of runs in prod: running/ })).toBeVisible();
  await axeClean(page);
  // The board, open beside it, follows the canary too.
  const board = guardCsp(await operator.context.newPage());
  await board.goto('/promotions');
  const liveCell = board.locator(`td[data-workflow="${workflow}"][data-environment="prod"]`);
  await expect(liveCell.locator('.canary')).toHaveAttribute('data-state', 'running');

  // Runs until the analysis has seen enough failures (bounded).
  await expect
    .poll(
      async () => {
        await runs(page, workflow, 6);
        const board = await ui(page, 'promotion_board', {});
        const row = board.board.rows.find((r: { workflow: string }) => r.workflow === workflow);
        return row.cells.find((c: { environment: string }) => c.environment === 'prod').canary?.state;
      },
      { timeout: 75_000, intervals: [500] },
    )
    .toBe('rolled_back');

  // No reload: the board's cell and the request's section follow the
  // canary while it is live.
  await expect(liveCell.locator('.canary')).toHaveAttribute('data-state', 'rolled_back', { timeout: 15_000 });
  await board.close();
  const section = page.locator('section', { has: page.getByRole('heading', { level: 2, name: 'Canary' }) });
  await expect(section.locator('.badge', { hasText: 'Rolled back' })).toBeVisible({ timeout: 15_000 });
  await expect(section.locator('.canary-why')).toContainText('the canary failed: the canary fails more often than stable allows');
  await expect(section.locator('.canary-held')).toHaveText('holding promotions');
  await expect(section.getByRole('img', { name: /evaluations; the last: fail/ })).toBeVisible();
  await axeClean(page);

  // On the board: version 1 still active in prod, the canary's bar says why it stopped.
  await page.goto('/promotions');
  const cell = page.locator(`td[data-workflow="${workflow}"][data-environment="prod"]`);
  await expect(cell.locator('.cell-version')).toHaveText('Version 1');
  await expect(cell.locator('.canary')).toHaveAttribute('data-state', 'rolled_back');
  await operator.context.close();
});

test('a good canary advances to 100% and becomes the active version', async ({ browser }) => {
  test.setTimeout(90_000);
  const workflow = `canary-good-${Date.now().toString(36)}`;
  const { operator, requestId } = await canaryOf(browser, workflow, 'echo v2');
  const page = operator.page;
  await expect
    .poll(
      async () => {
        await runs(page, workflow, 6);
        const detail = await ui(page, 'promotion', { id: requestId });
        return detail.detail.canary?.state;
      },
      { timeout: 75_000, intervals: [500] },
    )
    .toBe('promoted');

  await page.goto(`/promotions/${requestId}`);
  const section = page.locator('section', { has: page.getByRole('heading', { level: 2, name: 'Canary' }) });
  await expect(section.locator('.badge', { hasText: 'Promoted' })).toBeVisible();
  await expect(section.locator('.canary-weight')).toHaveText('100%');
  await expect(section.locator('.canary-why')).toContainText('the canary passed every step');

  await page.goto('/promotions');
  const cell = page.locator(`td[data-workflow="${workflow}"][data-environment="prod"]`);
  await expect(cell.locator('.cell-version')).toHaveText('Version 2');
  await axeClean(page);
  await operator.context.close();
});

test('a verification after promotion is set in the Policies form, passes, then fails and rolls back', async ({ browser }) => {
  test.setTimeout(90_000);
  const id = Date.now().toString(36);
  const smoke = `smoke-${id}`;
  const workflow = `verified-${id}`;
  const admin = await person(browser, 'admin');
  const operator = await person(browser, 'operator');
  // The smoke test: passes for version 1 of what it checks, fails after.
  const check = [
    `name: ${smoke}`,
    'inputs:',
    '  version: { type: integer }',
    'steps:',
    '  - id: check',
    '    run: test "${{ inputs.version }}" -lt 2',
    '',
  ].join('\n');
  await ui(admin.page, 'apply_workflow', { source: check });
  await promote(operator.page, smoke, 'stage');

  // The admin names it in stage's policy through the form.
  const page = admin.page;
  await page.goto('/promotions/policies?edit=stage#policy-stage-form');
  const form = page.getByRole('form', { name: 'Edit the stage policy' });
  await form.getByLabel('Verification workflow').fill(smoke);
  await form.getByLabel("When a promotion's verification fails").selectOption('rollback');
  await form.getByRole('button', { name: 'Save the stage policy' }).click();
  const stage = page.locator('#policy-stage');
  await expect(stage).toContainText(`${smoke} runs after every promotion and rollback; when a promotion's fails: roll back`);
  await axeClean(page);

  // Version 1 passes its verification; the ledger says so.
  await ui(admin.page, 'apply_workflow', { source: spec(workflow, 'echo v1') });
  await promote(operator.page, workflow, 'stage');
  const ledger = `/promotions/ledger?workflow=${workflow}&environment=stage`;
  await expect
    .poll(
      async () => {
        await page.goto(ledger);
        return page.locator('[data-badge="verification"]').first().getAttribute('data-value');
      },
      { timeout: 30_000, intervals: [1_000] },
    )
    .toBe('passed');

  // Version 2 fails it and is rolled back, by Gantry, naming the run.
  await ui(admin.page, 'apply_workflow', { source: spec(workflow, 'echo v2') });
  await promote(operator.page, workflow, 'stage');
  await expect
    .poll(
      async () => {
        await page.goto(ledger);
        return page.locator('tr[data-kind="rollback"]').count();
      },
      { timeout: 30_000, intervals: [1_000] },
    )
    .toBe(1);
  const rollback = page.locator('tr[data-kind="rollback"]');
  await expect(rollback).toContainText('Gantry (verification)');
  await expect(rollback).toContainText(`verification ${smoke} of version 2 failed`);
  await expect(page.locator('tr[data-kind="promotion"] [data-badge="verification"]').first()).toHaveAttribute('data-value', 'failed');
  await axeClean(page);

  // Stage verifies nothing again (the form's field emptied).
  await page.goto('/promotions/policies?edit=stage#policy-stage-form');
  await form.getByLabel('Verification workflow').fill('');
  await form.getByRole('button', { name: 'Save the stage policy' }).click();
  await expect(page.locator('#policy-stage dt:text-is("Verification") + dd')).toHaveText('None');
  await admin.context.close();
  await operator.context.close();
});
