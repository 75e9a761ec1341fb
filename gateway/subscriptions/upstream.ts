import { executeQueryPlan, type GraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, print, type DocumentNode, type FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { formatError } from '../../platform/errors.js';
import { logger } from '../../platform/logger.js';
import { backoffDelay, sleep, type BackoffPolicy } from '../../platform/retry.js';
import type { GatewayContext } from '../context.js';
import { upstreamConnectionParams } from '../data-source.js';
import { AFTER_VARIABLE, CURSOR_ALIAS } from './document.js';
import type { PlannedSubscription, SubscriptionPlanner } from './planner.js';
import { BatchPipeline } from './batch-pipeline.js';
import { EventBatch, type Subscriber } from './subscriber.js';
import { endingOf, logEnding, UpstreamEndingKind, type UpstreamEnding } from './upstream-ending.js';

export interface UpstreamOptions {
  readonly planner: SubscriptionPlanner;
  readonly planned: PlannedSubscription;
  /** The rewritten client document (see makeResumable) and its operation name. */
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown>;
  readonly rootKey: string;
  readonly initialAfter: string | null;
  /** The owning subgraph's graphql-ws URL. */
  readonly url: string;
  /** GATEWAY_SHARED_SECRET, sent in connection_init when set (see upstreamConnectionParams). */
  readonly sharedSecret?: string;
  /** The gateway's data sources, by subgraph name, for the per-event entity fetches (batched: see EntityBatcher). */
  readonly dataSources: Readonly<Record<string, GraphQLDataSource<GatewayContext>>>;
  /** Longest time events are held to be completed and written together (see BatchPipeline). */
  readonly flushMs: number;
  /** Events received and not yet completed at most: past it the upstream is closed until they are delivered, then reopened after them. */
  readonly bufferLimit: number;
  /** Called each time the upstream is closed because `bufferLimit` events were waiting. */
  readonly onOverflow?: () => void;
  /** Called after each fan-out with the events in the batch and the messages written to subscribers (events × subscribers that took them). */
  readonly onFanOut?: (events: number, deliveries: number) => void;
  /** Called each time the subscription is opened on the subgraph, with how long the upstream waited before (0 the first time). */
  readonly onOpen?: (waitedMs: number) => void;
  /** The wait before reopening after a failure; REOPEN_BACKOFF unless set (tests). */
  readonly reopenBackoff?: BackoffPolicy;
  readonly onEmpty: () => void;
}

/** What the owning subgraph sends per event. */
type UpstreamEvent = { readonly data?: Record<string, unknown> | null; readonly errors?: readonly unknown[] };

/** Events completed together at most (their entity fetches go out as one request per subgraph). */
const MAX_BATCH = 256;
/**
 * Messages written to subscribers' sockets before the fan-out lets the event loop turn, so that a
 * large batch to many subscribers does not hold the loop while sockets, timers and the next batch's
 * entity fetches wait. The number is measured in bench:subscriptions: see bench/README.md.
 */
const SENDS_PER_TURN = 500;

/**
 * How long the upstream waits before reopening after the subgraph went away or failed it: 100 ms,
 * doubling with each opening in a row that delivered no event, at most 5 s.
 */
const REOPEN_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000 };

/** When a caller's token expires (never, for a token without `exp`). */
const expiryOf = (context: GatewayContext) => context.principal.expiresAt ?? Number.POSITIVE_INFINITY;

/**
 * One upstream subscription on the owning subgraph, shared by every client subscription with the
 * same operation, variables, role and starting cursor. Each event is completed once with the
 * other subgraphs' fields (the query plan's entity fetches) and fanned out, in order. Events are
 * completed in batches: the events that arrived while one batch was being completed form the next
 * one, and their entity fetches go out together (see EntityBatcher). At a trickle a batch is one
 * event and nothing waits; under load a batch grows until it pays for itself. The upstream
 * speaks for its subscribers with the token of the one whose token lives longest, so one client's
 * token expiring does not cut the others off. When the upstream is lost (the subgraph restarts, or
 * closes it as that token expires), it is opened again from the last cursor delivered: nothing is
 * lost and nothing repeated. Memory stays bounded: when `bufferLimit` events wait to be completed,
 * the upstream stops reading, delivers them, and reopens after the last one (the subgraph replays
 * what came meanwhile from its event log); each subscriber's own backlog is bounded by Subscriber.
 */
