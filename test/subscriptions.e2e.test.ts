import v8 from 'node:v8';
import vm from 'node:vm';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DetectionService } from '../subgraphs/activities/detection.service.js';
import { activitiesModule } from '../subgraphs/activities/module.js';
import { activitiesSubgraph } from '../subgraphs/activities/subgraph.js';
import { openDatabase, type Database } from '../platform/database.js';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { startSubgraph } from '../platform/subgraph.js';
import { seedDataset } from './fixtures.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';

let t: TestStack;
let policyId: string;
let writer: Database;
const clients: Client[] = [];

beforeAll(async () => {
  t = await startTestStack();
  await seedDataset(t.fixtures, { accountsPerInstance: 6, perAccount: 2 });
  policyId = await t.fixtures.policy({ name: 'Live test', kind: PolicyKind.FILE, severity: Severity.HIGH, condition: {} });
  // Detections are written as the scheduler writes them: through the service, on a connection of its own.
  writer = await openDatabase({ ...activitiesModule, url: t.stack.databaseUrl });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await writer?.close();
  await t?.stop();
});

const wsUrl = () => t.url.replace(/^http/, 'ws');

function client(token: string | null = t.token('analyst')): Client {
  const c = createClient({
    url: wsUrl(),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(c);
  return c;
}

interface Received {
  detectionRaised: {
    cursor: string;
    detection: {
      id: string;
      title: string;
      severity: string;
      account: { email: string; displayName: string } | null;
      file: { name: string } | null;
      appPermission: { appName: string } | null;
    };
  };
}

/** Collects a subscription's events; `until` resolves once `count` have arrived. */
function collect(c: Client, query: string, variables: Record<string, unknown> = {}) {
  const events: Received[] = [];
  const errors: unknown[] = [];
  let done = false;
  const stop = c.subscribe<Received>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) errors.push(result.errors);
        if (result.data) events.push(result.data as Received);
      },
      error: (error) => {
        errors.push(error);
        done = true;
      },
      complete: () => {
        done = true;
      },
    },
  );
  return {
    events,
    errors,
    stop,
    closed: () => done,
    until: (count: number) =>
      waitFor(
        `${count} events`,
        async () => (events.length >= count ? events : errors.length ? Promise.reject(new Error(JSON.stringify(errors))) : undefined),
        20_000,
        20,
      ),
  };
}

/**
 * Waits until the gateway's upstream subscriptions have reached the activities subgraph: a live
 * subscription (no `after`) sees events committed from then on.
 */
async function upstreamsAtSubgraph(count: number): Promise<void> {
  await waitFor(`${count} upstream subscriptions at the subgraph`, async () => (subgraphSubscribers() === count ? true : undefined));
}

function subgraphSubscribers(): number {
  return t.stack.subgraphs.activities!.stats().subscribers ?? 0;
}

const SELECTION = `cursor detection { id title severity account { email displayName } file { name } appPermission { appName } }`;

let subject: { instanceId: string; accountId: string; fileId: string; appPermissionId: string } | undefined;

/** Raises a detection about the first account, one of its files and one of its grants (through the service, as evaluation does). */
async function raise(title: string, severity = Severity.HIGH) {
  subject ??= await firstSubject();
  return new DetectionService(writer.fork()).raise({ policyId, severity, title, description: 'raised by the test', ...subject });
}

async function firstSubject() {
  const [account] = (
    await t.query<{
      accounts: {
        edges: {
          node: {
            id: string;
            instance: { id: string };
            files: { edges: { node: { id: string } }[] };
            appPermissions: { edges: { node: { id: string } }[] };
          };
        }[];
      };
    }>(
      '{ accounts(first: 1) { edges { node { id instance { id } files(first: 1) { edges { node { id } } } appPermissions(first: 1) { edges { node { id } } } } } } }',
    )
  ).accounts.edges.map((e) => e.node);
  return {
    instanceId: account!.instance.id,
    accountId: account!.id,
    fileId: account!.files.edges[0]!.node.id,
    appPermissionId: account!.appPermissions.edges[0]!.node.id,
  };
}

