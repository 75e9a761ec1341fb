import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.js';
import { graphql, startTestStack, waitFor, type TestStack } from './harness.js';
import { exited, killSchedulers, startSchedulerProcess, type SchedulerProcess } from './scheduler-process.js';
import { connect, disposeClients, record, type Recording } from './subscription-client.js';
import { allNodes, expectGraphMatchesTruth } from './truth.js';

/**
 * The production shape, scaled out: two gateways and two schedulers, each its own process, on one
 * PostgreSQL (the four subgraphs beside them). The provider sees no more than the instance's limit in
 * total, every subscriber on either gateway receives every detection event exactly once, and killing
 * one gateway and one scheduler mid-work loses nothing: the subscribers of the dead gateway resume on
 * the other from their last cursor, and every governance action reaches the provider exactly once.
 */

/** Low enough that two schedulers each spending it alone would be throttled within a second (burst: 1 s). */
const LIMIT_PER_MINUTE = 600;
let t: TestStack;
let simulator: Simulator;
let db: pg.Client;
const gateways: GatewayProcess[] = [];
const schedulers: SchedulerProcess[] = [];

const ask = async <T>(gateway: GatewayProcess, query: string, role: 'admin' | 'responder' = 'admin') => {
  const answer = await graphql<T>(gateway.url, t.token(role), query);
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  return answer.data!;
};

beforeAll(async () => {
  t = await startTestStack({}, { scheduler: false });
  simulator = await startSimulator({
    tenants: [
      {
        id: 'shared',
        token: 'shared-token-0123456789',
        seed: 77,
        users: 60,
        groups: 3,
        files: 30,
        grants: 20,
        backfillDays: 1,
        backfillEventsPerUserPerDay: 3,
        activityPerMinute: 0,
        auditLagMs: 0,
        rateLimitPerMinute: LIMIT_PER_MINUTE,
        burstSeconds: 1,
        maxPageSize: 10,
      },
    ],
  });
  db = new pg.Client({ connectionString: t.stack.databaseUrl });
  await db.connect();
  gateways.push(...(await Promise.all([startGatewayProcess(t), startGatewayProcess(t)])));
  schedulers.push(startSchedulerProcess(t, { SCHEDULER_CONCURRENCY: '4' }), startSchedulerProcess(t, { SCHEDULER_CONCURRENCY: '4' }));
}, 120_000);

afterAll(async () => {
  await disposeClients();
  await killSchedulers();
  for (const gateway of gateways) gateway.kill('SIGKILL');
  await Promise.all(gateways.map(exited));
  await db?.end();
  await t?.stop();
  await simulator?.stop();
});

type Event = { detectionRaised: { cursor: string; detection: { id: string } } };
const SUBSCRIPTION = 'subscription ($after: String) { detectionRaised(after: $after) { cursor detection { id } } }';

/**
 * A subscriber from the log's start (`after: "0"`: no event can slip by before it is set up) that
 * resumes on another gateway from its last cursor when its own dies. Its cursors: every recording's,
 * in order.
 */
class Subscriber {
  private readonly recordings: Recording<Event>[] = [];
  constructor(public gateway: GatewayProcess) {
    this.recordings.push(record<Event>(connect(gateway.url, t.token('analyst')), SUBSCRIPTION, { after: '0' }));
  }
  get cursors(): string[] {
    return this.recordings.flatMap((r) => r.events.map((e) => e.detectionRaised.cursor));
  }
  /** Waits for the end of the subscription (its gateway died), then resumes on `gateway` after the last event it got. */
  async moveTo(gateway: GatewayProcess): Promise<void> {
    await this.recordings.at(-1)!.ended;
    this.gateway = gateway;
    this.recordings.push(record<Event>(connect(gateway.url, t.token('analyst')), SUBSCRIPTION, { after: this.cursors.at(-1) ?? '0' }));
  }
}

