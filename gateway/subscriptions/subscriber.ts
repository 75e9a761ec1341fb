import type { Socket } from 'node:net';
import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import type { WebSocket } from 'ws';

/** Error code of a subscription ended because its client read too slowly (it can resume with its last cursor). */
export const SUBSCRIBER_TOO_SLOW = 'SUBSCRIBER_TOO_SLOW';

/**
 * Why a subscription ended because its upstream was refused for good: `errors` are the owning
 * subgraph's. Subscriber's next() rejects with it, and the gateway's graphql-ws server answers it
 * with an `error` message carrying `errors` (see its onError), graphql-ws's terminal message.
 */
export class SubscriptionRefused extends Error {
  constructor(readonly errors: readonly GraphQLFormattedError[]) {
    super(errors.map((error) => error.message).join('; ') || 'The subscription was refused');
    this.name = 'SubscriptionRefused';
  }
}

/** Where one client subscription's events go: the client's socket and the id it subscribed with. */
export interface Delivery {
  readonly socket: WebSocket;
  readonly id: string;
}

/** The underlying TCP socket of a ws WebSocket (not in its typings): a batch's frames are written to it at once. */
export const tcpOf = (socket: WebSocket) => (socket as unknown as { _socket?: Socket | null })._socket ?? undefined;

/** Bytes of an unmasked WebSocket frame header for a payload of `length` bytes (RFC 6455, 5.2). */
const headerBytes = (length: number) => (length < 126 ? 2 : length < 65_536 ? 4 : 10);

/** Writes the header of an unmasked, unfragmented text frame of `length` payload bytes at `at`; answers where it ends. */
function writeFrameHeader(frames: Buffer, at: number, length: number): number {
  frames[at++] = 0x81; // FIN, opcode 1 (text)
  if (length < 126) {
    frames[at++] = length;
  } else if (length < 65_536) {
    frames[at++] = 126;
    frames.writeUInt16BE(length, at);
    at += 2;
  } else {
    frames[at++] = 127;
    frames.writeUInt32BE(Math.floor(length / 2 ** 32), at);
    frames.writeUInt32BE(length >>> 0, at + 4);
    at += 8;
  }
  return at;
}

/** A batch's frames for message openings of one length, with the openings left out and where they go. */
interface FrameTemplate {
  readonly frames: Buffer;
  readonly headsAt: readonly number[];
}

/**
 * Events ready for every subscriber of an upstream: each serialized once, as the UTF-8 bytes of the
 * `next` message's payload followed by the message's closing brace. Only the message's opening,
 * which carries the subscription id, differs between subscribers.
 */
export class EventBatch {
  readonly tails: readonly Buffer[];
  /** The batch's frames per opening length (ids of one length share one), built on first use. */
  private readonly templates = new Map<number, FrameTemplate>();

  constructor(payloads: readonly string[]) {
    this.tails = payloads.map((payload) => Buffer.from(`${payload}}`));
  }

  get size(): number {
    return this.tails.length;
  }

  /**
   * The batch's events as one buffer of unmasked, unfragmented text frames (RFC 6455, 5.2: the
   * server never masks), each message being `head` followed by the event's tail: a copy of the
   * frames built once for every opening of this length, with `head` written into each.
   */
  framesFor(head: Buffer): Buffer {
    const template = this.templateFor(head.length);
    const frames = Buffer.allocUnsafe(template.frames.length);
    frames.set(template.frames);
    for (const at of template.headsAt) frames.set(head, at);
    return frames;
  }

  private templateFor(headLength: number): FrameTemplate {
    let template = this.templates.get(headLength);
    if (template) return template;
    let total = 0;
    for (const tail of this.tails) {
      const length = headLength + tail.length;
      total += headerBytes(length) + length;
    }
    const frames = Buffer.allocUnsafe(total);
    const headsAt: number[] = [];
    let at = 0;
    for (const tail of this.tails) {
      at = writeFrameHeader(frames, at, headLength + tail.length);
      headsAt.push(at);
      at += headLength;
      frames.set(tail, at);
      at += tail.length;
    }
    template = { frames, headsAt };
    this.templates.set(headLength, template);
    return template;
  }
}

