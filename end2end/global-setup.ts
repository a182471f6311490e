import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Starts the real server on port 0 with a fresh SQLite database and
 *  publishes its URL to the tests as GANTRY_URL. */
export default async function globalSetup() {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-e2e-'));
  const bin = process.env.GANTRY_BIN ?? '../target/debug/gantry';
  const server = spawn(
    bin,
    [
      'serve', '--dev',
      '--bind', '127.0.0.1:0',
      '--database-url', `sqlite://${join(dir, 'e2e.db')}`,
      '--site-root', process.env.GANTRY_SITE_ROOT ?? '../target/site',
      '--work-dir', join(dir, 'work'),
      '--log', 'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );

  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`gantry did not start within 30 s:\n${out}`)), 30_000);
    server.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gantry exited with ${code} before listening:\n${out}`));
    });
  });
  process.env.GANTRY_URL = url;

  return async () => {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
}