describe('subscriptions through the gateway', () => {
  it('delivers a detection with fields from all four subgraphs', async () => {
    const sub = collect(client(), `subscription { detectionRaised { ${SELECTION} } }`);
    await upstreamsAtSubgraph(1);
    await raise('first');
    const [event] = await sub.until(1);
    const detection = event!.detectionRaised.detection;
    expect(detection.title).toBe('first');
    expect(detection.account?.email).toMatch(/@org\d\.example$/);
    expect(detection.file?.name).toMatch(/^report-/);
    expect(detection.appPermission?.appName).toBeTruthy();
    expect(event!.detectionRaised.cursor).toMatch(/^\d+$/);
    expect(Object.keys(event!.detectionRaised)).not.toContain('__tw_cursor');
    sub.stop();
    await upstreamsAtSubgraph(0);
  });

  it('resumes after a disconnect with exactly the missed events, in order, then live ones', async () => {
    const first = collect(client(), `subscription { detectionRaised { ${SELECTION} } }`);
    await upstreamsAtSubgraph(1);
    await raise('before-disconnect');
    const [seen] = await first.until(1);
    first.stop();
    await upstreamsAtSubgraph(0);
    const missed = ['missed-1', 'missed-2', 'missed-3'];
    for (const title of missed) await raise(title);
    const resumed = collect(client(), `subscription ($after: String) { detectionRaised(after: $after) { ${SELECTION} } }`, {
      after: seen!.detectionRaised.cursor,
    });
    await resumed.until(3);
    await raise('live-after-resume');
    const events = await resumed.until(4);
    expect(events.map((e) => e.detectionRaised.detection.title)).toEqual([...missed, 'live-after-resume']);
    const cursors = events.map((e) => BigInt(e.detectionRaised.cursor));
    expect(cursors).toEqual([...cursors].sort((a, b) => (a < b ? -1 : 1)));
    resumed.stop();
    await upstreamsAtSubgraph(0);
  });

  it('gives two subscribers with different filters only their own events', async () => {
    const high = collect(client(), `subscription { detectionRaised(filter: { severityAtLeast: HIGH }) { ${SELECTION} } }`);
    const low = collect(client(), `subscription { detectionRaised(filter: { severityAtLeast: LOW }) { ${SELECTION} } }`);
    await upstreamsAtSubgraph(2);
    await raise('a low one', Severity.LOW);
    await raise('a high one', Severity.HIGH);
    await low.until(2);
    await high.until(1);
    expect(high.events.map((e) => e.detectionRaised.detection.title)).toEqual(['a high one']);
    expect(low.events.map((e) => e.detectionRaised.detection.title)).toEqual(['a low one', 'a high one']);
    high.stop();
    low.stop();
    await upstreamsAtSubgraph(0);
  });

  it('refuses a missing or bad token, and a viewer', async () => {
    for (const token of [null, 'not-a-jwt', t.token('viewer')]) {
      const sub = collect(client(token), `subscription { detectionRaised { cursor } }`);
      await waitFor('refused', async () => (sub.closed() ? true : undefined));
      expect((sub.errors[0] as { code?: number }).code).toBe(4403);
    }
  });

  it('loses nothing when the activities subgraph restarts while subscribed', async () => {
    const sub = collect(client(), `subscription { detectionRaised { ${SELECTION} } }`);
    await upstreamsAtSubgraph(1);
    await raise('before-restart');
    await sub.until(1);
    const old = t.stack.subgraphs.activities!;
    await old.stop();
    await raise('while-down-1');
    await raise('while-down-2');
    const restarted = await startSubgraph(activitiesSubgraph, { config: t.config, databaseUrl: t.stack.databaseUrl, port: old.port });
    (t.stack.subgraphs as Record<string, unknown>).activities = restarted;
    await raise('after-restart');
    const events = await sub.until(4);
    expect(events.map((e) => e.detectionRaised.detection.title)).toEqual([
      'before-restart',
      'while-down-1',
      'while-down-2',
      'after-restart',
    ]);
    sub.stop();
    await upstreamsAtSubgraph(0);
  });

  it('gives a subscriber resuming from a cursor every event since, though another resuming from it already received them', async () => {
    const { cursor: after } = await collectOne();
    await raise('second since the cursor');
    await raise('third since the cursor');
    const RESUME = `subscription ($after: String) { detectionRaised(after: $after) { ${SELECTION} } }`;
    const first = collect(client(), RESUME, { after });
    const titles = (await first.until(3)).map((e) => e.detectionRaised.detection.title);
    expect(titles).toEqual(['replayed by the cycles', 'second since the cursor', 'third since the cursor']);
    // Same operation, variables and role while the first is still open: it must not join the first's upstream where it is now.
    const second = collect(client(), RESUME, { after });
    expect((await second.until(3)).map((e) => e.detectionRaised.detection.title)).toEqual(titles);
    first.stop();
    second.stop();
    await released();
  });

  it('leaves heap, sockets, timers, upstreams and subscribers flat after 1,000 subscribe/unsubscribe cycles', async () => {
    const from = (await collectOne()).cursor; // a cursor to replay from: every cycle that waits gets one event
    const gc = garbageCollector();
    const cyclers = Array.from({ length: 10 }, () => client());
    // Warm: each client's socket is open before the baseline is taken.
    await Promise.all(cyclers.map((c) => cycle(c, 0, from)));
    await released();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const handlesBefore = activeHandles();
    await Promise.all(
      cyclers.map(async (c, k) => {
        for (let i = 0; i < 100; i++) await cycle(c, k + i, from);
      }),
    );
    await released();
    gc();
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(16 * 1024 * 1024);
    // The same sockets and timers as before the cycles (the ten client sockets and the stack's own), give or take a keep-alive's.
    const handlesAfter = activeHandles();
    const grown = Object.entries(handlesAfter).filter(([kind, count]) => count > (handlesBefore[kind] ?? 0) + 2);
    expect({ before: handlesBefore, grown }).toEqual({ before: handlesBefore, grown: [] });
  });
});

