import type { GraphQLDataSource } from '@apollo/gateway';
import { print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { GatewayContext } from '../context.js';
import { makeResumable } from './document.js';
import { EntityBatcher } from './entity-batcher.js';
import { SubscriptionPlanner } from './planner.js';
import { Subscriber, type Delivery } from './subscriber.js';
import { Upstream } from './upstream.js';

export interface ExecutorOptions {
  readonly supergraphSdl: string;
  /** Subgraph HTTP URLs by name; their graphql-ws URLs are derived (ws:// on the same path). */
  readonly subgraphUrls: Readonly<Record<string, string>>;
  readonly dataSources: Readonly<Record<string, GraphQLDataSource<GatewayContext>>>;
  /** Events a subscriber may have waiting before it is closed as too slow. */
  readonly queueLimit: number;
  /** Longest time an upstream's events are held to be written together (see BatchPipeline). */
  readonly flushMs: number;
  /** Events an upstream may hold received and not yet completed before it stops reading (see Upstream). */
  readonly upstreamBufferLimit: number;
  /** GATEWAY_SHARED_SECRET: every upstream sends it to the subgraph (see Upstream). */
  readonly sharedSecret?: string;
}

/** What a gateway subscription runs as: the caller, and where its events go. */
export interface SubscriptionContext extends GatewayContext {
  readonly delivery: Delivery;
}

/**
 * Runs subscriptions through the federated graph: the operation is planned by the gateway's query
 * planner, its primary fetch opened on the owning subgraph over graphql-ws, and each event completed
 * by the plan's entity fetches. Identical subscriptions (operation, variables, role, instance scope, starting cursor)
 * share one upstream and one completion per event.
 */
export class SubscriptionExecutor {
  private readonly planner: SubscriptionPlanner;
  /** The upstream new subscriptions join, by key (see subscribe). */
  private readonly upstreams = new Map<string, Upstream>();
  /** Every running upstream, those no longer joinable under their key included. */
  private readonly open = new Set<Upstream>();
  private tooSlow = 0;
  private overflows = 0;
  private opens = 0;
  private tooSlowConnections = 0;
  private eventsReceived = 0;
  private eventsDelivered = 0;
  /** The data sources the per-event entity fetches go through, batching concurrent completions. */
  private readonly dataSources: Readonly<Record<string, GraphQLDataSource<GatewayContext>>>;

  constructor(private readonly options: ExecutorOptions) {
    this.planner = new SubscriptionPlanner(options.supergraphSdl);
    this.dataSources = Object.fromEntries(Object.entries(options.dataSources).map(([name, source]) => [name, new EntityBatcher(source)]));
  }

  /** The API schema clients' documents are validated against. */
  get schema() {
    return this.planner.schema;
  }

  /**
   * Upstream and client subscriptions open, messages written to clients and not yet taken by the
   * kernel, subscriptions ended and connections closed as too slow, upstreams paused for a full
   * buffer, upstream subscriptions opened on subgraphs (reopenings included), events completed
   * from upstreams and messages of events delivered to subscribers since start (for tests and metrics).
   */
  stats(): {
    upstreams: number;
    subscribers: number;
    waiting: number;
    tooSlow: number;
    tooSlowConnections: number;
    upstreamOverflows: number;
    upstreamOpens: number;
    eventsReceived: number;
    eventsDelivered: number;
  } {
    let subscribers = 0;
    let waiting = 0;
    for (const upstream of this.open) {
      subscribers += upstream.size;
      waiting += upstream.backlog;
    }
    return {
      upstreams: this.open.size,
      subscribers,
      waiting,
      tooSlow: this.tooSlow,
      tooSlowConnections: this.tooSlowConnections,
      upstreamOverflows: this.overflows,
      upstreamOpens: this.opens,
      eventsReceived: this.eventsReceived,
      eventsDelivered: this.eventsDelivered,
    };
  }

  /** Counts a connection closed because its client read too far behind (see the websocket server's keep-alive). */
  noteTooSlowConnection(): void {
    this.tooSlowConnections += 1;
  }

  subscribe(args: ExecutionArgs): AsyncIterableIterator<ExecutionResult> {
    const context = args.contextValue as SubscriptionContext;
    const variables = (args.variableValues ?? {}) as Record<string, unknown>;
    const operationName = args.operationName ?? undefined;
    const resumable = makeResumable(args.document, operationName, variables);
    const key = JSON.stringify([
      print(resumable.document),
      operationName ?? null,
      variables,
      context.principal.role,
      // Subscribers limited to some instances see only theirs: they share an upstream only with the same scope.
      context.principal.instances ? [...context.principal.instances].sort() : null,
      resumable.initialAfter,
    ]);
    let upstream = this.upstreams.get(key);
    // A subscription resuming from a cursor joins an upstream from that cursor only before it has
    // delivered anything: one joining later would miss the events in between. A live one (no
    // `after`) joins at any time: it wants events from now on.
    if (upstream && resumable.initialAfter !== null && upstream.delivered) upstream = undefined;
    if (!upstream) {
      const planned = this.planner.plan(resumable.document, operationName);
      const url = this.options.subgraphUrls[planned.primary.serviceName];
      if (!url) throw new Error(`No URL for subgraph "${planned.primary.serviceName}"`);
      const created: Upstream = new Upstream({
        planner: this.planner,
        planned,
        document: resumable.document,
        operationName,
        variables,
        rootKey: resumable.rootKey,
        initialAfter: resumable.initialAfter,
        url: url.replace(/^http/, 'ws'),
        sharedSecret: this.options.sharedSecret,
        dataSources: this.dataSources,
        flushMs: this.options.flushMs,
        bufferLimit: this.options.upstreamBufferLimit,
        onOverflow: () => (this.overflows += 1),
        onOpen: () => (this.opens += 1),
        onFanOut: (events, deliveries) => {
          this.eventsReceived += events;
          this.eventsDelivered += deliveries;
        },
        onEmpty: () => {
          this.open.delete(created);
          if (this.upstreams.get(key) === created) this.upstreams.delete(key);
        },
      });
      upstream = created;
      this.upstreams.set(key, upstream);
      this.open.add(upstream);
    }
    const target = upstream;
    const subscriber = new Subscriber(context.delivery, this.options.queueLimit, (closed) => {
      if (closed.tooSlow) this.tooSlow += 1;
      target.remove(closed);
    });
    target.add(subscriber, { principal: context.principal, authorization: context.authorization });
    return subscriber;
  }

  async close(): Promise<void> {
    await Promise.all([...this.open].map((u) => u.stop()));
    this.upstreams.clear();
    this.open.clear();
  }
}
