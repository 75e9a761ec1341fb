import fs from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { buildSchema, GraphQLError, parse, type ExecutionResult } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { serveGraphqlWs } from '../../platform/graphql-ws.js';
import { SUPERGRAPH_PATH } from '../../schema/path.js';
import type { GatewayContext } from '../context.js';
import { AFTER_VARIABLE, makeResumable } from './document.js';
import { SubscriptionPlanner } from './planner.js';
import { Subscriber, SubscriptionRefused } from './subscriber.js';
import { Upstream } from './upstream.js';

// An Upstream against a stand-in for the activities subgraph: a real graphql-ws server on a free
// loopback port (platform/graphql-ws.ts, graphql-ws's makeServer) that answers each opening of the
// subscription with the next scripted answer, and Subscribers on real loopback websockets. The
// stand-in is a fake because the point is to script what the real subgraph does only on bad days.

/** Resolves as `promise` does, or rejects naming `what` once `ms` have passed first. */
function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Lets the event loop turn until `condition` holds; throws naming `what` after `ms`. */
async function until(what: string, condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Servers and sockets to close after each test, last opened first. */
const disposals: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (let dispose = disposals.pop(); dispose; dispose = disposals.pop()) await dispose();
});

/** How the stand-in answers one opening of the subscription. */
type Answer =
  /** graphql-ws's answer to a source stream that was not opened: a `next` with the errors and no data, then `complete`. */
  | { readonly kind: 'next-without-data'; readonly errors: readonly GraphQLError[] }
  /** An `error` message (onSubscribe's refusal, or a stream that threw). */
  | { readonly kind: 'error-message'; readonly errors: readonly GraphQLError[] }
  /** Events with these cursors, then `complete`, or nothing more until the gateway lets go. */
  | { readonly kind: 'events'; readonly cursors: readonly string[]; readonly then: 'complete' | 'stay-open' };

const STAND_IN_SCHEMA = buildSchema('type Query { ok: Boolean } type Subscription { ok: Boolean }');

