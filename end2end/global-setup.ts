import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Starts a process and resolves with the URL its stdout announces. */
function startAnnouncing(
  name: string,
  command: string,
  args: string[],
  pattern: RegExp,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s:\n${out}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = out.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${out}`));
    });
  });
}

/** Starts the real server on port 0 with a fresh SQLite database and
 *  publishes its URL to the tests as GANTRY_URL (and its folder as
 *  GANTRY_E2E_DIR). Also starts a real OpenID
 *  provider (end2end/oidc/provider.mjs) and a second Gantry signing in
 *  through it, published as GANTRY_SSO_URL (and the provider as OIDC_URL),
 *  and a third like it with a provider of its own (OIDC_OWN_URL) and a
 *  5-second step-up window (GANTRY_STEP_UP_URL), and a fourth plain one
 *  for canaries (GANTRY_CANARY_URL). */
export default async function globalSetup() {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-e2e-'));
  // As root, steps run as `nobody`, who must be able to pass through to
  // their working directories (not list or read this folder).
  chmodSync(dir, 0o711);
  const bin = process.env.GANTRY_BIN ?? '../target/debug/gantry';
  const siteRoot = process.env.GANTRY_SITE_ROOT ?? '../target/site';
  const gantryArgs = (name: string) => [
    'serve', '--dev',
    '--bind', '127.0.0.1:0',
    '--database-url', `sqlite://${join(dir, `${name}.db`)}`,
    '--site-root', siteRoot,
    '--work-dir', join(dir, `${name}-work`),
    '--log', 'warn',
    // Every test signs in afresh, all from one address: far more often
    // than the shipped 30 a minute (docs/security.md, "Rate limits").
    '--rate-limit', 'sign_in=600/1m',
  ];
  const listening = /listening on (http:\/\/\S+)/;
  const children: ChildProcess[] = [];

  // Traced, so run pages link their trace; the collector address is one
  // nothing listens on (spans are dropped and counted, runs don't notice).
  const main = await startAnnouncing(
    'gantry',
    bin,
    [
      ...gantryArgs('e2e'),
      '--trace-link-template',
      'https://traces.example/trace/{trace_id}',
      // Alerts judge finished runs at once (alerts.spec.ts).
      '--alert-evaluation-interval',
      '500ms',
    ],
    listening,
    { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' },
  );
  children.push(main.child);
  process.env.GANTRY_URL = main.url;
  // Where its demo secrets are (secrets.spec.ts reads the token to prove
  // no page shows it).
  process.env.GANTRY_E2E_DIR = dir;

  const provider = await startAnnouncing('the OIDC provider', 'node', ['oidc/provider.mjs', '--port', '0'], listening);
  children.push(provider.child);
  process.env.OIDC_URL = provider.url;
  const ssoArgs = (name: string, issuer = provider.url) => [
    ...gantryArgs(name),
    '--oidc-issuer', issuer,
    '--oidc-client-id', 'gantry',
    '--oidc-client-secret', 'gantry-test-secret',
    '--oidc-scopes', 'openid,profile,email,groups',
    '--role-mapping', 'sre=operator@dev,viewer@prod',
    '--role-mapping', 'platform-admins=admin@*',
  ];
  const sso = await startAnnouncing('gantry with single sign-on', bin, ssoArgs('sso'), listening);
  children.push(sso.child);
  process.env.GANTRY_SSO_URL = sso.url;
  // The same with a provider of its own (tests doctor its tokens and
  // rotate its keys, which must not disturb other tests' sign-ins) and a
  // step-up window short enough for a test to outlive.
  const ownProvider = await startAnnouncing('a second OIDC provider', 'node', ['oidc/provider.mjs', '--port', '0'], listening);
  children.push(ownProvider.child);
  process.env.OIDC_OWN_URL = ownProvider.url;
  const stepUp = await startAnnouncing(
    'gantry with a short step-up window',
    bin,
    [...ssoArgs('sso-step-up', ownProvider.url), '--step-up-max-age', '5s'],
    listening,
  );
  children.push(stepUp.child);
  process.env.GANTRY_STEP_UP_URL = stepUp.url;
  // Canaries (canary.spec.ts): prod's policy there has a canary plan,
  // which must not turn the other specs' promotions into canaries.
  const canary = await startAnnouncing('gantry for canaries', bin, gantryArgs('canary'), listening);
  children.push(canary.child);
  process.env.GANTRY_CANARY_URL = canary.url;

  return async () => {
    for (const child of children.reverse()) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