/** A frame's header and `head`, for a message that continues with a tail of `tailLength` bytes. */
function frameOpening(head: Buffer, tailLength: number): Buffer {
  const length = head.length + tailLength;
  const opening = Buffer.allocUnsafe(headerBytes(length) + head.length);
  head.copy(opening, writeFrameHeader(opening, 0, length));
  return opening;
}

/**
 * One client subscription on the gateway's websocket. Its events are written straight to the
 * client's TCP socket as graphql-transport-ws `next` messages, framed here: the payload is
 * serialized once per event for every subscriber (only the message's id differs), and the events of
 * one batch go to the kernel as one buffer in one write, instead of a serialization, a frame, a write
 * and a promise per event and subscriber. (ws writes its own frames synchronously, in call order,
 * while permessage-deflate is off, as on this server, so frames written beside it stay in order.)
 * graphql-ws reads this object as the subscription's async iterator only to learn when it ends (it
 * then sends `complete`, or `error` when the upstream was refused: see fail); it calls return() when
 * the client completes the subscription or goes away.
 *
 * Bounded, and shared while a client is behind: a batch goes out at once (one buffer, copied, taken
 * by the kernel in the same call) only while the previous write to the client has been taken;
 * otherwise the batch itself is held (the same object every subscriber of the upstream holds, not a
 * copy) and the held batches go out together when that write completes, as frames that point into
 * the shared payloads (written corked, gathered by one writev). Events written and not yet taken by
 * the kernel, and events held, count as waiting. A subscriber found with `limit` or more waiting
 * when a new batch is ready gets one last `next` carrying a SUBSCRIBER_TOO_SLOW error (after what
 * it was sent; what was held is dropped), then `complete`; it resumes with `after` set to the last
 * cursor it received.
 */
export class Subscriber implements AsyncIterableIterator<ExecutionResult> {
  private readonly prefix: string;
  private readonly head: Buffer;
  /** Events in writes the kernel has not taken yet. */
  private unflushed = 0;
  /** Writes the kernel has not taken yet. */
  private inFlight = 0;
  /** Batches held while a write is in flight (shared with the upstream's other subscribers). */
  private held: EventBatch[] = [];
  private heldEvents = 0;
  private done = false;
  private slow = false;
  /** Set by fail(): the next (or pending) next() rejects with it, once. */
  private refusal?: SubscriptionRefused;
  private ending?: { resolve(result: IteratorResult<ExecutionResult>): void; reject(error: SubscriptionRefused): void };

  constructor(
    private readonly delivery: Delivery,
    private readonly limit: number,
    private readonly onClose: (subscriber: Subscriber) => void,
  ) {
    this.prefix = `{"id":${JSON.stringify(delivery.id)},"type":"next","payload":`;
    this.head = Buffer.from(this.prefix);
  }

  /** Events written to the socket and not yet taken by the kernel, and events held behind them. */
  get waiting(): number {
    return this.unflushed + this.heldEvents;
  }

  /** True once the subscription ended because its client read too slowly. */
  get tooSlow(): boolean {
    return this.slow;
  }

