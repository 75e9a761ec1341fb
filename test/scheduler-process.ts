import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { TEST_JWT_SECRET, type TestStack } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** A scheduler running as its own process, as production runs it; `output()` is what it printed. */
export type SchedulerProcess = ChildProcess & { output(): string };

const children = new Set<ChildProcess>();

/**
 * Starts a scheduler process on the test stack's database and data dir, with `env` added. Stop it
 * with `kill` (SIGKILL for a crash); {@link killSchedulers} ends any still running.
 */
export function startSchedulerProcess(t: TestStack, env: Record<string, string> = {}): SchedulerProcess {
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'scheduler/index.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: t.stack.databaseUrl,
      DATA_DIR: t.config.dataDir,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.SCHEDULER_LOG_LEVEL ?? 'warn',
      JOB_LOCK_LIFETIME_MS: '3000',
      AUDIT_LAG_SECONDS: '1',
      AUDIT_OVERLAP_SECONDS: '60',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  children.add(child);
  child.once('exit', () => children.delete(child));
  return Object.assign(child, { output: () => output });
}

/** Resolves when the process has exited. */
export const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** Kills every scheduler process still running and waits for them. */
export async function killSchedulers(): Promise<void> {
  const running = [...children];
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(running.map(exited));
}
