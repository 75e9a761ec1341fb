import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayServer } from '../gateway/server.js';
import { WS_CLOSE } from '../gateway/subscriptions/server.js';
import { SUBSCRIBER_TOO_SLOW } from '../gateway/subscriptions/subscriber.js';
import { SUPERGRAPH_PATH } from '../schema/path.js';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { signToken } from '../platform/auth.js';
import { startTestStack, testConfig, waitFor, type TestStack } from './harness.js';
import { connect, disposeClients, rawSocket, record, within } from './subscription-client.js';
import { AccountStatus } from '../platform/vocabulary/account-status.js';

// The gateway's websocket limits (gateway/subscriptions/server.ts), through the real graphql-ws
// client and raw `ws` sockets. The stack runs with small limits so that each shows in a second.
const INIT_TIMEOUT_MS = 300;
const PING_MS = 1_000;
const MAX_SUBSCRIPTIONS = 2;

let t: TestStack;
let instanceId: string;
let accountId: string;
let policyId: string;
/** Gateways of their own (other limits), on the same subgraphs: started by their tests, stopped in afterAll. */
const ownGateways: GatewayServer[] = [];

/** Starts a gateway of its own on the stack's subgraphs, with `settings` over the test configuration. */
async function gatewayWith(settings: Record<string, string>): Promise<GatewayServer> {
  const gateway = await startGateway({
    config: testConfig(t.config.dataDir, settings),
    supergraphSdl: fs.readFileSync(SUPERGRAPH_PATH, 'utf8'),
    subgraphUrls: Object.fromEntries(Object.values(t.stack.subgraphs).map((s) => [s.name, s.url])),
    port: 0,
  });
  ownGateways.push(gateway);
  return gateway;
}

beforeAll(async () => {
  t = await startTestStack({
    GATEWAY_WS_MAX_SUBSCRIPTIONS: String(MAX_SUBSCRIPTIONS),
    GATEWAY_WS_INIT_TIMEOUT_MS: String(INIT_TIMEOUT_MS),
    GATEWAY_WS_PING_MS: String(PING_MS),
  });
  instanceId = await t.fixtures.instance('Sales org');
  const accounts = await t.fixtures.accounts(instanceId, [
    { externalId: 'u1', email: 'ada@org.example', displayName: 'Ada', isAdmin: false, status: AccountStatus.ACTIVE, privileges: [] },
  ]);
  accountId = accounts.get('u1')!;
  policyId = await t.fixtures.policy({ name: 'Limits', kind: PolicyKind.ACTIVITY, severity: Severity.HIGH, condition: {} });
});
afterEach(async () => {
  await disposeClients();
  await waitFor(
    'every subscription released',
    async () => (t.stack.gateway.subscriptions.stats().subscribers === 0 ? true : undefined),
    10_000,
    10,
  );
});
afterAll(async () => {
  await disposeClients();
  for (const gateway of ownGateways) await gateway.stop();
  await t?.stop();
});

interface DetectionRaised {
  detectionRaised: { cursor: string; detection: { title: string; account: { email: string } | null } };
}
const DETECTIONS = `subscription { detectionRaised { cursor detection { title account { email } } } }`;

let raised = 0;
const raise = (title = `Detection ${++raised}`) =>
  t.fixtures.detection({ policyId, severity: Severity.HIGH, title, description: 'raised by a test', instanceId, accountId });

/** Waits until the gateway holds `subscribers` client subscriptions and they have reached the activities subgraph. */
async function live(subscribers: number, upstreams = 1): Promise<void> {
  await waitFor(
    `${subscribers} subscriptions live`,
    async () => {
      const gateway = t.stack.gateway.subscriptions.stats();
      return gateway.subscribers === subscribers && t.stack.subgraphs.activities!.stats().subscribers === upstreams ? true : undefined;
    },
    10_000,
    10,
  );
}

