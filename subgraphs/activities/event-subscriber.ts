import type { GraphQLError } from 'graphql';
import type { EventKind } from './event-log.entity.js';
import type { LoggedEvent } from './event-log.service.js';

/** One event as a subscription delivers it: the log entry's cursor and the entity it announces. */
export interface DeliveredEvent<E = unknown> {
  readonly cursor: string;
  readonly entity: E;
  /** What the log entry recorded with it (a detection's change, severity and status at the time). */
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** What a subscriber needs from the stream that feeds it. */
export interface SubscriberHost {
  /** Events one subscriber may have waiting (SUBSCRIPTION_QUEUE_LIMIT). */
  readonly queueLimit: number;
  /** Entries of `kind` after `cursor`, oldest first, at most `limit`. */
  replay(cursor: bigint, kind: EventKind, limit: number): Promise<LoggedEvent[]>;
  /** The entities `events` announce, by entity id (absent when the row is gone). */
  load(events: readonly LoggedEvent[]): Promise<Map<string, unknown>>;
  /** The number of the last log read whose result has arrived (see {@link EventSubscriber.joinedAt}). */
  readsArrived(): number;
  /** Forgets the subscriber; `tooSlow` counts it as one that fell behind. */
  remove(subscriber: EventSubscriber, tooSlow: boolean): void;
}

/** Where a subscriber is: reading the log up to now, following live events, or ended. */
export enum SubscriberState {
  REPLAYING = 'REPLAYING',
  LIVE = 'LIVE',
  CLOSED = 'CLOSED',
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
const REPLAY_PAGE = 500;

/**
 * One subscription's event source, written by hand as `{ next, return, throw }` (not an
 * `async function*`, whose `return()` would wait for the next event and leak the subscriber).
 *
 * Handover from replay to live without gap or duplicate: the subscriber is registered with the
 * stream first, and every live event read from the log *after* that moment is kept in `buffer`
 * while the log is replayed page by page (as the client pulls). When a replay page comes back short,
 * the buffer is drained, skipping cursors ≤ the last replayed one, and the subscriber goes live.
 * Any event is either committed before the last replay query (the replay saw it) or read by the
 * stream after registration (the buffer has it). The buffer is bounded by the queue limit: when it
 * overflows it is dropped, and a fresh buffer is started before one more replay query, so memory
 * stays bounded and the log remains the source of truth.
 *
 * Live, at most `queueLimit` events wait; one more and the subscription fails with `tooSlow()`
 * (SUBSCRIBER_TOO_SLOW): its queue is freed at once and the client resumes with its last cursor.
 */
export class EventSubscriber<E = unknown> implements AsyncIterableIterator<DeliveredEvent<E>> {
  private state: SubscriberState;
  /** Cursor of the last event queued, or replayed (matching or not): nothing at or before it is queued again. */
  private lastCursor: bigint;
  private queue: DeliveredEvent<E>[] = [];
  /** Live events seen while replaying; null once dropped (overflow). */
  private buffer: DeliveredEvent<E>[] | null = [];
  private waiter?: { resolve(result: IteratorResult<DeliveredEvent<E>, undefined>): void; reject(error: unknown): void };
  private failure?: GraphQLError;
  /**
   * The stream's read count when this subscriber (or its fresh buffer) started: only reads whose
   * result arrives later are delivered to it. Earlier ones hold events committed before, which the
   * replay query (issued after) sees, or which a live-from-now subscriber must not get.
   */
  joinedAt: number;

  constructor(
    private readonly host: SubscriberHost,
    readonly kind: EventKind,
    private readonly matches: (event: LoggedEvent) => boolean,
    private readonly tooSlow: () => GraphQLError,
    start: { readonly after: bigint } | { readonly liveAfter: bigint },
  ) {
    this.joinedAt = host.readsArrived();
    if ('after' in start) {
      this.state = SubscriberState.REPLAYING;
      this.lastCursor = start.after;
    } else {
      this.state = SubscriberState.LIVE;
      this.lastCursor = start.liveAfter;
      this.buffer = null;
    }
  }

  /** Events waiting to be sent (queue and replay buffer). */
  get waiting(): number {
    return this.queue.length + (this.buffer?.length ?? 0);
  }

