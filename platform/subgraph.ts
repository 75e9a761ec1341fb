import { requireProductionSecrets } from './auth.js';
import type { Config } from './config.js';
import type { SubgraphContext } from './context.js';
import { AuditLog } from './audit/audit-log.js';
import { auditModule } from './audit/module.js';
import { secretKeyMatcher } from './audit/redact.js';
import { migrateDatabase, openDatabase, type Database, type DatabaseOptions } from './database.js';
import type { FederatedSchema } from './federation.js';
import { logger } from './logger.js';
import { startSubgraphServer, type SubgraphRuntime, type SubgraphServer } from './server.js';

/** What a subgraph's runtime is started with. */
export interface SubgraphResources {
  readonly db: Database;
  readonly config: Config;
  readonly databaseUrl: string;
}

/** A subgraph's process-wide parts, started once its database is open. */
export interface StartedRuntime extends SubgraphRuntime {
  /** Adds members to every request's context (and every subscription event's). */
  readonly extendContext?: (base: SubgraphContext) => SubgraphContext;
  /** Serve graphql-ws subscriptions on `/graphql`. */
  readonly subscriptions?: boolean;
}

/** Everything needed to build, compose and run one subgraph. */
export interface SubgraphDefinition {
  /** The name in the supergraph: `accounts`, `activities`, `files`, `app-permissions`. */
  readonly name: string;
  /** Its PostgreSQL schema, entities and migrations. */
  readonly module: Omit<DatabaseOptions, 'url'>;
  readonly buildSchema: () => Promise<FederatedSchema>;
  /** The subgraph's own context members, built once per process from the config. */
  readonly context?: (config: Config) => (base: SubgraphContext) => SubgraphContext;
  /** Starts what runs beside the server (LISTEN connections, timers); stopped after the server. */
  readonly start?: (resources: SubgraphResources) => Promise<StartedRuntime>;
  /**
   * Argument keys this subgraph's mutations carry secrets in, besides the audit log's own denylist
   * (token, secret, password, key...): e.g. the connectors' config fields marked `secret`.
   */
  readonly auditSecretFields?: readonly string[];
}

export interface StartSubgraphOptions {
  readonly config: Config;
  readonly databaseUrl: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/**
 * Opens the subgraph's schema (migrating it and the audit log's), builds its GraphQL schema and
 * serves it, recording every mutation in the audit log.
 */
export async function startSubgraph(definition: SubgraphDefinition, options: StartSubgraphOptions): Promise<SubgraphServer> {
  const { config, databaseUrl } = options;
  await migrateDatabase({ ...auditModule, url: databaseUrl });
  const db = await openDatabase({
    ...definition.module,
    url: databaseUrl,
    poolMax: config.DB_POOL_MAX,
    timeouts: { statementMs: config.DB_STATEMENT_TIMEOUT_MS, lockMs: config.DB_LOCK_TIMEOUT_MS },
  });
  let runtime: StartedRuntime | undefined;
  try {
    const { schema } = await definition.buildSchema();
    runtime = await definition.start?.({ db, config, databaseUrl });
    const extensions = [definition.context?.(config), runtime?.extendContext].filter((e) => e !== undefined);
    return await startSubgraphServer({
      name: definition.name,
      schema,
      db,
      config,
      port: options.port,
      extendContext: (base) => extensions.reduce((context, extend) => extend(context), base),
      subscriptions: runtime?.subscriptions,
      runtime,
      audit: { log: new AuditLog(db.knex()), isSecret: secretKeyMatcher(definition.auditSecretFields) },
    });
  } catch (error) {
    await runtime?.stop();
    await db.close();
    throw error;
  }
}

/**
 * Runs one subgraph as its own process (`node dist/subgraphs/serve.js <name>`): reads the config,
 * needs DATABASE_URL (and, in production, AUTH_JWT_SECRET or AUTH_JWKS_URL and CREDENTIALS_KEY),
 * listens on PORT at SUBGRAPH_HOST, stops cleanly on SIGINT/SIGTERM; exits 1 when it cannot start.
 */
export async function runStandalone(definition: SubgraphDefinition, loadConfig: () => Config): Promise<void> {
  try {
    const config = loadConfig();
    requireProductionSecrets(config, { tokens: true, credentials: true });
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
