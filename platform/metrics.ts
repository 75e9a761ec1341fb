import type { ApolloServerPlugin } from '@apollo/server';
import type { Express } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { logger } from './logger.js';

/** Every series Tenantwatch exposes starts with this. */
export const METRIC_PREFIX = 'tenantwatch_';

/** Distinct operation names counted under their own name; later ones are counted as `other`. */
export const MAX_OPERATION_NAMES = 200;
/** Distinct error codes counted under their own code; later ones are counted as `other`. */
export const MAX_ERROR_CODES = 50;

/** Longest label value taken as it is: a longer one counts as `other`. */
const MAX_LABEL_LENGTH = 100;

/**
 * Label values chosen by someone else (a client's operation names, error codes): the first `max`
 * distinct values are kept, every later one is `other`, so that a client sending a new name with every
 * request cannot grow the series (and the memory they take) without bound.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  /** `value` when it is one of the first `max` seen (and at most 100 characters), else `other`. */
  of(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max || value.length > MAX_LABEL_LENGTH || value === 'other') return 'other';
    this.seen.add(value);
    return value;
  }

  /** How many distinct values have their own label. */
  get size(): number {
    return this.seen.size;
  }
}

let processRegistry: Registry | undefined;

/**
 * The process's default metrics (CPU, memory, event loop lag, GC, handles), registered once per process
 * however many services it runs (`npm start` runs them all in one): each service's `/metrics` shows them.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRIC_PREFIX });
  }
  return processRegistry;
}

/**
 * A service's own registry (never prom-client's global one: several services share a process in
 * `npm start` and in tests), every series labelled `service`.
 */
export function serviceRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  return registry;
}

/** The Prometheus text exposition of the process's default metrics and the service's own. */
export async function exposition(registry: Registry): Promise<string> {
  const [process, own] = await Promise.all([processMetrics().metrics(), registry.metrics()]);
  return process + own;
}

/**
 * `GET /metrics` (Prometheus text format, no token: Prometheus scrapes it) when METRICS_ENABLED, on
 * the service's own HTTP server. It shows counts, durations and ids, never secrets. A collector that
 * fails answers 500 and is logged.
 */
export function serveMetrics(app: Express, registry: Registry, enabled: boolean): void {
  if (!enabled) return;
  app.get('/metrics', async (_req, res) => {
    try {
      const text = await exposition(registry);
      res.set('content-type', registry.contentType).set('cache-control', 'no-store').send(text);
    } catch (error) {
      logger.warn({ err: error }, 'metrics could not be collected');
      res.status(500).type('text/plain').send('metrics could not be collected\n');
    }
  });
}

/** Seconds buckets for GraphQL requests: 5 ms to 10 s. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Names used for operations that have none, or that were refused before one was known. */
const ANONYMOUS = 'anonymous';
const UNKNOWN = 'unknown';

/**
 * Per-operation metrics of a GraphQL server (the gateway or a subgraph), as an Apollo Server plugin:
 * `tenantwatch_graphql_requests_total` and `tenantwatch_graphql_request_duration_seconds` by
 * `operation` (capped, see {@link BoundedLabel}) and `type` (query, mutation; `unknown` when the
 * request was refused before its operation was known), and `tenantwatch_graphql_errors_total` by
 * `code` (the error's `extensions.code`, INTERNAL_SERVER_ERROR when it has none).
 */
export function graphqlMetricsPlugin(registry: Registry): ApolloServerPlugin {
  const operations = new BoundedLabel(MAX_OPERATION_NAMES);
  const codes = new BoundedLabel(MAX_ERROR_CODES);
  const requests = new Counter({
    name: `${METRIC_PREFIX}graphql_requests_total`,
    help: 'GraphQL requests answered, by operation name (the first 200 names, then "other") and type',
    labelNames: ['operation', 'type'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${METRIC_PREFIX}graphql_request_duration_seconds`,
    help: 'Time from a GraphQL request received to its response, by operation name and type',
    labelNames: ['operation', 'type'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: `${METRIC_PREFIX}graphql_errors_total`,
    help: 'Errors in GraphQL responses, by extensions.code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      let operation = UNKNOWN;
      let type = UNKNOWN;
      return {
        async didResolveOperation(context) {
          operation = operations.of(context.operationName ?? ANONYMOUS);
          type = context.operation?.operation ?? UNKNOWN;
        },
        async didEncounterErrors(context) {
          for (const error of context.errors) {
            const code = error.extensions?.code;
            errors.inc({ code: codes.of(typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR') });
          }
        },
        async willSendResponse() {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          requests.inc({ operation, type });
          duration.observe({ operation, type }, seconds);
        },
      };
    },
  };
}
