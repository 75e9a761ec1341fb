import { spawn } from 'node:child_process';
import path from 'node:path';

/** The project's root, where commands run. */
export const ROOT = path.resolve(import.meta.dirname, '..');

/** Runs a command to its end, as an operator would, with only `env` (and PATH, HOME); answers its exit code and output. */
export function runCommand(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, ...(process.env.HOME ? { HOME: process.env.HOME } : {}), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** Whether a process with this pid runs. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
