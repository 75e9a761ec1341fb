import http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { GraphQLError, type GraphQLSchema, type ValidationRule } from 'graphql';
import type { RequestHandler } from 'express';
import { Gauge, type Registry } from 'prom-client';
import { createTokenVerifier, GATEWAY_ONLY, GATEWAY_SECRET_HEADER, isGatewaySecret, type Principal } from './auth.js';
import { auditPlugin, type AuditPluginOptions } from './audit/plugin.js';
import { originOf, type RequestOrigin } from './audit/client-address.js';
import type { Config } from './config.js';
import type { SubgraphContext } from './context.js';
import type { Database } from './database.js';
import { ErrorCode, formatError } from './errors.js';
import { createApp, jsonErrorHandler, listen, localUrl } from './http.js';
import { logger } from './logger.js';
import { graphqlMetricsPlugin, METRIC_PREFIX, serveMetrics, serviceRegistry } from './metrics.js';
import { queryCostPlugin, queryLimitRules, queryLimitsOf } from './query-limits.js';
import { serveSubscriptions, type SubscriptionServer } from './subscriptions.js';
import { flushTracing, requestTracing, startTracing } from './tracing.js';

/** What a subgraph runs beside its server while it serves: a LISTEN connection, timers... */
export interface SubgraphRuntime {
  /** Counters for tests and diagnostics, e.g. open subscribers. */
  stats?(): Readonly<Record<string, number>>;
  /** Adds the runtime's own series to the subgraph's /metrics. */
  metrics?(registry: Registry): void;
  /** Called once the server takes no more requests, before the database closes. */
  stop(): Promise<void>;
}

export interface SubgraphServerOptions<C extends SubgraphContext = SubgraphContext> {
  /** The subgraph's name as the supergraph knows it: `accounts`, `activities`, ... */
  readonly name: string;
  readonly schema: GraphQLSchema;
  readonly db: Database;
  readonly config: Config;
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** Adds the subgraph's own members to each request's context. */
  readonly extendContext?: (base: SubgraphContext) => C;
  /** Also serve graphql-ws subscriptions on `/graphql` (only subgraphs with a Subscription type). */
  readonly subscriptions?: boolean;
  readonly runtime?: SubgraphRuntime;
  /** Records every mutation in the audit log (see auditPlugin). */
  readonly audit?: Omit<AuditPluginOptions, 'service'>;
}

/** A running subgraph: where it answers, its database, and stop() (drains requests, closes the pool). */
export interface SubgraphServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly db: Database;
  /** Open websockets plus the runtime's counters (see {@link SubgraphRuntime.stats}). */
  stats(): Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

/** Refuses, before anything else runs, a `/graphql` request that does not carry GATEWAY_SHARED_SECRET. */
const gatewayOnly =
  (secret: string): RequestHandler =>
  (req, res, next) => {
    if (isGatewaySecret(secret, req.headers[GATEWAY_SECRET_HEADER])) return next();
    res.status(401).json({ errors: [{ message: GATEWAY_ONLY, extensions: { code: ErrorCode.UNAUTHENTICATED } }] });
  };

/**
 * Refuses `_service { sdl }`, federation's query for the subgraph's whole schema (internal fields
 * included): only composition tooling needs it, and the gateway runs on the committed supergraph.
 */
const serviceQueryRefused: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value !== '_service' || context.getParentType() !== context.getSchema().getQueryType()) return;
    context.reportError(
      new GraphQLError('"_service" (the subgraph\'s schema) is answered only to the gateway: set GATEWAY_SHARED_SECRET', {
        nodes: node,
        extensions: { code: ErrorCode.FORBIDDEN },
      }),
    );
  },
});

/** `cache-control: no-store` on every GraphQL answer, as Apollo's cache-control plugin says of an answer without cache hints. */
const uncacheable: ApolloServerPlugin<SubgraphContext> = {
  requestDidStart: async () => ({
    willSendResponse: async ({ response }) => {
      if (!response.http.headers.has('cache-control')) response.http.headers.set('cache-control', 'no-store');
    },
  }),
};

/**
 * Serves one subgraph over HTTP on SUBGRAPH_HOST: `POST /graphql` (every request needs a valid
 * token), `GET /healthz` (alive) and `GET /readyz` (the database answers); with `subscriptions`,
 * graphql-ws on the same path. With GATEWAY_SHARED_SECRET set, `/graphql` (HTTP and websocket)
 * answers only requests carrying it, which also makes `_service { sdl }` the gateway's alone;
 * without it, `_service` is refused in production and any valid token is served (a warning says
 * so). stop() closes the websockets, drains HTTP, stops the runtime, closes the pool.
 */
