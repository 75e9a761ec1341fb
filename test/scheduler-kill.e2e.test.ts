import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { startTestStack, TEST_JWT_SECRET, waitFor, type TestStack } from './harness.js';
import { expectGraphMatchesTruth, scanOf, waitConnected } from './truth.js';

const ROOT = path.resolve(import.meta.dirname, '..');
let t: TestStack;
let simulator: Simulator;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  t = await startTestStack({}, { scheduler: false });
  simulator = await startSimulator({
    tenants: [
      {
        id: 'gamma',
        token: 'gamma-token-123456',
        seed: 21,
        users: 1200,
        groups: 4,
        files: 400,
        grants: 150,
        backfillDays: 1,
        backfillEventsPerUserPerDay: 2,
        activityPerMinute: 0,
        auditLagMs: 500,
        rateLimitPerMinute: 3000,
        maxPageSize: 25,
        faults: { errorRate: 0.02, dropRate: 0.01, slowRate: 0, slowMs: 0 },
      },
    ],
  });
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await t?.stop();
  await simulator?.stop();
});

/** A scheduler as its own process, as production runs it, on the test stack's database and data dir. */
function startSchedulerProcess(): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'scheduler/index.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: t.stack.databaseUrl,
      DATA_DIR: t.config.dataDir,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      JOB_LOCK_LIFETIME_MS: '3000',
      AUDIT_LAG_SECONDS: '1',
      AUDIT_OVERLAP_SECONDS: '60',
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

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

describe('a scheduler killed mid-scan', () => {
  it('resumes from the saved cursor in a new process and still ends exactly equal to the provider', async () => {
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      `mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "gamma", config: $config }) { id } }`,
      { config: { endpoint: simulator.url, token: 'gamma-token-123456', maxPageSize: 25, rateLimitPerMinute: 3000 } },
    );
    const instanceId = connectApp.id;

    // Kill 1: in the middle of the user scan.
    const first = startSchedulerProcess();
    const users = await waitFor('the user scan under way', async () => {
      const scan = await scanOf(t, instanceId, 'USERS');
      return scan.state === 'RUNNING' && scan.itemsScanned >= 200 ? scan : undefined;
    }, 90_000, 20);
    first.kill('SIGKILL');
    await exited(first);
    expect(users.itemsScanned).toBeLessThan(1200);

    // Kill 2: in the middle of the audit backfill.
    const second = startSchedulerProcess();
    await waitFor('the audit backfill under way', async () => {
      const scan = await scanOf(t, instanceId, 'ACTIVITIES');
      return scan.state === 'RUNNING' && scan.itemsScanned >= 300 ? scan : undefined;
    }, 120_000, 20);
    second.kill('SIGKILL');
    await exited(second);

    const third = startSchedulerProcess();
    await waitConnected(t, instanceId, 180_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${third.output().slice(-3000)}`);
    });
    await expectGraphMatchesTruth(t, simulator.tenant('gamma'), instanceId);

    third.kill('SIGTERM');
    await exited(third);
    expect(third.exitCode).toBe(0);
  }, 400_000);
});
