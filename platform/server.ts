import http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import type { GraphQLSchema } from 'graphql';
import { createTokenVerifier, type Principal } from './auth.js';
import type { Config } from './config.js';
import type { SubgraphContext } from './context.js';
import type { Database } from './database.js';
import { formatError } from './errors.js';
import { createApp, jsonErrorHandler, listen, localUrl } from './http.js';
import { logger } from './logger.js';
import { queryCostPlugin, queryLimitRules, queryLimitsOf } from './query-limits.js';
import { serveSubscriptions, type SubscriptionServer } from './subscriptions.js';

/** What a subgraph runs beside its server while it serves: a LISTEN connection, timers... */
export interface SubgraphRuntime {
  /** Counters for tests and diagnostics, e.g. open subscribers. */
  stats?(): Readonly<Record<string, number>>;
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

/**
 * Serves one subgraph over HTTP: `POST /graphql` (every request needs a valid token),
 * `GET /healthz` (alive) and `GET /readyz` (the database answers); with `subscriptions`, graphql-ws
 * on the same path. stop() closes the websockets, drains HTTP, stops the runtime, closes the pool.
 */
export async function startSubgraphServer<C extends SubgraphContext>(options: SubgraphServerOptions<C>): Promise<SubgraphServer> {
  const { name, db, config } = options;
  const verify = createTokenVerifier(config);
  const limits = queryLimitsOf(config);
  const app = createApp();
  const httpServer = http.createServer(app);
  const extend = options.extendContext ?? ((base: SubgraphContext) => base as C);
  const apollo = new ApolloServer<C>({
    schema: options.schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: config.NODE_ENV === 'production',
    // From the configuration, not Apollo's own reading of process.env.NODE_ENV: production answers no introspection.
    introspection: config.NODE_ENV !== 'production',
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: queryLimitRules(limits),
    // The process that starts this server stops it on SIGINT/SIGTERM, in order with what it depends on.
    // Apollo's own handler would stop it at the same time and then raise the signal again, killing the
    // process before the rest has closed.
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginDrainHttpServer({ httpServer }), queryCostPlugin(limits)],
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
      res.status(503).json({ status: 'unready', subgraph: name, database: (error as Error).message });
    }
  });
  const context = (principal: Principal, authorization: string) => extend({ principal, authorization, em: db.fork(), loaders: new Map() });
  app.use(
    '/graphql',
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const authorization = req.headers.authorization ?? '';
        return context(await verify(authorization || undefined), authorization);
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
        hideSchemaDetails: config.NODE_ENV === 'production',
      })
    : undefined;
  app.use(jsonErrorHandler);

  const port = await listen(httpServer, options.port, config.HOST);
  const url = localUrl(config.HOST, port);
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
      })()),
  };
}