  /**
   * Writes a batch of events in order, in one write, or holds it behind the write in flight. Answers
   * false once the subscriber is gone or has just been found too slow (it has then removed itself).
   */
  deliver(batch: EventBatch): boolean {
    if (this.done) return false;
    if (!this.open()) {
      this.close();
      return false;
    }
    const waiting = this.waiting;
    if (waiting >= this.limit) {
      this.slow = true;
      this.dropHeld();
      this.write([
        JSON.stringify({
          errors: [
            {
              message: `The subscriber read too slowly (${waiting} events waiting, the limit is ${this.limit}); subscribe again with "after" set to the last cursor it received`,
              extensions: { code: SUBSCRIBER_TOO_SLOW },
            },
          ],
        }),
      ]);
      this.close();
      return false;
    }
    if (batch.size === 0) return true;
    const tcp = tcpOf(this.delivery.socket);
    if (!tcp) {
      this.write(batch.tails.map((tail) => tail.toString('utf8', 0, tail.length - 1)));
      return true;
    }
    if (this.inFlight > 0) {
      this.held.push(batch);
      this.heldEvents += batch.size;
      return true;
    }
    this.track(batch.size);
    tcp.write(batch.framesFor(this.head), this.written(tcp, batch.size));
    return true;
  }

  private track(events: number): void {
    this.unflushed += events;
    this.inFlight += 1;
  }

  /** The callback of a write of `events` events: once the kernel has taken it (or the socket closed), the held batches follow. */
  private written(tcp: Socket, events: number): () => void {
    return () => {
      this.unflushed -= events;
      this.inFlight -= 1;
      if (this.inFlight === 0 && this.held.length > 0) this.release(tcp);
    };
  }

  /** Writes the held batches in order: per event a small frame opening and the shared payload, corked into one writev. */
  private release(tcp: Socket): void {
    if (this.done || !this.open()) {
      this.dropHeld();
      return;
    }
    const batches = this.held;
    const events = this.heldEvents;
    this.held = [];
    this.heldEvents = 0;
    this.track(events);
    const done = this.written(tcp, events);
    const lastBatch = batches.length - 1;
    tcp.cork();
    try {
      batches.forEach((batch, b) => {
        const lastTail = batch.tails.length - 1;
        batch.tails.forEach((tail, t) => {
          tcp.write(frameOpening(this.head, tail.length));
          if (b === lastBatch && t === lastTail) tcp.write(tail, done);
          else tcp.write(tail);
        });
      });
    } finally {
      tcp.uncork();
    }
  }

  private dropHeld(): void {
    this.held = [];
    this.heldEvents = 0;
  }

  /**
   * Ends the subscription because the upstream was refused for good: what was held is dropped, and
   * next() rejects with a SubscriptionRefused carrying `errors`, which graphql-ws sends as the
   * subscription's `error` message after what it was sent (no `complete` follows).
   */
  fail(errors: readonly GraphQLFormattedError[]): void {
    if (this.done) return;
    this.refusal = new SubscriptionRefused(errors);
    this.close();
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.done) return this.ended();
    return new Promise((resolve, reject) => (this.ending = { resolve, reject }));
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
    this.close();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private open(): boolean {
    const { socket } = this.delivery;
    return socket.readyState === socket.OPEN && tcpOf(socket)?.destroyed !== true;
  }

  /** Sends messages through ws itself (a subscriber's last message, or a socket without its TCP socket at hand). */
  private write(payloads: readonly string[]): void {
    const { socket } = this.delivery;
    const tcp = tcpOf(socket);
    const count = payloads.length;
    const last = count - 1;
    tcp?.cork();
    try {
      for (let i = 0; i < last; i++) socket.send(this.prefix + payloads[i] + '}');
      this.unflushed += count;
      // Called once the last frame (and so every earlier one) is with the kernel, or with an error when the socket closed.
      socket.send(this.prefix + payloads[last] + '}', () => (this.unflushed -= count));
    } finally {
      tcp?.uncork();
    }
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    this.dropHeld();
    const ending = this.ending;
    this.ending = undefined;
    if (ending) this.ended().then(ending.resolve, ending.reject);
    this.onClose(this);
  }

  /** How an ended subscription's next() answers: its refusal the first time, if it was refused; done after. */
  private ended(): Promise<IteratorResult<ExecutionResult>> {
    const refusal = this.refusal;
    this.refusal = undefined;
    return refusal ? Promise.reject(refusal) : Promise.resolve({ value: undefined, done: true });
  }
}
