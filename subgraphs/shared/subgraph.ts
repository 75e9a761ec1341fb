import type { Config } from './config.js';
import type { SubgraphContext } from './context.js';
import { openDatabase, type DatabaseOptions } from './database.js';
import type { FederatedSchema } from './federation.js';
import { logger } from './logger.js';
import { startSubgraphServer, type SubgraphServer } from './server.js';

/** Everything needed to build, compose and run one subgraph. */
export interface SubgraphDefinition {
  /** The name in the supergraph: `accounts`, `activities`, `files`, `app-permissions`. */
  readonly name: string;
  /** Its PostgreSQL schema, entities and migrations. */
  readonly module: Omit<DatabaseOptions, 'url'>;
  readonly buildSchema: () => Promise<FederatedSchema>;
  /** The subgraph's own context members, built once per process from the config. */
  readonly context?: (config: Config) => (base: SubgraphContext) => SubgraphContext;
}

export interface StartSubgraphOptions {
  readonly config: Config;
  readonly databaseUrl: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/** Opens the subgraph's schema (migrating it), builds its GraphQL schema and serves it. */
export async function startSubgraph(definition: SubgraphDefinition, options: StartSubgraphOptions): Promise<SubgraphServer> {
  const db = await openDatabase({ ...definition.module, url: options.databaseUrl, poolMax: options.config.DB_POOL_MAX });
  try {
    const { schema } = await definition.buildSchema();
    return await startSubgraphServer({
      name: definition.name,
      schema,
      db,
      config: options.config,
      port: options.port,
      extendContext: definition.context?.(options.config),
    });
  } catch (error) {
    await db.close();
    throw error;
  }
}

/**
 * Runs one subgraph as its own process (`node dist/subgraphs/<name>/index.js`): reads the config,
 * needs DATABASE_URL, listens on PORT, stops cleanly on SIGINT/SIGTERM.
 */
export async function runStandalone(definition: SubgraphDefinition, loadConfig: () => Config): Promise<void> {
  try {
    const config = loadConfig();
    if (!config.DATABASE_URL) throw new Error('DATABASE_URL must be set to run a subgraph on its own');
    const server = await startSubgraph(definition, { config, databaseUrl: config.DATABASE_URL, port: config.PORT });
    const stop = async (signal: string) => {
      logger.info({ subgraph: definition.name, signal }, 'stopping');
      await server.stop();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  } catch (error) {
    logger.fatal({ err: error, subgraph: definition.name }, (error as Error).message);
    process.exit(1);
  }
}