/**
 * One cycle: even ones replay one event (`after`), so the gateway really opens an upstream on the
 * activities subgraph, then unsubscribe; odd ones unsubscribe while the subscription is being set up.
 */
async function cycle(c: Client, i: number, after: string): Promise<void> {
  if (i % 2 === 0) {
    const stream = collect(c, `subscription ($after: String) { detectionRaised(after: $after) { cursor } }`, { after });
    await stream.until(1);
    stream.stop();
  } else {
    const stop = c.subscribe(
      { query: `subscription { detectionRaised { cursor } }` },
      { next: () => {}, error: () => {}, complete: () => {} },
    );
    await new Promise((resolve) => setImmediate(resolve));
    stop();
  }
}

/** Waits until neither the gateway nor the activities subgraph holds a subscription. */
async function released(): Promise<void> {
  let last: unknown;
  await waitFor(
    'every subscription released',
    async () => {
      const stats = { gateway: t.stack.gateway.subscriptions.stats(), subgraph: subgraphSubscribers() };
      last = stats;
      return stats.gateway.upstreams === 0 && stats.gateway.subscribers === 0 && stats.subgraph === 0 ? true : undefined;
    },
    20_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(last)}`);
  });
}

/** The one event before now, with its cursor (raised for the purpose). */
async function collectOne(): Promise<{ cursor: string }> {
  const c = client();
  const stream = collect(c, `subscription { detectionRaised { cursor } }`);
  await upstreamsAtSubgraph(1);
  await raise('replayed by the cycles');
  const [event] = await stream.until(1);
  stream.stop();
  await released();
  // The cursor before it: replaying from there answers exactly that event.
  return { cursor: (BigInt(event!.detectionRaised.cursor) - 1n).toString() };
}

/** Counts of this process's active resources by kind (sockets, timers, ...). */
function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

function garbageCollector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
