import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { EventBatch, SUBSCRIBER_TOO_SLOW, Subscriber, SubscriptionRefused, tcpOf } from './subscriber.js';

// Subscriber on a real ws connection over loopback: the server's end is the gateway's socket the
// subscriber writes to, the client's end records what arrives. A write is "in flight" from the
// subscriber's tcp.write until its callback, which Node never calls in the same turn (writable.write:
// "the callback is called asynchronously"), so batches delivered in one synchronous run after the
// first are held deterministically; the tests that need a write to stay in flight across turns stop
// the client reading until the kernel's buffers are full.

/** Resolves as `promise` does, or rejects naming `what` once `ms` have passed first. */
function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Lets the event loop turn until `condition` holds; throws naming `what` after `ms`. */
async function until(what: string, condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await turn();
  }
}

/** One websocket connection: the gateway's end (`server`, its TCP socket `tcp`) and the client's, with what each saw. */
interface Connection {
  readonly server: WebSocket;
  readonly tcp: Socket;
  readonly client: WebSocket;
  /** Messages the client received, in order. */
  readonly received: string[];
  /** Each write the server's TCP socket passed on to the kernel (one _write or _writev call): its chunks. */
  readonly writes: Buffer[][];
}

/** Servers and sockets to close after each test, last opened first. */
const disposals: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (let dispose = disposals.pop(); dispose; dispose = disposals.pop()) await dispose();
  // Nothing of the test's is left open (a closed handle leaves the list once libuv has closed it, a turn later).
  const open = () => process.getActiveResourcesInfo().filter((kind) => kind.startsWith('TCP'));
  await until('every TCP server and socket to be released', () => open().length === 0).catch((error: Error) => {
    throw new Error(`${error.message}: ${open().join(', ')}`);
  });
});

/** Terminates `socket` (unless closed already) and waits for its close. */
async function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === socket.CLOSED) return;
  const closed = once(socket, 'close');
  socket.terminate();
  await within(closed, 'a socket to close');
}

/**
 * Records what reaches the kernel by wrapping the real socket's _write and _writev (Writable's
 * implementer methods, called through unchanged): the client reads the same bytes whether the
 * frames were written one by one or gathered, so only here does corking show.
 */
function recordWrites(tcp: Socket): Buffer[][] {
  type Callback = (error?: Error | null) => void;
  const writes: Buffer[][] = [];
  const socket = tcp as unknown as {
    _write(chunk: Buffer, encoding: BufferEncoding, callback: Callback): void;
    _writev(chunks: { chunk: Buffer }[], callback: Callback): void;
  };
  const write = socket._write.bind(tcp);
  const writev = socket._writev.bind(tcp);
  socket._write = (chunk, encoding, callback) => {
    writes.push([chunk]);
    write(chunk, encoding, callback);
  };
  socket._writev = (chunks, callback) => {
    writes.push(chunks.map(({ chunk }) => chunk));
    writev(chunks, callback);
  };
  return writes;
}

/** A ws server on a free loopback port and one client connected to it, all closed after the test. */
async function connection(): Promise<Connection> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  // ws closes its HTTP server only once every connection has closed: the sockets' disposals run first.
  disposals.push(() => new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve()))));
  await within(once(wss, 'listening'), 'the server to listen');
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  disposals.push(() => closeSocket(client));
  // A client reset by the server reports it here; its close event says how it ended.
  client.on('error', () => undefined);
  const received: string[] = [];
  client.on('message', (data) => received.push(String(data)));
  const [[server]] = await within(Promise.all([accepted, once(client, 'open')]), 'the connection to open');
  disposals.push(() => closeSocket(server));
  const tcp = tcpOf(server)!;
  return { server, tcp, client, received, writes: recordWrites(tcp) };
}

const ID = 'sub-1';
/** What every message of the subscription opens with, before the event's payload. */
const HEAD = Buffer.from(`{"id":"${ID}","type":"next","payload":`);

/** A subscriber of id `ID` writing to `connection`'s server end, and the subscribers its owner was told were closed. */
function subscribe(connection: Connection, limit = 1_000) {
  const closed: Subscriber[] = [];
  const subscriber = new Subscriber({ socket: connection.server, id: ID }, limit, (s) => closed.push(s));
  return { subscriber, closed };
}

/** A batch of events numbered `numbers`. */
const batchOf = (...numbers: number[]) => new EventBatch(numbers.map((n) => JSON.stringify({ data: { n } })));

