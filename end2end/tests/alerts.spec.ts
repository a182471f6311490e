import AxeBuilder from '@axe-core/playwright';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, hydrated, signIn, test, guardCsp } from './fixtures';
import type { Page } from '@playwright/test';

// The journey: a consecutive-failures rule with a webhook channel
// made on the Alerts page (backtest first), a workflow that fails until the
// rule fires, one signed notification at a receiver of our own, a silence
// from the firing alert's shortcut, then two successes resolving it. The
// server evaluates every 500 ms (global-setup.ts).

function uniqueName(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** A workflow that fails when asked to. */
function spec(name: string) {
  return [
    `name: ${name}`,
    'inputs:',
    '  mode: { type: string, default: ok }',
    'steps:',
    '  - id: go',
    '    run: test "${{ inputs.mode }}" != "fail"',
    '',
  ].join('\n');
}

type Received = { headers: IncomingHttpHeaders; body: { status?: string; notice?: string; rule?: string } };

/** A webhook receiver on 127.0.0.1 that records every request. */
async function receiver(): Promise<{ server: Server; url: string; seen: Received[] }> {
  const seen: Received[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      let body = {};
      try {
        body = JSON.parse(raw);
      } catch {
        // Recorded as an empty body: the assertions on it fail visibly.
      }
      seen.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hook`, seen };
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

/** Runs the workflow in dev and waits until the run has finished. */
async function run(page: Page, workflow: string, mode: 'ok' | 'fail') {
  const outcome = await ui(page, 'trigger_run', { workflow, environment: 'dev', 'inputs[mode]': mode });
  expect(outcome.outcome).toBe('started');
  const id: string = outcome.run.id;
  await expect
    .poll(async () => (await ui(page, 'run', { id })).status, { timeout: 20_000 })
    .toBe(mode === 'fail' ? 'failed' : 'succeeded');
}

test('a failing workflow fires one signed notification, is silenced from its alert, and resolves', async ({
  page,
  browser,
}) => {
  test.setTimeout(120_000);
  const hook = await receiver();
  // Runs are started by the operator (the audit spec counts the admin's).
  const operatorContext = await browser.newContext({ baseURL: process.env.GANTRY_URL });
  const operator = guardCsp(await operatorContext.newPage());
  try {
    const workflow = uniqueName('e2e-alerts');
    const channel = uniqueName('e2e-hook');
    const rule = `${workflow} keeps failing`;
    await signIn(page, 'admin', '/alerts');
    await ui(page, 'apply_workflow', { source: spec(workflow) });
    await signIn(operator, 'operator', '/alerts');
    // A run for the backtest to replay.
    await run(operator, workflow, 'ok');

    // The channel: a webhook, its signing key made by Gantry and shown once.
    await page.goto('/alerts/channels');
    await hydrated(page);
    await page.getByLabel('Name').fill(channel);
    await page.getByLabel('Kind').selectOption('webhook');
    await page.getByLabel('URL').fill(hook.url);
    await page.getByRole('button', { name: 'Create the channel' }).click();
    await expect(page.getByText('Copy the signing key now: it is shown only this once.')).toBeVisible();
    await expect(page.getByLabel('Key secret', { exact: true })).not.toHaveValue('');
    await expect(page.locator(`tr[data-channel="${channel}"]`)).toBeVisible();

    // The rule: two failures in a row of this workflow in dev; backtest first.
    await page.goto('/alerts/rules/new');
    await hydrated(page);
    await page.getByLabel('Name').fill(rule);
    await page.getByLabel('Kind').selectOption('consecutive_failures');
    await page.getByLabel('Failed runs in a row').fill('2');
    await page.getByLabel('Workflow', { exact: true }).fill(workflow);
    await page.getByLabel('Environment').selectOption('dev');
    await page.getByLabel('Resolve after this many clear results in a row').fill('2');
    await page.getByLabel(channel).check();
    await page.getByRole('button', { name: 'Backtest' }).click();
    const backtest = page.getByRole('region', { name: 'Backtest' });
    await expect(backtest).toBeVisible();
    await expect(backtest.getByRole('status')).toContainText('Over the last 7 days (1 run), this rule would not have fired.');
    await expect(backtest.getByRole('img', { name: /When the rule would have fired/ })).toBeVisible();
    // The kind's fields change in place once hydrated.
    await page.getByLabel('Kind').selectOption('failure_ratio');
    await expect(page.getByLabel('Failure ratio')).toBeVisible();
    await page.getByLabel('Kind').selectOption('consecutive_failures');
    await page.getByLabel('Failed runs in a row').fill('2');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await expect(page).toHaveURL(/\/alerts\?saved=/);
    await expect(page.locator('p[role="status"]', { hasText: 'is saved' })).toContainText(`The rule ${rule} is saved.`);
    const ruleRow = page.locator(`tr[data-rule="${rule}"]`);
    await expect(ruleRow.locator('[data-phase="ok"]')).toBeVisible();

    // Two failures: it fires, on this page without a reload.
    await run(operator, workflow, 'fail');
    await run(operator, workflow, 'fail');
    const firing = page.locator('tr[data-phase="firing"]', { hasText: rule });
    await expect(firing).toBeVisible({ timeout: 20_000 });
    await expect(ruleRow.locator('[data-phase="firing"]')).toBeVisible();

    // Exactly one notification, signed.
    const firingNotices = () => hook.seen.filter((r) => r.body.rule === rule && r.body.notice === 'firing');
    await expect.poll(() => firingNotices().length, { timeout: 20_000 }).toBe(1);
    const notice = firingNotices()[0];
    expect(notice.headers['gantry-signature']).toMatch(/^k1=[0-9a-f]{64}$/);
    expect(notice.headers['gantry-timestamp']).toMatch(/^\d+$/);
    expect(notice.body.status).toBe('firing');

    // Silence it from its row: the matchers come filled in.
    await firing.getByRole('link', { name: /^Silence / }).click();
    await expect(page).toHaveURL(/\/alerts\/silences\?rule=/);
    await hydrated(page);
    await expect(page.getByLabel('Rule', { exact: true })).toHaveValue(rule);
    await expect(page.getByLabel('Workflow', { exact: true })).toHaveValue(workflow);
    await expect(page.getByLabel('Environment', { exact: true })).toHaveValue('dev');
    await page.getByLabel('Reason').fill('fixing it');
    await page.getByRole('button', { name: 'Create the silence' }).click();
    await expect(page.getByText('The silence is saved.')).toBeVisible();
    await expect(page.locator('tr[data-state="active"]', { hasText: 'fixing it' })).toBeVisible();
    await page.goto('/alerts');
    await expect(page.locator('tr[data-phase="firing"]', { hasText: rule }).locator('[data-silenced="true"]')).toBeVisible({
      timeout: 10_000,
    });

    // Two successes resolve it; its firing was delivered, so the resolve is
    // too (a silence holds only what it held the firing of).
    await run(operator, workflow, 'ok');
    await run(operator, workflow, 'ok');
    await expect(page.locator('tr[data-phase="resolved"]', { hasText: rule })).toBeVisible({ timeout: 20_000 });
    await expect
      .poll(() => hook.seen.filter((r) => r.body.rule === rule && r.body.notice === 'resolved').length, {
        timeout: 20_000,
      })
      .toBe(1);
    expect(firingNotices()).toHaveLength(1);

    // The instance's history and the notification history say the same.
    await page.locator('tr[data-phase="resolved"]', { hasText: rule }).getByRole('link', { name: rule }).click();
    await expect(page.locator('tr[data-from="ok"][data-to="firing"]')).toBeVisible();
    await expect(page.locator('tr[data-from="firing"][data-to="resolved"]')).toBeVisible();
    await expect(page.locator('tr[data-notice="firing"][data-status="delivered"]')).toBeVisible();

    // Accessible, with the data on it.
    await page.goto('/alerts');
    await hydrated(page);
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(results.violations).toEqual([]);
    await page.goto(`/alerts/rules/edit?rule=${encodeURIComponent(rule)}`);
    await hydrated(page);
    const form = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(form.violations).toEqual([]);
  } finally {
    await operatorContext.close();
    await new Promise((resolve) => hook.server.close(resolve));
  }
});