export class Upstream {
  /** Each client subscription and the caller it subscribed as. */
  private readonly subscribers = new Map<Subscriber, GatewayContext>();
  private lastCursor: string | null;
  private stopped = false;
  /** Aborted by stop(): ends a wait before reopening at once. */
  private readonly stopping = new AbortController();
  private client?: Client;
  private running?: Promise<void>;
  /** The caller whose token lives longest (undefined: to be found again). */
  private longest?: GatewayContext;
  /**
   * Events received, completed and fanned out in order. When a step fails, later events are dropped
   * and the upstream reopens after the last one delivered.
   */
  private readonly pipeline: BatchPipeline<UpstreamEvent, FormattedExecutionResult>;
  /** Set when `bufferLimit` events wait: the upstream stops reading and reopens once they are delivered. */
  private overflowed = false;
  /** Events fanned out to subscribers since the upstream started. */
  private eventsDelivered = 0;
  private readonly query: string;

  constructor(private readonly options: UpstreamOptions) {
    this.lastCursor = options.initialAfter;
    this.query = print(options.document);
    this.pipeline = new BatchPipeline({
      flushMs: options.flushMs,
      maxBatch: MAX_BATCH,
      // Without a subscriber there is nobody to complete as (the upstream is stopping).
      ready: () => this.caller() !== undefined,
      complete: (batch) => {
        const caller = this.caller()!;
        return Promise.all(batch.map((event) => this.complete(event, caller)));
      },
      fanOut: (results) => this.fanOut(results),
      failed: () => void this.client?.dispose(),
    });
  }

  get size(): number {
    return this.subscribers.size;
  }

  /** True once an event has been handed to subscribers: one that joins now would miss what came before. */
  get delivered(): boolean {
    return this.pipeline.delivered;
  }

  /** Events written to this upstream's subscribers and not yet taken by their connections, or held for them. */
  get backlog(): number {
    let backlog = 0;
    for (const subscriber of this.subscribers.keys()) backlog += subscriber.waiting;
    return backlog;
  }

  add(subscriber: Subscriber, caller: GatewayContext): void {
    this.subscribers.set(subscriber, caller);
    if (this.longest && expiryOf(caller) > expiryOf(this.longest)) this.longest = caller;
    this.running ??= this.run();
  }

  remove(subscriber: Subscriber): void {
    const caller = this.subscribers.get(subscriber);
    if (!this.subscribers.delete(subscriber)) return;
    if (caller === this.longest) this.longest = undefined;
    if (this.subscribers.size === 0) void this.stop();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping.abort();
    this.pipeline.stop();
    this.options.onEmpty();
    await this.client?.dispose();
    await this.running;
  }

  /** The subscriber whose token expires last: the upstream connects and completes events as it. */
  private caller(): GatewayContext | undefined {
    if (!this.longest) {
      for (const caller of this.subscribers.values()) if (!this.longest || expiryOf(caller) > expiryOf(this.longest)) this.longest = caller;
    }
    return this.longest;
  }

  /**
   * Opens the subscription on the subgraph and reads it, again and again from the last cursor
   * delivered, until it is stopped or refused. Only a result with data is an event: one without
   * (the subgraph's errors) ends that opening, as a refusal (every subscriber gets the errors, and
   * the upstream stops) or as a failure (it reopens). The wait before reopening grows with each
   * opening in a row that delivered no event, so a subgraph that fails every opening is asked at
   * most every REOPEN_BACKOFF.maxMs.
   */
  private async run(): Promise<void> {
    const { url } = this.options;
    let failures = 0;
    let waited = 0;
    while (!this.stopped) {
      const caller = this.caller();
      if (!caller) break;
      const deliveredBefore = this.eventsDelivered;
      this.options.onOpen?.(waited);
      const ending = await this.follow(caller);
      // Whatever was received is delivered first: the upstream reopens after the last event delivered.
      await this.pipeline.settled();
      const failure = this.pipeline.recover();
      if (failure)
        logger.warn({ err: failure, url, after: this.lastCursor }, 'completing an event failed; reopening from the last cursor delivered');
      if (this.stopped) break;
      if (ending.kind === UpstreamEndingKind.REFUSED) {
        // The subgraph refused the subscription itself: tell every subscriber and stop.
        for (const subscriber of [...this.subscribers.keys()]) subscriber.fail(ending.errors);
        break;
      }
      if (this.eventsDelivered > deliveredBefore) failures = 0;
      if (this.overflowed) {
        logger.info(
          { url, after: this.lastCursor, bufferLimit: this.options.bufferLimit },
          'upstream subscription paused while its events were completed; reopened from the last cursor',
        );
        this.overflowed = false;
        waited = 0;
        continue;
      }
      waited = backoffDelay(this.options.reopenBackoff ?? REOPEN_BACKOFF, ++failures);
      logEnding(ending, { url, after: this.lastCursor, failures, reopenInMs: waited });
      // A stop ends the wait at once.
      await sleep(waited, this.stopping.signal).catch(() => undefined);
    }
  }