export async function startSubgraphServer<C extends SubgraphContext>(options: SubgraphServerOptions<C>): Promise<SubgraphServer> {
  const { name, db, config } = options;
  startTracing(config);
  const verify = createTokenVerifier(config);
  const limits = queryLimitsOf(config);
  const app = createApp();
  const httpServer = http.createServer(app);
  const extend = options.extendContext ?? ((base: SubgraphContext) => base as C);
  const production = config.NODE_ENV === 'production';
  const secret = config.GATEWAY_SHARED_SECRET;
  if (production && !secret) {
    logger.warn(
      { subgraph: name },
      'GATEWAY_SHARED_SECRET is not set: this subgraph answers any valid token, not only the gateway (set it on the gateway and every subgraph)',
    );
  }
  // Beside the query limits: without a shared secret, a production subgraph does not tell its schema (`_service { sdl }`).
  const validationRules = production && !secret ? [serviceQueryRefused] : [];
  const metrics = serviceRegistry(name);
  const apollo = new ApolloServer<C>({
    schema: options.schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: production,
    // From the configuration, not Apollo's own reading of process.env.NODE_ENV: production answers no introspection.
    introspection: !production,
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: [...queryLimitRules(limits), ...validationRules],
    // The process that starts this server stops it on SIGINT/SIGTERM, in order with what it depends on.
    // Apollo's own handler would stop it at the same time and then raise the signal again, killing the
    // process before the rest has closed.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      // No schema sets a cache hint, so every answer is uncacheable; Apollo's cache-control plugin would
      // work that out field by field (a hook and a policy object for every field resolved).
      ApolloServerPluginCacheControlDisabled(),
      uncacheable,
      ApolloServerPluginDrainHttpServer({ httpServer }),
      queryCostPlugin(limits),
      graphqlMetricsPlugin(metrics),
      ...(options.audit ? [auditPlugin({ ...options.audit, service: name })] : []),
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', subgraph: name });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await db.ping();
      res.json({ status: 'ready', subgraph: name, database: 'ok' });
    } catch (error) {
      // The database's own message names hosts, users and databases: logged, not answered, in production.
      logger.warn({ err: error, subgraph: name }, 'readiness: the database does not answer');
      res.status(503).json({ status: 'unready', subgraph: name, database: production ? 'unavailable' : (error as Error).message });
    }
  });
  serveMetrics(app, metrics, config.METRICS_ENABLED);
  const context = (principal: Principal, authorization: string, origin: RequestOrigin = {}) =>
    extend({ principal, authorization, ...origin, em: db.fork(), loaders: new Map() });
  app.use('/graphql', requestTracing(name));
  if (secret) app.use('/graphql', gatewayOnly(secret));
  app.use(
    '/graphql',
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const authorization = req.headers.authorization ?? '';
        // Behind gatewayOnly, the forwarded client address is the gateway's word; without a shared secret, the caller's own address.
        return context(await verify(authorization || undefined), authorization, originOf(req, secret !== undefined));
      },
    }),
  );
  const subscriptions: SubscriptionServer | undefined = options.subscriptions
    ? serveSubscriptions({
        httpServer,
        path: '/graphql',
        schema: options.schema,
        verify,
        context,
        limits,
        hideSchemaDetails: production,
        gatewaySecret: secret,
        validationRules,
      })
    : undefined;
  app.use(jsonErrorHandler);
  new Gauge({
    name: `${METRIC_PREFIX}subgraph_websockets`,
    help: "Open websockets on the subgraph (the gateway's upstream subscriptions)",
    registers: [metrics],
    collect() {
      this.set(subscriptions?.sockets() ?? 0);
    },
  });

  options.runtime?.metrics?.(metrics);

  const port = await listen(httpServer, options.port, config.SUBGRAPH_HOST);
  const url = localUrl(config.SUBGRAPH_HOST, port);
  logger.info({ subgraph: name, url }, 'subgraph listening');
  let stopping: Promise<void> | undefined;
  return {
    name,
    url,
    port,
    db,
    stats: () => ({ webSockets: subscriptions?.sockets() ?? 0, ...options.runtime?.stats?.() }),
    stop: () =>
      (stopping ??= (async () => {
        await subscriptions?.close();
        await apollo.stop();
        await options.runtime?.stop();
        await db.close();
        await flushTracing();
      })()),
  };
}