/** The event numbers in `messages`, checking that each is a `next` message of the subscription. */
function numbers(messages: readonly string[]): number[] {
  return messages.map((message) => {
    const parsed = JSON.parse(message) as { id: string; type: string; payload: { data: { n: number } } };
    expect(parsed).toMatchObject({ id: ID, type: 'next' });
    return parsed.payload.data.n;
  });
}

/** Lets the client receive `count` messages (in all). */
const receive = (connection: Connection, count: number) =>
  until(`${count} messages (got ${connection.received.length})`, () => connection.received.length >= count);

/**
 * Stops the client reading and delivers 1 MiB events, a turn apart, until one stays in the socket
 * after a turn (the kernel's buffers are full, and stay full while the client does not read).
 * Answers how many events it delivered.
 */
async function stall(connection: Connection, subscriber: Subscriber): Promise<number> {
  connection.client.pause();
  const blob = new EventBatch([JSON.stringify({ data: { n: 0, blob: 'x'.repeat(1 << 20) } })]);
  for (let delivered = 1; delivered <= 512; delivered++) {
    expect(subscriber.deliver(blob)).toBe(true);
    await turn();
    if (connection.tcp.writableLength > 0) return delivered;
  }
  throw new Error('the kernel took 512 MiB without the client reading');
}

