import pg from 'pg';
import { appError, ErrorCode } from '../../platform/errors.js';
import { logger } from '../../platform/logger.js';
import type { EventKind } from './event-log.entity.js';
import { EVENT_LOG_CHANNEL, type EventLogService, type LoggedEvent } from './event-log.service.js';
import { EventSubscriber, type SubscriberHost } from './event-subscriber.js';
import { backoffDelay } from '../../platform/retry.js';

/** Entries read from the log per query, for live fan-out. */
const PAGE = 500;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;
/** After a failed read, try again this soon even if no NOTIFY comes. */
const RETRY_MS = 1_000;
/** The LISTEN connection's application_name, to find it in pg_stat_activity. */
export const EVENT_STREAM_APPLICATION = 'tenantwatch-event-stream';

export interface EventStreamOptions {
  /** For the one LISTEN connection (outside the pool: it stays open). */
  readonly databaseUrl: string;
  readonly log: EventLogService;
  /** The entities `events` announce, by entity id, in as few queries as possible. */
  readonly load: (events: readonly LoggedEvent[]) => Promise<Map<string, unknown>>;
  /** Events one subscriber may have waiting before it is ended with SUBSCRIBER_TOO_SLOW. */
  readonly queueLimit: number;
}

/** What the stream is doing, for tests and diagnostics. */
export type EventStreamStats = {
  readonly subscribers: number;
  readonly replaying: number;
  /** Events waiting across all subscribers (each bounded by the queue limit). */
  readonly waiting: number;
  /** 1 while the LISTEN connection is up. */
  readonly listening: number;
  readonly reconnects: number;
  /** Subscriptions ended with SUBSCRIBER_TOO_SLOW since start. */
  readonly tooSlow: number;
  /** Log reads made for live fan-out since start (one per wake-up, whatever the number of subscribers). */
  readonly reads: number;
  /** Entries announced by NOTIFY and not yet read for live fan-out: how far the live reader is behind the log. */
  readonly behind: number;
  /** Entries between the furthest-behind replaying subscriber and the live reader (0 when none replays). */
  readonly replayBehind: number;
};

/**
 * The live side of the event log, one per subgraph process: ONE PostgreSQL connection LISTENs on
 * {@link EVENT_LOG_CHANNEL}; each NOTIFY (coalesced while a read runs) triggers one read of the log
 * after the last cursor seen, one batched load of the announced entities, and a fan-out to every
 * subscriber whose filter matches. When the LISTEN connection drops it reconnects with backoff and
 * reads everything after the last cursor seen, so nothing committed meanwhile is lost.
 */
export class EventStream implements SubscriberHost {
  private readonly subscribers = new Set<EventSubscriber>();
  /** Cursor of the last entry fanned out (or skipped because nobody listened). */
  private seen = 0n;
  private notified = 0n;
  private readCount = 0;
  private client?: pg.Client;
  private stopped = false;
  private pumping?: Promise<void>;
  private again = false;
  private catchUp = false;
  private reconnectTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private attempts = 0;
  private counters = { reconnects: 0, tooSlow: 0 };

  private constructor(private readonly options: EventStreamOptions) {}

  get queueLimit(): number {
    return this.options.queueLimit;
  }

  /** Opens the LISTEN connection, then takes the newest cursor as "now". Throws when the database is unreachable. */
  static async start(options: EventStreamOptions): Promise<EventStream> {
    const stream = new EventStream(options);
    await stream.connect();
    try {
      stream.seen = BigInt(await options.log.latest());
    } catch (error) {
      await stream.stop();
      throw error;
    }
    return stream;
  }

  /**
   * A subscription to events of `kind` that `matches`: with `after`, the log after that cursor is
   * replayed first, then live events follow; without, live events from now on.
   */
  subscribe<E>(kind: EventKind, matches: (event: LoggedEvent) => boolean, after?: bigint): EventSubscriber<E> {
    if (this.stopped) throw new Error('The event stream is stopped');
    const tooSlow = () =>
      appError(
        ErrorCode.SUBSCRIBER_TOO_SLOW,
        `The subscriber fell more than ${this.queueLimit} events behind; subscribe again with "after" set to the last cursor it received`,
        { queueLimit: this.queueLimit },
      );
    const subscriber = new EventSubscriber<E>(this, kind, matches, tooSlow, after === undefined ? { liveAfter: this.seen } : { after });
    this.subscribers.add(subscriber as EventSubscriber);
    return subscriber;
  }

