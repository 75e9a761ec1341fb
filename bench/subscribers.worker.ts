// The subscribers of `npm run bench:subscriptions`, in a worker thread of their own so that reading
// 1,000 sockets does not run on the event loop of the gateway they measure. Each subscriber is a real
// graphql-ws client on its own `ws` WebSocket; every receipt is timed with the system-wide monotonic
// clock, which the committing thread uses too.
import { parentPort, type MessagePort } from 'node:worker_threads';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { percentile } from './load.js';
import { RawWebSocket } from './raw-websocket.js';
import {
  monotonicMs,
  type FromSubscribers,
  type RunReceipts,
  type SubscribeSettings,
  type ToSubscribers,
} from './subscriptions.protocol.js';
import { serveParent } from './worker-thread.js';

interface DetectionEvent {
  readonly detectionRaised?: {
    readonly detection?: {
      readonly id?: string;
      readonly title?: string;
      readonly account?: { readonly email?: string } | null;
      readonly file?: { readonly name?: string } | null;
      readonly appPermission?: { readonly appName?: string } | null;
    };
  };
}

/** A close event (code and reason; it does not serialize) or GraphQL errors, for an error sample. */
function describe(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error) {
    const { code, reason } = error as { code: unknown; reason?: unknown };
    return `close ${String(code)}${reason ? ` "${String(reason)}"` : ''}`;
  }
  return JSON.stringify(error);
}

const TITLE_KEY = '"title":"';
/** How every `next` message for the light client's subscription (id "1") begins. */
const NEXT_OPENING = Buffer.from('{"id":"1","type":"next"');
/** The light client parses one message in this many in full, to check its reading of them. */
const FULL_PARSE_EVERY = 100;

/**
 * A graphql-transport-ws subscriber on a raw socket (BENCH_CLIENT=light, see raw-websocket.ts), to
 * measure the server rather than a client library: graphql-ws's client parses and validates every
 * message, and on the same two cores as the server it measures that parse was a third of the
 * subscribers' thread's time in a profile at 1,000 subscribers; `ws` itself costs ~6 µs a message.
 * It speaks the protocol (connection_init, subscribe, pings answered) and hands each `next` message
 * on as bytes with its chunk's receipt time: the run reads the detection's number from them and
 * parses one message in FULL_PARSE_EVERY in full to check it (see Run.receiveBytes).
 */
class LightClient {
  private readonly socket: RawWebSocket;

  constructor(
    url: string,
    token: string,
    query: string,
    handlers: {
      connected(): void;
      next(data: Buffer, start: number, end: number, at: number): void;
      other(text: string): void;
      closed(how: string): void;
    },
  ) {
    this.socket = new RawWebSocket(
      url,
      'graphql-transport-ws',
      {
        open: () => this.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })),
        message: (data, start, end, at) => {
          if (
            end - start > NEXT_OPENING.length &&
            data.compare(NEXT_OPENING, 0, NEXT_OPENING.length, start, start + NEXT_OPENING.length) === 0
          ) {
            handlers.next(data, start, end, at);
            return;
          }
          const text = data.toString('utf8', start, end);
          const message = JSON.parse(text) as { type?: string };
          if (message.type === 'connection_ack') {
            this.socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
            handlers.connected();
          } else if (message.type === 'ping') {
            this.socket.send(JSON.stringify({ type: 'pong' }));
          } else if (message.type !== 'pong') {
            handlers.other(text);
          }
        },
        closed: handlers.closed,
      },
      monotonicMs,
    );
  }

  dispose(): void {
    this.socket.close(1000, 'Normal Closure');
  }
}

/** Sockets opened at once while subscribing (the gateway's accept backlog is finite). */
const OPEN_BATCH = 100;
const MAX_ERROR_SAMPLES = 5;

/** One run: the clients, the receipt table (`seq * subscribers + subscriber` → monotonic ms), counters. */
class Run {
  readonly clients: { dispose(): void | Promise<void> }[] = [];
  private lightMessages = 0;
  /** What precedes a measured detection's number in a message's bytes. */
  private readonly titlePrefix: Buffer;
  readonly receipts: Float64Array;
  private readonly warm: Uint8Array;
  private warmCount = 0;
  delivered = 0;
  duplicates = 0;
  incomplete = 0;
  unexpectedCloses = 0;
  readonly errorSamples = new Set<string>();
  private disposing = false;
  private readonly closed = new Set<number>();
  private onLive?: () => void;
  private onDelivered?: () => void;
  private onAllClosed?: () => void;
  target = Number.POSITIVE_INFINITY;
  readonly startedLoop = performance.eventLoopUtilization();

  constructor(readonly settings: SubscribeSettings) {
    this.titlePrefix = Buffer.from(`${TITLE_KEY}bench:${settings.run}:`);
    this.receipts = new Float64Array(settings.planned * settings.subscribers).fill(Number.NaN);
    this.warm = new Uint8Array(settings.subscribers);
  }

