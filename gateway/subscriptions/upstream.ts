import { executeQueryPlan, type GraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, print, type DocumentNode, type FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ErrorCode, formatError } from '../../subgraphs/shared/errors.js';
import { logger } from '../../subgraphs/shared/logger.js';
import type { GatewayContext } from '../context.js';
import { AFTER_VARIABLE, CURSOR_ALIAS } from './document.js';
import type { PlannedSubscription, SubscriptionPlanner } from './planner.js';
import { SUBSCRIBER_TOO_SLOW, type SubscriberQueue } from './queue.js';

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
  /** The gateway's HTTP data sources, by subgraph name (for the per-event entity fetches). */
  readonly dataSources: Readonly<Record<string, GraphQLDataSource>>;
  readonly context: GatewayContext;
  readonly onEmpty: () => void;
}

/** What the owning subgraph sends per event. */
type UpstreamEvent = { readonly data?: Record<string, unknown> | null; readonly errors?: readonly unknown[] };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One upstream subscription on the owning subgraph, shared by every client subscription with the
 * same operation, variables, role and starting cursor. Each event is completed once with the
 * other subgraphs' fields (the query plan's entity fetches) and fanned out. When the upstream is
 * lost (the subgraph restarts), it is opened again from the last cursor delivered: nothing is lost
 * and nothing repeated.
 */
export class Upstream {
  private readonly subscribers = new Set<SubscriberQueue>();
  private lastCursor: string | null;
  private stopped = false;
  private client?: Client;
  private running?: Promise<void>;

  constructor(private readonly options: UpstreamOptions) {
    this.lastCursor = options.initialAfter;
  }

  get size(): number {
    return this.subscribers.size;
  }

  add(queue: SubscriberQueue): void {
    this.subscribers.add(queue);
    this.running ??= this.run();
  }

  remove(queue: SubscriberQueue): void {
    this.subscribers.delete(queue);
    if (this.subscribers.size === 0) void this.stop();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.options.onEmpty();
    await this.client?.dispose();
    await this.running;
  }

  private async run(): Promise<void> {
    const { planned, url, context } = this.options;
    let failures = 0;
    while (!this.stopped) {
      const client = createClient({
        url,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: context.authorization },
        retryAttempts: 0,
        lazy: true,
        keepAlive: 10_000,
      });
      this.client = client;
      try {
        const events = client.iterate({
          query: planned.primary.operation,
          operationName: planned.primary.operationName,
          variables: this.upstreamVariables(),
        });
        for await (const event of events) {
          failures = 0;
          await this.deliver(event);
          if (this.stopped) break;
        }
      } catch (error) {
        if (this.stopped) break;
        const errors = Array.isArray(error) ? (error as { message: string; extensions?: { code?: string } }[]) : null;
        if (errors && !errors.some((e) => e.extensions?.code === SUBSCRIBER_TOO_SLOW)) {
          // The subgraph refused the subscription itself: tell every subscriber and stop.
          for (const queue of this.subscribers) queue.push({ errors: errors as never });
          for (const queue of [...this.subscribers]) queue.fail('The subscription ended', errors[0]?.extensions?.code ?? ErrorCode.PROVIDER_ERROR);
          break;
        }
        logger.warn({ err: error, url, after: this.lastCursor }, 'upstream subscription lost; reopening from the last cursor');
      } finally {
        await client.dispose();
      }
      if (this.stopped) break;
      await sleep(Math.min(5_000, 100 * 2 ** Math.min(failures++, 6)));
    }
  }

  private upstreamVariables(): Record<string, unknown> {
    const used = new Set(this.options.planned.primary.variableUsages ?? []);
    const all = { ...this.options.variables, [AFTER_VARIABLE]: this.lastCursor };
    return Object.fromEntries(Object.entries(all).filter(([name]) => used.has(name)));
  }

  /** Completes one upstream event with the other subgraphs' fields and fans it out. */
  private async deliver(event: UpstreamEvent): Promise<void> {
    const result = await this.complete(event);
    const root = result.data?.[this.options.rootKey] as Record<string, unknown> | null | undefined;
    if (root && typeof root === 'object') {
      if (typeof root[CURSOR_ALIAS] === 'string') this.lastCursor = root[CURSOR_ALIAS] as string;
      delete root[CURSOR_ALIAS];
    }
    for (const queue of [...this.subscribers]) {
      if (!queue.push(structuredClone(result) as never)) this.subscribers.delete(queue);
    }
    if (this.subscribers.size === 0) void this.stop();
  }

  private async complete(event: UpstreamEvent): Promise<FormattedExecutionResult> {
    const { planner, planned, dataSources, document, operationName, context } = this.options;
    const primary = dataSources[planned.primary.serviceName]!;
    // The owning subgraph's entry answers the primary fetch with the event; everything else is a real fetch.
    const serviceMap: Record<string, GraphQLDataSource> = {
      ...dataSources,
      [planned.primary.serviceName]: {
        process: (options) =>
          options.request.query === planned.primary.operation
            ? Promise.resolve({ data: event.data ?? null, errors: event.errors as never })
            : primary.process(options),
      },
    };
    const requestContext = {
      request: { query: print(document), operationName, variables: { ...this.options.variables, [AFTER_VARIABLE]: this.lastCursor } },
      document,
      operationName: operationName ?? null,
      context,
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
