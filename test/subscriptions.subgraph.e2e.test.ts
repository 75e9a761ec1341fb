import v8 from 'node:v8';
import vm from 'node:vm';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { DetectionDraft } from '../subgraphs/activities/detection.service.js';
import { startEventLogRetention } from '../subgraphs/activities/event-log.retention.js';
import { EventLogService } from '../subgraphs/activities/event-log.service.js';
import { EVENT_STREAM_APPLICATION } from '../subgraphs/activities/event-stream.js';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { activitiesSubgraph } from '../subgraphs/activities/subgraph.js';
import { signToken } from '../platform/auth.js';
import type { SubgraphServer } from '../platform/server.js';
import { startSubgraph } from '../platform/subgraph.js';
import { startTestStack, testConfig, waitFor, type TestStack } from './harness.js';
import { connect, disposeClients, record } from './subscription-client.js';
import { GovernanceActionType } from '../platform/governance/actions.js';

// Straight to the activities subgraph over graphql-ws (the gateway's executor is tested elsewhere).
let t: TestStack;
let activities: SubgraphServer;
let instances: string[];
let policies: string[];

beforeAll(async () => {
  t = await startTestStack();
  activities = t.stack.subgraphs.activities!;
  instances = [await t.fixtures.instance('Sales org'), await t.fixtures.instance('Support org')];
  policies = [
    await t.fixtures.policy({
      name: 'Mass download',
      kind: PolicyKind.ACTIVITY,
      severity: Severity.HIGH,
      condition: { action: 'file.download' },
    }),
    await t.fixtures.policy({ name: 'Public file', kind: PolicyKind.FILE, severity: Severity.LOW, condition: { sharing: ['PUBLIC'] } }),
  ];
});
afterEach(async () => {
  await disposeClients();
  await subscribers(0); // the server has let go of the last test's subscriptions before the next one counts its own
});
afterAll(() => t?.stop());

interface DetectionRaised {
  detectionRaised: {
    cursor: string;
    detection: { id: string; title: string; severity: string; status: string; policy: { id: string }; instance: { id: string } };
  };
}
const DETECTIONS = `subscription ($filter: DetectionFilter, $after: String) {
  detectionRaised(filter: $filter, after: $after) { cursor detection { id title severity status policy { id } instance { id } } } }`;
const ids = (events: readonly DetectionRaised[]) => events.map((e) => e.detectionRaised.detection.id);
const lastCursor = (events: readonly DetectionRaised[]) => events.at(-1)!.detectionRaised.cursor;

let raised = 0;
const raise = (draft: Partial<DetectionDraft> = {}) =>
  t.fixtures.detection({
    policyId: policies[0]!,
    severity: Severity.HIGH,
    title: `Detection ${++raised}`,
    description: 'raised by a test',
    instanceId: instances[0]!,
    ...draft,
  });
const raiseMany = async (count: number) => {
  const raisedIds: string[] = [];
  for (let i = 0; i < count; i++) raisedIds.push(await raise());
  return raisedIds;
};
const latestCursor = () => new EventLogService(activities.db.knex()).latest();

/** Waits until `server` holds `count` subscribers: a subscription without `after` only sees what is raised later. */
const subscribers = (count: number, server = activities) =>
  waitFor(`${count} subscribers`, async () => (server.stats().subscribers === count ? true : undefined), 10_000, 5);

/** The garbage collector, for heap measurements (`--expose-gc` without restarting the worker). */
function garbageCollector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