describe('the gateway websocket', () => {
  it('closes a connection whose token expires with 4403; a subscriber sharing its upstream keeps receiving, every field resolved', async () => {
    const expiring = record<DetectionRaised>(connect(t.url, await signToken(t.config, { role: 'analyst', expiresIn: '3s' })), DETECTIONS);
    await live(1);
    // Subscribed second, to the same operation: it shares the upstream the expiring token opened.
    const lasting = record<DetectionRaised>(connect(t.url, t.token('analyst')), DETECTIONS);
    await live(2);
    await raise('before expiry');
    await within(expiring.received(1), 5_000, 'the expiring subscriber to receive its event');

    const ending = await within(expiring.ended, 5_000, 'the expired connection to close');
    expect(ending.close).toEqual({ code: WS_CLOSE.FORBIDDEN, reason: 'Token expired' });
    await raise('after expiry');
    const events = await within(lasting.received(2), 10_000, 'the lasting subscriber to receive the event raised after the expiry');
    expect(events.map((e) => e.detectionRaised.detection)).toEqual([
      { title: 'before expiry', account: { email: 'ada@org.example' } },
      { title: 'after expiry', account: { email: 'ada@org.example' } },
    ]);
  });

  it(`answers the subscription past GATEWAY_WS_MAX_SUBSCRIPTIONS (${MAX_SUBSCRIPTIONS}) on one connection with BAD_USER_INPUT; the others go on`, async () => {
    const client = connect(t.url, t.token('analyst'));
    const kept = Array.from({ length: MAX_SUBSCRIPTIONS }, () => record<DetectionRaised>(client, DETECTIONS));
    await live(MAX_SUBSCRIPTIONS);
    const refused = record<DetectionRaised>(client, DETECTIONS);
    const ending = await within(refused.ended, 5_000, 'the subscription over the limit to be refused');
    expect(ending.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT' } }]);
    expect(ending.errors![0]!.message).toContain('GATEWAY_WS_MAX_SUBSCRIPTIONS');

    await raise();
    for (const subscription of kept) await within(subscription.received(1), 5_000, 'a subscription within the limit to receive its event');
    // Completing one frees its place.
    kept[0]!.unsubscribe();
    await live(MAX_SUBSCRIPTIONS - 1);
    const next = record<DetectionRaised>(client, DETECTIONS);
    await live(MAX_SUBSCRIPTIONS);
    await raise('after a place was freed');
    expect((await within(next.received(1), 5_000, 'the new subscription to receive its event'))[0]!.detectionRaised.detection.title).toBe(
      'after a place was freed',
    );
  });

  it('closes a socket that sends no connection_init within GATEWAY_WS_INIT_TIMEOUT_MS with 4408', async () => {
    const socket = rawSocket(t.url);
    await within(socket.opened, 5_000, 'the socket to open');
    const opened = performance.now();
    const closed = await within(socket.closed, 5_000, 'the server to close the silent socket');
    expect(closed.code).toBe(4408);
    expect(performance.now() - opened).toBeGreaterThanOrEqual(INIT_TIMEOUT_MS - 50);
  });

  it('pings every GATEWAY_WS_PING_MS and drops a peer that does not answer with a pong', async () => {
    const token = t.token('analyst');
    const answering = rawSocket(t.url);
    const silent = rawSocket(t.url, { autoPong: false });
    for (const socket of [answering, silent]) {
      await within(socket.opened, 5_000, 'the socket to open');
      socket.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      expect(await within(socket.nextMessage(), 5_000, 'connection_ack')).toMatchObject({ type: 'connection_ack' });
    }
    await within(answering.pinged, 3 * PING_MS, 'a ping from the server');
    await within(silent.pinged, 3 * PING_MS, 'a ping to the peer that does not answer');
    // Terminated (no close frame: 1006) a keep-alive period after the unanswered ping.
    expect((await within(silent.closed, 3 * PING_MS, 'the silent peer to be dropped')).code).toBe(1006);
    expect(answering.socket.readyState).toBe(answering.socket.OPEN);
  });

  it('closes a connection that reads more than a keep-alive period behind its events with 4420, after every event sent; it resumes with its last cursor', async () => {
    let socket: WebSocket | undefined;
    const behind = record<DetectionRaised>(
      connect(t.url, t.token('analyst'), { on: { connected: (s) => void (socket = s as WebSocket) } }),
      DETECTIONS,
    );
    await live(1);
    const closedBefore = t.stack.gateway.subscriptions.stats().tooSlowConnections;
    socket!.pause(); // alive, but reading nothing: the events and the ping wait in the connection
    const titles: string[] = [];
    const deadline = Date.now() + 10 * PING_MS;
    while (t.stack.gateway.subscriptions.stats().tooSlowConnections === closedBefore) {
      if (Date.now() > deadline) throw new Error('the lagging connection was never closed');
      const title = `behind ${titles.length}`;
      titles.push(title);
      await raise(title);
    }
    socket!.resume();
    const ending = await within(behind.ended, 10_000, 'the connection to close');
    expect(ending.close).toMatchObject({ code: WS_CLOSE.TOO_SLOW });
    const got = behind.events.map((e) => e.detectionRaised.detection.title);
    expect(got.length).toBeGreaterThan(0);
    expect(got).toEqual(titles.slice(0, got.length));

    const after = behind.events.at(-1)!.detectionRaised.cursor;
    const resumed = record<DetectionRaised>(
      connect(t.url, t.token('analyst')),
      DETECTIONS.replace('detectionRaised', 'detectionRaised(after: $after)').replace('subscription', 'subscription ($after: String)'),
      { after },
    );
    const rest = await within(resumed.received(titles.length - got.length), 20_000, 'the events after the last one received');
    expect(rest.map((e) => e.detectionRaised.detection.title)).toEqual(titles.slice(got.length));
  });

  it('closes with 4420, not drops, a client left behind by a burst once the stream has gone quiet', async () => {
    let socket: WebSocket | undefined;
    const behind = record<DetectionRaised>(
      connect(t.url, t.token('analyst'), { on: { connected: (s) => void (socket = s as WebSocket) } }),
      DETECTIONS.replace('title', 'title evidence'),
    );
    await live(1);
    const closedBefore = t.stack.gateway.subscriptions.stats().tooSlowConnections;
    socket!.pause();
    // A burst larger than the connection's kernel buffers, then nothing more.
    const evidence = { blob: 'z'.repeat(256 * 1024) };
    const titles = Array.from({ length: 80 }, (_, i) => `burst ${i}`);
    for (const title of titles)
      await t.fixtures.detection({
        policyId,
        severity: Severity.HIGH,
        title,
        description: 'raised by a test',
        instanceId,
        accountId,
        evidence,
      });
    await waitFor(
      'the lagging connection to be closed',
      async () => (t.stack.gateway.subscriptions.stats().tooSlowConnections > closedBefore ? true : undefined),
      10 * PING_MS,
      20,
    );
    socket!.resume();
    const ending = await within(behind.ended, 20_000, 'the connection to close');
    expect(ending.close).toMatchObject({ code: WS_CLOSE.TOO_SLOW });
    const got = behind.events.map((e) => e.detectionRaised.detection.title);
    expect(got).toEqual(titles.slice(0, got.length));
  });

  it("passes a subgraph's refusal to the client with its code", async () => {
    const refused = record(connect(t.url, t.token('analyst')), `subscription { detectionRaised(after: "yesterday") { cursor } }`);
    const ending = await within(refused.ended, 5_000, 'the refusal');
    expect(ending.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'after' } });
  });
});

