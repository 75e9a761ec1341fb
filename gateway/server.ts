import http from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { createTokenVerifier, type TokenVerifier } from '../platform/auth.js';
import type { Config } from '../platform/config.js';
import { AuditLog } from '../platform/audit/audit-log.js';
import { auditModule } from '../platform/audit/module.js';
import { recordRefusals, type RefusalRecorder } from '../platform/audit/refusals.js';
import { refusedMutationsPlugin } from '../platform/audit/refused-mutations.js';
import { openDatabase } from '../platform/database.js';
import { formatError } from '../platform/errors.js';
import { createApp, jsonErrorHandler, listen, localUrl } from '../platform/http.js';
import { logger } from '../platform/logger.js';
import { graphqlMetricsPlugin, serveMetrics, serviceRegistry } from '../platform/metrics.js';
import { queryCostPlugin, queryLimitRules, queryLimitsOf } from '../platform/query-limits.js';
import type { GatewayContext } from './context.js';
import { mountConsole } from './console.js';
import { corsMiddleware } from './cors.js';
import { SubgraphDataSource, type DedupStats } from './data-source.js';
import { registerGatewayMetrics } from './metrics.js';
import { createRateLimits, type RateLimits } from './rate-limits.js';
import { checkSubgraphs } from './readiness.js';
import type { SubscriptionExecutor } from './subscriptions/executor.js';
import { startSubscriptionServer } from './subscriptions/server.js';
import { flushTracing, requestTracing, startTracing } from '../platform/tracing.js';

export interface GatewayOptions {
  readonly config: Config;
  /** The composed supergraph (schema/supergraph.graphql). */
  readonly supergraphSdl: string;
  /** Where each subgraph answers, by name; overrides the URLs written in the supergraph. */
  readonly subgraphUrls: Readonly<Record<string, string>>;
  /** 0 picks a free port. */
  readonly port: number;
  /** Where the rate-limit counters live, shared with other gateways (in memory without one). */
  readonly databaseUrl?: string;
}

/** A running gateway: its URL, the in-flight deduplication counters, and stop(). */
export interface GatewayServer {
  readonly url: string;
  readonly port: number;
  readonly dedup: DedupStats;
  /** The subscription executor (its stats tell how many upstreams and subscribers are open). */
  readonly subscriptions: SubscriptionExecutor;
  stop(): Promise<void>;
}

/**
 * Serves the supergraph at `/graphql` with @apollo/gateway on the static supergraph (queries and
 * mutations over HTTP, subscriptions over graphql-ws on the same path); `/healthz` answers while the
 * process is alive and `/readyz` when every subgraph and its database answer.
 */
export async function startGateway(options: GatewayOptions): Promise<GatewayServer> {
  startTracing(options.config);
  const verify = createTokenVerifier(options.config);
  const audit = await openAuditRecorder(options.databaseUrl);
  try {
    const rateLimits = await createRateLimits(options.config, verify, options.databaseUrl, (address, refusal) =>
      audit?.refusals.note(address, refusal.channel, refusal.code, refusal.reason),
    );
    try {
      return await serve(options, verify, rateLimits, audit);
    } catch (error) {
      await rateLimits.close();
      throw error;
    }
  } catch (error) {
    await audit?.close();
    throw error;
  }
}

/**
 * Refused authentications go to the audit log when the gateway has a database (its rate-limit
 * counters' one); without one they are only logged.
 */
async function openAuditRecorder(databaseUrl: string | undefined): Promise<AuditRecorder | undefined> {
  if (!databaseUrl) {
    logger.warn('the gateway has no database: refused authentications are logged, not recorded in the audit log');
    return undefined;
  }
  const db = await openDatabase({ ...auditModule, url: databaseUrl, poolMax: 2 });
  const log = new AuditLog(db.knex());
  const refusals = recordRefusals(log);
  let closing: Promise<void> | undefined;
  return {
    log,
    refusals,
    close: () => (closing ??= refusals.close().finally(() => db.close())),
  };
}

