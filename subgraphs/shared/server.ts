import http from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import type { GraphQLSchema } from 'graphql';
import { createTokenVerifier } from './auth.js';
import type { Config } from './config.js';
import type { SubgraphContext } from './context.js';
import type { Database } from './database.js';
import { formatError } from './errors.js';
import { createApp, jsonErrorHandler, listen, localUrl } from './http.js';
import { logger } from './logger.js';

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
}

/** A running subgraph: where it answers, its database, and stop() (drains requests, closes the pool). */
export interface SubgraphServer {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly db: Database;
  stop(): Promise<void>;
}

/**
 * Serves one subgraph over HTTP: `POST /graphql` (every request needs a valid token),
 * `GET /healthz` (alive) and `GET /readyz` (the database answers).
 */
export async function startSubgraphServer<C extends SubgraphContext>(options: SubgraphServerOptions<C>): Promise<SubgraphServer> {
  const { name, db, config } = options;
  const verify = createTokenVerifier(config);
  const app = createApp();
  const httpServer = http.createServer(app);
  const extend = options.extendContext ?? ((base: SubgraphContext) => base as C);
  const apollo = new ApolloServer<C>({
    schema: options.schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginInlineTraceDisabled(), ApolloServerPluginDrainHttpServer({ httpServer })],
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
  app.use(
    '/graphql',
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const authorization = req.headers.authorization ?? '';
        const principal = await verify(authorization || undefined);
        return extend({ principal, authorization, em: db.fork(), loaders: new Map() });
      },
    }),
  );
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
    stop: () =>
      (stopping ??= (async () => {
        await apollo.stop();
        await db.close();
      })()),
  };
}