/** The events of an `events` answer as a hand-written iterator: return() ends a stream left open at once. */
function eventsOf(answer: Extract<Answer, { kind: 'events' }>): AsyncIterableIterator<ExecutionResult> {
  const results = answer.cursors.map((cursor) => ({ data: { detectionRaised: { __tw_cursor: cursor, cursor } } }));
  let release: (() => void) | undefined;
  const done = { value: undefined, done: true } as const;
  return {
    async next() {
      const result = results.shift();
      if (result) return { value: result, done: false };
      if (answer.then === 'stay-open') await new Promise<void>((resolve) => (release = resolve));
      return done;
    },
    async return() {
      release?.();
      return done;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * The stand-in subgraph: answers the n-th opening with `answers[n]` (the last one once they run
 * out) and records the cursor each opening resumed from.
 */
async function standIn(answers: readonly Answer[]) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await within(once(wss, 'listening'), 'the stand-in to listen');
  const openedAfter: (string | null)[] = [];
  const waiters: { count: number; resolve(): void }[] = [];
  const server = serveGraphqlWs(
    {
      onSubscribe: (_ctx, _id, payload) => {
        const answer = answers[Math.min(openedAfter.length, answers.length - 1)]!;
        openedAfter.push((payload.variables?.[AFTER_VARIABLE] as string | null | undefined) ?? null);
        for (const waiter of waiters.filter((w) => openedAfter.length >= w.count)) waiter.resolve();
        if (answer.kind === 'error-message') return answer.errors;
        return { schema: STAND_IN_SCHEMA, document: parse(payload.query), variableValues: payload.variables, contextValue: answer };
      },
      subscribe: (args) => {
        const answer = args.contextValue as Answer;
        return answer.kind === 'events' ? eventsOf(answer) : { errors: answer.errors };
      },
    },
    wss,
    0,
  );
  disposals.push(() => server.dispose());
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql`,
    openedAfter,
    /** Resolves once the subscription has been opened `count` times in all. */
    openings: (count: number) => within(new Promise<void>((resolve) => waiters.push({ count, resolve })), `${count} openings`),
  };
}

/** A ws server on a free loopback port and one client connected to it: the subscriber writes to `server`, `received` is what the client read. */
async function connection() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  disposals.push(() => new Promise<void>((resolve) => wss.close(() => resolve())));
  await within(once(wss, 'listening'), 'the server to listen');
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  client.on('error', () => undefined);
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  const [[server]] = await within(Promise.all([accepted, once(client, 'open')]), 'the connection to open');
  disposals.push(async () => {
    client.terminate();
    server.terminate();
    if (server.readyState !== server.CLOSED) await once(server, 'close');
  });
  return { server, received };
}

/** Shows that nothing more reaches the client than `count` messages: a probe sent now arrives right after them. */
async function nothingAfter(c: Awaited<ReturnType<typeof connection>>, count: number): Promise<string[]> {
  c.server.send('probe');
  await until(`the probe after ${count} messages`, () => c.received.length >= count + 1);
  expect(c.received[count]).toBe('probe');
  return c.received.slice(0, count);
}

const planner = new SubscriptionPlanner(fs.readFileSync(SUPERGRAPH_PATH, 'utf8'));
const CALLER: GatewayContext = {
  principal: { subject: 'analyst-1', role: 'analyst', expiresAt: 2 ** 31 },
  authorization: 'Bearer analyst-1',
};
/** Small enough to reopen many times in a test: 5 ms, doubling, at most 40 ms. */
const BACKOFF = { initialMs: 5, maxMs: 40 };

/** An upstream for `subscription { detectionRaised(after: "5") { cursor } }` on `url`, and the waits before each opening. */
function upstreamOn(url: string) {
  const resumable = makeResumable(parse('subscription ($after: String) { detectionRaised(after: $after) { cursor } }'), undefined, {
    after: '5',
  });
  const waits: number[] = [];
  let emptied!: () => void;
  const empty = new Promise<void>((resolve) => (emptied = resolve));
  const upstream: Upstream = new Upstream({
    planner,
    planned: planner.plan(resumable.document, undefined),
    document: resumable.document,
    operationName: undefined,
    variables: { after: '5' },
    rootKey: resumable.rootKey,
    initialAfter: resumable.initialAfter,
    url,
    dataSources: {},
    flushMs: 0,
    bufferLimit: 100,
    onEmpty: emptied,
    onOpen: (waited) => waits.push(waited),
    reopenBackoff: BACKOFF,
  });
  const subscriberOn = (c: Awaited<ReturnType<typeof connection>>) => {
    const subscriber = new Subscriber({ socket: c.server, id: 'sub-1' }, 1_000, (s) => upstream.remove(s));
    // What the subscription's next() ends with (graphql-ws waits on it from the start).
    const ending = subscriber.next().then(
      () => undefined,
      (error: unknown) => error,
    );
    upstream.add(subscriber, CALLER);
    return { subscriber, ending };
  };
  return { upstream, waits, empty, subscriberOn };
}

const BAD_AFTER = new GraphQLError('Argument "after": "abc" is not an event cursor', {
  extensions: { code: 'BAD_USER_INPUT', argument: 'after' },
});
const INTERNAL = new GraphQLError('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });

describe('Upstream, when the subgraph answers errors instead of events', () => {
  it.each(['next-without-data', 'error-message'] as const)(
    'ends every subscriber once with a refusal (%s) and never reopens: no event, no cursor, nothing delivered',
    async (kind) => {
      const subgraph = await standIn([{ kind, errors: [BAD_AFTER] }]);
      const { upstream, waits, empty, subscriberOn } = upstreamOn(subgraph.url);
      const [a, b] = [await connection(), await connection()];
      const first = subscriberOn(a);
      const second = subscriberOn(b);

      for (const refusal of await within(Promise.all([first.ending, second.ending]), 'both subscriptions to end')) {
        expect(refusal).toBeInstanceOf(SubscriptionRefused);
        expect((refusal as SubscriptionRefused).errors).toMatchObject([
          { message: BAD_AFTER.message, extensions: { code: 'BAD_USER_INPUT', argument: 'after' } },
        ]);
      }
      await within(empty, 'the upstream to let go of its subscribers');
      await upstream.stop(); // resolves once its loop has ended: nothing can open it again
      expect(subgraph.openedAfter).toEqual(['5']);
      expect(waits).toEqual([0]);
      expect(upstream.delivered).toBe(false);
      // The refusal is the subscription's `error` message, sent by graphql-ws: the subscriber itself wrote nothing.
      expect(await nothingAfter(a, 0)).toEqual([]);
      expect(await nothingAfter(b, 0)).toEqual([]);
    },
  );

  it('takes a failure for no event: reopens from the last cursor delivered, waiting longer each time, and from the first wait again once an event is delivered', async () => {
    const subgraph = await standIn([
      { kind: 'next-without-data', errors: [INTERNAL] },
      { kind: 'error-message', errors: [INTERNAL] },
      { kind: 'next-without-data', errors: [new GraphQLError('no code')] },
      { kind: 'next-without-data', errors: [INTERNAL] },
      { kind: 'next-without-data', errors: [INTERNAL] },
      { kind: 'events', cursors: ['9'], then: 'complete' },
      { kind: 'next-without-data', errors: [INTERNAL] },
      { kind: 'events', cursors: [], then: 'stay-open' },
    ]);
    const { upstream, waits, subscriberOn } = upstreamOn(subgraph.url);
    const c = await connection();
    const { subscriber, ending } = subscriberOn(c);

    await subgraph.openings(6);
    // Five failures and not one event: nothing delivered, no cursor taken, each wait twice the last (up to 40 ms).
    expect(upstream.delivered).toBe(false);
    expect(subgraph.openedAfter).toEqual(['5', '5', '5', '5', '5', '5']);
    expect(waits).toEqual([0, 5, 10, 20, 40, 40]);

    await subgraph.openings(8);
    // The event was delivered before the upstream reopened after it, from its cursor, with the first wait again.
    expect(upstream.delivered).toBe(true);
    expect(subgraph.openedAfter).toEqual(['5', '5', '5', '5', '5', '5', '9', '9']);
    expect(waits).toEqual([0, 5, 10, 20, 40, 40, 5, 10]);
    await until('the event to reach the client', () => c.received.length >= 1);
    expect((await nothingAfter(c, 1)).map((message) => JSON.parse(message) as unknown)).toEqual([
      { id: 'sub-1', type: 'next', payload: { data: { detectionRaised: { cursor: '9' } } } },
    ]);

    await subscriber.return();
    expect(await ending).toBeUndefined();
    await upstream.stop();
    expect(subgraph.openedAfter).toHaveLength(8);
  });
});