/** The gateway's audit recorder and how to close it. */
interface AuditRecorder {
  readonly log: AuditLog;
  readonly refusals: RefusalRecorder;
  close(): Promise<void>;
}

async function serve(
  options: GatewayOptions,
  verify: TokenVerifier,
  rateLimits: RateLimits,
  audit: AuditRecorder | undefined,
): Promise<GatewayServer> {
  const { config, subgraphUrls } = options;
  const limits = queryLimitsOf(config);
  const sources: SubgraphDataSource[] = [];
  // @apollo/gateway otherwise reports usage metrics to Apollo's servers and probes cloud metadata
  // endpoints (169.254.169.254) to describe the host: Tenantwatch sends nothing anywhere by itself.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name }) => {
      const url = subgraphUrls[name];
      if (!url) throw new Error(`No URL for subgraph "${name}"`);
      const source = new SubgraphDataSource({ url, name, sharedSecret: config.GATEWAY_SHARED_SECRET });
      sources.push(source);
      return source;
    },
  });
  const app = createApp();
  const httpServer = http.createServer(app);
  const metrics = serviceRegistry('gateway');
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError,
    includeStacktraceInErrorResponses: false,
    // The process that starts this server stops it on SIGINT/SIGTERM, in order with what it depends on.
    // Apollo's own handler would stop it at the same time and then raise the signal again, killing the
    // process before the rest has closed.
    stopOnTerminationSignals: false,
    hideSchemaDetailsFromClientErrors: config.NODE_ENV === 'production',
    // From the configuration, not Apollo's own reading of process.env.NODE_ENV: production answers no introspection.
    introspection: config.NODE_ENV !== 'production',
    // Query limits before anything runs: tokens while parsing, depth, aliases and directives in validation, the cost once the variables are known.
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: queryLimitRules(limits),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // No Apollo Sandbox from Apollo's CDN: browsers get the bundled GraphiQL (gateway/console.ts).
      ApolloServerPluginLandingPageDisabled(),
      queryCostPlugin(limits),
      graphqlMetricsPlugin(metrics),
      ...(audit ? [refusedMutationsPlugin({ log: audit.log })] : []),
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const subgraphs = await checkSubgraphs(subgraphUrls);
    const ready = Object.values(subgraphs).every((s) => s.status === 'ready');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unready', subgraphs });
  });
  serveMetrics(app, metrics, config.METRICS_ENABLED);
  mountConsole(app, config);
  app.use(
    '/graphql',
    requestTracing('gateway'),
    corsMiddleware(config),
    rateLimits.http,
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const authorization = req.headers.authorization ?? '';
        return { principal: await verify(authorization || undefined), authorization, clientAddress: req.socket.remoteAddress };
      },
    }),
  );
  app.use(jsonErrorHandler);

  const subscriptions = startSubscriptionServer({
    httpServer,
    config,
    verify,
    supergraphSdl: options.supergraphSdl,
    subgraphUrls,
    dataSources: Object.fromEntries(sources.map((s) => [s.name, s])),
    rateLimits,
  });
  const dedup = (): DedupStats =>
    sources.reduce<DedupStats>((sum, s) => ({ sent: sum.sent + s.stats.sent, shared: sum.shared + s.stats.shared }), {
      sent: 0,
      shared: 0,
    });
  registerGatewayMetrics(metrics, { subscriptions: subscriptions.executor, sockets: subscriptions.sockets, dedup });
  let port: number;
  try {
    port = await listen(httpServer, options.port, config.HOST);
  } catch (error) {
    await subscriptions.close();
    await apollo.stop();
    throw error;
  }
  const url = localUrl(config.HOST, port);
  logger.info({ url }, 'gateway listening');
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    subscriptions: subscriptions.executor,
    get dedup() {
      return dedup();
    },
    stop: () =>
      (stopping ??= (async () => {
        await subscriptions.close();
        await apollo.stop();
        await Promise.all(sources.map((s) => s.close()));
        await rateLimits.close();
        await audit?.close();
        await flushTracing();
      })()),
  };
}