  /** Opens every client and subscribes it; resolves when all are acknowledged. */
  async open(): Promise<void> {
    const { subscribers } = this.settings;
    for (let first = 0; first < subscribers; first += OPEN_BATCH) {
      const batch: Promise<void>[] = [];
      for (let i = first; i < Math.min(subscribers, first + OPEN_BATCH); i++) batch.push(this.openOne(i));
      await Promise.all(batch);
    }
  }

  private openOne(index: number): Promise<void> {
    return this.settings.client === 'light' ? this.openLight(index) : this.openGraphqlWs(index);
  }

  /** Called when subscriber `index`'s socket closes, however it closes. */
  private closedOne(index: number, reject: (error: Error) => void, how: string): void {
    this.closed.add(index);
    if (this.closed.size === this.clients.length) this.onAllClosed?.();
    if (!this.disposing) {
      this.unexpectedCloses += 1;
      this.sample(`socket closed: ${how}`);
      reject(new Error(`subscriber ${index}: socket closed before it was acknowledged`));
    }
  }

  private openLight(index: number): Promise<void> {
    const { url, token, query } = this.settings;
    return new Promise((resolve, reject) => {
      this.clients.push(
        new LightClient(url, token, query, {
          connected: resolve,
          next: (data, start, end, at) => this.receiveBytes(index, data, start, end, at),
          other: (text) => this.sample(`subscription message: ${text}`),
          closed: (how) => this.closedOne(index, reject, how),
        }),
      );
    });
  }

  private openGraphqlWs(index: number): Promise<void> {
    const { url, token, query } = this.settings;
    return new Promise((resolve, reject) => {
      const client = createClient({
        url,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: true,
        on: {
          connected: () => resolve(),
          closed: (event) => this.closedOne(index, reject, describe(event)),
        },
      });
      this.clients.push(client);
      client.subscribe<DetectionEvent>(
        { query },
        {
          next: (result) => this.receive(index, result.data ?? undefined, result.errors),
          error: (error) => this.sample(`subscription error: ${describe(error)}`),
          complete: () => undefined,
        },
      );
    });
  }

  private receive(index: number, data: DetectionEvent | undefined, errors: readonly unknown[] | undefined): void {
    const detection = data?.detectionRaised?.detection;
    const complete =
      !errors?.length &&
      (!this.settings.checkReferences || Boolean(detection?.account?.email && detection.file?.name && detection.appPermission?.appName));
    this.record(index, detection?.title, complete, () => JSON.stringify({ data, errors }));
  }

  /**
   * A `next` message as the light client reads it (see LightClient): the measured detection's number
   * is read from the bytes after `"title":"bench:<run>:`, and one message in FULL_PARSE_EVERY is
   * parsed in full and checked (errors, references, the same title). Every event goes to all
   * subscribers as the same payload, so each event's ~1,000 copies include about ten checked ones.
   * Anything else (warm-up events, unexpected messages) takes the parsing path.
   */
  receiveBytes(index: number, data: Buffer, start: number, end: number, at: number): void {
    const found = data.indexOf(this.titlePrefix, start);
    if (found >= 0 && found < end) {
      let i = found + this.titlePrefix.length;
      let seq = 0;
      let digits = 0;
      for (let c = data[i]; i < end && c !== undefined && c >= 0x30 && c <= 0x39; c = data[++i], digits++) seq = seq * 10 + (c - 0x30);
      if (digits > 0 && i < end && data[i] === 0x22) {
        const checked = ++this.lightMessages % FULL_PARSE_EVERY === 0;
        const complete = checked ? this.checkInFull(data.toString('utf8', start, end), `bench:${this.settings.run}:${seq}`) : true;
        this.recordSeq(index, seq, at, complete, () => data.toString('utf8', start, end));
        return;
      }
    }
    const text = data.toString('utf8', start, end);
    const title = this.titleOf(text);
    this.record(index, title, this.checkInFull(text, title), () => text);
  }

  private titleOf(text: string): string | undefined {
    const at = text.indexOf(TITLE_KEY);
    return at < 0 ? undefined : text.slice(at + TITLE_KEY.length, text.indexOf('"', at + TITLE_KEY.length));
  }

  /** Parses a message in full: a `next` without errors, its references resolved (when checked), with the title the light reading found. */
  private checkInFull(text: string, title: string | undefined): boolean {
    const message = JSON.parse(text) as { type?: string; payload?: { data?: DetectionEvent; errors?: unknown[] } };
    const detection = message.payload?.data?.detectionRaised?.detection;
    if (message.type !== 'next' || !detection || detection.title !== title) {
      this.sample(`a message read differently in full: ${text}`);
      return false;
    }
    return (
      !message.payload?.errors?.length &&
      (!this.settings.checkReferences || Boolean(detection.account?.email && detection.file?.name && detection.appPermission?.appName))
    );
  }

  private record(index: number, title: string | undefined, complete: boolean, describe: () => string): void {
    const at = monotonicMs();
    const parts = title?.split(':');
    if (!parts || parts[0] !== 'bench' || parts[1] !== this.settings.run) {
      this.incomplete += 1;
      this.sample(`unexpected event: ${describe()}`);
      return;
    }
    if (parts[2] === 'warm-up') {
      if (this.warm[index] === 0) {
        this.warm[index] = 1;
        if (++this.warmCount === this.settings.subscribers) this.onLive?.();
      }
      return;
    }
    this.recordSeq(index, Number(parts[2]), at, complete, describe);
  }

