import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { exited, killSchedulers, startSchedulerProcess } from './scheduler-process.js';
import { expectGraphMatchesTruth, scanOf, waitConnected } from './truth.js';

let t: TestStack;
let simulator: Simulator;

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
      {
        id: 'delta',
        token: 'delta-token-123456',
        seed: 8,
        users: 20,
        groups: 2,
        files: 20,
        grants: 10,
        backfillDays: 1,
        backfillEventsPerUserPerDay: 1,
        activityPerMinute: 0,
        auditLagMs: 0,
      },
    ],
  });
}, 120_000);

afterAll(async () => {
  await killSchedulers();
  await t?.stop();
  await simulator?.stop();
});

const startScheduler = () => startSchedulerProcess(t);

describe('a scheduler killed mid-scan', () => {
  it('resumes from the saved cursor in a new process and still ends exactly equal to the provider', async () => {
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      `mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "gamma", config: $config }) { id } }`,
      { config: { endpoint: simulator.url, token: 'gamma-token-123456', maxPageSize: 25, rateLimitPerMinute: 3000 } },
    );
    const instanceId = connectApp.id;

    // Kill 1: in the middle of the user scan.
    const first = startScheduler();
    const users = await waitFor(
      'the user scan under way',
      async () => {
        const scan = await scanOf(t, instanceId, 'USERS');
        return scan.state === 'RUNNING' && scan.itemsScanned >= 200 ? scan : undefined;
      },
      90_000,
      20,
    );
    first.kill('SIGKILL');
    await exited(first);
    expect(users.itemsScanned).toBeLessThan(1200);

    // Kill 2: in the middle of the audit backfill.
    const second = startScheduler();
    await waitFor(
      'the audit backfill under way',
      async () => {
        const scan = await scanOf(t, instanceId, 'ACTIVITIES');
        return scan.state === 'RUNNING' && scan.itemsScanned >= 300 ? scan : undefined;
      },
      120_000,
      20,
    );
    second.kill('SIGKILL');
    await exited(second);

    const third = startScheduler();
    await waitConnected(t, instanceId, 180_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${third.output().slice(-3000)}`);
    });
    await expectGraphMatchesTruth(t, simulator.tenant('gamma'), instanceId);

    third.kill('SIGTERM');
    await exited(third);
    expect(third.exitCode).toBe(0);
  }, 400_000);
});

describe('a scheduler killed mid-action', () => {
  it('resumes the governance action in a new process without a second provider call', async () => {
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      `mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "delta", config: $config }) { id } }`,
      { config: { endpoint: simulator.url, token: 'delta-token-123456' } },
    );
    const instanceId = connectApp.id;
    const first = startScheduler();
    await waitConnected(t, instanceId, 120_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${first.output().slice(-3000)}`);
    });
    const { accounts } = await t.query<{ accounts: { edges: { node: { id: string; externalId: string } }[] } }>(
      `{ accounts(filter: { instanceId: "${instanceId}", status: ACTIVE, isAdmin: false }, first: 1) { edges { node { id externalId } } } }`,
    );
    const target = accounts.edges[0]!.node;
    const tenant = simulator.tenant('delta');
    const route = 'POST /api/v1/users/:id/suspend';
    const applied = () => tenant.truth().events.filter((e) => e.action === 'admin.user.suspend' && e.targetId === target.externalId).length;

    // The provider applies the suspension at once and holds its answer: the scheduler dies not knowing.
    tenant.queueGovernanceFaults([{ holdMs: 120_000 }]);
    const answer = await t.request<{ suspendAccount: { id: string } }>(
      `mutation { suspendAccount(input: { targetId: "${target.id}" }) { id } }`,
      {},
      t.token('responder'),
    );
    const actionId = answer.data!.suspendAccount.id;
    const status = async () =>
      (
        await t.query<{ governanceAction: { status: string; attempts: number } }>(
          `{ governanceAction(id: "${actionId}") { status attempts } }`,
        )
      ).governanceAction;
    await waitFor(
      'the provider to have applied the held call',
      async () => (applied() === 1 && (await status()).status === 'RUNNING' ? true : undefined),
      30_000,
      20,
    );
    first.kill('SIGKILL');
    await exited(first);

    const second = startScheduler();
    const done = await waitFor(
      'the action to end in the new scheduler',
      async () => {
        const s = await status();
        return s.status === 'SUCCEEDED' || s.status === 'FAILED' ? s : undefined;
      },
      60_000,
      100,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${second.output().slice(-3000)}`);
    });
    expect(done).toEqual({ status: 'SUCCEEDED', attempts: 2 });
    expect(applied()).toBe(1); // one suspension at the provider, ever
    expect(tenant.stats().routes[route]?.total ?? 0).toBe(0); // the only call is the one still held
    const { account } = await t.query<{ account: { status: string } }>(`{ account(id: "${target.id}") { status } }`);
    expect(account.status).toBe('SUSPENDED');

    second.kill('SIGTERM');
    await exited(second);
  }, 240_000);
});
