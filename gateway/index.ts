import 'reflect-metadata';
import fs from 'node:fs';
import { SUPERGRAPH_PATH } from '../schema/path.js';
import { requireProductionSecrets } from '../platform/auth.js';
import { SUBGRAPH_URL_ENV } from '../platform/subgraph-names.js';
import { loadConfig } from '../platform/config.js';
import { logger } from '../platform/logger.js';
import { startGateway } from './server.js';

/**
 * The gateway as its own process (`node dist/gateway/index.js`): reads the config, needs every
 * subgraph's *_URL (and, in production, AUTH_JWT_SECRET or AUTH_JWKS_URL), serves the committed
 * supergraph on PORT, stops cleanly on SIGINT/SIGTERM; exits 1 when it cannot start.
 */
try {
  const config = loadConfig();
  requireProductionSecrets(config, { tokens: true });
  if (config.NODE_ENV === 'production' && !config.GATEWAY_SHARED_SECRET) {
    logger.warn('GATEWAY_SHARED_SECRET is not set: the subgraphs accept any valid token from whoever reaches them, not only this gateway');
  }
  const entries = Object.entries(SUBGRAPH_URL_ENV);
  const missing = entries.filter(([, variable]) => !config[variable]).map(([, variable]) => variable);
  if (missing.length > 0) {
    throw new Error(`${missing.join(', ')} must be set to run the gateway on its own (each the URL of a subgraph's /graphql)`);
  }
  const server = await startGateway({
    config,
    supergraphSdl: fs.readFileSync(SUPERGRAPH_PATH, 'utf8'),
    subgraphUrls: Object.fromEntries(entries.map(([name, variable]) => [name, config[variable]!])),
    port: config.PORT,
    databaseUrl: config.DATABASE_URL,
  });
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping gateway');
    await server.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
} catch (error) {
  logger.fatal({ err: error }, (error as Error).message);
  process.exit(1);
}
