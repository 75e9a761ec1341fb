import type { Socket } from 'node:net';
import type { ExecutionResult, GraphQLFormattedError } from 'graphql';
import type { WebSocket } from 'ws';

/** Error code of a subscription ended because its client read too slowly (it can resume with its last cursor). */
export const SUBSCRIBER_TOO_SLOW = 'SUBSCRIBER_TOO_SLOW';

/** Where one client subscription's events go: the client's socket and the id it subscribed with. */
export interface Delivery {
  readonly socket: WebSocket;
  readonly id: string;
}

/** The underlying TCP socket of a ws WebSocket (not in its typings): a batch's frames are written to it at once. */
const tcpOf = (socket: WebSocket) => (socket as unknown as { _socket?: Socket | null })._socket ?? undefined;

/**
 * Events ready for every subscriber of an upstream: each serialized once, as the UTF-8 bytes of the
 * `next` message's payload followed by the message's closing brace. Only the message's opening,
 * which carries the subscription id, differs between subscribers.
 */
export class EventBatch {
  readonly tails: readonly Buffer[];

  constructor(payloads: readonly string[]) {
    this.tails = payloads.map((payload) => Buffer.from(`${payload}}`));
  }

  get size(): number {
    return this.tails.length;
  }
}

/** Bytes of an unmasked WebSocket frame header for a payload of `length` bytes (RFC 6455, 5.2). */
const headerBytes = (length: number) => (length < 126 ? 2 : length < 65_536 ? 4 : 10);

/**
 * The batch's events as one buffer of unmasked, unfragmented text frames (RFC 6455, 5.2: the server
 * never masks), each message being `head` followed by the event's tail.
 */
export function encodeFrames(head: Buffer, batch: EventBatch): Buffer {
  let total = 0;
  for (const tail of batch.tails) {
    const length = head.length + tail.length;
    total += headerBytes(length) + length;
  }
  const frames = Buffer.allocUnsafe(total);
  let at = 0;
  for (const tail of batch.tails) {
    const length = head.length + tail.length;
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
    at += head.copy(frames, at);
    at += tail.copy(frames, at);
  }
  return frames;
}

/**
 * One client subscription on the gateway's websocket. Its events are written straight to the
 * client's TCP socket as graphql-transport-ws `next` messages, framed here: the payload is
 * serialized once per event for every subscriber (only the message's id differs), and the events of
 * one batch go to the kernel as one buffer in one write, instead of a serialization, a frame, a write
 * and a promise per event and subscriber. (ws writes its own frames synchronously, in call order,
 * while permessage-deflate is off, as on this server, so frames written beside it stay in order.)
 * graphql-ws reads this object as the subscription's async iterator only to learn when it ends (it
 * then sends `complete`); it calls return() when the client completes the subscription or goes away.
 *
 * Bounded: messages written and not yet taken by the kernel count as waiting. A subscriber found
 * with `limit` or more waiting when a new batch is ready gets one last `next` carrying a
 * SUBSCRIBER_TOO_SLOW error, then `complete`; it resumes with `after` set to the last cursor it
 * received. What the gateway holds for it is at most `limit` plus one batch of messages.
 */
export class Subscriber implements AsyncIterableIterator<ExecutionResult> {
  private readonly prefix: string;
  private readonly head: Buffer;
  private unflushed = 0;
  private done = false;
  private slow = false;
  private ending?: (result: IteratorResult<ExecutionResult>) => void;

  constructor(
    private readonly delivery: Delivery,
    private readonly limit: number,
    private readonly onClose: (subscriber: Subscriber) => void,
  ) {
    this.prefix = `{"id":${JSON.stringify(delivery.id)},"type":"next","payload":`;
    this.head = Buffer.from(this.prefix);
  }

  /** Messages written to the socket and not yet taken by the kernel. */
  get waiting(): number {
    return this.unflushed;
  }

  /** True once the subscription ended because its client read too slowly. */
  get tooSlow(): boolean {
    return this.slow;
  }

  get closed(): boolean {
    return this.done;
  }

  /**
   * Writes a batch of events in order and in one write. Answers false once the subscriber is gone
   * or has just been found too slow (it has then removed itself).
   */
  deliver(batch: EventBatch): boolean {
    if (this.done) return false;
    if (!this.open()) {
      this.close();
      return false;
    }
    if (this.unflushed >= this.limit) {
      this.slow = true;
      this.write([
        JSON.stringify({
          errors: [
            {
              message: `The subscriber read too slowly (${this.unflushed} events waiting, the limit is ${this.limit}); subscribe again with "after" set to the last cursor it received`,
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
    const count = batch.size;
    this.unflushed += count;
    // Called once the frames are with the kernel, or with an error when the socket closed.
    tcp.write(encodeFrames(this.head, batch), () => (this.unflushed -= count));
    return true;
  }

  /** Ends the subscription with a last `next` carrying `errors` (the upstream was refused for good). */
  fail(errors: readonly GraphQLFormattedError[]): void {
    if (this.done) return;
    if (this.open()) this.write([JSON.stringify({ errors })]);
    this.close();
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.ending = resolve));
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
    return socket.readyState === socket.OPEN;
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
    const ending = this.ending;
    this.ending = undefined;
    ending?.({ value: undefined, done: true });
    this.onClose(this);
  }
}
