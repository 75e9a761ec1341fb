// `npm run build:console` builds the browser console into console/dist (npm ci runs this script through
// `prepare`, where an install without dev dependencies, hence without Vite, skips the build with a note);
// `--if-stale` (npm start's `prestart`, the browser tests) builds only when a source under console/ or
// a dependency changed since the last build, so a fresh checkout, an edit or an upgrade is never served stale.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The newest modification time of the console's sources and of what they are built with. */
function newestSource(): number {
  let newest = 0;
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'dist' || entry.name === 'node_modules') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  visit(path.join(root, 'console'));
  for (const file of ['package-lock.json', 'node_modules/.package-lock.json']) {
    const full = path.join(root, file);
    if (fs.existsSync(full)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Whether console/dist is missing or older than a source. */
export function consoleIsStale(): boolean {
  const built = path.join(root, 'console/dist/index.html');
  return !fs.existsSync(built) || fs.statSync(built).mtimeMs < newestSource();
}

/**
 * Builds the console with Vite (in a child process: the gateway's own process never loads Vite).
 * Always React's production build: Vite takes NODE_ENV from the environment, and a build started
 * under another one (the test runner's `test`) served React's development build, whose StrictMode
 * runs every effect twice.
 */
export function buildConsole(): void {
  const vite = path.join(root, 'node_modules/vite/bin/vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', 'console/vite.config.ts'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (result.status !== 0) throw new Error(`the console's build failed (exit ${result.status ?? result.signal})`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  if (!fs.existsSync(path.join(root, 'node_modules/vite/bin/vite.js'))) {
    process.stderr.write('The console is not built: Vite is a dev dependency and is not installed (npm ci --omit=dev).\n');
  } else if (!process.argv.includes('--if-stale') || consoleIsStale()) {
    buildConsole();
  }
}
