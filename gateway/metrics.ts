import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../platform/metrics.js';
import type { DedupStats } from './data-source.js';
import type { SubscriptionExecutor } from './subscriptions/executor.js';

/** What the gateway's own series are read from at each scrape. */
export interface GatewayMetricSources {
  readonly subscriptions: SubscriptionExecutor;
  /** Open websockets. */
  readonly sockets: () => number;
  readonly dedup: () => DedupStats;
}

/** A counter whose value is a running total kept elsewhere (read at scrape time, never counted twice). */
function totalOf(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name: `${METRIC_PREFIX}${name}`,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function gaugeOf(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name: `${METRIC_PREFIX}${name}`,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/**
 * The gateway's subscription and fetch series, read at scrape time from the counters the executor,
 * the websocket server and the data sources already keep (`stats()`, `dedup`).
 */
export function registerGatewayMetrics(registry: Registry, sources: GatewayMetricSources): void {
  const stats = () => sources.subscriptions.stats();
  gaugeOf(registry, 'gateway_websockets', 'Open client websockets', sources.sockets);
  gaugeOf(registry, 'gateway_subscriptions', 'Open client subscriptions', () => stats().subscribers);
  gaugeOf(
    registry,
    'gateway_upstreams',
    'Open upstream subscriptions on subgraphs (shared by identical client subscriptions)',
    () => stats().upstreams,
  );
  gaugeOf(
    registry,
    'gateway_subscriber_waiting_events',
    'Events written to subscribers and not yet taken by the kernel, or held for them: how far behind the clients read',
    () => stats().waiting,
  );
  totalOf(registry, 'gateway_upstream_events_total', 'Events received from upstreams and completed', () => stats().eventsReceived);
  totalOf(
    registry,
    'gateway_events_delivered_total',
    'Event messages delivered to client subscriptions (one per event and subscriber)',
    () => stats().eventsDelivered,
  );
  totalOf(
    registry,
    'gateway_too_slow_subscribers_total',
    'Client subscriptions ended because too many events waited for them',
    () => stats().tooSlow,
  );
  totalOf(
    registry,
    'gateway_too_slow_connections_total',
    'Client websockets closed (4420) because they read more than a keep-alive period behind',
    () => stats().tooSlowConnections,
  );
  totalOf(
    registry,
    'gateway_upstream_overflows_total',
    'Upstreams paused because their buffer of received events was full',
    () => stats().upstreamOverflows,
  );
  totalOf(
    registry,
    'gateway_upstream_opens_total',
    'Upstream subscriptions opened on subgraphs, reopenings included',
    () => stats().upstreamOpens,
  );
  new Counter({
    name: `${METRIC_PREFIX}gateway_subgraph_fetches_total`,
    help: 'Subgraph fetches of queries: sent, or shared with an identical one in flight',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      const { sent, shared } = sources.dedup();
      this.reset();
      this.inc({ result: 'sent' }, sent);
      this.inc({ result: 'shared' }, shared);
    },
  });
}