  stats(): EventStreamStats {
    let waiting = 0;
    let replaying = 0;
    let replayBehind = 0n;
    for (const s of this.subscribers) {
      waiting += s.waiting;
      if (!s.replaying) continue;
      replaying += 1;
      if (this.seen - s.position > replayBehind) replayBehind = this.seen - s.position;
    }
    return {
      subscribers: this.subscribers.size,
      replaying,
      waiting,
      behind: Number(this.notified > this.seen ? this.notified - this.seen : 0n),
      replayBehind: Number(replayBehind),
      listening: this.client ? 1 : 0,
      reads: this.readCount,
      ...this.counters,
    };
  }

  /** Ends every subscription, closes the LISTEN connection and waits for a running read. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.retryTimer);
    for (const subscriber of [...this.subscribers]) await subscriber.return();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
    await this.pumping;
  }

  // SubscriberHost
  replay(cursor: bigint, kind: EventKind, limit: number): Promise<LoggedEvent[]> {
    return this.options.log.after(String(cursor), limit, kind);
  }

  load(events: readonly LoggedEvent[]): Promise<Map<string, unknown>> {
    return this.options.load(events);
  }

  readsArrived(): number {
    return this.readCount;
  }

  remove(subscriber: EventSubscriber, tooSlow: boolean): void {
    if (this.subscribers.delete(subscriber) && tooSlow) this.counters.tooSlow += 1;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl, application_name: EVENT_STREAM_APPLICATION });
    client.on('error', (error) => this.dropped(client, error));
    client.on('end', () => this.dropped(client));
    client.on('notification', (message) => {
      if (message.channel !== EVENT_LOG_CHANNEL) return;
      if (message.payload && /^\d+$/.test(message.payload)) {
        const cursor = BigInt(message.payload);
        if (cursor > this.notified) this.notified = cursor;
      }
      this.wake();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENT_LOG_CHANNEL}`);
    } catch (error) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private dropped(client: pg.Client, error?: Error): void {
    if (client !== this.client || this.stopped) return;
    this.client = undefined;
    logger.warn({ err: error }, 'event log LISTEN connection lost; reconnecting');
    void client.end().catch(() => undefined);
    this.reconnectLater();
  }

  private reconnectLater(): void {
    const delay = backoffDelay({ initialMs: RECONNECT_MIN_MS, maxMs: RECONNECT_MAX_MS }, this.attempts + 1);
    this.reconnectTimer = setTimeout(() => {
      this.connect().then(
        () => {
          if (this.stopped) return;
          this.attempts = 0;
          this.counters.reconnects += 1;
          this.catchUp = true;
          this.wake();
        },
        (error: unknown) => {
          if (this.stopped) return;
          this.attempts += 1;
          logger.warn({ err: error, attempt: this.attempts }, 'event log LISTEN reconnect failed');
          this.reconnectLater();
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }

  /** Runs one read loop at a time; a wake-up during a read runs another right after it. */
  private wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((error: unknown) => {
        logger.error({ err: error }, 'reading the event log for subscribers failed; retrying');
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.wake(), RETRY_MS).unref();
      })
      .finally(() => {
        this.pumping = undefined;
        const again = this.again && (this.catchUp || this.notified > this.seen);
        this.again = false;
        if (again) this.wake();
      });
  }

  private async pump(): Promise<void> {
    while (!this.stopped) {
      if (this.subscribers.size === 0) {
        // Nobody to deliver to: move "now" forward without reading the log.
        const now = this.catchUp ? BigInt(await this.options.log.latest()) : this.notified;
        if (this.subscribers.size > 0) continue;
        this.catchUp = false;
        if (now > this.seen) this.seen = now;
        return;
      }
      this.catchUp = false;
      const page = await this.options.log.after(String(this.seen), PAGE);
      const read = ++this.readCount;
      await this.fanOut(page, read);
      if (page.length === 0 || (page.length < PAGE && this.notified <= this.seen)) return;
    }
  }

  /** Loads the entities of the entries someone wants, in one batch, and hands each to its subscribers in cursor order. */
  private async fanOut(page: readonly LoggedEvent[], read: number): Promise<void> {
    if (page.length === 0) return;
    const wanted = page.filter((event) => this.anyAccepts(event, read));
    const entities = wanted.length > 0 ? await this.options.load(wanted) : new Map<string, unknown>();
    for (const event of page) {
      const entity = entities.get(event.entityId);
      if (entity === undefined) continue;
      for (const subscriber of this.subscribers) {
        if (subscriber.accepts(event, read)) subscriber.offer({ cursor: event.cursor, entity, attributes: event.attributes });
      }
    }
    const last = BigInt(page.at(-1)!.cursor);
    if (last > this.seen) this.seen = last;
  }

  private anyAccepts(event: LoggedEvent, read: number): boolean {
    for (const subscriber of this.subscribers) if (subscriber.accepts(event, read)) return true;
    return false;
  }
}