  /** The last cursor queued or replayed: while replaying, how far into the log the subscriber has read. */
  get position(): bigint {
    return this.lastCursor;
  }

  get replaying(): boolean {
    return this.state === SubscriberState.REPLAYING;
  }

  /** Whether the stream should hand this subscriber `event` from read number `read`. */
  accepts(event: LoggedEvent, read: number): boolean {
    if (this.state === SubscriberState.CLOSED || read <= this.joinedAt) return false;
    if (this.state === SubscriberState.REPLAYING && this.buffer === null) return false;
    return event.kind === this.kind && BigInt(event.cursor) > this.lastCursor && this.matches(event);
  }

  /** A live event from the stream (only called when {@link accepts} said yes). */
  offer(event: DeliveredEvent<E>): void {
    const cursor = BigInt(event.cursor);
    if (this.state === SubscriberState.CLOSED || cursor <= this.lastCursor) return;
    if (this.state === SubscriberState.REPLAYING) {
      if (this.buffer === null) return;
      if (this.buffer.length >= this.host.queueLimit) this.buffer = null;
      else this.buffer.push(event);
      return;
    }
    this.lastCursor = cursor;
    const waiter = this.takeWaiter();
    if (waiter) {
      waiter.resolve({ done: false, value: event });
    } else if (this.queue.length >= this.host.queueLimit) {
      this.fail(this.tooSlow());
    } else {
      this.queue.push(event);
    }
  }

  async next(): Promise<IteratorResult<DeliveredEvent<E>, undefined>> {
    for (;;) {
      if (this.failure) {
        const failure = this.failure;
        this.failure = undefined;
        throw failure;
      }
      const head = this.queue.shift();
      if (head) return { done: false, value: head };
      if (this.state === SubscriberState.CLOSED) return DONE;
      if (this.state === SubscriberState.REPLAYING) {
        try {
          await this.replayPage();
        } catch (error) {
          this.close(false); // a consumer whose next() rejects never calls return()
          throw error;
        }
        continue;
      }
      return new Promise((resolve, reject) => {
        this.waiter = { resolve, reject };
      });
    }
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    if (this.close(false)) this.takeWaiter()?.resolve(DONE);
    return DONE;
  }

  async throw(): Promise<IteratorReturnResult<undefined>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the subscription with `error`, delivered by the pending or the next `next()`. */
  fail(error: GraphQLError): void {
    if (!this.close(true)) return;
    const waiter = this.takeWaiter();
    if (waiter) waiter.reject(error);
    else this.failure = error;
  }

  /** Frees the queue and leaves the stream; false when already closed. */
  private close(tooSlow: boolean): boolean {
    if (this.state === SubscriberState.CLOSED) return false;
    this.state = SubscriberState.CLOSED;
    this.queue = [];
    this.buffer = null;
    this.host.remove(this, tooSlow);
    return true;
  }

  private takeWaiter() {
    const waiter = this.waiter;
    this.waiter = undefined;
    return waiter;
  }

  /** Reads one page of the log after the last cursor; on a short page, hands over to live. */
  private async replayPage(): Promise<void> {
    const limit = Math.min(REPLAY_PAGE, this.host.queueLimit);
    const page = await this.host.replay(this.lastCursor, this.kind, limit);
    if (this.state !== SubscriberState.REPLAYING) return;
    const matching = page.filter(this.matches);
    const entities = matching.length > 0 ? await this.host.load(matching) : new Map<string, unknown>();
    if (this.state !== SubscriberState.REPLAYING) return;
    for (const event of matching) {
      const entity = entities.get(event.entityId);
      if (entity !== undefined) this.queue.push({ cursor: event.cursor, entity: entity as E, attributes: event.attributes });
    }
    if (page.length > 0) this.lastCursor = BigInt(page.at(-1)!.cursor);
    if (page.length < limit) this.handOver();
  }

  private handOver(): void {
    if (this.buffer === null) {
      // The buffer overflowed: start a fresh one now and read the log once more before going live.
      this.buffer = [];
      this.joinedAt = this.host.readsArrived();
      return;
    }
    for (const event of this.buffer) {
      const cursor = BigInt(event.cursor);
      if (cursor > this.lastCursor) {
        this.queue.push(event);
        this.lastCursor = cursor;
      }
    }
    this.buffer = null;
    this.state = SubscriberState.LIVE;
  }
}
