import AxeBuilder from '@axe-core/playwright';
import { expect, hydrated, signIn, test, guardCsp } from './fixtures';
import type { Browser, Page } from '@playwright/test';

// Specs share one server (with the --dev demo). These tests set prod's
// policy once, then each drives a workflow of its own through it.
test.describe.configure({ mode: 'serial' });

function uniqueName(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

function spec(name: string, version: string) {
  return [`name: ${name}`, 'steps:', '  - id: go', `    run: echo ${version}`, ''].join('\n');
}

/** Someone signed in, in a browser context of their own. */
async function person(browser: Browser, user: 'admin' | 'approver' | 'operator', javaScriptEnabled = true) {
  const context = await browser.newContext({ baseURL: process.env.GANTRY_URL, javaScriptEnabled });
  const page = guardCsp(await context.newPage());
  await signIn(page, user, '/promotions');
  return { context, page };
}

/** Calls a dashboard server function as `page`'s person; its JSON answer. */
async function ui(page: Page, endpoint: string, form: Record<string, string>) {
  const resp = await page.request.post(`/ui/${endpoint}`, {
    form,
    headers: { accept: 'application/json', 'sec-fetch-site': 'same-origin' },
  });
  const text = await resp.text();
  expect(resp.status(), `${endpoint}: ${text}`).toBeLessThan(300);
  return JSON.parse(text);
}

/** Prod for these tests: one approver, one successful stage run of the
 *  version, and the on-call item (no soak time: a test can't wait an hour). */
async function setProdPolicy(browser: Browser) {
  const admin = await person(browser, 'admin');
  await ui(admin.page, 'set_environment_policy', {
    environment: 'prod',
    required_approvals: '1',
    request_role: 'operator',
    rollback_role: 'operator',
    step_up: 'on',
    request_ttl: '7d',
    'checklist[0][id]': 'stage_runs',
    'checklist[0][kind]': 'successful_runs_in_previous',
    'checklist[0][min_runs]': '1',
    'checklist[0][window]': '7d',
    'checklist[0][min_success_ratio]': '1',
    'checklist[1][id]': 'on_call_aware',
    'checklist[1][kind]': 'manual',
    'checklist[1][text]': 'The on-call engineer knows this is going out',
    'checklist[1][role]': 'operator',
  });
  await admin.context.close();
}

/** Registers a version as the admin. */
async function apply(browser: Browser, name: string, version: string) {
  const admin = await person(browser, 'admin');
  await ui(admin.page, 'apply_workflow', { source: spec(name, version) });
  await admin.context.close();
}

/** Runs the workflow once in stage, as the operator. */
async function runInStage(page: Page, name: string) {
  const resp = await page.request.post('/ui/trigger_run', {
    form: { workflow: name, environment: 'stage' },
    headers: { accept: 'application/json', 'sec-fetch-site': 'same-origin' },
  });
  expect(resp.status(), await resp.text()).toBeLessThan(300);
}

/** Version 1 reaches prod through the gate by server functions, so the
 *  journey has a version to roll back to. */
async function firstVersionInProd(browser: Browser, name: string) {
  await apply(browser, name, 'v1');
  const operator = await person(browser, 'operator');
  await ui(operator.page, 'request_promotion', { workflow: name, to_environment: 'stage', reason: 'v1 to stage' });
  const pending = await ui(operator.page, 'request_promotion', {
    workflow: name,
    to_environment: 'prod',
    reason: 'v1 to prod',
  });
  const id = pending.promotion.request.id as string;
  await ui(operator.page, 'mark_checklist_item', { id, item: 'on_call_aware', checked: 'true' });
  await runInStage(operator.page, name);
  const approver = await person(browser, 'approver');
  // Approved once; the server promotes it as soon as stage's run has
  // succeeded (it re-checks pending requests on its own).
  await expect(async () => {
    const request = (await ui(approver.page, 'promotion', { id })).detail.request;
    if (request.state === 'promoted') return;
    if (request.approvals.length === 0) {
      await ui(approver.page, 'decide_promotion', { id, decision: 'approve' });
    }
    throw new Error(`version 1 is still ${request.state}`);
  }).toPass({ timeout: 30_000 });
  await approver.context.close();
  await operator.context.close();
}

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** The journey, with or without JavaScript: version 2 goes dev → stage →
 *  prod through the checklist and a second person, then on-call rolls prod
 *  back to version 1 and the ledger shows both moves. */
async function journey(browser: Browser, javaScriptEnabled: boolean) {
  const errors: string[] = [];
  const name = uniqueName(javaScriptEnabled ? 'e2e-promote' : 'e2e-promote-nojs');
  await firstVersionInProd(browser, name);
  await apply(browser, name, 'v2');

  const operator = await person(browser, 'operator', javaScriptEnabled);
  const page = operator.page;
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/promotions');
  if (javaScriptEnabled) await hydrated(page);

  // dev → stage: nothing required there, so it is promoted at once.
  await page.locator(`#promote-${name}-stage summary`).click();
  await page.locator(`#promote-reason-${name}-stage`).fill('v2 passed in dev');
  await page.getByRole('button', { name: 'Promote version 2 to stage' }).click();
  await expect(page.locator(`#cell-${name}-stage`)).toContainText('Version 2');

  // stage → prod: a request that waits.
  await page.locator(`#promote-${name}-prod summary`).click();
  await page.locator(`#promote-reason-${name}-prod`).fill('v2 is ready for prod');
  await page.getByRole('button', { name: 'Promote version 2 to prod' }).click();
  // A request that waits opens its own page.
  await expect(page).toHaveURL(/\/promotions\/[0-9a-f-]{36}$/);
  const requestPage = new URL(page.url()).pathname;
  await expect(page.locator('[data-badge=promotion]')).toHaveAttribute('data-value', 'pending');

  // The automatic item fails until stage has a successful run of v2.
  const stageRuns = page.locator('[data-item=stage_runs] [data-badge=item]');
  await expect(stageRuns).toHaveAttribute('data-value', 'fail');
  // The operator ticks the manual item, with evidence.
  await page.locator('#evidence-on_call_aware').fill('announced in #ops');
  await page.getByRole('button', { name: /^Tick: / }).click();
  await expect(page.locator('[data-item=on_call_aware] [data-badge=item]')).toHaveAttribute('data-value', 'ticked');
  // The requester can't approve their own request.
  await expect(page.getByRole('button', { name: 'Approve' })).toHaveCount(0);

  await runInStage(page, name);
  await expect(async () => {
    await page.goto(requestPage);
    await expect(stageRuns).toHaveAttribute('data-value', 'pass', { timeout: 1000 });
  }).toPass({ timeout: 30_000 });

  // A different person approves: the gate is green, the version goes live.
  const approver = await person(browser, 'approver', javaScriptEnabled);
  approver.page.on('pageerror', (e) => errors.push(e.message));
  await approver.page.goto(requestPage);
  if (javaScriptEnabled) await hydrated(approver.page);
  await approver.page.locator('#promotion-comment').fill('diff reviewed');
  await approver.page.getByRole('button', { name: 'Approve' }).click();
  // The decision must be recorded before the page is reloaded: navigating
  // away mid-request would abort it.
  await expect(approver.page.getByRole('table', { name: 'Approvals given' })).toBeVisible();
  await expect(async () => {
    await approver.page.goto(requestPage);
    await expect(approver.page.locator('[data-badge=promotion]')).toHaveAttribute('data-value', 'promoted', {
      timeout: 1000,
    });
  }).toPass({ timeout: 15_000 });
  await approver.context.close();

  // On call: prod is rolled back to version 1 from the Promotions page.
  await page.goto('/promotions');
  if (javaScriptEnabled) await hydrated(page);
  await expect(page.locator(`#cell-${name}-prod`)).toContainText('Version 2');
  await page.locator(`#rollback-${name}-prod summary`).click();
  await page.locator(`#rollback-reason-${name}-prod`).fill('v2 breaks the nightly export');
  await page.getByRole('button', { name: 'Roll back prod to version 1' }).click();
  await expect(page.locator(`#cell-${name}-prod`)).toContainText('Version 1');

  // The ledger shows both moves into prod.
  await page.goto(`/promotions/ledger?workflow=${name}&environment=prod`);
  await expect(page.locator('tr[data-kind=rollback]')).toHaveCount(1);
  await expect(page.locator('tr[data-kind=promotion]')).toHaveCount(2);
  await operator.context.close();
  expect(errors).toEqual([]);
  return requestPage;
}

let requestPageForAxe = '';

test.beforeAll(async ({ browser }) => {
  await setProdPolicy(browser);
});

test('a version goes to prod through its checklist and a second person, then on-call rolls it back', async ({
  browser,
}) => {
  // Two people, three pages and a stage run: 16 s on a quiet machine.
  test.slow();
  requestPageForAxe = await journey(browser, true);
});

test('the promotion pages have no serious accessibility violations', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, 'approver', '/promotions');
  const pages = ['/', '/promotions', '/promotions/ledger?workflow=backup-verify', '/promotions/policies'];
  if (requestPageForAxe) pages.push(requestPageForAxe);
  for (const path of pages) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await hydrated(page);
    expect(await seriousViolations(page), path).toEqual([]);
  }
  expect(errors).toEqual([]);
});

test.describe('without JavaScript', () => {
  test('the same journey works as plain HTML forms', async ({ browser }) => {
    test.slow();
    await journey(browser, false);
  });
});