describe('subscriptions on the activities subgraph', () => {
  it('delivers each raised detection in commit order, with increasing cursors and the detection loaded', async () => {
    const stream = record<DetectionRaised>(connect(activities.url, t.token('analyst')), DETECTIONS);
    await subscribers(1);
    const raisedIds = await raiseMany(5);
    const events = await stream.received(5);
    expect(ids(events)).toEqual(raisedIds);
    const cursors = events.map((e) => BigInt(e.detectionRaised.cursor));
    for (let i = 1; i < cursors.length; i++) expect(cursors[i]! > cursors[i - 1]!).toBe(true);
    expect(events[0]!.detectionRaised.detection).toMatchObject({
      severity: 'HIGH',
      status: 'OPEN',
      policy: { id: policies[0] },
      instance: { id: instances[0] },
    });
  });

  it('reads the log once per wake-up, however many subscribers there are', async () => {
    const client = connect(activities.url, t.token('analyst'));
    const streams = Array.from({ length: 5 }, () => record<DetectionRaised>(client, DETECTIONS));
    await subscribers(5);
    const reads = activities.stats().reads!;
    const id = await raise();
    for (const stream of streams) expect(ids(await stream.received(1))).toEqual([id]);
    expect(activities.stats().reads! - reads).toBe(1);
  });

  it('gives each subscriber only the detections its filter matches', async () => {
    const client = connect(activities.url, t.token('analyst'));
    const byInstance = record<DetectionRaised>(client, DETECTIONS, { filter: { instanceId: instances[1] } });
    const bySeverity = record<DetectionRaised>(client, DETECTIONS, { filter: { severityAtLeast: 'MEDIUM' } });
    const byPolicy = record<DetectionRaised>(client, DETECTIONS, { filter: { policyId: policies[1] } });
    const byStatus = record<DetectionRaised>(client, DETECTIONS, { filter: { status: 'OPEN' } });
    await subscribers(4);
    const [i0, i1] = instances as [string, string];
    const [p0, p1] = policies as [string, string];
    const a = await raise({ instanceId: i0, severity: Severity.LOW, policyId: p0 });
    const b = await raise({ instanceId: i1, severity: Severity.HIGH, policyId: p0 });
    const c = await raise({ instanceId: i0, severity: Severity.MEDIUM, policyId: p1 });
    const d = await raise({ instanceId: i1, severity: Severity.INFORMATIONAL, policyId: p1 });
    // Matches every filter and comes last: anything unexpected would show up before it.
    const last = await raise({ instanceId: i1, severity: Severity.HIGH, policyId: p1 });
    expect(ids(await byInstance.received(3))).toEqual([b, d, last]);
    expect(ids(await bySeverity.received(3))).toEqual([b, c, last]);
    expect(ids(await byPolicy.received(3))).toEqual([c, d, last]);
    expect(ids(await byStatus.received(5))).toEqual([a, b, c, d, last]);
  });

  it('streams governance actions, filtered by type', async () => {
    const query = `subscription ($filter: GovernanceFilter) { governanceResult(filter: $filter) { cursor action { id type status instance { id } } } }`;
    type GovernanceResult = {
      governanceResult: { cursor: string; action: { id: string; type: string; status: string; instance: { id: string } } };
    };
    const client = connect(activities.url, t.token('analyst'));
    const suspensions = record<GovernanceResult>(client, query, { filter: { type: 'SUSPEND_ACCOUNT' } });
    const all = record<GovernanceResult>(client, query);
    await subscribers(2);
    const action = (type: GovernanceActionType) => t.fixtures.governanceAction({ type, instanceId: instances[0]!, requestedBy: 'test' });
    const reset = await action(GovernanceActionType.REQUIRE_PASSWORD_RESET);
    const suspend = await action(GovernanceActionType.SUSPEND_ACCOUNT);
    expect((await all.received(2)).map((e) => e.governanceResult.action.id)).toEqual([reset, suspend]);
    const [only] = await suspensions.received(1);
    expect(only!.governanceResult.action).toEqual({
      id: suspend,
      type: 'SUSPEND_ACCOUNT',
      status: 'SUCCEEDED',
      instance: { id: instances[0] },
    });
  });

  it('replays the events after `after` in order, then live ones, with no gap and no duplicate', async () => {
    const from = await latestCursor();
    const earlier = await raiseMany(30);
    const stream = record<DetectionRaised>(connect(activities.url, t.token('analyst')), DETECTIONS, { after: from });
    const later = await raiseMany(30); // committed while the subscription replays
    expect(ids(await stream.received(60))).toEqual([...earlier, ...later]);
    const live = await raise();
    expect(ids(await stream.received(61)).at(-1)).toBe(live);
    expect(stream.events).toHaveLength(61);
  });

  it('resumes after a disconnect with exactly the missed events, filter applied', async () => {
    const filter = { policyId: policies[1] };
    const first = record<DetectionRaised>(connect(activities.url, t.token('analyst')), DETECTIONS, { filter });
    await subscribers(1);
    const seen = [await raise({ policyId: policies[1] }), await raise({ policyId: policies[1] })];
    const events = await first.received(2);
    expect(ids(events)).toEqual(seen);
    await disposeClients();
    await subscribers(0);
    const missed: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await raise({ policyId: policies[i % 2] });
      if (i % 2 === 1) missed.push(id);
    }
    const resumed = record<DetectionRaised>(connect(activities.url, t.token('analyst')), DETECTIONS, { filter, after: lastCursor(events) });
    expect(ids(await resumed.received(3))).toEqual(missed);
  });

  it('keeps delivering, nothing lost, when the LISTEN connection drops', async () => {
    const stream = record<DetectionRaised>(connect(activities.url, t.token('analyst')), DETECTIONS);
    await subscribers(1);
    const reconnects = activities.stats().reconnects!;
    const admin = new pg.Client({ connectionString: t.stack.databaseUrl });
    await admin.connect();
    try {
      const killed = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = current_database()',
        [EVENT_STREAM_APPLICATION],
      );
      expect(killed.rowCount).toBe(1);
      const raisedIds = await raiseMany(3); // while the stream is down or reconnecting
      expect(ids(await stream.received(3))).toEqual(raisedIds);
      await waitFor(
        'the LISTEN connection back',
        async () => (activities.stats().reconnects === reconnects + 1 ? true : undefined),
        10_000,
        5,
      );
      expect(activities.stats().listening).toBe(1);
    } finally {
      await admin.end();
    }
  });
});