describe('two gateways and two schedulers on one PostgreSQL', () => {
  it('share the provider’s limit, deliver every event once to every subscriber, and lose nothing when one of each is killed', async () => {
    const [g1, g2] = gateways as [GatewayProcess, GatewayProcess];
    await ask(
      g1,
      `mutation { createPolicy(input: { name: "sign-ins", kind: ACTIVITY, severity: LOW, condition: { action: "user.login" } }) { id } }`,
    );
    const subscribers = [g1, g1, g1, g2, g2, g2].map((g) => new Subscriber(g));

    const started = Date.now();
    const { connectApp } = await ask<{ connectApp: { id: string } }>(
      g2,
      `mutation { connectApp(input: { provider: "simulated", name: "shared", config: { endpoint: "${simulator.url}", token: "shared-token-0123456789", maxPageSize: 10, rateLimitPerMinute: ${LIMIT_PER_MINUTE} } }) { id } }`,
    );
    const instanceId = connectApp.id;
    await waitFor(
      'the instance CONNECTED',
      async () => {
        const { appInstance } = await ask<{ appInstance: { status: string } }>(g1, `{ appInstance(id: "${instanceId}") { status } }`);
        return appInstance.status === 'CONNECTED' ? true : undefined;
      },
      120_000,
    ).catch(async (error: unknown) => {
      const { appInstance } = await ask<{ appInstance: unknown }>(
        g1,
        `{ appInstance(id: "${instanceId}") { status statusMessage scans { kind state itemsScanned lastError } } }`,
      );
      throw new Error(
        `${String(error)}\n${JSON.stringify(appInstance)}\n${schedulers.map((s) => s.output().slice(-3000)).join('\n---\n')}`,
      );
    });
    const tenant = simulator.tenant('shared');
    // The limit, shared through PostgreSQL: never throttled, and on average within it (the budget keeps its headroom).
    const stats = tenant.stats();
    expect(stats.throttled).toBe(0);
    expect(stats.total).toBeGreaterThan(50);
    expect(stats.total / ((Date.now() - started) / 60_000)).toBeLessThanOrEqual(LIMIT_PER_MINUTE);
    // Scanned once, exactly: nothing missing or twice.
    await expectGraphMatchesTruth(t, tenant, instanceId);

    // One gateway and one scheduler die; new activity and governance go on through the others.
    const accounts = (
      await allNodes<{ id: string }>(t, 'accounts', `filter: { instanceId: "${instanceId}", status: ACTIVE, isAdmin: false }`, 'id')
    ).slice(0, 8);
    const suspensions: string[] = [];
    for (const [i, account] of accounts.entries()) {
      const { suspendAccount } = await ask<{ suspendAccount: { id: string } }>(
        i % 2 === 0 ? g1 : g2,
        `mutation { suspendAccount(input: { targetId: "${account.id}", reason: "scale-out" }) { id } }`,
        'responder',
      );
      suspensions.push(suspendAccount.id);
    }
    g1.kill('SIGKILL');
    schedulers[0]!.kill('SIGKILL');
    await Promise.all([exited(g1), exited(schedulers[0]!)]);
    for (const subscriber of subscribers.filter((s) => s.gateway === g1)) await subscriber.moveTo(g2);
    tenant.generateActivity(40);
    await ask(g2, `mutation { requestScan(instanceId: "${instanceId}", kind: ACTIVITIES) { state } }`);

    await waitFor(
      'every suspension SUCCEEDED',
      async () => {
        const statuses = await Promise.all(
          suspensions.map(
            async (id) =>
              (await ask<{ governanceAction: { status: string } }>(g2, `{ governanceAction(id: "${id}") { status } }`)).governanceAction
                .status,
          ),
        );
        return statuses.every((s) => s === 'SUCCEEDED') ? true : undefined;
      },
      120_000,
    );
    expect(tenant.stats().governance['POST /api/v1/users/:id/suspend']).toBe(suspensions.length);

    // Every detection event, once, to every subscriber, in the log's order.
    const { rows } = await db.query<{ n: string }>(`select count(*) as n from activities.event_log where kind = 'DETECTION'`);
    const total = Number(rows[0]!.n);
    expect(total).toBeGreaterThan(0);
    await waitFor(
      'every subscriber has every event',
      async () => (subscribers.every((s) => s.cursors.length >= total) ? true : undefined),
      60_000,
    );
    const reference = subscribers[0]!.cursors;
    expect(new Set(reference).size).toBe(reference.length);
    expect(reference).toHaveLength(total);
    for (const subscriber of subscribers) expect(subscriber.cursors).toEqual(reference);
  }, 300_000);
});