describe('the gateway websocket connection limit', () => {
  it('closes the connection past GATEWAY_WS_MAX_CONNECTIONS (3) with 1013; the others keep working, and a freed place is taken again', async () => {
    const limited = await gatewayWith({ GATEWAY_WS_MAX_CONNECTIONS: '3' });
    const url = limited.url;
    const token = t.token('analyst');
    const opened = Array.from({ length: 3 }, () => {
      let connected!: () => void;
      const ready = new Promise<void>((resolve) => (connected = resolve));
      return { client: connect(url, token, { lazy: false, on: { connected: () => connected() } }), ready };
    });
    await within(Promise.all(opened.map((o) => o.ready)), 5_000, 'three connections acknowledged');

    const over = rawSocket(url);
    expect(await within(over.closed, 5_000, 'the fourth connection to be closed')).toEqual({
      code: WS_CLOSE.TRY_AGAIN_LATER,
      reason: 'Too many connections (GATEWAY_WS_MAX_CONNECTIONS)',
    });

    const stream = record<DetectionRaised>(opened[0]!.client, DETECTIONS);
    await waitFor(
      'the subscription live',
      async () =>
        limited.subscriptions.stats().subscribers === 1 && t.stack.subgraphs.activities!.stats().subscribers === 1 ? true : undefined,
      10_000,
      10,
    );
    await raise('within the connection limit');
    expect((await within(stream.received(1), 5_000, 'an event on a connection within the limit'))[0]!.detectionRaised.detection.title).toBe(
      'within the connection limit',
    );

    // A closed connection frees its place (once the server has seen it close: polled with a deadline).
    await opened[2]!.client.dispose();
    const init = JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    await waitFor(
      'a new connection to take the freed place',
      async () => {
        const socket = rawSocket(url);
        await within(socket.opened, 5_000, 'the socket to open');
        socket.socket.send(init);
        const first = await within(
          Promise.race([socket.nextMessage(), socket.closed.then(({ code }) => ({ type: `closed ${code}` }))]),
          5_000,
          'an answer',
        );
        return first.type === 'connection_ack' ? true : undefined;
      },
      5_000,
      20,
    );
  });

  it('sends events that come close together at once while the gateway is idle, however long GATEWAY_SUBSCRIPTION_FLUSH_MS is', async () => {
    // The longest flush interval allowed: a hold for it would keep the events after the first for about a second.
    const flushMs = 1_000;
    const gateway = await gatewayWith({ GATEWAY_SUBSCRIPTION_FLUSH_MS: String(flushMs) });
    const stream = record<DetectionRaised>(connect(gateway.url, t.token('analyst')), DETECTIONS);
    await waitFor(
      'the subscription live',
      async () =>
        gateway.subscriptions.stats().subscribers === 1 && t.stack.subgraphs.activities!.stats().subscribers === 1 ? true : undefined,
      10_000,
      10,
    );
    const titles = ['idle 1', 'idle 2', 'idle 3'];
    // When the first and the last arrive: held for the flush interval, the later two would come about
    // flushMs after the first. Only the spread is judged, not how long delivery takes on a busy machine.
    const firstAt = stream.received(1).then(() => performance.now());
    const all = stream.received(titles.length).then((events) => ({ events, at: performance.now() }));
    for (const title of titles) await raise(title);
    const [first, last] = await within(Promise.all([firstAt, all]), 15_000, 'the events raised back to back');
    expect(last.events.map((e) => e.detectionRaised.detection)).toEqual(
      titles.map((title) => ({ title, account: { email: 'ada@org.example' } })),
    );
    expect(last.at - first).toBeLessThan(flushMs * 0.7);
  });

  it('ends a subscriber that stops reading with SUBSCRIBER_TOO_SLOW, holding at most its limit, and it resumes from its last cursor', async () => {
    const limit = 3;
    const gateway = await gatewayWith({ GATEWAY_SUBSCRIBER_QUEUE_LIMIT: String(limit), GATEWAY_SUBSCRIPTION_FLUSH_MS: '0' });
    const WITH_EVIDENCE = `subscription { detectionRaised { cursor detection { title evidence account { email } } } }`;
    let socket: WebSocket | undefined;
    const slow = record<DetectionRaised>(
      connect(gateway.url, t.token('analyst'), { on: { connected: (s) => void (socket = s as WebSocket) } }),
      WITH_EVIDENCE,
    );
    await waitFor(
      'the subscription live',
      async () =>
        gateway.subscriptions.stats().subscribers === 1 && t.stack.subgraphs.activities!.stats().subscribers === 1 ? true : undefined,
      10_000,
      10,
    );
    socket!.pause(); // the client stops reading: the kernel's buffers fill, then the gateway's writes wait

    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const evidence = { blob: 'x'.repeat(128 * 1024) };
    const titles: string[] = [];
    let mostWaiting = 0;
    while (gateway.subscriptions.stats().tooSlow === 0) {
      if (titles.length >= 500)
        throw new Error(`the subscriber was never found too slow (${gateway.subscriptions.stats().waiting} waiting)`);
      const title = `slow ${titles.length}`;
      titles.push(title);
      await t.fixtures.detection({
        policyId,
        severity: Severity.HIGH,
        title,
        description: 'raised by a test',
        instanceId,
        accountId,
        evidence,
      });
      mostWaiting = Math.max(mostWaiting, gateway.subscriptions.stats().waiting);
    }
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    // Written and not taken by the kernel: at most the limit plus the events that came in together in one batch.
    expect(mostWaiting).toBeLessThan(limit + 5);
    expect(heapGrowth).toBeLessThan(16 * 1024 * 1024);
    expect(gateway.subscriptions.stats()).toMatchObject({ subscribers: 0, tooSlow: 1 });

    socket!.resume();
    const ending = await within(slow.ended, 10_000, 'the slow subscription to end');
    expect(ending.errors).toMatchObject([{ extensions: { code: SUBSCRIBER_TOO_SLOW } }]);
    const got = slow.events.map((e) => e.detectionRaised.detection.title);
    expect(got).toEqual(titles.slice(0, got.length));
    expect(slow.events.every((e) => e.detectionRaised.detection.account?.email === 'ada@org.example')).toBe(true);

    // Resumed with the last cursor it received: exactly the rest, in order.
    const after = slow.events.at(-1)!.detectionRaised.cursor;
    const resumed = record<DetectionRaised>(
      connect(gateway.url, t.token('analyst')),
      DETECTIONS.replace('detectionRaised', 'detectionRaised(after: $after)').replace('subscription', 'subscription ($after: String)'),
      { after },
    );
    const rest = await within(resumed.received(titles.length - got.length), 20_000, 'the missed events');
    expect(rest.map((e) => e.detectionRaised.detection.title)).toEqual(titles.slice(got.length));
  });

  it('stops reading an upstream whose received events pass GATEWAY_UPSTREAM_BUFFER_LIMIT and reopens it after the last delivered: nothing lost or repeated', async () => {
    const gateway = await gatewayWith({ GATEWAY_UPSTREAM_BUFFER_LIMIT: '2', GATEWAY_SUBSCRIPTION_FLUSH_MS: '0' });
    const stream = record<DetectionRaised>(connect(gateway.url, t.token('analyst')), DETECTIONS);
    await waitFor(
      'the subscription live',
      async () =>
        gateway.subscriptions.stats().subscribers === 1 && t.stack.subgraphs.activities!.stats().subscribers === 1 ? true : undefined,
      10_000,
      10,
    );
    // Bursts committed together arrive faster than the gateway completes them (entity fetches per batch).
    const titles: string[] = [];
    for (let round = 0; gateway.subscriptions.stats().upstreamOverflows === 0; round++) {
      if (round >= 20) throw new Error('the upstream buffer never filled');
      const burst = Array.from({ length: 10 }, (_, i) => `burst ${round}.${i}`);
      titles.push(...burst);
      await Promise.all(burst.map((title) => raise(title)));
      await within(stream.received(titles.length), 20_000, `the events of round ${round}`);
    }
    await raise('after the bursts');
    const events = await within(stream.received(titles.length + 1), 20_000, 'the last event');
    expect(events.at(-1)!.detectionRaised.detection.title).toBe('after the bursts');
    const received = events.slice(0, -1).map((e) => e.detectionRaised.detection.title);
    expect([...received].sort()).toEqual([...titles].sort());
    const cursors = events.map((e) => BigInt(e.detectionRaised.cursor));
    for (let i = 1; i < cursors.length; i++) expect(cursors[i]! > cursors[i - 1]!).toBe(true);
    expect(events.every((e) => e.detectionRaised.detection.account?.email === 'ada@org.example')).toBe(true);
    expect(stream.events).toHaveLength(titles.length + 1);
  });

  it('holds one shared copy of the events waiting for many subscribers that stopped reading, not one copy each', async () => {
    const limit = 20;
    const readers = 10;
    const gateway = await gatewayWith({ GATEWAY_SUBSCRIBER_QUEUE_LIMIT: String(limit), GATEWAY_SUBSCRIPTION_FLUSH_MS: '0' });
    const WITH_EVIDENCE = `subscription { detectionRaised { cursor detection { title evidence } } }`;
    const sockets: WebSocket[] = [];
    const streams = Array.from({ length: readers }, () =>
      record<DetectionRaised>(
        connect(gateway.url, t.token('analyst'), { on: { connected: (s) => void sockets.push(s as WebSocket) } }),
        WITH_EVIDENCE,
      ),
    );
    await waitFor(
      'the subscriptions live',
      async () =>
        gateway.subscriptions.stats().subscribers === readers && t.stack.subgraphs.activities!.stats().subscribers === 1 ? true : undefined,
      10_000,
      10,
    );
    for (const socket of sockets) socket.pause();

    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const evidence = { blob: 'y'.repeat(256 * 1024) };
    let raisedCount = 0;
    let mostHeld = 0;
    while (gateway.subscriptions.stats().tooSlow < readers) {
      if (raisedCount >= 400)
        throw new Error(`only ${gateway.subscriptions.stats().tooSlow} of ${readers} subscribers were found too slow`);
      await t.fixtures.detection({
        policyId,
        severity: Severity.HIGH,
        title: `crowd ${raisedCount++}`,
        description: 'raised by a test',
        instanceId,
        accountId,
        evidence,
      });
      gc();
      mostHeld = Math.max(mostHeld, process.memoryUsage().arrayBuffers - before);
    }
    // Each reader's backlog past the kernel's buffers is at most one write of its own plus the
    // shared batches: one copy each of `limit` events would be readers × limit × 256 KiB = 50 MiB.
    expect(mostHeld).toBeLessThan(20 * 1024 * 1024);
    for (const socket of sockets) socket.resume();
    for (const stream of streams)
      expect((await within(stream.ended, 10_000, 'a crowded subscription to end')).errors).toMatchObject([
        { extensions: { code: SUBSCRIBER_TOO_SLOW } },
      ]);
  });
});
