import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../platform/auth.js';
import { startSubgraph } from '../platform/subgraph.js';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../scripts/embedded-postgres.js';
import { startStack, type Stack } from '../scripts/stack.js';
import { SUBGRAPHS } from '../subgraphs/index.js';
import { graphql, testConfig, waitFor, type GraphQLAnswer, type TestStack } from './harness.js';
import { isAlive } from './processes.js';
import { expectGraphMatchesTruth } from './truth.js';

/**
 * Faults survived, on a stack with its own PostgreSQL (so that it can crash without touching the
 * other test files' server): PostgreSQL crashes (immediate shutdown, recovery at restart) under a
 * load of mutations and scans, and every service recovers by itself with every mutation answered OK
 * still stored; a subgraph goes down, and the gateway answers partial data with errors naming it,
 * `/readyz` reports it, and all recovers when it returns.
 */

let dir: string;
let postgres: EmbeddedPostgres;
let stack: Stack;
let simulator: Simulator;
let token: string;
let instanceId: string;
// Retries scaled down: the first after 100 ms, and past six a provider outage is retried every second (not 5 min).
const config = () =>
  testConfig(path.join(dir, 'stack'), {
    AUDIT_LAG_SECONDS: '1',
    BACKFILL_DAYS: '1',
    JOB_RETRY_DELAY_MS: '100',
    PROVIDER_RETRY_DELAY_MS: '10',
    PROVIDER_OUTAGE_RETRY_SECONDS: '1',
  });

const ask = <T>(query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer<T>> =>
  graphql<T>(stack.gateway.url, token, query, variables);
async function data<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const answer = await ask<T>(query, variables);
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  return answer.data!;
}
/** The helpers of test/truth.ts ask through `query`: this stack's gateway, as admin. */
const client = () => ({ query: data }) as unknown as TestStack;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-faults-'));
  // Durable, as npm start runs it: what was committed survives the crash.
  postgres = await startEmbeddedPostgres(path.join(dir, 'postgres'));
  await postgres.ensureDatabase('tenantwatch');
  simulator = await startSimulator({
    tenants: [
      {
        id: 'steady',
        token: 'steady-token-0123456789',
        seed: 4,
        users: 30,
        groups: 2,
        files: 10,
        grants: 8,
        backfillDays: 1,
        backfillEventsPerUserPerDay: 2,
        activityPerMinute: 0,
        auditLagMs: 0,
        rateLimitPerMinute: 6000,
      },
    ],
  });
  const cfg = config();
  stack = await startStack({ config: cfg, databaseUrl: postgres.databaseUrl('tenantwatch'), port: 0, scheduler: true });
  token = await signToken(cfg, { role: 'admin' });
  const { connectApp } = await data<{ connectApp: { id: string } }>(
    `mutation { connectApp(input: { provider: "simulated", name: "steady", config: { endpoint: "${simulator.url}", token: "steady-token-0123456789", rateLimitPerMinute: 6000 } }) { id } }`,
  );
  instanceId = connectApp.id;
  await waitFor(
    'CONNECTED',
    async () =>
      (await data<{ appInstance: { status: string } }>(`{ appInstance(id: "${instanceId}") { status } }`)).appInstance.status ===
      'CONNECTED'
        ? true
        : undefined,
    90_000,
  );
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await simulator?.stop();
  await postgres?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The postmaster's pid, from its pid file. */