  /** Opens the subscription on the subgraph as `caller` and reads it until it ends: how it ended. */
  private async follow(caller: GatewayContext): Promise<UpstreamEnding> {
    const { planned, url } = this.options;
    const client = createClient({
      url,
      webSocketImpl: WebSocket,
      connectionParams: upstreamConnectionParams(caller.authorization, this.options.sharedSecret),
      retryAttempts: 0,
      lazy: true,
      keepAlive: 10_000,
    });
    this.client = client;
    try {
      const results = client.iterate({
        query: planned.primary.operation,
        operationName: planned.primary.operationName,
        variables: this.upstreamVariables(),
      });
      for await (const result of results) {
        // No data, no event: the subgraph's errors (graphql-ws's shape for an operation refused before its
        // first event) are not completed, fanned out, counted as delivered, or taken for a cursor.
        if (result.data === null || result.data === undefined) return endingOf(result.errors ?? []);
        this.pipeline.push(result);
        if (this.pipeline.size >= this.options.bufferLimit && !this.overflowed) {
          // Completing falls behind the subgraph: stop reading rather than buffer without bound.
          // The events that come meanwhile are read again when the upstream reopens after the last one delivered.
          this.overflowed = true;
          this.options.onOverflow?.();
        }
        if (this.stopped || this.pipeline.failed || this.overflowed) break;
      }
      return { kind: UpstreamEndingKind.COMPLETED };
    } catch (error) {
      // graphql-ws throws an `error` message's payload as it is, and a lost socket as its close event.
      return Array.isArray(error) ? endingOf(error) : { kind: UpstreamEndingKind.LOST, error };
    } finally {
      await client.dispose();
    }
  }

  private upstreamVariables(): Record<string, unknown> {
    const used = new Set(this.options.planned.primary.variableUsages ?? []);
    const all = { ...this.options.variables, [AFTER_VARIABLE]: this.lastCursor };
    return Object.fromEntries(Object.entries(all).filter(([name]) => used.has(name)));
  }

  /**
   * Hands a batch of completed events to every subscriber, in order: each event is serialized once
   * and each subscriber's share goes out in one write (see Subscriber). The event loop turns every
   * SENDS_PER_TURN messages, so that a large batch to many subscribers does not hold it for long.
   */
  private async fanOut(results: readonly FormattedExecutionResult[]): Promise<void> {
    const payloads = results.map((result) => {
      const root = result.data?.[this.options.rootKey] as Record<string, unknown> | null | undefined;
      if (root && typeof root === 'object') {
        if (typeof root[CURSOR_ALIAS] === 'string') this.lastCursor = root[CURSOR_ALIAS] as string;
        delete root[CURSOR_ALIAS];
      }
      return JSON.stringify(result);
    });
    const batch = new EventBatch(payloads);
    this.eventsDelivered += batch.size;
    let sent = 0;
    let deliveries = 0;
    // The subscribers of the moment: one that leaves meanwhile is skipped, one that joins meanwhile starts with the next batch.
    for (const subscriber of [...this.subscribers.keys()]) {
      if (this.stopped) break;
      // A subscriber that refuses (gone, or too slow) has already removed itself.
      if (subscriber.deliver(batch)) {
        sent += batch.size;
        deliveries += batch.size;
      }
      if (sent >= SENDS_PER_TURN) {
        await new Promise((resolve) => setImmediate(resolve));
        sent = 0;
      }
    }
    this.options.onFanOut?.(batch.size, deliveries);
  }

  /** Completes one upstream event with the other subgraphs' fields, as `caller`. */
  private async complete(event: UpstreamEvent, caller: GatewayContext): Promise<FormattedExecutionResult> {
    const { planner, planned, dataSources, document, operationName } = this.options;
    const primary = dataSources[planned.primary.serviceName]!;
    // The owning subgraph's entry answers the primary fetch with the event; everything else is a real fetch.
    const serviceMap: Record<string, GraphQLDataSource<GatewayContext>> = {
      ...dataSources,
      [planned.primary.serviceName]: {
        process: (options) =>
          options.request.query === planned.primary.operation
            ? Promise.resolve({ data: event.data ?? null, errors: event.errors as never })
            : primary.process(options),
      },
    };
    const requestContext = {
      request: { query: this.query, operationName, variables: { ...this.options.variables, [AFTER_VARIABLE]: this.lastCursor } },
      document,
      operationName: operationName ?? null,
      context: caller,
      // A fresh metrics object per event: a shared one grows forever, a missing one adds a bogus error.
      metrics: {},
      logger,
      cache: undefined,
      overallCachePolicy: undefined,
    };
    const response = await executeQueryPlan(
      planned.perEvent,
      serviceMap as never,
      requestContext as never,
      planned.operationContext,
      planner.supergraphSchema,
      planner.apiSchema,
    );
    const errors = response.errors?.map((e) => formatError(e instanceof GraphQLError ? e.toJSON() : (e as never), e));
    return { data: response.data as FormattedExecutionResult['data'], ...(errors?.length ? { errors } : {}) };
  }
}