describe('Subscriber', () => {
  it('writes a batch at once, as one write of its frames, when no write is in flight; its events wait until the kernel takes it', async () => {
    const c = await connection();
    const { subscriber } = subscribe(c);
    const batch = batchOf(1, 2, 3);
    expect(subscriber.deliver(batch)).toBe(true);
    expect(subscriber.waiting).toBe(3);
    expect(c.writes).toEqual([[batch.framesFor(HEAD)]]);
    await receive(c, 3);
    expect(numbers(c.received)).toEqual([1, 2, 3]);
    await until('the write to be taken', () => subscriber.waiting === 0);
  });

  it('holds a batch that comes while its previous write is in flight: nothing more reaches the socket', async () => {
    const c = await connection();
    const { subscriber } = subscribe(c);
    subscriber.deliver(batchOf(1, 2));
    expect(subscriber.deliver(batchOf(3))).toBe(true);
    expect(subscriber.deliver(batchOf(4, 5))).toBe(true);
    expect(c.writes).toHaveLength(1);
    expect(subscriber.waiting).toBe(5);
  });

  it('writes what it held as soon as the write in flight completes, with no further batch to prompt it', async () => {
    const c = await connection();
    const { subscriber } = subscribe(c);
    subscriber.deliver(batchOf(1, 2));
    subscriber.deliver(batchOf(3));
    await receive(c, 3);
    expect(numbers(c.received)).toEqual([1, 2, 3]);
    expect(c.writes).toHaveLength(2);
    await until('the release to be taken', () => subscriber.waiting === 0);
  });

  it('holds again behind the write of what it released, cycle after cycle', async () => {
    const c = await connection();
    const { subscriber } = subscribe(c);
    for (let cycle = 0; cycle < 3; cycle++) {
      const first = 3 * cycle + 1;
      const writes = c.writes.length;
      subscriber.deliver(batchOf(first));
      subscriber.deliver(batchOf(first + 1, first + 2));
      expect(c.writes).toHaveLength(writes + 1);
      await receive(c, first + 2);
      await until('the release to be taken', () => subscriber.waiting === 0);
      expect(c.writes).toHaveLength(writes + 2);
    }
    expect(numbers(c.received)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('releases the held batches corked: one writev of a frame opening and the shared payload per event, then uncorks', async () => {
    const c = await connection();
    const { subscriber } = subscribe(c);
    const held = [batchOf(2, 3), batchOf(4)];
    subscriber.deliver(batchOf(1));
    for (const batch of held) subscriber.deliver(batch);
    await receive(c, 4);
    expect(numbers(c.received)).toEqual([1, 2, 3, 4]);
    expect(c.writes).toHaveLength(2);
    const release = c.writes[1]!;
    expect(release).toHaveLength(6);
    held
      .flatMap((batch) => batch.tails)
      .forEach((tail, i) => {
        // A text frame's header (a short payload: one length byte) and the message's opening, then the payload.
        expect(release[2 * i]).toEqual(Buffer.concat([Buffer.from([0x81, HEAD.length + tail.length]), HEAD]));
        // The batch's own buffer, shared with every other subscriber of the upstream: not a copy.
        expect(release[2 * i + 1]).toBe(tail);
      });
    expect(c.tcp.writableCorked).toBe(0);
  });

  it('releases held batches in the order they came, an empty batch accepted and writing nothing', async () => {
    const c = await connection();
    const { subscriber } = subscribe(c);
    const deliveries = [batchOf(1), batchOf(2, 3), new EventBatch([]), batchOf(4), batchOf(5, 6, 7), batchOf(8)];
    expect(deliveries.map((batch) => subscriber.deliver(batch))).toEqual([true, true, true, true, true, true]);
    expect(subscriber.waiting).toBe(8);
    await receive(c, 8);
    expect(numbers(c.received)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(c.writes).toHaveLength(2);
  });

  it('holds for as long as the client does not read, across turns, and releases everything in order once it reads again', async () => {
    const c = await connection();
    const { subscriber } = subscribe(c);
    const stalled = await stall(c, subscriber);
    const writes = c.writes.length;
    const inSocket = c.tcp.writableLength;
    for (const n of [1, 2, 3]) {
      expect(subscriber.deliver(batchOf(n))).toBe(true);
      await turn();
    }
    expect(c.writes).toHaveLength(writes);
    expect(c.tcp.writableLength).toBe(inSocket);
    expect(subscriber.waiting).toBe(1 + 3);

    c.client.resume();
    await receive(c, stalled + 3);
    expect(numbers(c.received)).toEqual([...Array<number>(stalled).fill(0), 1, 2, 3]);
    expect(c.writes).toHaveLength(writes + 1);
    await until('everything to be taken', () => subscriber.waiting === 0);
  });

  it('accepts batches while fewer than its limit of events wait, in flight or held, and refuses the next one at the limit', async () => {
    const c = await connection();
    const { subscriber, closed } = subscribe(c, 4);
    expect([batchOf(1, 2), batchOf(3), batchOf(4)].map((batch) => subscriber.deliver(batch))).toEqual([true, true, true]);
    expect(subscriber.waiting).toBe(4);
    expect(subscriber.tooSlow).toBe(false);
    expect(subscriber.deliver(batchOf(5))).toBe(false);
    expect(subscriber.tooSlow).toBe(true);
    expect(closed).toEqual([subscriber]);
  });

  it('counts an event as waiting only until the kernel takes it: a client that keeps up is never too slow', async () => {
    const c = await connection();
    const { subscriber, closed } = subscribe(c, 2);
    for (let round = 0; round < 3; round++) {
      // A batch larger than the limit goes out whole when nothing waits.
      expect(subscriber.deliver(batchOf(1, 2, 3))).toBe(true);
      await until('the write to be taken', () => subscriber.waiting === 0);
    }
    await receive(c, 9);
    expect(closed).toEqual([]);
  });

  it('sends a too-slow subscriber one last next with SUBSCRIBER_TOO_SLOW after what it was sent, drops what it held, ends, and leaves the connection open', async () => {
    const c = await connection();
    const { subscriber, closed } = subscribe(c, 3);
    const ending = subscriber.next();
    subscriber.deliver(batchOf(1, 2));
    subscriber.deliver(batchOf(3));
    expect(subscriber.deliver(batchOf(4))).toBe(false);
    expect(await within(ending, 'the subscription to end')).toEqual({ value: undefined, done: true });
    expect(closed).toEqual([subscriber]);

    // Sent after the subscriber's last message: whatever the subscriber wrote arrives before it.
    await receive(c, 3);
    c.server.send('probe');
    await receive(c, 4);
    expect(numbers(c.received.slice(0, 2))).toEqual([1, 2]);
    expect(JSON.parse(c.received[2]!)).toEqual({
      id: ID,
      type: 'next',
      payload: {
        errors: [
          {
            message: expect.stringContaining('(3 events waiting, the limit is 3)'),
            extensions: { code: SUBSCRIBER_TOO_SLOW },
          },
        ],
      },
    });
    expect(c.received.slice(3)).toEqual(['probe']);
    expect(c.client.readyState).toBe(WebSocket.OPEN);
    await until('nothing to wait', () => subscriber.waiting === 0);
    expect(subscriber.deliver(batchOf(5))).toBe(false);
    expect(closed).toHaveLength(1);
  });

  it('refuses every batch once its client is gone: ends, tells its owner once, and writes nothing', async () => {
    const c = await connection();
    const { subscriber, closed } = subscribe(c);
    const ending = subscriber.next();
    const serverClosed = once(c.server, 'close');
    c.client.close();
    await within(serverClosed, 'the server end to close');
    const writes = c.writes.length;
    expect(subscriber.deliver(batchOf(1))).toBe(false);
    expect(await within(ending, 'the subscription to end')).toEqual({ value: undefined, done: true });
    expect(subscriber.deliver(batchOf(2))).toBe(false);
    expect(closed).toEqual([subscriber]);
    expect(subscriber.tooSlow).toBe(false);
    expect(c.writes).toHaveLength(writes);
  });

  it('drops what it holds when its client goes away before the write in flight completes, and writes nothing more', async () => {
    const c = await connection();
    const { subscriber, closed } = subscribe(c);
    await stall(c, subscriber);
    subscriber.deliver(batchOf(1, 2));
    expect(subscriber.waiting).toBe(1 + 2);
    const writes = c.writes.length;
    const serverClosed = once(c.server, 'close');
    c.client.terminate();
    await within(serverClosed, 'the server end to close');
    await until('the held events to be dropped', () => subscriber.waiting === 0);
    expect(c.writes).toHaveLength(writes);
    expect(subscriber.deliver(batchOf(3))).toBe(false);
    expect(closed).toEqual([subscriber]);
  });

  it('drops what it holds when its connection starts closing before the write in flight completes: nothing follows the close frame', async () => {
    const c = await connection();
    const { subscriber } = subscribe(c);
    subscriber.deliver(batchOf(1, 2));
    subscriber.deliver(batchOf(3));
    const clientClosed = once(c.client, 'close') as Promise<[number, Buffer]>;
    // As the server's keep-alive closes a client that reads too far behind: the close frame follows what was written.
    c.server.close(4420, 'Reading too far behind');
    const writes = c.writes.length;
    const [code] = await within(clientClosed, 'the client to close');
    expect(code).toBe(4420);
    expect(numbers(c.received)).toEqual([1, 2]);
    expect(c.writes).toHaveLength(writes);
    await until('the held events to be dropped', () => subscriber.waiting === 0);
  });

  it('ends when graphql-ws returns it: next() resolves done, its owner is told once, held and later batches are never written', async () => {
    const c = await connection();
    const { subscriber, closed } = subscribe(c);
    const ending = subscriber.next();
    subscriber.deliver(batchOf(1, 2));
    subscriber.deliver(batchOf(3));
    expect(await subscriber.return()).toEqual({ value: undefined, done: true });
    expect(subscriber.waiting).toBe(2);
    expect(await within(ending, 'the subscription to end')).toEqual({ value: undefined, done: true });
    expect(await subscriber.next()).toEqual({ value: undefined, done: true });
    await subscriber.return();
    expect(subscriber.deliver(batchOf(4))).toBe(false);
    expect(closed).toEqual([subscriber]);

    await receive(c, 2);
    c.server.send('probe');
    await receive(c, 3);
    expect(c.received[2]).toBe('probe');
    expect(numbers(c.received.slice(0, 2))).toEqual([1, 2]);
  });

  it('fails with the upstream’s errors as its ending, after what it was sent, dropping what it held and writing nothing more', async () => {
    const c = await connection();
    const { subscriber, closed } = subscribe(c);
    const ending = subscriber.next();
    subscriber.deliver(batchOf(1));
    subscriber.deliver(batchOf(2));
    const errors = [
      { message: 'Argument "after": "abc" is not an event cursor', extensions: { code: 'BAD_USER_INPUT', argument: 'after' } },
    ];
    subscriber.fail(errors);
    expect(closed).toEqual([subscriber]);
    // graphql-ws sends the refusal as the subscription's `error` message (see the gateway's onError), and no `complete`.
    const refusal = await within(
      ending.then(
        () => undefined,
        (error: unknown) => error,
      ),
      'the subscription to end',
    );
    expect(refusal).toBeInstanceOf(SubscriptionRefused);
    expect((refusal as SubscriptionRefused).errors).toEqual(errors);
    expect(await subscriber.next()).toEqual({ value: undefined, done: true });
    subscriber.fail(errors);
    expect(subscriber.deliver(batchOf(3))).toBe(false);
    expect(closed).toEqual([subscriber]);
    await receive(c, 1);
    c.server.send('probe');
    await receive(c, 2);
    expect(numbers(c.received.slice(0, 1))).toEqual([1]);
    expect(c.received[1]).toBe('probe');
  });

  it('fails a subscription that was not waiting on next() at its next call', async () => {
    const c = await connection();
    const { subscriber } = subscribe(c);
    subscriber.fail([{ message: 'refused', extensions: { code: 'FORBIDDEN' } }]);
    await expect(subscriber.next()).rejects.toBeInstanceOf(SubscriptionRefused);
    expect(await subscriber.next()).toEqual({ value: undefined, done: true });
  });
});