describe('refusals', () => {
  it.each([
    ['no token', async () => null],
    ['a malformed token', async () => 'not-a-jwt'],
    ['an expired token', () => signToken(t.config, { role: 'analyst', expiresIn: Math.floor(Date.now() / 1000) - 60 })],
  ])('closes the socket with 4401 for %s', async (_case, token) => {
    const stream = record(connect(activities.url, await token()), DETECTIONS);
    expect((await stream.ended).close).toMatchObject({ code: 4401 });
  });

  it('answers FORBIDDEN to a viewer', async () => {
    const stream = record(connect(activities.url, t.token('viewer')), DETECTIONS);
    expect((await stream.ended).errors).toMatchObject([{ extensions: { code: 'FORBIDDEN' } }]);
    expect(activities.stats().subscribers).toBe(0);
  });

  it('answers BAD_USER_INPUT to a malformed `after`', async () => {
    const stream = record(connect(activities.url, t.token('analyst')), DETECTIONS, { after: 'yesterday' });
    expect((await stream.ended).errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT', argument: 'after' } }]);
  });
});

describe('bounded resources', () => {
  it('ends a subscriber that stops reading with SUBSCRIBER_TOO_SLOW, memory bounded, and it resumes from its last cursor', async () => {
    const limit = 3;
    const tight = await startSubgraph(activitiesSubgraph, {
      config: testConfig(t.config.dataDir, { SUBSCRIPTION_QUEUE_LIMIT: String(limit) }),
      databaseUrl: t.stack.databaseUrl,
      port: 0,
    });
    try {
      let socket: WebSocket | undefined;
      const client = connect(tight.url, t.token('analyst'), { on: { connected: (s) => void (socket = s as WebSocket) } });
      const from = await latestCursor();
      const slow = record<DetectionRaised>(client, DETECTIONS.replace('title', 'title evidence'));
      await subscribers(1, tight);
      socket!.pause(); // the client stops reading: the server's sends back up, then its queue fills
      const gc = garbageCollector();
      gc();
      const heapBefore = process.memoryUsage().heapUsed;
      const evidence = { blob: 'x'.repeat(128 * 1024) };
      const raisedIds: string[] = [];
      while (tight.stats().tooSlow === 0) {
        if (raisedIds.length >= 500) throw new Error('the subscriber was never found too slow');
        raisedIds.push(await raise({ evidence }));
        expect(tight.stats().waiting).toBeLessThanOrEqual(limit);
      }
      gc();
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
      expect(tight.stats()).toMatchObject({ subscribers: 0, waiting: 0, tooSlow: 1 });
      expect(heapGrowth).toBeLessThan(16 * 1024 * 1024);

      socket!.resume();
      expect((await slow.ended).errors).toMatchObject([{ extensions: { code: 'SUBSCRIBER_TOO_SLOW' } }]);
      const got = ids(slow.events);
      expect(got).toEqual(raisedIds.slice(0, got.length));
      const after = slow.events.length > 0 ? lastCursor(slow.events) : from;
      const resumed = record<DetectionRaised>(connect(activities.url, t.token('analyst')), DETECTIONS, { after });
      expect(ids(await resumed.received(raisedIds.length - got.length))).toEqual(raisedIds.slice(got.length));
    } finally {
      await disposeClients();
      await tight.stop();
    }
  });

  it('leaves no subscriber, socket or LISTEN connection behind after 1,000 subscribe/unsubscribe cycles', async () => {
    const gc = garbageCollector();
    const from = await latestCursor();
    const replayed = await raise();
    const clients = Array.from({ length: 10 }, () => connect(activities.url, t.token('analyst')));
    const cycle = async (client: (typeof clients)[number], i: number) => {
      if (i % 2 === 0) {
        // Replays one event, then completes.
        const stream = record<DetectionRaised>(client, DETECTIONS, { after: from });
        expect(ids(await stream.received(1))).toEqual([replayed]);
        stream.unsubscribe();
      } else {
        // Completes while the server may still be setting the subscription up.
        const stream = record<DetectionRaised>(client, DETECTIONS);
        await new Promise((resolve) => setImmediate(resolve));
        stream.unsubscribe();
      }
    };
    await Promise.all(clients.map((client) => cycle(client, 0)));
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    await Promise.all(
      clients.map(async (client) => {
        for (let i = 1; i < 100; i++) await cycle(client, i);
      }),
    );
    await subscribers(0);
    gc();
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(8 * 1024 * 1024);
    await disposeClients();
    await waitFor('sockets closed', async () => (activities.stats().webSockets === 0 ? true : undefined), 10_000, 5);
    expect(activities.stats()).toMatchObject({ subscribers: 0, waiting: 0, listening: 1 });
    const admin = new pg.Client({ connectionString: t.stack.databaseUrl });
    await admin.connect();
    try {
      const listening = await admin.query(
        'select count(*)::int as n from pg_stat_activity where application_name = $1 and datname = current_database()',
        [EVENT_STREAM_APPLICATION],
      );
      expect(listening.rows[0].n).toBe(1);
    } finally {
      await admin.end();
    }
    // Still serving.
    const stream = record<DetectionRaised>(connect(activities.url, t.token('analyst')), DETECTIONS);
    await subscribers(1);
    const id = await raise();
    expect(ids(await stream.received(1))).toEqual([id]);
  });
});

describe('event log retention', () => {
  it('prunes entries older than the retention, keeps the rest', async () => {
    const old = await raise();
    const recent = await raise();
    const knex = activities.db.knex();
    await knex('activities.event_log')
      .where('entity_id', old)
      .update({ created_at: new Date(Date.now() - 8 * 86_400_000) });
    const count = async (entityId: string) =>
      Number((await knex('activities.event_log').where('entity_id', entityId).count('* as n').first())!.n);
    const retention = startEventLogRetention({ log: new EventLogService(knex), retentionDays: 7 }); // first pass at start
    try {
      await waitFor('the old entry pruned', async () => ((await count(old)) === 0 ? true : undefined), 10_000, 20);
      expect(await count(recent)).toBe(1);
    } finally {
      await retention.stop();
    }
  });
});