  /** Measured detection number `seq` received by subscriber `index` at `at`. */
  private recordSeq(index: number, seq: number, at: number, complete: boolean, describe: () => string): void {
    const slot = seq * this.settings.subscribers + index;
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.settings.planned) {
      this.incomplete += 1;
      this.sample(`unexpected detection number ${seq}: ${describe()}`);
      return;
    }
    if (!Number.isNaN(this.receipts[slot]!)) {
      this.duplicates += 1;
      return;
    }
    this.receipts[slot] = at;
    this.delivered += 1;
    if (!complete) {
      this.incomplete += 1;
      this.sample(`incomplete event: ${describe()}`);
    }
    if (this.delivered >= this.target) this.onDelivered?.();
  }

  sample(message: string): void {
    if (this.errorSamples.size < MAX_ERROR_SAMPLES) this.errorSamples.add(message.slice(0, 500));
  }

  /** Resolves once every subscriber has seen a warm-up event: from then on nothing committed can be missed. */
  live(): Promise<void> {
    if (this.warmCount === this.settings.subscribers) return Promise.resolve();
    return new Promise((resolve) => (this.onLive = resolve));
  }

  /** Waits until `expected` measured events have arrived or `drainMs` passed, then summarizes. */
  async results(commitTimes: Float64Array, drainMs: number, measuredFrom: number): Promise<RunReceipts> {
    const { subscribers } = this.settings;
    let committed = 0;
    for (const time of commitTimes) if (!Number.isNaN(time)) committed += 1;
    const expected = committed * subscribers;
    this.target = expected;
    if (this.delivered < expected) {
      await new Promise<void>((resolve) => {
        const deadline = setTimeout(resolve, drainMs);
        this.onDelivered = () => {
          clearTimeout(deadline);
          resolve();
        };
      });
    }
    const loop = performance.eventLoopUtilization(this.startedLoop).utilization;
    const latencies = new Float64Array(this.delivered);
    const warmUpLatencies: number[] = [];
    let n = 0;
    let early = 0;
    let lastReceipt = Number.NaN;
    for (let seq = 0; seq < commitTimes.length; seq++) {
      const committedAt = commitTimes[seq]!;
      for (let i = 0; i < subscribers; i++) {
        const at = this.receipts[seq * subscribers + i]!;
        if (Number.isNaN(at) || Number.isNaN(committedAt)) continue;
        if (at < committedAt) early += 1;
        if (!(at <= lastReceipt)) lastReceipt = at;
        if (seq < measuredFrom) warmUpLatencies.push(at - committedAt);
        else latencies[n++] = at - committedAt;
      }
    }
    const ascending = latencies.subarray(0, n).sort();
    const sorted = Array.from(ascending);
    return {
      expected,
      delivered: this.delivered,
      missing: expected - n - warmUpLatencies.length,
      duplicates: this.duplicates,
      incomplete: this.incomplete,
      early,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
      lastReceipt,
      unexpectedCloses: this.unexpectedCloses,
      errorSamples: [...this.errorSamples],
      eventLoopUtilization: loop,
      heapUsedBytes: process.memoryUsage().heapUsed,
      latencies: ascending,
      warmUpLatencies: Float64Array.from(warmUpLatencies).sort(),
    };
  }

  /** Disposes every client and resolves once every socket has closed. */
  async dispose(): Promise<void> {
    this.disposing = true;
    const allClosed = new Promise<void>((resolve) => (this.onAllClosed = resolve));
    if (this.closed.size === this.clients.length) this.onAllClosed?.();
    await Promise.all(this.clients.map((client) => client.dispose()));
    await allClosed;
  }
}

if (!parentPort) throw new Error('bench/subscribers.worker.ts runs as a worker thread of bench/subscriptions.bench.ts');
const port: MessagePort = parentPort;
const reply = (message: FromSubscribers) => port.postMessage(message);
let run: Run | undefined;

serveParent(port, handle);

async function handle(message: ToSubscribers): Promise<void> {
  switch (message.type) {
    case 'subscribe': {
      if (run) throw new Error('a run is still subscribed');
      const began = monotonicMs();
      run = new Run(message);
      await run.open();
      reply({ type: 'subscribed', ms: monotonicMs() - began });
      await run.live();
      reply({ type: 'live' });
      return;
    }
    case 'results':
      if (!run) throw new Error('no run to report');
      reply({ type: 'results', receipts: await run.results(message.commitTimes, message.drainMs, message.measuredFrom) });
      return;
    case 'unsubscribe':
      await run?.dispose();
      run = undefined;
      reply({ type: 'unsubscribed' });
      return;
    case 'close':
      await run?.dispose();
      run = undefined;
      reply({ type: 'closed' });
      port.close();
      return;
    default: {
      const unknown: never = message;
      throw new Error(`unknown message ${JSON.stringify(unknown)}`);
    }
  }
}