const postmaster = () => Number(fs.readFileSync(path.join(dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);

describe('faults', () => {
  it('PostgreSQL crashing under load: every service recovers by itself and no write answered OK is lost', async () => {
    const accepted: string[] = [];
    let failed = 0;
    let stop = false;
    // Four clients creating policies as fast as they are answered, and scans running.
    const load = Array.from({ length: 4 }, async (_, client) => {
      for (let i = 0; !stop; i++) {
        const answer = await ask<{ createPolicy: { id: string } }>(
          `mutation { createPolicy(input: { name: "load-${client}-${i}", kind: ACTIVITY, severity: LOW, condition: { action: "never.happens" } }) { id } }`,
        ).catch(() => undefined);
        if (answer?.data?.createPolicy) accepted.push(answer.data.createPolicy.id);
        else failed += 1;
      }
    });
    await data(`mutation { requestScan(instanceId: "${instanceId}", kind: USERS) { state } }`);
    await waitFor('some writes accepted', async () => (accepted.length >= 20 ? true : undefined));

    // Crash: an immediate shutdown (SIGQUIT), no checkpoint; the restart replays the WAL.
    const pid = postmaster();
    process.kill(pid, 'SIGQUIT');
    await waitFor('PostgreSQL gone', async () => (isAlive(pid) ? undefined : true));
    const acceptedAtCrash = accepted.length;
    await waitFor('writes failing while it is down', async () => (failed > 0 ? true : undefined));
    postgres = await startEmbeddedPostgres(path.join(dir, 'postgres'), { port: postgres.port });

    // Nothing restarted by hand: the gateway, the subgraphs and the scheduler take up again.
    await waitFor('writes accepted again', async () => (accepted.length >= acceptedAtCrash + 20 ? true : undefined), 60_000);
    stop = true;
    await Promise.all(load);
    expect(failed).toBeGreaterThan(0);
    const ready = await fetch(new URL('/readyz', stack.gateway.url));
    expect(ready.status).toBe(200);

    // Every write answered OK is stored, once.
    const db = new pg.Client({ connectionString: postgres.databaseUrl('tenantwatch') });
    await db.connect();
    try {
      const { rows } = await db.query<{ id: string }>('select id from activities.policy where id = any($1)', [accepted]);
      expect(rows.length).toBe(accepted.length);
    } finally {
      await db.end();
    }
    // The scheduler scans again: a scan requested now completes.
    const before = (
      await data<{ appInstance: { scans: { kind: string; lastCompletedAt: string }[] } }>(
        `{ appInstance(id: "${instanceId}") { scans { kind lastCompletedAt } } }`,
      )
    ).appInstance.scans.find((s) => s.kind === 'GROUPS')!.lastCompletedAt;
    await data(`mutation { requestScan(instanceId: "${instanceId}", kind: GROUPS) { state } }`);
    await waitFor(
      'a scan after the crash',
      async () => {
        const { appInstance } = await data<{
          appInstance: { status: string; scans: { kind: string; state: string; lastCompletedAt: string }[] };
        }>(`{ appInstance(id: "${instanceId}") { status scans { kind state lastCompletedAt } } }`);
        const groups = appInstance.scans.find((s) => s.kind === 'GROUPS')!;
        return groups.state === 'IDLE' && groups.lastCompletedAt > before ? appInstance.status : undefined;
      },
      60_000,
    );
  }, 180_000);

  it('the provider down: the instance says so, scans keep trying, and resume with nothing missed when it is back', async () => {
    const tenant = simulator.tenant('steady');
    // Every request answered 503 (the provider down), while its users keep working.
    tenant.update({ faults: { errorRate: 1 } });
    try {
      tenant.generateActivity(30);
      await data(`mutation { requestScan(instanceId: "${instanceId}", kind: ACTIVITIES) { state } }`);
      const degraded = await waitFor(
        'DEGRADED, saying why',
        async () => {
          const { appInstance } = await data<{ appInstance: { status: string; statusMessage: string | null } }>(
            `{ appInstance(id: "${instanceId}") { status statusMessage } }`,
          );
          return appInstance.status === 'DEGRADED' ? appInstance.statusMessage : undefined;
        },
        60_000,
      ).catch(async (error: unknown) => {
        const view = await data(`{ appInstance(id: "${instanceId}") { status statusMessage scans { kind state lastError } } }`);
        const { jobs } = await stack.scheduler!.agenda.queryJobs({ name: 'scan.activities', data: { instanceId } });
        throw new Error(
          `${String(error)} ${JSON.stringify(view)} ${JSON.stringify(jobs.map((j) => [j.failCount, j.failReason, j.nextRunAt, j.lockedAt]))}`,
        );
      });
      expect(degraded).toMatch(/^The provider is not answering \(.*503.*\): scans wait and try again.*nothing is missed$/);
      // Past its six retries the scan is still trying (every PROVIDER_OUTAGE_RETRY_SECONDS), not given up.
      await waitFor(
        'more attempts than the retries',
        async () => {
          const { jobs } = await stack.scheduler!.agenda.queryJobs({ name: 'scan.activities', data: { instanceId } });
          return jobs.some((j) => (j.failCount ?? 0) > 7) ? true : undefined;
        },
        60_000,
      );
    } finally {
      tenant.update({ faults: { errorRate: 0 } });
    }
    await waitFor(
      'CONNECTED again with the audit trail read',
      async () => {
        const { appInstance } = await data<{ appInstance: { status: string; scans: { kind: string; state: string }[] } }>(
          `{ appInstance(id: "${instanceId}") { status scans { kind state } } }`,
        );
        return appInstance.status === 'CONNECTED' && appInstance.scans.find((s) => s.kind === 'ACTIVITIES')!.state === 'IDLE'
          ? true
          : undefined;
      },
      60_000,
    );
    await expectGraphMatchesTruth(client(), tenant, instanceId);
  }, 180_000);

  it('a subgraph down: partial data with errors naming it, /readyz reports it, and all recovers when it returns', async () => {
    const query = '{ accounts(first: 3) { edges { node { email files(first: 1) { totalCount } } } } }';
    const whole = await data<{ accounts: { edges: { node: { email: string; files: { totalCount: number } } }[] } }>(query);
    expect(whole.accounts.edges).toHaveLength(3);

    const files = stack.subgraphs.files!;
    await files.stop();
    const readyz = await fetch(new URL('/readyz', stack.gateway.url));
    expect(readyz.status).toBe(503);
    expect(((await readyz.json()) as { subgraphs: Record<string, { status: string }> }).subgraphs.files!.status).toBe('unready');
    const partial = await ask<{ accounts: { edges: { node: { email: string; files: unknown } }[] } }>(query);
    // The accounts subgraph's part is there; the files part is null, with errors naming its subgraph.
    expect(partial.data?.accounts.edges.map((e) => e.node.email)).toEqual(whole.accounts.edges.map((e) => e.node.email));
    expect(partial.data?.accounts.edges.every((e) => e.node.files === null)).toBe(true);
    expect(partial.errors?.length).toBeGreaterThan(0);
    for (const error of partial.errors!) expect(error.extensions).toMatchObject({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'files' });

    const definition = SUBGRAPHS.find((s) => s.name === 'files')!;
    (stack.subgraphs as Record<string, unknown>).files = await startSubgraph(definition, {
      config: config(),
      databaseUrl: postgres.databaseUrl('tenantwatch'),
      port: files.port,
    });
    await waitFor('ready again', async () => ((await fetch(new URL('/readyz', stack.gateway.url))).ok ? true : undefined));
    expect(await data(query)).toEqual(whole);
  });
});
